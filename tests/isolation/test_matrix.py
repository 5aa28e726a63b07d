"""The isolation matrix over every case in `cases.CASES`, and the check that no API route is missing."""

import pytest

from tests.isolation.cases import ALLOW_LIST, collect_cases
from tests.isolation.harness import (
    SCOPES,
    abilities_without,
    api_routes,
    build_world,
    client_with,
    role_below,
    send,
    workspace_state,
)
from workspaces.models import Role

CASES = collect_cases()
CASE_PARAMS = [pytest.param(case, id=case.id) for case in CASES]


@pytest.fixture
def world(db):
    return build_world()


def arrange(case, world):
    return case.factory(world) if case.factory else None


def actor_for(case, world, obj, role=Role.OWNER):
    return case.actor(world, obj) if case.actor else world.members[role]


def context_headers(case, world):
    return {"HTTP_X_WORKSPACE": str(world.workspace.pk)} if case.scope == "context" else {}


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_matrix_unauthenticated(api_client, world, case):
    # given
    obj = arrange(case, world)
    before = workspace_state(world.workspace.pk)

    # when
    response = send(api_client, case, world, obj, **context_headers(case, world))

    # then
    assert response.status_code == 401, response.content
    assert response.json()["code"] == "unauthenticated"
    assert workspace_state(world.workspace.pk) == before


@pytest.mark.parametrize("case", [param for param in CASE_PARAMS if param.values[0].scope != "user"])
def test_matrix_other_workspace_is_not_found(world, case):
    # given an object of the victim workspace, and an outsider with full abilities
    obj = arrange(case, world)
    before = workspace_state(world.workspace.pk)
    client = client_with(world.outsider)

    # when
    response = send(client, case, world, obj, **context_headers(case, world))

    # then
    assert response.status_code == 404, response.content
    expected = "workspace_not_found" if case.scope == "context" else "not_found"
    assert response.json()["code"] == expected
    assert workspace_state(world.workspace.pk) == before


@pytest.mark.parametrize("case", [param for param in CASE_PARAMS if param.values[0].scope == "user"])
def test_matrix_user_scope_hides_other_workspaces(world, case):
    # Endpoints over the caller's own workspaces must not show the victim workspace to an outsider.
    obj = arrange(case, world)
    before = workspace_state(world.workspace.pk)
    client = client_with(world.outsider)

    response = send(client, case, world, obj)

    assert response.status_code in (200, 201), response.content
    assert str(world.workspace.pk).encode() not in response.content
    assert workspace_state(world.workspace.pk) == before


@pytest.mark.parametrize(
    "case", [param for param in CASE_PARAMS if param.values[0].min_role != Role.VIEWER and not param.values[0].actor]
)
def test_matrix_role_below_minimum_is_forbidden(world, case):
    # given a member whose role is just below what the case needs
    obj = arrange(case, world)
    client = client_with(world.members[role_below(case.min_role)])
    before = workspace_state(world.workspace.pk)

    # when
    response = send(client, case, world, obj, **context_headers(case, world))

    # then
    assert response.status_code == 403, response.content
    assert response.json()["code"] == "forbidden"
    assert workspace_state(world.workspace.pk) == before


@pytest.mark.parametrize(
    "case",
    [param for param in CASE_PARAMS if param.values[0].is_write and param.values[0].min_role != Role.VIEWER],
)
def test_matrix_viewer_cannot_write(world, case):
    obj = arrange(case, world)
    client = client_with(world.members[Role.VIEWER])
    before = workspace_state(world.workspace.pk)

    response = send(client, case, world, obj, **context_headers(case, world))

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "forbidden"
    assert workspace_state(world.workspace.pk) == before


@pytest.mark.parametrize(
    "case",
    [param for param in CASE_PARAMS if param.values[0].min_role == Role.VIEWER and param.values[0].scope != "user"],
)
def test_matrix_viewer_may_read(world, case):
    obj = arrange(case, world)
    client = client_with(actor_for(case, world, obj, role=Role.VIEWER))

    response = send(client, case, world, obj, **context_headers(case, world))

    assert response.status_code in (200, 201), response.content


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_matrix_missing_ability_is_refused(world, case):
    # given the most powerful legitimate caller, holding every ability except the one needed
    obj = arrange(case, world)
    client = client_with(actor_for(case, world, obj), abilities=abilities_without(case.ability))
    before = workspace_state(world.workspace.pk)

    # when
    response = send(client, case, world, obj, **context_headers(case, world))

    # then
    assert response.status_code == 403, response.content
    assert response.json()["code"] == "insufficient_ability"
    assert workspace_state(world.workspace.pk) == before


def test_matrix_cases_are_well_formed():
    for case in CASES:
        assert case.scope in SCOPES, case.id
        assert case.scope != "object" or case.route.count("{"), case.id


def test_matrix_covers_every_api_route():
    # given every route and method under /api/v1/
    covered = {(case.route, case.method) for case in CASES}

    # when the allow-listed ones are set aside
    missing = sorted(
        (route, method)
        for route, method in api_routes()
        if (route, method) not in covered
        and not any(route == prefix or route.startswith(prefix + "/") for prefix in ALLOW_LIST)
    )

    # then nothing is left
    assert missing == [], (
        f"No isolation case covers these routes; add them to tests/<package>/isolation_cases.py: {missing}"
    )


def test_matrix_cases_exist_as_routes():
    routes = api_routes()

    stale = sorted(case.id for case in CASES if (case.route, case.method) not in routes)

    assert stale == []
