"""`POST workflows/test`: unsaved graphs run in mode `test` with sample and pinned outputs."""

import json
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tests.workflow_testing.conftest import EDITOR, VIEWER, headers_for
from tests.workflows.conftest import chain, edge, node, trigger
from workflows.models import ExecutionMode, WorkflowExecution
from workflows.services.testing import executions_delete_old_tests
from workflows.tasks import delete_test_executions, run_execution

URL = "/api/v1/workflows/test"


def _fetch(url: str, **fields) -> dict:
    return node(
        "fetch",
        "http_request",
        parameters={"method": "POST", "url": url, "body": "{{ input }}"},
        sample_output={"status": 200, "body": {"state": "shipped"}},
        **fields,
    )


def _graph(url: str) -> dict:
    return {
        "nodes": [
            trigger(),
            _fetch(url),
            node(
                "reply",
                "template",
                parameters={"template": "Order {{ trigger.body.order }} is {{ input.body.state }}."},
            ),
        ],
        "edges": chain("start", "fetch", "reply"),
    }


def _post(client, workspace, body):
    return client.post(URL, body, format="json", **headers_for(workspace))


def _runs(execution: dict) -> dict[str, dict]:
    return {run["node_id"]: run for run in execution["data"]["node_runs"]}


def test_test_run_returns_sample_outputs_without_calling_out(owner_client, workspace, http_server):
    body = {**_graph(f"{http_server.url}/orders"), "trigger": {"body": {"order": 42}}}

    response = _post(owner_client, workspace, body)

    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["status"] == "succeeded"
    assert data["mode"] == "test"
    assert data["workflow_id"] is None
    assert data["version"] is None
    assert _runs(data)["fetch"]["output"] == {"status": 200, "body": {"state": "shipped"}}
    assert _runs(data)["reply"]["output"] == "Order 42 is shipped."
    assert http_server.count("/orders") == 0
    execution = WorkflowExecution.objects.get(pk=data["id"])
    assert execution.workflow_id is None
    assert execution.version_id is None
    assert execution.mode == ExecutionMode.TEST


def test_test_run_live_calls_out(owner_client, workspace, http_server):
    body = {
        "nodes": [trigger(), _fetch(f"{http_server.url}/orders")],
        "edges": chain("start", "fetch"),
        "trigger": {"body": {"order": 7}},
        "live": True,
    }

    response = _post(owner_client, workspace, body)

    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["status"] == "succeeded", data["error"]
    assert http_server.count("/orders") == 1
    assert json.loads(http_server.requests[0]["body"]) == {"order": 7}
    assert _runs(data)["fetch"]["output"]["body"]["path"] == "/orders"


def test_test_run_pinned_outputs_replace_nodes(owner_client, workspace, http_server):
    graph = _graph(f"{http_server.url}/orders")
    graph["nodes"][1].pop("sample_output")
    body = {**graph, "trigger": {"body": {"order": 5}}, "pinned": {"fetch": {"body": {"state": "lost"}}}}

    response = _post(owner_client, workspace, body)

    assert response.status_code == 200, response.content
    runs = _runs(response.json()["data"])
    assert runs["fetch"]["output"] == {"body": {"state": "lost"}}
    assert runs["reply"]["output"] == "Order 5 is lost."
    assert http_server.count("/orders") == 0


def test_test_run_pinned_approval_takes_its_decision(owner_client, workspace):
    body = {
        "nodes": [
            trigger(),
            node("ask", "approval", parameters={"message": "Ship it?"}),
            node("yes", "set", parameters={"values": {"shipped": True}}),
            node("no", "set", parameters={"values": {"shipped": False}}),
        ],
        "edges": [edge("start", "ask"), edge("ask", "yes", "approved"), edge("ask", "no", "rejected")],
        "pinned": {"ask": {"decision": "reject"}},
    }

    response = _post(owner_client, workspace, body)

    assert response.status_code == 200, response.content
    runs = _runs(response.json()["data"])
    assert runs["ask"]["handles"] == ["rejected"]
    assert runs["no"]["status"] == "succeeded"
    assert runs["yes"]["status"] == "skipped"


def test_test_run_without_sample_output_fails_the_node(owner_client, workspace, http_server):
    graph = _graph(f"{http_server.url}/orders")
    graph["nodes"][1].pop("sample_output")

    response = _post(owner_client, workspace, graph)

    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["status"] == "failed"
    assert data["error"]["code"] == "sample_output_missing"
    assert data["error"]["node_id"] == "fetch"
    assert http_server.count("/orders") == 0


def test_test_run_uses_variables_and_chosen_trigger(owner_client, workspace):
    body = {
        "nodes": [
            trigger(),
            trigger("hook", "trigger.webhook"),
            node("greet", "template", parameters={"template": "{{ vars.greeting }}, {{ trigger.headers.name }}"}),
        ],
        "edges": [edge("start", "greet"), edge("hook", "greet")],
        "variables": {"greeting": "Hello"},
        "trigger": {"node_id": "hook", "headers": {"name": "Ada"}, "method": "PUT"},
    }

    response = _post(owner_client, workspace, body)

    assert response.status_code == 200, response.content
    runs = _runs(response.json()["data"])
    assert runs["hook"]["status"] == "succeeded"
    assert runs["start"]["status"] == "skipped"
    assert runs["greet"]["output"] == "Hello, Ada"


def test_test_run_waiting_answers_202_and_resumes(owner_client, workspace, on_commit):
    body = {
        "nodes": [trigger(), node("ask", "approval", parameters={"message": "Ship it?"}), node("done", "noop")],
        "edges": [edge("start", "ask"), edge("ask", "done", "approved")],
        "trigger": {"body": {"order": 1}},
    }

    response = _post(owner_client, workspace, body)

    assert response.status_code == 202, response.content
    data = response.json()["data"]
    assert data["status"] == "waiting"
    assert data["waiting_for"][0]["node_id"] == "ask"
    with on_commit():
        resumed = owner_client.post(
            f"/api/v1/workflow-executions/{data['id']}/resume", {"node_id": "ask", "decision": "approve"}, format="json"
        )
    assert resumed.status_code == 202, resumed.content
    assert WorkflowExecution.objects.get(pk=data["id"]).status == "succeeded"


def test_test_run_hands_off_after_sync_timeout(owner_client, workspace, settings):
    settings.WORKFLOWS_TEST_SYNC_TIMEOUT_SECONDS = 0
    body = {"nodes": [trigger(), node("a", "noop")], "edges": chain("start", "a")}

    response = _post(owner_client, workspace, body)

    assert response.status_code == 202, response.content
    data = response.json()["data"]
    assert data["status"] == "queued"
    assert WorkflowExecution.objects.get(pk=data["id"]).dispatched_at is not None
    # The task the hand-off queued finishes the run, as a worker would.
    run_execution.apply(args=[data["id"]])
    finished = WorkflowExecution.objects.get(pk=data["id"])
    assert finished.status == "succeeded"
    assert finished.node_runs.get(node_id="a").status == "succeeded"


def test_test_execution_readable_in_its_workspace(owner_client, workspace, stranger_client):
    response = _post(owner_client, workspace, {"nodes": [trigger()], "edges": []})
    execution_id = response.json()["data"]["id"]

    own = owner_client.get(f"/api/v1/workflow-executions/{execution_id}")
    listed = owner_client.get("/api/v1/workflow-executions?mode=test", **headers_for(workspace))
    foreign = stranger_client.get(f"/api/v1/workflow-executions/{execution_id}")

    assert own.status_code == 200, own.content
    assert own.json()["data"]["mode"] == "test"
    assert [item["id"] for item in listed.json()["data"]] == [execution_id]
    assert foreign.status_code == 404, foreign.content
    assert foreign.json()["code"] == "not_found"


# --- permissions ------------------------------------------------------------------------------


def test_test_run_unauthenticated_is_401(workspace):
    response = _post(APIClient(), workspace, {"nodes": [trigger()]})

    assert response.status_code == 401, response.content
    assert response.json()["code"] == "unauthenticated"


def test_test_run_viewer_is_403(member_client, workspace):
    response = _post(member_client(VIEWER), workspace, {"nodes": [trigger()]})

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "forbidden"
    assert not WorkflowExecution.objects.exists()


def test_test_run_other_workspace_is_404(stranger_client, workspace):
    response = _post(stranger_client, workspace, {"nodes": [trigger()]})

    assert response.status_code == 404, response.content
    assert response.json()["code"] == "workspace_not_found"


def test_test_run_live_needs_write_ability(member_client, workspace, http_server):
    client = member_client(EDITOR, ("workflows:run",))
    body = {**_graph(f"{http_server.url}/orders"), "live": True}

    response = _post(client, workspace, body)
    not_live = _post(client, workspace, {**body, "live": False})

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "insufficient_ability"
    assert not_live.status_code == 200, not_live.content
    assert WorkflowExecution.objects.count() == 1
    assert http_server.count("/orders") == 0


# --- bad input --------------------------------------------------------------------------------


def test_test_run_invalid_graph_is_422(owner_client, workspace):
    body = {"nodes": [trigger(), node("a", "teleport")], "edges": [edge("a", "ghost")]}

    response = _post(owner_client, workspace, body)

    assert response.status_code == 422, response.content
    errors = response.json()["errors"]
    assert "nodes.a.type" in errors
    assert "edges.a-ghost-main.target" in errors
    assert not WorkflowExecution.objects.exists()


@pytest.mark.parametrize(
    ("pinned", "trigger_body", "key"),
    [
        ({"ghost": {}}, {}, "pinned.ghost"),
        ({"check": True}, {}, "pinned.check"),
        ({"ask": {"decision": "maybe"}}, {}, "pinned.ask"),
        ({}, {"node_id": "check"}, "trigger.node_id"),
    ],
)
def test_test_run_bad_pinned_or_trigger_is_422(owner_client, workspace, pinned, trigger_body, key):
    body = {
        "nodes": [
            trigger(),
            node("check", "condition", parameters={"conditions": [{"left": 1, "operator": "equals", "right": 1}]}),
            node("ask", "approval"),
        ],
        "edges": [edge("start", "check"), edge("check", "ask", "true")],
        "pinned": pinned,
        "trigger": trigger_body,
    }

    response = _post(owner_client, workspace, body)

    assert response.status_code == 422, response.content
    assert key in response.json()["errors"]
    assert not WorkflowExecution.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "nodes"),
        ({"nodes": {"id": "start"}}, "nodes"),
        ({"nodes": [trigger()] * 2001}, "nodes"),
        ({"nodes": [trigger()], "edges": "e1"}, "edges"),
        ({"nodes": [trigger()], "pinned": {f"n{index}": 1 for index in range(501)}}, "pinned"),
        ({"nodes": [trigger()], "pinned": [1]}, "pinned"),
        ({"nodes": [trigger()], "live": "sometimes"}, "live"),
        ({"nodes": [trigger()], "trigger": {"method": "BREW"}}, "trigger"),
        ({"nodes": [trigger()], "variables": {f"v{index}": 1 for index in range(201)}}, "variables"),
    ],
)
def test_test_run_malformed_body_is_422(owner_client, workspace, body, field):
    response = _post(owner_client, workspace, body)

    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]


def test_test_run_oversized_body_is_413(owner_client, workspace, settings):
    body = {"nodes": [trigger()], "trigger": {"body": {"blob": "x" * (settings.ATHENA_MAX_REQUEST_BYTES + 1)}}}

    response = _post(owner_client, workspace, body)

    assert response.status_code == 413, response.content
    assert response.json()["code"] == "payload_too_large"


# --- metrics and retention --------------------------------------------------------------------


def test_test_runs_are_left_out_of_metrics(owner_client, workspace, make_workflow, run_workflow):
    run_workflow(make_workflow([trigger()], []))
    _post(owner_client, workspace, {"nodes": [trigger()]})

    metric = owner_client.get("/api/v1/metrics/workflow-executions", **headers_for(workspace))
    overview = owner_client.get("/api/v1/workspaces/metrics")

    assert metric.status_code == 200, metric.content
    assert WorkflowExecution.objects.count() == 2
    assert metric.json()["data"]["total"] == 1
    by_slug = {item["workspace"]["slug"]: item["metrics"] for item in overview.json()["data"]}
    assert by_slug[workspace.slug]["workflow_executions"] == 1


def test_old_test_executions_are_deleted(owner_client, workspace, make_workflow, run_workflow, settings):
    settings.WORKFLOWS_TEST_RETENTION_HOURS = 24
    real = run_workflow(make_workflow([trigger()], []))
    old_test = _post(owner_client, workspace, {"nodes": [trigger()]}).json()["data"]["id"]
    recent_test = _post(owner_client, workspace, {"nodes": [trigger()]}).json()["data"]["id"]
    long_ago = timezone.now() - timedelta(hours=25)
    WorkflowExecution.objects.filter(pk__in=[real.pk, old_test]).update(created_at=long_ago)

    deleted = delete_test_executions.delay().get()

    assert deleted == 1
    assert set(WorkflowExecution.objects.values_list("pk", flat=True)) == {real.pk, uuid.UUID(recent_test)}


def test_test_retention_zero_keeps_everything(owner_client, workspace, settings):
    settings.WORKFLOWS_TEST_RETENTION_HOURS = 0
    _post(owner_client, workspace, {"nodes": [trigger()]})
    WorkflowExecution.objects.update(created_at=timezone.now() - timedelta(days=400))

    assert executions_delete_old_tests() == 0
    assert WorkflowExecution.objects.count() == 1
