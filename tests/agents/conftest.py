"""Fixtures of the agents tests: an LLM provider on the fake LLM server, its account and model, and agents."""

import pytest

from agents import services
from providers.llm import gateway
from tests.agents.factories import llm_setup
from tests.agents.fake_mcp import _mcp_server, fake_mcp  # noqa: F401 (fixtures)
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


@pytest.fixture(autouse=True)
def no_gateway_sleep(monkeypatch):
    """Retry backoff of the gateway is recorded, not slept, so upstream failures stay fast."""
    waits: list[float] = []
    monkeypatch.setattr(gateway, "_sleep", waits.append)
    return waits


@pytest.fixture
def llm(db, fake_llm, workspace):  # noqa: F811 (fixtures imported above)
    """The fake OpenAI-compatible provider's (account, model) in the workspace."""
    return llm_setup(workspace=workspace, base_url=fake_llm.openai_base_url)


@pytest.fixture
def make_agent(workspace, owner, llm):  # noqa: F811 (fixtures imported above)
    """Return a function that creates an agent of the workspace on the fake model."""
    account, model = llm

    def create(**fields):
        data = {"name": "Helper", "model_id": model.pk, "account_id": account.pk, **fields}
        return services.agent_create(workspace=workspace, user=owner, data=data)

    return create


@pytest.fixture
def agent(make_agent):
    return make_agent(instructions="You are a helpful assistant for {{ company }}.")
