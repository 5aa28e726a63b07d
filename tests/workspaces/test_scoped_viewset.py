"""WorkspaceScopedViewSet: lists in the resolved workspace, objects in any of mine, and shared objects."""

import pytest

from tests.factories import CommandRoomTaskFactory, WorkspaceFactory
from tests.workspaces.conftest import client_for
from workspaces import services
from workspaces.models import Role

pytestmark = pytest.mark.urls("tests.workspaces.scoped_views")

URL = "/api/v1/things"


@pytest.fixture
def foreign(outsider):
    return WorkspaceFactory(owner=outsider, name="Foreign")


def shared_task(workspace, user, permission):
    return CommandRoomTaskFactory(workspace=workspace, title=f"shared:{user.email}", note=permission)


def test_scoped_list_excludes_shared_by_default(owner, owner_client, workspace, foreign):
    services.workspace_set_current(user=owner, workspace=workspace)
    own = CommandRoomTaskFactory(workspace=workspace)
    shared_task(foreign, owner, "view")

    response = owner_client.get(URL)

    assert response.status_code == 200, response.content
    assert [item["id"] for item in response.json()["data"]] == [str(own.pk)]


def test_scoped_list_shared_only(owner, owner_client, workspace, foreign):
    CommandRoomTaskFactory(workspace=workspace)
    shared = shared_task(foreign, owner, "view")

    response = owner_client.get(f"{URL}?shared=true")

    assert response.status_code == 200, response.content
    assert [item["id"] for item in response.json()["data"]] == [str(shared.pk)]


def test_scoped_list_rejects_bad_shared_value(owner_client):
    response = owner_client.get(f"{URL}?shared=perhaps")

    assert response.status_code == 422, response.content
    assert "shared" in response.json()["errors"]


@pytest.mark.parametrize(
    ("permission", "expected"),
    [
        ("view", {"read": 200, "run": 403, "write": 403, "delete": 403}),
        ("run", {"read": 200, "run": 200, "write": 403, "delete": 403}),
        ("edit", {"read": 200, "run": 200, "write": 200, "delete": 403}),
    ],
)
def test_scoped_share_permissions(owner_client, owner, foreign, permission, expected):
    task = shared_task(foreign, owner, permission)
    url = f"{URL}/{task.pk}"

    statuses = {
        "read": owner_client.get(url).status_code,
        "run": owner_client.post(f"{url}/run").status_code,
        "write": owner_client.patch(url, {}, format="json").status_code,
        "delete": owner_client.delete(url).status_code,
    }

    assert statuses == expected


def test_scoped_share_narrowed_by_token(owner, foreign):
    task = shared_task(foreign, owner, "run")
    client = client_for(owner, abilities=["agents:read"])

    response = client.post(f"{URL}/{task.pk}/run")

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "insufficient_ability"


def test_scoped_detail_in_other_workspace_uses_its_role(owner, outsider, foreign):
    services.member_add(
        workspace=foreign, email=owner.email, role=Role.VIEWER, invited_by=outsider, actor_role=Role.OWNER
    )
    task = CommandRoomTaskFactory(workspace=foreign)
    client = client_for(owner)

    read = client.get(f"{URL}/{task.pk}")
    run = client.post(f"{URL}/{task.pk}/run")

    assert read.status_code == 200, read.content
    assert run.status_code == 403, run.content
    assert run.json()["code"] == "forbidden"


def test_scoped_detail_not_shared_is_not_found(owner_client, foreign):
    task = CommandRoomTaskFactory(workspace=foreign, title="shared:someone-else@example.com", note="edit")

    response = owner_client.get(f"{URL}/{task.pk}")

    assert response.status_code == 404, response.content
    assert response.json()["code"] == "not_found"


def test_scoped_object_ability(owner, workspace):
    task = CommandRoomTaskFactory(workspace=workspace)
    other = CommandRoomTaskFactory(workspace=workspace)
    client = client_for(owner, abilities=[f"agents:run:{task.pk}"])

    allowed = client.post(f"{URL}/{task.pk}/run")
    refused = client.post(f"{URL}/{other.pk}/run")

    assert allowed.status_code == 200, allowed.content
    assert refused.status_code == 403, refused.content
    assert refused.json()["code"] == "insufficient_ability"
