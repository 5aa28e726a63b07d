"""Authenticated, guarded `requests` sessions for an account.

`account_session(account=...)` returns a session built on `athena_site.http.guarded_session`.
It applies the provider's strategy: an API key or bearer token in a header, the query string or
the body, basic authentication, or an OAuth2 bearer token refreshed before expiry. It retries
idempotent methods on 429, 502, 503 and 504 with capped exponential backoff that honours
`Retry-After`.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests
from django.utils import timezone
from requests.auth import AuthBase, HTTPBasicAuth

from athena_site.http import guarded_session
from providers.models import Account, AuthStrategy

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
DEFAULT_MAX_RETRIES = 3
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 30.0

# Tests replace this seam to observe waits without sleeping.
_sleep: Callable[[float], None] = time.sleep


def retry_after_seconds(value: str | None) -> float | None:
    """Parse a Retry-After header (seconds or an HTTP date) into seconds, or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, (moment - timezone.now()).total_seconds())


def backoff_seconds(attempt: int, retry_after: float | None, *, cap: float = BACKOFF_CAP_SECONDS) -> float:
    """Return the wait before retry `attempt` (1-based): Retry-After when given, else jittered exponential, capped."""
    if retry_after is not None:
        return min(retry_after, cap)
    exponential = BACKOFF_BASE_SECONDS * (2 ** (attempt - 1))
    return min(cap, exponential * (0.5 + random.random() / 2))


class PlacedCredentialAuth(AuthBase):
    """Put a key or token in a header, the query string or the body, with an optional prefix."""

    def __init__(self, *, placement: str, name: str, value: str) -> None:
        self.placement = placement
        self.name = name
        self.value = value

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if self.placement == "header":
            request.headers[self.name] = self.value
        elif self.placement == "query":
            request.prepare_url(request.url, {self.name: self.value})
        else:
            _add_to_body(request, self.name, self.value)
        return request


def _add_to_body(request: requests.PreparedRequest, name: str, value: str) -> None:
    """Add a field to a JSON or form body; a request without a body gets a JSON one."""
    content_type = request.headers.get("Content-Type", "")
    body = request.body
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    if "application/x-www-form-urlencoded" in content_type:
        fields = [(key, item) for key, item in parse_qsl(body or "", keep_blank_values=True) if key != name]
        fields.append((name, value))
        request.prepare_body(urlencode(fields), None)
        request.headers["Content-Type"] = "application/x-www-form-urlencoded"
        return
    if body and "json" not in content_type:
        raise ValueError("The account places its credential in the body, which needs a JSON or form body.")
    payload = json.loads(body) if body else {}
    if not isinstance(payload, dict):
        raise ValueError("The account places its credential in the body, which needs a JSON object body.")
    payload[name] = value
    request.prepare_body(None, None, json=payload)


class AccountSession(requests.Session):
    """A guarded session that authenticates every request as one account and retries transient failures."""

    def __init__(self, *, account: Account, max_retries: int = DEFAULT_MAX_RETRIES, timeout: float | None = None):
        super().__init__()
        base = guarded_session(timeout=timeout)
        # Reuse the guarded adapters and settings, so every request and redirect is checked.
        self.adapters = base.adapters
        self.trust_env = base.trust_env
        self.account = account
        self.max_retries = max_retries
        self._credential_header: str | None = None
        self._credential_param: str | None = None

    def _authentication(self) -> AuthBase | None:
        from providers import oauth

        account = self.account
        config = account.provider.authentication_config or {}
        strategy = config.get("strategy", AuthStrategy.NONE)
        if strategy == AuthStrategy.OAUTH2:
            account = oauth.account_ensure_fresh_token(account=account)
            self.account = account
        credentials = account.credentials.reveal() if account.credentials else {}

        if strategy == AuthStrategy.BASIC:
            return HTTPBasicAuth(credentials.get("username", ""), credentials.get("password", ""))
        if strategy == AuthStrategy.OAUTH2:
            self._credential_header = "Authorization"
            return PlacedCredentialAuth(
                placement="header", name="Authorization", value=f"Bearer {credentials.get('access_token', '')}"
            )
        if strategy in (AuthStrategy.API_KEY, AuthStrategy.BEARER):
            secret = credentials.get("api_key" if strategy == AuthStrategy.API_KEY else "token", "")
            placement = config.get("placement", "header")
            if placement == "header":
                self._credential_header = config["name"]
            elif placement == "query":
                self._credential_param = config["name"]
            return PlacedCredentialAuth(
                placement=placement, name=config["name"], value=f"{config.get('prefix', '')}{secret}"
            )
        return None

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        """Send an authenticated request, retrying idempotent methods on 429, 502, 503 and 504."""
        if kwargs.get("auth") is None:
            kwargs["auth"] = self._authentication()
        retries = self.max_retries if method.upper() in IDEMPOTENT_METHODS else 0
        attempt = 0
        while True:
            response = super().request(method, url, *args, **kwargs)
            if response.status_code not in RETRY_STATUSES or attempt >= retries:
                return response
            attempt += 1
            wait = backoff_seconds(attempt, retry_after_seconds(response.headers.get("Retry-After")))
            logger.warning(
                "Retrying provider request after status %s",
                response.status_code,
                extra={"provider": self.account.provider.key, "attempt": attempt, "wait_seconds": round(wait, 2)},
            )
            response.close()
            _sleep(wait)

    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: requests.Response) -> None:
        """Drop the account's header or query credential on a redirect to another host.

        NOTE: a credential placed in the body still follows a 307 or 308 redirect, which resends
        the body. Only requests to hosts that redirect with those statuses are exposed.
        """
        original_url = response.request.url or ""
        if self.should_strip_auth(original_url, prepared_request.url or ""):
            if self._credential_header:
                prepared_request.headers.pop(self._credential_header, None)
            if self._credential_param:
                parts = urlsplit(prepared_request.url or "")
                query = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True)]
                kept = [(key, value) for key, value in query if key != self._credential_param]
                prepared_request.url = parts._replace(query=urlencode(kept)).geturl()
        super().rebuild_auth(prepared_request, response)


def account_session(
    *, account: Account, max_retries: int = DEFAULT_MAX_RETRIES, timeout: float | None = None
) -> AccountSession:
    """Build a guarded requests session that authenticates as `account`.

    Requests to any URL carry the credential; build URLs from the provider's `base_url`.
    An OAuth2 account's access token is refreshed first when it is about to expire, which
    may raise AccountNeedsReconnect or OAuthRefreshFailed.
    """
    return AccountSession(account=account, max_retries=max_retries, timeout=timeout)


def provider_url(account: Account, path: str) -> str:
    """Join the provider's base URL and a path."""
    base = account.provider.base_url.rstrip("/")
    if not path:
        return base
    return f"{base}/{path.lstrip('/')}"


def account_request_credentials(*, account: Account, url: str) -> tuple[str, dict[str, str]]:
    """Return `url` and the headers that authenticate a request to it as `account`.

    For clients other than `requests`, such as the httpx2 client of the MCP SDK: the provider's
    strategy is applied as `account_session` applies it, and a query-string credential is added
    to the returned URL. Raises ValueError when the provider places its credential in the body.
    An OAuth2 access token is refreshed first when it is about to expire, which may raise
    AccountNeedsReconnect or OAuthRefreshFailed.
    """
    with AccountSession(account=account) as session:
        auth = session._authentication()
    if isinstance(auth, PlacedCredentialAuth) and auth.placement == "body":
        raise ValueError("The account places its credential in the body, which this client cannot send.")
    prepared = requests.Request("GET", url).prepare()
    if auth is not None:
        prepared = auth(prepared)
    return prepared.url or url, dict(prepared.headers)
