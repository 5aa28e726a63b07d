"""Fixtures of the workflow test-mode and generation tests, built on the workflows tests' fixtures."""

import secrets

import pytest

from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from tests.providers.factories import AccountFactory, LargeLanguageModelFactory, ProviderFactory
from tests.workflows import conftest as workflows_conftest
from tests.workspaces.conftest import client_for
from workspaces.models import Role

# Fixtures shared with the workflows tests.
eager_unless_integration = workflows_conftest.eager_unless_integration
http_server = workflows_conftest.http_server
make_workflow = workflows_conftest.make_workflow
on_commit = workflows_conftest.on_commit
owner = workflows_conftest.owner
owner_client = workflows_conftest.owner_client
run_workflow = workflows_conftest.run_workflow
workspace = workflows_conftest.workspace


def headers_for(workspace) -> dict[str, str]:
    return {"HTTP_X_WORKSPACE": str(workspace.pk)}


@pytest.fixture
def member_client(workspace):
    """Return a function giving a client of a new member with `role` and token `abilities`."""

    def make(role: str, abilities: tuple[str, ...] = ("*",)):
        user = UserFactory()
        MembershipFactory(user=user, workspace=workspace, role=role)
        return client_for(user, abilities)

    return make


@pytest.fixture
def stranger_client(db):
    stranger = UserFactory()
    WorkspaceFactory(owner=stranger, name="Elsewhere")
    return client_for(stranger)


@pytest.fixture
def chat_model(workspace, fake_llm):
    """A chat model of the workspace on the fake OpenAI-compatible server, with an active account."""
    key = "sk-test-" + secrets.token_urlsafe(24)
    fake_llm.api_key = key
    provider = ProviderFactory(
        workspace=workspace, key="local-llm", kind="llm", llm_protocol="openai", base_url=fake_llm.openai_base_url
    )
    AccountFactory(provider=provider, workspace=workspace, credentials={"token": key})
    return LargeLanguageModelFactory(provider=provider, workspace=workspace, model="fake-chat")


EDITOR = Role.EDITOR
VIEWER = Role.VIEWER
