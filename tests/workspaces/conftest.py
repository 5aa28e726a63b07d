"""Fixtures of the workspaces tests: an owner and their workspace, members by role, and API clients."""

import uuid

import pytest
from rest_framework.test import APIClient

from accounts_auth.services import personal_access_token_create
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from workspaces import registries
from workspaces.models import Role


def client_for(user, abilities=("*",)) -> APIClient:
    """Return an API client that sends a real personal access token of `user` with `abilities`."""
    _token, raw = personal_access_token_create(user=user, name="test", abilities=list(abilities))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def make_client():
    return client_for


@pytest.fixture
def owner(db):
    return UserFactory()


@pytest.fixture
def workspace(owner):
    return WorkspaceFactory(owner=owner, name="Support team")


@pytest.fixture
def member_of(workspace):
    """Return a function that adds a new user to the workspace with a role and returns the user."""

    def add(role: str = Role.VIEWER, **user_fields):
        user = UserFactory(**user_fields)
        MembershipFactory(user=user, workspace=workspace, role=role)
        return user

    return add


@pytest.fixture
def owner_client(owner):
    return client_for(owner)


@pytest.fixture
def outsider(db):
    """A user with workspaces of their own and none in common with the fixtures above."""
    return UserFactory()


@pytest.fixture
def eager_celery(settings):
    """Run tasks in the test process even when REDIS_URL points the app at a real broker."""
    # Celery reads the namespaced Django setting before its own configuration changes.
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture
def no_reference_kinds(monkeypatch):
    """Empty the command-room kind registry for one test, whatever the installed apps registered."""
    monkeypatch.setattr(registries, "_reference_kinds", {})


@pytest.fixture
def reference_kind(no_reference_kinds):
    """Register only the `agent` reference kind, over a set of (workspace_id, reference_id) pairs."""
    existing: set[tuple[uuid.UUID, uuid.UUID]] = set()

    def exists(workspace_id, reference_id):
        return (workspace_id, reference_id) in existing

    registries.register_reference_kind("agent", exists)
    return existing
