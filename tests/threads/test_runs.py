"""Thread runs: history sent to the model, trimming, the run lock, failures, tool messages and names."""

import json
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from agents.models import AgentRun
from tests.agents.test_streaming import parse_events
from threads import services
from threads.models import Message, Thread


def sent_messages(fake_llm):
    return [
        (item["role"], item.get("content")) for item in fake_llm.calls_to("/v1/chat/completions")[-1].body["messages"]
    ]


@pytest.mark.django_db
def test_run_twice_sends_first_exchange_as_history(owner_client, thread, fake_llm):
    # given
    fake_llm.reply("Paris.", input_tokens=12, output_tokens=3)
    fake_llm.reply("About 2.1 million people.")
    url = f"/api/v1/threads/{thread.pk}/run"

    # when
    first = owner_client.post(url, {"content": "Capital of France?"})
    second = owner_client.post(url, {"content": "How many live there?"})

    # then
    assert first.status_code == 200, first.content
    body = first.json()["data"]
    assert body["status"] == "succeeded"
    assert body["output"] == "Paris."
    assert body["usage"] == {"input_tokens": 12, "output_tokens": 3}
    assert [message["role"] for message in body["messages"]] == ["user", "assistant"]
    assert body["messages"][1]["usage"] == {"input_tokens": 12, "output_tokens": 3}
    assert sent_messages(fake_llm) == [
        ("system", "You are a concise assistant."),
        ("user", "Capital of France?"),
        ("assistant", "Paris."),
        ("user", "How many live there?"),
    ]
    assert second.json()["data"]["output"] == "About 2.1 million people."
    runs = AgentRun.objects.filter(agent=thread.agent)
    assert {run.source for run in runs} == {"thread"}
    thread.refresh_from_db()
    assert thread.message_count == 4
    assert thread.running_since is None


@pytest.mark.django_db
def test_run_trims_history_to_context_window_keeping_instructions(owner_client, thread, fake_llm):
    # given a model with a tiny window: 100 tokens, 20 kept for the reply
    model = thread.agent.model
    model.context_window, model.max_output_tokens = 100, 20
    model.save()
    for index in range(6):
        services.message_create(thread=thread, user=None, role="user", content=f"old {index} " + "x" * 80)

    # when
    response = owner_client.post(f"/api/v1/threads/{thread.pk}/run", {"content": "Newest question"})

    # then the instructions and the newest messages are sent, the oldest are not
    assert response.status_code == 200, response.content
    sent = sent_messages(fake_llm)
    assert sent[0] == ("system", "You are a concise assistant.")
    assert sent[-1] == ("user", "Newest question")
    assert 2 < len(sent) < 8
    kept = [content for _role, content in sent[1:-1]]
    assert kept == sorted(kept)
    assert not any(content.startswith("old 0") for content in kept)


@pytest.mark.django_db
def test_run_on_busy_thread_is_409_and_stale_lock_is_taken_over(owner_client, thread, fake_llm, settings):
    url = f"/api/v1/threads/{thread.pk}/run"
    services.thread_lock_acquire(thread=thread)

    busy = owner_client.post(url, {"content": "Hi"})
    Thread.objects.filter(pk=thread.pk).update(running_since=timezone.now() - timedelta(hours=1))
    recovered = owner_client.post(url, {"content": "Hi"})

    assert busy.status_code == 409, busy.content
    assert busy.json()["code"] == "thread_busy"
    assert not Message.objects.filter(thread=thread, content="Hi").exclude(pk__in=[]).count() > 1
    assert recovered.status_code == 200, recovered.content


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="The in-memory SQLite test database locks whole tables across threads, so the second request "
    "fails on the table lock before it reaches the run lock. The deterministic busy-thread test covers SQLite.",
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_on_one_thread(make_client, owner, thread, fake_llm):
    # given a slow model, so the first run still holds the thread when the second arrives
    import threading

    fake_llm.fail("slow", delay=1.0)
    url = f"/api/v1/threads/{thread.pk}/run"
    results = {}
    first_client, second_client = make_client(owner), make_client(owner)

    def first_run():
        try:
            results["first"] = first_client.post(url, {"content": "First"})
        finally:
            # This thread opened its own database connection, which would block the test database's teardown.
            connections.close_all()

    worker = threading.Thread(target=first_run)
    worker.start()
    deadline = timezone.now() + timedelta(seconds=5)
    while not Thread.objects.filter(pk=thread.pk, running_since__isnull=False).exists():
        assert timezone.now() < deadline, "the first run never took the lock"

    # when
    second = second_client.post(url, {"content": "Second"})
    worker.join(10)

    # then
    assert second.status_code == 409, second.content
    assert second.json()["code"] == "thread_busy"
    assert results["first"].status_code == 200, results["first"].content
    assert not Message.objects.filter(thread=thread, content="Second").exists()


@pytest.mark.django_db(transaction=True)
def test_stream_sends_events_and_stores_messages(owner_client, make_agent, make_thread, fake_llm):
    # given an agent with a tool the model calls once
    thread = make_thread(make_agent(tools=[{"type": "memory_search"}]))
    fake_llm.reply(tool_calls=[{"name": "memory_search", "arguments": {"query": "weather"}}])
    fake_llm.reply("It is sunny today.")

    # when
    response = owner_client.post(f"/api/v1/threads/{thread.pk}/run", {"content": "Weather?", "stream": True})
    events, _comments = parse_events(response.streaming_content)

    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/event-stream")
    types = [name for name, _data in events]
    assert types[0] == "step"
    assert set(types[1:-1]) == {"delta"}
    assert types[-1] == "done"
    done = events[-1][1]
    assert done["status"] == "succeeded"
    assert [message["role"] for message in done["messages"]] == ["user", "assistant", "tool", "assistant"]
    stored = list(Message.objects.filter(thread=thread))
    assert [message.role for message in stored] == ["user", "assistant", "tool", "assistant"]
    assert stored[1].tool_calls[0]["function"]["name"] == "memory_search"
    assert stored[2].tool_call_id == stored[1].tool_calls[0]["id"]
    assert stored[3].content == "It is sunny today."
    thread.refresh_from_db()
    assert thread.running_since is None

    # and the stored tool exchange is sent back on the next run
    fake_llm.reply("Still sunny.")
    again = owner_client.post(f"/api/v1/threads/{thread.pk}/run", {"content": "And now?"})
    assert again.status_code == 200
    roles = [item["role"] for item in fake_llm.last_request.body["messages"]]
    assert roles == ["system", "user", "assistant", "tool", "assistant", "user"] or roles[-5:] == [
        "user",
        "assistant",
        "tool",
        "assistant",
        "user",
    ]


@pytest.mark.django_db
def test_failed_run_stores_what_was_produced(owner_client, thread, fake_llm):
    for _ in range(3):
        fake_llm.fail("server_error")

    response = owner_client.post(f"/api/v1/threads/{thread.pk}/run", {"content": "Hi"})

    assert response.status_code == 200, response.content
    body = response.json()["data"]
    assert body["status"] == "failed"
    assert body["error"]["code"] == "llm_upstream_unavailable"
    reply = Message.objects.filter(thread=thread, role="assistant").get()
    assert reply.error["code"] == "llm_upstream_unavailable"
    assert AgentRun.objects.get(pk=reply.run_id).status == "failed"
    thread.refresh_from_db()
    assert thread.running_since is None


@pytest.mark.django_db
def test_run_without_content_on_empty_thread_is_422(owner_client, thread):
    response = owner_client.post(f"/api/v1/threads/{thread.pk}/run", {})

    assert response.status_code == 422
    assert "content" in response.json()["errors"]


@pytest.mark.django_db
def test_run_with_unconfigured_agent_is_422(owner_client, make_thread, workspace, owner):
    from agents import services as agent_services

    bare = agent_services.agent_create(workspace=workspace, user=owner, data={"name": "Bare"})
    thread = make_thread(bare)

    response = owner_client.post(f"/api/v1/threads/{thread.pk}/run", {"content": "Hi"})

    assert response.status_code == 422
    assert response.json()["code"] == "agent_not_configured"
    assert not Message.objects.filter(thread=thread).exists()


@pytest.mark.django_db
def test_generate_name(owner_client, thread, fake_llm):
    services.message_create(thread=thread, user=None, role="user", content="Plan a weekend in Lisbon")
    fake_llm.reply('"Weekend in Lisbon."')

    response = owner_client.post(f"/api/v1/threads/{thread.pk}/generate-name")

    assert response.status_code == 200, response.content
    assert response.json()["data"]["name"] == "Weekend in Lisbon"
    transcript = fake_llm.last_request.body["messages"][-1]["content"]
    assert "Plan a weekend in Lisbon" in transcript


@pytest.mark.django_db
def test_first_reply_names_the_thread_in_the_background(
    owner_client, thread, fake_llm, thread_settings, eager_celery, django_capture_on_commit_callbacks
):
    thread_settings.ATHENA_THREAD_AUTO_NAME = True
    fake_llm.reply("Lisbon has trams and views.")
    fake_llm.reply("Lisbon trip")

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(f"/api/v1/threads/{thread.pk}/run", {"content": "Tell me about Lisbon"})

    assert response.status_code == 200, response.content
    thread.refresh_from_db()
    assert thread.name == "Lisbon trip"
    naming_request = json.dumps(fake_llm.last_request.body)
    assert "short title" in naming_request


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_get_unique_positions(owner, thread):
    # given two writers appending to one thread at once
    import threading

    from threads.services import message_create

    def append(prefix):
        try:
            for index in range(10):
                message_create(thread=thread, user=owner, role="user", content=f"{prefix} {index}")
        finally:
            connections.close_all()

    writers = [threading.Thread(target=append, args=(prefix,)) for prefix in ("left", "right")]

    # when
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(30)

    # then
    positions = sorted(Message.objects.filter(thread=thread).values_list("position", flat=True))
    thread.refresh_from_db()
    assert positions == list(range(1, 21))
    assert thread.message_count == 20
