"""The providers API: global and own providers, validation per strategy, write protection."""

import pytest

from providers.catalogue import catalogue_load
from providers.models import Provider
from tests.providers.conftest import make_secret
from tests.providers.factories import AccountFactory, ProviderFactory
from workspaces.models import Role

OAUTH_CONFIG = {
    "strategy": "oauth2",
    "authorize_url": "https://crm.example.com/oauth/authorize",
    "token_url": "https://crm.example.com/oauth/token",
    "scopes": ["contacts.read"],
    "client_id": "athena-client",
    "pkce": True,
}


@pytest.fixture
def catalogue(db):
    catalogue_load()


@pytest.fixture
def own_provider(workspace):
    return ProviderFactory(workspace=workspace, key="crm", name="CRM")


def _headers(workspace):
    return {"HTTP_X_WORKSPACE": str(workspace.pk)}


def test_provider_list_shows_global_and_own_only(catalogue, owner_client, workspace, own_provider, outsider):
    foreign = ProviderFactory(workspace=outsider.owned_workspaces.first(), key="foreign")

    response = owner_client.get("/api/v1/providers?per_page=100", **_headers(workspace))

    assert response.status_code == 200, response.content
    keys = {row["key"] for row in response.json()["data"]}
    assert {"openai", "anthropic", "openai-compatible", "github", "google-drive", "crm"} <= keys
    assert foreign.key not in keys
    assert response.json()["meta"]["total"] == len(keys)


def test_provider_list_paginates(catalogue, owner_client, workspace):
    response = owner_client.get("/api/v1/providers?per_page=2&page=2", **_headers(workspace))

    assert response.status_code == 200, response.content
    assert len(response.json()["data"]) == 2
    assert response.json()["meta"]["current_page"] == 2


def test_provider_create_stores_oauth_secret_encrypted(owner_client, workspace):
    client_secret = make_secret("client-secret-")

    response = owner_client.post(
        "/api/v1/providers",
        {"key": "crm", "name": "CRM", "authentication_config": {**OAUTH_CONFIG, "client_secret": client_secret}},
        format="json",
        **_headers(workspace),
    )

    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert data["workspace_id"] == str(workspace.pk)
    assert data["authentication_config"]["client_secret_set"] is True
    assert client_secret not in response.content.decode()
    provider = Provider.objects.get(pk=data["id"])
    assert provider.oauth_client_secret.reveal() == client_secret
    assert "client_secret" not in provider.authentication_config


def test_provider_create_bearer_defaults(owner_client, workspace):
    response = owner_client.post(
        "/api/v1/providers",
        {"key": "api", "name": "API", "authentication_config": {"strategy": "bearer"}},
        format="json",
        **_headers(workspace),
    )

    assert response.status_code == 201, response.content
    assert response.json()["data"]["authentication_config"] == {
        "strategy": "bearer",
        "placement": "header",
        "name": "Authorization",
        "prefix": "Bearer ",
    }


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({key: value for key, value in OAUTH_CONFIG.items() if key != "token_url"}, "authentication_config.token_url"),
        ({**OAUTH_CONFIG, "pkce": False}, "authentication_config.client_secret"),
        ({"strategy": "api_key", "name": "X-Key"}, "authentication_config.placement"),
        ({"strategy": "api_key", "placement": "header"}, "authentication_config.name"),
        ({"strategy": "api_key", "placement": "cookie", "name": "k"}, "authentication_config.placement"),
        ({"strategy": "magic"}, "authentication_config.strategy"),
        ({"strategy": "basic", "placement": "header"}, "authentication_config.placement"),
        ({**OAUTH_CONFIG, "token_url": "ftp://example.com/token"}, "authentication_config.token_url"),
    ],
)
def test_provider_create_invalid_config_names_field(owner_client, workspace, config, field):
    response = owner_client.post(
        "/api/v1/providers",
        {"key": "crm", "name": "CRM", "authentication_config": config},
        format="json",
        **_headers(workspace),
    )

    assert response.status_code == 422, response.content
    assert response.json()["code"] == "validation_error"
    assert field in response.json()["errors"]


def test_provider_create_rejects_oversized_fields(owner_client, workspace):
    response = owner_client.post(
        "/api/v1/providers",
        {
            "key": "crm",
            "name": "x" * 121,
            "authentication_config": {"strategy": "oauth2", "scopes": ["s" * 20_000]},
        },
        format="json",
        **_headers(workspace),
    )

    assert response.status_code == 422, response.content
    assert {"name", "authentication_config"} <= set(response.json()["errors"])


def test_provider_create_duplicate_key_is_422(owner_client, workspace, own_provider):
    response = owner_client.post(
        "/api/v1/providers", {"key": own_provider.key, "name": "Again"}, format="json", **_headers(workspace)
    )

    assert response.status_code == 422, response.content
    assert "key" in response.json()["errors"]


def test_provider_update_keeps_client_secret(owner_client, workspace):
    client_secret = make_secret("client-secret-")
    created = owner_client.post(
        "/api/v1/providers",
        {"key": "crm", "name": "CRM", "authentication_config": {**OAUTH_CONFIG, "client_secret": client_secret}},
        format="json",
        **_headers(workspace),
    ).json()["data"]

    response = owner_client.patch(
        f"/api/v1/providers/{created['id']}",
        {"authentication_config": {**OAUTH_CONFIG, "pkce": False, "scopes": ["contacts.write"]}},
        format="json",
    )

    assert response.status_code == 200, response.content
    provider = Provider.objects.get(pk=created["id"])
    assert provider.authentication_config["scopes"] == ["contacts.write"]
    assert provider.oauth_client_secret.reveal() == client_secret


def test_provider_global_is_read_only(catalogue, owner_client):
    openai = Provider.objects.get(key="openai", workspace__isnull=True)

    read = owner_client.get(f"/api/v1/providers/{openai.pk}")
    patch = owner_client.patch(f"/api/v1/providers/{openai.pk}", {"name": "Mine"}, format="json")
    delete = owner_client.delete(f"/api/v1/providers/{openai.pk}")

    assert read.status_code == 200, read.content
    assert patch.status_code == 403, patch.content
    assert patch.json()["code"] == "provider_read_only"
    assert delete.status_code == 403, delete.content


def test_provider_viewer_cannot_write(member_of, make_client, workspace, own_provider):
    viewer = member_of(Role.VIEWER)
    client = make_client(viewer)

    listed = client.get("/api/v1/providers", **_headers(workspace))
    created = client.post("/api/v1/providers", {"key": "new", "name": "New"}, format="json", **_headers(workspace))
    patched = client.patch(f"/api/v1/providers/{own_provider.pk}", {"name": "Renamed"}, format="json")

    assert listed.status_code == 200, listed.content
    assert created.status_code == 403, created.content
    assert created.json()["code"] == "forbidden"
    assert patched.status_code == 403, patched.content


def test_provider_token_without_ability_is_403(owner, make_client, workspace, own_provider):
    client = make_client(owner, abilities=["providers:read"])

    response = client.patch(f"/api/v1/providers/{own_provider.pk}", {"name": "Renamed"}, format="json")

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "insufficient_ability"


def test_provider_without_credentials_is_401(api_client, own_provider):
    response = api_client.get("/api/v1/providers")

    assert response.status_code == 401, response.content
    assert response.json()["code"] == "unauthenticated"


def test_provider_of_other_workspace_is_404(make_client, outsider, own_provider):
    client = make_client(outsider)

    response = client.get(f"/api/v1/providers/{own_provider.pk}")

    assert response.status_code == 404, response.content
    assert response.json()["code"] == "not_found"


def test_provider_delete(owner_client, own_provider):
    response = owner_client.delete(f"/api/v1/providers/{own_provider.pk}")

    assert response.status_code == 204, response.content
    assert not Provider.objects.filter(pk=own_provider.pk).exists()


def test_provider_delete_with_accounts_is_409(owner_client, workspace, own_provider):
    AccountFactory(provider=own_provider, workspace=workspace)

    response = owner_client.delete(f"/api/v1/providers/{own_provider.pk}")

    assert response.status_code == 409, response.content
    assert response.json()["code"] == "provider_in_use"
