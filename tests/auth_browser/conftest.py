"""Fixtures for browser sign-in tests: a client with its own IP, and users in known states."""

import itertools
import re
import uuid
from collections.abc import Callable

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, format_hotp_value, hotp_value
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts_auth.models import User

PASSWORD = "correct horse battery staple"
TOTP_PERIOD_SECONDS = 30

# Each client gets its own address in 10.0.0.0/8 so the per-IP lockout and allauth's per-IP
# rate limits, which live in the shared cache, never carry over between tests or runs.
_addresses = itertools.count(1)


def unique_ip() -> str:
    number = (uuid.uuid4().int + next(_addresses)) % (2**24 - 2) + 1
    return f"10.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}"


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


@pytest.fixture
def browser() -> Client:
    return Client(REMOTE_ADDR=unique_ip(), HTTP_USER_AGENT="pytest-browser")


@pytest.fixture
def make_verified_user(db: None) -> Callable[..., User]:
    def make(email: str | None = None, password: str = PASSWORD) -> User:
        user = User.objects.create_user(email=email or unique_email(), password=password)
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        return user

    return make


@pytest.fixture
def verified_user(make_verified_user: Callable[..., User]) -> User:
    return make_verified_user()


def sign_in(client: Client, email: str, password: str = PASSWORD):
    return client.post("/accounts/login/", {"login": email, "password": password})


def totp_code(secret: str, offset_periods: int = 0) -> str:
    """Compute the current TOTP code with allauth's own HOTP function."""
    counter = int(timezone.now().timestamp()) // TOTP_PERIOD_SECONDS + offset_periods
    return format_hotp_value(hotp_value(secret, counter))


def reauthenticate(client: Client, password: str = PASSWORD) -> None:
    """Confirm the password again, which allauth requires before security settings change."""
    response = client.post("/accounts/reauthenticate/", {"password": password})
    assert response.status_code == 302, response.content


def totp_activate(client: Client) -> str:
    """Activate TOTP for the signed-in client's user and return the secret."""
    reauthenticate(client)
    response = client.get("/accounts/2fa/totp/activate/")
    assert response.status_code == 200, response.content
    secret = client.session[SECRET_SESSION_KEY]
    response = client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})
    assert response.status_code == 302, response.content
    return secret


def link_from_last_email(path_fragment: str) -> str:
    """Return the path of the first link in the newest email whose URL contains `path_fragment`."""
    body = mail.outbox[-1].body
    match = re.search(r"https?://[^/\s]+(\S*" + re.escape(path_fragment) + r"\S*)", body)
    assert match, body
    return match.group(1)
