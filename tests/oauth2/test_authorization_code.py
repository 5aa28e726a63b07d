"""Authorization code flow with PKCE, consent, scopes, refresh rotation and revocation."""

import base64

from django.conf import settings
from django.test import Client, override_settings
from oauth2_provider.models import get_access_token_model

from accounts_auth.models import AuthEvent
from accounts_auth.oauth import AthenaOAuth2Validator, pkce_required
from tests.auth_browser.conftest import unique_ip
from tests.oauth2.conftest import (
    authorization_code,
    authorize_query,
    exchange_code,
    hidden_inputs,
    pkce_pair,
    redirect_params,
    refresh,
)

AccessToken = get_access_token_model()


def no_grace_period():
    return override_settings(OAUTH2_PROVIDER={**settings.OAUTH2_PROVIDER, "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0})


def issue_tokens(client, application, scope="agents:read threads:read"):
    pkce = pkce_pair()
    code = authorization_code(client, application, scope=scope, pkce=pkce)
    response = exchange_code(Client(), application, code, pkce)
    assert response.status_code == 200, response.content
    return response.json()


def test_authorize_consent_page_lists_scopes(signed_in_browser, public_application, oauth_user):
    query = authorize_query(public_application, scope="agents:read workflows:run", pkce=pkce_pair())

    response = signed_in_browser.get(f"/o/authorize/?{query}")

    assert response.status_code == 200, response.content
    content = response.content.decode()
    assert "Authorize Public test client?" in content
    assert "Read agents" in content
    assert "Run workflows" in content
    assert oauth_user.email in content
    assert '<link rel="stylesheet" href="/static/css/athena.css">' in content
    assert hidden_inputs(content)["code_challenge_method"] == "S256"


def test_authorize_requires_sign_in(public_application, db):
    query = authorize_query(public_application, scope="agents:read", pkce=pkce_pair())

    response = Client().get(f"/o/authorize/?{query}")

    assert response.status_code == 302, response.content
    assert response["Location"].startswith("/accounts/login/?next=/o/authorize/")


def test_authorize_deny_redirects_with_access_denied(signed_in_browser, public_application):
    query = authorize_query(public_application, scope="agents:read", pkce=pkce_pair())
    form = hidden_inputs(signed_in_browser.get(f"/o/authorize/?{query}").content.decode())

    response = signed_in_browser.post("/o/authorize/", form)

    assert response.status_code == 302, response.content
    assert redirect_params(response["Location"]) == {"error": "access_denied", "state": "state-123"}


def test_token_exchange_issues_tokens_and_records_grant(signed_in_browser, public_application, oauth_user):
    tokens = issue_tokens(signed_in_browser, public_application)

    assert tokens["token_type"] == "Bearer"
    assert tokens["scope"] == "agents:read threads:read"
    assert tokens["refresh_token"]
    event = AuthEvent.objects.get(event="oauth_grant", user=oauth_user)
    assert event.method == "oauth2"
    assert event.detail["grant_type"] == "authorization_code"
    assert event.detail["client_id"] == public_application.client_id
    assert event.detail["scopes"] == ["agents:read", "threads:read"]
    assert tokens["access_token"] not in str(event.detail)
    assert tokens["refresh_token"] not in str(event.detail)


def test_token_exchange_wrong_verifier_rejected(signed_in_browser, public_application):
    pkce = pkce_pair()
    code = authorization_code(signed_in_browser, public_application, scope="agents:read", pkce=pkce)

    response = exchange_code(Client(), public_application, code, pkce_pair())

    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid_grant"


def test_authorize_public_client_without_pkce_rejected(signed_in_browser, public_application):
    query = authorize_query(public_application, scope="agents:read", pkce=None)

    response = signed_in_browser.get(f"/o/authorize/?{query}")

    assert response.status_code == 302, response.content
    params = redirect_params(response["Location"])
    assert params["error"] == "invalid_request"
    assert params["error_description"] == "Code challenge required."


def test_pkce_policy_requires_it_for_public_clients_only(public_application, confidential_client):
    validator = AthenaOAuth2Validator()

    assert pkce_required(public_application.client_id) is True
    assert pkce_required(confidential_client.application.client_id) is False
    assert validator.is_pkce_required(public_application.client_id, None) is True
    assert validator.is_pkce_required(confidential_client.application.client_id, None) is False


def test_confidential_client_without_pkce_succeeds(signed_in_browser, confidential_client):
    application = confidential_client.application
    code = authorization_code(signed_in_browser, application, scope="agents:read", pkce=None)

    response = exchange_code(Client(), application, code, None, secret=confidential_client.secret)

    assert response.status_code == 200, response.content
    assert response.json()["scope"] == "agents:read"


def test_authorize_unknown_scope_rejected(signed_in_browser, public_application):
    query = authorize_query(public_application, scope="agents:read billing:read", pkce=pkce_pair())

    response = signed_in_browser.get(f"/o/authorize/?{query}")

    assert response.status_code == 302, response.content
    assert redirect_params(response["Location"])["error"] == "invalid_scope"


def test_authorize_object_ability_scope_rejected(signed_in_browser, public_application):
    scope = "agents:run:1f0e6d3c-2b1a-4c5d-8e7f-9a0b1c2d3e4f"
    query = authorize_query(public_application, scope=scope, pkce=pkce_pair())

    response = signed_in_browser.get(f"/o/authorize/?{query}")

    assert response.status_code == 302, response.content
    assert redirect_params(response["Location"])["error"] == "invalid_scope"


def test_authorize_without_scope_grants_read_abilities(signed_in_browser, public_application):
    pkce = pkce_pair()
    query = authorize_query(public_application, scope=None, pkce=pkce)

    page = signed_in_browser.get(f"/o/authorize/?{query}")

    assert page.status_code == 200, page.content
    scopes = hidden_inputs(page.content.decode())["scope"].split()
    assert "agents:read" in scopes
    assert all(scope.endswith(":read") for scope in scopes)


def test_refresh_rotates_and_old_token_stops_working(signed_in_browser, public_application):
    tokens = issue_tokens(signed_in_browser, public_application)

    with no_grace_period():
        rotated = refresh(Client(), public_application, tokens["refresh_token"])
        assert rotated.status_code == 200, rotated.content
        replay = refresh(Client(), public_application, tokens["refresh_token"])

    assert rotated.json()["refresh_token"] != tokens["refresh_token"]
    assert rotated.json()["access_token"] != tokens["access_token"]
    assert rotated.json()["scope"] == tokens["scope"]
    assert replay.status_code == 400, replay.content
    assert replay.json()["error"] == "invalid_grant"
    assert AuthEvent.objects.filter(event="oauth_token_refreshed").count() == 1


def test_refresh_cannot_widen_scope(signed_in_browser, public_application):
    tokens = issue_tokens(signed_in_browser, public_application, scope="agents:read")

    response = refresh(Client(), public_application, tokens["refresh_token"], scope="agents:read agents:write")

    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid_scope"


def test_revoke_access_token_then_introspection_inactive(signed_in_browser, public_application, confidential_client):
    tokens = issue_tokens(signed_in_browser, public_application)
    application = confidential_client.application
    basic = base64.b64encode(f"{application.client_id}:{confidential_client.secret}".encode()).decode()
    client = Client(HTTP_AUTHORIZATION=f"Basic {basic}")
    active = client.post("/o/introspect/", {"token": tokens["access_token"]})
    assert active.status_code == 200, active.content
    assert active.json()["active"] is True
    assert active.json()["scope"] == "agents:read threads:read"

    revoked = Client().post(
        "/o/revoke_token/", {"token": tokens["access_token"], "client_id": public_application.client_id}
    )

    assert revoked.status_code == 200, revoked.content
    after = client.post("/o/introspect/", {"token": tokens["access_token"]})
    assert after.json() == {"active": False}


def test_revoke_refresh_token_stops_refresh(signed_in_browser, public_application):
    tokens = issue_tokens(signed_in_browser, public_application)

    revoked = Client().post(
        "/o/revoke_token/",
        {
            "token": tokens["refresh_token"],
            "token_type_hint": "refresh_token",
            "client_id": public_application.client_id,
        },
    )

    assert revoked.status_code == 200, revoked.content
    response = refresh(Client(), public_application, tokens["refresh_token"])
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid_grant"


def test_introspection_requires_client_credentials(signed_in_browser, public_application):
    tokens = issue_tokens(signed_in_browser, public_application)

    response = Client().post("/o/introspect/", {"token": tokens["access_token"]})

    assert response.status_code == 403, response.content


def test_access_token_calls_user_api(signed_in_browser, public_application, oauth_user):
    tokens = issue_tokens(signed_in_browser, public_application)

    response = Client(REMOTE_ADDR=unique_ip()).get(
        "/api/v1/user", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}"
    )

    assert response.status_code == 200, response.content
    assert response.json()["data"]["email"] == oauth_user.email


def test_revoked_access_token_rejected_by_api(signed_in_browser, public_application):
    tokens = issue_tokens(signed_in_browser, public_application)
    Client().post("/o/revoke_token/", {"token": tokens["access_token"], "client_id": public_application.client_id})

    response = Client(REMOTE_ADDR=unique_ip()).get(
        "/api/v1/user", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}"
    )

    assert response.status_code == 401, response.content
