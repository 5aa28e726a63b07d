"""Variables and secrets: admins write, members read, secret values never leave the database."""

import logging

import pytest
from django.db import connection

from tests.factories import VariableFactory, WorkspaceFactory
from tests.workspaces.conftest import client_for
from workspaces.models import Role, Variable
from workspaces.selectors import workspace_variables_and_secrets

SECRET = "sk-live-Zq8pW3nE7rT2"


def variables_url(workspace, key=None) -> str:
    base = f"/api/v1/workspaces/{workspace.pk}/variables"
    return f"{base}/{key}" if key else base


def test_variable_create_plain(workspace, owner, owner_client):
    response = owner_client.post(
        variables_url(workspace), {"key": "REGION", "value": "eu-west-1", "description": "Cloud region"}
    )

    assert response.status_code == 201, response.content
    body = response.json()["data"]
    assert (body["key"], body["value"], body["secret"], body["created_by"]) == (
        "REGION",
        "eu-west-1",
        False,
        str(owner.pk),
    )


def test_variable_secret_never_returned(workspace, owner_client, member_of, caplog):
    viewer = member_of(Role.VIEWER)
    caplog.set_level(logging.DEBUG)

    created = owner_client.post(variables_url(workspace), {"key": "API_KEY", "value": SECRET, "secret": True})
    updated = owner_client.patch(variables_url(workspace, "API_KEY"), {"value": SECRET + "2"}, format="json")
    listed = client_for(viewer).get(variables_url(workspace))

    for response in (created, updated, listed):
        assert response.status_code in (200, 201), response.content
        assert SECRET.encode() not in response.content
    assert listed.json()["data"][0]["value"] is None
    assert listed.json()["data"][0]["secret"] is True
    assert SECRET not in caplog.text


def test_variable_secret_encrypted_at_rest(workspace, owner):
    variable = VariableFactory(workspace=workspace, key="API_KEY", value=SECRET, secret=True)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT value, secret_value FROM workspaces_variable WHERE id = %s",
            [variable.pk.hex if connection.vendor == "sqlite" else variable.pk],
        )
        plain_column, secret_column = cursor.fetchone()

    assert plain_column == ""
    assert SECRET not in secret_column
    assert secret_column.startswith("gAAAAA")
    assert Variable.objects.get(pk=variable.pk).secret_value.reveal() == SECRET


def test_variable_secret_not_in_validation_errors(workspace, owner_client):
    VariableFactory(workspace=workspace, key="API_KEY", value="old", secret=True)

    response = owner_client.post(
        variables_url(workspace), {"key": "bad key!", "value": SECRET, "secret": True}, format="json"
    )

    assert response.status_code == 422, response.content
    assert SECRET.encode() not in response.content


def test_variable_selectors_split_plain_and_secret(workspace):
    VariableFactory(workspace=workspace, key="REGION", value="eu")
    VariableFactory(workspace=workspace, key="API_KEY", value=SECRET, secret=True)
    VariableFactory(workspace=WorkspaceFactory(), key="OTHER", value="not mine")

    variables, secrets = workspace_variables_and_secrets(workspace=workspace)

    assert variables == {"REGION": "eu"}
    assert secrets == {"API_KEY": SECRET}


def test_variable_duplicate_key(workspace, owner_client):
    VariableFactory(workspace=workspace, key="REGION")

    response = owner_client.post(variables_url(workspace), {"key": "REGION", "value": "x"})

    assert response.status_code == 409, response.content
    assert response.json()["code"] == "variable_exists"


def test_variable_same_key_in_two_workspaces(workspace, owner, owner_client):
    VariableFactory(workspace=WorkspaceFactory(owner=owner), key="REGION")

    response = owner_client.post(variables_url(workspace), {"key": "REGION", "value": "x"})

    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"key": "1ABC", "value": "x"}, "key"),
        ({"key": "has-dash", "value": "x"}, "key"),
        ({"key": "K" * 65, "value": "x"}, "key"),
        ({"key": "OK"}, "value"),
        ({"key": "OK", "value": "v" * (32 * 1024 + 1)}, "value"),
        ({"key": "OK", "value": "x", "description": "d" * 501}, "description"),
        ({"key": "OK", "value": "x", "secret": "maybe"}, "secret"),
    ],
)
def test_variable_create_rejects_invalid_input(workspace, owner_client, payload, field):
    response = owner_client.post(variables_url(workspace), payload, format="json")

    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]


def test_variable_write_by_editor_is_forbidden(workspace, member_of):
    editor = member_of(Role.EDITOR)
    VariableFactory(workspace=workspace, key="REGION")
    client = client_for(editor)

    created = client.post(variables_url(workspace), {"key": "NEW", "value": "x"})
    updated = client.patch(variables_url(workspace, "REGION"), {"value": "y"}, format="json")
    deleted = client.delete(variables_url(workspace, "REGION"))

    for response in (created, updated, deleted):
        assert response.status_code == 403, response.content
        assert response.json()["code"] == "forbidden"
    assert Variable.objects.get(workspace=workspace, key="REGION").value == "plain value"


def test_variable_update_and_rename(workspace, owner_client):
    VariableFactory(workspace=workspace, key="REGION", value="eu")

    response = owner_client.patch(variables_url(workspace, "REGION"), {"key": "ZONE", "value": "us"}, format="json")

    assert response.status_code == 200, response.content
    assert (response.json()["data"]["key"], response.json()["data"]["value"]) == ("ZONE", "us")


def test_variable_make_secret_moves_value(workspace, owner_client):
    VariableFactory(workspace=workspace, key="TOKEN", value=SECRET)

    response = owner_client.patch(variables_url(workspace, "TOKEN"), {"secret": True}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["data"]["value"] is None
    variable = Variable.objects.get(workspace=workspace, key="TOKEN")
    assert variable.value == ""
    assert variable.secret_value.reveal() == SECRET


def test_variable_make_plain_needs_value(workspace, owner_client):
    VariableFactory(workspace=workspace, key="TOKEN", value=SECRET, secret=True)

    response = owner_client.patch(variables_url(workspace, "TOKEN"), {"secret": False}, format="json")

    assert response.status_code == 422, response.content
    assert "value" in response.json()["errors"]


def test_variable_delete(workspace, owner_client):
    VariableFactory(workspace=workspace, key="REGION")

    response = owner_client.delete(variables_url(workspace, "REGION"))

    assert response.status_code == 204, response.content
    assert not Variable.objects.filter(workspace=workspace).exists()


def test_variable_unknown_key(workspace, owner_client):
    response = owner_client.patch(variables_url(workspace, "MISSING"), {"value": "x"}, format="json")

    assert response.status_code == 404, response.content
    assert response.json()["code"] == "not_found"


def test_variable_list_needs_read_ability(workspace, owner):
    response = client_for(owner, abilities=["agents:read"]).get(variables_url(workspace))

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "insufficient_ability"
