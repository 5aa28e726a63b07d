"""Worker and service faults against a live stack: SIGKILLed workers, a stopped Redis, a restarted PostgreSQL.

Executions are started through the public webhook of a live gunicorn and run by a real Celery
worker, and the reaper runs from Celery beat every second. Side-effecting nodes call a
counting HTTP server with the execution id in the query string, so each call is attributed to
one execution and one node.
"""

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.reliability.stack import AthenaStack, create_workflows, wait_until
from tests.workflows.conftest import CountingServer, chain, node

# The django_db mark makes pytest-django create the test database, whose schema the private
# database copies.
pytestmark = [pytest.mark.integration, pytest.mark.django_db]

SIDE_EFFECT_NODES = ("a", "b", "c")
FAULT_SETTINGS = {
    # A killed runner's lease expires within 4 seconds, and beat runs the reaper every second.
    "WORKFLOWS_LEASE_SECONDS": "4",
    "WORKFLOWS_QUEUED_RESEND_SECONDS": "5",
    "ATHENA_RELIABILITY_BEAT_SECONDS": "1",
}


@pytest.fixture(scope="module")
def counting_server() -> Iterator[CountingServer]:
    server = CountingServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def module_stack(make_athena_stack) -> AthenaStack:
    return make_athena_stack(FAULT_SETTINGS)


@pytest.fixture(scope="module")
def workflows(module_stack: AthenaStack, counting_server: CountingServer) -> dict[str, dict[str, str]]:
    three_calls = _three_calls(counting_server.url)
    return create_workflows(
        module_stack,
        {
            "worker_crash": three_calls,
            "postgres_restart": three_calls,
            # A rate limit makes every request count itself in the cache, which is on Redis too.
            "redis_outage": {
                "name": "Recorded event",
                "nodes": [
                    {"id": "start", "type": "trigger.webhook", "parameters": {}},
                    _call("a", counting_server.url),
                ],
                "edges": chain("start", "a"),
                "webhook_rate_limit": 100_000,
            },
        },
    )


@pytest.fixture
def stack(module_stack: AthenaStack, counting_server: CountingServer) -> Iterator[AthenaStack]:
    """Yield the module's stack, and start again whatever the test stopped or killed."""
    counting_server.delay = 0.0
    yield module_stack
    module_stack.heal()


def _call(node_id: str, base_url: str) -> dict:
    return node(
        node_id,
        "http_request",
        parameters={"method": "POST", "url": f"{base_url}/{node_id}?execution={{{{ execution.id }}}}"},
        timeout_seconds=5,
    )


def _three_calls(base_url: str) -> dict:
    nodes = [
        {"id": "start", "type": "trigger.webhook", "parameters": {}},
        _call("a", base_url),
        node("mid", "set", parameters={"values": {"step": "between a and b"}}),
        _call("b", base_url),
        _call("c", base_url),
    ]
    return {"name": "Three calls", "nodes": nodes, "edges": chain("start", "a", "mid", "b", "c")}


def _calls_for(server: CountingServer, execution_ids: list[str], node_id: str) -> int:
    calls = _calls_per_node(server)
    return sum(calls[(execution_id, node_id)] for execution_id in execution_ids)


def _calls_per_node(server: CountingServer) -> Counter:
    """Count the server's calls by (execution id, node id)."""
    counts: Counter = Counter()
    with server.lock:
        requests_seen = list(server.requests)
    for request in requests_seen:
        parts = urlsplit(request["path"])
        execution_id = parse_qs(parts.query).get("execution", [""])[0]
        counts[(execution_id, parts.path.strip("/"))] += 1
    return counts


def _statuses(stack: AthenaStack, execution_ids: list[str]) -> dict[str, str]:
    rows = stack.postgres.query(
        "SELECT id::text, status FROM workflows_workflowexecution WHERE id = ANY(%s::uuid[])", (execution_ids,)
    )
    return dict(rows)


def _post_webhook(session: requests.Session, stack: AthenaStack, token: str, key: str, body: dict) -> requests.Response:
    return session.post(f"{stack.url}/api/v1/hooks/{token}", json=body, headers={"Idempotency-Key": key}, timeout=30)


@pytest.mark.timeout(400)
def test_worker_sigkill_during_batch(stack, workflows, counting_server):
    counting_server.delay = 0.3
    workflow = workflows["worker_crash"]
    session = requests.Session()

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(
            pool.map(
                lambda index: _post_webhook(session, stack, workflow["webhook_token"], f"batch-{index}", {"n": index}),
                range(50),
            )
        )
    assert [response.status_code for response in responses] == [202] * 50, responses[0].content
    execution_ids = [response.json()["data"]["execution_id"] for response in responses]
    assert len(set(execution_ids)) == 50
    assert wait_until(lambda: _calls_for(counting_server, execution_ids, "a") >= 12, 90), stack.log("worker")

    stack.kill_worker()
    committed = stack.postgres.query(
        "SELECT execution_id::text, node_id FROM workflows_workflownoderun "
        "WHERE execution_id = ANY(%s::uuid[]) AND node_type = 'http_request' AND status = 'succeeded'",
        (execution_ids,),
    )
    in_flight_at_kill = Counter(_statuses(stack, execution_ids).values())["running"]
    stack.start_worker()
    stack.wait_for_worker()

    finished = wait_until(lambda: _finished(_statuses(stack, execution_ids)), 120, 0.5)
    statuses = _statuses(stack, execution_ids)
    assert finished, (Counter(statuses.values()), stack.log("worker"))
    assert Counter(statuses.values()) == {"succeeded": 50}
    assert in_flight_at_kill >= 1
    assert committed, "the worker was killed before any side-effecting node had committed"
    calls = _calls_per_node(counting_server)
    recoveries = dict(
        stack.postgres.query(
            "SELECT id::text, recoveries FROM workflows_workflowexecution WHERE id = ANY(%s::uuid[])",
            (execution_ids,),
        )
    )
    for execution_id, node_id in committed:
        assert calls[(execution_id, node_id)] == 1, (execution_id, node_id)
    for execution_id in execution_ids:
        repeated = [node_id for node_id in SIDE_EFFECT_NODES if calls[(execution_id, node_id)] > 1]
        assert all(calls[(execution_id, node_id)] >= 1 for node_id in SIDE_EFFECT_NODES), execution_id
        # Only the one node whose result had not committed when its runner died may run again.
        assert len(repeated) <= min(1, recoveries[execution_id]), (execution_id, repeated)
    repeated_calls = sum(count - 1 for (execution_id, _node), count in calls.items() if execution_id in recoveries)
    print(
        f"\nworker SIGKILL: 50 executions, {in_flight_at_kill} running and {len(committed)} side-effecting node runs "
        f"committed at the kill, {sum(recoveries.values())} recoveries by the reaper, all succeeded, "
        f"{repeated_calls} repeated calls of uncommitted nodes"
    )


def _finished(statuses: dict[str, str]) -> bool:
    return set(statuses.values()) <= {"succeeded", "failed", "canceled"}


def _send_until_accepted(session: requests.Session, stack: AthenaStack, token: str, key: str) -> requests.Response:
    """Send one event the way a careful sender does: again with the same key after each 503, for up to 60 seconds."""
    deadline = time.monotonic() + 60
    while True:
        response = _post_webhook(session, stack, token, key, {"key": key})
        if response.status_code != 503 or time.monotonic() >= deadline:
            return response
        time.sleep(float(response.headers["Retry-After"]))


class SteadySender:
    """Threads that each send a webhook with a new Idempotency-Key every `interval` seconds until stopped.

    `outcomes` lists (key, status, Retry-After header, execution id, monotonic send time).
    """

    def __init__(self, stack: AthenaStack, token: str, threads: int = 3, interval: float = 0.1) -> None:
        self.stack = stack
        self.token = token
        self.interval = interval
        self.stopped = threading.Event()
        self.lock = threading.Lock()
        self.outcomes: list[tuple[str, int, str | None, str | None, float]] = []
        self.threads = [threading.Thread(target=self._send, args=(index,), daemon=True) for index in range(threads)]

    def __enter__(self) -> "SteadySender":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopped.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def _send(self, index: int) -> None:
        session = requests.Session()
        sequence = 0
        while not self.stopped.is_set():
            key = f"steady-{index}-{sequence}-{uuid.uuid4().hex[:6]}"
            sequence += 1
            sent_at = time.monotonic()
            try:
                response = _post_webhook(session, self.stack, self.token, key, {"key": key})
            except requests.RequestException as exc:
                with self.lock:
                    self.outcomes.append((key, 0, repr(exc), None, sent_at))
                continue
            execution_id = response.json()["data"]["execution_id"] if response.status_code == 202 else None
            with self.lock:
                self.outcomes.append(
                    (key, response.status_code, response.headers.get("Retry-After"), execution_id, sent_at)
                )
            time.sleep(self.interval)


def _executions_by_key(stack: AthenaStack, workflow_id: str) -> dict[str, tuple[str, str]]:
    rows = stack.postgres.query(
        "SELECT idempotency_key, id::text, status FROM workflows_workflowexecution WHERE workflow_id = %s",
        (workflow_id,),
    )
    return {key: (execution_id, status) for key, execution_id, status in rows}


@pytest.mark.timeout(300)
def test_redis_outage_loses_no_webhook(stack, workflows, counting_server):
    workflow = workflows["redis_outage"]

    with SteadySender(stack, workflow["webhook_token"]) as sender:
        time.sleep(2)
        stack.redis.stop()
        outage_started = time.monotonic()
        time.sleep(10)
        stack.redis.start()
        outage_ended = time.monotonic()
        time.sleep(2)

    outcomes = list(sender.outcomes)
    statuses = Counter(status for _key, status, *_rest in outcomes)
    assert set(statuses) <= {202, 503}, outcomes[:5]
    assert all(retry_after for _key, status, retry_after, *_rest in outcomes if status == 503)
    during_outage = [outcome for outcome in outcomes if outage_started <= outcome[4] < outage_ended]
    assert len(during_outage) >= 5, statuses
    session = requests.Session()
    for key, status, *_rest in outcomes:
        if status == 503:
            assert _send_until_accepted(session, stack, workflow["webhook_token"], key).status_code == 202
    accepted = {key: execution_id for key, status, _retry, execution_id, _at in outcomes if status == 202}

    # The worker reconnects to Redis with a growing back-off, so allow for a slow, loaded machine.
    finished = wait_until(
        lambda: _finished({key: status for key, (_id, status) in _executions_by_key(stack, workflow["id"]).items()}),
        180,
        0.5,
    )
    executions = _executions_by_key(stack, workflow["id"])
    assert finished, (Counter(status for _id, status in executions.values()), stack.log("worker"))
    assert set(executions) == {key for key, *_rest in outcomes}
    assert {key: executions[key][0] for key in accepted} == accepted
    assert Counter(status for _id, status in executions.values()) == {"succeeded": len(outcomes)}
    calls = _calls_per_node(counting_server)
    assert all(calls[(execution_id, "a")] == 1 for execution_id, _status in executions.values())
    print(
        f"\nRedis stopped 10 s: {len(outcomes)} webhooks, {len(during_outage)} sent during the outage, "
        f"{statuses[202]} answered 202 and {statuses[503]} answered 503 (then accepted on retry), "
        f"{len(executions)} executions, all succeeded"
    )


@pytest.mark.timeout(300)
def test_postgres_restart_during_executions(stack, workflows, counting_server):
    counting_server.delay = 0.3
    workflow = workflows["postgres_restart"]
    token = workflow["webhook_token"]
    session = requests.Session()
    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(lambda index: _post_webhook(session, stack, token, f"before-{index}", {}), range(20)))
    assert [response.status_code for response in responses] == [202] * 20, responses[0].content
    execution_ids = [response.json()["data"]["execution_id"] for response in responses]
    assert wait_until(lambda: _calls_for(counting_server, execution_ids, "a") >= 4, 90), stack.log("worker")

    stack.postgres.stop()
    rejected = [_post_webhook(session, stack, token, f"during-{index}", {}) for index in range(5)]
    time.sleep(3)
    stack.postgres.start()
    resent = [_send_until_accepted(session, stack, token, f"during-{index}") for index in range(5)]

    assert [response.status_code for response in rejected] == [503] * 5, rejected[0].content
    assert all(response.headers.get("Retry-After") for response in rejected)
    assert {response.json()["code"] for response in rejected} == {"service_unavailable"}
    assert [response.status_code for response in resent] == [202] * 5, resent[0].content
    finished = wait_until(
        lambda: _finished({key: status for key, (_id, status) in _executions_by_key(stack, workflow["id"]).items()}),
        120,
        0.5,
    )
    executions = _executions_by_key(stack, workflow["id"])
    assert finished, (Counter(status for _id, status in executions.values()), stack.log("worker"))
    assert len(executions) == 25
    errors = stack.postgres.query(
        "SELECT id::text, error FROM workflows_workflowexecution WHERE workflow_id = %s AND status <> 'succeeded'",
        (workflow["id"],),
    )
    # An execution may fail, but only with a stored error code and message.
    assert all(error and error.get("code") and error.get("message") for _id, error in errors), errors
    assert Counter(status for _id, status in executions.values())["succeeded"] >= 20, errors
    print(
        f"\nPostgreSQL restarted: 20 executions in flight, 5 webhooks answered 503 during the outage and 202 on "
        f"retry, {Counter(status for _id, status in executions.values())} of 25"
    )
