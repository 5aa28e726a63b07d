"""Authentication abuse: credential stuffing, token guessing, forged proxy headers, session
fixation, CSRF on every unsafe session-authenticated route, dead tokens and OAuth2 scopes.

The timing defences are checked as mechanisms (which comparison runs, how many hashes are
computed), never with a stopwatch. Every client gets its own address, because the lockout
counters live in the shared cache.
"""

import hmac
import json
import secrets
from datetime import timedelta
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import get_hasher
from django.test import Client
from django.utils import timezone
from django.utils.crypto import get_random_string
from oauth2_provider.models import AccessToken, Application
from rest_framework.test import APIClient

from accounts_auth import selectors, tokens
from accounts_auth.models import AuthEvent, PersonalAccessToken, User
from accounts_auth.services import personal_access_token_create
from athena_site.client_ip import client_ip
from tests.auth_browser.conftest import unique_email, unique_ip
from tests.isolation.cases import collect_cases
from tests.isolation.harness import build_world
from tests.security.conftest import row_counts

pytestmark = pytest.mark.timeout(60)

PASSWORD = "correct horse battery staple"


@pytest.fixture
def person(db: None) -> User:
    user = User.objects.create_user(email=unique_email("abuse"), password=PASSWORD)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    user.email_verified_at = timezone.now()
    user.save(update_fields=["email_verified_at"])
    return user


def api(ip: str | None = None, **headers: str) -> APIClient:
    return APIClient(REMOTE_ADDR=ip or unique_ip(), **headers)


def sign_in(client: APIClient, email: str, password: str) -> Any:
    return client.post("/api/v1/auth/sign-in", {"email": email, "password": password}, format="json")


def bearer(raw: str, ip: str | None = None) -> APIClient:
    client = api(ip)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


# --- credential stuffing ------------------------------------------------------------------------


def test_auth_abuse_wrong_passwords_lock_the_account(person):
    # given five wrong passwords for one account, each from a different address
    for _ in range(5):
        response = sign_in(api(), person.email, "wrong password")
        assert response.status_code == 401, response.content
        assert response.json()["code"] == "invalid_credentials"

    # when the right password arrives from yet another address
    response = sign_in(api(), person.email, PASSWORD)

    # then the account stays locked for the window, with Retry-After
    assert response.status_code == 429, response.content
    assert int(response["Retry-After"]) > 0
    assert AuthEvent.objects.filter(email=person.email, event="sign_in_failed").count() == 5


def test_auth_abuse_stuffing_many_accounts_locks_the_address(person):
    # given one address trying five made-up accounts
    ip = unique_ip()
    for _ in range(5):
        assert sign_in(api(ip), unique_email("stuffed"), "password123").status_code == 401

    # when it tries a real account with its real password
    response = sign_in(api(ip), person.email, PASSWORD)

    # then the address is locked, whatever account it names
    assert response.status_code == 429, response.content
    assert response.json()["code"] == "throttled"


def test_auth_abuse_browser_failures_count_towards_the_api_lockout(person):
    # given five failures on the browser form from one address
    ip = unique_ip()
    browser = Client(REMOTE_ADDR=ip)
    for _ in range(5):
        browser.post("/accounts/login/", {"login": person.email, "password": "wrong password"})

    # when the API is tried with the right password
    response = sign_in(api(ip), person.email, PASSWORD)

    # then the shared lockout refuses it
    assert response.status_code == 429, response.content


def test_auth_abuse_unknown_email_runs_the_password_hasher_once(person, monkeypatch):
    # The response time must not reveal which emails have accounts, so an unknown email costs
    # the same one hash as a known email with a wrong password.
    hasher_class = type(get_hasher())
    calls: list[str] = []
    original = hasher_class.encode

    def counting_encode(self: Any, password: str, salt: str, *args: Any, **kwargs: Any) -> str:
        calls.append(password)
        return original(self, password, salt, *args, **kwargs)

    monkeypatch.setattr(hasher_class, "encode", counting_encode)

    sign_in(api(), unique_email("nobody"), "guess one")
    unknown = len(calls)
    calls.clear()
    sign_in(api(), person.email, "guess two")
    known = len(calls)

    assert unknown == known == 1, (unknown, known)


def test_auth_abuse_unknown_email_and_wrong_password_answer_alike(person):
    unknown = sign_in(api(), unique_email("nobody"), "guess")
    wrong = sign_in(api(), person.email, "guess")

    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()


# --- token guessing -----------------------------------------------------------------------------


def test_auth_abuse_token_guessing_is_throttled_before_lookup(person, settings, django_assert_num_queries):
    # given an address that sent the limit of invalid tokens
    ip = unique_ip()
    for _ in range(settings.ATHENA_BAD_TOKEN_LIMIT):
        guess = tokens.generate_token()
        response = bearer(guess, ip).get("/api/v1/user")
        assert response.status_code == 401, response.content

    # when it sends another guess, even a real token
    _token, raw = personal_access_token_create(user=person, name="real", abilities=["*"])
    with django_assert_num_queries(0):
        response = bearer(raw, ip).get("/api/v1/user")

    # then it is refused with 429 before any database lookup, and other addresses are not
    assert response.status_code == 429, response.content
    assert int(response["Retry-After"]) > 0
    assert bearer(raw).get("/api/v1/user").status_code == 200


def test_auth_abuse_malformed_tokens_need_no_database_lookup(person, django_assert_num_queries):
    # A wrong checksum is refused by the format check alone.
    raw = tokens.generate_token()
    tampered = raw[:-1] + ("A" if raw[-1] != "A" else "B")

    with django_assert_num_queries(0):
        assert selectors.personal_access_token_get_by_secret(raw=tampered) is None


def test_auth_abuse_token_hash_is_compared_in_constant_time(person, monkeypatch):
    # given a spy on the comparison the token lookup uses
    compared: list[tuple[str, str]] = []
    original = hmac.compare_digest

    def spy(first: Any, second: Any) -> bool:
        compared.append((first, second))
        return original(first, second)

    monkeypatch.setattr(selectors.hmac, "compare_digest", spy)
    _token, raw = personal_access_token_create(user=person, name="timed", abilities=["*"])

    # when the token authenticates a request
    response = bearer(raw).get("/api/v1/user")

    # then the stored hash was compared with hmac.compare_digest, never with ==
    assert response.status_code == 200, response.content
    assert (tokens.hash_token(raw), tokens.hash_token(raw)) in compared


# --- forged proxy headers -----------------------------------------------------------------------


def test_auth_abuse_forwarded_for_is_ignored_without_trusted_proxy(person, settings):
    # given no trusted proxy and one address that failed five times, each claiming another origin
    settings.ATHENA_TRUSTED_PROXIES = []
    ip = unique_ip()
    for index in range(5):
        client = api(ip, HTTP_X_FORWARDED_FOR=f"203.0.113.{index + 1}")
        assert sign_in(client, unique_email("spoof"), "wrong").status_code == 401

    # when it tries again with a fresh forged address
    response = sign_in(api(ip, HTTP_X_FORWARDED_FOR="198.51.100.77"), person.email, PASSWORD)

    # then the lockout still applies to the real address
    assert response.status_code == 429, response.content


def test_auth_abuse_client_ip_reads_forwarded_for_only_from_trusted_proxies(settings, rf):
    request = rf.get("/", REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="198.51.100.9, 10.0.0.1")

    settings.ATHENA_TRUSTED_PROXIES = []
    assert client_ip(request) == "10.1.2.3"

    settings.ATHENA_TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_ip(request) == "198.51.100.9"

    # A client behind a trusted proxy cannot prepend a trusted address to hide itself.
    request = rf.get("/", REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="10.9.9.9, 198.51.100.9")
    assert client_ip(request) == "198.51.100.9"


# --- session fixation ---------------------------------------------------------------------------


def test_auth_abuse_session_key_changes_at_login(person):
    # given a browser holding a session before signing in, as a planted session would be
    browser = Client(REMOTE_ADDR=unique_ip())
    browser.get("/accounts/login/")
    session = browser.session
    session["planted"] = "value"
    session.save()
    planted_key = session.session_key

    # when it signs in
    response = browser.post("/accounts/login/", {"login": person.email, "password": PASSWORD})

    # then the signed-in session has a new key and the planted key is not signed in
    assert response.status_code == 302, response.content
    assert browser.session.session_key != planted_key
    assert browser.session["_auth_user_id"] == str(person.pk)
    from django.contrib.sessions.backends.db import SessionStore

    assert "_auth_user_id" not in SessionStore(session_key=planted_key).load()


# --- CSRF on every unsafe session-authenticated route -------------------------------------------

UNSAFE_CASES = [case for case in collect_cases() if case.method in ("POST", "PUT", "PATCH", "DELETE")]
USER_ROUTES = [
    ("PUT", "/api/v1/user", {"name": "Mallory"}),
    ("PATCH", "/api/v1/user", {"name": "Mallory"}),
    ("POST", "/api/v1/user/tokens", {"name": "stolen", "abilities": ["*"]}),
    ("POST", "/api/v1/auth/logout", {}),
]


@pytest.mark.parametrize("case", [pytest.param(case, id=case.id) for case in UNSAFE_CASES])
def test_auth_abuse_csrf_required_on_unsafe_session_requests(db, settings, network_jail, case):
    # given a signed-in browser session whose request carries no CSRF token
    settings.ATHENA_OUTBOUND_ALLOWLIST = []
    world = build_world()
    obj = case.factory(world) if case.factory else None
    user = case.actor(world, obj) if case.actor else world.owner
    browser = Client(enforce_csrf_checks=True, REMOTE_ADDR=unique_ip())
    browser.force_login(user)
    body = case.body(world, obj) if callable(case.body) else case.body
    before = row_counts()

    # when a cross-site page makes the browser send the unsafe request
    response = browser.generic(
        case.method,
        case.url(world, obj),
        b"" if body is None else json.dumps(body),
        content_type="application/json",
        HTTP_X_WORKSPACE=str(world.workspace.pk),
    )

    # then it is refused and nothing changed
    assert response.status_code == 403, response.content
    assert "CSRF" in response.json()["message"]
    assert row_counts() == before


@pytest.mark.parametrize(("method", "url", "body"), USER_ROUTES, ids=[f"{m} {u}" for m, u, _ in USER_ROUTES])
def test_auth_abuse_csrf_required_on_user_routes(person, method, url, body):
    browser = Client(enforce_csrf_checks=True, REMOTE_ADDR=unique_ip())
    browser.force_login(person)
    before = row_counts()

    response = browser.generic(method, url, json.dumps(body), content_type="application/json")

    assert response.status_code == 403, response.content
    assert row_counts() == before
    person.refresh_from_db()
    assert person.name != "Mallory"


def test_auth_abuse_csrf_token_lets_the_same_session_through(person):
    # The positive control: with the cookie's token in X-CSRFToken the same request succeeds.
    browser = Client(enforce_csrf_checks=True, REMOTE_ADDR=unique_ip())
    browser.force_login(person)
    token = get_random_string(32)
    browser.cookies["csrftoken"] = token

    response = browser.patch("/api/v1/user", {"name": "Ada"}, content_type="application/json", HTTP_X_CSRFTOKEN=token)

    assert response.status_code == 200, response.content


# --- expired, rotated and revoked tokens --------------------------------------------------------


def test_auth_abuse_revoked_token_fails_on_the_next_request(person):
    token, raw = personal_access_token_create(user=person, name="soon revoked", abilities=["*"])
    client = bearer(raw)
    assert client.get("/api/v1/user").status_code == 200

    assert client.delete(f"/api/v1/user/tokens/{token.pk}").status_code == 204
    response = client.get("/api/v1/user")

    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"] == 'Bearer realm="athena"'


def test_auth_abuse_expired_token_fails_on_the_next_request(person):
    token, raw = personal_access_token_create(user=person, name="expiring", abilities=["*"])
    client = bearer(raw)
    assert client.get("/api/v1/user").status_code == 200

    PersonalAccessToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get("/api/v1/user")

    assert response.status_code == 401, response.content


def test_auth_abuse_rotated_token_old_secret_fails(person, settings):
    settings.ATHENA_TOKEN_ROTATION_GRACE_SECONDS = 0
    token, raw = personal_access_token_create(user=person, name="rotating", abilities=["*"])

    response = bearer(raw).post(f"/api/v1/user/tokens/{token.pk}/rotate")
    assert response.status_code in (200, 201), response.content
    new_raw = response.json()["data"]["token"]

    assert bearer(raw).get("/api/v1/user").status_code == 401
    assert bearer(new_raw).get("/api/v1/user").status_code == 200


def test_auth_abuse_deactivated_user_token_fails(person):
    _token, raw = personal_access_token_create(user=person, name="leaver", abilities=["*"])

    User.objects.filter(pk=person.pk).update(is_active=False)

    assert bearer(raw).get("/api/v1/user").status_code == 401


# --- OAuth2 scopes ------------------------------------------------------------------------------


def _oauth_token(user: User, scope: str, *, expires_in: int = 3600) -> str:
    application = Application.objects.create(
        name="Scoped client",
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="https://client.example.com/callback",
        client_secret="",
    )
    # An OAuth2 access token has its own shape; a personal access token value would be a leak.
    value = f"oauth-{secrets.token_urlsafe(32)}"
    AccessToken.objects.create(
        user=user,
        application=application,
        token=value,
        expires=timezone.now() + timedelta(seconds=expires_in),
        scope=scope,
    )
    return value


def test_auth_abuse_oauth2_scope_narrows_what_the_token_may_do(person):
    raw = _oauth_token(person, "agents:read")
    client = bearer(raw)

    allowed = client.get("/api/v1/agents")
    refused = client.post("/api/v1/workspaces", {"name": "Sneaky"}, format="json")
    refused_read = client.get("/api/v1/workspaces")

    assert allowed.status_code == 200, allowed.content
    assert refused.status_code == 403, refused.content
    assert refused.json()["code"] == "insufficient_ability"
    assert refused_read.status_code == 403, refused_read.content


def test_auth_abuse_oauth2_expired_access_token_fails(person):
    raw = _oauth_token(person, "agents:read", expires_in=-1)

    response = bearer(raw).get("/api/v1/agents")

    assert response.status_code == 401, response.content


def test_auth_abuse_token_cannot_mint_wider_token(person):
    # A narrow token may only create tokens with abilities it holds itself.
    _token, raw = personal_access_token_create(user=person, name="narrow", abilities=["tokens:write", "agents:read"])

    response = bearer(raw).post("/api/v1/user/tokens", {"name": "wider", "abilities": ["*"]}, format="json")

    assert response.status_code in (403, 422), response.content
    assert not PersonalAccessToken.objects.filter(user=person, name="wider").exists()
