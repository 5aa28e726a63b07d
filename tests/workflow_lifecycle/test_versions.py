"""Workflow versions: list, read, diff, restore, and the version each execution ran."""

import pytest

from tests.workflow_lifecycle.conftest import greeting_graph
from tests.workflows.conftest import chain, node, trigger
from workflows.models import WorkflowExecution, WorkflowVersion
from workflows.services.workflows import workflow_update

pytestmark = pytest.mark.django_db


def _url(workflow, suffix: str = "") -> str:
    return f"/api/v1/workflows/{workflow.pk}/versions{suffix}"


def test_versions_list_newest_first(owner_client, versioned_workflow):
    response = owner_client.get(_url(versioned_workflow))

    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert [item["number"] for item in data] == [3, 2, 1]
    assert [item["node_count"] for item in data] == [2, 3, 2]
    assert data[2]["note"] == "Created."
    assert response.json()["meta"]["total"] == 3


def test_version_get_returns_graph(owner_client, versioned_workflow):
    response = owner_client.get(_url(versioned_workflow, "/2"))

    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["number"] == 2
    assert [item["id"] for item in data["nodes"]] == ["start", "greet", "tag"]
    assert len(data["edges"]) == 2


@pytest.mark.parametrize("number", ["0", "4", "-1", "two", "99999999999999999999"])
def test_version_get_unknown_is_404(owner_client, versioned_workflow, number):
    response = owner_client.get(_url(versioned_workflow, f"/{number}"))

    assert response.status_code == 404, response.content
    assert response.json()["code"] == "not_found"


def test_version_diff_reports_added_changed_and_edges(owner_client, versioned_workflow):
    response = owner_client.get(_url(versioned_workflow, "/1/diff/2"))

    assert response.status_code == 200, response.content
    diff = response.json()["data"]
    assert (diff["from_version"], diff["to_version"]) == (1, 2)
    assert [item["id"] for item in diff["nodes"]["added"]] == ["tag"]
    assert diff["nodes"]["removed"] == []
    assert diff["nodes"]["changed"] == [
        {
            "id": "greet",
            "name": "greet",
            "fields": {},
            "parameters": {"values": {"from": {"text": "Hello"}, "to": {"text": "Hello {{ input.name }}"}}},
        }
    ]
    assert [(edge["source"], edge["target"]) for edge in diff["edges"]["added"]] == [("greet", "tag")]
    assert diff["edges"]["removed"] == []


def test_version_diff_reports_removed(owner_client, versioned_workflow):
    response = owner_client.get(_url(versioned_workflow, "/2/diff/3"))

    diff = response.json()["data"]
    assert [item["id"] for item in diff["nodes"]["removed"]] == ["tag"]
    assert diff["nodes"]["added"] == []
    assert diff["nodes"]["changed"] == []
    assert [(edge["source"], edge["target"]) for edge in diff["edges"]["removed"]] == [("greet", "tag")]


def test_version_diff_node_fields_and_variables(owner_client, workflow, owner):
    graph = greeting_graph()
    nodes = [graph["nodes"][0], {**graph["nodes"][1], "name": "Greeter", "disabled": True}]
    workflow_update(workflow=workflow, user=owner, data={"nodes": nodes, "variables": {"region": "eu"}})

    diff = owner_client.get(_url(workflow, "/1/diff/2")).json()["data"]

    assert diff["nodes"]["changed"][0]["fields"] == {
        "name": {"from": "greet", "to": "Greeter"},
        "disabled": {"from": False, "to": True},
    }
    assert diff["nodes"]["changed"][0]["parameters"] == {}
    assert diff["variables"] == {"added": ["region"], "removed": [], "changed": []}


def test_version_diff_unknown_version_is_404(owner_client, versioned_workflow):
    response = owner_client.get(_url(versioned_workflow, "/1/diff/9"))

    assert response.status_code == 404, response.content


def test_version_restore_creates_equal_new_version(owner_client, versioned_workflow):
    response = owner_client.post(_url(versioned_workflow, "/2/restore"))

    assert response.status_code == 200, response.content
    data = response.json()["data"]
    restored = WorkflowVersion.objects.get(workflow=versioned_workflow, number=4)
    source = WorkflowVersion.objects.get(workflow=versioned_workflow, number=2)
    assert data["version"] == 4
    assert [item["id"] for item in data["nodes"]] == ["start", "greet", "tag"]
    assert (restored.nodes, restored.edges, restored.variables) == (source.nodes, source.edges, source.variables)
    assert restored.note == "Restored version 2."


def test_version_restore_current_is_409(owner_client, versioned_workflow):
    response = owner_client.post(_url(versioned_workflow, "/3/restore"))

    assert response.status_code == 409, response.content
    assert response.json()["code"] == "version_is_current"
    assert versioned_workflow.versions.count() == 3


def test_version_restore_unknown_is_404(owner_client, versioned_workflow):
    response = owner_client.post(_url(versioned_workflow, "/12/restore"))

    assert response.status_code == 404, response.content


def test_version_restore_invalid_graph_422(owner_client, versioned_workflow):
    WorkflowVersion.objects.filter(workflow=versioned_workflow, number=1).update(
        nodes=[{"id": "start", "type": "trigger.retired", "parameters": {}}], edges=[]
    )

    response = owner_client.post(_url(versioned_workflow, "/1/restore"))

    assert response.status_code == 422, response.content
    assert "nodes.start.type" in response.json()["errors"]
    versioned_workflow.refresh_from_db()
    assert versioned_workflow.version == 3


def test_version_restore_needs_write(viewer_client, versioned_workflow):
    response = viewer_client.post(_url(versioned_workflow, "/1/restore"))

    assert response.status_code == 403, response.content


def test_execution_shows_version_it_ran(owner_client, workflow, owner, on_commit):
    with on_commit():
        first = owner_client.post(f"/api/v1/workflows/{workflow.pk}/run", {"input": {}}, format="json")
    workflow_update(
        workflow=workflow,
        user=owner,
        data={
            "nodes": [trigger(), node("greet", "set", parameters={"values": {"v": 2}})],
            "edges": chain("start", "greet"),
        },
    )
    with on_commit():
        second = owner_client.post(f"/api/v1/workflows/{workflow.pk}/run", {"input": {}}, format="json")

    listed = owner_client.get(
        f"/api/v1/workflow-executions?workflow={workflow.pk}", HTTP_X_WORKSPACE=str(workflow.workspace_id)
    ).json()["data"]

    versions = {item["id"]: item["version"] for item in listed}
    assert versions[first.json()["data"]["id"]] == 1
    assert versions[second.json()["data"]["id"]] == 2
    assert WorkflowExecution.objects.get(pk=first.json()["data"]["id"]).version.number == 1
