"""The accounts API: write-only credentials, filters, the test action, the admin and encryption at rest."""

import pytest
from django.db import connection

from accounts_auth.models import User
from providers.models import Account, AccountStatus
from tests.providers.conftest import make_secret
from tests.providers.factories import AccountFactory, ProviderFactory
from workspaces.models import Role


def _headers(workspace):
    return {"HTTP_X_WORKSPACE": str(workspace.pk)}


@pytest.fixture
def provider(workspace, echo_server):
    return ProviderFactory(workspace=workspace, key="crm", base_url=echo_server.url, test_path="/me")


@pytest.fixture
def account(workspace, provider):
    return AccountFactory(workspace=workspace, provider=provider, name="CRM key", credentials={"token": make_secret()})


def test_account_create_hides_credentials(owner_client, workspace, provider):
    secret = make_secret()

    response = owner_client.post(
        "/api/v1/accounts",
        {"provider_id": str(provider.pk), "name": "CRM key", "credentials": {"token": secret}},
        format="json",
        **_headers(workspace),
    )

    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert data["credentials_hint"] == secret[-4:]
    assert data["status"] == "active"
    assert "credentials" not in data
    assert secret not in response.content.decode()
    assert Account.objects.get(pk=data["id"]).credentials.reveal() == {"token": secret}


def test_account_credentials_are_encrypted_at_rest(account):
    secret = account.credentials.reveal()["token"]

    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM providers_account WHERE id = %s", [account.pk.hex])
        row = cursor.fetchone()
        if row is None:
            cursor.execute("SELECT credentials FROM providers_account WHERE id = %s", [str(account.pk)])
            row = cursor.fetchone()

    assert row is not None
    assert secret not in row[0]
    assert secret[-4:] not in row[0]


def test_account_create_missing_credential_names_field(owner_client, workspace, provider):
    response = owner_client.post(
        "/api/v1/accounts",
        {"provider_id": str(provider.pk), "name": "CRM key", "credentials": {"api_key": "x"}},
        format="json",
        **_headers(workspace),
    )

    assert response.status_code == 422, response.content
    assert "credentials.api_key" in response.json()["errors"]


def test_account_create_requires_visible_provider(owner_client, workspace, outsider):
    foreign = ProviderFactory(workspace=outsider.owned_workspaces.first())

    response = owner_client.post(
        "/api/v1/accounts",
        {"provider_id": str(foreign.pk), "name": "Theirs", "credentials": {"token": make_secret()}},
        format="json",
        **_headers(workspace),
    )

    assert response.status_code == 422, response.content
    assert "provider_id" in response.json()["errors"]


def test_account_create_rejects_oversized_credentials(owner_client, workspace, provider):
    response = owner_client.post(
        "/api/v1/accounts",
        {"provider_id": str(provider.pk), "name": "Big", "credentials": {"token": "x" * 40_000}},
        format="json",
        **_headers(workspace),
    )

    assert response.status_code == 422, response.content
    assert "credentials" in response.json()["errors"]


def test_account_patch_without_credentials_keeps_them(owner_client, account):
    before = account.credentials.reveal()

    response = owner_client.patch(f"/api/v1/accounts/{account.pk}", {"name": "Renamed"}, format="json")

    account.refresh_from_db()
    assert response.status_code == 200, response.content
    assert response.json()["data"]["name"] == "Renamed"
    assert account.credentials.reveal() == before


def test_account_patch_with_credentials_replaces_them(owner_client, account):
    secret = make_secret()

    response = owner_client.patch(f"/api/v1/accounts/{account.pk}", {"credentials": {"token": secret}}, format="json")

    account.refresh_from_db()
    assert response.status_code == 200, response.content
    assert response.json()["data"]["credentials_hint"] == secret[-4:]
    assert account.credentials.reveal() == {"token": secret}
    assert secret not in response.content.decode()


def test_account_list_filters(owner_client, workspace, provider, account):
    other_provider = ProviderFactory(workspace=workspace, key="other")
    AccountFactory(workspace=workspace, provider=other_provider, name="Other key")
    broken = AccountFactory(workspace=workspace, provider=provider, name="Broken key")
    Account.objects.filter(pk=broken.pk).update(status=AccountStatus.ERROR)

    by_provider = owner_client.get(f"/api/v1/accounts?provider={provider.pk}", **_headers(workspace))
    by_status = owner_client.get("/api/v1/accounts?status=error", **_headers(workspace))
    by_search = owner_client.get("/api/v1/accounts?search=other", **_headers(workspace))
    bad_status = owner_client.get("/api/v1/accounts?status=sleeping", **_headers(workspace))

    assert by_provider.status_code == 200, by_provider.content
    assert {row["name"] for row in by_provider.json()["data"]} == {"CRM key", "Broken key"}
    assert [row["name"] for row in by_status.json()["data"]] == ["Broken key"]
    assert [row["name"] for row in by_search.json()["data"]] == ["Other key"]
    assert bad_status.status_code == 422, bad_status.content


def test_account_of_other_workspace_is_404(make_client, outsider, account):
    client = make_client(outsider)

    for response in (
        client.get(f"/api/v1/accounts/{account.pk}"),
        client.patch(f"/api/v1/accounts/{account.pk}", {"name": "Mine"}, format="json"),
        client.post(f"/api/v1/accounts/{account.pk}/test"),
        client.delete(f"/api/v1/accounts/{account.pk}"),
    ):
        assert response.status_code == 404, response.content
        assert response.json()["code"] == "not_found"


def test_account_viewer_reads_but_cannot_write(member_of, make_client, workspace, account):
    client = make_client(member_of(Role.VIEWER))

    read = client.get(f"/api/v1/accounts/{account.pk}")
    patched = client.patch(f"/api/v1/accounts/{account.pk}", {"name": "Mine"}, format="json")
    tested = client.post(f"/api/v1/accounts/{account.pk}/test")

    assert read.status_code == 200, read.content
    assert patched.status_code == 403, patched.content
    assert patched.json()["code"] == "forbidden"
    assert tested.status_code == 403, tested.content


def test_account_token_without_ability_is_403(owner, make_client, workspace, account):
    client = make_client(owner, abilities=["providers:*"])

    response = client.get("/api/v1/accounts", **_headers(workspace))

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "insufficient_ability"


def test_account_without_credentials_is_401(api_client, account):
    response = api_client.get(f"/api/v1/accounts/{account.pk}")

    assert response.status_code == 401, response.content


def test_account_delete(owner_client, account):
    response = owner_client.delete(f"/api/v1/accounts/{account.pk}")

    assert response.status_code == 204, response.content
    assert not Account.objects.filter(pk=account.pk).exists()


def test_account_test_calls_test_path(owner_client, account, echo_server):
    secret = account.credentials.reveal()["token"]

    response = owner_client.post(f"/api/v1/accounts/{account.pk}/test")

    assert response.status_code == 200, response.content
    assert response.json()["data"]["ok"] is True
    assert response.json()["data"]["account"]["status"] == "active"
    assert echo_server.received[0].path == "/me"
    assert echo_server.received[0].headers["authorization"] == f"Bearer {secret}"


def test_account_test_failure_is_redacted(owner_client, account, echo_server):
    # given an upstream that echoes the key it received in its error
    secret = account.credentials.reveal()["token"]
    echo_server.answer(401, body={"error": f"Invalid token {secret}"})

    response = owner_client.post(f"/api/v1/accounts/{account.pk}/test")

    account.refresh_from_db()
    data = response.json()["data"]
    assert response.status_code == 200, response.content
    assert data["ok"] is False
    assert data["status_code"] == 401
    assert data["code"] == "upstream_rejected"
    assert secret not in response.content.decode()
    assert account.status == AccountStatus.ERROR
    assert secret not in account.last_error
    assert "[redacted]" in account.last_error


def test_account_test_without_test_path_is_422(owner_client, workspace):
    provider = ProviderFactory(workspace=workspace, test_path="")
    account = AccountFactory(workspace=workspace, provider=provider)

    response = owner_client.post(f"/api/v1/accounts/{account.pk}/test")

    assert response.status_code == 422, response.content
    assert response.json()["code"] == "account_test_unavailable"


def test_account_test_llm_lists_models(owner_client, workspace, fake_llm):
    key = make_secret()
    fake_llm.api_key = key
    provider = ProviderFactory(
        workspace=workspace, kind="llm", llm_protocol="openai", base_url=fake_llm.openai_base_url
    )
    account = AccountFactory(workspace=workspace, provider=provider, credentials={"token": key})

    response = owner_client.post(f"/api/v1/accounts/{account.pk}/test")

    assert response.status_code == 200, response.content
    assert response.json()["data"]["ok"] is True
    assert fake_llm.last_request.path == "/v1/models"


def test_account_test_llm_wrong_key_reports_error(owner_client, workspace, fake_llm):
    fake_llm.api_key = "the-right-key-0000000000"
    wrong = make_secret()
    provider = ProviderFactory(
        workspace=workspace, kind="llm", llm_protocol="openai", base_url=fake_llm.openai_base_url
    )
    account = AccountFactory(workspace=workspace, provider=provider, credentials={"token": wrong})

    response = owner_client.post(f"/api/v1/accounts/{account.pk}/test")

    assert response.status_code == 200, response.content
    assert response.json()["data"]["code"] == "llm_authentication_failed"
    assert wrong not in response.content.decode()


def test_account_admin_change_page_hides_credentials(client, account, provider):
    # given a staff user and a provider with an OAuth2 client secret
    secret = account.credentials.reveal()["token"]
    client_secret = make_secret("client-secret-")
    provider.oauth_client_secret = client_secret
    provider.save()
    admin = User.objects.create_superuser(email="admin@example.com", password="correct horse battery")
    client.force_login(admin)

    account_page = client.get(f"/admin/providers/account/{account.pk}/change/")
    provider_page = client.get(f"/admin/providers/provider/{provider.pk}/change/")
    list_page = client.get("/admin/providers/account/")

    assert account_page.status_code == 200, account_page.content[:500]
    assert provider_page.status_code == 200, provider_page.content[:500]
    assert list_page.status_code == 200
    for page in (account_page, provider_page, list_page):
        assert secret not in page.content.decode()
        assert client_secret not in page.content.decode()


def test_account_list_and_retrieve_never_show_credentials(owner_client, workspace, account):
    secret = account.credentials.reveal()["token"]

    listed = owner_client.get("/api/v1/accounts", **_headers(workspace))
    retrieved = owner_client.get(f"/api/v1/accounts/{account.pk}")

    assert listed.status_code == 200, listed.content
    assert retrieved.status_code == 200, retrieved.content
    assert listed.json()["data"][0]["credentials_hint"] == secret[-4:]
    assert "credentials" not in retrieved.json()["data"]
    for response in (listed, retrieved):
        assert secret not in response.content.decode()
