"""Syncing Multiplai organizations into workspaces and memberships."""

import pytest

from tests.factories import UserFactory
from workspaces.models import Membership, Role, Workspace
from workspaces.services import multiplai_role_to_workspace_role, workspace_sync_multiplai_organizations


@pytest.fixture
def ada(db):
    return UserFactory(email="ada@example.com")


def role_in(user, external_id):
    return Membership.objects.get(user=user, workspace__external_id=external_id).role


@pytest.mark.parametrize(
    ("multiplai_role", "role"),
    [
        ("owner", "owner"),
        ("admin", "admin"),
        ("member", "editor"),
        ("editor", "editor"),
        ("guest", "viewer"),
        ("", "viewer"),
        (None, "viewer"),
        ("OWNER", "owner"),
    ],
)
def test_multiplai_role_mapping(multiplai_role, role):
    assert multiplai_role_to_workspace_role(multiplai_role) == role


def test_multiplai_sync_creates_workspaces(ada):
    workspace_sync_multiplai_organizations(
        user=ada,
        organizations=[
            {"id": "org-1", "name": "Acme", "role": "owner"},
            {"id": "org-2", "name": "Beta", "role": "member"},
        ],
    )

    acme = Workspace.objects.get(external_id="org-1")
    beta = Workspace.objects.get(external_id="org-2")
    assert (acme.name, acme.owner_id, role_in(ada, "org-1")) == ("Acme", ada.pk, Role.OWNER)
    # A workspace first seen through a member is not owned by that member.
    assert (beta.owner_id, role_in(ada, "org-2")) == (None, Role.EDITOR)


def test_multiplai_sync_updates_name_and_role(ada):
    grace = UserFactory()
    workspace_sync_multiplai_organizations(user=grace, organizations=[{"id": "org-1", "name": "Acme", "role": "owner"}])
    workspace_sync_multiplai_organizations(user=ada, organizations=[{"id": "org-1", "name": "Acme", "role": "member"}])

    workspace_sync_multiplai_organizations(
        user=ada, organizations=[{"id": "org-1", "name": "Acme Inc", "role": "admin"}]
    )

    assert Workspace.objects.get(external_id="org-1").name == "Acme Inc"
    assert role_in(ada, "org-1") == Role.ADMIN
    assert Workspace.objects.filter(external_id="org-1").count() == 1


def test_multiplai_sync_removes_left_organizations(ada):
    owner = UserFactory()
    workspace_sync_multiplai_organizations(user=owner, organizations=[{"id": "org-1", "name": "Acme", "role": "owner"}])
    workspace_sync_multiplai_organizations(user=ada, organizations=[{"id": "org-1", "name": "Acme", "role": "member"}])

    workspace_sync_multiplai_organizations(user=ada, organizations=[])

    assert not Membership.objects.filter(user=ada, workspace__external_id="org-1").exists()
    assert Workspace.objects.filter(external_id="org-1").exists()
    assert Membership.objects.filter(user=ada, workspace__is_personal=True).exists()


def test_multiplai_sync_keeps_last_owner_on_demotion(ada):
    workspace_sync_multiplai_organizations(user=ada, organizations=[{"id": "org-1", "name": "Acme", "role": "owner"}])

    workspace_sync_multiplai_organizations(user=ada, organizations=[{"id": "org-1", "name": "Acme", "role": "member"}])

    assert role_in(ada, "org-1") == Role.OWNER


def test_multiplai_sync_keeps_last_owner_on_leave(ada):
    workspace_sync_multiplai_organizations(user=ada, organizations=[{"id": "org-1", "name": "Acme", "role": "owner"}])

    workspace_sync_multiplai_organizations(user=ada, organizations=[])

    assert role_in(ada, "org-1") == Role.OWNER


def test_multiplai_sync_demotes_when_another_owner_exists(ada):
    grace = UserFactory()
    for user in (ada, grace):
        workspace_sync_multiplai_organizations(user=user, organizations=[{"id": "org-1", "name": "A", "role": "owner"}])

    workspace_sync_multiplai_organizations(user=ada, organizations=[{"id": "org-1", "name": "A", "role": "admin"}])

    assert role_in(ada, "org-1") == Role.ADMIN
    assert Workspace.objects.get(external_id="org-1").owner_id == grace.pk


def test_multiplai_sync_never_touches_local_workspaces(ada):
    personal = Workspace.objects.get(owner=ada, is_personal=True)

    workspace_sync_multiplai_organizations(user=ada, organizations=[])

    assert Membership.objects.get(user=ada, workspace=personal).role == Role.OWNER


def test_multiplai_sync_skips_malformed_entries(ada):
    memberships = workspace_sync_multiplai_organizations(
        user=ada,
        organizations=[{"name": "no id"}, "junk", {"id": "x" * 65, "name": "long"}, {"id": "org-9", "role": "admin"}],
    )

    assert [membership.workspace.external_id for membership in memberships] == ["org-9"]
    assert Workspace.objects.get(external_id="org-9").name == "Organization org-9"
