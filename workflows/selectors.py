"""Reads and permission scoping of the workflows app."""

import uuid
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet

from workflows.models import ExecutionMode, ExecutionStatus, Workflow, WorkflowExecution


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
    """Count executions per workspace created within the range, test runs left out, for workspace metrics."""
    executions = WorkflowExecution.objects.filter(workspace_id__in=workspace_ids).exclude(mode=ExecutionMode.TEST)
    return _count(executions, date_from, date_to)


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


# --- shares -----------------------------------------------------------------------------------

WORKFLOW_SHARE_TARGET = "workflow"
_SHARE_PERMISSION_RANK = {"view": 1, "run": 2, "edit": 3}


def workflow_shared_with_user(*, user: Any) -> QuerySet[Workflow]:
    """Return the workflows other workspaces shared with `user` through a user grant."""
    from agents.models import Share

    granted = Share.objects.filter(target_type=WORKFLOW_SHARE_TARGET, user=user).values("target_id")
    return Workflow.objects.filter(pk__in=granted, workspace__deleting_at__isnull=True)


def workflow_share_permission(*, workflow: Workflow, user: Any) -> str | None:
    """Return the strongest permission (`view`, `run`, `edit`) of the shares of `workflow` with `user`, or None."""
    from agents.models import Share

    if not getattr(user, "is_authenticated", False):
        return None
    permissions = Share.objects.filter(target_type=WORKFLOW_SHARE_TARGET, target_id=workflow.pk, user=user).values_list(
        "permission", flat=True
    )
    return max(permissions, key=lambda permission: _SHARE_PERMISSION_RANK.get(permission, 0), default=None)


def workflow_find_by_share_token(*, token: str) -> tuple[Any, Workflow] | None:
    """Return `(share, workflow)` for a public link token, or None for an unknown token or a deleted workflow."""
    from agents.selectors import share_find_public

    share = share_find_public(token=token, target_type=WORKFLOW_SHARE_TARGET)
    if share is None:
        return None
    workflow = Workflow.objects.filter(pk=share.target_id, workspace__deleting_at__isnull=True).first()
    return (share, workflow) if workflow is not None else None
