"""`POST workflows/generate` against the fake LLM server: the repair loop, the test run and saving."""

import json

import pytest
from rest_framework.test import APIClient

from tests.workflow_testing.conftest import EDITOR, VIEWER, headers_for
from tests.workflows.conftest import chain, node, trigger
from workflows.models import Workflow, WorkflowExecution

URL = "/api/v1/workflows/generate"
DESCRIPTION = "When I start it with an order, post the order total to the accounting API."

VALID = {
    "name": "Post order totals",
    "description": "Sends each order's total to accounting.",
    "nodes": [
        trigger(),
        node("total", "set", parameters={"values": {"total": "{{ input.total }}"}}),
        node(
            "post",
            "http_request",
            parameters={"method": "POST", "url": "https://accounting.example.com/totals", "body": "{{ input }}"},
            sample_output={"status": 201, "body": {"accepted": True}},
        ),
    ],
    "edges": chain("start", "total", "post"),
    "sample_input": {"total": 12.5},
}
INVALID = {
    "name": "Broken",
    "nodes": [
        trigger(),
        node("mail", "email.send", parameters={"to": "accounting@example.com"}),
        node("post", "http_request", parameters={"url": "https://accounting.example.com/totals"}),
    ],
    "edges": chain("start", "mail", "post"),
}


def _post(client, workspace, body):
    return client.post(URL, body, format="json", **headers_for(workspace))


def _messages(request) -> list[dict]:
    return request.body["messages"]


def test_generate_repairs_an_invalid_draft(owner_client, workspace, chat_model, fake_llm):
    fake_llm.reply(json.dumps(INVALID)).reply("```json\n" + json.dumps(VALID) + "\n```")

    response = _post(owner_client, workspace, {"description": DESCRIPTION, "model_id": str(chat_model.pk)})

    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["attempts"] == 2
    assert data["workflow"] is None
    assert data["draft"]["name"] == "Post order totals"
    assert [item["id"] for item in data["draft"]["nodes"]] == ["start", "total", "post"]
    assert data["execution"]["mode"] == "test"
    assert data["execution"]["status"] == "succeeded", data["execution"]["error"]
    assert data["draft"]["sample_input"] == {"total": 12.5}
    runs = {run["node_id"]: run for run in data["execution"]["data"]["node_runs"]}
    assert runs["total"]["output"] == {"total": 12.5}
    assert runs["post"]["output"] == {"status": 201, "body": {"accepted": True}}
    assert not Workflow.objects.exists()

    calls = fake_llm.calls_to("/v1/chat/completions")
    assert len(calls) == 2
    first = _messages(calls[0])
    assert first[0]["role"] == "system"
    assert '"type":"http_request"' in first[0]["content"]
    assert '"additionalProperties":false' in first[0]["content"]
    assert str(chat_model.pk) in first[0]["content"]
    assert first[1] == {"role": "user", "content": DESCRIPTION}
    repair = _messages(calls[1])
    assert repair[2] == {"role": "assistant", "content": json.dumps(INVALID)}
    sent_errors = json.loads(repair[3]["content"].split("\n", 1)[1])
    assert "Unknown node type 'email.send'." in sent_errors["nodes.mail.type"]
    assert "nodes.post.sample_output" in sent_errors


def test_generate_gives_up_after_two_repairs(owner_client, workspace, chat_model, fake_llm):
    fake_llm.reply("Sure! Here is your workflow.").reply(json.dumps(INVALID)).reply(json.dumps(INVALID))

    response = _post(owner_client, workspace, {"description": DESCRIPTION})

    assert response.status_code == 502, response.content
    body = response.json()
    assert body["code"] == "generation_failed"
    assert "nodes.mail.type" in body["errors"]
    assert len(fake_llm.calls_to("/v1/chat/completions")) == 3
    second = _messages(fake_llm.calls_to("/v1/chat/completions")[1])
    assert "reply" in json.loads(second[3]["content"].split("\n", 1)[1])
    assert not WorkflowExecution.objects.exists()
    assert not Workflow.objects.exists()


def test_generate_save_creates_the_workflow(owner_client, workspace, chat_model, fake_llm):
    fake_llm.reply(json.dumps(VALID))

    response = _post(owner_client, workspace, {"description": DESCRIPTION, "save": True})

    assert response.status_code == 201, response.content
    data = response.json()["data"]
    workflow = Workflow.objects.get(pk=data["workflow"]["id"])
    assert workflow.workspace_id == workspace.pk
    assert workflow.name == "Post order totals"
    assert [item["id"] for item in workflow.nodes] == ["start", "total", "post"]
    assert workflow.versions.count() == 1
    assert data["execution"]["workflow_id"] is None


def test_generate_without_a_model_is_422(owner_client, workspace):
    response = _post(owner_client, workspace, {"description": DESCRIPTION})

    assert response.status_code == 422, response.content
    assert "model_id" in response.json()["errors"]


def test_generate_unknown_model_is_422(owner_client, workspace, chat_model):
    response = _post(
        owner_client, workspace, {"description": DESCRIPTION, "model_id": "00000000-0000-4000-8000-000000000000"}
    )

    assert response.status_code == 422, response.content
    assert "model_id" in response.json()["errors"]


def test_generate_upstream_failure_is_5xx(owner_client, workspace, chat_model, fake_llm):
    for _attempt in range(3):
        fake_llm.fail("server_error")

    response = _post(owner_client, workspace, {"description": DESCRIPTION})

    assert response.status_code == 503, response.content
    assert response.json()["code"] == "llm_upstream_unavailable"
    assert not WorkflowExecution.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "description"),
        ({"description": ""}, "description"),
        ({"description": "x" * 5001}, "description"),
        ({"description": DESCRIPTION, "model_id": "gpt"}, "model_id"),
        ({"description": DESCRIPTION, "save": "later"}, "save"),
    ],
)
def test_generate_malformed_body_is_422(owner_client, workspace, body, field):
    response = _post(owner_client, workspace, body)

    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]


def test_generate_unauthenticated_is_401(workspace):
    response = _post(APIClient(), workspace, {"description": DESCRIPTION})

    assert response.status_code == 401, response.content


def test_generate_viewer_is_403(member_client, workspace, chat_model, fake_llm):
    response = _post(member_client(VIEWER), workspace, {"description": DESCRIPTION})

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "forbidden"
    assert fake_llm.calls_to("/v1/chat/completions") == []


def test_generate_other_workspace_is_404(stranger_client, workspace):
    response = _post(stranger_client, workspace, {"description": DESCRIPTION})

    assert response.status_code == 404, response.content
    assert response.json()["code"] == "workspace_not_found"


def test_generate_needs_write_ability(member_client, workspace, chat_model, fake_llm):
    response = _post(member_client(EDITOR, ("workflows:run",)), workspace, {"description": DESCRIPTION})

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "insufficient_ability"
    assert fake_llm.calls_to("/v1/chat/completions") == []
