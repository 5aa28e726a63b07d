"""The browser pages rendered by Django's test client: sign-in, isolation, roles, CSRF and secrets."""

import re

import pytest
from django.test import Client

from accounts_auth.models import PersonalAccessToken
from accounts_auth.services import service_account_create
from providers.models import Account, Provider
from tests.factories import UserFactory, VariableFactory, WorkspaceFactory
from workflows.models import ExecutionMode, ExecutionStatus, NodeRunStatus, WorkflowExecution, WorkflowNodeRun
from workflows.services.executions import workflow_snapshot
from workspaces.models import CommandRoomTask, Membership, Role, Variable

PAGES = [
    "/",
    "/executions/",
    "/connections/",
    "/settings/profile/",
    "/settings/tokens/",
    "/settings/sessions/",
    "/settings/workspace/",
    "/settings/workspace/variables/",
    "/settings/workspace/service-accounts/",
]


def _execution(workflow, status=ExecutionStatus.SUCCEEDED) -> WorkflowExecution:
    execution = WorkflowExecution.objects.create(
        workspace_id=workflow.workspace_id,
        workflow=workflow,
        status=status,
        mode=ExecutionMode.API,
        workflow_data=workflow_snapshot(workflow=workflow),
    )
    WorkflowNodeRun.objects.create(
        execution=execution,
        node_id="start",
        node_type="trigger.manual",
        status=NodeRunStatus.SUCCEEDED,
        output={"ok": True},
    )
    return execution


@pytest.mark.parametrize("path", PAGES)
def test_pages_need_sign_in(db, path):
    response = Client().get(path)

    if path == "/":
        assert response.status_code == 200
        assert b"Self-hostable AI agents" in response.content
    else:
        assert response.status_code == 302, response.content
        assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("path", PAGES)
def test_pages_render_for_the_owner(owner, workspace, browser_for, path):
    response = browser_for(owner).get(path)

    assert response.status_code == 200, response.content[:2000]
    assert b"Workspace" in response.content


def test_dashboard_shows_metrics_and_recent_executions(owner, workspace, workflow, browser_for):
    _execution(workflow)
    _execution(workflow, ExecutionStatus.FAILED)

    response = browser_for(owner).get("/")

    content = response.content.decode()
    assert 'data-testid="metric-cards"' in content
    assert "Workflow executions" in content
    assert 'id="chart-executions"' in content
    assert "Triage" in content


def test_workspace_switcher_changes_the_current_workspace(owner, workspace, browser_for):
    other = WorkspaceFactory(owner=owner, name="Second team")
    client = browser_for(owner)

    response = client.post("/workspace/switch/", {"workspace": str(other.pk), "next": "/executions/"})

    assert response.status_code == 302
    assert response["Location"] == "/executions/"
    owner.refresh_from_db()
    assert owner.current_workspace_id == other.pk


def test_workspace_switcher_refuses_a_foreign_workspace(owner, workspace, browser_for):
    foreign = WorkspaceFactory(owner=UserFactory(), name="Foreign")

    browser_for(owner).post("/workspace/switch/", {"workspace": str(foreign.pk)})

    owner.refresh_from_db()
    assert owner.current_workspace_id == workspace.pk


def test_forms_need_csrf(owner, workspace):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)

    response = client.post("/settings/tokens/", {"name": "ci", "abilities": "*"})

    assert response.status_code == 403
    assert not PersonalAccessToken.objects.filter(user=owner).exists()


def test_token_secret_is_shown_once(owner, workspace, browser_for):
    client = browser_for(owner)

    created = client.post("/settings/tokens/", {"name": "ci deploy", "abilities": "workflows:read workflows:run"})
    listed = client.get("/settings/tokens/")

    assert created.status_code == 201, created.content
    assert created["Cache-Control"] == "no-store"
    secret = re.search(r'data-testid="new-token-secret">([^<]+)<', created.content.decode()).group(1)
    assert secret.startswith("athena_pat_")
    assert secret not in listed.content.decode()
    token = PersonalAccessToken.objects.get(user=owner)
    assert token.abilities == ["workflows:read", "workflows:run"]


def test_token_form_errors_are_next_to_the_field(owner, workspace, browser_for):
    response = browser_for(owner).post("/settings/tokens/", {"name": "", "abilities": "agents:fly"})

    content = response.content.decode()
    assert response.status_code == 422
    assert 'id="id_name_error"' in content
    assert "not an action of" in content


def test_token_revoke_and_rotate(owner, workspace, browser_for):
    client = browser_for(owner)
    client.post("/settings/tokens/", {"name": "old", "abilities": "*"})
    token = PersonalAccessToken.objects.get(user=owner)

    rotated = client.post(f"/settings/tokens/{token.pk}/rotate/")
    replacement = PersonalAccessToken.objects.get(user=owner, replaced_by__isnull=True)
    revoked = client.post(f"/settings/tokens/{replacement.pk}/revoke/")

    assert rotated.status_code == 201
    assert revoked.status_code == 302
    replacement.refresh_from_db()
    assert replacement.revoked_at is not None


def test_another_users_token_is_not_found(owner, workspace, browser_for):
    stranger = UserFactory()
    from accounts_auth.services import personal_access_token_create

    token, _raw = personal_access_token_create(user=stranger, name="theirs")

    response = browser_for(owner).post(f"/settings/tokens/{token.pk}/revoke/")

    assert response.status_code == 404


def test_viewer_sees_no_edit_controls_and_forged_posts_are_403(member_of, workspace, browser_for, workflow):
    viewer = member_of(Role.VIEWER)
    client = browser_for(viewer)
    execution = _execution(workflow)

    pages = {path: client.get(path).content.decode() for path in PAGES}
    pages["execution"] = client.get(f"/executions/{execution.pk}/").content.decode()

    assert "Add a member" not in pages["/settings/workspace/"]
    assert "Change role" not in pages["/settings/workspace/"]
    assert "Add a variable" not in pages["/settings/workspace/variables/"]
    assert "Create a service account" not in pages["/settings/workspace/service-accounts/"]
    assert "Connect with a key" not in pages["/connections/"]
    assert "Pin note" not in pages["/"]
    assert "Retry" not in pages["execution"]
    forged = [
        client.post("/settings/workspace/members/add/", {"email": "x@example.com", "role": "owner"}),
        client.post("/settings/workspace/variables/add/", {"key": "X", "value": "1"}),
        client.post("/settings/workspace/service-accounts/add/", {"name": "bot", "role": "admin"}),
        client.post("/dashboard/board/pin/", {"kind": "note", "title": "hi"}),
        client.post(f"/executions/{execution.pk}/retry/"),
    ]
    assert [response.status_code for response in forged] == [403] * len(forged)
    assert not Variable.objects.filter(workspace=workspace, key="X").exists()
    assert not CommandRoomTask.objects.filter(workspace=workspace).exists()


def test_other_workspace_execution_is_404(owner, workspace, browser_for):
    stranger = UserFactory()
    foreign = WorkspaceFactory(owner=stranger, name="Foreign")
    from tests.metrics.conftest import GRAPH
    from workflows.services.workflows import workflow_create

    foreign_workflow = workflow_create(workspace=foreign, user=stranger, data={"name": "Theirs", **GRAPH})
    execution = _execution(foreign_workflow)
    client = browser_for(owner)

    assert client.get(f"/executions/{execution.pk}/").status_code == 404
    assert client.post(f"/executions/{execution.pk}/cancel/").status_code == 404


def test_members_add_role_and_remove(owner, workspace, browser_for):
    colleague = UserFactory()
    client = browser_for(owner)

    added = client.post("/settings/workspace/members/add/", {"email": colleague.email, "role": "editor"})
    promoted = client.post(f"/settings/workspace/members/{colleague.pk}/role/", {"role": "admin"})
    membership = Membership.objects.get(workspace=workspace, user=colleague)
    removed = client.post(f"/settings/workspace/members/{colleague.pk}/remove/")

    assert (added.status_code, promoted.status_code, removed.status_code) == (302, 302, 302)
    assert membership.role == Role.ADMIN
    assert not Membership.objects.filter(workspace=workspace, user=colleague).exists()


def test_admin_cannot_grant_owner(member_of, browser_for, workspace):
    admin = member_of(Role.ADMIN)

    response = browser_for(admin).post(
        "/settings/workspace/members/add/", {"email": "new@example.com", "role": "owner"}
    )

    assert response.status_code == 422
    assert "Only an owner" in response.content.decode()


def test_secret_values_are_never_rendered(owner, workspace, browser_for):
    VariableFactory(workspace=workspace, key="API_KEY", value="s3cr3t-value-123", secret=True)
    client = browser_for(owner)

    listed = client.get("/settings/workspace/variables/")
    refused = client.post(
        "/settings/workspace/variables/add/", {"key": "API_KEY", "value": "another-s3cr3t", "secret": "on"}
    )

    assert "s3cr3t-value-123" not in listed.content.decode()
    assert refused.status_code == 422
    assert "another-s3cr3t" not in refused.content.decode()
    assert "already exists" in refused.content.decode()


def test_service_account_token_is_shown_once(owner, workspace, browser_for):
    account = service_account_create(
        workspace=workspace, name="deploy-bot", role=Role.EDITOR, created_by=owner, actor_role=Role.OWNER
    )
    client = browser_for(owner)

    created = client.post(
        f"/settings/workspace/service-accounts/{account.pk}/tokens/", {"name": "ci", "abilities": "workflows:run"}
    )
    listed = client.get("/settings/workspace/service-accounts/")

    secret = re.search(r'data-testid="new-token-secret">([^<]+)<', created.content.decode()).group(1)
    assert created["Cache-Control"] == "no-store"
    assert secret not in listed.content.decode()


def test_connect_with_a_key_never_renders_it(owner, workspace, browser_for):
    provider = Provider.objects.create(
        workspace=workspace, key="acme", name="Acme API", authentication_config={"strategy": "bearer"}
    )
    client = browser_for(owner)

    missing = client.post(f"/connections/providers/{provider.pk}/connect/", {"name": "Prod"})
    connected = client.post(
        f"/connections/providers/{provider.pk}/connect/", {"name": "Prod", "token": "tok-abcdefgh-1234567890"}
    )
    page = client.get("/connections/")

    assert missing.status_code == 422
    assert "This field is required" in missing.content.decode()
    assert connected.status_code == 302
    assert Account.objects.get(workspace=workspace).name == "Prod"
    assert "tok-abcdefgh-1234567890" not in page.content.decode()
    assert "…7890" in page.content.decode()


def test_execution_detail_draws_nodes_and_actions(owner, workspace, workflow, browser_for):
    execution = _execution(workflow, ExecutionStatus.FAILED)
    client = browser_for(owner)

    detail = client.get(f"/executions/{execution.pk}/")
    live = client.get(f"/executions/{execution.pk}/live/")
    retried = client.post(f"/executions/{execution.pk}/retry/", {"from_node": "shape"})

    content = detail.content.decode()
    assert 'data-node="start" data-status="succeeded"' in content
    assert 'data-node="shape" data-status="pending"' in content
    assert "hx-trigger" not in live.content.decode()
    assert retried.status_code == 302
    assert WorkflowExecution.objects.filter(retry_of=execution).exists()


def test_execution_list_filters(owner, workspace, workflow, browser_for):
    _execution(workflow, ExecutionStatus.FAILED)
    _execution(workflow)
    client = browser_for(owner)

    failed = client.get("/executions/?status=failed")
    bad = client.get("/executions/?status=exploded")

    assert failed.content.decode().count("status-failed") == 1
    assert "A filter is not valid" in bad.content.decode()


def test_board_pin_move_and_remove(owner, workspace, workflow, browser_for):
    client = browser_for(owner)
    from tests.metrics.conftest import GRAPH
    from workflows.services.workflows import workflow_create

    second = workflow_create(workspace=workspace, user=owner, data={"name": "Second", **GRAPH})
    client.post("/dashboard/board/pin/", {"kind": "workflow", "reference_id": str(workflow.pk)})
    client.post("/dashboard/board/pin/", {"kind": "workflow", "reference_id": str(second.pk)})
    task = CommandRoomTask.objects.get(reference_id=second.pk)

    client.post(f"/dashboard/board/{task.pk}/move/", {"direction": "up"})
    order = [item.title for item in CommandRoomTask.objects.filter(workspace=workspace).order_by("position")]
    client.post(f"/dashboard/board/{task.pk}/remove/")

    assert order == ["Second", "Triage"]
    assert CommandRoomTask.objects.filter(workspace=workspace).count() == 1


def test_profile_update(owner, workspace, browser_for):
    response = browser_for(owner).post("/settings/profile/", {"name": "Ada Lovelace"})

    owner.refresh_from_db()
    assert response.status_code == 302
    assert owner.name == "Ada Lovelace"
