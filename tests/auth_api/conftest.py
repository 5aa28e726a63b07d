"""Fixtures for the authentication API tests: a fake Multiplai and token helpers."""

import pytest
from django.core.cache import cache

from accounts_auth.models import User
from accounts_auth.services import personal_access_token_create
from tests.fakes import FakeMultiplai


@pytest.fixture(autouse=True)
def clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def multiplai(settings):
    server = FakeMultiplai().start()
    settings.MULTIPLAI_API_URL = server.url
    settings.MULTIPLAI_TIMEOUT_SECONDS = 1
    yield server
    server.stop()


@pytest.fixture
def verified_user(db):
    from django.utils import timezone

    return User.objects.create_user(
        email="ada@example.com", password="correct horse battery", name="Ada", email_verified_at=timezone.now()
    )


@pytest.fixture
def make_token():
    def make(user, abilities=None, **kwargs):
        return personal_access_token_create(user=user, name="test token", abilities=abilities, **kwargs)

    return make


@pytest.fixture
def bearer(make_token, verified_user):
    _, raw = make_token(verified_user)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
