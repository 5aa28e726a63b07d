"""The public webhook while the cache or the database fails: accepted, or 503 with Retry-After, never a 500.

The live-stack tests in test_service_faults.py stop the real services, and these check the same
responses in-process. The database fails through Django's query execution wrapper, which raises
the OperationalError a dropped connection raises, and the cache points at a closed port.
"""

from collections.abc import Callable
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.test import Client

from tests.factories import UserFactory, WorkspaceFactory
from tests.reliability.stack import free_port
from tests.workflows.conftest import chain, node, trigger
from workflows.models import WorkflowExecution
from workflows.services.workflows import workflow_create


@pytest.fixture
def make_workflow(db):
    owner = UserFactory()
    workspace = WorkspaceFactory(owner=owner)

    def make(nodes: list[dict], edges: list[dict], **data: Any):
        return workflow_create(
            workspace=workspace, user=owner, data={"name": "Flow", "nodes": nodes, "edges": edges, **data}
        )

    return make


@pytest.fixture
def hook(make_workflow):
    return make_workflow(
        [trigger(kind="trigger.webhook"), node("echo", "set", parameters={"values": {"got": "{{ input }}"}})],
        chain("start", "echo"),
        webhook_rate_limit=50,
    )


@pytest.fixture
def replying_workflow(make_workflow):
    """A webhook workflow that responds to its caller."""
    return make_workflow(
        [trigger(kind="trigger.webhook"), node("reply", "respond_to_webhook")], chain("start", "reply")
    )


@pytest.fixture
def unreachable_cache(settings):
    """Point the cache at a port on 127.0.0.1 where nothing listens, as when Redis is down."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


def _fail_queries(matches: Callable[[str], bool]) -> Callable:
    def wrapper(execute: Callable, sql: str, params: Any, many: bool, context: dict) -> Any:
        if matches(sql):
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    return wrapper


def _url(workflow) -> str:
    return f"/api/v1/hooks/{workflow.webhook_token}"


def test_webhook_rate_limit_without_cache_accepts(hook, unreachable_cache, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = Client().post(_url(hook), b'{"a": 1}', content_type="application/json")

    assert response.status_code == 202, response.content
    assert WorkflowExecution.objects.filter(pk=response.json()["data"]["execution_id"], status="queued").exists()
    assert len(callbacks) == 1


def test_webhook_database_down_is_503(hook):
    with connection.execute_wrapper(_fail_queries(lambda sql: True)):
        response = Client().post(_url(hook), b'{"a": 1}', content_type="application/json")

    assert response.status_code == 503, response.content
    assert response.json()["code"] == "service_unavailable"
    assert int(response["Retry-After"]) > 0
    assert not WorkflowExecution.objects.filter(workflow=hook).exists()


def test_webhook_database_down_on_insert_is_503(hook):
    with connection.execute_wrapper(_fail_queries(lambda sql: sql.startswith("INSERT"))):
        response = Client().post(
            _url(hook), b'{"a": 1}', content_type="application/json", HTTP_IDEMPOTENCY_KEY="order-7"
        )

    assert response.status_code == 503, response.content
    assert not WorkflowExecution.objects.filter(workflow=hook).exists()


def test_webhook_database_down_while_running_inline_is_202(replying_workflow, django_capture_on_commit_callbacks):
    workflow = replying_workflow

    # The execution is stored running; the runner's final write fails, so its lease runs out
    # and the reaper gives the execution to a worker.
    finishing = _fail_queries(lambda sql: sql.startswith("UPDATE") and '"workflows_workflowexecution"' in sql)
    with django_capture_on_commit_callbacks(), connection.execute_wrapper(finishing):
        response = Client().post(_url(workflow), b"{}", content_type="application/json")

    assert response.status_code == 202, response.content
    execution = WorkflowExecution.objects.get(pk=response.json()["data"]["execution_id"])
    assert execution.status == "running"
    assert execution.lease_expires_at is not None


def test_webhook_database_down_while_waiting_is_202(replying_workflow, django_capture_on_commit_callbacks, settings):
    # The request waits for a worker's response by polling the execution.
    settings.WORKFLOWS_SYNC_WEBHOOK_INLINE = False
    workflow = replying_workflow

    # The execution is stored; only the polling for its response fails.
    polling = _fail_queries(lambda sql: sql.startswith("SELECT") and '"response"' in sql)
    with django_capture_on_commit_callbacks(), connection.execute_wrapper(polling):
        response = Client().post(_url(workflow), b"{}", content_type="application/json")

    assert response.status_code == 202, response.content
    assert WorkflowExecution.objects.filter(pk=response.json()["data"]["execution_id"]).exists()
