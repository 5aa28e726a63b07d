"""With a real Celery worker: a test run that outlasts the sync timeout is finished by the worker."""

import time

import pytest

from tests.workflow_testing.conftest import headers_for
from tests.workflows.conftest import chain, node, trigger
from workflows.models import WorkflowExecution

# The first test to use the worker fixture waits for the worker to start, which takes long on a
# loaded machine.
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]


def _wait_for_status(execution_id: str, status: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if WorkflowExecution.objects.filter(pk=execution_id, status=status).exists():
            return True
        time.sleep(0.2)
    return False


def test_handed_off_run_finishes_on_worker(celery_worker_process, owner_client, workspace, settings):
    settings.WORKFLOWS_TEST_SYNC_TIMEOUT_SECONDS = 0
    body = {
        "nodes": [trigger(), node("shape", "set", parameters={"values": {"total": "{{ input.total }}"}})],
        "edges": chain("start", "shape"),
        "trigger": {"body": {"total": 9}},
    }

    response = owner_client.post("/api/v1/workflows/test", body, format="json", **headers_for(workspace))

    assert response.status_code == 202, response.content
    execution_id = response.json()["data"]["id"]
    assert _wait_for_status(execution_id, "succeeded", 30)
    detail = owner_client.get(f"/api/v1/workflow-executions/{execution_id}")
    assert detail.json()["data"]["mode"] == "test"
    assert detail.json()["data"]["data"]["output"] == {"total": 9}
