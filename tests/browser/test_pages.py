"""The main jobs of Athena done in a real browser, with a screenshot of each main page."""

import re

import pytest
import requests
from django.conf import settings
from django.core import mail

from accounts_auth.services import personal_access_token_create
from providers.models import Account, Provider, ProviderKind
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from workflows.models import ExecutionMode, ExecutionStatus, WorkflowExecution
from workflows.services.workflows import workflow_create
from workspaces import services as workspace_services
from workspaces.models import Role

PASSWORD = "a long and unusual passphrase 42"
THREE_NODES = {
    "nodes": [
        {"id": "start", "type": "trigger.manual", "name": "Start", "parameters": {}},
        {"id": "shape", "type": "set", "name": "Shape", "parameters": {"values": {"greeting": "hello"}}},
        {"id": "say", "type": "template", "name": "Say", "parameters": {"template": "{{ input.greeting }} world"}},
    ],
    "edges": [
        {"id": "e1", "source": "start", "target": "shape"},
        {"id": "e2", "source": "shape", "target": "say"},
    ],
}


@pytest.fixture
def team(transactional_db):
    """An owner with a current workspace holding a workflow."""
    owner = UserFactory(name="Ada Owner")
    workspace = WorkspaceFactory(owner=owner, name="Support team")
    workspace_services.workspace_set_current(user=owner, workspace=workspace)
    workflow = workflow_create(workspace=workspace, user=owner, data={"name": "Triage tickets", **THREE_NODES})
    return {"owner": owner, "workspace": workspace, "workflow": workflow}


def test_browser_sign_up_verify_and_log_in(page, screenshot):
    # given a visitor on the sign-up page
    email = "new.person@example.com"
    page.goto("/accounts/signup/")
    screenshot("signup")

    # when they sign up, follow the link in the verification email, then sign in again
    page.fill("#id_email", email)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/accounts/confirm-email/")
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[-1].body).group(0)
    page.goto(link)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    page.click("summary.user-menu-summary, .user-menu summary")
    page.click("text=Sign out")
    page.goto("/accounts/login/")
    screenshot("login")
    page.fill("#id_login", email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")

    # then the dashboard of their personal workspace shows
    page.wait_for_selector("[data-testid=metric-cards]")
    assert email in page.content()


def test_browser_dashboard_shows_metrics_and_charts(page, sign_in, screenshot, team):
    # given executions of the workflow, one failed
    for status in (ExecutionStatus.SUCCEEDED, ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED):
        WorkflowExecution.objects.create(
            workspace=team["workspace"], workflow=team["workflow"], status=status, mode=ExecutionMode.API
        )

    # when the owner opens the dashboard
    sign_in(team["owner"]).goto("/")

    # then the cards count them and the charts are drawn
    page.wait_for_selector(".chart .uplot canvas")
    cards = " ".join(page.inner_text("[data-testid=metric-cards]").split())
    assert "Workflow executions 3" in cards
    assert "Failed executions 1" in cards
    page.select_option("#pin-workflow", label="Triage tickets")
    page.click("form:has(#pin-workflow) button")
    page.wait_for_selector(".board-item")
    screenshot("dashboard")


def test_browser_api_token_shown_once_then_revoked(page, sign_in, screenshot, team):
    sign_in(team["owner"]).goto("/settings/tokens/")

    page.fill("#id_name", "CI deploy")
    page.fill("#id_abilities", "workflows:read workflows:run")
    page.click("text=Create token")
    secret = page.inner_text("[data-testid=new-token-secret]").strip()
    screenshot("tokens")
    page.goto("/settings/tokens/")

    assert secret.startswith("athena_pat_")
    assert secret not in page.content()
    page.click("button[aria-label='Revoke CI deploy']")
    page.wait_for_selector("text=was revoked")
    assert "You have no API tokens." in page.content()


def test_browser_viewer_sees_no_edit_controls(page, sign_in, screenshot, team):
    viewer = UserFactory(name="Vera Viewer")
    MembershipFactory(user=viewer, workspace=team["workspace"], role=Role.VIEWER)
    workspace_services.workspace_set_current(user=viewer, workspace=team["workspace"])
    sign_in(viewer)

    pages = {}
    for path in ("/settings/workspace/", "/settings/workspace/variables/", "/connections/", "/"):
        page.goto(path)
        pages[path] = page.content()
    page.goto("/settings/workspace/")
    screenshot("members-viewer")

    assert "Add or invite" not in pages["/settings/workspace/"]
    assert "Change role" not in pages["/settings/workspace/"]
    assert "Add a variable" not in pages["/settings/workspace/variables/"]
    assert "Connect with a key" not in pages["/connections/"]
    assert "Add a note" not in pages["/"]


def test_browser_connect_account_with_key_and_test(page, sign_in, screenshot, team, fake_llm):
    # given a provider of the workspace pointing at the fake LLM, which needs a key
    fake_llm.api_key = "sk-fake-" + "k" * 24
    Provider.objects.create(
        workspace=team["workspace"],
        key="local-llm",
        name="Local LLM",
        kind=ProviderKind.LLM,
        llm_protocol="openai",
        base_url=fake_llm.openai_base_url,
        authentication_config={
            "strategy": "bearer",
            "placement": "header",
            "name": "Authorization",
            "prefix": "Bearer ",
        },
    )
    sign_in(team["owner"]).goto("/connections/")

    # when the owner connects it with the key and presses Test
    page.click("text=Connect with a key")
    page.fill("input[name=name]", "Local model")
    page.fill("input[name=token]", fake_llm.api_key)
    page.click("text=Connect Local LLM")
    page.wait_for_selector("text=is connected to Local LLM")
    page.click("button[aria-label='Test Local model']")

    # then the test passes and the key is nowhere on the page
    page.wait_for_selector("text=Test of Local model passed")
    screenshot("connections")
    assert fake_llm.api_key not in page.content()
    assert Account.objects.get(workspace=team["workspace"]).status == "active"


def test_browser_execution_nodes_turn_green(page, sign_in, screenshot, team, request, live_server):
    # given a real worker when Redis is configured (tasks run inside the server otherwise)
    if settings.REDIS_URL:
        request.getfixturevalue("celery_worker_process")
    _token, raw = personal_access_token_create(user=team["owner"], name="browser test", abilities=["*"])

    # when the workflow is triggered through the API and its execution page is opened
    response = requests.post(
        f"{live_server.url}/api/v1/workflows/{team['workflow'].pk}/run",
        json={"body": {"ticket": 42}},
        headers={"Authorization": f"Bearer {raw}"},
        timeout=10,
    )
    assert response.status_code in (200, 201, 202), response.text
    execution_id = response.json()["data"]["id"]
    sign_in(team["owner"]).goto(f"/executions/{execution_id}/")

    # then every node turns green as the execution finishes
    page.wait_for_selector("#execution-live[data-status=succeeded]", timeout=30_000)
    statuses = page.eval_on_selector_all("g.node", "nodes => nodes.map(node => node.dataset.status)")
    assert statuses == ["succeeded", "succeeded", "succeeded"]
    page.click("summary:has-text('say')")
    assert "hello world" in page.inner_text(".node-runs")
    screenshot("execution")
    page.goto("/executions/")
    screenshot("executions")


def test_browser_settings_pages_render(page, sign_in, screenshot, team):
    sign_in(team["owner"])

    for name, path in (
        ("profile", "/settings/profile/"),
        ("members", "/settings/workspace/"),
        ("variables", "/settings/workspace/variables/"),
        ("service-accounts", "/settings/workspace/service-accounts/"),
        ("sessions", "/settings/sessions/"),
    ):
        page.goto(path)
        assert page.locator("h1").count() == 1, path
        screenshot(name)

    page.goto("/settings/workspace/variables/")
    page.fill("#id_key", "API_KEY")
    page.fill("#id_value", "never-shown-secret")
    page.check("#id_secret")
    page.click("button:has-text('Save')")
    page.wait_for_selector("text=API_KEY was saved")
    assert "never-shown-secret" not in page.content()
