"""`POST auth/sign-in` and `POST auth/logout`, with the failed sign-in lockout."""

from unittest import mock

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher

from accounts_auth.models import AuthEvent, PersonalAccessToken

SIGN_IN_URL = "/api/v1/auth/sign-in"
LOGOUT_URL = "/api/v1/auth/logout"


def sign_in(client, email="ada@example.com", password="correct horse battery", REMOTE_ADDR="127.0.0.1", **extra):
    payload = {"email": email, "password": password, **extra}
    return client.post(SIGN_IN_URL, payload, format="json", REMOTE_ADDR=REMOTE_ADDR)


def test_sign_in_returns_token_once(api_client, verified_user):
    response = sign_in(api_client, token_name="CLI", abilities=["agents:read"], expires_in_days=30)
    body = response.json()["data"]

    assert response.status_code == 200, response.content
    assert body["token"].startswith("athena_pat_")
    assert body["token_type"] == "Bearer"
    assert body["abilities"] == ["agents:read"]
    assert body["expires_at"] is not None
    assert body["user"]["email"] == "ada@example.com"
    stored = PersonalAccessToken.objects.get(user=verified_user)
    assert stored.name == "CLI"
    assert body["token"] not in str(stored.__dict__)


def test_sign_in_token_authenticates(api_client, verified_user):
    token = sign_in(api_client).json()["data"]["token"]

    response = api_client.get("/api/v1/user", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 200, response.content


def test_sign_in_email_case_insensitive(api_client, verified_user):
    response = sign_in(api_client, email="ADA@Example.COM")

    assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    ("email", "password"), [("ada@example.com", "wrong password"), ("nobody@example.com", "correct horse battery")]
)
def test_sign_in_wrong_credentials_same_401(api_client, verified_user, email, password):
    response = sign_in(api_client, email=email, password=password)

    assert response.status_code == 401, response.content
    assert response.json() == {"message": "These credentials do not match our records.", "code": "invalid_credentials"}
    assert AuthEvent.objects.filter(event="sign_in_failed", email=email, outcome="failure").exists()


def test_sign_in_hasher_runs_for_unknown_email(api_client, db):
    with mock.patch.object(MD5PasswordHasher, "encode", autospec=True, wraps=MD5PasswordHasher.encode) as encode:
        response = sign_in(api_client, email="nobody@example.com")

    assert response.status_code == 401
    assert encode.call_count == 1


def test_sign_in_unverified_email_is_403(api_client, django_user_model, db):
    django_user_model.objects.create_user(email="new@example.com", password="correct horse battery")

    response = sign_in(api_client, email="new@example.com")

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "email_not_verified"


def test_sign_in_unverified_allowed_when_optional(api_client, django_user_model, settings, db):
    settings.ACCOUNT_EMAIL_VERIFICATION = "optional"
    django_user_model.objects.create_user(email="new@example.com", password="correct horse battery")

    response = sign_in(api_client, email="new@example.com")

    assert response.status_code == 200, response.content


def test_sign_in_inactive_user_is_401(api_client, verified_user):
    verified_user.is_active = False
    verified_user.save()

    response = sign_in(api_client)

    assert response.status_code == 401, response.content


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"password": "x"}, "email"),
        ({"email": "not-an-email", "password": "x"}, "email"),
        ({"email": "ada@example.com"}, "password"),
        ({"email": "ada@example.com", "password": "x", "abilities": ["agents:fly"]}, "abilities"),
        ({"email": "ada@example.com", "password": "x", "abilities": []}, "abilities"),
        ({"email": "ada@example.com", "password": "x", "expires_in_days": 0}, "expires_in_days"),
        ({"email": "ada@example.com", "password": "x", "token_name": "n" * 121}, "token_name"),
    ],
)
def test_sign_in_invalid_input_is_422(api_client, verified_user, payload, field):
    response = api_client.post(SIGN_IN_URL, payload, format="json")

    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]


def test_sign_in_malformed_json_is_400(api_client, db):
    response = api_client.generic("POST", SIGN_IN_URL, b'{"email": ', content_type="application/json")

    assert response.status_code == 400, response.content


def test_sign_in_oversized_body_is_413(api_client, db):
    raw = b'{"email": "a@example.com", "password": "' + b"x" * (1024 * 1024) + b'"}'

    response = api_client.generic("POST", SIGN_IN_URL, raw, content_type="application/json")

    assert response.status_code == 413, response.content


def test_sign_in_lockout_after_five_failures(api_client, verified_user):
    for _ in range(5):
        assert sign_in(api_client, password="wrong").status_code == 401

    response = sign_in(api_client)

    assert response.status_code == 429, response.content
    assert int(response["Retry-After"]) > 0
    assert response.json()["code"] == "throttled"


def test_sign_in_success_resets_account_counter(api_client, verified_user):
    # Each failure comes from its own address, so only the account counter grows.
    for number in range(4):
        sign_in(api_client, password="wrong", REMOTE_ADDR=f"198.51.100.{number}")
    assert sign_in(api_client).status_code == 200

    for number in range(4):
        assert sign_in(api_client, password="wrong", REMOTE_ADDR=f"198.51.100.{10 + number}").status_code == 401

    assert sign_in(api_client).status_code == 200


def test_sign_in_lockout_per_ip(api_client, verified_user):
    for number in range(5):
        sign_in(api_client, email=f"nobody{number}@example.com", password="wrong")

    response = sign_in(api_client)

    assert response.status_code == 429, response.content


def test_sign_in_ip_from_trusted_proxy_only(api_client, verified_user, settings):
    settings.ATHENA_TRUSTED_PROXIES = ["127.0.0.1/32"]
    for number in range(5):
        sign_in(
            api_client,
            email=f"nobody{number}@example.com",
            password="wrong",
        )
    assert sign_in(api_client).status_code == 429

    response = api_client.post(
        SIGN_IN_URL,
        {"email": "ada@example.com", "password": "correct horse battery"},
        format="json",
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )

    assert response.status_code == 200, response.content


def test_logout_revokes_token(api_client, verified_user):
    token = sign_in(api_client).json()["data"]["token"]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    response = api_client.post(LOGOUT_URL, **headers)

    assert response.status_code == 204, response.content
    assert api_client.get("/api/v1/user", **headers).status_code == 401
    assert AuthEvent.objects.filter(event="logout", user=verified_user).exists()


def test_logout_ends_session(client, verified_user):
    client.force_login(verified_user)

    response = client.post(LOGOUT_URL)

    assert response.status_code == 204, response.content
    assert client.get("/api/v1/user").status_code == 401


def test_logout_without_credentials_is_401(api_client, db):
    response = api_client.post(LOGOUT_URL)

    assert response.status_code == 401, response.content
