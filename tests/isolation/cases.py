"""The isolation matrix's cases: every workspace-scoped route and method under /api/v1/.

Routes deliberately left out are in `ALLOW_LIST`, each with its reason. Other apps keep their
cases next to their tests, in a `tests/<package>/isolation_cases.py` module that defines
`CASES`; `collect_cases()` adds them to the ones below.
"""

import importlib
import pkgutil
import uuid
from pathlib import Path

from accounts_auth.services import personal_access_token_create, service_account_create
from tests.factories import CommandRoomTaskFactory, MembershipFactory, UserFactory, VariableFactory
from tests.isolation.harness import EndpointCase
from workspaces import services
from workspaces.models import Role

# Route prefix -> why it is not in the matrix.
ALLOW_LIST = {
    "schema": "The OpenAPI schema is public and holds no tenant data.",
    "auth/sign-in": "Sign-in is how credentials are obtained; it acts on no workspace.",
    "auth/logout": "Logout acts on the caller's own session or token, not on a workspace.",
    "user": "The user's own profile, tokens and sessions belong to one user, not to a workspace.",
    "hooks": "Public webhooks are authenticated by their secret token, not by a user.",
    "public": "Public share links are usable without an account by design.",
    "openai": (
        "The OpenAI-compatible endpoint answers in OpenAI's error shape; tests/threads/test_openai.py checks "
        "its 401, 404 and 403."
    ),
    "providers/oauth/callback": (
        "The OAuth2 callback is a browser redirect target; it checks the state bound to the session "
        "and answers with redirects, never data."
    ),
}


def _ws(world, obj=None) -> str:
    return f"/api/v1/workspaces/{world.workspace.pk}"


def _editor_member(world):
    user = UserFactory()
    MembershipFactory(user=user, workspace=world.workspace, role=Role.EDITOR)
    return user


def _variable(world):
    return VariableFactory(workspace=world.workspace, key="REGION", value="eu-west-1")


def _task(world):
    return CommandRoomTaskFactory(workspace=world.workspace, title="Watch the triage workflow")


def _invitation(world):
    invitee = UserFactory(email=f"invitee-{uuid.uuid4().hex[:8]}@example.com")
    _invitation, raw = services.invitation_create(
        workspace=world.workspace, email=invitee.email, role=Role.EDITOR, invited_by=world.owner
    )
    return {"invitee": invitee, "token": raw}


def _service_account(world):
    return service_account_create(
        workspace=world.workspace, name="deploy-bot", role=Role.EDITOR, created_by=world.owner, actor_role=Role.OWNER
    )


def _service_account_token(world):
    account = _service_account(world)
    token, _raw = personal_access_token_create(user=account.user, name="ci", abilities=["agents:read"])
    return {"account": account, "token": token}


CASES = [
    # Workspaces
    EndpointCase("workspaces", "GET", lambda w, o: "/api/v1/workspaces", "workspaces:read", scope="user"),
    EndpointCase(
        "workspaces", "POST", lambda w, o: "/api/v1/workspaces", "workspaces:write", scope="user", body={"name": "New"}
    ),
    EndpointCase(
        "workspaces/metrics", "GET", lambda w, o: "/api/v1/workspaces/metrics", "workspaces:read", scope="user"
    ),
    EndpointCase("workspaces/{pk}", "GET", _ws, "workspaces:read"),
    EndpointCase("workspaces/{pk}", "PUT", _ws, "workspaces:write", min_role=Role.ADMIN, body={"name": "Taken"}),
    EndpointCase("workspaces/{pk}", "PATCH", _ws, "workspaces:write", min_role=Role.ADMIN, body={"name": "Taken"}),
    EndpointCase(
        "workspaces/{pk}",
        "DELETE",
        lambda w, o: f"{_ws(w)}?confirm={w.workspace.slug}",
        "workspaces:delete",
        min_role=Role.OWNER,
    ),
    EndpointCase(
        "workspaces/{pk}/transfer-ownership",
        "POST",
        lambda w, o: f"{_ws(w)}/transfer-ownership",
        "workspaces:delete",
        min_role=Role.OWNER,
        factory=lambda w: w.members[Role.EDITOR],
        body=lambda w, o: {"user_id": str(o.pk)},
    ),
    # Members
    EndpointCase("workspaces/{workspace_id}/members", "GET", lambda w, o: f"{_ws(w)}/members", "members:read"),
    EndpointCase(
        "workspaces/{workspace_id}/members",
        "POST",
        lambda w, o: f"{_ws(w)}/members",
        "members:write",
        min_role=Role.ADMIN,
        body={"email": "newcomer@example.com", "role": "viewer"},
    ),
    EndpointCase(
        "workspaces/{workspace_id}/members/{user_id}",
        "PATCH",
        lambda w, o: f"{_ws(w)}/members/{o.pk}",
        "members:write",
        min_role=Role.ADMIN,
        factory=_editor_member,
        body={"role": "viewer"},
    ),
    EndpointCase(
        "workspaces/{workspace_id}/members/{user_id}",
        "DELETE",
        lambda w, o: f"{_ws(w)}/members/{o.pk}",
        "members:delete",
        min_role=Role.ADMIN,
        factory=_editor_member,
    ),
    EndpointCase(
        "workspaces/invitations/{token}/accept",
        "POST",
        lambda w, o: f"/api/v1/workspaces/invitations/{o['token']}/accept",
        "members:write",
        factory=_invitation,
        actor=lambda w, o: o["invitee"],
    ),
    # Variables
    EndpointCase("workspaces/{workspace_id}/variables", "GET", lambda w, o: f"{_ws(w)}/variables", "workspaces:read"),
    EndpointCase(
        "workspaces/{workspace_id}/variables",
        "POST",
        lambda w, o: f"{_ws(w)}/variables",
        "workspaces:write",
        min_role=Role.ADMIN,
        body={"key": "INJECTED", "value": "x"},
    ),
    EndpointCase(
        "workspaces/{workspace_id}/variables/{key}",
        "PATCH",
        lambda w, o: f"{_ws(w)}/variables/{o.key}",
        "workspaces:write",
        min_role=Role.ADMIN,
        factory=_variable,
        body={"value": "tampered"},
    ),
    EndpointCase(
        "workspaces/{workspace_id}/variables/{key}",
        "DELETE",
        lambda w, o: f"{_ws(w)}/variables/{o.key}",
        "workspaces:write",
        min_role=Role.ADMIN,
        factory=_variable,
    ),
    # Command room
    EndpointCase(
        "command-room/tasks", "GET", lambda w, o: "/api/v1/command-room/tasks", "workspaces:read", scope="context"
    ),
    EndpointCase(
        "command-room/tasks",
        "POST",
        lambda w, o: "/api/v1/command-room/tasks",
        "workspaces:write",
        min_role=Role.ADMIN,
        scope="context",
        body={"kind": "note", "title": "Injected"},
    ),
    EndpointCase(
        "command-room/tasks/{pk}",
        "DELETE",
        lambda w, o: f"/api/v1/command-room/tasks/{o.pk}",
        "workspaces:write",
        min_role=Role.ADMIN,
        factory=_task,
    ),
    # Service accounts (built in accounts_auth)
    EndpointCase(
        "workspaces/{workspace_id}/service-accounts",
        "GET",
        lambda w, o: f"{_ws(w)}/service-accounts",
        "members:read",
    ),
    EndpointCase(
        "workspaces/{workspace_id}/service-accounts",
        "POST",
        lambda w, o: f"{_ws(w)}/service-accounts",
        "members:write",
        min_role=Role.ADMIN,
        body={"name": "intruder", "role": "viewer"},
    ),
    EndpointCase(
        "workspaces/{workspace_id}/service-accounts/{service_account_id}",
        "DELETE",
        lambda w, o: f"{_ws(w)}/service-accounts/{o.pk}",
        "members:delete",
        min_role=Role.ADMIN,
        factory=_service_account,
    ),
    EndpointCase(
        "workspaces/{workspace_id}/service-accounts/{service_account_id}/tokens",
        "GET",
        lambda w, o: f"{_ws(w)}/service-accounts/{o.pk}/tokens",
        "members:read",
        factory=_service_account,
    ),
    EndpointCase(
        "workspaces/{workspace_id}/service-accounts/{service_account_id}/tokens",
        "POST",
        lambda w, o: f"{_ws(w)}/service-accounts/{o.pk}/tokens",
        "members:write",
        min_role=Role.ADMIN,
        factory=_service_account,
        body={"name": "stolen", "abilities": ["agents:read"]},
    ),
    EndpointCase(
        "workspaces/{workspace_id}/service-accounts/{service_account_id}/tokens/{token_id}",
        "DELETE",
        lambda w, o: f"{_ws(w)}/service-accounts/{o['account'].pk}/tokens/{o['token'].pk}",
        "members:delete",
        min_role=Role.ADMIN,
        factory=_service_account_token,
    ),
]


def collect_cases() -> list[EndpointCase]:
    """Return the cases above plus every `CASES` list of a `tests/<package>/isolation_cases.py`."""
    cases = list(CASES)
    tests_root = Path(__file__).resolve().parent.parent
    for package in pkgutil.iter_modules([str(tests_root)]):
        if package.ispkg and (tests_root / package.name / "isolation_cases.py").exists():
            module = importlib.import_module(f"tests.{package.name}.isolation_cases")
            cases.extend(module.CASES)
    return cases
