"""`GET/PUT/PATCH user`, the profile photo, and the user's browser sessions."""

import io

import pytest
from allauth.usersessions.models import UserSession
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

USER_URL = "/api/v1/user"
SESSIONS_URL = "/api/v1/user/sessions"


def image_file(name="photo.png", image_format="PNG", size=(300, 200)):
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(buffer, format=image_format)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def test_user_get_with_token(api_client, bearer, verified_user):
    response = api_client.get(USER_URL, **bearer)
    body = response.json()["data"]

    assert response.status_code == 200, response.content
    assert body["id"] == str(verified_user.pk)
    assert body["email_verified"] is True
    assert "password" not in body


def test_user_patch_name(api_client, bearer, verified_user):
    response = api_client.patch(USER_URL, {"name": "Ada Lovelace"}, format="json", **bearer)

    assert response.status_code == 200, response.content
    verified_user.refresh_from_db()
    assert verified_user.name == "Ada Lovelace"


def test_user_put_name(api_client, bearer, verified_user):
    response = api_client.put(USER_URL, {"name": "Put Name"}, format="json", **bearer)

    assert response.status_code == 200, response.content
    assert response.json()["data"]["name"] == "Put Name"


def test_user_email_not_writable(api_client, bearer, verified_user):
    api_client.patch(USER_URL, {"email": "evil@example.com"}, format="json", **bearer)

    verified_user.refresh_from_db()
    assert verified_user.email == "ada@example.com"


def test_user_name_too_long_is_422(api_client, bearer):
    response = api_client.patch(USER_URL, {"name": "n" * 151}, format="json", **bearer)

    assert response.status_code == 422, response.content
    assert "name" in response.json()["errors"]


def test_user_requires_authentication(api_client, db):
    assert api_client.get(USER_URL).status_code == 401
    assert api_client.patch(USER_URL, {"name": "x"}, format="json").status_code == 401


def test_user_current_workspace_must_be_member(api_client, bearer):
    response = api_client.patch(
        USER_URL, {"current_workspace": "00000000-0000-0000-0000-000000000001"}, format="json", **bearer
    )

    assert response.status_code == 422, response.content
    assert "current_workspace" in response.json()["errors"]


def test_profile_photo_upload_generates_sizes(api_client, bearer, verified_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path

    response = api_client.patch(USER_URL, {"profile_photo": image_file()}, format="multipart", **bearer)
    urls = response.json()["data"]["profile_photo_urls"]

    assert response.status_code == 200, response.content
    assert set(urls) == {"original", "small", "medium"}
    verified_user.refresh_from_db()
    small = Image.open(tmp_path / verified_user.profile_photo_sizes["small"])
    assert small.size == (64, 64)


def test_profile_photo_content_checked_not_name(api_client, bearer, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    fake = SimpleUploadedFile("photo.png", b"#!/bin/sh\necho not an image\n", content_type="image/png")

    response = api_client.patch(USER_URL, {"profile_photo": fake}, format="multipart", **bearer)

    assert response.status_code == 422, response.content
    assert "profile_photo" in response.json()["errors"]


def test_profile_photo_disallowed_type_is_422(api_client, bearer, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path

    upload = image_file("photo.png", image_format="BMP")
    response = api_client.patch(USER_URL, {"profile_photo": upload}, format="multipart", **bearer)

    assert response.status_code == 422, response.content
    assert "BMP" in response.json()["errors"]["profile_photo"][0]


def test_profile_photo_too_many_pixels_is_422(api_client, bearer, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path

    upload = image_file(size=(5000, 10))
    response = api_client.patch(USER_URL, {"profile_photo": upload}, format="multipart", **bearer)

    assert response.status_code == 422, response.content


def test_profile_photo_oversized_body_is_413(api_client, bearer):
    blob = SimpleUploadedFile("big.png", b"0" * (3 * 1024 * 1024), content_type="image/png")

    response = api_client.patch(USER_URL, {"profile_photo": blob}, format="multipart", **bearer)

    assert response.status_code == 413, response.content


def test_profile_photo_removed_with_null(api_client, bearer, verified_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    api_client.patch(USER_URL, {"profile_photo": image_file()}, format="multipart", **bearer)

    response = api_client.patch(USER_URL, {"profile_photo": None}, format="json", **bearer)

    assert response.status_code == 200, response.content
    assert response.json()["data"]["profile_photo_urls"] is None


def test_profile_photo_config_endpoint(api_client, bearer):
    response = api_client.get(USER_URL + "/profile-photo-config", **bearer)
    body = response.json()["data"]

    assert response.status_code == 200, response.content
    assert "image/png" in body["allowed_types"]
    assert body["sizes"] == {"small": 64, "medium": 256}


@pytest.fixture
def browser_client(client, verified_user):
    client.force_login(verified_user)
    # The session row is written by allauth's middleware on the first request of the session.
    assert client.get(USER_URL).status_code == 200
    return client


def test_sessions_listed_after_login(browser_client, verified_user):
    response = browser_client.get(SESSIONS_URL)
    body = response.json()

    assert response.status_code == 200, response.content
    assert body["meta"]["total"] == 1
    assert body["data"][0]["is_current"] is True


def test_sessions_list_drops_ended_sessions(verified_user, api_client, bearer):
    browsers = [Client() for _ in range(3)]
    for browser in browsers:
        browser.force_login(verified_user)
        assert browser.get(USER_URL).status_code == 200
    Session.objects.filter(session_key=browsers[0].session.session_key).delete()
    # A session signed with another user's id no longer signs in this user.
    tampered = SessionStore(session_key=browsers[1].session.session_key)
    tampered[SESSION_KEY] = "0"
    tampered.save()

    response = api_client.get(SESSIONS_URL, **bearer)

    assert response.status_code == 200, response.content
    assert response.json()["meta"]["total"] == 1
    assert list(UserSession.objects.values_list("session_key", flat=True)) == [browsers[2].session.session_key]


def test_sessions_list_drops_old_password(browser_client, verified_user, api_client, bearer):
    verified_user.set_password("a-new-long-password")
    verified_user.save()

    response = api_client.get(SESSIONS_URL, **bearer)

    assert response.json()["meta"]["total"] == 0
    assert not UserSession.objects.exists()


def test_session_revocation_ends_it(browser_client, api_client, bearer, verified_user):
    session = UserSession.objects.get(user=verified_user)

    response = api_client.delete(f"{SESSIONS_URL}/{session.pk}", **bearer)

    assert response.status_code == 204, response.content
    assert browser_client.get(USER_URL).status_code == 401


def test_session_of_other_user_is_404(browser_client, api_client, django_user_model, make_token):
    other = django_user_model.objects.create_user(email="other@example.com", password="x" * 12)
    _, raw = make_token(other)
    session = UserSession.objects.get()

    response = api_client.delete(f"{SESSIONS_URL}/{session.pk}", HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert response.status_code == 404, response.content
    assert browser_client.get(USER_URL).status_code == 200


def test_sessions_require_authentication(api_client, db):
    assert api_client.get(SESSIONS_URL).status_code == 401
    assert api_client.delete(f"{SESSIONS_URL}/1").status_code == 401
