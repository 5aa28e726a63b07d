"""Isolation matrix cases of the workflow and workflow-execution routes (collected by tests/isolation).

The public `hooks/{webhook_token}` route is allow-listed in tests/isolation/cases.py because its
token, not a user, authenticates it; tests/workflows/test_webhooks.py covers it.
"""

from django.utils import timezone

from tests.isolation.harness import EndpointCase
from workflows.models import ExecutionMode, ExecutionStatus, NodeRunStatus, WorkflowExecution, WorkflowNodeRun
from workflows.services.executions import workflow_snapshot
from workflows.services.workflows import workflow_create
from workspaces.models import Role

EDITOR = Role.EDITOR
GRAPH = {
    "nodes": [
        {"id": "start", "type": "trigger.manual", "parameters": {}},
        {"id": "ask", "type": "approval", "parameters": {"message": "Ship it?"}},
    ],
    "edges": [{"id": "e1", "source": "start", "target": "ask"}],
}
WORKFLOW_BODY = {"name": "Injected", **GRAPH}


def _workflow(world):
    return workflow_create(workspace=world.workspace, user=world.owner, data={"name": "Victim flow", **GRAPH})


def _execution(world, status: str):
    """Store an execution of a victim workflow directly, so no task runs while the case is arranged."""
    workflow = _workflow(world)
    now = timezone.now()
    finished = status in (ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED, ExecutionStatus.CANCELED)
    return WorkflowExecution.objects.create(
        workspace=world.workspace,
        workflow=workflow,
        status=status,
        mode=ExecutionMode.API,
        trigger_payload={"body": {}, "headers": {}, "query": {}, "method": "POST"},
        workflow_data=workflow_snapshot(workflow=workflow),
        started_at=now,
        finished_at=now if finished else None,
        error={"message": "The approval failed.", "node_id": "ask"} if status == ExecutionStatus.FAILED else None,
    )


def _failed_execution(world):
    execution = _execution(world, ExecutionStatus.FAILED)
    WorkflowNodeRun.objects.create(
        execution=execution, node_id="start", node_type="trigger.manual", status=NodeRunStatus.SUCCEEDED, output={}
    )
    WorkflowNodeRun.objects.create(
        execution=execution,
        node_id="ask",
        node_type="approval",
        status=NodeRunStatus.FAILED,
        error={"message": "The approval failed.", "node_id": "ask"},
    )
    return execution


def _waiting_execution(world):
    execution = _execution(world, ExecutionStatus.WAITING)
    WorkflowNodeRun.objects.create(
        execution=execution, node_id="start", node_type="trigger.manual", status=NodeRunStatus.SUCCEEDED, output={}
    )
    WorkflowNodeRun.objects.create(
        execution=execution,
        node_id="ask",
        node_type="approval",
        status=NodeRunStatus.RUNNING,
        state={"waiting": True, "message": "Ship it?"},
    )
    return execution


def _workflow_url(world, workflow):
    return f"/api/v1/workflows/{workflow.pk}"


def _execution_url(world, execution):
    return f"/api/v1/workflow-executions/{execution.pk}"


CASES = [
    # Workflows
    EndpointCase("workflows", "GET", lambda w, o: "/api/v1/workflows", "workflows:read", scope="context"),
    EndpointCase(
        "workflows",
        "POST",
        lambda w, o: "/api/v1/workflows",
        "workflows:write",
        min_role=EDITOR,
        scope="context",
        body=WORKFLOW_BODY,
    ),
    EndpointCase("workflows/{pk}", "GET", _workflow_url, "workflows:read", factory=_workflow),
    EndpointCase(
        "workflows/{pk}",
        "PUT",
        _workflow_url,
        "workflows:write",
        min_role=EDITOR,
        factory=_workflow,
        body=WORKFLOW_BODY,
    ),
    EndpointCase(
        "workflows/{pk}",
        "PATCH",
        _workflow_url,
        "workflows:write",
        min_role=EDITOR,
        factory=_workflow,
        body={"active": False},
    ),
    EndpointCase("workflows/{pk}", "DELETE", _workflow_url, "workflows:delete", min_role=EDITOR, factory=_workflow),
    EndpointCase(
        "workflows/{pk}/run",
        "POST",
        lambda w, workflow: f"/api/v1/workflows/{workflow.pk}/run",
        "workflows:run",
        min_role=EDITOR,
        factory=_workflow,
        body={"input": {"order": 1}},
    ),
    EndpointCase(
        "workflows/{pk}/webhook",
        "POST",
        lambda w, workflow: f"/api/v1/workflows/{workflow.pk}/webhook",
        "workflows:run",
        min_role=EDITOR,
        factory=_workflow,
        body={"body": {"order": 1}, "headers": {"X-Source": "isolation"}},
    ),
    # Workflow executions
    EndpointCase(
        "workflow-executions",
        "GET",
        lambda w, o: "/api/v1/workflow-executions",
        "executions:read",
        scope="context",
        factory=_failed_execution,
    ),
    EndpointCase(
        "workflow-executions/counts",
        "GET",
        lambda w, o: "/api/v1/workflow-executions/counts",
        "executions:read",
        scope="context",
        factory=_failed_execution,
    ),
    EndpointCase("workflow-executions/{pk}", "GET", _execution_url, "executions:read", factory=_failed_execution),
    EndpointCase(
        "workflow-executions/{pk}",
        "DELETE",
        _execution_url,
        "executions:delete",
        min_role=EDITOR,
        factory=_failed_execution,
    ),
    EndpointCase(
        "workflow-executions/{pk}/cancel",
        "POST",
        lambda w, execution: f"/api/v1/workflow-executions/{execution.pk}/cancel",
        "executions:write",
        min_role=EDITOR,
        factory=_waiting_execution,
    ),
    EndpointCase(
        "workflow-executions/{pk}/retry",
        "POST",
        lambda w, execution: f"/api/v1/workflow-executions/{execution.pk}/retry",
        "workflows:run",
        min_role=EDITOR,
        factory=_failed_execution,
        body={},
    ),
    EndpointCase(
        "workflow-executions/{pk}/resume",
        "POST",
        lambda w, execution: f"/api/v1/workflow-executions/{execution.pk}/resume",
        "executions:write",
        min_role=EDITOR,
        factory=_waiting_execution,
        body={"node_id": "ask", "decision": "approve"},
    ),
]
