"""Streamed agent runs: event order, heartbeats, the final summary and client disconnects.

The run executes in a worker thread with its own database connection, so these tests commit
their rows (`transaction=True`) for that thread to see them.
"""

import json
import time
import uuid

import pytest

from agents.models import AgentRun

pytestmark = pytest.mark.django_db(transaction=True)


def parse_events(chunks):
    events, comments = [], []
    for block in b"".join(chunks).decode().split("\n\n"):
        if not block.strip():
            continue
        if block.startswith(":"):
            comments.append(block[1:].strip())
            continue
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events, comments


def test_stream_event_order_and_summary(owner_client, make_agent, fake_llm):
    # given
    agent = make_agent(tools=[{"type": "memory_search"}])
    fake_llm.reply(tool_calls=[{"name": "memory_search", "arguments": {"query": "weather"}}])
    fake_llm.reply("It is sunny today.")

    # when
    response = owner_client.post(f"/api/v1/agents/{agent.pk}/run", {"input": "Weather?", "stream": True})
    events, _comments = parse_events(response.streaming_content)

    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/event-stream")
    assert response["X-Accel-Buffering"] == "no"
    assert response["Cache-Control"] == "no-cache"
    types = [name for name, _data in events]
    assert types[0] == "step"
    assert set(types[1:-1]) == {"delta"}
    assert types[-1] == "done"
    assert "".join(data["text"] for name, data in events if name == "delta") == "It is sunny today."
    done = events[-1][1]
    assert done["status"] == "succeeded"
    assert done["output"] == "It is sunny today."
    assert AgentRun.objects.get(pk=done["run_id"]).status == "succeeded"


def test_stream_accept_header_and_failure_events(owner_client, make_agent, fake_llm):
    agent = make_agent()
    for _ in range(3):
        fake_llm.fail("server_error")

    response = owner_client.post(f"/api/v1/agents/{agent.pk}/run", {"input": "Hi"}, HTTP_ACCEPT="text/event-stream")
    events, _comments = parse_events(response.streaming_content)

    assert [name for name, _data in events] == ["error", "done"]
    assert events[0][1]["code"] == "llm_upstream_unavailable"
    assert events[1][1]["status"] == "failed"


def test_stream_sends_heartbeats_while_model_is_slow(owner_client, make_agent, fake_llm, settings):
    settings.ATHENA_AGENT_STREAM_HEARTBEAT_SECONDS = 0.1
    agent = make_agent()
    fake_llm.fail("slow", delay=0.6)

    response = owner_client.post(f"/api/v1/agents/{agent.pk}/run", {"input": "Hi", "stream": True})
    events, comments = parse_events(response.streaming_content)

    assert comments.count("heartbeat") >= 2
    assert events[-1][0] == "done"


def test_stream_client_disconnect_stops_run(owner_client, make_agent, fake_llm, settings):
    # given a model that answers slowly with a tool call the run would go on with
    settings.ATHENA_AGENT_STREAM_HEARTBEAT_SECONDS = 0.1
    agent = make_agent(tools=[{"type": "memory_search"}])
    fake_llm.fail("slow", delay=0.5)
    fake_llm.reply("Second call.")

    # when the client reads one heartbeat and goes away
    response = owner_client.post(f"/api/v1/agents/{agent.pk}/run", {"input": "Hi", "stream": True})
    stream = iter(response.streaming_content)
    next(stream)
    next(stream)
    response.close()

    # then the run stops as canceled and the model is not called again
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and AgentRun.objects.filter(status="running").exists():
        time.sleep(0.05)
    run = AgentRun.objects.get()
    assert run.status == "canceled"
    assert run.error["code"] == "run_canceled"
    assert len(fake_llm.calls_to("/v1/chat/completions")) == 1


def test_stream_format_parameter_streams(owner_client, make_agent, fake_llm):
    agent = make_agent()
    fake_llm.reply("Streamed.")

    response = owner_client.post(f"/api/v1/agents/{agent.pk}/run?format=sse", {"input": "Hi"})
    events, _comments = parse_events(response.streaming_content)

    assert response["Content-Type"].startswith("text/event-stream")
    assert events[-1][0] == "done"
    assert events[-1][1]["output"] == "Streamed."


@pytest.mark.parametrize("query", ["?format=sse", ""])
def test_stream_errors_before_stream_are_json(owner_client, make_agent, query):
    # given requests that fail before a stream starts: an unknown agent and an invalid body
    agent = make_agent()
    headers = {"HTTP_ACCEPT": "text/event-stream"}

    # when they ask for a stream
    missing = owner_client.post(f"/api/v1/agents/{uuid.uuid4()}/run{query}", {"input": "Hi"}, **headers)
    invalid = owner_client.post(f"/api/v1/agents/{agent.pk}/run{query}", {"input": ["Hi"]}, format="json", **headers)

    # then the errors are labelled as the JSON they are
    assert missing.status_code == 404, missing.content
    assert missing["Content-Type"] == "application/json"
    assert missing.json()["code"] == "not_found"
    assert invalid.status_code == 422, invalid.content
    assert invalid["Content-Type"] == "application/json"
    assert "input" in invalid.json()["errors"]
