"""Isolation matrix cases of workflow sharing, versions, export and import (collected by tests/isolation).

The public run link `public/workflows/{share_token}/run` is allow-listed in tests/isolation/cases.py,
because its token, not a user, authenticates it; tests/workflow_lifecycle/test_sharing.py covers it.
"""

from agents.services.shares import share_create
from tests.factories import UserFactory
from tests.isolation.harness import EndpointCase
from workflows.selectors import WORKFLOW_SHARE_TARGET
from workflows.services.workflows import workflow_create, workflow_update
from workspaces.models import Role

EDITOR = Role.EDITOR
GRAPH = {
    "nodes": [
        {"id": "start", "type": "trigger.manual", "parameters": {}},
        {"id": "greet", "type": "set", "parameters": {"values": {"text": "Hello"}}},
    ],
    "edges": [{"id": "e1", "source": "start", "target": "greet"}],
}
IMPORT_BODY = {"format": "athena.workflow", "format_version": 1, "workflow": {"name": "Injected", **GRAPH}}


def _workflow(world):
    """A victim workflow with two versions, so that version 1 can be restored."""
    workflow = workflow_create(workspace=world.workspace, user=world.owner, data={"name": "Victim flow", **GRAPH})
    nodes = [GRAPH["nodes"][0], {**GRAPH["nodes"][1], "parameters": {"values": {"text": "Changed"}}}]
    return workflow_update(workflow=workflow, user=world.owner, data={"nodes": nodes})


def _shared_workflow(world):
    workflow = _workflow(world)
    share, _token = share_create(
        workspace_id=world.workspace.pk,
        target_type=WORKFLOW_SHARE_TARGET,
        target_id=workflow.pk,
        permission="view",
        created_by=world.owner,
        user=UserFactory(),
    )
    return {"workflow": workflow, "share": share}


def _url(suffix: str):
    return lambda world, workflow: f"/api/v1/workflows/{workflow.pk}{suffix}"


def _share_url(world, obj):
    return f"/api/v1/workflows/{obj['workflow'].pk}/shares/{obj['share'].pk}"


def _share_body(world, workflow):
    return {"user_email": UserFactory().email, "permission": "run"}


CASES = [
    EndpointCase(
        "workflows/{pk}/share",
        "POST",
        _url("/share"),
        "workflows:write",
        min_role=EDITOR,
        factory=_workflow,
        body=_share_body,
    ),
    EndpointCase("workflows/{pk}/shares", "GET", _url("/shares"), "workflows:read", factory=_workflow),
    EndpointCase(
        "workflows/{pk}/shares/{share_id}",
        "DELETE",
        _share_url,
        "workflows:write",
        min_role=EDITOR,
        factory=_shared_workflow,
    ),
    EndpointCase("workflows/{pk}/versions", "GET", _url("/versions"), "workflows:read", factory=_workflow),
    EndpointCase("workflows/{pk}/versions/{number}", "GET", _url("/versions/1"), "workflows:read", factory=_workflow),
    EndpointCase(
        "workflows/{pk}/versions/{number}/diff/{other}",
        "GET",
        _url("/versions/1/diff/2"),
        "workflows:read",
        factory=_workflow,
    ),
    EndpointCase(
        "workflows/{pk}/versions/{number}/restore",
        "POST",
        _url("/versions/1/restore"),
        "workflows:write",
        min_role=EDITOR,
        factory=_workflow,
    ),
    EndpointCase("workflows/{pk}/export", "GET", _url("/export"), "workflows:read", factory=_workflow),
    EndpointCase(
        "workflows/import",
        "POST",
        lambda world, obj: "/api/v1/workflows/import",
        "workflows:write",
        min_role=EDITOR,
        scope="context",
        body=IMPORT_BODY,
    ),
]
