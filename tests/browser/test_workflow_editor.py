"""The workflow list and the canvas editor, driven in a real browser."""

import json

import pytest
import requests
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from workflows.models import Workflow, WorkflowExecution
from workflows.nodes import node_types
from workflows.services.workflows import workflow_create, workflow_update
from workspaces import services as workspace_services
from workspaces.models import Role

START_ONLY = {"nodes": [{"id": "start", "type": "trigger.manual", "name": "Start", "position": {"x": 60, "y": 120}}]}
TWO_NODES = {
    "nodes": [
        {"id": "start", "type": "trigger.manual", "name": "Start", "position": {"x": 60, "y": 120}},
        {
            "id": "shape",
            "type": "set",
            "name": "Shape",
            "position": {"x": 340, "y": 120},
            "parameters": {"values": {"greeting": "hello"}},
        },
    ],
    "edges": [{"id": "e1", "source": "start", "target": "shape"}],
}


def create_team():
    """Create an owner with a current workspace.

    Resolving a URL imports every app's views in this process, which the live server shares,
    so the first page the browser opens does not pay for those imports.
    """
    reverse("workflow_pages:list")
    owner = UserFactory(name="Ada Owner")
    workspace = WorkspaceFactory(owner=owner, name="Support team")
    workspace_services.workspace_set_current(user=owner, workspace=workspace)
    return {"owner": owner, "workspace": workspace}


@pytest.fixture
def team(transactional_db):
    """An owner and workspace committed to the database, so the live server can read them."""
    return create_team()


@pytest.fixture
def plain_team(db):
    """An owner and workspace for tests that use Django's test client, rolled back afterwards."""
    return create_team()


def make_workflow(team, name="Triage tickets", graph=None):
    return workflow_create(
        workspace=team["workspace"], user=team["owner"], data={"name": name, **(graph or START_ONLY)}
    )


def open_editor(page, workflow):
    page.goto(f"/workflows/{workflow.pk}/")
    page.wait_for_selector("#workflow-editor[data-state=ready]")
    return page


def node(page, node_id):
    return page.locator(f".drawflow-node[data-node-id='{node_id}']")


def test_workflow_list_searches_pages_creates_and_deletes(page, sign_in, screenshot, team):
    # given 21 workflows, one about invoices
    for index in range(20):
        make_workflow(team, name=f"Ticket flow {index:02d}")
    make_workflow(team, name="Invoice reminders")
    sign_in(team["owner"]).goto("/workflows/")

    # when the owner pages, searches, then creates a workflow
    assert page.locator("[data-testid=workflow-table] tbody tr").count() == 20
    screenshot("workflows")
    page.click("text=Next")
    assert "Page 2 of 2" in page.inner_text("main")
    page.fill("#workflow-search", "invoice")
    page.click("button:has-text('Search')")
    rows = page.locator("[data-testid=workflow-table] tbody tr")
    assert rows.count() == 1
    assert "Invoice reminders" in rows.inner_text()
    page.fill("#id_name", "Onboarding")
    page.click("text=Create workflow")
    page.wait_for_selector("#workflow-editor[data-state=ready]")

    # then the new workflow opens on a canvas with its manual trigger, and can be deleted
    assert node(page, "start").count() == 1
    page.goto("/workflows/?search=Invoice")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button[aria-label='Delete Invoice reminders']")
    page.wait_for_selector("text=Invoice reminders was deleted")
    assert not Workflow.objects.filter(name="Invoice reminders").exists()
    assert Workflow.objects.filter(name="Onboarding", workspace=team["workspace"]).exists()


def test_workflow_create_form_rejects_empty_name(page, sign_in, team):
    sign_in(team["owner"]).goto("/workflows/")

    page.click("text=Create workflow")

    assert "This field is required." in page.inner_text("#create-heading + form")
    assert not Workflow.objects.exists()


def test_editor_built_workflow_runs_from_webhook(page, sign_in, screenshot, team, request, live_server):
    # given a workflow holding only a webhook trigger, and a real worker when Redis is configured
    if settings.REDIS_URL:
        request.getfixturevalue("celery_worker_process")
    hook = {"id": "start", "type": "trigger.webhook", "name": "Start", "position": {"x": 60, "y": 120}}
    workflow = make_workflow(team, graph={"nodes": [hook]})
    open_editor(sign_in(team["owner"]), workflow)

    # when a set node is dragged from the palette and a template node added by pressing it
    page.drag_and_drop("[data-node-type='set']", "#wf-canvas", target_position={"x": 380, "y": 120})
    node(page, "set_1").wait_for()
    page.fill("#wf-param-values", '{"greeting": "hello"}')
    page.locator("#wf-param-values").blur()
    page.click("[data-node-type='template']")
    node(page, "template_1").wait_for()

    # then the template node, whose text is required, is marked invalid on the canvas
    page.wait_for_selector(".drawflow-node.wf-invalid[data-node-id='template_1']")
    assert "template" in node(page, "template_1").inner_text()

    # when the nodes are connected by dragging handles and through the side panel, and saved
    page.drag_and_drop(
        ".drawflow-node[data-node-id='start'] .output_1", ".drawflow-node[data-node-id='set_1'] .input_1"
    )
    page.fill("#wf-param-template", "{{ input.greeting }} world")
    page.locator("#wf-param-template").blur()
    node(page, "set_1").click(position={"x": 40, "y": 12})
    page.select_option("#wf-connect-target", "template_1")
    page.click("#wf-connect-button")
    page.wait_for_selector(".drawflow .connection >> nth=1")
    page.wait_for_selector(".drawflow-node.wf-invalid", state="detached")
    screenshot("workflow-editor")
    page.click("[data-action=save]")
    page.wait_for_selector("text=Saved as version 2")

    # then the saved graph has the three nodes in a chain
    workflow.refresh_from_db()
    assert [item["type"] for item in workflow.nodes] == ["trigger.webhook", "set", "template"]
    assert {(edge["source"], edge["target"]) for edge in workflow.edges} == {
        ("start", "set_1"),
        ("set_1", "template_1"),
    }
    assert workflow.nodes[1]["parameters"] == {"values": {"greeting": "hello"}}
    assert workflow.nodes[2]["parameters"] == {"template": "{{ input.greeting }} world"}

    # when its webhook, at the path the Triggers tab shows, is called
    page.click("#wf-tab-triggers")
    hook_path = page.inner_text("[data-testid=webhook-url]").removeprefix(settings.ATHENA_PUBLIC_URL)
    response = requests.post(f"{live_server.url}{hook_path}", json={"ticket": 42}, timeout=30)
    assert response.status_code in (200, 202), response.text
    execution = WorkflowExecution.objects.get(workflow=workflow)

    # then its execution page turns every node green
    page.goto(f"/executions/{execution.pk}/")
    page.wait_for_selector("#execution-live[data-status=succeeded]", timeout=30_000)
    statuses = page.eval_on_selector_all("g.node", "nodes => nodes.map(node => node.dataset.status)")
    assert statuses == ["succeeded", "succeeded", "succeeded"]


def test_editor_undo_redo_copy_paste_and_json(page, sign_in, team):
    workflow = make_workflow(team, graph=TWO_NODES)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_editor(sign_in(team["owner"]), workflow)

    # undo takes an added node back, redo brings it again
    page.click("[data-node-type='noop']")
    node(page, "noop_1").wait_for()
    page.click("[data-action=undo]")
    node(page, "noop_1").wait_for(state="detached")
    page.click("[data-action=redo]")
    node(page, "noop_1").wait_for()

    # a copied node pastes as a new node with its parameters
    node(page, "shape").click(position={"x": 40, "y": 12})
    page.click("[data-action=copy]")
    page.wait_for_selector("text=Copied Shape as JSON")
    page.click("[data-action=paste]")
    node(page, "set_1").wait_for()
    assert "Shape copy" in node(page, "set_1").inner_text()

    # the JSON view shows the graph and applies edits to the canvas
    page.click("#wf-tab-json")
    graph = json.loads(page.input_value("#wf-json"))
    assert [item["id"] for item in graph["nodes"]] == ["start", "shape", "noop_1", "set_1"]
    assert graph["nodes"][3]["parameters"] == {"values": {"greeting": "hello"}}
    graph["nodes"][1]["name"] = "Renamed in JSON"
    page.fill("#wf-json", json.dumps(graph))
    page.click("[data-action=apply-json]")
    assert "Renamed in JSON" in node(page, "shape").inner_text()
    page.fill("#wf-json", "{not json")
    page.click("[data-action=apply-json]")
    assert "not valid JSON" in page.inner_text("#wf-json-error")

    # zoom changes the canvas scale, and the unsaved state is shown
    page.click("[data-action=zoom-in]")
    assert "scale(1.1)" in page.get_attribute(".drawflow", "style")
    assert page.inner_text("#wf-dirty") == "Unsaved changes"


def test_editor_disconnects_and_deletes_nodes(page, sign_in, team):
    workflow = make_workflow(team, graph=TWO_NODES)
    open_editor(sign_in(team["owner"]), workflow)

    node(page, "shape").click(position={"x": 40, "y": 12})
    page.click("button[aria-label^='Disconnect Start']")
    page.wait_for_selector(".drawflow .connection", state="detached")
    page.click("text=Delete node")
    node(page, "shape").wait_for(state="detached")
    page.click("[data-action=save]")
    page.wait_for_selector("text=Saved as version 2")

    workflow.refresh_from_db()
    assert [item["id"] for item in workflow.nodes] == ["start"]
    assert workflow.edges == []


def test_editor_save_shows_server_errors_on_nodes(page, sign_in, team):
    workflow = make_workflow(team)
    open_editor(sign_in(team["owner"]), workflow)

    page.click("[data-node-type='condition']")
    node(page, "condition_1").wait_for()
    page.click("[data-action=save]")

    page.wait_for_selector("text=Not saved. Fix the problems marked on the nodes")
    assert "conditions" in node(page, "condition_1").locator(".wf-node-errors").inner_text()
    assert "required" in page.inner_text("[data-field=conditions] .errorlist")
    workflow.refresh_from_db()
    assert workflow.version == 1


def test_editor_webhook_secret_and_schedule(page, sign_in, screenshot, team):
    workflow = make_workflow(team)
    open_editor(sign_in(team["owner"]), workflow)

    # the webhook URL is built from ATHENA_PUBLIC_URL and has a copy button
    page.click("#wf-tab-triggers")
    url = page.inner_text("[data-testid=webhook-url]")
    assert url == f"{settings.ATHENA_PUBLIC_URL}/api/v1/hooks/{workflow.webhook_token}"
    assert page.is_visible("button[data-copy-target=wf-webhook-url]")

    # a schedule set from a preset becomes a schedule trigger, saved with the workflow
    page.select_option("#wf-schedule-preset", "0 9 * * 1-5")
    page.fill("#wf-schedule-timezone", "Europe/Paris")
    page.click("text=Add schedule")
    node(page, "trigger_schedule_1").wait_for()
    page.click("[data-action=save]")
    page.wait_for_selector("text=Saved as version 2")
    workflow.refresh_from_db()
    assert (workflow.schedule_cron, workflow.schedule_timezone) == ("0 9 * * 1-5", "Europe/Paris")
    screenshot("workflow-triggers")

    # a generated signing secret is shown once
    page.click("text=Generate a signing secret")
    secret = page.inner_text("[data-testid=webhook-secret]").strip()
    workflow.refresh_from_db()
    assert workflow.webhook_secret.reveal() == secret
    page.click("text=Back to the editor")
    page.wait_for_selector("#workflow-editor[data-state=ready]")
    assert secret not in page.content()
    assert "must be signed" in page.inner_text("[data-testid=webhook-signed]")


def test_editor_bad_schedule_is_shown_on_its_node(page, sign_in, team):
    workflow = make_workflow(team)
    open_editor(sign_in(team["owner"]), workflow)

    page.click("#wf-tab-triggers")
    page.fill("#wf-schedule-cron", "every day at nine")
    page.click("text=Add schedule")

    page.wait_for_selector("#wf-schedule-errors:not([hidden])")
    assert "five fields" in page.inner_text("#wf-schedule-errors")
    assert node(page, "trigger_schedule_1").get_attribute("class").count("wf-invalid") == 1


def test_editor_viewer_sees_no_edit_controls(page, sign_in, team):
    workflow = make_workflow(team, graph=TWO_NODES)
    viewer = UserFactory(name="Vera Viewer")
    MembershipFactory(user=viewer, workspace=team["workspace"], role=Role.VIEWER)
    workspace_services.workspace_set_current(user=viewer, workspace=team["workspace"])
    open_editor(sign_in(viewer), workflow)

    node(page, "shape").click(position={"x": 40, "y": 12})

    assert page.locator("[data-action=save]").count() == 0
    assert page.locator("#wf-palette-list").count() == 0
    assert page.is_disabled("#wf-param-values")
    assert page.locator("text=Delete node").count() == 0
    page.goto("/workflows/")
    assert page.locator("text=Create workflow").count() == 0
    assert page.locator("button:has-text('Delete')").count() == 0


def test_editor_of_another_workspace_is_not_found(page, sign_in, team):
    other = make_workflow({"workspace": WorkspaceFactory(), "owner": team["owner"]}, name="Foreign")
    sign_in(team["owner"])

    response = page.goto(f"/workflows/{other.pk}/")

    assert response.status == 404


def test_editor_tests_one_node_then_the_draft(page, sign_in, screenshot, team):
    # given a saved chain start -> shape
    workflow = make_workflow(team, graph=TWO_NODES)
    open_editor(sign_in(team["owner"]), workflow)

    # when the shape node is tested alone with a pinned input, its output is shown
    node(page, "shape").click(position={"x": 40, "y": 12})
    page.fill("#wf-node-test-input", '{"ticket": 7}')
    page.click("text=Test node")
    page.wait_for_selector("[data-testid=node-test-status]")
    assert page.inner_text("[data-testid=node-test-status]") == "succeeded"
    assert json.loads(page.inner_text("[data-testid=node-test-output]")) == {"greeting": "hello"}

    # when a template node is added and connected without saving, and the draft is tested
    page.click("[data-node-type='template']")
    page.fill("#wf-param-template", "{{ input.greeting }} world")
    page.locator("#wf-param-template").blur()
    node(page, "shape").click(position={"x": 40, "y": 12})
    page.select_option("#wf-connect-target", "template_1")
    page.click("#wf-connect-button")
    page.click("#wf-tab-test")
    page.click("#wf-panel-test [data-action=test-draft]")

    # then every node of the draft ran and the template's output is listed
    page.wait_for_selector("[data-testid=draft-test-status] .status-succeeded")
    statuses = page.eval_on_selector_all(".drawflow-node", "nodes => nodes.map(node => node.dataset.runStatus)")
    assert statuses == ["succeeded", "succeeded", "succeeded"]
    assert "hello world" in page.text_content("#wf-test-result")
    screenshot("workflow-test")
    workflow.refresh_from_db()
    assert workflow.version == 1


def test_editor_versions_compare_and_restore(page, sign_in, team):
    # given a workflow saved twice: version 2 added a node
    workflow = make_workflow(team, graph=START_ONLY)
    workflow_update(workflow=workflow, user=team["owner"], data=TWO_NODES)
    open_editor(sign_in(team["owner"]), workflow)

    # when version 1 is compared with the current version
    page.click("#wf-tab-versions")
    page.wait_for_selector("#wf-versions tr[data-version='1']")
    page.click("button[aria-label='Compare version 1 with the current version']")

    # then the diff names the added node
    page.wait_for_selector("[data-testid=version-diff]")
    assert "shape" in page.inner_text("[data-testid=version-diff]")

    # when version 1 is restored, the canvas shows its graph as version 3
    page.click("button[aria-label='Restore version 1']")
    page.wait_for_selector("text=Version 1 was restored as version 3")
    node(page, "shape").wait_for(state="detached")
    workflow.refresh_from_db()
    assert workflow.version == 3
    assert [item["id"] for item in workflow.nodes] == ["start"]


def test_workflow_export_then_import_with_report(page, sign_in, team, tmp_path):
    # given an exported workflow
    workflow = make_workflow(team, graph=TWO_NODES)
    open_editor(sign_in(team["owner"]), workflow)
    href = page.get_attribute("[data-testid=export-link]", "href")
    exported = page.request.get(href)
    assert exported.status == 200, exported.text()
    export_file = tmp_path / "triage.json"
    export_file.write_text(exported.text())

    # when the file is imported from the list page
    page.goto("/workflows/")
    page.set_input_files("#import-file", str(export_file))
    page.click("#import-submit")

    # then the report is shown with a link to the new workflow
    page.wait_for_selector("[data-testid=import-done]")
    assert page.locator("[data-testid=import-report]").count() == 1
    assert Workflow.objects.filter(workspace=team["workspace"]).count() == 2
    page.click("text=Open it in the editor")
    page.wait_for_selector("#workflow-editor[data-state=ready]")
    assert node(page, "shape").count() == 1


def test_workflow_import_of_invalid_file_shows_error(page, sign_in, team, tmp_path):
    bad_file = tmp_path / "broken.json"
    bad_file.write_text("{not json")
    sign_in(team["owner"]).goto("/workflows/")

    page.set_input_files("#import-file", str(bad_file))
    page.click("#import-submit")

    page.wait_for_selector("#import-result .alert-error")
    assert "is not valid JSON" in page.inner_text("#import-result")
    assert not Workflow.objects.exists()


# --- the page endpoints without a browser ---------------------------------------------


@pytest.fixture
def client_for(client):
    def sign(user):
        client.force_login(user)
        return client

    return sign


def test_workflow_pages_redirect_anonymous_visitors(client, plain_team):
    workflow = make_workflow(plain_team)

    for path in ("/workflows/", f"/workflows/{workflow.pk}/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/accounts/login/" in response["Location"]
    response = client.post("/workflows/validate/", data="{}", content_type="application/json")
    assert response.status_code == 302


def test_workflow_pages_hide_other_workspaces(client_for, plain_team):
    foreign = make_workflow({"workspace": WorkspaceFactory(), "owner": plain_team["owner"]}, name="Foreign")
    client = client_for(plain_team["owner"])

    assert client.get(f"/workflows/{foreign.pk}/").status_code == 404
    assert client.post(f"/workflows/{foreign.pk}/delete/").status_code == 404
    assert client.post(f"/workflows/{foreign.pk}/webhook-secret/").status_code == 404
    assert Workflow.objects.filter(pk=foreign.pk).exists()


def test_workflow_pages_refuse_viewer_writes(client_for, plain_team):
    workflow = make_workflow(plain_team)
    viewer = UserFactory()
    MembershipFactory(user=viewer, workspace=plain_team["workspace"], role=Role.VIEWER)
    workspace_services.workspace_set_current(user=viewer, workspace=plain_team["workspace"])
    client = client_for(viewer)

    assert client.post("/workflows/create/", {"name": "Sneaky"}).status_code == 403
    assert client.post(f"/workflows/{workflow.pk}/delete/").status_code == 403
    assert client.post(f"/workflows/{workflow.pk}/webhook-secret/").status_code == 403
    assert client.get(f"/workflows/{workflow.pk}/").status_code == 200
    workflow.refresh_from_db()
    assert workflow.webhook_secret is None
    assert Workflow.objects.count() == 1


def test_workflow_create_rejects_long_name(client_for, plain_team):
    client = client_for(plain_team["owner"])

    response = client.post("/workflows/create/", {"name": "x" * 201})

    assert response.status_code == 422
    assert "at most 200 characters" in response.content.decode()
    assert not Workflow.objects.exists()


def test_workflow_validate_reports_errors_by_node(client_for, plain_team):
    client = client_for(plain_team["owner"])
    graph = {"nodes": [{"id": "start", "type": "trigger.manual"}, {"id": "say", "type": "template"}], "edges": []}

    response = client.post("/workflows/validate/", data=json.dumps(graph), content_type="application/json")

    assert response.status_code == 200, response.content
    assert "nodes.say.parameters" in response.json()["errors"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("{not json", 400, "malformed_json"),
        ("[1, 2]", 422, "validation_error"),
        ('{"nodes": "' + "x" * (2 * 1024 * 1024) + '"}', 413, "payload_too_large"),
        ('{"nodes": "' + "x" * (3 * 1024 * 1024) + '"}', 413, "payload_too_large"),
    ],
)
def test_workflow_validate_rejects_bad_bodies(client_for, plain_team, body, status, code):
    client = client_for(plain_team["owner"])

    response = client.post("/workflows/validate/", data=body, content_type="application/json")

    assert response.status_code == status, response.content
    assert response.json()["code"] == code


def test_workflow_validate_rejects_missing_csrf_token(plain_team):
    client = Client(enforce_csrf_checks=True)
    client.force_login(plain_team["owner"])

    response = client.post("/workflows/validate/", data="{}", content_type="application/json")

    assert response.status_code == 403


def test_editor_page_embeds_node_catalogue(client_for, plain_team):
    workflow = make_workflow(plain_team)
    client = client_for(plain_team["owner"])

    response = client.get(f"/workflows/{workflow.pk}/")

    assert response.status_code == 200
    data = response.context["editor_data"]
    catalogue = {item["type"]: item for item in data["catalogue"]}
    assert set(catalogue) == set(node_types())
    assert catalogue["condition"]["handles"] == ["true", "false"]
    assert catalogue["template"]["schema"]["required"] == ["template"]
    assert catalogue["trigger.webhook"]["is_trigger"] is True
    assert data["workflow"]["id"] == str(workflow.pk)
    assert data["can_write"] is True
