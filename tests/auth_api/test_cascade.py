"""The authentication cascade: session, then Multiplai, then bearer token, then 401."""

import pytest
from django.middleware.csrf import _get_new_csrf_string
from rest_framework.test import APIClient

USER_URL = "/api/v1/user"


@pytest.fixture
def session_client(verified_user):
    client = APIClient()
    client.force_login(verified_user)
    return client


def test_cascade_no_credentials_is_401(api_client, db):
    response = api_client.get(USER_URL)

    assert response.status_code == 401, response.content
    assert response.json() == {"message": "Unauthenticated.", "code": "unauthenticated"}
    assert response["WWW-Authenticate"] == 'Bearer realm="athena"'


def test_cascade_session_alone(session_client, verified_user):
    response = session_client.get(USER_URL)

    assert response.status_code == 200, response.content
    assert response.json()["data"]["email"] == verified_user.email


def test_cascade_session_wins_over_bearer(session_client, verified_user, make_token, django_user_model):
    other = django_user_model.objects.create_user(email="other@example.com", password="x" * 12)
    _, raw = make_token(other)

    response = session_client.get(USER_URL, HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert response.status_code == 200, response.content
    assert response.json()["data"]["email"] == verified_user.email


def test_cascade_bearer_alone(api_client, bearer, verified_user):
    response = api_client.get(USER_URL, **bearer)

    assert response.status_code == 200, response.content
    assert response.json()["data"]["email"] == verified_user.email


def test_cascade_valid_multiplai_alone(api_client, multiplai, db):
    multiplai.add_user("mp-good", email="grace@example.com", name="Grace")

    response = api_client.get(USER_URL, HTTP_X_MULTIPLAI_AUTHORIZATION="Bearer mp-good")

    assert response.status_code == 200, response.content
    assert response.json()["data"]["email"] == "grace@example.com"


def test_cascade_multiplai_wins_over_bearer(api_client, multiplai, bearer):
    multiplai.add_user("mp-good", email="grace@example.com")

    response = api_client.get(USER_URL, HTTP_X_MULTIPLAI_AUTHORIZATION="Bearer mp-good", **bearer)

    assert response.status_code == 200, response.content
    assert response.json()["data"]["email"] == "grace@example.com"


def test_cascade_invalid_multiplai_falls_through_to_bearer(api_client, multiplai, bearer, verified_user):
    response = api_client.get(USER_URL, HTTP_X_MULTIPLAI_AUTHORIZATION="Bearer mp-wrong", **bearer)

    assert response.status_code == 200, response.content
    assert response.json()["data"]["email"] == verified_user.email


def test_cascade_invalid_multiplai_alone_is_401(api_client, multiplai, db):
    response = api_client.get(USER_URL, HTTP_X_MULTIPLAI_AUTHORIZATION="Bearer mp-wrong")

    assert response.status_code == 401, response.content
    assert response.json()["code"] == "unauthenticated"


def test_cascade_multiplai_down_alone_is_503(api_client, multiplai, db):
    multiplai.stop()

    response = api_client.get(USER_URL, HTTP_X_MULTIPLAI_AUTHORIZATION="Bearer mp-any")

    assert response.status_code == 503, response.content
    assert response.json()["code"] == "multiplai_unavailable"


def test_cascade_multiplai_down_falls_through_to_bearer(api_client, multiplai, bearer):
    multiplai.stop()

    response = api_client.get(USER_URL, HTTP_X_MULTIPLAI_AUTHORIZATION="Bearer mp-any", **bearer)

    assert response.status_code == 200, response.content


def test_cascade_invalid_bearer_is_401(api_client, db):
    response = api_client.get(USER_URL, HTTP_AUTHORIZATION="Bearer athena_pat_notarealtoken")

    assert response.status_code == 401, response.content
    assert response.json()["code"] == "unauthenticated"
    assert response["WWW-Authenticate"] == 'Bearer realm="athena"'


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Bearer t\u00e9st"])
def test_cascade_malformed_authorization_is_401(api_client, db, header):
    response = api_client.get(USER_URL, HTTP_AUTHORIZATION=header)

    assert response.status_code == 401, response.content


def test_cascade_other_scheme_ignored(api_client, db):
    response = api_client.get(USER_URL, HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")

    assert response.status_code == 401, response.content


def test_session_post_without_csrf_token_is_403(verified_user):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(verified_user)

    response = client.patch(USER_URL, {"name": "New"}, format="json")

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "forbidden"
    verified_user.refresh_from_db()
    assert verified_user.name == "Ada"


def test_session_post_with_csrf_token_succeeds(verified_user):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(verified_user)
    csrf_token = _get_new_csrf_string()
    client.cookies["csrftoken"] = csrf_token

    response = client.patch(USER_URL, {"name": "New"}, format="json", HTTP_X_CSRFTOKEN=csrf_token)

    assert response.status_code == 200, response.content
    assert response.json()["data"]["name"] == "New"


def test_bearer_request_needs_no_csrf_token(bearer):
    client = APIClient(enforce_csrf_checks=True)

    response = client.patch(USER_URL, {"name": "Token"}, format="json", **bearer)

    assert response.status_code == 200, response.content
