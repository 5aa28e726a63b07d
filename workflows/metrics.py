"""Metric sources of the workflows app: workflows created and executions started over time."""

import uuid
from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet

from athena_site.metrics import MetricSource
from workflows.models import ExecutionMode, ExecutionStatus, Workflow, WorkflowExecution


def workflows_for_metrics(workspace_id: uuid.UUID, filters: Mapping[str, Any]) -> QuerySet[Workflow]:
    """Return the workflows of one workspace, for the workflows metric."""
    workflows = Workflow.objects.filter(workspace_id=workspace_id)
    if filters.get("workflow"):
        workflows = workflows.filter(pk=filters["workflow"])
    return workflows


def executions_for_metrics(workspace_id: uuid.UUID, filters: Mapping[str, Any]) -> QuerySet[WorkflowExecution]:
    """Return the executions of one workspace narrowed by workflow and status, for the executions metric.

    Test runs are left out, because they measure someone building a workflow, not the workflow working.
    """
    executions = WorkflowExecution.objects.filter(workspace_id=workspace_id).exclude(mode=ExecutionMode.TEST)
    if filters.get("workflow"):
        executions = executions.filter(workflow_id=filters["workflow"])
    if filters.get("status"):
        executions = executions.filter(status=filters["status"])
    return executions


WORKFLOWS = MetricSource(
    name="workflows",
    ability="workflows:read",
    queryset=workflows_for_metrics,
    filters={"workflow": "uuid"},
)

WORKFLOW_EXECUTIONS = MetricSource(
    name="workflow-executions",
    ability="executions:read",
    queryset=executions_for_metrics,
    filters={"workflow": "uuid", "status": tuple(ExecutionStatus.values)},
    breakdown="status",
    breakdown_values=tuple(ExecutionStatus.values),
)
