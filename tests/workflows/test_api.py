"""The workflows and executions API: every endpoint's auth, scoping, validation and success."""

import pytest
from rest_framework.test import APIClient

from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from tests.workflows.conftest import chain, client_for, node, trigger
from workflows.models import WorkflowExecution, WorkflowVersion
from workspaces.models import Role

GRAPH = {
    "nodes": [trigger(), node("a", "set", parameters={"values": {"v": "{{ input.v }}"}})],
    "edges": chain("start", "a"),
}


@pytest.fixture
def workflow(make_workflow):
    return make_workflow(GRAPH["nodes"], GRAPH["edges"])


@pytest.fixture
def finished_execution(workflow, run_workflow):
    return run_workflow(workflow, {"v": 1})


@pytest.fixture
def viewer_client(workspace):
    viewer = UserFactory()
    MembershipFactory(user=viewer, workspace=workspace, role=Role.VIEWER)
    return client_for(viewer)


@pytest.fixture
def foreign_workflow(db):
    from workflows.services.workflows import workflow_create

    stranger = UserFactory()
    return workflow_create(workspace=WorkspaceFactory(owner=stranger), user=stranger, data={"name": "Theirs", **GRAPH})


def _headers(workspace):
    return {"HTTP_X_WORKSPACE": str(workspace.pk)}


def test_workflow_create_records_version(owner_client, workspace):
    response = owner_client.post(
        "/api/v1/workflows", {"name": "Greeter", **GRAPH}, format="json", **_headers(workspace)
    )

    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert data["version"] == 1
    assert data["webhook_url"].endswith(WorkflowVersion.objects.get(workflow_id=data["id"]).workflow.webhook_token)
    assert data["nodes"][1]["on_error"] == "stop"


def test_workflow_create_invalid_graph_is_422_with_all_errors(owner_client, workspace):
    body = {
        "name": "Broken",
        "nodes": [node("a", "noop"), node("b", "bogus")],
        "edges": [{"source": "a", "target": "zz"}],
    }

    response = owner_client.post("/api/v1/workflows", body, format="json", **_headers(workspace))

    assert response.status_code == 422, response.content
    assert response.json()["code"] == "validation_error"
    assert {"nodes", "nodes.b.type"} <= set(response.json()["errors"])


def test_workflow_update_graph_adds_version(owner_client, workflow):
    nodes = [*GRAPH["nodes"], node("b", "noop")]

    response = owner_client.patch(
        f"/api/v1/workflows/{workflow.pk}",
        {"nodes": nodes, "edges": [*GRAPH["edges"], *chain("a", "b")]},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["data"]["version"] == 2
    assert WorkflowVersion.objects.filter(workflow=workflow).count() == 2


def test_workflow_list_filters(owner_client, workspace, make_workflow):
    make_workflow([trigger(kind="trigger.webhook"), node("a", "noop")], chain("start", "a"), name="Hook flow")
    make_workflow(GRAPH["nodes"], GRAPH["edges"], name="Manual flow", active=False)

    by_trigger = owner_client.get("/api/v1/workflows?trigger=webhook", **_headers(workspace))
    inactive = owner_client.get("/api/v1/workflows?active=false", **_headers(workspace))
    search = owner_client.get("/api/v1/workflows?search=hook", **_headers(workspace))

    assert [item["name"] for item in by_trigger.json()["data"]] == ["Hook flow"]
    assert [item["name"] for item in inactive.json()["data"]] == ["Manual flow"]
    assert [item["name"] for item in search.json()["data"]] == ["Hook flow"]


def test_workflow_run_answers_202_with_execution(owner_client, workflow, on_commit):
    with on_commit():
        response = owner_client.post(f"/api/v1/workflows/{workflow.pk}/run", {"input": {"v": 5}}, format="json")

    assert response.status_code == 202, response.content
    execution = WorkflowExecution.objects.get(pk=response.json()["data"]["id"])
    assert execution.status == "succeeded"
    assert execution.output == {"v": 5}


def test_workflow_authenticated_webhook_trigger(owner_client, workflow, on_commit):
    with on_commit():
        response = owner_client.post(
            f"/api/v1/workflows/{workflow.pk}/webhook", {"body": {"v": 2}, "headers": {"X-A": "b"}}, format="json"
        )

    assert response.status_code == 202, response.content
    assert WorkflowExecution.objects.get(pk=response.json()["data"]["id"]).mode == "webhook"


def test_execution_detail_list_counts_delete(owner_client, workspace, finished_execution):
    detail = owner_client.get(f"/api/v1/workflow-executions/{finished_execution.pk}")
    listing = owner_client.get(
        f"/api/v1/workflow-executions?status=succeeded&workflow={finished_execution.workflow_id}", **_headers(workspace)
    )
    counts = owner_client.get("/api/v1/workflow-executions/counts", **_headers(workspace))
    deleted = owner_client.delete(f"/api/v1/workflow-executions/{finished_execution.pk}")

    assert detail.status_code == 200, detail.content
    assert [run["node_id"] for run in detail.json()["data"]["data"]["node_runs"]] == ["start", "a"]
    assert "data" not in listing.json()["data"][0]
    assert counts.json()["data"]["succeeded"] == 1
    assert deleted.status_code == 204
    assert not WorkflowExecution.objects.filter(pk=finished_execution.pk).exists()


def test_execution_cancel_retry_resume_endpoints(owner_client, make_workflow, run_workflow, on_commit):
    workflow = make_workflow([trigger(), node("ask", "approval")], chain("start", "ask"))
    waiting = run_workflow(workflow, {})

    bad = owner_client.post(
        f"/api/v1/workflow-executions/{waiting.pk}/resume", {"node_id": "ask", "decision": "maybe"}, format="json"
    )
    with on_commit():
        resumed = owner_client.post(
            f"/api/v1/workflow-executions/{waiting.pk}/resume", {"node_id": "ask", "decision": "approve"}, format="json"
        )
    again = owner_client.post(f"/api/v1/workflow-executions/{waiting.pk}/cancel")
    with on_commit():
        retried = owner_client.post(
            f"/api/v1/workflow-executions/{waiting.pk}/retry", {"from_node": "start"}, format="json"
        )

    assert bad.status_code == 422, bad.content
    assert resumed.status_code == 202, resumed.content
    assert again.status_code == 409, again.content
    assert again.json()["code"] == "execution_finished"
    assert retried.status_code == 202, retried.content


def test_execution_retry_unknown_from_node_is_422(owner_client, finished_execution):
    response = owner_client.post(
        f"/api/v1/workflow-executions/{finished_execution.pk}/retry", {"from_node": "nope"}, format="json"
    )

    assert response.status_code == 422, response.content


ENDPOINTS = [
    ("get", "/api/v1/workflows/{wf}", "workflows:write"),
    ("patch", "/api/v1/workflows/{wf}", "workflows:read"),
    ("delete", "/api/v1/workflows/{wf}", "workflows:read"),
    ("post", "/api/v1/workflows/{wf}/run", "workflows:read"),
    ("post", "/api/v1/workflows/{wf}/webhook", "workflows:read"),
    ("get", "/api/v1/workflow-executions/{ex}", "workflows:read"),
    ("delete", "/api/v1/workflow-executions/{ex}", "executions:read"),
    ("post", "/api/v1/workflow-executions/{ex}/cancel", "executions:read"),
    ("post", "/api/v1/workflow-executions/{ex}/retry", "executions:read"),
    ("post", "/api/v1/workflow-executions/{ex}/resume", "executions:read"),
]


@pytest.mark.parametrize(("method", "path", "lacking"), ENDPOINTS)
def test_endpoint_auth_scoping_and_abilities(
    method, path, lacking, owner, workflow, finished_execution, foreign_workflow, viewer_client
):
    url = path.format(wf=workflow.pk, ex=finished_execution.pk)
    foreign_execution = WorkflowExecution.objects.create(
        workspace=foreign_workflow.workspace, workflow=foreign_workflow, status="succeeded"
    )
    foreign_url = path.format(wf=foreign_workflow.pk, ex=foreign_execution.pk)

    anonymous = getattr(APIClient(), method)(url, {}, format="json")
    foreign = getattr(client_for(owner), method)(foreign_url, {}, format="json")
    narrow = getattr(client_for(owner, abilities=[lacking]), method)(url, {}, format="json")

    assert anonymous.status_code == 401, anonymous.content
    assert foreign.status_code == 404, foreign.content
    assert narrow.status_code == 403, narrow.content
    assert narrow.json()["code"] == "insufficient_ability"
    if method != "get":
        viewer = getattr(viewer_client, method)(url, {}, format="json")
        assert viewer.status_code == 403, viewer.content


def test_collection_endpoints_auth(workspace, owner, viewer_client):
    create = {"name": "X", **GRAPH}

    assert APIClient().get("/api/v1/workflows").status_code == 401
    assert APIClient().get("/api/v1/workflow-executions").status_code == 401
    assert viewer_client.post("/api/v1/workflows", create, format="json", **_headers(workspace)).status_code == 403
    assert viewer_client.get("/api/v1/workflow-executions/counts", **_headers(workspace)).status_code == 200
    narrow = client_for(owner, abilities=["workflows:read"])
    assert narrow.post("/api/v1/workflows", create, format="json", **_headers(workspace)).status_code == 403
    assert narrow.get("/api/v1/workflow-executions", **_headers(workspace)).status_code == 403
    other = WorkspaceFactory(owner=UserFactory())
    assert client_for(owner).get("/api/v1/workflows", HTTP_X_WORKSPACE=str(other.pk)).status_code == 404


def test_workflow_create_oversized_and_bad_input(owner_client, workspace, settings):
    settings.ATHENA_MAX_REQUEST_BYTES = 2000
    big = {"name": "Big", **GRAPH, "description": "x" * 5000}

    too_large = owner_client.post("/api/v1/workflows", big, format="json", **_headers(workspace))
    bad_settings = owner_client.post(
        "/api/v1/workflows",
        {"name": "S", **GRAPH, "settings": {"save_execution_data": "some"}},
        format="json",
        **_headers(workspace),
    )
    bad_query = owner_client.get("/api/v1/workflow-executions?status=sleeping", **_headers(workspace))

    assert too_large.status_code == 413, too_large.content
    assert bad_settings.status_code == 422, bad_settings.content
    assert bad_query.status_code == 422, bad_query.content


def test_schema_documents_workflows_and_public_hook(api_client, owner_client):
    schema = owner_client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()

    assert "/api/v1/hooks/{webhook_token}" in schema["paths"]
    assert "/api/v1/workflow-executions/{id}/retry/" in schema["paths"]
    assert {"Workflow", "WorkflowExecution", "WorkflowExecutionData", "Node", "Edge"} <= set(
        schema["components"]["schemas"]
    )


def test_workflow_trigger_filter_follows_graph_changes(owner_client, workspace, make_workflow, owner):
    from workflows.services.workflows import workflow_update

    workflow = make_workflow([trigger(kind="trigger.webhook"), node("a", "noop")], chain("start", "a"), name="Hook")
    workflow_update(workflow=workflow, user=owner, data={"nodes": [trigger(), node("a", "noop")]})

    by_webhook = owner_client.get("/api/v1/workflows?trigger=webhook", **_headers(workspace))
    by_manual = owner_client.get("/api/v1/workflows?trigger=manual", **_headers(workspace))

    assert by_webhook.json()["data"] == []
    assert [item["name"] for item in by_manual.json()["data"]] == ["Hook"]
    assert workflow.trigger_types == ",trigger.manual,"
