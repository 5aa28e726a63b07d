"""Multiplai token validation against a fake Multiplai server on 127.0.0.1."""

import time

import pytest
from django.utils import timezone

from accounts_auth.models import AuthEvent, User

USER_URL = "/api/v1/user"


def get_user(client, token="mp-good"):
    return client.get(USER_URL, HTTP_X_MULTIPLAI_AUTHORIZATION=f"Bearer {token}")


def test_multiplai_creates_verified_user(api_client, multiplai, db):
    organizations = [{"id": "org-1", "name": "Acme", "role": "admin"}]
    multiplai.add_user("mp-good", id="42", email="Grace@Example.com", name="Grace", organizations=organizations)

    response = get_user(api_client)

    assert response.status_code == 200, response.content
    user = User.objects.get(multiplai_id="42")
    assert user.email == "grace@example.com"
    assert user.name == "Grace"
    assert user.email_verified_at is not None
    assert user.multiplai_organizations == [{"id": "org-1", "name": "Acme", "role": "admin"}]
    assert user.avatar_url == "https://cdn.example.com/a.png"
    assert not user.has_usable_password()
    assert AuthEvent.objects.filter(user=user, event="multiplai_sync", outcome="success").exists()


def test_multiplai_data_wins_on_update(api_client, multiplai, db):
    User.objects.create_user(email="old@example.com", multiplai_id="42", name="Old Name")
    multiplai.add_user("mp-good", id="42", email="new@example.com", name="New Name")

    response = get_user(api_client)

    assert response.status_code == 200, response.content
    user = User.objects.get(multiplai_id="42")
    assert user.email == "new@example.com"
    assert user.name == "New Name"


def test_multiplai_email_conflict_is_409(api_client, multiplai, db):
    User.objects.create_user(email="grace@example.com", password="x" * 12, email_verified_at=timezone.now())
    multiplai.add_user("mp-good", id="42", email="grace@example.com")

    response = get_user(api_client)

    assert response.status_code == 409, response.content
    assert response.json()["code"] == "multiplai_email_conflict"
    assert not User.objects.filter(multiplai_id="42").exists()


def test_multiplai_links_by_email_when_allowed(api_client, multiplai, settings, db):
    settings.MULTIPLAI_LINK_BY_EMAIL = True
    existing = User.objects.create_user(email="grace@example.com", password="x" * 12, email_verified_at=timezone.now())
    multiplai.add_user("mp-good", id="42", email="grace@example.com")

    response = get_user(api_client)

    assert response.status_code == 200, response.content
    existing.refresh_from_db()
    assert existing.multiplai_id == "42"


def test_multiplai_no_link_to_unverified_email(api_client, multiplai, settings, db):
    settings.MULTIPLAI_LINK_BY_EMAIL = True
    User.objects.create_user(email="grace@example.com", password="x" * 12)
    multiplai.add_user("mp-good", id="42", email="grace@example.com")

    response = get_user(api_client)

    assert response.status_code == 409, response.content
    assert response.json()["code"] == "multiplai_email_conflict"


def test_multiplai_invalid_token_is_401(api_client, multiplai, db):
    response = get_user(api_client, token="mp-unknown")

    assert response.status_code == 401, response.content
    assert multiplai.calls == 1
    assert AuthEvent.objects.filter(event="sign_in_failed", method="multiplai").exists()


@pytest.mark.parametrize("mode", ["garbage", "error", "drop"])
def test_multiplai_bad_answers_are_503(api_client, multiplai, db, mode):
    multiplai.add_user("mp-good")
    multiplai.mode = mode

    response = get_user(api_client)

    assert response.status_code == 503, response.content
    assert response.json()["code"] == "multiplai_unavailable"
    assert not User.objects.filter(multiplai_id__isnull=False).exists()


def test_multiplai_timeout_is_503(api_client, multiplai, settings, db):
    settings.MULTIPLAI_TIMEOUT_SECONDS = 0.3
    multiplai.add_user("mp-good")
    multiplai.mode = "slow"
    multiplai.delay = 1.5

    started = time.monotonic()
    response = get_user(api_client)

    assert response.status_code == 503, response.content
    assert time.monotonic() - started < 1.4


def test_multiplai_not_configured_is_503(api_client, settings, db):
    settings.MULTIPLAI_API_URL = ""

    response = get_user(api_client)

    assert response.status_code == 503, response.content


def test_multiplai_cache_avoids_second_call(api_client, multiplai, db):
    multiplai.add_user("mp-good")

    first = get_user(api_client)
    second = get_user(api_client)

    assert first.status_code == 200, first.content
    assert second.status_code == 200, second.content
    assert multiplai.calls == 1


def test_multiplai_cache_expires_after_ttl(api_client, multiplai, settings, db):
    settings.MULTIPLAI_CACHE_SECONDS = 1
    multiplai.add_user("mp-good")

    get_user(api_client)
    time.sleep(1.2)
    response = get_user(api_client)

    assert response.status_code == 200, response.content
    assert multiplai.calls == 2


def test_multiplai_cache_key_is_not_the_token(multiplai, db):
    from accounts_auth import multiplai as multiplai_module

    key = multiplai_module._cache_key("mp-secret-token")

    assert "mp-secret-token" not in key
    assert len(key.rsplit(":", 1)[1]) == 64


def test_multiplai_handover_starts_session(client, multiplai, db):
    multiplai.add_user("mp-good", email="grace@example.com")

    response = client.post("/auth/multiplai/", {"token": "mp-good", "next": "/"})

    assert response.status_code == 302, response.content
    assert response["Location"] == "/"
    me = client.get(USER_URL)
    assert me.status_code == 200, me.content
    assert me.json()["data"]["email"] == "grace@example.com"


def test_multiplai_handover_accepts_header(client, multiplai, db):
    multiplai.add_user("mp-good")

    response = client.post("/auth/multiplai", HTTP_X_MULTIPLAI_AUTHORIZATION="Bearer mp-good")

    assert response.status_code == 302, response.content


def test_multiplai_handover_rejects_invalid_token(client, multiplai, db):
    response = client.post("/auth/multiplai/", {"token": "mp-wrong"})

    assert response.status_code == 401, response.content
    assert client.get(USER_URL).status_code == 401


def test_multiplai_handover_rejects_missing_token(client, multiplai, db):
    response = client.post("/auth/multiplai/")

    assert response.status_code == 401, response.content


def test_multiplai_handover_ignores_foreign_redirect(client, multiplai, db):
    multiplai.add_user("mp-good")

    response = client.post("/auth/multiplai/", {"token": "mp-good", "next": "https://evil.example.net/"})

    assert response.status_code == 302, response.content
    assert response["Location"] == "/"


def test_multiplai_handover_rejects_get(client, multiplai, db):
    response = client.get("/auth/multiplai/")

    assert response.status_code == 405


def test_multiplai_organizations_become_workspaces(api_client, multiplai, db):
    from workspaces.models import Membership, Workspace

    organizations = [
        {"id": "org-1", "name": "Acme", "role": "admin"},
        {"id": "org-2", "name": "Beta", "role": "member"},
    ]
    multiplai.add_user("mp-good", id="42", email="grace@example.com", organizations=organizations)

    response = get_user(api_client)

    assert response.status_code == 200, response.content
    user = User.objects.get(multiplai_id="42")
    roles = dict(
        Membership.objects.filter(user=user, workspace__external_id__isnull=False).values_list(
            "workspace__external_id", "role"
        )
    )
    assert roles == {"org-1": "admin", "org-2": "editor"}
    assert Workspace.objects.get(external_id="org-1").name == "Acme"
