"""Test runs: an unsaved graph, or one node of a saved workflow, run as an execution in mode `test`.

A test run starts in the request, under the same lease as a worker's run, and hands what is
left to a worker when it takes longer than `WORKFLOWS_TEST_SYNC_TIMEOUT_SECONDS`. Nodes that
reach outside Athena return their `sample_output` unless the test is live, and `pinned` fixes
the output of chosen nodes. Test executions have no version, are left out of the metrics and
are deleted after `WORKFLOWS_TEST_RETENTION_HOURS`.
"""

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from athena_site.api.errors import NotFound, ValidationFailed
from workflows.engine import execution_run
from workflows.models import (
    ExecutionMode,
    ExecutionStatus,
    Workflow,
    WorkflowExecution,
    WorkflowNodeRun,
    default_workflow_settings,
)
from workflows.nodes import node_type
from workflows.services.executions import execution_dispatch, trigger_payload
from workflows.validation import validate_graph

logger = logging.getLogger(__name__)

# Node types that choose a branch from their input: pinning one would hide that choice, so the
# node before them is pinned instead.
UNPINNABLE_TYPES = ("condition", "switch")


def _check_pinned(nodes: list[dict], pinned: dict[str, Any]) -> dict[str, list[str]]:
    """Return the problems of `pinned` (node id -> output) against the graph's nodes."""
    by_id = {node["id"]: node for node in nodes}
    errors: dict[str, list[str]] = {}
    for node_id, output in pinned.items():
        node = by_id.get(node_id)
        key = f"pinned.{node_id}"
        if node is None:
            errors[key] = [f"The graph has no node '{node_id}'."]
        elif node["type"] in UNPINNABLE_TYPES:
            errors[key] = [
                f"A {node['type']} node chooses its branch from its input and cannot be pinned; "
                "pin the node before it instead."
            ]
        elif node["type"] == "approval" and not (
            isinstance(output, dict) and output.get("decision") in ("approve", "reject")
        ):
            errors[key] = ['A pinned approval output needs "decision": "approve" or "reject".']
    return errors


def _check_trigger_node(nodes: list[dict], trigger_node: str | None) -> dict[str, list[str]]:
    if trigger_node is None:
        return {}
    node = next((node for node in nodes if node["id"] == trigger_node), None)
    kind = node_type(node["type"]) if node else None
    if kind is None or not kind.is_trigger:
        return {"trigger.node_id": [f"The graph has no trigger node '{trigger_node}'."]}
    return {}


def _test_snapshot(
    *, workflow: Workflow | None, nodes: list, edges: list, variables: dict, test: dict[str, Any]
) -> dict[str, Any]:
    # Default settings: a test must not start the workflow's error workflow or wait for its
    # concurrency limit.
    summary = {"id": str(workflow.pk), "name": workflow.name, "version": workflow.version} if workflow else None
    return {
        "workflow": summary,
        "nodes": nodes,
        "edges": edges,
        "variables": variables,
        "settings": default_workflow_settings(),
        "test": test,
    }


def _start(
    *, workspace_id: Any, workflow: Workflow | None, user: Any, payload: dict, snapshot: dict
) -> WorkflowExecution:
    """Store the test execution, run it here up to the sync timeout, and return it refreshed."""
    execution = WorkflowExecution.objects.create(
        workspace_id=workspace_id,
        workflow=workflow,
        version=workflow.versions.filter(number=workflow.version).first() if workflow else None,
        status=ExecutionStatus.QUEUED,
        mode=ExecutionMode.TEST,
        trigger_payload=payload,
        workflow_data=snapshot,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    logger.info("Test execution started", extra={"execution_id": str(execution.pk), "workspace_id": str(workspace_id)})

    # The row is committed before the run, so a web process that dies here leaves an undispatched
    # queued execution, which the reaper sends to a worker.
    ran = execution_run(execution_id=str(execution.pk), hand_off_after=settings.WORKFLOWS_TEST_SYNC_TIMEOUT_SECONDS)
    if ran is None:
        execution_dispatch(execution=execution)
    execution.refresh_from_db()
    return execution


def workflow_test_run(
    *,
    workspace: Any,
    user: Any,
    nodes: Any,
    edges: Any,
    variables: dict[str, Any] | None = None,
    trigger: dict[str, Any] | None = None,
    pinned: dict[str, Any] | None = None,
    live: bool = False,
) -> WorkflowExecution:
    """Validate an unsaved graph and run it as a test execution without a workflow.

    `trigger` is `{body, headers, query, method, node_id}`, all optional. `node_id` picks the
    trigger that starts the run, and without it every trigger starts it. Returns the execution,
    finished or still going. Raises ValidationFailed (422) for an invalid graph, a pinned node
    that does not exist or cannot be pinned, or an unknown trigger node. The caller checks
    that the user may run a live test.
    """
    nodes, edges, errors = validate_graph(nodes, edges)
    trigger = trigger or {}
    pinned = pinned or {}
    if not errors:
        errors = {**_check_pinned(nodes, pinned), **_check_trigger_node(nodes, trigger.get("node_id"))}
    if errors:
        raise ValidationFailed(errors=errors)

    payload = trigger_payload(
        body=trigger.get("body"),
        headers=trigger.get("headers"),
        query=trigger.get("query"),
        method=trigger.get("method") or "POST",
    )
    test = {"live": live, "pinned": pinned, "trigger_node": trigger.get("node_id")}
    snapshot = _test_snapshot(workflow=None, nodes=nodes, edges=edges, variables=variables or {}, test=test)
    return _start(workspace_id=workspace.pk, workflow=None, user=user, payload=payload, snapshot=snapshot)


def node_test_run(
    *,
    workflow: Workflow,
    node_id: str,
    user: Any,
    input: Any = None,
    pinned: dict[str, Any] | None = None,
    live: bool = False,
) -> tuple[WorkflowExecution, WorkflowNodeRun | None]:
    """Run one node of a saved workflow on `input`, as a test execution of that workflow.

    `pinned` gives the outputs of other nodes that the node's expressions read
    (`nodes.<id>.output`). Returns the execution and the node's run (None while queued).
    Raises NotFound when the workflow has no such node and ValidationFailed for bad `pinned`.
    """
    if not any(node["id"] == node_id for node in workflow.nodes):
        raise NotFound(f"The workflow has no node '{node_id}'.", code="node_not_found")
    pinned = pinned or {}
    errors = _check_pinned(workflow.nodes, pinned)
    if errors:
        raise ValidationFailed(errors=errors)

    test = {"live": live, "pinned": pinned, "node_id": node_id, "input": input}
    snapshot = _test_snapshot(
        workflow=workflow, nodes=workflow.nodes, edges=workflow.edges, variables=workflow.variables, test=test
    )
    execution = _start(
        workspace_id=workflow.workspace_id,
        workflow=workflow,
        user=user,
        payload=trigger_payload(body=input),
        snapshot=snapshot,
    )
    run = execution.node_runs.filter(node_id=node_id, item_index=-1).first()
    return execution, run


def executions_delete_old_tests() -> int:
    """Delete test executions older than WORKFLOWS_TEST_RETENTION_HOURS; return how many.

    Waiting and queued test executions are deleted too, because a forgotten test is never
    resumed. A running one is left to finish and is deleted by a later run of the task.
    """
    hours = settings.WORKFLOWS_TEST_RETENTION_HOURS
    if hours <= 0:
        return 0
    cutoff = timezone.now() - timedelta(hours=hours)
    old = WorkflowExecution.objects.filter(mode=ExecutionMode.TEST, created_at__lt=cutoff).exclude(
        status=ExecutionStatus.RUNNING
    )
    deleted = 0
    while ids := list(old.values_list("pk", flat=True)[:1000]):
        WorkflowExecution.objects.filter(pk__in=ids).delete()
        deleted += len(ids)
    if deleted:
        logger.info("Old test executions deleted", extra={"count": deleted})
    return deleted
