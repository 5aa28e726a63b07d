"""Load without loss: 5,000 public webhook calls at full speed, half of them repeats by Idempotency-Key.

A bounded load generator (a fixed pool of threads, one keep-alive connection each) sends every
event twice to a live gunicorn. Half of the repeats follow their first call at once, so the
two race for the insert; the other half come after every first call. The workflow's rate
limit is off. Exactly one execution per event must be stored and finish.
"""

import os
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.reliability.stack import AthenaStack, create_workflows, wait_until
from tests.workflows.conftest import chain, node

# The django_db mark makes pytest-django create the test database, whose schema the private
# database copies.
pytestmark = [pytest.mark.integration, pytest.mark.django_db]

# ATHENA_RELIABILITY_LOAD_EVENTS allows a shorter run on a slow machine, and CI uses the default.
EVENTS = int(os.environ.get("ATHENA_RELIABILITY_LOAD_EVENTS", "2500"))
CONCURRENCY = 16
# A call whose connection broke before a response is sent again with the same Idempotency-Key,
# which the key makes safe: the server stores the event at most once.
MAX_ATTEMPTS = 3


@pytest.fixture(scope="module")
def stack(make_athena_stack) -> AthenaStack:
    # The backlog may wait longer than the default re-send period of the reaper, which would then
    # send messages again that are only queued, not lost. Nothing is lost in this test.
    return make_athena_stack({"WORKFLOWS_QUEUED_RESEND_SECONDS": "900"})


def _call_sequence() -> list[str]:
    keys = [f"event-{index:05d}" for index in range(EVENTS)]
    racing, spread = keys[: EVENTS // 2], keys[EVENTS // 2 :]
    return [key for key in racing for _copy in range(2)] + spread + spread


def _status_counts(stack: AthenaStack, workflow_id: str) -> Counter:
    rows = stack.postgres.query(
        "SELECT status, count(*) FROM workflows_workflowexecution WHERE workflow_id = %s GROUP BY status",
        (workflow_id,),
    )
    return Counter(dict(rows))


@pytest.mark.timeout(900)
def test_webhook_load_without_loss(stack):
    workflow = create_workflows(
        stack,
        {
            "load": {
                "name": "Event intake",
                "nodes": [
                    {"id": "start", "type": "trigger.webhook", "parameters": {}},
                    node("record", "set", parameters={"values": {"event": "{{ trigger.body.event }}"}}),
                ],
                "edges": chain("start", "record"),
                "webhook_rate_limit": 0,
            }
        },
    )["load"]
    url = f"{stack.url}/api/v1/hooks/{workflow['webhook_token']}"
    sessions = threading.local()

    connection_errors = Counter()

    def send(key: str) -> tuple[str, int, str | None, bool]:
        if not hasattr(sessions, "session"):
            sessions.session = requests.Session()
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                response = sessions.session.post(url, json={"event": key}, headers={"Idempotency-Key": key}, timeout=60)
                break
            except requests.ConnectionError:
                connection_errors[key] += 1
                if attempt == MAX_ATTEMPTS:
                    raise
        execution_id = response.json()["data"]["execution_id"] if response.status_code == 202 else None
        return key, response.status_code, execution_id, response.headers.get("Idempotent-Replayed") == "true"

    sequence = _call_sequence()
    started = time.monotonic()
    pool = ThreadPoolExecutor(max_workers=CONCURRENCY)
    try:
        outcomes = list(pool.map(send, sequence))
    finally:
        # On a failure or a timeout the calls not yet started are dropped instead of awaited.
        pool.shutdown(wait=True, cancel_futures=True)
    sending_seconds = time.monotonic() - started
    drained = wait_until(lambda: _status_counts(stack, workflow["id"])["succeeded"] >= EVENTS, 600, 1.0)
    draining_seconds = time.monotonic() - started

    assert len(sequence) == 2 * EVENTS
    assert Counter(status for _key, status, _id, _replayed in outcomes) == {202: 2 * EVENTS}
    ids_by_key = defaultdict(set)
    for key, _status, execution_id, _replayed in outcomes:
        ids_by_key[key].add(execution_id)
    assert len(ids_by_key) == EVENTS
    assert all(len(ids) == 1 for ids in ids_by_key.values()), [key for key, ids in ids_by_key.items() if len(ids) > 1]
    # A resent call whose first attempt had been stored gets a replay response too.
    replays = sum(replayed for *_rest, replayed in outcomes)
    assert EVENTS <= replays <= EVENTS + sum(connection_errors.values())
    counts = _status_counts(stack, workflow["id"])
    assert drained, (counts, stack.log("worker"))
    assert counts == {"succeeded": EVENTS}
    stored = stack.postgres.query(
        "SELECT count(DISTINCT idempotency_key), count(DISTINCT id::text) FROM workflows_workflowexecution "
        "WHERE workflow_id = %s",
        (workflow["id"],),
    )
    assert stored == [(EVENTS, EVENTS)]
    node_runs = stack.postgres.query(
        "SELECT count(*) FROM workflows_workflownoderun run JOIN workflows_workflowexecution execution "
        "ON run.execution_id = execution.id WHERE execution.workflow_id = %s AND run.node_id = 'record' "
        "AND run.status = 'succeeded'",
        (workflow["id"],),
    )
    assert node_runs == [(EVENTS,)]
    print(
        f"\n{len(sequence)} webhook calls in {sending_seconds:.1f} s "
        f"({len(sequence) / sending_seconds:.0f} calls/s, {CONCURRENCY} connections); "
        f"{sum(connection_errors.values())} calls resent after a broken connection; "
        f"{EVENTS} executions stored and finished {draining_seconds:.1f} s after the first call"
    )
