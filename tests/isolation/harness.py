"""A reusable tenant-isolation matrix: one `EndpointCase` per route and method, four checks each.

For every case the matrix checks that:
- a request without credentials is 401 `unauthenticated`;
- a user of another workspace gets 404 (`not_found`, or `workspace_not_found` for the workspace
  context) and the victim workspace's rows are unchanged afterwards;
- a member whose role is just below the case's `min_role` gets 403 `forbidden` for writes,
  and a viewer may perform reads;
- a token lacking the case's ability gets 403 `insufficient_ability`.

A case's `factory` builds the object it acts on inside the victim workspace, and `url` builds
the path from the world and that object. Apps that add routes add a
`tests/<package>/isolation_cases.py` with a `CASES` list (see `cases.collect_cases`). A test
fails for any API route that no case covers, unless `cases.ALLOW_LIST` excuses it.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from accounts_auth.services import personal_access_token_create
from athena_site.api.abilities import all_abilities
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from workspaces.models import Role, Workspace
from workspaces.permissions import ROLE_ORDER

API_PREFIX = "api/v1/"
_NAMED_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")
# Scopes: `object` acts on one object in the victim workspace, `context` lists or creates in
# the workspace named by X-Workspace, `user` acts on the caller's own data.
SCOPES = ("object", "context", "user")


@dataclass
class World:
    """A victim workspace with one member per role, and an outsider with a workspace of their own."""

    workspace: Workspace
    members: dict[str, Any]
    outsider: Any

    @property
    def owner(self) -> Any:
        return self.members[Role.OWNER]


def build_world() -> World:
    owner = UserFactory()
    workspace = WorkspaceFactory(owner=owner, name="Victim")
    members = {Role.OWNER: owner}
    for role in (Role.ADMIN, Role.EDITOR, Role.VIEWER):
        members[role] = UserFactory()
        MembershipFactory(user=members[role], workspace=workspace, role=role)
    outsider = UserFactory()
    WorkspaceFactory(owner=outsider, name="Outsider's team")
    return World(workspace=workspace, members=members, outsider=outsider)


@dataclass(frozen=True)
class EndpointCase:
    route: str
    method: str
    url: Callable[[World, Any], str]
    ability: str
    min_role: str = Role.VIEWER
    scope: str = "object"
    factory: Callable[[World], Any] | None = None
    # A JSON body, or a function of the world and the object returning one.
    body: dict[str, Any] | Callable[[World, Any], dict[str, Any]] | None = None
    # The user who may legitimately call the endpoint when that is not a workspace member
    # chosen by role (accepting an invitation needs the invited user).
    actor: Callable[[World, Any], Any] | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.method} {self.route}"

    @property
    def is_write(self) -> bool:
        return self.method not in ("GET", "HEAD", "OPTIONS")


def client_with(user: Any, abilities: list[str] | None = None) -> APIClient:
    _token, raw = personal_access_token_create(user=user, name="isolation", abilities=abilities or ["*"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def send(client: APIClient, case: EndpointCase, world: World, obj: Any, **headers: str) -> Any:
    method = getattr(client, case.method.lower())
    url = case.url(world, obj)
    body = case.body(world, obj) if callable(case.body) else case.body
    if body is None:
        return method(url, **headers)
    return method(url, body, format="json", **headers)


def role_below(role: str) -> str:
    return ROLE_ORDER[ROLE_ORDER.index(role) - 1]


def abilities_without(required: str) -> list[str]:
    """Every concrete ability except `required`, so only the missing one can cause a refusal."""
    return [ability for ability in all_abilities() if ability != required]


def workspace_state(workspace_id: Any) -> dict[str, list]:
    """Snapshot every row that belongs to a workspace, to prove a refused request changed nothing."""
    from django.apps import apps

    from accounts_auth.models import PersonalAccessToken
    from workspaces.models import Membership

    member_ids = Membership.objects.filter(workspace_id=workspace_id).values("user_id")
    state: dict[str, list] = {
        "workspace": list(Workspace.objects.filter(pk=workspace_id).values()),
        "member_tokens": list(
            PersonalAccessToken.objects.filter(user_id__in=member_ids)
            .order_by("pk")
            .values("pk", "name", "abilities", "revoked_at", "expires_at")
        ),
    }
    for model in apps.get_models():
        fields = {field.name for field in model._meta.get_fields()}
        if model is not Workspace and "workspace" in fields:
            rows = model._default_manager.filter(workspace_id=workspace_id).order_by("pk").values()
            state[model._meta.label] = [_comparable(row) for row in rows]
    return state


def _comparable(row: dict) -> dict:
    # Encrypted columns hold a fresh ciphertext per read of the same value; compare them revealed.
    return {key: (value.reveal() if hasattr(value, "reveal") else value) for key, value in row.items()}


def api_routes() -> set[tuple[str, str]]:
    """Return `(route, METHOD)` for every route under /api/v1/, with `{name}` for each parameter."""
    routes: set[tuple[str, str]] = set()
    for pattern, callback in _walk(get_resolver().url_patterns, ""):
        if not pattern.startswith(API_PREFIX):
            continue
        route = normalize_route(pattern[len(API_PREFIX) :])
        for method in _methods(callback):
            routes.add((route, method))
    return routes


def normalize_route(pattern: str) -> str:
    route = pattern.lstrip("^").rstrip("$")
    route = route.removesuffix("/?")
    return _NAMED_GROUP.sub(lambda match: "{" + match.group(1) + "}", route)


def _walk(patterns: list, prefix: str):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def _methods(callback: Any) -> set[str]:
    # HEAD runs the GET handler and OPTIONS only describes the route, so neither is a case.
    actions = getattr(callback, "actions", None)
    if actions:
        return {method.upper() for method in actions if method not in ("options", "head")}
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view_class is None:
        return {"*"}
    return {
        method.upper()
        for method in view_class.http_method_names
        if method not in ("options", "head") and hasattr(view_class, method)
    }
