"""The command room: store (create or update), list by position, remove, and reference checks."""

import uuid

import pytest

from tests.factories import CommandRoomTaskFactory, WorkspaceFactory
from tests.workspaces.conftest import client_for
from workspaces import services
from workspaces.models import CommandRoomTask, Role

URL = "/api/v1/command-room/tasks"


@pytest.fixture
def current(owner, workspace):
    services.workspace_set_current(user=owner, workspace=workspace)
    return workspace


def test_command_room_store_creates_then_updates(current, owner_client, reference_kind):
    agent_id = uuid.uuid4()
    reference_kind.add((current.pk, agent_id))
    payload = {"kind": "agent", "reference_id": str(agent_id), "title": "Triage bot"}

    created = owner_client.post(URL, payload, format="json")
    updated = owner_client.post(
        URL, {**payload, "title": "Triage bot v2", "status": "done", "position": 7}, format="json"
    )

    assert created.status_code == 201, created.content
    assert updated.status_code == 200, updated.content
    assert updated.json()["data"]["id"] == created.json()["data"]["id"]
    task = CommandRoomTask.objects.get(workspace=current)
    assert (task.title, task.status, task.position) == ("Triage bot v2", "done", 7)


def test_command_room_notes_are_separate(current, owner_client):
    first = owner_client.post(URL, {"kind": "note", "title": "Check logs"}, format="json")
    second = owner_client.post(URL, {"kind": "note", "title": "Check logs"}, format="json")

    assert first.status_code == 201, first.content
    assert second.status_code == 201, second.content
    assert first.json()["data"]["position"] == 0
    assert second.json()["data"]["position"] == 1


def test_command_room_list_ordered_by_position(current, owner_client, outsider):
    CommandRoomTaskFactory(workspace=current, title="second", position=2)
    CommandRoomTaskFactory(workspace=current, title="first", position=1)
    CommandRoomTaskFactory(workspace=WorkspaceFactory(owner=outsider), title="foreign", position=0)

    response = owner_client.get(URL)

    assert response.status_code == 200, response.content
    assert [item["title"] for item in response.json()["data"]] == ["first", "second"]


def test_command_room_list_filters_by_status(current, owner_client):
    CommandRoomTaskFactory(workspace=current, title="open")
    CommandRoomTaskFactory(workspace=current, title="closed", status="done")

    response = owner_client.get(f"{URL}?status=done")

    assert [item["title"] for item in response.json()["data"]] == ["closed"]


def test_command_room_unregistered_kind(current, owner_client, no_reference_kinds):
    response = owner_client.post(URL, {"kind": "workflow", "reference_id": str(uuid.uuid4())}, format="json")

    assert response.status_code == 422, response.content
    assert "kind" in response.json()["errors"]


def test_command_room_unknown_kind(current, owner_client):
    response = owner_client.post(URL, {"kind": "spaceship"}, format="json")

    assert response.status_code == 422, response.content
    assert "kind" in response.json()["errors"]


def test_command_room_reference_in_other_workspace(current, owner, owner_client, reference_kind):
    # given an agent that exists, but in another of the caller's workspaces
    other = WorkspaceFactory(owner=owner)
    agent_id = uuid.uuid4()
    reference_kind.add((other.pk, agent_id))

    # when it is pinned in the current workspace
    response = owner_client.post(URL, {"kind": "agent", "reference_id": str(agent_id)}, format="json")

    # then
    assert response.status_code == 422, response.content
    assert "reference_id" in response.json()["errors"]
    assert not CommandRoomTask.objects.exists()


def test_command_room_reference_required(current, owner_client, reference_kind):
    response = owner_client.post(URL, {"kind": "agent"}, format="json")

    assert response.status_code == 422, response.content
    assert "reference_id" in response.json()["errors"]


def test_command_room_note_rejects_reference(current, owner_client):
    response = owner_client.post(URL, {"kind": "note", "reference_id": str(uuid.uuid4())}, format="json")

    assert response.status_code == 422, response.content
    assert "reference_id" in response.json()["errors"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "note", "title": "t" * 201}, "title"),
        ({"kind": "note", "note": "n" * 10_001}, "note"),
        ({"kind": "note", "position": 10**9}, "position"),
        ({"kind": "note", "status": "exploded"}, "status"),
        ({"kind": "note", "reference_id": "not-a-uuid"}, "reference_id"),
    ],
)
def test_command_room_store_rejects_invalid_input(current, owner_client, payload, field):
    response = owner_client.post(URL, payload, format="json")

    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]


def test_command_room_remove(current, owner_client):
    task = CommandRoomTaskFactory(workspace=current)

    response = owner_client.delete(f"{URL}/{task.pk}")

    assert response.status_code == 204, response.content
    assert not CommandRoomTask.objects.filter(pk=task.pk).exists()


def test_command_room_remove_in_other_of_my_workspaces(owner, owner_client, current):
    # Removing acts on the task's own workspace, whatever the current one is.
    other = WorkspaceFactory(owner=owner)
    task = CommandRoomTaskFactory(workspace=other)

    response = owner_client.delete(f"{URL}/{task.pk}")

    assert response.status_code == 204, response.content


def test_command_room_remove_uses_role_of_task_workspace(owner, outsider):
    # given the caller is owner of their current workspace but viewer where the task lives
    foreign = WorkspaceFactory(owner=outsider)
    services.member_add(
        workspace=foreign, email=owner.email, role=Role.VIEWER, invited_by=outsider, actor_role=Role.OWNER
    )
    task = CommandRoomTaskFactory(workspace=foreign)

    response = client_for(owner).delete(f"{URL}/{task.pk}")

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "forbidden"
    assert CommandRoomTask.objects.filter(pk=task.pk).exists()


def test_command_room_viewer_cannot_store(current, member_of):
    viewer = member_of(Role.VIEWER)

    response = client_for(viewer).post(URL, {"kind": "note"}, format="json", HTTP_X_WORKSPACE=str(current.pk))

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "forbidden"
