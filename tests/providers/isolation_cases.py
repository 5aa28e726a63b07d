"""Isolation matrix cases of the providers, accounts and models routes (collected by tests/isolation)."""

from tests.isolation.harness import EndpointCase
from tests.providers.factories import AccountFactory, LargeLanguageModelFactory, ProviderFactory
from workspaces.models import Role

OAUTH_CONFIG = {
    "strategy": "oauth2",
    "authorize_url": "https://auth.example.com/authorize",
    "token_url": "https://auth.example.com/token",
    "client_id": "athena-client",
    "client_secret": "isolation-client-secret",
}


def _provider(world):
    return ProviderFactory(workspace=world.workspace, key="isolation-crm")


def _llm_provider(world):
    return ProviderFactory(workspace=world.workspace, key="isolation-llm", kind="llm", llm_protocol="openai")


def _oauth_provider(world):
    return ProviderFactory(workspace=world.workspace, key="isolation-oauth", authentication_config=OAUTH_CONFIG)


def _account(world):
    return AccountFactory(workspace=world.workspace, provider=_provider(world), credentials={"token": "isolation-0001"})


def _llm_account(world):
    return AccountFactory(
        workspace=world.workspace, provider=_llm_provider(world), credentials={"token": "isolation-0002"}
    )


def _llm(world):
    return LargeLanguageModelFactory(provider=_llm_provider(world), workspace=world.workspace, model="isolation-model")


def _provider_url(world, provider):
    return f"/api/v1/providers/{provider.pk}"


def _account_url(world, account):
    return f"/api/v1/accounts/{account.pk}"


def _llm_url(world, llm):
    return f"/api/v1/llms/{llm.pk}"


PROVIDER_BODY = {"key": "isolation-new", "name": "Renamed"}
EDITOR = Role.EDITOR

CASES = [
    # Providers
    EndpointCase("providers", "GET", lambda w, o: "/api/v1/providers", "providers:read", scope="context"),
    EndpointCase(
        "providers",
        "POST",
        lambda w, o: "/api/v1/providers",
        "providers:write",
        min_role=EDITOR,
        scope="context",
        body=PROVIDER_BODY,
    ),
    EndpointCase("providers/{pk}", "GET", _provider_url, "providers:read", factory=_provider),
    EndpointCase(
        "providers/{pk}",
        "PUT",
        _provider_url,
        "providers:write",
        min_role=EDITOR,
        factory=_provider,
        body=PROVIDER_BODY,
    ),
    EndpointCase(
        "providers/{pk}",
        "PATCH",
        _provider_url,
        "providers:write",
        min_role=EDITOR,
        factory=_provider,
        body={"name": "Renamed"},
    ),
    EndpointCase("providers/{pk}", "DELETE", _provider_url, "providers:delete", min_role=EDITOR, factory=_provider),
    EndpointCase(
        "providers/{pk}/sync-models",
        "POST",
        lambda w, account: f"/api/v1/providers/{account.provider_id}/sync-models",
        "providers:write",
        min_role=EDITOR,
        factory=_llm_account,
        body=lambda w, account: {"account_id": str(account.pk)},
    ),
    EndpointCase(
        "providers/{pk}/oauth/authorize",
        "GET",
        lambda w, o: f"/api/v1/providers/{o.pk}/oauth/authorize?account_name=CRM&workspace={w.workspace.pk}",
        "accounts:write",
        min_role=EDITOR,
        factory=_oauth_provider,
    ),
    # Accounts
    EndpointCase("accounts", "GET", lambda w, o: "/api/v1/accounts", "accounts:read", scope="context"),
    EndpointCase(
        "accounts",
        "POST",
        lambda w, o: "/api/v1/accounts",
        "accounts:write",
        min_role=EDITOR,
        scope="context",
        factory=_provider,
        body=lambda w, provider: {"provider_id": str(provider.pk), "name": "New", "credentials": {"token": "x" * 16}},
    ),
    EndpointCase("accounts/{pk}", "GET", _account_url, "accounts:read", factory=_account),
    EndpointCase(
        "accounts/{pk}", "PUT", _account_url, "accounts:write", min_role=EDITOR, factory=_account, body={"name": "New"}
    ),
    EndpointCase(
        "accounts/{pk}",
        "PATCH",
        _account_url,
        "accounts:write",
        min_role=EDITOR,
        factory=_account,
        body={"name": "New"},
    ),
    EndpointCase("accounts/{pk}", "DELETE", _account_url, "accounts:delete", min_role=EDITOR, factory=_account),
    EndpointCase(
        "accounts/{pk}/test",
        "POST",
        lambda w, account: f"/api/v1/accounts/{account.pk}/test",
        "accounts:write",
        min_role=EDITOR,
        factory=_account,
    ),
    # Large language models
    EndpointCase("llms", "GET", lambda w, o: "/api/v1/llms", "providers:read", scope="context"),
    EndpointCase(
        "llms",
        "POST",
        lambda w, o: "/api/v1/llms",
        "providers:write",
        min_role=EDITOR,
        scope="context",
        factory=_llm_provider,
        body=lambda w, provider: {"provider_id": str(provider.pk), "model": "new-model"},
    ),
    EndpointCase("llms/{pk}", "GET", _llm_url, "providers:read", factory=_llm),
    EndpointCase(
        "llms/{pk}",
        "PUT",
        _llm_url,
        "providers:write",
        min_role=EDITOR,
        factory=_llm,
        body=lambda w, llm: {"provider_id": str(llm.provider_id), "model": "renamed-model"},
    ),
    EndpointCase(
        "llms/{pk}", "PATCH", _llm_url, "providers:write", min_role=EDITOR, factory=_llm, body={"active": False}
    ),
    EndpointCase("llms/{pk}", "DELETE", _llm_url, "providers:delete", min_role=EDITOR, factory=_llm),
]
