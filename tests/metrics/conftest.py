"""Fixtures of the metrics and page tests: a workspace with members by role, signed-in clients, workflows."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts_auth.services import personal_access_token_create
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from workflows.services.workflows import workflow_create
from workspaces import services as workspace_services
from workspaces.models import Role

GRAPH = {
    "nodes": [
        {"id": "start", "type": "trigger.manual", "parameters": {}},
        {"id": "shape", "type": "set", "parameters": {"values": {"greeting": "hello"}}},
    ],
    "edges": [{"id": "e1", "source": "start", "target": "shape"}],
}


@pytest.fixture
def owner(db):
    return UserFactory()


@pytest.fixture
def workspace(owner):
    workspace = WorkspaceFactory(owner=owner, name="Support team")
    workspace_services.workspace_set_current(user=owner, workspace=workspace)
    return workspace


@pytest.fixture
def member_of(workspace):
    """Return a function adding a new user with a role to the workspace (made their current one)."""

    def add(role: str = Role.VIEWER):
        user = UserFactory()
        MembershipFactory(user=user, workspace=workspace, role=role)
        workspace_services.workspace_set_current(user=user, workspace=workspace)
        return user

    return add


@pytest.fixture
def token_client():
    def build(user, abilities=("*",), with_workspace: bool = True) -> APIClient:
        _token, raw = personal_access_token_create(user=user, name="test", abilities=list(abilities))
        client = APIClient()
        headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
        if with_workspace:
            headers["HTTP_X_WORKSPACE"] = str(user.current_workspace_id)
        client.credentials(**headers)
        return client

    return build


@pytest.fixture
def browser_for():
    """Return a function giving a Django test client signed in as the user."""

    def build(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return build


@pytest.fixture
def workflow(workspace, owner):
    return workflow_create(workspace=workspace, user=owner, data={"name": "Triage", **GRAPH})
