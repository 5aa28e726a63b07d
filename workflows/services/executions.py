"""Executions: create and dispatch, cancel, resume, retry, delete, and the periodic recoveries."""

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from athena_site.api.errors import Conflict, ValidationFailed
from workflows.models import (
    FINISHED_STATUSES,
    ExecutionMode,
    ExecutionStatus,
    NodeRunStatus,
    Workflow,
    WorkflowExecution,
    WorkflowNodeRun,
)

logger = logging.getLogger(__name__)


def execution_dispatch(*, execution: WorkflowExecution) -> None:
    """Record the send time and queue `workflows.run_execution` once the transaction commits.

    A send that fails after the commit is logged, not raised: the execution is already stored
    and the reaper sends it again.
    """
    now = timezone.now()
    WorkflowExecution.objects.filter(pk=execution.pk).update(dispatched_at=now)
    execution.dispatched_at = now
    _send_on_commit(execution)


def _send_on_commit(execution: WorkflowExecution) -> None:
    from workflows.tasks import run_execution

    run_execution.delay_on_commit(str(execution.pk))


def workflow_snapshot(*, workflow: Workflow) -> dict[str, Any]:
    return {
        "workflow": {"id": str(workflow.pk), "name": workflow.name, "version": workflow.version},
        "nodes": workflow.nodes,
        "edges": workflow.edges,
        "variables": workflow.variables,
        "settings": workflow.settings,
    }


def trigger_payload(
    *, body: Any = None, headers: dict | None = None, query: dict | None = None, method: str = "POST"
) -> dict:
    return {"body": body, "headers": headers or {}, "query": query or {}, "method": method}


def execution_create(
    *,
    workflow: Workflow,
    mode: str,
    payload: dict[str, Any],
    user: Any = None,
    idempotency_key: str | None = None,
    snapshot: dict[str, Any] | None = None,
    dispatch: bool = True,
    runner_id: str | None = None,
    **fields: Any,
) -> WorkflowExecution:
    """Store a queued execution over the workflow's current graph and queue it on commit.

    With `dispatch=False` nothing is sent to a worker: the caller runs the execution itself
    right away. The send time is recorded either way, so if the caller dies first, the reaper
    sends the execution after `WORKFLOWS_QUEUED_RESEND_SECONDS`.

    With `runner_id` (and `dispatch=False`), the execution is stored already running under that
    runner's lease, for a caller that runs it right away with `execution_run(leased=...)`. Only
    for workflows without `max_concurrency`, whose admission needs `execution_acquire`. A caller
    that dies leaves a lease that runs out, and the reaper gives the execution to a worker.

    Raises IntegrityError when `idempotency_key` is taken for the workflow; callers that pass a
    key handle it.
    """
    data = snapshot or workflow_snapshot(workflow=workflow)
    # A retry may run an older snapshot; the execution points at the version it actually runs.
    version_number = (data.get("workflow") or {}).get("version", workflow.version)
    if version_number == workflow.version and hasattr(workflow, "current_version_id"):
        # The caller read the workflow with its current version's id, which saves a query.
        version_id = workflow.current_version_id
    else:
        version_id = workflow.versions.filter(number=version_number).values_list("pk", flat=True).first()
    now = timezone.now()
    if runner_id is not None:
        timeout = (data.get("settings") or {}).get("timeout_seconds")
        fields = {
            **fields,
            "status": ExecutionStatus.RUNNING,
            "lease_owner": runner_id,
            "lease_expires_at": now + timedelta(seconds=settings.WORKFLOWS_LEASE_SECONDS),
            "started_at": now,
            "deadline_at": now + timedelta(seconds=float(timeout)) if timeout else None,
        }
    execution = WorkflowExecution(
        workspace_id=workflow.workspace_id,
        workflow=workflow,
        version_id=version_id,
        status=ExecutionStatus.QUEUED,
        mode=mode,
        trigger_payload=payload,
        idempotency_key=idempotency_key,
        workflow_data=data,
        created_by=user if getattr(user, "is_authenticated", False) else None,
        dispatched_at=now,
    )
    for name, value in fields.items():
        setattr(execution, name, value)
    if Workflow._meta.get_field("workspace").is_cached(workflow):
        # The runner reads the workspace, so a caller that loaded it saves that query.
        execution.workspace = workflow.workspace
    execution.save(force_insert=True)
    if dispatch:
        _send_on_commit(execution)
    logger.info(
        "Execution created",
        extra={
            "execution_id": str(execution.pk),
            "workflow_id": str(workflow.pk),
            "mode": mode,
            "status": execution.status,
        },
    )
    return execution


def execution_create_child(
    *, parent: WorkflowExecution, node_id: str, workflow_id: str, payload: Any
) -> WorkflowExecution | None:
    """Start a sub-workflow of `parent`'s workspace; None when no such workflow exists there."""
    from workspaces.selectors import parse_uuid

    workflow = Workflow.objects.filter(pk=parse_uuid(workflow_id), workspace_id=parent.workspace_id).first()
    if workflow is None:
        return None
    return execution_create(
        workflow=workflow,
        mode=ExecutionMode.SUB_WORKFLOW,
        payload=trigger_payload(body=payload),
        parent_execution=parent,
        parent_node_id=node_id,
        depth=parent.depth + 1,
    )


def _apply_data_policy(execution: WorkflowExecution) -> None:
    policy = (execution.workflow_data.get("settings") or {}).get("save_execution_data", "all")
    if policy == "none" or (policy == "errors" and execution.status == ExecutionStatus.SUCCEEDED):
        WorkflowNodeRun.objects.filter(execution=execution).update(input=None, output=None)


def execution_after_finish(*, execution: WorkflowExecution) -> None:
    """Apply the data policy, wake a waiting parent, admit the next queued execution, start the error workflow.

    Call inside the transaction that finishes the execution.
    """
    _apply_data_policy(execution)

    if execution.parent_execution_id:
        woken = WorkflowExecution.objects.filter(
            pk=execution.parent_execution_id, status=ExecutionStatus.WAITING
        ).update(status=ExecutionStatus.QUEUED, resume_at=None)
        if woken:
            execution_dispatch(execution=WorkflowExecution(pk=execution.parent_execution_id))

    limit = int((execution.workflow_data.get("settings") or {}).get("max_concurrency") or 0)
    if limit > 0 and execution.workflow_id:
        waiting = (
            WorkflowExecution.objects.filter(workflow_id=execution.workflow_id, status=ExecutionStatus.QUEUED)
            .order_by("created_at")
            .first()
        )
        if waiting is not None:
            execution_dispatch(execution=waiting)

    if execution.status == ExecutionStatus.FAILED and execution.mode != ExecutionMode.ERROR:
        _start_error_workflow(execution)


def _start_error_workflow(execution: WorkflowExecution) -> None:
    from workspaces.selectors import parse_uuid

    error_workflow_id = (execution.workflow_data.get("settings") or {}).get("error_workflow")
    if not error_workflow_id:
        return
    workflow = Workflow.objects.filter(pk=parse_uuid(error_workflow_id), workspace_id=execution.workspace_id).first()
    if workflow is None:
        logger.warning("Error workflow not found", extra={"execution_id": str(execution.pk)})
        return
    body = {
        "execution": {"id": str(execution.pk), "mode": execution.mode},
        "workflow": (execution.workflow_data or {}).get("workflow"),
        "error": execution.error,
    }
    execution_create(workflow=workflow, mode=ExecutionMode.ERROR, payload=trigger_payload(body=body))


def execution_cancel(*, execution: WorkflowExecution) -> WorkflowExecution:
    """Cancel a queued, running or waiting execution; a running one stops before its next node.

    Raises Conflict (`execution_finished`) when it already finished.
    """
    now = timezone.now()
    with transaction.atomic():
        updated = (
            WorkflowExecution.objects.filter(pk=execution.pk)
            .exclude(status__in=FINISHED_STATUSES)
            .update(
                status=ExecutionStatus.CANCELED,
                finished_at=now,
                resume_at=None,
                lease_owner="",
                lease_expires_at=None,
                error={"message": "The execution was canceled.", "code": "canceled"},
            )
        )
        if not updated:
            raise Conflict("The execution has already finished.", code="execution_finished")
        WorkflowNodeRun.objects.filter(
            execution=execution, status__in=[NodeRunStatus.PENDING, NodeRunStatus.RUNNING]
        ).update(status=NodeRunStatus.SKIPPED, state={}, finished_at=now, error={"message": "Canceled."})
        execution.refresh_from_db()
        execution_after_finish(execution=execution)
    logger.info("Execution canceled", extra={"execution_id": str(execution.pk)})
    return execution


def execution_resume(
    *, execution: WorkflowExecution, node_id: str, decision: str, data: Any, user: Any
) -> WorkflowExecution:
    """Record a person's decision on a waiting approval node and queue the execution.

    Raises Conflict (`execution_not_waiting`) unless the execution waits on that approval node.
    """
    with transaction.atomic():
        locked = WorkflowExecution.objects.select_for_update().get(pk=execution.pk)
        run = (
            WorkflowNodeRun.objects.select_for_update()
            .filter(execution=locked, node_id=node_id, node_type="approval", status=NodeRunStatus.RUNNING)
            .first()
        )
        if locked.status != ExecutionStatus.WAITING or run is None or not (run.state or {}).get("waiting"):
            raise Conflict("The execution is not waiting for an approval on that node.", code="execution_not_waiting")
        run.state = {**run.state, "decision": decision, "data": data, "decided_by": str(user.pk) if user else None}
        run.save(update_fields=["state"])
        locked.status = ExecutionStatus.QUEUED
        locked.resume_at = None
        locked.save(update_fields=["status", "resume_at", "updated_at"])
        execution_dispatch(execution=locked)
    return locked


def _failed_node(execution: WorkflowExecution) -> str | None:
    """Return the node whose failure stopped the execution (not one whose error went to a handle)."""
    failed = execution.node_runs.filter(status=NodeRunStatus.FAILED, item_index=-1).order_by("finished_at")
    for run in failed:
        if "error" not in (run.handles or []):
            return run.node_id
    return None


def _descendants(node_id: str, edges: list[dict]) -> set[str]:
    found = {node_id}
    frontier = [node_id]
    while frontier:
        current = frontier.pop()
        for edge in edges:
            if edge["source"] == current and edge["target"] not in found:
                found.add(edge["target"])
                frontier.append(edge["target"])
    return found


def execution_retry(
    *, execution: WorkflowExecution, user: Any, from_node: str | None = None, use_latest_version: bool = False
) -> WorkflowExecution:
    """Start a `retry` execution that reuses the results of nodes before the failed node (or `from_node`).

    Raises Conflict when the execution has not finished, its workflow is gone, or its node
    data was not saved; ValidationFailed when `from_node` is not in the graph.
    """
    if execution.status not in FINISHED_STATUSES:
        raise Conflict("Only a finished execution can be retried.", code="execution_not_finished")
    if execution.workflow_id is None and execution.mode == ExecutionMode.TEST:
        raise Conflict(
            "A test run of an unsaved graph cannot be retried; send the graph to workflows/test again.",
            code="test_execution_not_retryable",
        )
    if execution.workflow_id is None:
        raise Conflict("The workflow of this execution was deleted.", code="workflow_deleted")
    snapshot = execution.workflow_data
    if use_latest_version:
        snapshot = workflow_snapshot(workflow=execution.workflow)
    if (snapshot.get("settings") or {}).get("save_execution_data", "all") == "none":
        raise Conflict(
            "The node results of this execution were not saved, so none can be reused.", code="execution_data_not_saved"
        )
    node_ids = {node["id"] for node in snapshot.get("nodes", [])}
    start = from_node or _failed_node(execution)
    if from_node is not None and from_node not in node_ids:
        raise ValidationFailed(errors={"from_node": [f"The graph has no node '{from_node}'."]})
    rerun = _descendants(start, snapshot.get("edges", [])) if start else set()

    with transaction.atomic():
        retry = execution_create(
            workflow=execution.workflow,
            mode=ExecutionMode.RETRY,
            payload=execution.trigger_payload,
            user=user,
            snapshot=snapshot,
            retry_of=execution,
        )
        if start is not None:
            reused = [
                WorkflowNodeRun(
                    execution=retry,
                    node_id=run.node_id,
                    node_type=run.node_type,
                    item_index=run.item_index,
                    status=run.status,
                    input=run.input,
                    output=run.output,
                    handles=run.handles,
                    attempts=run.attempts,
                    reused=True,
                    started_at=run.started_at,
                    finished_at=run.finished_at,
                )
                for run in execution.node_runs.filter(status__in=[NodeRunStatus.SUCCEEDED, NodeRunStatus.SKIPPED])
                if run.node_id in node_ids and run.node_id not in rerun
            ]
            WorkflowNodeRun.objects.bulk_create(reused)
    return retry


def execution_delete(*, execution: WorkflowExecution) -> None:
    execution.delete()


def executions_reap() -> dict[str, int]:
    """Re-queue executions whose runner stopped renewing its lease and re-send lost `queued` messages.

    An execution taken back more than WORKFLOWS_MAX_RECOVERIES times fails instead.
    Returns counts: `recovered`, `failed`, `resent`.
    """
    now = timezone.now()
    counts = {"recovered": 0, "failed": 0, "resent": 0}
    expired = WorkflowExecution.objects.filter(status=ExecutionStatus.RUNNING, lease_expires_at__lt=now).values_list(
        "pk", flat=True
    )
    for execution_id in list(expired[:500]):
        with transaction.atomic():
            execution = (
                WorkflowExecution.objects.select_for_update()
                .filter(pk=execution_id, status=ExecutionStatus.RUNNING, lease_expires_at__lt=now)
                .first()
            )
            if execution is None:
                continue
            if execution.recoveries >= settings.WORKFLOWS_MAX_RECOVERIES:
                execution.status = ExecutionStatus.FAILED
                execution.finished_at = now
                execution.lease_owner = ""
                execution.lease_expires_at = None
                execution.error = {
                    "message": f"The execution lost its runner {execution.recoveries + 1} times and was stopped.",
                    "code": "execution_recoveries_exhausted",
                }
                execution.save()
                execution_after_finish(execution=execution)
                counts["failed"] += 1
                logger.error("Execution failed after repeated recoveries", extra={"execution_id": str(execution.pk)})
                continue
            execution.status = ExecutionStatus.QUEUED
            execution.recoveries += 1
            execution.lease_owner = ""
            execution.lease_expires_at = None
            execution.save(update_fields=["status", "recoveries", "lease_owner", "lease_expires_at", "updated_at"])
            execution_dispatch(execution=execution)
            counts["recovered"] += 1
            logger.warning("Execution recovered from a lost runner", extra={"execution_id": str(execution.pk)})

    stale = now - timedelta(seconds=settings.WORKFLOWS_QUEUED_RESEND_SECONDS)
    lost = WorkflowExecution.objects.filter(status=ExecutionStatus.QUEUED).filter(
        Q(dispatched_at__lt=stale) | Q(dispatched_at__isnull=True)
    )
    for execution in lost[:500]:
        with transaction.atomic():
            execution_dispatch(execution=execution)
        counts["resent"] += 1
    return counts


def executions_resume_due() -> int:
    """Queue every waiting execution whose `resume_at` has come (delays, approval timeouts, retry backoff)."""
    now = timezone.now()
    resumed = 0
    due = WorkflowExecution.objects.filter(status=ExecutionStatus.WAITING, resume_at__lte=now).values_list(
        "pk", flat=True
    )
    for execution_id in list(due[:1000]):
        with transaction.atomic():
            claimed = WorkflowExecution.objects.filter(
                pk=execution_id, status=ExecutionStatus.WAITING, resume_at__lte=now
            ).update(status=ExecutionStatus.QUEUED, resume_at=None)
            if claimed:
                execution_dispatch(execution=WorkflowExecution(pk=execution_id))
                resumed += 1
    return resumed


def executions_delete_old() -> int:
    """Delete finished executions older than WORKFLOWS_RETENTION_DAYS; return how many."""
    days = settings.WORKFLOWS_RETENTION_DAYS
    if days <= 0:
        return 0
    cutoff = timezone.now() - timedelta(days=days)
    old = WorkflowExecution.objects.filter(status__in=FINISHED_STATUSES, created_at__lt=cutoff)
    deleted = 0
    # Batches keep each delete (and its cascade to node runs) short.
    while ids := list(old.values_list("pk", flat=True)[:1000]):
        WorkflowExecution.objects.filter(pk__in=ids).delete()
        deleted += len(ids)
    return deleted


def execution_get_or_none(*, execution_id: Any) -> WorkflowExecution | None:
    return WorkflowExecution.objects.filter(pk=execution_id).first()
