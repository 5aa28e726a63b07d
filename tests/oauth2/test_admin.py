"""The admin lists OAuth2 credentials without ever showing a token or authorization code."""

import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_grant_model, get_refresh_token_model

from accounts_auth.admin_oauth import credential_hint
from accounts_auth.models import User

AccessToken = get_access_token_model()
RefreshToken = get_refresh_token_model()
Grant = get_grant_model()

ACCESS_VALUE = "access-SECRET-value-0123456789abcdef"
REFRESH_VALUE = "refresh-SECRET-value-0123456789abcdef"
CODE_VALUE = "code-SECRET-value-0123456789abcdef"


@pytest.fixture
def admin_client(db: None) -> Client:
    admin = User.objects.create_superuser(email=f"admin-{uuid.uuid4().hex[:8]}@example.com", password="admin pass 123")
    client = Client()
    client.force_login(admin)
    return client


@pytest.fixture
def credentials(oauth_user, public_application):
    expires = timezone.now() + timedelta(hours=1)
    access = AccessToken.objects.create(
        user=oauth_user, application=public_application, token=ACCESS_VALUE, expires=expires, scope="agents:read"
    )
    refresh = RefreshToken.objects.create(
        user=oauth_user, application=public_application, token=REFRESH_VALUE, access_token=access
    )
    grant = Grant.objects.create(
        user=oauth_user,
        application=public_application,
        code=CODE_VALUE,
        expires=expires,
        redirect_uri="http://127.0.0.1:9/callback",
        scope="agents:read",
    )
    return {"access": access, "refresh": refresh, "grant": grant}


@pytest.mark.parametrize(
    ("model_path", "key", "value"),
    [
        ("accesstoken", "access", ACCESS_VALUE),
        ("refreshtoken", "refresh", REFRESH_VALUE),
        ("grant", "grant", CODE_VALUE),
    ],
)
def test_admin_credential_pages_hide_values(admin_client, credentials, model_path, key, value):
    row = credentials[key]

    listing = admin_client.get(f"/admin/oauth2_provider/{model_path}/")
    detail = admin_client.get(f"/admin/oauth2_provider/{model_path}/{row.pk}/change/")

    assert listing.status_code == 200, listing.content
    assert detail.status_code == 200, detail.content
    checksum = getattr(row, "token_checksum", "")
    for page in (listing, detail):
        content = page.content.decode()
        assert "SECRET" not in content
        assert not checksum or checksum not in content
        assert credential_hint(value) in content
    assert 'name="token"' not in detail.content.decode()
    assert 'name="code"' not in detail.content.decode()


def test_admin_credential_search_ignores_token(admin_client, credentials):
    response = admin_client.get("/admin/oauth2_provider/accesstoken/", {"q": ACCESS_VALUE})

    assert response.status_code == 200, response.content
    assert "0 access tokens" in response.content.decode()


def test_admin_credentials_cannot_be_added(admin_client, credentials):
    response = admin_client.get("/admin/oauth2_provider/accesstoken/add/")

    assert response.status_code == 403, response.content


def test_admin_revoke_action_revokes_refresh_token(admin_client, credentials):
    refresh = credentials["refresh"]

    response = admin_client.post(
        "/admin/oauth2_provider/refreshtoken/",
        {"action": "revoke_tokens", "_selected_action": [refresh.pk]},
    )

    assert response.status_code == 302, response.content
    refresh.refresh_from_db()
    assert refresh.revoked is not None
    assert not AccessToken.objects.filter(pk=credentials["access"].pk).exists()


def test_credential_hint_shows_only_the_end():
    assert credential_hint("abcdefghijklmnopqrstuvwxyz") == "…wxyz"
    assert credential_hint("short") == "…"
    assert credential_hint("") == "(not stored)"
