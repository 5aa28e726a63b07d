"""Personal access tokens: create, list, rotate, revoke, expiry and abilities."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from accounts_auth import selectors, tokens
from accounts_auth.models import AuthEvent, PersonalAccessToken

TOKENS_URL = "/api/v1/user/tokens"


def auth(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_token_format_and_checksum():
    raw = tokens.generate_token()

    assert raw.startswith("athena_pat_")
    assert len(raw) == tokens.TOKEN_LENGTH
    assert tokens.is_well_formed(raw)
    tampered = raw[:-1] + ("A" if raw[-1] != "A" else "B")
    assert not tokens.is_well_formed(tampered)


def test_token_stored_only_as_hash(make_token, verified_user):
    token, raw = make_token(verified_user)

    stored = PersonalAccessToken.objects.get(pk=token.pk)
    assert stored.token_hash == tokens.hash_token(raw)
    assert raw not in stored.token_hash
    assert raw not in str(stored)


def test_token_lookup_compares_in_constant_time(make_token, verified_user):
    _, raw = make_token(verified_user)

    with mock.patch("accounts_auth.selectors.hmac.compare_digest", wraps=__import__("hmac").compare_digest) as compare:
        found = selectors.personal_access_token_get_by_secret(raw=raw)

    assert found is not None
    assert compare.call_count == 1


def test_token_create_returns_secret_once(api_client, bearer, verified_user):
    response = api_client.post(TOKENS_URL, {"name": "deploy", "abilities": ["agents:read"]}, format="json", **bearer)
    body = response.json()["data"]

    assert response.status_code == 201, response.content
    assert body["token"].startswith("athena_pat_")
    assert body["abilities"] == ["agents:read"]
    listing = api_client.get(TOKENS_URL, **bearer).json()
    assert body["token"] not in str(listing)
    assert all("token_hash" not in item for item in listing["data"])
    assert AuthEvent.objects.filter(event="token_created", user=verified_user).count() == 2


def test_token_list_paginated(api_client, bearer, make_token, verified_user):
    for _ in range(3):
        make_token(verified_user)

    response = api_client.get(TOKENS_URL + "?per_page=2", **bearer)
    body = response.json()

    assert response.status_code == 200, response.content
    assert body["meta"]["total"] == 4
    assert len(body["data"]) == 2
    assert {"id", "name", "hint", "abilities", "expires_at", "last_used_at"} <= set(body["data"][0])


def test_token_list_shows_only_own(api_client, bearer, make_token, django_user_model):
    other = django_user_model.objects.create_user(email="other@example.com", password="x" * 12)
    make_token(other)

    response = api_client.get(TOKENS_URL, **bearer)

    assert response.json()["meta"]["total"] == 1


def test_token_revoke_takes_effect_next_request(api_client, bearer, make_token, verified_user):
    token, raw = make_token(verified_user)
    assert api_client.get("/api/v1/user", **auth(raw)).status_code == 200

    response = api_client.delete(f"{TOKENS_URL}/{token.pk}", **bearer)

    assert response.status_code == 204, response.content
    assert api_client.get("/api/v1/user", **auth(raw)).status_code == 401
    assert AuthEvent.objects.filter(event="token_revoked", user=verified_user).exists()


def test_token_revoke_other_users_token_is_404(api_client, bearer, make_token, django_user_model):
    other = django_user_model.objects.create_user(email="other@example.com", password="x" * 12)
    token, raw = make_token(other)

    response = api_client.delete(f"{TOKENS_URL}/{token.pk}", **bearer)

    assert response.status_code == 404, response.content
    assert api_client.get("/api/v1/user", **auth(raw)).status_code == 200


@pytest.mark.parametrize("token_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_token_revoke_unknown_is_404(api_client, bearer, token_id):
    response = api_client.delete(f"{TOKENS_URL}/{token_id}", **bearer)

    assert response.status_code == 404, response.content
    assert response.json()["code"] == "not_found"


def test_token_expired_is_401(api_client, make_token, verified_user):
    _, raw = make_token(verified_user, expires_at=timezone.now() - timedelta(seconds=1))

    response = api_client.get("/api/v1/user", **auth(raw))

    assert response.status_code == 401, response.content


def test_token_rotate_issues_new_secret(api_client, bearer, make_token, verified_user):
    token, raw = make_token(verified_user, abilities=["agents:read"])

    response = api_client.post(f"{TOKENS_URL}/{token.pk}/rotate", **bearer)
    body = response.json()["data"]

    assert response.status_code == 201, response.content
    assert body["token"] != raw
    assert body["abilities"] == ["agents:read"]
    assert api_client.get("/api/v1/user", **auth(raw)).status_code == 401
    assert api_client.get("/api/v1/user", **auth(body["token"])).status_code == 200


def test_token_rotate_grace_period_keeps_old(api_client, bearer, make_token, verified_user, settings):
    settings.ATHENA_TOKEN_ROTATION_GRACE_SECONDS = 60
    token, raw = make_token(verified_user)

    response = api_client.post(f"{TOKENS_URL}/{token.pk}/rotate", **bearer)

    assert response.status_code == 201, response.content
    assert api_client.get("/api/v1/user", **auth(raw)).status_code == 200


def test_token_last_used_written_once_a_minute(api_client, make_token, verified_user):
    token, raw = make_token(verified_user)

    api_client.get("/api/v1/user", **auth(raw))
    first = PersonalAccessToken.objects.get(pk=token.pk).last_used_at
    api_client.get("/api/v1/user", **auth(raw))
    second = PersonalAccessToken.objects.get(pk=token.pk).last_used_at

    assert first is not None
    assert second == first


def test_token_abilities_narrow_access(api_client, make_token, verified_user):
    _, raw = make_token(verified_user, abilities=["agents:read"])

    response = api_client.get(TOKENS_URL, **auth(raw))

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "insufficient_ability"


def test_token_object_ability_limits_to_one_object(api_client, make_token, verified_user):
    first, _ = make_token(verified_user)
    second, _ = make_token(verified_user)
    _, raw = make_token(verified_user, abilities=[f"tokens:delete:{first.pk}"])

    denied = api_client.delete(f"{TOKENS_URL}/{second.pk}", **auth(raw))
    allowed = api_client.delete(f"{TOKENS_URL}/{first.pk}", **auth(raw))

    assert denied.status_code == 403, denied.content
    assert denied.json()["code"] == "insufficient_ability"
    assert allowed.status_code == 204, allowed.content


def test_token_cannot_mint_broader_token(api_client, make_token, verified_user):
    _, raw = make_token(verified_user, abilities=["tokens:write", "agents:read"])

    broader = api_client.post(TOKENS_URL, {"name": "x", "abilities": ["*"]}, format="json", **auth(raw))
    narrower = api_client.post(TOKENS_URL, {"name": "x", "abilities": ["agents:read"]}, format="json", **auth(raw))
    copied = api_client.post(TOKENS_URL, {"name": "x"}, format="json", **auth(raw))

    assert broader.status_code == 422, broader.content
    assert "abilities" in broader.json()["errors"]
    assert narrower.status_code == 201, narrower.content
    assert copied.json()["data"]["abilities"] == ["agents:read", "tokens:write"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "n" * 121}, "name"),
        ({"name": "x", "abilities": ["nope"]}, "abilities"),
        ({"name": "x", "abilities": ["agents:run:not-a-uuid"]}, "abilities"),
        ({"name": "x", "abilities": ["agents:read"] * 101}, "abilities"),
        ({"name": "x", "abilities": "agents:read"}, "abilities"),
        ({"name": "x", "expires_in_days": 99999}, "expires_in_days"),
    ],
)
def test_token_create_invalid_input_is_422(api_client, bearer, payload, field):
    response = api_client.post(TOKENS_URL, payload, format="json", **bearer)

    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]


def test_token_endpoints_require_authentication(api_client, make_token, verified_user):
    token, _ = make_token(verified_user)

    responses = [
        api_client.get(TOKENS_URL),
        api_client.post(TOKENS_URL, {"name": "x"}, format="json"),
        api_client.delete(f"{TOKENS_URL}/{token.pk}"),
        api_client.post(f"{TOKENS_URL}/{token.pk}/rotate"),
    ]

    assert [response.status_code for response in responses] == [401, 401, 401, 401]


def test_bad_tokens_from_one_ip_reach_429(api_client, settings, db):
    settings.ATHENA_BAD_TOKEN_LIMIT = 3

    statuses = [
        api_client.get("/api/v1/user", HTTP_AUTHORIZATION=f"Bearer {tokens.generate_token()}").status_code
        for _ in range(4)
    ]
    other_ip = api_client.get("/api/v1/user", HTTP_AUTHORIZATION="Bearer athena_pat_x", REMOTE_ADDR="198.51.100.7")

    assert statuses == [401, 401, 401, 429]
    assert other_ip.status_code == 401


def test_bad_multiplai_tokens_count_toward_limit(api_client, multiplai, settings, db):
    settings.ATHENA_BAD_TOKEN_LIMIT = 2

    statuses = [
        api_client.get("/api/v1/user", HTTP_X_MULTIPLAI_AUTHORIZATION="Bearer wrong").status_code for _ in range(3)
    ]

    assert statuses[-1] == 429
    assert multiplai.calls == 2


def with_rate(monkeypatch, scope, rate):
    # DRF copies the rates into the throttle classes when they are imported, so patch them there.
    from athena_site.api import throttling

    rates = {**throttling.TokenRateThrottle.THROTTLE_RATES, scope: rate}
    monkeypatch.setattr(throttling.SimpleRateThrottle, "THROTTLE_RATES", rates)


def test_api_throttled_per_token(api_client, make_token, verified_user, monkeypatch):
    with_rate(monkeypatch, "token", "2/min")
    _, first = make_token(verified_user)
    _, second = make_token(verified_user)

    statuses = [api_client.get("/api/v1/user", **auth(first)).status_code for _ in range(3)]
    other_token = api_client.get("/api/v1/user", **auth(second))

    assert statuses == [200, 200, 429]
    assert other_token.status_code == 200


def test_api_throttled_per_user(api_client, make_token, verified_user, monkeypatch):
    with_rate(monkeypatch, "user", "2/min")
    _, first = make_token(verified_user)
    _, second = make_token(verified_user)

    api_client.get("/api/v1/user", **auth(first))
    api_client.get("/api/v1/user", **auth(second))
    response = api_client.get("/api/v1/user", **auth(first))

    assert response.status_code == 429, response.content
    assert int(response["Retry-After"]) > 0
