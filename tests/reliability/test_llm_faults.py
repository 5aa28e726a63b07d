"""LLM provider faults: 429 with Retry-After, 500, timeouts and connections closed mid-stream.

The fake vendor (tests/fakes_llm.py) injects each fault. Agent runs, plain and streamed, and
workflow `llm` nodes retry within the gateway's limit of 3 attempts, then fail with the mapped
error code. Streams end with an `error` event and then `done`. The tests read them over a real
HTTP connection from the live server, with a read timeout and an overall deadline, so a hang
fails the test instead of blocking it.
"""

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from agents import services as agent_services
from providers.llm import gateway
from tests.agents.factories import llm_setup
from tests.factories import UserFactory, WorkspaceFactory
from tests.fakes_llm import FakeLLM
from tests.workspaces.conftest import client_for
from workflows.models import WorkflowExecution
from workflows.services.workflows import workflow_create, workflow_run

# A stream must end within this many seconds; the slowest case below needs about 4 on an idle
# machine. Reads time out sooner: heartbeats keep a healthy stream talking every 0.2 seconds.
STREAM_DEADLINE_SECONDS = 30
STREAM_READ_TIMEOUT_SECONDS = 15
# The per-attempt timeout in these tests, far below the fake's delays, so timeouts are quick.
LLM_TIMEOUT_SECONDS = 0.4
FAULT_DELAY_SECONDS = 1.5

# fault name -> (how to inject it once, the error code a caller gets when it persists)
FAULTS: dict[str, tuple[Callable[[FakeLLM], Any], str]] = {
    "rate_limit": (lambda fake: fake.fail("rate_limit", retry_after=1), "llm_rate_limited"),
    "server_error": (lambda fake: fake.fail("server_error"), "llm_upstream_unavailable"),
    "timeout": (lambda fake: fake.fail("slow", delay=FAULT_DELAY_SECONDS), "llm_timeout"),
    "dropped_connection": (lambda fake: fake.fail("drop"), "llm_upstream_unavailable"),
}
# A dropped connection cuts a stream after its first delta, which the mid-stream test covers.
FAULTS_BEFORE_FIRST_DELTA = ["rate_limit", "server_error", "timeout"]
CHAT_PATH = "/v1/chat/completions"


@pytest.fixture
def owner(db: None) -> Any:
    return UserFactory()


@pytest.fixture
def workspace(owner: Any) -> Any:
    return WorkspaceFactory(owner=owner, name="Reliability team")


@pytest.fixture
def owner_client(owner: Any) -> Any:
    return client_for(owner)


@pytest.fixture(autouse=True)
def short_llm_timeout(settings: Any) -> Any:
    settings.ATHENA_LLM_TIMEOUT_SECONDS = LLM_TIMEOUT_SECONDS
    settings.ATHENA_AGENT_STREAM_HEARTBEAT_SECONDS = 0.2
    return settings


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The gateway's retry waits, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(gateway, "_sleep", recorded.append)
    return recorded


@pytest.fixture
def agent(workspace: Any, owner: Any, fake_llm: FakeLLM) -> Any:
    account, model = llm_setup(workspace=workspace, base_url=fake_llm.openai_base_url)
    return agent_services.agent_create(
        workspace=workspace, user=owner, data={"name": "Helper", "model_id": model.pk, "account_id": account.pk}
    )


def inject(fake: FakeLLM, fault: str, times: int) -> None:
    for _ in range(times):
        FAULTS[fault][0](fake)


def read_events(response: requests.Response) -> list[tuple[str, Any]]:
    """Read a Server-Sent Events response to its end, failing when it takes longer than the deadline."""
    deadline = time.monotonic() + STREAM_DEADLINE_SECONDS
    events, name, data = [], None, None
    for line in response.iter_lines(decode_unicode=True):
        assert time.monotonic() < deadline, f"the stream did not end within {STREAM_DEADLINE_SECONDS} seconds"
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data = json.loads(line.removeprefix("data: "))
        elif line == "" and name is not None:
            events.append((name, data))
            name, data = None, None
    return events


# --- agent runs -----------------------------------------------------------------------


@pytest.mark.parametrize("fault", list(FAULTS))
def test_agent_run_fault_retried_then_failed(owner_client, agent, fake_llm, waits, fault):
    # given a provider that fails every attempt
    inject(fake_llm, fault, 3)

    # when the agent runs
    response = owner_client.post(f"/api/v1/agents/{agent.pk}/run", {"input": "Hi"}, format="json")

    # then the gateway tried 3 times and the run failed with the mapped code
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["status"] == "failed"
    assert data["error"]["code"] == FAULTS[fault][1]
    assert len(fake_llm.calls_to(CHAT_PATH)) == 3
    assert len(waits) == 2
    if fault == "rate_limit":
        assert waits == [1.0, 1.0]


@pytest.mark.parametrize("fault", list(FAULTS))
def test_agent_run_fault_recovers_within_limit(owner_client, agent, fake_llm, waits, fault):
    inject(fake_llm, fault, 2)
    fake_llm.reply("Recovered.")

    response = owner_client.post(f"/api/v1/agents/{agent.pk}/run", {"input": "Hi"}, format="json")

    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["status"] == "succeeded", data
    assert data["output"] == "Recovered."
    assert len(fake_llm.calls_to(CHAT_PATH)) == 3


def test_agent_run_waits_for_retry_after(owner_client, agent, fake_llm):
    fake_llm.fail("rate_limit", retry_after=1).reply("Recovered.")

    response = owner_client.post(f"/api/v1/agents/{agent.pk}/run", {"input": "Hi"}, format="json")

    assert response.json()["data"]["status"] == "succeeded", response.content
    first, second = fake_llm.calls_to(CHAT_PATH)
    assert second.received_at - first.received_at >= 1.0


def test_agent_run_long_retry_after_fails_at_once(owner_client, agent, fake_llm, waits):
    fake_llm.fail("rate_limit", retry_after=120)

    response = owner_client.post(f"/api/v1/agents/{agent.pk}/run", {"input": "Hi"}, format="json")

    data = response.json()["data"]
    assert data["status"] == "failed"
    assert data["error"]["code"] == "llm_rate_limited"
    assert len(fake_llm.calls_to(CHAT_PATH)) == 1
    assert waits == []


# --- streamed agent runs ----------------------------------------------------------------


def stream_run(live_server: Any, owner: Any, agent: Any) -> requests.Response:
    from accounts_auth.services import personal_access_token_create

    _token, raw = personal_access_token_create(user=owner, name="stream", abilities=["*"])
    return requests.post(
        f"{live_server.url}/api/v1/agents/{agent.pk}/run",
        json={"input": "Hi", "stream": True},
        headers={"Authorization": f"Bearer {raw}"},
        stream=True,
        timeout=(5, STREAM_READ_TIMEOUT_SECONDS),
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fault", FAULTS_BEFORE_FIRST_DELTA)
def test_agent_stream_early_fault_ends_with_error(live_server, owner, agent, fake_llm, waits, fault):
    # given a provider that fails every attempt before sending anything
    inject(fake_llm, fault, 3)

    # when a client streams the run
    with stream_run(live_server, owner, agent) as response:
        events = read_events(response)

    # then it gets an error event with the mapped code, then done
    assert response.status_code == 200
    assert [name for name, _data in events] == ["error", "done"]
    assert events[0][1]["code"] == FAULTS[fault][1]
    assert events[1][1]["status"] == "failed"
    assert len(fake_llm.calls_to(CHAT_PATH)) == 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("fault", "code"), [("drop", "llm_upstream_unavailable"), ("stall", "llm_timeout")])
def test_agent_stream_cut_mid_stream_ends_with_error(live_server, owner, agent, fake_llm, waits, fault, code):
    # given a provider that sends one delta, then closes or stalls
    fake_llm.fail(fault, delay=FAULT_DELAY_SECONDS)

    with stream_run(live_server, owner, agent) as response:
        events = read_events(response)

    # then the delta reached the client, the call was not repeated after it, and the stream ended
    names = [name for name, _data in events]
    assert names == ["delta", "error", "done"]
    assert events[1][1]["code"] == code
    assert events[2][1]["status"] == "failed"
    assert events[2][1]["output"] == events[0][1]["text"]
    assert len(fake_llm.calls_to(CHAT_PATH)) == 1


# --- workflow llm nodes -------------------------------------------------------------------


@pytest.fixture
def llm_workflow(workspace: Any, owner: Any, fake_llm: FakeLLM) -> Any:
    account, model = llm_setup(workspace=workspace, base_url=fake_llm.openai_base_url)
    nodes = [
        {"id": "start", "type": "trigger.manual", "parameters": {}},
        {
            "id": "ask",
            "type": "llm",
            "parameters": {"model_id": str(model.pk), "account": str(account.pk), "prompt": "Hi"},
        },
    ]
    edges = [{"id": "start-ask", "source": "start", "target": "ask"}]
    return workflow_create(workspace=workspace, user=owner, data={"name": "Ask", "nodes": nodes, "edges": edges})


@pytest.fixture
def run_inline(
    owner: Any, django_capture_on_commit_callbacks: Any, settings: Any
) -> Callable[[Any], WorkflowExecution]:
    settings.CELERY_TASK_ALWAYS_EAGER = True

    def run(workflow: Any) -> WorkflowExecution:
        with django_capture_on_commit_callbacks(execute=True):
            execution = workflow_run(workflow=workflow, user=owner, body={})
        execution.refresh_from_db()
        return execution

    return run


@pytest.mark.parametrize("fault", list(FAULTS))
def test_llm_node_fault_retried_then_failed(llm_workflow, run_inline, fake_llm, waits, fault):
    inject(fake_llm, fault, 3)

    execution = run_inline(llm_workflow)

    assert execution.status == "failed"
    assert execution.error["code"] == FAULTS[fault][1]
    assert execution.error["node_id"] == "ask"
    run = execution.node_runs.get(node_id="ask", item_index=-1)
    assert run.status == "failed"
    assert run.error["code"] == FAULTS[fault][1]
    assert len(fake_llm.calls_to(CHAT_PATH)) == 3


@pytest.mark.parametrize("fault", list(FAULTS))
def test_llm_node_fault_recovers_within_limit(llm_workflow, run_inline, fake_llm, waits, fault):
    inject(fake_llm, fault, 2)
    fake_llm.reply("Recovered.")

    execution = run_inline(llm_workflow)

    assert execution.status == "succeeded", execution.error
    run = execution.node_runs.get(node_id="ask", item_index=-1)
    assert run.output["text"] == "Recovered."
    assert len(fake_llm.calls_to(CHAT_PATH)) == 3
