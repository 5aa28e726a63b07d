"""Execution actions check object-limited token abilities against the execution's workflow."""

import pytest
from django.utils import timezone

from tests.workflow_lifecycle.conftest import greeting_graph
from tests.workspaces.conftest import client_for
from workflows.models import ExecutionMode, ExecutionStatus, NodeRunStatus, WorkflowExecution, WorkflowNodeRun
from workflows.services.executions import workflow_snapshot

pytestmark = pytest.mark.django_db


def _failed_execution(workflow):
    now = timezone.now()
    execution = WorkflowExecution.objects.create(
        workspace=workflow.workspace,
        workflow=workflow,
        status=ExecutionStatus.FAILED,
        mode=ExecutionMode.API,
        trigger_payload={"body": {}, "headers": {}, "query": {}, "method": "POST"},
        workflow_data=workflow_snapshot(workflow=workflow),
        started_at=now,
        finished_at=now,
        error={"message": "The node failed.", "node_id": "greet"},
    )
    WorkflowNodeRun.objects.create(
        execution=execution, node_id="start", node_type="trigger.manual", status=NodeRunStatus.SUCCEEDED, output={}
    )
    WorkflowNodeRun.objects.create(
        execution=execution, node_id="greet", node_type="set", status=NodeRunStatus.FAILED, error={"message": "x"}
    )
    return execution


def _retry(client, execution):
    return client.post(f"/api/v1/workflow-executions/{execution.pk}/retry", {}, format="json")


def test_retry_with_token_limited_to_the_workflow(owner, workflow, on_commit):
    execution = _failed_execution(workflow)
    client = client_for(owner, abilities=[f"workflows:run:{workflow.pk}"])

    with on_commit():
        response = _retry(client, execution)

    assert response.status_code == 202, response.content
    assert response.json()["data"]["retry_of"] == str(execution.pk)


def test_retry_token_for_other_workflow_403(owner, workflow, make_workflow):
    execution = _failed_execution(workflow)
    graph = greeting_graph()
    other = make_workflow(graph["nodes"], graph["edges"])
    client = client_for(owner, abilities=[f"workflows:run:{other.pk}"])

    response = _retry(client, execution)

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "insufficient_ability"


def test_retry_with_token_naming_the_execution_is_403(owner, workflow):
    execution = _failed_execution(workflow)
    client = client_for(owner, abilities=[f"workflows:run:{execution.pk}"])

    response = _retry(client, execution)

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "insufficient_ability"


def test_execution_read_with_token_limited_to_the_workflow(owner, workflow):
    execution = _failed_execution(workflow)
    client = client_for(owner, abilities=[f"executions:read:{workflow.pk}"])

    response = client.get(f"/api/v1/workflow-executions/{execution.pk}")

    assert response.status_code == 200, response.content
