"""Builders of the agents tests; agents and memories are created through their services."""

from agents import services
from tests.providers.factories import AccountFactory, LargeLanguageModelFactory, ProviderFactory


def llm_setup(*, workspace, base_url: str, protocol: str = "openai", key: str = "fake-chat"):
    """Create an LLM provider at `base_url` with an account and a priced model; return (account, model)."""
    provider = ProviderFactory(
        workspace=workspace, key=f"llm-{protocol}", kind="llm", llm_protocol=protocol, base_url=base_url
    )
    account = AccountFactory(provider=provider, workspace=workspace, credentials={"token": "fake-llm-token-0001"})
    model = LargeLanguageModelFactory(
        provider=provider,
        workspace=workspace,
        model=key,
        capabilities=["streaming", "tools", "embeddings"],
        input_price_per_million="2.000000",
        output_price_per_million="8.000000",
    )
    return account, model


def agent_in(workspace, **fields):
    """Create an agent without a model in the workspace (enough for permission checks)."""
    return services.agent_create(workspace=workspace, user=workspace.owner, data={"name": "Isolated", **fields})
