"""Members and invitations: adding, inviting, roles, leaving, last-owner protection and acceptance."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from tests.factories import UserFactory, WorkspaceFactory
from tests.workspaces.conftest import client_for
from workspaces import services
from workspaces.models import Invitation, Membership, Role


def members_url(workspace, user=None) -> str:
    base = f"/api/v1/workspaces/{workspace.pk}/members"
    return f"{base}/{user.pk}" if user is not None else base


def test_member_list(workspace, owner, owner_client, member_of):
    editor = member_of(Role.EDITOR)

    response = owner_client.get(members_url(workspace))

    assert response.status_code == 200, response.content
    rows = {item["email"]: (item["role"], item["status"], item["user_id"]) for item in response.json()["data"]}
    assert rows == {
        owner.email: ("owner", "active", str(owner.pk)),
        editor.email: ("editor", "active", str(editor.pk)),
    }


def test_member_list_by_viewer(workspace, member_of):
    viewer = member_of(Role.VIEWER)

    response = client_for(viewer).get(members_url(workspace))

    assert response.status_code == 200, response.content
    assert response.json()["meta"]["total"] == 2


def test_member_add_existing_user(workspace, owner_client):
    user = UserFactory(email="Ada@Example.com")

    response = owner_client.post(members_url(workspace), {"email": "ADA@example.com", "role": "editor"})

    assert response.status_code == 201, response.content
    body = response.json()["data"]
    assert (body["status"], body["role"], body["user_id"]) == ("active", "editor", str(user.pk))
    assert Membership.objects.get(workspace=workspace, user=user).role == Role.EDITOR


def test_member_add_already_member(workspace, owner_client, member_of):
    editor = member_of(Role.EDITOR)

    response = owner_client.post(members_url(workspace), {"email": editor.email, "role": "viewer"})

    assert response.status_code == 409, response.content
    assert response.json()["code"] == "already_member"


def test_member_invite_unknown_email(workspace, owner_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(members_url(workspace), {"email": "grace@example.com", "role": "editor"})

    assert response.status_code == 201, response.content
    body = response.json()["data"]
    assert (body["status"], body["user_id"], body["email"]) == ("invited", None, "grace@example.com")
    assert Invitation.objects.get(workspace=workspace).role == Role.EDITOR
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["grace@example.com"]
    assert "/api/v1/workspaces/invitations/" in mail.outbox[0].body


def test_member_invite_again_replaces_pending(workspace, owner, owner_client):
    first = owner_client.post(members_url(workspace), {"email": "grace@example.com", "role": "viewer"})
    second = owner_client.post(members_url(workspace), {"email": "grace@example.com", "role": "admin"})

    assert first.status_code == 201, first.content
    assert second.status_code == 201, second.content
    invitation = Invitation.objects.get(workspace=workspace)
    assert invitation.role == Role.ADMIN


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "not-an-email", "role": "viewer"}, "email"),
        ({"email": "a@example.com", "role": "emperor"}, "role"),
        ({"email": ("a" * 250) + "@example.com"}, "email"),
        ({}, "email"),
    ],
)
def test_member_add_rejects_invalid_input(workspace, owner_client, payload, field):
    response = owner_client.post(members_url(workspace), payload, format="json")

    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]


def test_member_add_by_editor_is_forbidden(workspace, member_of):
    editor = member_of(Role.EDITOR)

    response = client_for(editor).post(members_url(workspace), {"email": "x@example.com", "role": "viewer"})

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "forbidden"


def test_member_admin_cannot_grant_owner(workspace, member_of):
    admin = member_of(Role.ADMIN)
    editor = member_of(Role.EDITOR)

    added = client_for(admin).post(members_url(workspace), {"email": "new@example.com", "role": "owner"})
    promoted = client_for(admin).patch(members_url(workspace, editor), {"role": "owner"}, format="json")

    for response in (added, promoted):
        assert response.status_code == 403, response.content
        assert response.json()["code"] == "forbidden"


def test_member_admin_cannot_remove_owner(workspace, owner, member_of):
    admin = member_of(Role.ADMIN)

    response = client_for(admin).delete(members_url(workspace, owner))

    assert response.status_code == 403, response.content
    assert Membership.objects.filter(workspace=workspace, user=owner).exists()


def test_member_change_role(workspace, owner_client, member_of):
    viewer = member_of(Role.VIEWER)

    response = owner_client.patch(members_url(workspace, viewer), {"role": "admin"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["data"]["role"] == "admin"
    assert Membership.objects.get(workspace=workspace, user=viewer).role == Role.ADMIN


def test_member_change_role_unknown_user(workspace, owner_client, outsider):
    response = owner_client.patch(members_url(workspace, outsider), {"role": "admin"}, format="json")

    assert response.status_code == 404, response.content
    assert response.json()["code"] == "not_found"


def test_member_last_owner_cannot_be_demoted(workspace, owner, owner_client):
    response = owner_client.patch(members_url(workspace, owner), {"role": "admin"}, format="json")

    assert response.status_code == 409, response.content
    assert response.json()["code"] == "last_owner"
    assert Membership.objects.get(workspace=workspace, user=owner).role == Role.OWNER


def test_member_last_owner_cannot_leave(workspace, owner, owner_client):
    response = owner_client.delete(members_url(workspace, owner))

    assert response.status_code == 409, response.content
    assert response.json()["code"] == "last_owner"


def test_member_owner_leaves_when_another_owner_remains(workspace, owner, owner_client, member_of):
    second = member_of(Role.OWNER)

    response = owner_client.delete(members_url(workspace, owner))

    assert response.status_code == 204, response.content
    workspace.refresh_from_db()
    assert workspace.owner_id == second.pk


def test_member_viewer_leaves(workspace, member_of):
    viewer = member_of(Role.VIEWER)

    response = client_for(viewer).delete(members_url(workspace, viewer))

    assert response.status_code == 204, response.content
    assert not Membership.objects.filter(workspace=workspace, user=viewer).exists()


def test_member_leave_needs_delete_ability(workspace, member_of):
    viewer = member_of(Role.VIEWER)

    response = client_for(viewer, abilities=["members:read"]).delete(members_url(workspace, viewer))

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "insufficient_ability"


def test_member_viewer_cannot_remove_others(workspace, member_of):
    viewer = member_of(Role.VIEWER)
    editor = member_of(Role.EDITOR)

    response = client_for(viewer).delete(members_url(workspace, editor))

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "forbidden"


def test_member_admin_removes_editor(workspace, member_of):
    admin = member_of(Role.ADMIN)
    editor = member_of(Role.EDITOR)

    response = client_for(admin).delete(members_url(workspace, editor))

    assert response.status_code == 204, response.content
    assert not Membership.objects.filter(workspace=workspace, user=editor).exists()


# Invitations


def test_invitation_accepted_at_signup(workspace, owner):
    services.member_add(
        workspace=workspace, email="grace@example.com", role=Role.EDITOR, invited_by=owner, actor_role=Role.OWNER
    )

    grace = UserFactory(email="grace@example.com")

    assert Membership.objects.get(workspace=workspace, user=grace).role == Role.EDITOR
    assert Invitation.objects.get(workspace=workspace).accepted_at is not None


def test_invitation_waits_for_verified_email(workspace, owner):
    services.invitation_create(workspace=workspace, email="grace@example.com", role=Role.EDITOR, invited_by=owner)

    grace = UserFactory(email="grace@example.com", email_verified_at=None)
    assert not Membership.objects.filter(workspace=workspace, user=grace).exists()

    grace.email_verified_at = timezone.now()
    grace.save(update_fields=["email_verified_at"])
    assert Membership.objects.filter(workspace=workspace, user=grace).exists()


def test_invitation_expired_is_not_accepted_at_signup(workspace, owner):
    invitation, _raw = services.invitation_create(
        workspace=workspace, email="grace@example.com", role=Role.EDITOR, invited_by=owner
    )
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    grace = UserFactory(email="grace@example.com")

    assert not Membership.objects.filter(workspace=workspace, user=grace).exists()


def test_invitation_accept_endpoint(workspace, owner):
    grace = UserFactory(email="grace@example.com")
    _invitation, raw = services.invitation_create(
        workspace=workspace, email="grace@example.com", role=Role.ADMIN, invited_by=owner
    )

    response = client_for(grace).post(f"/api/v1/workspaces/invitations/{raw}/accept")

    assert response.status_code == 200, response.content
    assert response.json()["data"]["id"] == str(workspace.pk)
    assert response.json()["data"]["role"] == "admin"
    again = client_for(grace).post(f"/api/v1/workspaces/invitations/{raw}/accept")
    assert again.status_code == 404, again.content


def test_invitation_accept_other_email_is_not_found(workspace, owner, outsider):
    _invitation, raw = services.invitation_create(
        workspace=workspace, email="grace@example.com", role=Role.ADMIN, invited_by=owner
    )

    response = client_for(outsider).post(f"/api/v1/workspaces/invitations/{raw}/accept")

    assert response.status_code == 404, response.content
    assert response.json()["code"] == "not_found"
    assert not Membership.objects.filter(workspace=workspace, user=outsider).exists()


def test_invitation_accept_expired(workspace, owner):
    grace = UserFactory(email="grace@example.com")
    invitation, raw = services.invitation_create(
        workspace=workspace, email="grace@example.com", role=Role.ADMIN, invited_by=owner
    )
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = client_for(grace).post(f"/api/v1/workspaces/invitations/{raw}/accept")

    assert response.status_code == 409, response.content
    assert response.json()["code"] == "invitation_expired"


def test_invitation_accept_unknown_token(owner_client):
    response = owner_client.post("/api/v1/workspaces/invitations/no-such-token/accept")

    assert response.status_code == 404, response.content


def test_invitation_accept_requires_authentication(api_client, db):
    response = api_client.post("/api/v1/workspaces/invitations/any-token/accept")

    assert response.status_code == 401, response.content
    assert response.json()["code"] == "unauthenticated"


def test_members_of_foreign_workspace(owner_client, outsider):
    foreign = WorkspaceFactory(owner=outsider)

    response = owner_client.get(members_url(foreign))

    assert response.status_code == 404, response.content
    assert response.json()["code"] == "not_found"
