"""The chat page in Chromium: streamed replies, tool steps, attachments, ratings, renaming and archiving."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from agents import services as agent_services
from tests.agents.factories import llm_setup
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from threads import services as thread_services
from threads.models import Message, Thread
from workspaces import services as workspace_services
from workspaces.models import Role

REPLY = "Your order ships on Monday from the Lyon warehouse."


@pytest.fixture
def chat(db, fake_llm, settings):
    """An owner with an agent on the fake LLM server that may search its memories."""
    # A generated title would take the next scripted reply of the fake model.
    settings.ATHENA_THREAD_AUTO_NAME = False
    owner = UserFactory(name="Ada Owner")
    workspace = WorkspaceFactory(owner=owner, name="Support team")
    workspace_services.workspace_set_current(user=owner, workspace=workspace)
    account, model = llm_setup(workspace=workspace, base_url=fake_llm.openai_base_url)
    agent = agent_services.agent_create(
        workspace=workspace,
        user=owner,
        data={
            "name": "Order desk",
            "model_id": model.pk,
            "account_id": account.pk,
            "tools": [{"type": "memory_search"}],
        },
    )
    return {"owner": owner, "workspace": workspace, "agent": agent}


def _thread(chat, **fields):
    return thread_services.thread_create(
        workspace=chat["workspace"], user=chat["owner"], agent=chat["agent"], data=fields
    )


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_chat_streams_reply_with_tool_step(page, sign_in, screenshot, chat, fake_llm):
    # given the model first searches memories, then replies
    fake_llm.reply(tool_calls=[{"name": "memory_search", "arguments": {"query": "order 42"}}])
    fake_llm.reply(REPLY)
    sign_in(chat["owner"]).goto(f"/agents/{chat['agent'].pk}/chat/")

    # when the owner starts a conversation and sends a message with Enter
    page.click("text=Start a conversation")
    page.fill("#composer-input", "Where is order 42?")
    page.keyboard.press("Enter")

    # then the reply streams in piece by piece, after the tool step
    page.wait_for_selector(f".chat-assistant .chat-text:has-text('{REPLY}')")
    page.wait_for_selector("[data-chat][data-state=idle]")
    assert int(page.get_attribute("[data-chat]", "data-stream-deltas")) >= len(REPLY.split(" "))
    step = page.locator("[data-testid=tool-step]")
    assert step.count() == 1
    assert "memory_search" in step.inner_text()
    screenshot("chat")

    # and the page shows what was stored, which a reload shows again
    thread = Thread.objects.get(agent=chat["agent"])
    assert list(thread.messages.values_list("role", flat=True)) == ["user", "assistant", "tool", "assistant"]
    page.reload()
    assert REPLY in page.inner_text("[data-testid=messages]")
    assert page.locator("[data-testid=tool-step]").count() == 1


def test_chat_attaches_rates_renames_and_archives(page, sign_in, screenshot, chat, fake_llm, tmp_path):
    thread = _thread(chat)
    notes = tmp_path / "delivery-notes.txt"
    notes.write_text("Parcel 42 left the depot on Friday.")
    binary = tmp_path / "program.bin"
    binary.write_bytes(b"\x00\x01\x02binary")
    fake_llm.reply("It left on Friday.")
    sign_in(chat["owner"]).goto(f"/threads/{thread.pk}/")

    # an empty message, then a file of a type the model cannot read, are refused with the reason
    page.click("button:has-text('Send')")
    assert "Write a message or attach a file" in page.inner_text("[data-composer-error]")
    page.set_input_files("#composer-files", str(binary))
    page.fill("#composer-input", "Read this")
    page.click("button:has-text('Send')")
    page.wait_for_selector("[data-composer-error]:has-text('program.bin')")
    assert "not accepted" in page.inner_text("[data-composer-error]")
    assert Message.objects.filter(thread=thread).count() == 0

    # when the owner attaches a text file to a message
    page.set_input_files("#composer-files", str(notes))
    page.fill("#composer-input", "When did it leave?")
    page.click("button:has-text('Send')")
    page.wait_for_selector(".chat-assistant .chat-text:has-text('It left on Friday.')")
    page.wait_for_selector("[data-chat][data-state=idle]")

    # then the model read the file and the message links to it
    assert "Parcel 42 left the depot on Friday." in str(fake_llm.last_request.body)
    assert page.locator(".chat-attachments a:has-text('delivery-notes.txt')").count() == 1

    # when they rate the reply 4 of 5
    page.click("button[aria-label='Rate 4 of 5']")
    page.wait_for_selector("[data-testid=rating-value]:has-text('Rated 4 of 5')")
    reply = Message.objects.get(thread=thread, role="assistant")
    assert reply.rating == 4
    reply.run.refresh_from_db()
    assert reply.run.rating == 4

    # when they rename the conversation
    page.click("summary:has-text('Rename')")
    page.fill("#thread-name", "Parcel 42")
    page.click("text=Save name")
    page.wait_for_selector("[data-testid=thread-list] >> text=Parcel 42")
    screenshot("chat-attachments")

    # when they archive it, it leaves the list and shows under archived conversations
    page.click("button:has-text('Archive')")
    page.wait_for_selector("text=The conversation was archived")
    assert "Parcel 42" not in page.inner_text("[data-testid=thread-list]")
    page.click("text=Show archived conversations")
    page.click("[data-testid=thread-list] >> text=Parcel 42")
    page.click("button:has-text('Restore')")
    page.wait_for_selector("text=The conversation was restored")
    thread.refresh_from_db()
    assert thread.name == "Parcel 42"
    assert thread.archived is False


# --- without a browser: the composer's fallback, access and bad input ---------------------------------


def test_chat_send_without_javascript(chat, fake_llm):
    thread = _thread(chat)
    fake_llm.reply("Plain reply.")

    response = _client(chat["owner"]).post(f"/threads/{thread.pk}/send/", {"content": "Hello"})

    assert response.status_code == 302, response.content
    assert list(thread.messages.values_list("content", flat=True)) == ["Hello", "Plain reply."]


def test_chat_pages_hide_other_workspaces(chat):
    thread = _thread(chat)
    message = thread_services.message_create(thread=thread, user=chat["owner"], role="assistant", content="Hi")
    outsider = UserFactory()
    workspace_services.workspace_set_current(user=outsider, workspace=WorkspaceFactory(owner=outsider))
    client = _client(outsider)

    assert client.get(f"/agents/{chat['agent'].pk}/chat/").status_code == 404
    assert client.get(f"/threads/{thread.pk}/").status_code == 404
    assert client.get(f"/threads/{thread.pk}/messages/").status_code == 404
    assert client.post(f"/threads/{thread.pk}/rename/", {"name": "Mine"}).status_code == 404
    assert client.post(f"/threads/{thread.pk}/archive/").status_code == 404
    assert client.post(f"/threads/{thread.pk}/messages/{message.pk}/rate/", {"rating": "5"}).status_code == 404
    thread.refresh_from_db()
    assert thread.name == ""
    assert thread.archived is False


def test_chat_pages_viewer_reads_only(chat):
    thread = _thread(chat, name="Shared notes")
    viewer = UserFactory()
    MembershipFactory(user=viewer, workspace=chat["workspace"], role=Role.VIEWER)
    workspace_services.workspace_set_current(user=viewer, workspace=chat["workspace"])
    client = _client(viewer)

    page = client.get(f"/threads/{thread.pk}/").content.decode()

    assert "Shared notes" in page
    assert "composer-input" not in page
    assert "Archive" not in page
    assert client.post(f"/threads/{thread.pk}/send/", {"content": "Hi"}).status_code == 403
    assert client.post(f"/threads/{thread.pk}/rename/", {"name": "Mine"}).status_code == 403
    assert client.post(f"/agents/{chat['agent'].pk}/chat/new/").status_code == 403


def test_chat_pages_require_sign_in(chat):
    thread = _thread(chat)

    for path in (f"/agents/{chat['agent'].pk}/chat/", f"/threads/{thread.pk}/"):
        response = Client().get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("rating", ["0", "6", "great", ""])
def test_chat_rating_rejects_bad_values(chat, rating):
    thread = _thread(chat)
    reply = thread_services.message_create(thread=thread, user=chat["owner"], role="assistant", content="Hi")

    response = _client(chat["owner"]).post(
        f"/threads/{thread.pk}/messages/{reply.pk}/rate/", {"rating": rating}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200, response.content
    assert "Choose a rating from 1 to 5." in response.content.decode()
    reply.refresh_from_db()
    assert reply.rating is None


def test_chat_rename_rejects_long_name(chat):
    thread = _thread(chat, name="Kept")

    response = _client(chat["owner"]).post(f"/threads/{thread.pk}/rename/", {"name": "n" * 201}, follow=True)

    assert "The name was not saved" in response.content.decode()
    thread.refresh_from_db()
    assert thread.name == "Kept"


def test_chat_send_oversized_file_is_refused(chat, settings):
    settings.ATHENA_ATTACHMENT_MAX_BYTES = 10
    thread = _thread(chat)
    upload = SimpleUploadedFile("big.txt", b"x" * 100, content_type="text/plain")

    response = _client(chat["owner"]).post(
        f"/threads/{thread.pk}/send/", {"content": "Read", "files": upload}, follow=True
    )

    assert "larger than the limit of 10 bytes" in response.content.decode()
    assert thread.messages.count() == 0


def test_chat_send_rejects_long_message(chat, settings):
    settings.ATHENA_THREAD_MAX_CONTENT_CHARS = 20
    thread = _thread(chat)

    response = _client(chat["owner"]).post(f"/threads/{thread.pk}/send/", {"content": "x" * 21}, follow=True)

    assert "The message was not sent: Ensure this field has no more than 20 characters." in response.content.decode()
    assert thread.messages.count() == 0
