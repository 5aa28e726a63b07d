"""The public webhook: methods and content types, signatures, idempotency, limits and sync answers."""

import hashlib
import hmac
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from tests.workflows.conftest import chain, node, node_runs, trigger
from workflows.models import WorkflowExecution
from workflows.services.workflows import workflow_update


@pytest.fixture
def hook(make_workflow):
    return make_workflow(
        [trigger(kind="trigger.webhook"), node("echo", "set", parameters={"values": {"got": "{{ input }}"}})],
        chain("start", "echo"),
    )


def _url(workflow):
    return f"/api/v1/hooks/{workflow.webhook_token}"


def _sign(secret, body, timestamp=None):
    timestamp = str(int(timestamp if timestamp is not None else time.time()))
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"HTTP_X_ATHENA_TIMESTAMP": timestamp, "HTTP_X_ATHENA_SIGNATURE": f"sha256={digest}"}


@pytest.mark.parametrize(
    ("method", "content_type", "body", "expected"),
    [
        ("post", "application/json", b'{"a": 1}', {"a": 1}),
        ("put", "application/x-www-form-urlencoded", b"a=1&b=2", {"a": "1", "b": "2"}),
        ("patch", "text/plain", b"hello", "hello"),
        ("post", "application/json", b"{not json", "{not json"),
        ("delete", "application/octet-stream", b"raw", "raw"),
    ],
)
def test_webhook_methods_and_content_types(hook, on_commit, method, content_type, body, expected):
    with on_commit():
        response = getattr(Client(), method)(_url(hook) + "?source=test", body, content_type=content_type)

    assert response.status_code == 202, response.content
    execution = WorkflowExecution.objects.get(pk=response.json()["data"]["execution_id"])
    assert execution.trigger_payload["body"] == expected
    assert execution.trigger_payload["method"] == method.upper()
    assert execution.trigger_payload["query"] == {"source": "test"}
    assert execution.status == "succeeded"


def test_webhook_get_without_body(hook, on_commit):
    with on_commit():
        response = Client().get(_url(hook))

    assert response.status_code == 202, response.content


def test_webhook_unknown_or_inactive_token_is_404(hook, owner):
    workflow_update(workflow=hook, user=owner, data={"active": False})

    assert Client().post(_url(hook)).status_code == 404
    assert Client().post("/api/v1/hooks/" + "x" * 32).status_code == 404


def test_webhook_signature_valid_wrong_expired(hook, owner, on_commit):
    workflow_update(workflow=hook, user=owner, data={"webhook_secret": "shh-secret"})
    body = b'{"a": 1}'

    with on_commit():
        valid = Client().post(_url(hook), body, content_type="application/json", **_sign("shh-secret", body))
    wrong = Client().post(_url(hook), body, content_type="application/json", **_sign("other", body))
    expired = Client().post(
        _url(hook), body, content_type="application/json", **_sign("shh-secret", body, time.time() - 301)
    )
    missing = Client().post(_url(hook), body, content_type="application/json")

    assert valid.status_code == 202, valid.content
    assert [wrong.status_code, expired.status_code, missing.status_code] == [401, 401, 401]
    assert wrong.json()["code"] == "invalid_signature"


def test_webhook_idempotency_key_returns_same_execution(hook, on_commit):
    with on_commit():
        first = Client().post(_url(hook), b"{}", content_type="application/json", HTTP_IDEMPOTENCY_KEY="order-1")
    second = Client().post(_url(hook), b"{}", content_type="application/json", HTTP_IDEMPOTENCY_KEY="order-1")

    assert first.json()["data"]["execution_id"] == second.json()["data"]["execution_id"]
    assert second["Idempotent-Replayed"] == "true"
    assert WorkflowExecution.objects.filter(workflow=hook).count() == 1


@pytest.mark.django_db(transaction=True)
def test_webhook_idempotency_concurrent_requests_give_one_execution(make_workflow):
    if connection.vendor == "sqlite":
        # The in-memory SQLite test database fails a second concurrent writer at once
        # ("table is locked") instead of waiting, so only PostgreSQL can show the race.
        pytest.skip("needs PostgreSQL: in-memory SQLite cannot hold two concurrent writers")
    hook = make_workflow(
        [trigger(kind="trigger.webhook"), node("wait", "delay", parameters={"seconds": 600})], chain("start", "wait")
    )
    barrier = threading.Barrier(2)
    answers = []

    def send():
        barrier.wait()
        answers.append(Client().post(_url(hook), b"{}", content_type="application/json", HTTP_IDEMPOTENCY_KEY="same"))
        connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(answer.status_code for answer in answers) == [202, 202]
    assert len({answer.json()["data"]["execution_id"] for answer in answers}) == 1
    assert WorkflowExecution.objects.filter(workflow=hook).count() == 1


def test_webhook_body_over_limit_is_413(hook, settings):
    settings.ATHENA_MAX_REQUEST_BYTES = 100

    response = Client().post(_url(hook), b"x" * 101, content_type="text/plain")

    assert response.status_code == 413, response.content
    assert response.json()["code"] == "payload_too_large"


def test_webhook_rate_limit_is_429(hook, owner, on_commit):
    workflow_update(workflow=hook, user=owner, data={"webhook_rate_limit": 2})

    with on_commit():
        answers = [Client().post(_url(hook)).status_code for _ in range(3)]
    limited = Client().post(_url(hook))

    assert answers == [202, 202, 429]
    assert int(limited["Retry-After"]) >= 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("inline", [True, False], ids=["in-request", "on-worker"])
def test_webhook_sync_response(make_workflow, settings, inline):
    settings.WORKFLOWS_SYNC_WEBHOOK_TIMEOUT_SECONDS = 10
    settings.WORKFLOWS_SYNC_WEBHOOK_INLINE = inline
    workflow = make_workflow(
        [
            trigger(kind="trigger.webhook"),
            node(
                "reply",
                "respond_to_webhook",
                parameters={"status": 200, "headers": {"X-Answer": "42"}, "body": {"hi": "{{ input.name }}"}},
            ),
        ],
        chain("start", "reply"),
    )

    response = Client().post(_url(workflow), b'{"name": "Ada"}', content_type="application/json")

    assert response.status_code == 200, response.content
    assert response.json() == {"hi": "Ada"}
    assert response["X-Answer"] == "42"


def test_webhook_sync_timeout_falls_back_to_202(make_workflow, settings):
    settings.WORKFLOWS_SYNC_WEBHOOK_TIMEOUT_SECONDS = 0.2
    workflow = make_workflow(
        [
            trigger(kind="trigger.webhook"),
            node("wait", "delay", parameters={"seconds": 600}),
            node("reply", "respond_to_webhook"),
        ],
        chain("start", "wait", "reply"),
    )

    response = Client().post(_url(workflow), b"{}", content_type="application/json")

    assert response.status_code == 202, response.content


def test_webhook_of_workspace_being_deleted_is_not_found(hook, workspace):
    from django.utils import timezone

    type(workspace).objects.filter(pk=workspace.pk).update(deleting_at=timezone.now())

    response = Client().post(_url(hook), b"{}", content_type="application/json")

    assert response.status_code == 404, response.content
    assert response.json()["code"] == "not_found"
    assert not WorkflowExecution.objects.filter(workflow=hook).exists()


def _answering(make_workflow, *after: dict, **data):
    """Create a webhook workflow that responds to its caller, then runs the nodes `after` in a chain."""
    nodes = [
        trigger(kind="trigger.webhook"),
        node("reply", "respond_to_webhook", parameters={"body": {"hi": "{{ input.name }}"}}),
        *after,
    ]
    return make_workflow(nodes, chain("start", "reply", *(step["id"] for step in after)), **data)


def test_inline_webhook_needs_no_worker(make_workflow, django_capture_on_commit_callbacks):
    workflow = _answering(make_workflow, node("tail", "set", parameters={"values": {"done": True}}))

    with django_capture_on_commit_callbacks() as sent:
        response = Client().post(_url(workflow), b'{"name": "Ada"}', content_type="application/json")

    assert response.status_code == 200, response.content
    assert response.json() == {"hi": "Ada"}
    assert sent == []
    execution = WorkflowExecution.objects.get(workflow=workflow)
    assert execution.status == "succeeded"
    assert execution.dispatched_at is not None
    assert node_runs(execution)["tail"].output == {"done": True}


def test_inline_webhook_defers_side_effects(make_workflow, http_server, django_capture_on_commit_callbacks):
    workflow = _answering(make_workflow, node("notify", "http_request", parameters={"url": f"{http_server.url}/n"}))

    with django_capture_on_commit_callbacks() as sent:
        response = Client().post(_url(workflow), b'{"name": "Ada"}', content_type="application/json")
    execution = WorkflowExecution.objects.get(workflow=workflow)
    handed_off = execution.status

    assert response.json() == {"hi": "Ada"}
    assert handed_off == "queued"
    assert http_server.count("/n") == 0
    assert len(sent) == 1
    sent[0]()
    execution.refresh_from_db()
    assert execution.status == "succeeded"
    assert http_server.count("/n") == 1


@pytest.mark.django_db(transaction=True)
def test_inline_webhook_defers_unenforced_timeout(make_workflow, caplog):
    workflow = _answering(make_workflow, node("tail", "noop", timeout_seconds=5))
    responses = []

    def call() -> None:
        # Sent from a thread other than the main one, as in a threaded web server, where no timer can stop a node.
        responses.append(Client().post(_url(workflow), b'{"name": "Ada"}', content_type="application/json"))
        connection.close()

    with caplog.at_level("INFO", logger="workflows.engine"):
        caller = threading.Thread(target=call)
        caller.start()
        caller.join(timeout=30)

    # The handed-off rest runs as an eager task inside the hand-off, so its runner stops first.
    stops = [record.status for record in caplog.records if record.getMessage() == "Execution stopped"]
    assert responses[0].json() == {"hi": "Ada"}
    assert stops == ["succeeded", "queued"]
    assert WorkflowExecution.objects.get(workflow=workflow).status == "succeeded"


def test_inline_webhook_at_concurrency_limit(make_workflow, settings, django_capture_on_commit_callbacks):
    settings.WORKFLOWS_SYNC_WEBHOOK_TIMEOUT_SECONDS = 0.2
    workflow = _answering(make_workflow, settings={"max_concurrency": 1})
    WorkflowExecution.objects.create(
        workspace=workflow.workspace,
        workflow=workflow,
        status="running",
        lease_owner="elsewhere",
        lease_expires_at=timezone.now() + timedelta(minutes=5),
        workflow_data={"nodes": [], "edges": [], "settings": {"max_concurrency": 1}},
    )

    with django_capture_on_commit_callbacks() as sent:
        response = Client().post(_url(workflow), b'{"name": "Ada"}', content_type="application/json")

    assert response.status_code == 202, response.content
    assert len(sent) == 1
    assert WorkflowExecution.objects.filter(workflow=workflow, status="queued").count() == 1


def test_inline_webhook_replay_runs_once(make_workflow, django_capture_on_commit_callbacks):
    workflow = _answering(make_workflow)
    headers = {"HTTP_IDEMPOTENCY_KEY": "order-7"}
    first = Client().post(_url(workflow), b'{"name": "Ada"}', content_type="application/json", **headers)

    with django_capture_on_commit_callbacks() as sent:
        again = Client().post(_url(workflow), b'{"name": "Bob"}', content_type="application/json", **headers)

    assert first.json() == {"hi": "Ada"}
    assert again.json() == {"hi": "Ada"}
    assert sent == []
    assert WorkflowExecution.objects.filter(workflow=workflow).count() == 1
