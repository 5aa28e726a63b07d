"""The workspaces endpoints: list, create, retrieve, update, delete, metrics and ownership."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from tests.workspaces.conftest import client_for
from workspaces import services
from workspaces.models import Membership, Role, Variable, Workspace
from workspaces.tasks import delete_workspace

URL = "/api/v1/workspaces"


def detail_url(workspace) -> str:
    return f"{URL}/{workspace.pk}"


# Listing and creating


def test_workspace_list_shows_mine_with_role(owner, workspace, owner_client, outsider):
    # given a workspace of another user, where the owner is a viewer
    foreign = WorkspaceFactory(owner=outsider, name="Foreign")
    MembershipFactory(user=owner, workspace=foreign, role=Role.VIEWER)
    WorkspaceFactory(owner=outsider, name="Hidden")

    # when
    response = owner_client.get(URL)

    # then
    assert response.status_code == 200, response.content
    roles = {item["name"]: item["role"] for item in response.json()["data"]}
    assert roles == {"Support team": "owner", "Foreign": "viewer", f"{owner.name}'s workspace": "owner"}
    assert response.json()["meta"]["total"] == 3


def test_workspace_create_makes_creator_owner(owner, owner_client):
    response = owner_client.post(URL, {"name": "Research Lab", "timezone": "Europe/Paris"}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()["data"]
    assert body["slug"] == "research-lab"
    assert body["role"] == "owner"
    assert body["timezone"] == "Europe/Paris"
    assert Membership.objects.get(workspace_id=body["id"], user=owner).role == Role.OWNER


def test_workspace_create_suffixes_taken_slug(owner_client):
    first = owner_client.post(URL, {"name": "Ops"}, format="json")
    second = owner_client.post(URL, {"name": "Ops"}, format="json")

    assert first.status_code == 201, first.content
    assert second.status_code == 201, second.content
    assert first.json()["data"]["slug"] == "ops"
    assert second.json()["data"]["slug"] == "ops-2"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"name": "Ops", "slug": "Not A Slug"}, "slug"),
        ({"name": "Ops", "slug": "3f0b6a52-8f3e-4c43-9a51-0f2f7b9c1d11"}, "slug"),
        ({"name": "Ops", "slug": "s" * 81}, "slug"),
        ({"name": "Ops", "timezone": "Mars/Olympus"}, "timezone"),
        ({"name": "Ops", "settings": ["not", "an", "object"]}, "settings"),
        ({"name": "Ops", "settings": {"blob": "x" * 20000}}, "settings"),
        ({"name": "Ops", "description": "d" * 2001}, "description"),
    ],
)
def test_workspace_create_rejects_invalid_input(owner_client, payload, field):
    response = owner_client.post(URL, payload, format="json")

    assert response.status_code == 422, response.content
    assert response.json()["code"] == "validation_error"
    assert field in response.json()["errors"]


def test_workspace_create_rejects_taken_slug(owner_client, workspace):
    response = owner_client.post(URL, {"name": "Other", "slug": workspace.slug}, format="json")

    assert response.status_code == 422, response.content
    assert "slug" in response.json()["errors"]


def test_workspace_list_requires_authentication(api_client, db):
    response = api_client.get(URL)

    assert response.status_code == 401, response.content
    assert response.json()["code"] == "unauthenticated"


def test_workspace_create_needs_write_ability(owner):
    client = client_for(owner, abilities=["workspaces:read"])

    response = client.post(URL, {"name": "Ops"}, format="json")

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "insufficient_ability"


# Retrieving and updating


def test_workspace_retrieve_uses_role_in_that_workspace(owner, outsider):
    # given the caller is an owner of their own workspace and a viewer of another
    foreign = WorkspaceFactory(owner=outsider)
    MembershipFactory(user=owner, workspace=foreign, role=Role.VIEWER)
    client = client_for(owner)

    # when
    read = client.get(detail_url(foreign))
    write = client.patch(detail_url(foreign), {"name": "Renamed"}, format="json")

    # then
    assert read.status_code == 200, read.content
    assert read.json()["data"]["role"] == "viewer"
    assert write.status_code == 403, write.content
    assert write.json()["code"] == "forbidden"


def test_workspace_retrieve_foreign_is_not_found(owner_client, outsider):
    foreign = WorkspaceFactory(owner=outsider)

    response = owner_client.get(detail_url(foreign))

    assert response.status_code == 404, response.content
    assert response.json()["code"] == "not_found"


def test_workspace_retrieve_invalid_id_is_not_found(owner_client):
    response = owner_client.get(f"{URL}/not-a-uuid")

    assert response.status_code == 404, response.content
    assert response.json()["code"] == "not_found"


def test_workspace_update_by_admin(workspace, member_of):
    admin = member_of(Role.ADMIN)

    response = client_for(admin).patch(
        detail_url(workspace), {"name": "Customer care", "slug": "care", "settings": {"theme": "dark"}}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()["data"]
    assert (body["name"], body["slug"], body["settings"], body["role"]) == (
        "Customer care",
        "care",
        {"theme": "dark"},
        "admin",
    )


def test_workspace_update_by_editor_is_forbidden(workspace, member_of):
    editor = member_of(Role.EDITOR)

    response = client_for(editor).patch(detail_url(workspace), {"name": "Nope"}, format="json")

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "forbidden"
    workspace.refresh_from_db()
    assert workspace.name == "Support team"


def test_workspace_put_requires_name(workspace, owner_client):
    response = owner_client.put(detail_url(workspace), {"description": "only"}, format="json")

    assert response.status_code == 422, response.content
    assert "name" in response.json()["errors"]


def test_workspace_put_replaces_fields(workspace, owner_client):
    response = owner_client.put(detail_url(workspace), {"name": "New name", "description": "Desk"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["data"]["description"] == "Desk"


def test_workspace_membership_change_applies_next_request(workspace, member_of, owner):
    # given an editor who cannot update the workspace
    user = member_of(Role.EDITOR)
    client = client_for(user)
    assert client.patch(detail_url(workspace), {"name": "A"}, format="json").status_code == 403

    # when the owner promotes them, then removes them
    membership = Membership.objects.get(workspace=workspace, user=user)
    services.membership_set_role(membership=membership, role=Role.ADMIN, actor_role=Role.OWNER)
    promoted = client.patch(detail_url(workspace), {"name": "B"}, format="json")
    services.membership_remove(membership=membership, actor=owner, actor_role=Role.OWNER)
    removed = client.get(detail_url(workspace))

    # then each change applies to the very next request
    assert promoted.status_code == 200, promoted.content
    assert removed.status_code == 404, removed.content


# Deleting


def test_workspace_delete_requires_confirm(workspace, owner_client):
    missing = owner_client.delete(detail_url(workspace))
    wrong = owner_client.delete(detail_url(workspace) + "?confirm=other")

    for response in (missing, wrong):
        assert response.status_code == 422, response.content
        assert "confirm" in response.json()["errors"]
    assert Workspace.objects.filter(pk=workspace.pk, deleting_at__isnull=True).exists()


def test_workspace_delete_by_admin_is_forbidden(workspace, member_of):
    admin = member_of(Role.ADMIN)

    response = client_for(admin).delete(detail_url(workspace) + f"?confirm={workspace.slug}")

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "forbidden"


def test_workspace_delete_hides_then_task_deletes(
    workspace, owner, owner_client, eager_celery, django_capture_on_commit_callbacks
):
    # given data in the workspace, which is the owner's current one
    services.variable_create(workspace=workspace, key="K", value="v", created_by=owner)
    services.workspace_set_current(user=owner, workspace=workspace)

    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = owner_client.delete(detail_url(workspace) + f"?confirm={workspace.slug}")

    # then
    assert response.status_code == 204, response.content
    assert len(callbacks) == 1
    assert not Workspace.objects.filter(pk=workspace.pk).exists()
    assert not Variable.objects.filter(workspace_id=workspace.pk).exists()
    owner.refresh_from_db()
    assert owner.current_workspace_id == services.workspace_create_personal(user=owner).pk


def test_workspace_delete_hides_before_task_runs(workspace, owner_client):
    # The task is only queued on commit, which never happens inside this test's transaction.
    response = owner_client.delete(detail_url(workspace) + f"?confirm={workspace.slug}")
    listing = owner_client.get(URL)
    detail = owner_client.get(detail_url(workspace))
    context = owner_client.get("/api/v1/command-room/tasks", HTTP_X_WORKSPACE=str(workspace.pk))

    assert response.status_code == 204, response.content
    assert str(workspace.pk) not in {item["id"] for item in listing.json()["data"]}
    assert detail.status_code == 404, detail.content
    assert context.status_code == 404, context.content
    assert context.json()["code"] == "workspace_not_found"
    assert Workspace.objects.get(pk=workspace.pk).deleting_at is not None


def test_delete_workspace_task_tolerates_missing_row(db, eager_celery):
    result = delete_workspace.delay("3f0b6a52-8f3e-4c43-9a51-0f2f7b9c1d11")

    assert result.get() is False


def test_delete_workspace_task_skips_live_workspace(workspace, eager_celery):
    result = delete_workspace.delay(str(workspace.pk))

    assert result.get() is False
    assert Workspace.objects.filter(pk=workspace.pk).exists()


# Metrics


def test_workspace_metrics_counts_members(workspace, member_of, owner_client):
    member_of(Role.EDITOR)
    member_of(Role.VIEWER)

    response = owner_client.get(f"{URL}/metrics")

    assert response.status_code == 200, response.content
    by_slug = {item["workspace"]["slug"]: item["metrics"] for item in response.json()["data"]}
    assert by_slug[workspace.slug]["members"] == 3
    assert len(by_slug) == 2


def test_workspace_metrics_date_range(workspace, member_of, owner_client):
    late = member_of(Role.VIEWER)
    Membership.objects.filter(user=late).update(created_at=timezone.now() - timedelta(days=10))
    today = timezone.now().date().isoformat()

    response = owner_client.get(f"{URL}/metrics?from={today}&to={today}")

    assert response.status_code == 200, response.content
    by_slug = {item["workspace"]["slug"]: item["metrics"] for item in response.json()["data"]}
    assert by_slug[workspace.slug]["members"] == 1


@pytest.mark.parametrize(
    ("query", "field"),
    [("from=yesterday", "from"), ("to=2025-13-45", "to"), ("from=2025-02-01&to=2025-01-01", "from")],
)
def test_workspace_metrics_rejects_invalid_dates(owner_client, query, field):
    response = owner_client.get(f"{URL}/metrics?{query}")

    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]


def test_workspace_metrics_includes_registered_counter(workspace, owner_client, monkeypatch):
    from workspaces import registries

    # Work on a copy of the registry, so the counters other apps registered are left intact.
    monkeypatch.setattr(registries, "_metric_counters", registries.metric_counters())
    registries.unregister_metric("agents")
    registries.register_metric("agents", lambda ids, date_from, date_to: {workspace.pk: {"total": 2}})

    response = owner_client.get(f"{URL}/metrics")

    by_slug = {item["workspace"]["slug"]: item["metrics"] for item in response.json()["data"]}
    assert by_slug[workspace.slug]["members"] == 1
    assert by_slug[workspace.slug]["agents"] == {"total": 2}
    assert all(metrics["agents"] in (0, {"total": 2}) for metrics in by_slug.values())


# Ownership


def test_workspace_transfer_ownership(workspace, owner, owner_client, member_of):
    editor = member_of(Role.EDITOR)

    response = owner_client.post(f"{detail_url(workspace)}/transfer-ownership", {"user_id": str(editor.pk)})

    assert response.status_code == 200, response.content
    assert response.json()["data"]["role"] == "owner"
    workspace.refresh_from_db()
    assert workspace.owner_id == editor.pk
    assert Membership.objects.get(workspace=workspace, user=owner).role == Role.ADMIN


def test_workspace_transfer_ownership_by_admin_is_forbidden(workspace, member_of):
    admin = member_of(Role.ADMIN)

    response = client_for(admin).post(f"{detail_url(workspace)}/transfer-ownership", {"user_id": str(admin.pk)})

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "forbidden"


def test_workspace_transfer_ownership_to_non_member(workspace, owner_client, outsider):
    response = owner_client.post(f"{detail_url(workspace)}/transfer-ownership", {"user_id": str(outsider.pk)})

    assert response.status_code == 404, response.content


# Personal workspaces


def test_signup_creates_personal_current_workspace(db):
    user = UserFactory(name="Ada")

    personal = Workspace.objects.get(owner=user, is_personal=True)
    assert personal.name == "Ada's workspace"
    assert user.current_workspace_id == personal.pk
    assert Membership.objects.get(user=user, workspace=personal).role == Role.OWNER


def test_workspace_create_personal_is_idempotent(owner):
    first = services.workspace_create_personal(user=owner)
    second = services.workspace_create_personal(user=owner)

    assert first.pk == second.pk
    assert Workspace.objects.filter(owner=owner, is_personal=True).count() == 1


def test_service_account_gets_no_personal_workspace(db):
    robot = UserFactory(is_service_account=True)

    assert not Workspace.objects.filter(owner=robot).exists()
    assert robot.current_workspace_id is None


def test_workspace_delete_personal_allows_new_one(owner, owner_client):
    personal = services.workspace_create_personal(user=owner)

    response = owner_client.delete(detail_url(personal) + f"?confirm={personal.slug}")
    replacement = services.workspace_create_personal(user=owner)

    assert response.status_code == 204, response.content
    assert replacement.pk != personal.pk
    assert replacement.deleting_at is None
