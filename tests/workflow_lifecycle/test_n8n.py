"""n8n import: node mapping of each sample with its expected graph and report, expressions, execution."""

import json

import pytest
from django.test import Client
from django_celery_beat.models import PeriodicTask

from tests.providers.factories import AccountFactory, ProviderFactory
from tests.workflow_lifecycle.conftest import load_sample
from workflows import n8n
from workflows.expressions import render_value
from workflows.models import Workflow
from workflows.n8n.expressions import Scope, Shape, Untranslatable, translate_js
from workflows.schedules import task_name

SHOP_ACCOUNT = "11111111-1111-4111-8111-111111111111"
SMALL_MODEL = "22222222-2222-4222-8222-222222222222"


class FixedLookups:
    """The lookups of the expected files: one account and one model exist, no workflow does."""

    def account(self, name):
        return {"Shop API": SHOP_ACCOUNT}.get(name)

    def model(self, model):
        return {"gpt-4o-mini": SMALL_MODEL}.get(model)

    def workflow(self, name):
        return None


def _scope(input_kind: str = "plain") -> Scope:
    return Scope(
        input_shape=Shape(input_kind),
        node_ids={"Edit Fields": "edit_fields", "Get Orders": "get_orders", "Webhook": "webhook"},
        node_shapes={"Get Orders": Shape("http"), "Webhook": Shape("webhook")},
    )


@pytest.mark.parametrize("sample", ["webhook_greeting", "order_pipeline", "legacy_nodes"])
def test_n8n_sample_converts_to_expected_graph_and_report(sample):
    expected = load_sample(f"{sample}.expected.json")

    conversion = n8n.convert(load_sample(f"{sample}.json"), lookups=FixedLookups())

    assert conversion.name == expected["name"]
    assert conversion.nodes == expected["nodes"]
    assert conversion.edges == expected["edges"]
    assert conversion.settings == expected["settings"]
    assert conversion.report == expected["report"]
    references = [
        {"kind": item.kind, "name": item.name, "matched_id": item.matched_id} for item in conversion.references
    ]
    assert references == expected["references"]


def test_n8n_order_pipeline_covers_every_status():
    report = n8n.convert(load_sample("order_pipeline.json"), lookups=FixedLookups()).report

    statuses = {entry["name"]: entry["status"] for entry in report["nodes"]}
    assert statuses["Compute Tax"] == "unsupported"
    assert statuses["Notify Slack"] == "unsupported"
    assert statuses["AI Agent"] == "approximated"
    assert statuses["Calculator"] == "skipped"
    assert statuses["Route by Status"] == "mapped"
    per_item = {entry["name"] for entry in report["nodes"] if entry["runs_once_instead_of_per_item"]}
    assert {"Post to CRM", "Summarize"} <= per_item
    assert "Get Orders" not in per_item


def test_n8n_unsupported_node_keeps_original_parameters_in_notes():
    conversion = n8n.convert(load_sample("order_pipeline.json"), lookups=FixedLookups())

    code = next(item for item in conversion.nodes if item["id"] == "compute_tax")
    assert code["type"] == "noop"
    assert code["parameters"] == {}
    assert "JavaScript or Python code is not run by Athena." in code["notes"]
    assert "item.json.total * 0.2" in code["notes"]


@pytest.mark.parametrize(
    ("source", "input_kind", "expected"),
    [
        ("$json.name", "plain", 'input["name"]'),
        ("$json['first name']", "plain", 'input["first name"]'),
        ('$json["items"][0].id', "plain", 'input["items"][0]["id"]'),
        ("$input.item.json.total", "plain", 'input["total"]'),
        ("$input.first().json.total", "plain", 'input["total"]'),
        ("$('Edit Fields').item.json.greeting", "plain", 'nodes["edit_fields"]["output"]["greeting"]'),
        ('$node["Edit Fields"].json.greeting', "plain", 'nodes["edit_fields"]["output"]["greeting"]'),
        ("$('Get Orders').first().json.id", "plain", 'nodes["get_orders"]["output"]["body"]["id"]'),
        ("$('Webhook').item.json.body.email", "plain", 'trigger["body"]["email"]'),
        ("$json.body.email", "webhook", 'trigger["body"]["email"]'),
        ("$json.query.page", "webhook", 'trigger["query"]["page"]'),
        ("$json.id", "http", 'input["body"]["id"]'),
        ("$json.statusCode", "http_full", 'input["status"]'),
        ("$json.output", "llm", 'input["text"]'),
        ("$now", "plain", "now"),
        ("$vars.region", "plain", 'vars["region"]'),
        ("$execution.id", "plain", 'execution["id"]'),
        ("$workflow.id", "plain", 'execution["workflow_id"]'),
        (
            "$json.total >= 100 && $json.status !== 'void'",
            "plain",
            'input["total"] >= 100 and input["status"] != "void"',
        ),
        ("!$json.done || $json.count === null", "plain", 'not input["done"] or input["count"] == none'),
        ("$json.name.toUpperCase()", "plain", 'input["name"] | upper'),
        ("$json.tags.length", "plain", 'input["tags"] | length'),
        ("($json.a + 1) * 2", "plain", '(input["a"] + 1) * 2'),
    ],
)
def test_n8n_expression_translates(source, input_kind, expected):
    assert translate_js(source, _scope(input_kind)) == expected


@pytest.mark.parametrize(
    ("source", "input_kind"),
    [
        ("$json.items.map(item => item.id)", "plain"),
        ("Math.max($json.a, 1)", "plain"),
        ("$env.API_KEY", "plain"),
        ("$json.vip ? 'a' : 'b'", "plain"),
        ("$('Missing').item.json.x", "plain"),
        ("$json[$json.key]", "plain"),
        ("DateTime.now()", "plain"),
        ("$json.params.id", "webhook"),
        ("`template ${x}`", "plain"),
    ],
)
def test_n8n_expression_untranslatable_raises(source, input_kind):
    with pytest.raises(Untranslatable):
        translate_js(source, _scope(input_kind))


def test_n8n_switch_expression_renders_in_athena():
    nodes = n8n.convert(load_sample("order_pipeline.json"), lookups=FixedLookups()).nodes
    switch = next(item for item in nodes if item["id"] == "route_by_status")

    def route(body):
        return render_value(switch["parameters"]["value"], {"input": {"status": 200, "body": body}})

    assert route({"status": "paid", "total": 5}) == "paid"
    assert route({"status": "open", "total": 500}) == "output_1"
    assert route({"status": "open", "total": 5}) == "default"


def test_n8n_missing_trigger_and_cycle():
    document = {
        "name": "Loop",
        "nodes": [
            {"name": "A", "type": "n8n-nodes-base.noOp", "typeVersion": 1, "position": [0, 0], "parameters": {}},
            {"name": "B", "type": "n8n-nodes-base.noOp", "typeVersion": 1, "position": [200, 0], "parameters": {}},
        ],
        "connections": {
            "A": {"main": [[{"node": "B", "type": "main", "index": 0}]]},
            "B": {"main": [[{"node": "A", "type": "main", "index": 0}]]},
        },
    }

    conversion = n8n.convert(document, lookups=FixedLookups())

    assert conversion.nodes[0]["type"] == "trigger.manual"
    assert [(edge["source"], edge["target"]) for edge in conversion.edges] == [("a", "b"), ("start", "a")]
    assert any("closes a loop" in warning for warning in conversion.report["warnings"])
    assert any("manual trigger" in warning for warning in conversion.report["warnings"])


@pytest.mark.django_db
def test_n8n_import_api_matches_credentials_by_name(owner_client, workspace):
    provider = ProviderFactory(workspace=workspace, key="shop")
    account = AccountFactory(workspace=workspace, provider=provider, name="Shop API")

    response = owner_client.post(
        "/api/v1/workflows/import",
        load_sample("order_pipeline.json"),
        format="json",
        HTTP_X_WORKSPACE=str(workspace.pk),
    )

    assert response.status_code == 201, response.content
    result = response.json()["data"]
    references = result["report"]["references"]
    assert references["accounts"]["matched"] == [
        {"name": "Shop API", "n8n_credential_type": "httpHeaderAuth", "id": str(account.pk)}
    ]
    assert references["accounts"]["unmatched"] == [{"name": "OpenAI main", "n8n_credential_type": "openAiApi"}]
    assert references["workflows"]["unmatched"] == [{"name": "Billing"}]
    # No catalogue model is named gpt-4o-mini here, so "Summarize" is approximated too.
    assert result["report"]["summary"] == {"mapped": 10, "approximated": 5, "unsupported": 2, "skipped": 2}
    workflow = Workflow.objects.get(pk=result["workflow"]["id"])
    parameters = {item["id"]: item["parameters"] for item in workflow.nodes}
    assert parameters["get_orders"]["account"] == str(account.pk)
    assert workflow.schedule_cron == "15 */2 * * *"
    assert workflow.schedule_timezone == "Europe/Berlin"
    # A schedule must not fire before someone reviewed the conversion.
    assert workflow.active is False
    assert any("imported inactive" in warning for warning in result["report"]["warnings"])
    assert not PeriodicTask.objects.filter(name=task_name(workflow.pk)).exists()


@pytest.mark.django_db
def test_n8n_import_of_several_workflows_is_422(owner_client, workspace):
    sample = load_sample("order_pipeline.json")

    response = owner_client.post(
        "/api/v1/workflows/import", [*sample, *sample], format="json", HTTP_X_WORKSPACE=str(workspace.pk)
    )

    assert response.status_code == 422, response.content
    assert "nodes" in response.json()["errors"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("run", [0, 1])
def test_n8n_imported_webhook_workflow_answers_as_recorded(owner_client, workspace, settings, run):
    settings.WORKFLOWS_SYNC_WEBHOOK_TIMEOUT_SECONDS = 10
    expected = load_sample("webhook_greeting.expected.json")["runs"][run]
    imported = owner_client.post(
        "/api/v1/workflows/import",
        load_sample("webhook_greeting.json"),
        format="json",
        HTTP_X_WORKSPACE=str(workspace.pk),
    )
    assert imported.status_code == 201, imported.content
    webhook_url = imported.json()["data"]["workflow"]["webhook_url"]

    response = Client().post(
        "/api/v1/hooks/" + webhook_url.rsplit("/", 1)[1], json.dumps(expected["body"]), content_type="application/json"
    )

    assert response.status_code == expected["response"]["status"], response.content
    for name, value in expected["response"]["headers"].items():
        assert response[name] == value
    if "json" in expected["response"]:
        assert response.json() == expected["response"]["json"]
    else:
        assert response.content.decode() == expected["response"]["text"]
