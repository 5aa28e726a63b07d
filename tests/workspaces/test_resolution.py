"""Workspace resolution: X-Workspace header, then ?workspace=, then the current workspace."""

import pytest

from tests.factories import CommandRoomTaskFactory, MembershipFactory, UserFactory, WorkspaceFactory
from tests.workspaces.conftest import client_for
from workspaces import services
from workspaces.models import Role

URL = "/api/v1/command-room/tasks"


@pytest.fixture
def three_workspaces(owner):
    """Three workspaces of the owner, each with one note titled after it; the first is current."""
    workspaces = [WorkspaceFactory(owner=owner, name=name) for name in ("Current", "Query", "Header")]
    for workspace in workspaces:
        CommandRoomTaskFactory(workspace=workspace, title=workspace.name)
    services.workspace_set_current(user=owner, workspace=workspaces[0])
    return workspaces


def titles(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["title"] for item in response.json()["data"]]


def test_resolution_uses_current_workspace(owner_client, three_workspaces):
    assert titles(owner_client.get(URL)) == ["Current"]


def test_resolution_query_beats_current(owner_client, three_workspaces):
    query = three_workspaces[1]

    assert titles(owner_client.get(f"{URL}?workspace={query.pk}")) == ["Query"]


def test_resolution_header_beats_query(owner_client, three_workspaces):
    query, header = three_workspaces[1], three_workspaces[2]

    response = owner_client.get(f"{URL}?workspace={query.pk}", HTTP_X_WORKSPACE=str(header.pk))

    assert titles(response) == ["Header"]


@pytest.mark.parametrize("by", ["id", "slug"])
def test_resolution_accepts_id_or_slug(owner_client, three_workspaces, by):
    target = three_workspaces[2]
    identifier = str(target.pk) if by == "id" else target.slug

    assert titles(owner_client.get(URL, HTTP_X_WORKSPACE=identifier)) == ["Header"]
    assert titles(owner_client.get(f"{URL}?workspace={identifier}")) == ["Header"]


@pytest.mark.parametrize(
    "identifier",
    ["no-such-workspace", "3f0b6a52-8f3e-4c43-9a51-0f2f7b9c1d11", "x" * 500, "%00"],
)
def test_resolution_unknown_workspace(owner_client, identifier):
    response = owner_client.get(URL, HTTP_X_WORKSPACE=identifier)

    assert response.status_code == 404, response.content
    assert response.json()["code"] == "workspace_not_found"


def test_resolution_foreign_workspace(owner_client, outsider):
    foreign = WorkspaceFactory(owner=outsider)
    CommandRoomTaskFactory(workspace=foreign, title="secret plan")

    by_id = owner_client.get(URL, HTTP_X_WORKSPACE=str(foreign.pk))
    by_slug = owner_client.get(f"{URL}?workspace={foreign.slug}")

    for response in (by_id, by_slug):
        assert response.status_code == 404, response.content
        assert response.json()["code"] == "workspace_not_found"
        assert b"secret plan" not in response.content


def test_resolution_without_current_workspace(db):
    user = UserFactory(is_service_account=True)
    client = client_for(user)

    response = client.get(URL)

    assert response.status_code == 404, response.content
    assert response.json()["code"] == "workspace_not_found"
    assert "X-Workspace" in response.json()["message"]


def test_resolution_current_workspace_after_removal(owner, outsider):
    # given the outsider's current workspace is one they were removed from
    shared = WorkspaceFactory(owner=owner)
    membership = MembershipFactory(user=outsider, workspace=shared, role=Role.EDITOR)
    services.workspace_set_current(user=outsider, workspace=shared)
    services.membership_remove(membership=membership, actor=owner, actor_role=Role.OWNER)

    # when
    response = client_for(outsider).get(URL)

    # then they fall back to their personal workspace
    assert response.status_code == 200, response.content
    outsider.refresh_from_db()
    assert outsider.current_workspace_id == services.workspace_create_personal(user=outsider).pk


def test_resolution_applies_to_create(owner_client, three_workspaces):
    header = three_workspaces[2]

    response = owner_client.post(URL, {"kind": "note", "title": "Pinned"}, format="json", HTTP_X_WORKSPACE=header.slug)

    assert response.status_code == 201, response.content
    assert response.json()["data"]["workspace_id"] == str(header.pk)
