"""The role table, ability narrowing, and the documented table in docs/permissions.md."""

import itertools
import re
from pathlib import Path

import pytest
from rest_framework.test import APIRequestFactory

from athena_site.api.abilities import ABILITY_GROUPS
from athena_site.api.auth import AuthContext
from athena_site.api.errors import Forbidden
from workspaces.models import Role
from workspaces.permissions import ROLE_ABILITIES, ROLE_ORDER, check_permission, role_allows, share_allows

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"


@pytest.mark.parametrize(
    ("role", "required", "allowed"),
    [
        ("viewer", "agents:read", True),
        ("viewer", "agents:write", False),
        ("viewer", "workflows:run", False),
        ("editor", "agents:write", True),
        ("editor", "workflows:run", True),
        ("editor", "memories:write", True),
        ("editor", "executions:delete", True),
        ("editor", "members:write", False),
        ("editor", "workspaces:write", False),
        ("admin", "members:write", True),
        ("admin", "workspaces:write", True),
        ("admin", "workspaces:delete", False),
        ("owner", "workspaces:delete", True),
        ("owner", "tokens:read", False),
        (None, "agents:read", False),
        ("stranger", "agents:read", False),
    ],
)
def test_role_allows(role, required, allowed):
    assert role_allows(role, required) is allowed


def test_roles_are_nested():
    for lower, higher in itertools.pairwise(ROLE_ORDER):
        assert ROLE_ABILITIES[lower] < ROLE_ABILITIES[higher], (lower, higher)


def test_role_abilities_are_known_abilities():
    for abilities in ROLE_ABILITIES.values():
        for ability in abilities:
            group, action = ability.split(":")
            assert action in ABILITY_GROUPS[group], ability


@pytest.mark.parametrize(
    ("permission", "required", "allowed"),
    [
        ("view", "agents:read", True),
        ("view", "agents:run", False),
        ("run", "agents:run", True),
        ("run", "agents:write", False),
        ("edit", "agents:write", True),
        ("edit", "agents:delete", False),
        (None, "agents:read", False),
    ],
)
def test_share_allows(permission, required, allowed):
    assert share_allows(permission, required) is allowed


def _request(user, abilities):
    request = APIRequestFactory().get("/")
    request.user = user
    request.auth = AuthContext(method="token", abilities=frozenset(abilities))
    return request


def test_check_permission_codes(workspace, member_of):
    editor = member_of(Role.EDITOR)

    with pytest.raises(Forbidden) as role_error:
        check_permission(request=_request(editor, {"*"}), workspace=workspace, required="members:write")
    with pytest.raises(Forbidden) as ability_error:
        check_permission(request=_request(editor, {"agents:read"}), workspace=workspace, required="agents:write")
    check_permission(request=_request(editor, {"agents:*"}), workspace=workspace, required="agents:write")

    assert role_error.value.code == "forbidden"
    assert ability_error.value.code == "insufficient_ability"


def test_check_permission_object_ability(workspace, member_of):
    editor = member_of(Role.EDITOR)
    object_id = "3f0b6a52-8f3e-4c43-9a51-0f2f7b9c1d11"
    request = _request(editor, {f"agents:run:{object_id}"})

    check_permission(request=request, workspace=workspace, required="agents:run", object_id=object_id)
    with pytest.raises(Forbidden):
        check_permission(request=request, workspace=workspace, required="agents:run")


def test_permissions_doc_matches_code():
    # given the role table in docs/permissions.md: one row per ability, one column per role
    rows = {}
    for line in DOC.read_text().splitlines():
        match = re.match(r"^\| `([a-z_]+:[a-z_]+)` \|(.*)\|$", line)
        if match:
            cells = [cell.strip() for cell in match.group(2).split("|")]
            rows[match.group(1)] = dict(zip(ROLE_ORDER, cells, strict=True))

    # then every ability any role has is documented, with a mark exactly where the code grants it
    documented = set(rows)
    granted = set().union(*ROLE_ABILITIES.values())
    assert granted <= documented, sorted(granted - documented)
    for ability, cells in rows.items():
        for role, cell in cells.items():
            assert (cell == "yes") == role_allows(role, ability), (ability, role, cell)
