"""OAuth2 connect and refresh against the fake authorization server."""

import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test import Client

from accounts_auth.models import User
from providers import oauth
from providers.errors import AccountNeedsReconnect
from providers.http import account_session
from providers.models import Account, AccountStatus
from tests.factories import UserFactory
from tests.providers.conftest import ISSUED_SECRETS
from tests.providers.factories import AccountFactory, ProviderFactory
from workspaces.models import Role

CALLBACK = "/api/v1/providers/oauth/callback"


@pytest.fixture
def oauth_provider(workspace, fake_oauth):
    ISSUED_SECRETS.append(fake_oauth.client_secret)
    return ProviderFactory(
        workspace=workspace,
        key="crm",
        base_url=fake_oauth.url,
        test_path="/resource",
        authentication_config={
            "strategy": "oauth2",
            "authorize_url": fake_oauth.authorize_url,
            "token_url": fake_oauth.token_url,
            "scopes": ["read", "write"],
            "client_id": fake_oauth.client_id,
            "client_secret": fake_oauth.client_secret,
            "pkce": True,
            "authorize_params": {"prompt": "consent"},
        },
    )


@pytest.fixture
def browser(client, owner, settings):
    settings.ATHENA_PUBLIC_URL = "https://athena.example.com"
    client.force_login(owner)
    return client


def _start(browser, provider, workspace, name="CRM"):
    response = browser.get(
        f"/api/v1/providers/{provider.pk}/oauth/authorize?account_name={name}&workspace={workspace.pk}"
    )
    assert response.status_code == 302, response.content
    return response["Location"]


def _redirect_query(response):
    assert response.status_code == 302, response.content
    parts = urlsplit(response["Location"])
    assert parts.path == "/connections/"
    return {key: values[0] for key, values in parse_qs(parts.query).items()}


def _connected_account(workspace, fake_oauth, provider, *, expires_in):
    tokens = fake_oauth.issue_tokens()
    ISSUED_SECRETS.extend([tokens["access_token"], tokens["refresh_token"]])
    return AccountFactory(
        workspace=workspace,
        provider=provider,
        credentials={
            "access_token": tokens["access_token"],
            "refresh_token": tokens["refresh_token"],
            "expires_at": int(time.time() + expires_in),
        },
    )


def test_oauth_authorize_redirects_with_state_and_pkce(browser, workspace, oauth_provider, fake_oauth):
    location = _start(browser, oauth_provider, workspace)

    query = {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}
    assert location.startswith(fake_oauth.authorize_url + "?")
    assert query["client_id"] == fake_oauth.client_id
    assert query["redirect_uri"] == "https://athena.example.com" + CALLBACK
    assert query["response_type"] == "code"
    assert query["scope"] == "read write"
    assert query["code_challenge_method"] == "S256"
    assert len(query["state"]) >= 32
    assert query["prompt"] == "consent"
    assert query["state"] in browser.session[oauth.SESSION_KEY]


def test_oauth_connect_stores_tokens_in_account(browser, workspace, oauth_provider, fake_oauth):
    callback = fake_oauth.consent(_start(browser, oauth_provider, workspace, name="My CRM"))

    response = browser.get(CALLBACK, callback)

    query = _redirect_query(response)
    account = Account.objects.get(pk=query["connected"])
    credentials = account.credentials.reveal()
    ISSUED_SECRETS.extend([credentials["access_token"], credentials["refresh_token"]])
    assert account.name == "My CRM"
    assert account.workspace == workspace
    assert account.status == AccountStatus.ACTIVE
    assert credentials["access_token"] in fake_oauth.access_tokens
    assert credentials["scopes"] == ["read", "write"]
    assert account.token_expires_at is not None
    exchange = fake_oauth.token_requests[0]
    assert exchange["grant_type"] == "authorization_code"
    assert exchange["code_verifier"]
    assert exchange["redirect_uri"] == "https://athena.example.com" + CALLBACK


def test_oauth_callback_with_forged_state_stores_nothing(browser, workspace, oauth_provider, fake_oauth):
    callback = fake_oauth.consent(_start(browser, oauth_provider, workspace))

    response = browser.get(CALLBACK, {**callback, "state": "forged-state"})

    assert _redirect_query(response) == {"error": "invalid_state"}
    assert not Account.objects.exists()
    assert fake_oauth.token_calls["authorization_code"] == 0


def test_oauth_callback_in_another_session_is_rejected(client, browser, workspace, oauth_provider, fake_oauth):
    from django.test import Client

    callback = fake_oauth.consent(_start(browser, oauth_provider, workspace))
    other = Client()
    other.force_login(UserFactory())

    response = other.get(CALLBACK, callback)

    assert _redirect_query(response) == {"error": "invalid_state"}
    assert not Account.objects.exists()


def test_oauth_callback_state_is_single_use(browser, workspace, oauth_provider, fake_oauth):
    callback = fake_oauth.consent(_start(browser, oauth_provider, workspace))
    first = _redirect_query(browser.get(CALLBACK, callback))
    credentials = Account.objects.get(pk=first["connected"]).credentials.reveal()
    ISSUED_SECRETS.extend([credentials["access_token"], credentials["refresh_token"]])

    second = browser.get(CALLBACK, callback)

    assert _redirect_query(second) == {"error": "invalid_state"}
    assert Account.objects.count() == 1


def test_oauth_callback_expired_state(browser, workspace, oauth_provider, fake_oauth):
    callback = fake_oauth.consent(_start(browser, oauth_provider, workspace))
    session = browser.session
    flows = session[oauth.SESSION_KEY]
    flows[callback["state"]]["created_at"] -= oauth.STATE_LIFETIME_SECONDS + 1
    session[oauth.SESSION_KEY] = flows
    session.save()

    response = browser.get(CALLBACK, callback)

    assert _redirect_query(response) == {"error": "expired_state"}
    assert not Account.objects.exists()


def test_oauth_callback_denied_consent(browser, workspace, oauth_provider, fake_oauth):
    fake_oauth.deny = True
    callback = fake_oauth.consent(_start(browser, oauth_provider, workspace))

    response = browser.get(CALLBACK, callback)

    assert _redirect_query(response) == {"error": "access_denied"}
    assert not Account.objects.exists()


def test_oauth_callback_wrong_pkce_verifier_fails_exchange(browser, workspace, oauth_provider, fake_oauth):
    callback = fake_oauth.consent(_start(browser, oauth_provider, workspace))
    session = browser.session
    flows = session[oauth.SESSION_KEY]
    flows[callback["state"]]["code_verifier"] = "not-the-verifier-whose-challenge-was-sent"
    session[oauth.SESSION_KEY] = flows
    session.save()

    response = browser.get(CALLBACK, callback)

    assert _redirect_query(response) == {"error": "invalid_grant"}
    assert not Account.objects.exists()


def test_oauth_callback_unauthenticated_redirects_with_error(client, fake_oauth):
    response = client.get(CALLBACK, {"state": "x", "code": "y"})

    assert _redirect_query(response) == {"error": "unauthenticated"}


def test_oauth_authorize_for_non_oauth_provider_is_409(browser, workspace):
    provider = ProviderFactory(workspace=workspace)

    response = browser.get(f"/api/v1/providers/{provider.pk}/oauth/authorize?account_name=x&workspace={workspace.pk}")

    assert response.status_code == 409, response.content
    assert response.json()["code"] == "oauth_not_configured"


def test_oauth_authorize_checks_input_role_and_ability(
    client, member_of, owner, make_client, workspace, oauth_provider
):
    viewer = member_of(Role.VIEWER)
    client.force_login(viewer)
    url = f"/api/v1/providers/{oauth_provider.pk}/oauth/authorize?workspace={workspace.pk}"

    viewer_response = client.get(url + "&account_name=x")
    token_response = make_client(owner, abilities=["accounts:read"]).get(url + "&account_name=x")
    missing_name = make_client(owner).get(url)

    assert viewer_response.status_code == 403, viewer_response.content
    assert viewer_response.json()["code"] == "forbidden"
    assert token_response.status_code == 403, token_response.content
    assert token_response.json()["code"] == "insufficient_ability"
    assert missing_name.status_code == 422, missing_name.content
    assert "account_name" in missing_name.json()["errors"]


def test_oauth_refreshes_before_expiry(workspace, oauth_provider, fake_oauth):
    # given an access token that expires within the refresh margin
    account = _connected_account(workspace, fake_oauth, oauth_provider, expires_in=30)
    old_token = account.credentials.reveal()["access_token"]

    with account_session(account=account) as session:
        response = session.get(f"{fake_oauth.url}/resource")

    account.refresh_from_db()
    credentials = account.credentials.reveal()
    ISSUED_SECRETS.extend([credentials["access_token"], credentials["refresh_token"]])
    assert response.status_code == 200, response.text
    assert fake_oauth.token_calls["refresh_token"] == 1
    assert credentials["access_token"] != old_token
    assert credentials["expires_at"] > time.time() + 3000


def test_oauth_fresh_token_is_not_refreshed(workspace, oauth_provider, fake_oauth):
    account = _connected_account(workspace, fake_oauth, oauth_provider, expires_in=3600)

    with account_session(account=account) as session:
        response = session.get(f"{fake_oauth.url}/resource")

    assert response.status_code == 200, response.text
    assert fake_oauth.token_calls["refresh_token"] == 0


def test_oauth_invalid_grant_marks_account_expired(workspace, oauth_provider, fake_oauth):
    account = _connected_account(workspace, fake_oauth, oauth_provider, expires_in=-10)
    fake_oauth.refresh_tokens.clear()

    with pytest.raises(AccountNeedsReconnect) as raised:
        oauth.account_ensure_fresh_token(account=account)
    with pytest.raises(AccountNeedsReconnect):
        oauth.account_ensure_fresh_token(account=Account.objects.get(pk=account.pk))

    account.refresh_from_db()
    assert raised.value.code == "account_needs_reconnect"
    assert account.status == AccountStatus.EXPIRED
    assert fake_oauth.token_calls["refresh_token"] == 1
    assert "refresh" in account.last_error


@pytest.mark.django_db(transaction=True)
def test_oauth_concurrent_refreshes_make_one_upstream_call(fake_oauth, settings):
    # given one account loaded by two workers at once, and a slow token endpoint
    owner = User.objects.create_user(email="refresh@example.com", password="correct horse battery")
    workspace = owner.owned_workspaces.first()
    provider = ProviderFactory(
        workspace=workspace,
        base_url=fake_oauth.url,
        authentication_config={
            "strategy": "oauth2",
            "authorize_url": fake_oauth.authorize_url,
            "token_url": fake_oauth.token_url,
            "client_id": fake_oauth.client_id,
            "client_secret": fake_oauth.client_secret,
        },
    )
    ISSUED_SECRETS.append(fake_oauth.client_secret)
    account = _connected_account(workspace, fake_oauth, provider, expires_in=-10)
    fake_oauth.token_delay = 0.5
    results: list[str] = []
    errors: list[BaseException] = []

    def refresh() -> None:
        try:
            fresh = oauth.account_ensure_fresh_token(account=Account.objects.get(pk=account.pk))
            results.append(fresh.credentials.reveal()["access_token"])
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    # then
    ISSUED_SECRETS.extend(results)
    assert errors == []
    assert fake_oauth.token_calls["refresh_token"] == 1
    assert len(results) == 2
    assert results[0] == results[1]


def test_connections_page_shows_outcome(client, owner, workspace):
    client.force_login(owner)

    connected = client.get("/connections/?connected=abc")
    failed = client.get("/connections/?error=expired_state")
    anonymous = Client().get("/connections/")

    assert connected.status_code == 200
    assert b"The account is connected." in connected.content
    assert b"The connection request expired." in failed.content
    assert anonymous.status_code == 302
