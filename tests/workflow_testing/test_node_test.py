"""`POST workflows/{id}/nodes/{node_id}/test`: one node of a saved workflow on a given input."""

import pytest
from rest_framework.test import APIClient

from tests.workflow_testing.conftest import EDITOR, VIEWER
from tests.workflows.conftest import chain, node, trigger
from workflows.models import WorkflowExecution


@pytest.fixture
def workflow(make_workflow, http_server):
    return make_workflow(
        [
            trigger(),
            node(
                "fetch",
                "http_request",
                parameters={"method": "POST", "url": f"{http_server.url}/orders", "body": "{{ input }}"},
                sample_output={"status": 200, "body": {"state": "shipped"}},
            ),
            node(
                "shape",
                "set",
                parameters={"values": {"state": "{{ input.body.state }}", "order": "{{ nodes.start.output.order }}"}},
            ),
            node("pick", "transform", parameters={"expression": "items[?price > `10`].name"}),
        ],
        chain("start", "fetch", "shape", "pick"),
    )


def _url(workflow, node_id: str) -> str:
    return f"/api/v1/workflows/{workflow.pk}/nodes/{node_id}/test"


def test_node_test_returns_the_output(owner_client, workflow):
    items = {"items": [{"name": "lamp", "price": 30}, {"name": "pen", "price": 2}]}

    response = owner_client.post(_url(workflow, "pick"), {"input": items}, format="json")

    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["status"] == "succeeded"
    assert data["node_status"] == "succeeded"
    assert data["output"] == ["lamp"]
    assert data["handles"] == ["main"]
    execution = WorkflowExecution.objects.get(pk=data["execution_id"])
    assert execution.mode == "test"
    assert execution.workflow_id == workflow.pk
    assert execution.version.number == workflow.version
    assert list(execution.node_runs.values_list("node_id", flat=True)) == ["pick"]


def test_node_test_reads_pinned_outputs_of_other_nodes(owner_client, workflow):
    body = {"input": {"body": {"state": "packed"}}, "pinned": {"start": {"order": 42}}}

    response = owner_client.post(_url(workflow, "shape"), body, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["data"]["output"] == {"state": "packed", "order": 42}


def test_node_test_reports_the_node_error(owner_client, workflow):
    response = owner_client.post(_url(workflow, "shape"), {"input": {"body": {}}}, format="json")

    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["status"] == "failed"
    assert data["node_status"] == "failed"
    assert data["output"] is None
    assert data["error"]["node_id"] == "shape"
    assert "nodes.start.output.order" in data["error"]["message"]


def test_node_test_uses_sample_output_unless_live(owner_client, workflow, http_server):
    sampled = owner_client.post(_url(workflow, "fetch"), {"input": {"order": 1}}, format="json")
    live = owner_client.post(_url(workflow, "fetch"), {"input": {"order": 1}, "live": True}, format="json")

    assert sampled.status_code == 200, sampled.content
    assert sampled.json()["data"]["output"] == {"status": 200, "body": {"state": "shipped"}}
    assert live.status_code == 200, live.content
    assert live.json()["data"]["output"]["body"]["path"] == "/orders"
    assert http_server.count("/orders") == 1


def test_node_test_unknown_node_is_404(owner_client, workflow):
    response = owner_client.post(_url(workflow, "ghost"), {"input": {}}, format="json")

    assert response.status_code == 404, response.content
    assert response.json()["code"] == "node_not_found"
    assert not WorkflowExecution.objects.exists()


def test_node_test_bad_pinned_is_422(owner_client, workflow):
    response = owner_client.post(_url(workflow, "shape"), {"pinned": {"ghost": 1}}, format="json")

    assert response.status_code == 422, response.content
    assert "pinned.ghost" in response.json()["errors"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"pinned": "start"}, "pinned"),
        ({"pinned": {f"n{index}": 1 for index in range(501)}}, "pinned"),
        ({"live": [True]}, "live"),
    ],
)
def test_node_test_malformed_body_is_422(owner_client, workflow, body, field):
    response = owner_client.post(_url(workflow, "shape"), body, format="json")

    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]


def test_node_test_oversized_body_is_413(owner_client, workflow, settings):
    body = {"input": "x" * (settings.ATHENA_MAX_REQUEST_BYTES + 1)}

    response = owner_client.post(_url(workflow, "shape"), body, format="json")

    assert response.status_code == 413, response.content


def test_node_test_unauthenticated_is_401(workflow):
    response = APIClient().post(_url(workflow, "shape"), {}, format="json")

    assert response.status_code == 401, response.content
    assert response.json()["code"] == "unauthenticated"


def test_node_test_other_workspace_is_404(stranger_client, workflow):
    response = stranger_client.post(_url(workflow, "shape"), {}, format="json")

    assert response.status_code == 404, response.content
    assert response.json()["code"] == "not_found"
    assert not WorkflowExecution.objects.exists()


def test_node_test_viewer_is_403(member_client, workflow):
    response = member_client(VIEWER).post(_url(workflow, "shape"), {}, format="json")

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "forbidden"


def test_node_test_live_needs_write_ability(member_client, workflow, http_server):
    client = member_client(EDITOR, ("workflows:run", "workflows:read"))

    response = client.post(_url(workflow, "fetch"), {"live": True}, format="json")

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "insufficient_ability"
    assert http_server.count("/orders") == 0
    assert not WorkflowExecution.objects.exists()
