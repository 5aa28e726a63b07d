"""The large language models API: the catalogue, workspace models and importing a provider's model list."""

import pytest

from providers.catalogue import catalogue_load
from providers.models import LargeLanguageModel, Provider
from tests.providers.conftest import make_secret
from tests.providers.factories import AccountFactory, LargeLanguageModelFactory, ProviderFactory
from workspaces.models import Role


def _headers(workspace):
    return {"HTTP_X_WORKSPACE": str(workspace.pk)}


@pytest.fixture
def catalogue(db):
    catalogue_load()


@pytest.fixture
def llm_provider(workspace, fake_llm):
    return ProviderFactory(
        workspace=workspace, key="local-llm", kind="llm", llm_protocol="openai", base_url=fake_llm.openai_base_url
    )


@pytest.fixture
def own_llm(workspace, llm_provider):
    return LargeLanguageModelFactory(provider=llm_provider, workspace=workspace, model="llama3", display_name="Llama 3")


def test_llm_list_shows_catalogue_and_own(catalogue, owner_client, workspace, own_llm, outsider):
    foreign_provider = ProviderFactory(workspace=outsider.owned_workspaces.first(), kind="llm", llm_protocol="openai")
    LargeLanguageModelFactory(provider=foreign_provider, model="theirs")

    response = owner_client.get("/api/v1/llms?per_page=100", **_headers(workspace))

    assert response.status_code == 200, response.content
    models = {row["model"]: row for row in response.json()["data"]}
    assert "gpt-4o-mini" in models
    assert "claude-sonnet-4-5" in models
    assert models["gpt-4o-mini"]["is_catalogue"] is True
    assert models["gpt-4o-mini"]["input_price_per_million"] == 0.15
    assert models["llama3"]["workspace_id"] == str(workspace.pk)
    assert "theirs" not in models


def test_llm_list_filters(catalogue, owner_client, workspace, own_llm):
    openai = Provider.objects.get(key="openai", workspace__isnull=True)

    embeddings = owner_client.get("/api/v1/llms?capability=embeddings&per_page=100", **_headers(workspace))
    by_provider = owner_client.get(f"/api/v1/llms?provider={own_llm.provider_id}", **_headers(workspace))
    by_search = owner_client.get(f"/api/v1/llms?search=mini&provider={openai.pk}&per_page=100", **_headers(workspace))
    bad = owner_client.get("/api/v1/llms?capability=telepathy", **_headers(workspace))

    assert embeddings.status_code == 200, embeddings.content
    assert {row["model"] for row in embeddings.json()["data"]} == {"text-embedding-3-small", "text-embedding-3-large"}
    assert [row["model"] for row in by_provider.json()["data"]] == ["llama3"]
    assert {row["model"] for row in by_search.json()["data"]} == {
        "gpt-4o-mini",
        "gpt-4.1-mini",
        "gpt-5-mini",
        "o4-mini",
    }
    assert bad.status_code == 422, bad.content


def test_llm_create_for_own_provider(owner_client, workspace, llm_provider):
    response = owner_client.post(
        "/api/v1/llms",
        {
            "provider_id": str(llm_provider.pk),
            "model": "qwen2.5:7b",
            "context_window": 32768,
            "input_price_per_million": "0",
            "capabilities": ["tools", "streaming", "tools"],
        },
        format="json",
        **_headers(workspace),
    )

    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert data["display_name"] == "qwen2.5:7b"
    assert data["capabilities"] == ["streaming", "tools"]
    assert data["workspace_id"] == str(workspace.pk)


def test_llm_create_invalid_input_is_422(owner_client, workspace, llm_provider):
    response = owner_client.post(
        "/api/v1/llms",
        {"provider_id": str(llm_provider.pk), "model": "m" * 201, "context_window": 0, "capabilities": ["telepathy"]},
        format="json",
        **_headers(workspace),
    )

    assert response.status_code == 422, response.content
    assert {"model", "context_window", "capabilities"} <= set(response.json()["errors"])


def test_llm_create_for_service_provider_is_422(owner_client, workspace):
    service = ProviderFactory(workspace=workspace)

    response = owner_client.post(
        "/api/v1/llms", {"provider_id": str(service.pk), "model": "x"}, format="json", **_headers(workspace)
    )

    assert response.status_code == 422, response.content
    assert "provider_id" in response.json()["errors"]


def test_llm_update_and_delete_own(owner_client, own_llm):
    patched = owner_client.patch(f"/api/v1/llms/{own_llm.pk}", {"active": False}, format="json")
    put = owner_client.put(
        f"/api/v1/llms/{own_llm.pk}",
        {"provider_id": str(own_llm.provider_id), "model": "llama3.1", "display_name": "Llama 3.1"},
        format="json",
    )
    deleted = owner_client.delete(f"/api/v1/llms/{own_llm.pk}")

    assert patched.status_code == 200, patched.content
    assert patched.json()["data"]["active"] is False
    assert put.status_code == 200, put.content
    assert put.json()["data"]["model"] == "llama3.1"
    assert deleted.status_code == 204, deleted.content


def test_llm_catalogue_is_read_only(catalogue, owner_client):
    row = LargeLanguageModel.objects.get(model="gpt-4o", workspace__isnull=True)

    read = owner_client.get(f"/api/v1/llms/{row.pk}")
    patched = owner_client.patch(f"/api/v1/llms/{row.pk}", {"active": False}, format="json")
    deleted = owner_client.delete(f"/api/v1/llms/{row.pk}")

    assert read.status_code == 200, read.content
    assert patched.status_code == 403, patched.content
    assert patched.json()["code"] == "provider_read_only"
    assert deleted.status_code == 403, deleted.content


def test_llm_viewer_and_ability_checks(member_of, make_client, owner, workspace, own_llm):
    viewer_client = make_client(member_of(Role.VIEWER))
    read_only_token = make_client(owner, abilities=["providers:read"])

    viewer_write = viewer_client.patch(f"/api/v1/llms/{own_llm.pk}", {"active": False}, format="json")
    token_write = read_only_token.patch(f"/api/v1/llms/{own_llm.pk}", {"active": False}, format="json")
    token_read = read_only_token.get(f"/api/v1/llms/{own_llm.pk}")

    assert viewer_write.status_code == 403, viewer_write.content
    assert viewer_write.json()["code"] == "forbidden"
    assert token_write.status_code == 403, token_write.content
    assert token_write.json()["code"] == "insufficient_ability"
    assert token_read.status_code == 200, token_read.content


def test_llm_of_other_workspace_is_404(make_client, outsider, own_llm):
    response = make_client(outsider).get(f"/api/v1/llms/{own_llm.pk}")

    assert response.status_code == 404, response.content


def test_llm_without_credentials_is_401(api_client, own_llm):
    response = api_client.get("/api/v1/llms")

    assert response.status_code == 401, response.content


def test_sync_models_creates_workspace_rows(owner_client, workspace, llm_provider, fake_llm):
    # given a server that lists two models, one already known to the workspace
    fake_llm.models = ["llama3", "mistral"]
    LargeLanguageModelFactory(provider=llm_provider, workspace=workspace, model="llama3")
    account = AccountFactory(workspace=workspace, provider=llm_provider, credentials={"token": make_secret()})

    response = owner_client.post(
        f"/api/v1/providers/{llm_provider.pk}/sync-models", {"account_id": str(account.pk)}, format="json"
    )

    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert (data["created"], data["updated"]) == (1, 1)
    assert {row["model"] for row in data["models"]} == {"llama3", "mistral"}
    assert LargeLanguageModel.objects.filter(provider=llm_provider, workspace=workspace).count() == 2


def test_sync_models_with_global_provider_skips_catalogue(catalogue, owner_client, workspace, fake_llm, settings):
    # given the global OpenAI provider pointed at the fake server for this test
    openai = Provider.objects.get(key="openai", workspace__isnull=True)
    Provider.objects.filter(pk=openai.pk).update(base_url=fake_llm.openai_base_url)
    fake_llm.models = ["gpt-4o", "ft:gpt-4o:team"]
    account = AccountFactory(workspace=workspace, provider=openai, credentials={"token": make_secret()})

    response = owner_client.post(
        f"/api/v1/providers/{openai.pk}/sync-models", {"account_id": str(account.pk)}, format="json"
    )

    assert response.status_code == 200, response.content
    assert [row["model"] for row in response.json()["data"]["models"]] == ["ft:gpt-4o:team"]


def test_sync_models_rejects_foreign_or_mismatched_account(
    owner_client, workspace, llm_provider, make_client, outsider
):
    other = ProviderFactory(workspace=workspace, key="other-llm", kind="llm", llm_protocol="openai")
    mismatched = AccountFactory(workspace=workspace, provider=other)
    foreign_client = make_client(outsider)

    wrong_provider = owner_client.post(
        f"/api/v1/providers/{llm_provider.pk}/sync-models", {"account_id": str(mismatched.pk)}, format="json"
    )
    foreign = foreign_client.post(
        f"/api/v1/providers/{llm_provider.pk}/sync-models", {"account_id": str(mismatched.pk)}, format="json"
    )
    missing = owner_client.post(f"/api/v1/providers/{llm_provider.pk}/sync-models", {}, format="json")

    assert wrong_provider.status_code == 422, wrong_provider.content
    assert "account_id" in wrong_provider.json()["errors"]
    assert foreign.status_code == 404, foreign.content
    assert missing.status_code == 422, missing.content


def test_sync_models_viewer_is_403(member_of, make_client, workspace, llm_provider):
    account = AccountFactory(workspace=workspace, provider=llm_provider)
    client = make_client(member_of(Role.VIEWER))

    response = client.post(
        f"/api/v1/providers/{llm_provider.pk}/sync-models", {"account_id": str(account.pk)}, format="json"
    )

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "forbidden"


def test_sync_models_upstream_failure_maps_error(owner_client, workspace, llm_provider, fake_llm):
    fake_llm.api_key = "expected-key-000000000000"
    account = AccountFactory(workspace=workspace, provider=llm_provider, credentials={"token": make_secret()})

    response = owner_client.post(
        f"/api/v1/providers/{llm_provider.pk}/sync-models", {"account_id": str(account.pk)}, format="json"
    )

    assert response.status_code == 502, response.content
    assert response.json()["code"] == "llm_authentication_failed"
