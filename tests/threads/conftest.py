"""Fixtures of the threads tests: agents on the fake LLM (from the agents tests), threads and files."""

import pytest

from tests.agents.conftest import agent, llm, make_agent, no_gateway_sleep  # noqa: F401 (fixtures)
from tests.fakes_llm import fake_llm  # noqa: F401 (fixture)
from tests.workspaces.conftest import (  # noqa: F401 (fixtures)
    eager_celery,
    make_client,
    member_of,
    outsider,
    owner,
    owner_client,
    workspace,
)
from threads import services


@pytest.fixture(autouse=True)
def thread_settings(settings, tmp_path):
    """Store files under a temporary directory, and name threads only in the tests that ask for it."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ATHENA_THREAD_AUTO_NAME = False
    return settings


@pytest.fixture
def make_thread(workspace, owner):  # noqa: F811 (fixtures imported above)
    """Return a function that starts a thread of the workspace with an agent."""

    def create(agent, **fields):  # noqa: F811 (a parameter, not the fixture)
        return services.thread_create(workspace=workspace, user=owner, agent=agent, data=fields)

    return create


@pytest.fixture
def thread(make_thread, make_agent):  # noqa: F811 (fixtures imported above)
    return make_thread(make_agent(instructions="You are a concise assistant."))
