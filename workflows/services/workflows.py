"""Workflows: create, update (recording a version on every graph change), delete, run."""

import logging
from typing import Any

from django.db import transaction

from athena_site.api.errors import Conflict, ValidationFailed
from athena_site.crypto import Secret
from workflows.models import (
    ExecutionMode,
    Workflow,
    WorkflowExecution,
    WorkflowVersion,
    default_workflow_settings,
    trigger_types_of,
)
from workflows.schedules import schedule_remove, schedule_sync
from workflows.services.executions import execution_create, trigger_payload
from workflows.validation import validate_graph

logger = logging.getLogger(__name__)

GRAPH_FIELDS = ("nodes", "edges", "variables")
PLAIN_FIELDS = ("name", "description", "active", "webhook_rate_limit")


def _check_graph(nodes: Any, edges: Any) -> tuple[list[dict], list[dict]]:
    nodes, edges, errors = validate_graph(nodes, edges)
    if errors:
        raise ValidationFailed(errors=errors)
    return nodes, edges


def _schedule_from_nodes(workflow: Workflow) -> None:
    """Copy the trigger types, and the cron and time zone of the schedule trigger, onto the workflow."""
    workflow.trigger_types = trigger_types_of(workflow.nodes)
    trigger = next((node for node in workflow.nodes if node["type"] == "trigger.schedule"), None)
    if trigger is None or trigger.get("disabled"):
        workflow.schedule_cron = ""
        workflow.schedule_timezone = "UTC"
        return
    workflow.schedule_cron = " ".join(trigger["parameters"]["cron"].split())
    workflow.schedule_timezone = trigger["parameters"].get("timezone") or "UTC"


def _record_version(workflow: Workflow, user: Any, note: str) -> WorkflowVersion:
    return WorkflowVersion.objects.create(
        workflow=workflow,
        number=workflow.version,
        nodes=workflow.nodes,
        edges=workflow.edges,
        variables=workflow.variables,
        created_by=user if getattr(user, "is_authenticated", False) else None,
        note=note,
    )


def workflow_create(*, workspace: Any, user: Any, data: dict[str, Any]) -> Workflow:
    """Validate and store a workflow with its first version and, when scheduled, its periodic task.

    Raises ValidationFailed (422) listing every problem of the graph.
    """
    nodes, edges = _check_graph(data.get("nodes", []), data.get("edges", []))
    workflow = Workflow(
        workspace=workspace,
        created_by=user if getattr(user, "is_authenticated", False) else None,
        nodes=nodes,
        edges=edges,
        variables=data.get("variables") or {},
        settings={**default_workflow_settings(), **(data.get("settings") or {})},
    )
    for field in PLAIN_FIELDS:
        if field in data:
            setattr(workflow, field, data[field])
    if data.get("webhook_secret"):
        # Wrapped as the field gives it when read, so the response can check it with `reveal()`.
        workflow.webhook_secret = Secret(data["webhook_secret"])
    _schedule_from_nodes(workflow)

    with transaction.atomic():
        workflow.save()
        _record_version(workflow, user, data.get("version_note", "") or "Created.")
        schedule_sync(workflow=workflow)
    logger.info("Workflow created", extra={"workflow_id": str(workflow.pk), "workspace_id": str(workspace.pk)})
    return workflow


def workflow_update(*, workflow: Workflow, user: Any, data: dict[str, Any]) -> Workflow:
    """Apply changes; a changed graph is validated and recorded as a new version.

    The periodic task is rewritten with the new version, so a schedule fired for the old
    version does nothing. Raises ValidationFailed (422).
    """
    graph_changed = False
    if "nodes" in data or "edges" in data:
        nodes, edges = _check_graph(data.get("nodes", workflow.nodes), data.get("edges", workflow.edges))
        graph_changed = nodes != workflow.nodes or edges != workflow.edges
        workflow.nodes, workflow.edges = nodes, edges
    if "variables" in data and data["variables"] != workflow.variables:
        workflow.variables = data["variables"] or {}
        graph_changed = True
    for field in PLAIN_FIELDS:
        if field in data:
            setattr(workflow, field, data[field])
    if "settings" in data:
        workflow.settings = {**default_workflow_settings(), **workflow.settings, **(data["settings"] or {})}
    if "webhook_secret" in data:
        workflow.webhook_secret = Secret(data["webhook_secret"]) if data["webhook_secret"] else None
    _schedule_from_nodes(workflow)

    with transaction.atomic():
        if graph_changed:
            workflow.version += 1
        workflow.save()
        if graph_changed:
            _record_version(workflow, user, data.get("version_note", "") or "")
        schedule_sync(workflow=workflow)
    return workflow


def workflow_delete(*, workflow: Workflow) -> None:
    """Delete the workflow and its periodic task; its executions stay in the history."""
    with transaction.atomic():
        schedule_remove(workflow_id=workflow.pk)
        workflow.delete()


def workflow_run(
    *, workflow: Workflow, user: Any, body: Any, mode: str = ExecutionMode.API, headers: dict | None = None
) -> WorkflowExecution:
    """Queue an execution of an active workflow; raises Conflict (`workflow_inactive`) otherwise."""
    if not workflow.active:
        raise Conflict("The workflow is not active.", code="workflow_inactive")
    payload = trigger_payload(body=body, headers=headers or {}, method="POST")
    return execution_create(workflow=workflow, mode=mode, payload=payload, user=user)


def workflow_fire_schedule(*, workflow_id: str, version: int) -> WorkflowExecution | None:
    """Start a scheduled execution unless the workflow is gone, inactive or changed since the task was written."""
    workflow = Workflow.objects.filter(pk=workflow_id).first()
    if workflow is None or not workflow.active or workflow.version != version or not workflow.schedule_cron:
        return None
    return execution_create(
        workflow=workflow, mode=ExecutionMode.SCHEDULE, payload=trigger_payload(body={}, method="SCHEDULE")
    )
