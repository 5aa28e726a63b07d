"""Isolation matrix cases of the test-mode and generation routes of workflows (collected by tests/isolation)."""

from tests.isolation.harness import EndpointCase
from workflows.services.workflows import workflow_create
from workspaces.models import Role

GRAPH = {
    "nodes": [
        {"id": "start", "type": "trigger.manual", "parameters": {}},
        {"id": "shape", "type": "set", "parameters": {"values": {"total": "{{ input.total }}"}}},
    ],
    "edges": [{"id": "e1", "source": "start", "target": "shape"}],
}


def _workflow(world):
    return workflow_create(workspace=world.workspace, user=world.owner, data={"name": "Victim flow", **GRAPH})


CASES = [
    EndpointCase(
        "workflows/test",
        "POST",
        lambda w, o: "/api/v1/workflows/test",
        "workflows:run",
        min_role=Role.EDITOR,
        scope="context",
        body={**GRAPH, "trigger": {"body": {"total": 3}}},
    ),
    EndpointCase(
        "workflows/{pk}/nodes/{node_id}/test",
        "POST",
        lambda w, workflow: f"/api/v1/workflows/{workflow.pk}/nodes/shape/test",
        "workflows:run",
        min_role=Role.EDITOR,
        factory=_workflow,
        body={"input": {"total": 3}},
    ),
    EndpointCase(
        "workflows/generate",
        "POST",
        lambda w, o: "/api/v1/workflows/generate",
        "workflows:write",
        min_role=Role.EDITOR,
        scope="context",
        body={"description": "Add up the order totals."},
    ),
]
