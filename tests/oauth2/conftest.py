"""Fixtures for Athena's OAuth2 server: applications, PKCE pairs and a signed-in browser."""

import base64
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from oauth2_provider.models import get_application_model

from accounts_auth.models import User

Application = get_application_model()

# Never requested: clients and tests read the code from the redirect's Location header.
REDIRECT_URI = "http://127.0.0.1:9/callback"
PASSWORD = "correct horse battery staple"


@dataclass
class Pkce:
    verifier: str
    challenge: str


def pkce_pair() -> Pkce:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return Pkce(verifier=verifier, challenge=base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii"))


class HiddenInputs(HTMLParser):
    """Collect the hidden inputs of the consent form, as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        fields = dict(attrs)
        if tag == "input" and fields.get("type") == "hidden" and fields.get("name"):
            self.values[fields["name"]] = fields.get("value") or ""


def hidden_inputs(html: str) -> dict[str, str]:
    parser = HiddenInputs()
    parser.feed(html)
    return parser.values


def authorize_query(application, *, scope: str | None, pkce: Pkce | None, state: str = "state-123") -> str:
    params = {
        "response_type": "code",
        "client_id": application.client_id,
        "redirect_uri": REDIRECT_URI,
        "state": state,
    }
    if scope is not None:
        params["scope"] = scope
    if pkce is not None:
        params["code_challenge"] = pkce.challenge
        params["code_challenge_method"] = "S256"
    return urlencode(params)


def redirect_params(location: str) -> dict[str, str]:
    assert location.startswith(REDIRECT_URI), location
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


@pytest.fixture
def oauth_user(db: None) -> User:
    user = User.objects.create_user(email=f"oauth-{uuid.uuid4().hex[:10]}@example.com", password=PASSWORD)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


@pytest.fixture
def public_application(db: None):
    return Application.objects.create(
        name="Public test client",
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=REDIRECT_URI,
        client_secret="",
    )


@dataclass
class ConfidentialClient:
    application: object
    secret: str


@pytest.fixture
def confidential_client(db: None) -> ConfidentialClient:
    secret = secrets.token_urlsafe(32)
    # DOT hashes the secret when the row is saved, so the raw value is kept here for the tests.
    application = Application.objects.create(
        name="Confidential test client",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=REDIRECT_URI,
        client_secret=secret,
    )
    return ConfidentialClient(application=application, secret=secret)


@pytest.fixture
def signed_in_browser(oauth_user: User) -> Client:
    client = Client()
    client.force_login(oauth_user)
    return client


def authorization_code(client: Client, application, *, scope: str, pkce: Pkce | None) -> str:
    """Run the consent step in the browser client and return the authorization code."""
    page = client.get(f"/o/authorize/?{authorize_query(application, scope=scope, pkce=pkce)}")
    assert page.status_code == 200, page.content
    form = hidden_inputs(page.content.decode())
    response = client.post("/o/authorize/", {**form, "allow": "Authorize"})
    assert response.status_code == 302, response.content
    params = redirect_params(response["Location"])
    assert "code" in params, params
    return params["code"]


def exchange_code(client: Client, application, code: str, pkce: Pkce | None, secret: str | None = None):
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "client_id": application.client_id,
    }
    if pkce is not None:
        data["code_verifier"] = pkce.verifier
    if secret is not None:
        data["client_secret"] = secret
    return client.post("/o/token/", data)


def refresh(client: Client, application, refresh_token: str, **extra: str):
    return client.post(
        "/o/token/",
        {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": application.client_id, **extra},
    )
