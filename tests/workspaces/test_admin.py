"""The admin: every workspaces model is registered and secret values are never displayed."""

import pytest
from django.contrib import admin

from tests.factories import CommandRoomTaskFactory, UserFactory, VariableFactory
from workspaces.models import CommandRoomTask, Invitation, Membership, Variable, Workspace

SECRET = "sk-admin-Hq4Lm9"


@pytest.fixture
def admin_client(client, db):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(superuser)
    return client


def test_admin_registers_every_model():
    for model in (Workspace, Membership, Invitation, Variable, CommandRoomTask):
        assert admin.site.is_registered(model), model


def test_admin_never_shows_secret(admin_client, workspace):
    variable = VariableFactory(workspace=workspace, key="API_KEY", value=SECRET, secret=True)

    listing = admin_client.get("/admin/workspaces/variable/")
    change = admin_client.get(f"/admin/workspaces/variable/{variable.pk}/change/")

    assert listing.status_code == 200
    assert change.status_code == 200
    assert SECRET.encode() not in listing.content
    assert SECRET.encode() not in change.content


def test_admin_replaces_secret(admin_client, workspace, owner):
    variable = VariableFactory(workspace=workspace, key="API_KEY", value=SECRET, secret=True)

    response = admin_client.post(
        f"/admin/workspaces/variable/{variable.pk}/change/",
        {
            "workspace": str(workspace.pk),
            "key": "API_KEY",
            "secret": "on",
            "value": "",
            "description": "",
            "created_by": "",
            "new_secret_value": "sk-new",
        },
    )

    assert response.status_code == 302, response.content
    assert Variable.objects.get(pk=variable.pk).secret_value.reveal() == "sk-new"


@pytest.mark.parametrize("model", ["workspace", "membership", "invitation", "variable", "commandroomtask"])
def test_admin_changelists_load(admin_client, workspace, model):
    CommandRoomTaskFactory(workspace=workspace)

    response = admin_client.get(f"/admin/workspaces/{model}/")

    assert response.status_code == 200
