"""Workflow versions: read them, compare two of them, and restore one as a new version."""

import logging
from typing import Any

from django.db.models import QuerySet

from athena_site.api.errors import Conflict, NotFound
from workflows.models import Workflow, WorkflowVersion
from workflows.services.workflows import workflow_update

logger = logging.getLogger(__name__)

# Node fields compared one by one; `parameters` is compared key by key.
_NODE_FIELDS = (
    "type",
    "name",
    "position",
    "disabled",
    "notes",
    "retry",
    "timeout_seconds",
    "on_error",
    "sample_output",
)
_EDGE_KEY_FIELDS = ("source", "target", "source_handle", "target_handle")


def version_list(*, workflow: Workflow) -> QuerySet[WorkflowVersion]:
    """Return the workflow's versions, newest first."""
    return workflow.versions.select_related("created_by").order_by("-number")


def version_get(*, workflow: Workflow, number: Any) -> WorkflowVersion:
    """Return version `number` of the workflow; raises NotFound for an unknown or malformed number."""
    try:
        number = int(str(number))
    except ValueError:
        raise NotFound("The workflow has no such version.") from None
    version = workflow.versions.filter(number=number).select_related("created_by").first() if number > 0 else None
    if version is None:
        raise NotFound(f"The workflow has no version {number}.")
    return version


def _changes(before: dict[str, Any], after: dict[str, Any], keys: Any) -> dict[str, dict[str, Any]]:
    return {key: {"from": before.get(key), "to": after.get(key)} for key in keys if before.get(key) != after.get(key)}


def _edge_key(edge: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(edge.get(name, "main")) for name in _EDGE_KEY_FIELDS)


def version_diff(*, old: WorkflowVersion, new: WorkflowVersion) -> dict[str, Any]:
    """Compare two versions: nodes added, removed and changed (with the changed fields and parameters),
    edges added and removed, and variables added, removed and changed.

    Nodes are matched by id and edges by source, target and handles, so an edge whose id alone
    changed is not reported.
    """
    old_nodes = {node["id"]: node for node in old.nodes}
    new_nodes = {node["id"]: node for node in new.nodes}
    changed = []
    for node_id in (node_id for node_id in new_nodes if node_id in old_nodes):
        before, after = old_nodes[node_id], new_nodes[node_id]
        fields = _changes(before, after, _NODE_FIELDS)
        old_parameters, new_parameters = before.get("parameters") or {}, after.get("parameters") or {}
        parameters = _changes(old_parameters, new_parameters, sorted(set(old_parameters) | set(new_parameters)))
        if fields or parameters:
            changed.append(
                {"id": node_id, "name": after.get("name", node_id), "fields": fields, "parameters": parameters}
            )

    old_edges = {_edge_key(edge): edge for edge in old.edges}
    new_edges = {_edge_key(edge): edge for edge in new.edges}
    old_variables, new_variables = old.variables or {}, new.variables or {}
    return {
        "from_version": old.number,
        "to_version": new.number,
        "nodes": {
            "added": [node for node_id, node in new_nodes.items() if node_id not in old_nodes],
            "removed": [node for node_id, node in old_nodes.items() if node_id not in new_nodes],
            "changed": changed,
        },
        "edges": {
            "added": [edge for key, edge in new_edges.items() if key not in old_edges],
            "removed": [edge for key, edge in old_edges.items() if key not in new_edges],
        },
        "variables": {
            "added": sorted(key for key in new_variables if key not in old_variables),
            "removed": sorted(key for key in old_variables if key not in new_variables),
            "changed": sorted(
                key for key in new_variables if key in old_variables and old_variables[key] != new_variables[key]
            ),
        },
    }


def version_restore(*, workflow: Workflow, number: Any, user: Any) -> Workflow:
    """Record a new version whose graph and variables equal version `number`, and make it current.

    The restored graph is validated like any save, so a version that no longer validates
    (a node type removed since) raises ValidationFailed (422). Raises NotFound for an unknown
    version and Conflict (`version_is_current`) when the current graph already equals it.
    """
    version = version_get(workflow=workflow, number=number)
    if version.nodes == workflow.nodes and version.edges == workflow.edges and version.variables == workflow.variables:
        raise Conflict(
            f"The workflow's current graph already equals version {version.number}.", code="version_is_current"
        )

    workflow = workflow_update(
        workflow=workflow,
        user=user,
        data={
            "nodes": version.nodes,
            "edges": version.edges,
            "variables": version.variables,
            "version_note": f"Restored version {version.number}.",
        },
    )
    logger.info(
        "Workflow version restored",
        extra={"workflow_id": str(workflow.pk), "restored_version": version.number, "version": workflow.version},
    )
    return workflow
