"""Reads and permission scoping of the workflows app."""

import uuid
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet

from workflows.models import ExecutionStatus, Workflow, WorkflowExecution


def workflow_list(*, workspace_ids: list[uuid.UUID]) -> QuerySet[Workflow]:
    return Workflow.objects.filter(workspace_id__in=workspace_ids, workspace__deleting_at__isnull=True)


def workflow_filter(
    *, workflows: QuerySet[Workflow], active: bool | None = None, search: str = "", trigger_type: str | None = None
) -> QuerySet[Workflow]:
    """Narrow `workflows` by active flag, text in the name or description, and trigger node type."""
    if active is not None:
        workflows = workflows.filter(active=active)
    if search:
        workflows = workflows.filter(Q(name__icontains=search) | Q(description__icontains=search))
    if trigger_type:
        workflows = workflows.filter(trigger_types__contains=f",{trigger_type},")
    return workflows


def execution_list(*, workspace_ids: list[uuid.UUID]) -> QuerySet[WorkflowExecution]:
    return WorkflowExecution.objects.filter(
        workspace_id__in=workspace_ids, workspace__deleting_at__isnull=True
    ).select_related("workflow")


def execution_counts(*, executions: QuerySet[WorkflowExecution]) -> dict[str, int]:
    """Count executions by status, every status present (0 when none)."""
    counts = dict.fromkeys(ExecutionStatus.values, 0)
    for row in executions.order_by().values("status").annotate(total=Count("id")):
        counts[row["status"]] = row["total"]
    counts["total"] = sum(counts.values())
    return counts


def workflows_count(
    workspace_ids: list[uuid.UUID], date_from: datetime | None, date_to: datetime | None
) -> dict[Any, int]:
    """Count workflows per workspace created within the range, for workspace metrics."""
    return _count(Workflow.objects.filter(workspace_id__in=workspace_ids), date_from, date_to)


def executions_count(
    workspace_ids: list[uuid.UUID], date_from: datetime | None, date_to: datetime | None
) -> dict[Any, int]:
    return _count(WorkflowExecution.objects.filter(workspace_id__in=workspace_ids), date_from, date_to)


def _count(queryset: QuerySet, date_from: datetime | None, date_to: datetime | None) -> dict[Any, int]:
    if date_from is not None:
        queryset = queryset.filter(created_at__gte=date_from)
    if date_to is not None:
        queryset = queryset.filter(created_at__lte=date_to)
    rows = queryset.values("workspace_id").annotate(total=Count("id")).values_list("workspace_id", "total")
    return dict(rows)


def workflow_exists(workspace_id: uuid.UUID, reference_id: uuid.UUID) -> bool:
    return Workflow.objects.filter(workspace_id=workspace_id, pk=reference_id).exists()


def execution_exists(workspace_id: uuid.UUID, reference_id: uuid.UUID) -> bool:
    return WorkflowExecution.objects.filter(workspace_id=workspace_id, pk=reference_id).exists()
