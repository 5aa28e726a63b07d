"""The bad input catalogue: every POST, PUT and PATCH route gets the same list of broken bodies.

Each route is called as a user allowed to use it, on a real object where the route acts on
one (the isolation matrix's cases build them), so the request reaches parsing and validation.
For every bad input: never a 5xx; a 400 is `malformed_json`; a 422 names the fields in
`errors`; and a refused request leaves the row count of every model unchanged. Lists get
zero, negative and non-numeric pagination, and every route gets methods it does not support.
"""

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts_auth.services import personal_access_token_create
from athena_site.middleware import body_limit_for
from tests.isolation.cases import collect_cases
from tests.isolation.harness import EndpointCase, World, api_routes, build_world
from tests.security.conftest import count_figure, row_counts
from workspaces.models import Role

pytestmark = pytest.mark.timeout(120)

WRITE_METHODS = ("POST", "PUT", "PATCH")
ONE_MEGABYTE = 1_000_000
# Models whose rows a refused request may legitimately add: the audit trail of failed sign-ins.
AUDIT_MODELS = {"accounts_auth.AuthEvent"}
# A well-formed body may reach an upstream (an LLM provider) that the network jail keeps
# unreachable; 502 to 504 then describe the upstream, not the input.
UPSTREAM_STATUSES = (502, 503, 504)
OPENAI_PREFIX = "openai/"


@dataclass(frozen=True)
class Target:
    """One route and method, with what it takes to call it as a user who may."""

    route: str
    method: str
    url: Callable[[World, Any], str]
    factory: Callable[[World], Any] | None = None
    body: dict[str, Any] | Callable[[World, Any], dict[str, Any]] | None = None
    actor: Callable[[World, Any], Any] | None = None
    authenticated: bool = True
    context: bool = False
    # True when the route is only reached with made-up ids (no case builds its object yet).
    placeholder: bool = False

    @property
    def id(self) -> str:
        return f"{self.method} {self.route}"


def _from_case(case: EndpointCase) -> Target:
    return Target(
        route=case.route,
        method=case.method,
        url=case.url,
        factory=case.factory,
        body=case.body,
        actor=case.actor,
        context=case.scope == "context",
    )


def _own_token(world: World) -> Any:
    token, _raw = personal_access_token_create(user=world.owner, name="rotate me", abilities=["agents:read"])
    return token


# Routes that act on the caller's own data or on no workspace, which the isolation matrix leaves out.
USER_TARGETS = [
    Target("user", "PUT", lambda w, o: "/api/v1/user", body={"name": "Ada Lovelace"}),
    Target("user", "PATCH", lambda w, o: "/api/v1/user", body={"name": "Ada Lovelace"}),
    Target(
        "user/tokens", "POST", lambda w, o: "/api/v1/user/tokens", body={"name": "ci", "abilities": ["agents:read"]}
    ),
    Target(
        "user/tokens/{token_id}/rotate",
        "POST",
        lambda w, o: f"/api/v1/user/tokens/{o.pk}/rotate",
        factory=_own_token,
    ),
    Target(
        "auth/sign-in",
        "POST",
        lambda w, o: "/api/v1/auth/sign-in",
        body=lambda w, o: {"email": w.owner.email, "password": "wrong password", "token_name": "cli"},
        authenticated=False,
    ),
    Target("auth/logout", "POST", lambda w, o: "/api/v1/auth/logout", body={}),
]


def _placeholder_url(route: str) -> Callable[[World, Any], str]:
    def build(world: World, obj: Any) -> str:
        return "/api/v1/" + re.sub(r"\{\w+\}", str(uuid.uuid4()), route)

    return build


def collect_targets() -> list[Target]:
    """Every write route: isolation cases first, then user routes, then any route left with made-up ids."""
    targets = [_from_case(case) for case in collect_cases() if case.method in WRITE_METHODS]
    targets.extend(USER_TARGETS)
    known = {(target.route, target.method) for target in targets}
    for route, method in sorted(api_routes()):
        methods = WRITE_METHODS if method == "*" else (method,)
        for each in methods:
            if each in WRITE_METHODS and (route, each) not in known:
                targets.append(Target(route, each, _placeholder_url(route), body={}, placeholder=True))
    return targets


TARGETS = collect_targets()


def _documented_bodies() -> set[tuple[str, str]]:
    """Return (route pattern with `{}` for parameters, METHOD) of the operations that declare a body."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    bodies = set()
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "requestBody" in operation:
                bodies.add((_shape(path.removeprefix("/api/v1/")), method.upper()))
    return bodies


def _shape(route: str) -> str:
    return re.sub(r"\{\w+\}", "{}", route.strip("/"))


# --- bad inputs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BadInput:
    """A named broken request body; `kind` is the class of response expected for it."""

    name: str
    raw: bytes
    content_type: str = "application/json"
    # `parse`: the body is not acceptable JSON, so the answer is 400 or 413 when the route reads it.
    # `refuse`: a route that reads the body must refuse it (4xx). `any`: any answer but a 5xx.
    kind: str = "any"


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def bad_inputs(valid: dict[str, Any], body_limit: int) -> list[BadInput]:
    """Build the catalogue for one route from a body the route accepts and the route's size limit."""
    keys = list(valid) or ["name"]
    inputs = [
        BadInput("malformed json", b'{"name": ', kind="parse"),
        BadInput("truncated json", _json(valid)[:-1] or b"{", kind="parse"),
        BadInput("invalid utf-8", b'{"name": "\xff\xfe\xfd"}', kind="parse"),
        BadInput("nul in a string", _json({**valid, keys[0]: "before\x00after"}), kind="parse"),
        BadInput("nul in a key", _json({**valid, "na\x00me": "x"}), kind="parse"),
        BadInput("json nested 10000 levels", _nested(10_000).encode(), kind="parse"),
        BadInput("field nested 10000 levels", f'{{"{keys[0]}": {_nested(10_000)}}}'.encode(), kind="parse"),
        BadInput("NaN literal", f'{{"{keys[0]}": NaN}}'.encode(), kind="parse"),
        BadInput("body over the route's limit", _json({keys[0]: "x" * (body_limit + 10)}), kind="parse"),
        BadInput("body is a list", _json([valid]), kind="refuse"),
        BadInput("body is a string", _json("text"), kind="refuse"),
        BadInput("body is a number", b"42", kind="refuse"),
        BadInput("plain text content type", b"name=x", content_type="text/plain", kind="refuse"),
        BadInput("missing fields", b"{}"),
        BadInput("unknown fields", _json({**valid, "unknown_field": "x", "id": str(uuid.uuid4()), "is_admin": True})),
        BadInput("form encoded", b"name=x&role=owner", content_type="application/x-www-form-urlencoded"),
        BadInput("null values", _json(dict.fromkeys(keys))),
        BadInput("objects for every field", _json({key: {"unexpected": ["object"]} for key in keys})),
        BadInput("lists for every field", _json({key: [1, "two", None] for key in keys})),
        BadInput("booleans for every field", _json(dict.fromkeys(keys, True))),
        BadInput("negative numbers", _json(dict.fromkeys(keys, -1))),
        BadInput("huge float overflowing to infinity", f'{{"{keys[0]}": 1e400}}'.encode()),
    ]
    for key in keys:
        inputs.append(BadInput(f"1 MB string in {key}", _json({**valid, key: "x" * ONE_MEGABYTE})))
        inputs.append(BadInput(f"huge integer in {key}", _json({**valid, key: 10**300})))
        inputs.append(BadInput(f"huge negative integer in {key}", _json({**valid, key: -(10**300)})))
        inputs.append(BadInput(f"zero in {key}", _json({**valid, key: 0})))
    return inputs


# --- the checks ---------------------------------------------------------------------------------


@dataclass
class Findings:
    problems: list[str] = field(default_factory=list)

    def add(self, bad: BadInput, message: str) -> None:
        self.problems.append(f"{bad.name}: {message}")


def _client_for(target: Target, world: World, obj: Any) -> APIClient:
    client = APIClient()
    if not target.authenticated:
        return client
    user = target.actor(world, obj) if target.actor else world.owner
    _token, raw = personal_access_token_create(user=user, name="bad input", abilities=["*"])
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    if target.context:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_X_WORKSPACE=str(world.workspace.pk))
    return client


def _counts_without_audit() -> dict[str, int]:
    return {label: count for label, count in row_counts().items() if label not in AUDIT_MODELS}


def _check_response(bad: BadInput, response: Any, target: Target, reads_body: bool, findings: Findings) -> None:
    status = response.status_code
    body = response.content[:300]
    if status >= 500 and not (bad.kind == "any" and status in UPSTREAM_STATUSES):
        findings.add(bad, f"answered {status}: {body!r}")
        return
    payload = response.json() if response.get("Content-Type", "").startswith("application/json") else None
    if not isinstance(payload, dict) or target.route.startswith(OPENAI_PREFIX):
        # The OpenAI-compatible routes use OpenAI's error format, which their own tests check.
        payload = {}
    if status == 400 and payload and payload.get("code") not in ("malformed_json", "malformed_request"):
        # A 400 is for bodies that cannot be read; a readable but invalid body is a 422.
        findings.add(bad, f"400 with code {payload.get('code')!r}: {body!r}")
    if status == 422 and payload.get("code") == "validation_error" and not payload.get("errors"):
        findings.add(bad, f"422 validation error without field errors: {body!r}")
    if not reads_body or status == 404:
        return
    # 415: a route that takes only multipart bodies refuses JSON before reading it.
    if bad.kind == "parse" and status not in (400, 413, 415):
        findings.add(bad, f"unreadable body answered {status}, not 400 or 413: {body!r}")
    if bad.kind == "refuse" and not 400 <= status < 500:
        findings.add(bad, f"accepted with {status}: {body!r}")


@pytest.fixture
def world(db: None, settings: Any, network_jail: Any) -> World:
    # Nothing a broken body triggers may reach a server, not even a loopback one.
    settings.ATHENA_OUTBOUND_ALLOWLIST = []
    return build_world()


DOCUMENTED_BODIES = _documented_bodies()


@pytest.mark.parametrize("target", [pytest.param(target, id=target.id) for target in TARGETS])
def test_bad_input_never_breaks_a_write_route(world: World, target: Target) -> None:
    # given a real object for the route and a body the route accepts
    obj = target.factory(world) if target.factory else None
    valid = target.body(world, obj) if callable(target.body) else (target.body or {})
    url = target.url(world, obj)
    reads_body = (_shape(target.route), target.method) in DOCUMENTED_BODIES
    findings = Findings()

    body_limit = body_limit_for(resolve(urlsplit(url).path).func)

    for bad in bad_inputs(valid, body_limit):
        client = _client_for(target, world, obj)
        before = _counts_without_audit()

        # when the broken body is sent
        response = client.generic(target.method, url, bad.raw, content_type=bad.content_type)
        count_figure("bad inputs sent")

        # then it is refused cleanly, or accepted as a whole
        _check_response(bad, response, target, reads_body, findings)
        if 400 <= response.status_code < 600 and _counts_without_audit() != before:
            findings.add(bad, f"refused with {response.status_code} but rows changed")

    assert not findings.problems, "\n".join(findings.problems)


def test_bad_input_covers_every_write_route() -> None:
    routes = {(route, method) for route, method in api_routes() if method in (*WRITE_METHODS, "*")}
    covered = {(target.route, target.method) for target in TARGETS}

    missing = {
        (route, method)
        for route, method in routes
        if not ({(route, each) for each in WRITE_METHODS} & covered if method == "*" else (route, method) in covered)
    }

    assert not missing, missing


# --- pagination ---------------------------------------------------------------------------------


def _list_operations() -> set[str]:
    """Return the route shapes of GET operations that take `page`."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    shapes = set()
    for path, item in schema["paths"].items():
        operation = item.get("get") or {}
        if any(parameter.get("name") == "page" for parameter in operation.get("parameters", [])):
            shapes.add(_shape(path.removeprefix("/api/v1/")))
    return shapes


LIST_SHAPES = _list_operations()
LIST_CASES = [case for case in collect_cases() if case.method == "GET" and _shape(case.route) in LIST_SHAPES]
BAD_PAGES = [
    ("page", "0"),
    ("page", "-1"),
    ("page", "abc"),
    ("page", "1.5"),
    ("page", "1e3"),
    ("page", "99999999999999999999999999999"),
    ("per_page", "0"),
    ("per_page", "-20"),
    ("per_page", "ten"),
    ("per_page", ""),
    ("per_page", "99999999999999999999999999999"),
]


@pytest.mark.parametrize("case", [pytest.param(case, id=case.id) for case in LIST_CASES])
def test_bad_input_pagination_is_refused_or_capped(world: World, case: EndpointCase) -> None:
    # given a list the owner may read
    obj = case.factory(world) if case.factory else None
    client = _client_for(_from_case(case), world, obj)
    base = case.url(world, obj)
    separator = "&" if "?" in base else "?"

    for name, value in BAD_PAGES:
        # when the page parameters are out of range or not numbers
        response = client.get(f"{base}{separator}{name}={value}")
        count_figure("bad inputs sent")

        # then a number below 1 or not a number is 422 naming it, and a huge one is capped or empty
        assert response.status_code < 500, (name, value, response.content)
        if value in ("0", "-1", "-20", "abc", "ten", "1.5", "1e3"):
            assert response.status_code == 422, (name, value, response.content)
            assert name in response.json()["errors"], response.content
        elif value.startswith("999"):
            assert response.status_code == 200, (name, value, response.content)
            meta = response.json()["meta"]
            assert meta["per_page"] <= 100, meta
        else:
            assert response.status_code == 200, (name, value, response.content)


# --- unsupported methods ------------------------------------------------------------------------


ALL_ROUTE_TARGETS = [
    Target(case.route, case.method, case.url, factory=case.factory, actor=case.actor, context=case.scope == "context")
    for case in collect_cases()
]


@pytest.mark.parametrize(
    "target", [pytest.param(target, id=target.id) for target in ALL_ROUTE_TARGETS if target.method == "GET"]
)
def test_bad_input_unsupported_methods_are_405(world: World, target: Target) -> None:
    # given a route the owner may read
    obj = target.factory(world) if target.factory else None
    client = _client_for(target, world, obj)
    url = target.url(world, obj)

    for method in ("TRACE", "OPTIONS", "PROPFIND", "CONNECT"):
        # when it is called with a method no API route supports
        response = client.generic(method, url)
        count_figure("bad inputs sent")

        # then the answer is 405, never an error of the server; plain API views may describe
        # themselves on OPTIONS, as DRF does
        if method == "OPTIONS" and response.status_code == 200:
            continue
        assert response.status_code == 405, (method, response.content)
        assert response.json()["code"] == "method_not_allowed"


def test_bad_input_workspace_role_is_not_raised_by_unknown_fields(world: World) -> None:
    # given an editor of the workspace
    editor = world.members[Role.EDITOR]
    _token, raw = personal_access_token_create(user=editor, name="editor", abilities=["*"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    # when the editor sends a role and an owner in fields the route does not take
    response = client.patch(
        "/api/v1/user", {"name": "Eve", "role": "owner", "is_superuser": True, "is_staff": True}, format="json"
    )

    # then the known field is updated and the unknown ones change nothing
    assert response.status_code == 200, response.content
    editor.refresh_from_db()
    assert editor.name == "Eve"
    assert not editor.is_superuser
    assert not editor.is_staff
    assert world.workspace.memberships.get(user=editor).role == Role.EDITOR
