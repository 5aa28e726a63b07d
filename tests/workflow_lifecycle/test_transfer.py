"""Export and import of Athena workflow documents: references by name, no secrets, round trips."""

import json

import pytest

from tests.factories import WorkspaceFactory
from tests.providers.factories import AccountFactory, LargeLanguageModelFactory, ProviderFactory
from tests.workflows.conftest import chain, node, trigger
from tests.workspaces.conftest import client_for
from workflows.models import Workflow

pytestmark = pytest.mark.django_db

ACCOUNT_TOKEN = "export-test-credential-7f3a9c"
WEBHOOK_SECRET = "export-test-webhook-secret-51b2"


@pytest.fixture
def crm_account(workspace):
    provider = ProviderFactory(workspace=workspace, key="crm", name="CRM")
    return AccountFactory(
        workspace=workspace, provider=provider, name="CRM production", credentials={"token": ACCOUNT_TOKEN}
    )


@pytest.fixture
def chat_model(workspace):
    provider = ProviderFactory(workspace=workspace, key="chat-vendor", kind="llm", llm_protocol="openai")
    return LargeLanguageModelFactory(provider=provider, workspace=workspace, model="chat-small")


@pytest.fixture
def rich_workflow(make_workflow, crm_account, chat_model):
    nodes = [
        trigger(kind="trigger.webhook"),
        node(
            "post",
            "http_request",
            parameters={"method": "POST", "url": "https://crm.example.com/orders", "account": str(crm_account.pk)},
        ),
        node("ask", "llm", parameters={"model_id": str(chat_model.pk), "prompt": "Summarize {{ input }}"}),
    ]
    return make_workflow(
        nodes,
        chain("start", "post", "ask"),
        variables={"region": "eu"},
        webhook_secret=WEBHOOK_SECRET,
        settings={"timeout_seconds": 120},
    )


def _export(client, workflow) -> dict:
    response = client.get(f"/api/v1/workflows/{workflow.pk}/export")
    assert response.status_code == 200, response.content
    return response.json()


def test_export_names_references_and_holds_no_secret(owner_client, rich_workflow):
    document = _export(owner_client, rich_workflow)["data"]

    text = json.dumps(document)
    assert ACCOUNT_TOKEN not in text
    assert WEBHOOK_SECRET not in text
    assert "webhook_token" not in text
    assert rich_workflow.webhook_token not in text
    assert document["format"] == "athena.workflow"
    assert document["format_version"] == 1
    assert document["references"]["accounts"] == [{"ref": "ref:account_1", "provider": "crm", "name": "CRM production"}]
    assert document["references"]["models"] == [
        {"ref": "ref:model_1", "provider": "chat-vendor", "model": "chat-small"}
    ]
    parameters = {item["id"]: item["parameters"] for item in document["workflow"]["nodes"]}
    assert parameters["post"]["account"] == "ref:account_1"
    assert parameters["ask"]["model_id"] == "ref:model_1"
    assert document["workflow"]["variables"] == {"region": "eu"}
    assert document["workflow"]["settings"]["timeout_seconds"] == 120


def test_export_import_round_trip_in_another_workspace(owner_client, owner, rich_workflow):
    document = _export(owner_client, rich_workflow)
    target = WorkspaceFactory(owner=owner, name="Second team")
    provider = ProviderFactory(workspace=target, key="crm")
    account = AccountFactory(workspace=target, provider=provider, name="CRM production")
    llm_provider = ProviderFactory(workspace=target, key="chat-vendor", kind="llm", llm_protocol="openai")
    model = LargeLanguageModelFactory(provider=llm_provider, workspace=target, model="chat-small")

    response = owner_client.post("/api/v1/workflows/import", document, format="json", HTTP_X_WORKSPACE=str(target.pk))

    assert response.status_code == 201, response.content
    result = response.json()["data"]
    imported = Workflow.objects.get(pk=result["workflow"]["id"])
    assert imported.workspace_id == target.pk
    assert imported.webhook_secret is None
    expected_nodes = json.loads(
        json.dumps(rich_workflow.nodes)
        .replace(str(rich_workflow.nodes[1]["parameters"]["account"]), str(account.pk))
        .replace(str(rich_workflow.nodes[2]["parameters"]["model_id"]), str(model.pk))
    )
    assert imported.nodes == expected_nodes
    assert imported.edges == rich_workflow.edges
    assert imported.variables == rich_workflow.variables
    assert imported.settings == rich_workflow.settings
    assert imported.name == rich_workflow.name
    assert result["report"]["references"]["accounts"]["matched"] == [
        {"provider": "crm", "name": "CRM production", "id": str(account.pk)}
    ]
    assert result["report"]["references"]["accounts"]["unmatched"] == []
    assert result["report"]["warnings"] == []


def test_import_reports_unmatched_account_and_drops_it(owner_client, owner, rich_workflow):
    document = _export(owner_client, rich_workflow)["data"]
    target = WorkspaceFactory(owner=owner, name="Empty team")

    response = owner_client.post("/api/v1/workflows/import", document, format="json", HTTP_X_WORKSPACE=str(target.pk))

    assert response.status_code == 201, response.content
    report = response.json()["data"]["report"]
    assert report["references"]["accounts"]["unmatched"] == [{"provider": "crm", "name": "CRM production"}]
    assert report["references"]["models"]["unmatched"] == [{"provider": "chat-vendor", "model": "chat-small"}]
    assert any("CRM production" in warning for warning in report["warnings"])
    imported = Workflow.objects.get(pk=response.json()["data"]["workflow"]["id"])
    assert "account" not in imported.nodes[1]["parameters"]


def test_import_name_override(owner_client, workspace, rich_workflow):
    document = _export(owner_client, rich_workflow)

    response = owner_client.post(
        "/api/v1/workflows/import?name=Copy", document, format="json", HTTP_X_WORKSPACE=str(workspace.pk)
    )

    assert response.status_code == 201, response.content
    assert response.json()["data"]["workflow"]["name"] == "Copy"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"hello": "world"}, "format"),
        ([], "format"),
        ({"format": "athena.workflow", "format_version": 7, "workflow": {}}, "format_version"),
        ({"format": "athena.workflow", "format_version": 1, "workflow": "nodes"}, "workflow"),
        ({"format": "athena.workflow", "format_version": 1, "workflow": {"name": "x", "nodes": "no"}}, "nodes"),
        (
            {
                "format": "athena.workflow",
                "format_version": 1,
                "workflow": {"name": "x", "nodes": []},
                "references": {"accounts": 3},
            },
            "references.accounts",
        ),
        ({"format": "athena.workflow", "format_version": 1, "workflow": {"name": "x" * 300}}, "name"),
        (
            {
                "format": "athena.workflow",
                "format_version": 1,
                "workflow": {"name": "x", "nodes": [{"id": "a", "type": "nope"}], "edges": []},
            },
            "nodes.a.type",
        ),
    ],
)
def test_import_bad_document_is_422_and_creates_nothing(owner_client, workspace, body, field):
    response = owner_client.post("/api/v1/workflows/import", body, format="json", HTTP_X_WORKSPACE=str(workspace.pk))

    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]
    assert not Workflow.objects.filter(workspace=workspace).exists()


def test_import_malformed_json_is_400(owner_client, workspace):
    response = owner_client.generic(
        "POST",
        "/api/v1/workflows/import",
        b"{broken",
        content_type="application/json",
        HTTP_X_WORKSPACE=str(workspace.pk),
    )

    assert response.status_code == 400, response.content


def test_import_oversized_body_is_413(owner_client, workspace, settings):
    settings.ATHENA_MAX_REQUEST_BYTES = 2000
    body = {"format": "athena.workflow", "format_version": 1, "workflow": {"name": "x", "description": "d" * 5000}}

    response = owner_client.post("/api/v1/workflows/import", body, format="json", HTTP_X_WORKSPACE=str(workspace.pk))

    assert response.status_code == 413, response.content
    assert response.json()["code"] == "payload_too_large"


def test_import_viewer_is_403(viewer_client, workspace, rich_workflow, owner_client):
    document = _export(owner_client, rich_workflow)

    response = viewer_client.post(
        "/api/v1/workflows/import", document, format="json", HTTP_X_WORKSPACE=str(workspace.pk)
    )

    assert response.status_code == 403, response.content


def test_export_of_other_workspace_is_404(rich_workflow, stranger):
    response = client_for(stranger).get(f"/api/v1/workflows/{rich_workflow.pk}/export")

    assert response.status_code == 404, response.content


def test_import_ignores_shared_parameter(owner_client, viewer_client, workspace, rich_workflow):
    document = _export(owner_client, rich_workflow)
    url = "/api/v1/workflows/import?shared=true"

    refused = viewer_client.post(url, document, format="json", HTTP_X_WORKSPACE=str(workspace.pk))
    created = owner_client.post(url, document, format="json", HTTP_X_WORKSPACE=str(workspace.pk))

    assert refused.status_code == 403, refused.content
    assert created.status_code == 201, created.content
    assert Workflow.objects.get(pk=created.json()["data"]["workflow"]["id"]).workspace_id == workspace.pk
