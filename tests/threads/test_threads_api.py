"""Threads and messages through the API: CRUD, filters, and edit and delete semantics."""

import pytest

from agents.models import AgentRun
from threads import services
from threads.models import Message
from workspaces.models import Role

pytestmark = pytest.mark.django_db


def test_thread_create_list_and_filters(owner_client, make_agent, make_thread, workspace):
    # given two agents, one with an archived thread, and a thread mentioning Paris in a message
    helper, writer = make_agent(), make_agent(name="Writer")
    old = make_thread(helper, name="Old plans", archived=True)
    trip = make_thread(writer, name="Trip")
    services.message_create(thread=trip, user=None, role="user", content="What to see in Paris?")

    # when
    created = owner_client.post(
        "/api/v1/threads", {"agent_id": str(helper.pk), "name": "Fresh"}, HTTP_X_WORKSPACE=str(workspace.pk)
    )
    listed = owner_client.get("/api/v1/threads", HTTP_X_WORKSPACE=str(workspace.pk))
    by_agent = owner_client.get(f"/api/v1/threads?agent={writer.pk}", HTTP_X_WORKSPACE=str(workspace.pk))
    archived = owner_client.get("/api/v1/threads?archived=true", HTTP_X_WORKSPACE=str(workspace.pk))
    searched = owner_client.get("/api/v1/threads?search=paris", HTTP_X_WORKSPACE=str(workspace.pk))

    # then
    assert created.status_code == 201, created.content
    assert created.json()["data"]["agent_id"] == str(helper.pk)
    # Newest activity first: the new thread, then the one with a message, then the old one.
    assert [row["name"] for row in listed.json()["data"]] == ["Fresh", "Trip", "Old plans"]
    assert [row["id"] for row in by_agent.json()["data"]] == [str(trip.pk)]
    assert [row["id"] for row in archived.json()["data"]] == [str(old.pk)]
    assert [row["id"] for row in searched.json()["data"]] == [str(trip.pk)]


def test_thread_create_rejects_unknown_agent_and_bad_fields(owner_client, make_agent, workspace, outsider):
    from tests.agents.factories import agent_in
    from tests.factories import WorkspaceFactory

    foreign = agent_in(WorkspaceFactory(owner=outsider))
    headers = {"HTTP_X_WORKSPACE": str(workspace.pk)}

    missing = owner_client.post("/api/v1/threads", {"name": "x"}, **headers)
    other = owner_client.post("/api/v1/threads", {"agent_id": str(foreign.pk)}, **headers)
    long_name = owner_client.post("/api/v1/threads", {"agent_id": str(make_agent().pk), "name": "n" * 201}, **headers)

    assert missing.status_code == 422, missing.content
    assert "agent_id" in missing.json()["errors"]
    assert other.status_code == 422, other.content
    assert other.json()["errors"]["agent_id"]
    assert long_name.status_code == 422
    assert "name" in long_name.json()["errors"]


def test_thread_update_and_delete(owner_client, thread):
    patched = owner_client.patch(f"/api/v1/threads/{thread.pk}", {"name": "Renamed", "archived": True})
    replaced = owner_client.put(
        f"/api/v1/threads/{thread.pk}", {"agent_id": str(thread.agent_id), "name": "Again", "metadata": {"a": 1}}
    )
    deleted = owner_client.delete(f"/api/v1/threads/{thread.pk}")
    gone = owner_client.get(f"/api/v1/threads/{thread.pk}")

    assert patched.status_code == 200, patched.content
    assert patched.json()["data"]["archived"] is True
    assert replaced.json()["data"]["metadata"] == {"a": 1}
    assert deleted.status_code == 204
    assert gone.status_code == 404


def test_messages_add_without_running_and_list_in_order(owner_client, thread, fake_llm):
    url = f"/api/v1/threads/{thread.pk}/messages"

    first = owner_client.post(url, {"content": "Hello"})
    second = owner_client.post(url, {"role": "assistant", "content": "Hi, how can I help?"})
    listed = owner_client.get(url)

    assert first.status_code == 201, first.content
    assert second.status_code == 201
    assert [row["content"] for row in listed.json()["data"]] == ["Hello", "Hi, how can I help?"]
    assert listed.json()["meta"]["total"] == 2
    assert fake_llm.requests == []
    thread.refresh_from_db()
    assert thread.message_count == 2


def test_messages_validation(owner_client, thread, settings):
    settings.ATHENA_THREAD_MAX_CONTENT_CHARS = 10
    url = f"/api/v1/threads/{thread.pk}/messages"

    empty = owner_client.post(url, {"content": ""})
    tool = owner_client.post(url, {"role": "tool", "content": "x"})
    too_long = owner_client.post(url, {"content": "x" * 11})
    unknown = owner_client.get(f"{url}/not-a-uuid")

    assert empty.status_code == 422
    assert "content" in empty.json()["errors"]
    assert tool.status_code == 422
    assert "role" in tool.json()["errors"]
    assert too_long.status_code == 422
    assert unknown.status_code == 404


def test_editing_and_deleting_a_user_message_keeps_replies(owner_client, thread):
    # given a question and a stored reply
    question = services.message_create(thread=thread, user=None, role="user", content="Capital of France?")
    reply = services.message_create(thread=thread, user=None, role="assistant", content="Paris.")
    url = f"/api/v1/threads/{thread.pk}/messages/{question.pk}"

    # when the question is edited, then deleted
    edited = owner_client.patch(url, {"content": "Capital of Italy?"})
    replaced = owner_client.put(url, {"content": "Capital of Spain?"})
    deleted = owner_client.delete(url)

    # then the reply is unchanged and still there
    assert edited.status_code == 200, edited.content
    assert edited.json()["data"]["content"] == "Capital of Italy?"
    assert replaced.json()["data"]["content"] == "Capital of Spain?"
    assert deleted.status_code == 204
    reply.refresh_from_db()
    assert reply.content == "Paris."
    assert list(Message.objects.filter(thread=thread).values_list("content", flat=True)) == ["Paris."]
    thread.refresh_from_db()
    assert thread.message_count == 1


def test_rating_a_reply_rates_its_run(owner_client, thread, fake_llm):
    fake_llm.reply("Paris.")
    result = services.thread_run(thread=thread, user=None, content="Capital of France?")
    reply = result.messages[-1]

    rated = owner_client.patch(f"/api/v1/threads/{thread.pk}/messages/{reply.pk}", {"rating": 5, "comment": "Good"})
    refused = owner_client.patch(f"/api/v1/threads/{thread.pk}/messages/{result.messages[0].pk}", {"rating": 4})

    assert rated.status_code == 200, rated.content
    assert rated.json()["data"]["rating"] == 5
    run = AgentRun.objects.get(pk=reply.run_id)
    assert (run.rating, run.rating_comment, run.source) == (5, "Good", "thread")
    assert refused.status_code == 422
    assert "rating" in refused.json()["errors"]


def test_viewer_reads_but_cannot_write(make_client, member_of, thread):
    viewer = make_client(member_of(Role.VIEWER))

    read = viewer.get(f"/api/v1/threads/{thread.pk}/messages")
    write = viewer.post(f"/api/v1/threads/{thread.pk}/messages", {"content": "Hi"})
    run = viewer.post(f"/api/v1/threads/{thread.pk}/run", {"content": "Hi"})

    assert read.status_code == 200
    assert write.status_code == 403
    assert write.json()["code"] == "forbidden"
    assert run.status_code == 403


def test_token_without_threads_ability_is_refused(make_client, owner, thread):
    client = make_client(owner, abilities=["agents:*"])

    response = client.get(f"/api/v1/threads/{thread.pk}")

    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_ability"


def test_thread_metrics_count_threads_and_messages(owner_client, thread, workspace):
    services.message_create(thread=thread, user=None, role="user", content="Hello")

    threads = owner_client.get("/api/v1/metrics/threads", HTTP_X_WORKSPACE=str(workspace.pk))
    messages = owner_client.get("/api/v1/metrics/messages", HTTP_X_WORKSPACE=str(workspace.pk))

    assert threads.status_code == 200, threads.content
    assert threads.json()["data"]["total"] == 1
    assert messages.json()["data"]["total"] == 1


def test_command_room_accepts_thread_tasks(owner_client, thread, workspace):
    response = owner_client.post(
        "/api/v1/command-room/tasks",
        {"kind": "thread", "reference_id": str(thread.pk), "title": "Watch this chat"},
        HTTP_X_WORKSPACE=str(workspace.pk),
    )

    assert response.status_code == 201, response.content
