"""OAuth2 connections: the authorization code flow with PKCE, token storage and refresh.

Athena owns the state, the PKCE verifier, the storage of tokens in an Account and the refresh.
The state lives in the user's session, so a callback is only accepted in the browser session
that started the flow. Every call to a token endpoint goes through the guarded client.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from athena_site.api.errors import Conflict
from athena_site.http import OutboundRequestBlocked, guarded_session
from providers.errors import AccountNeedsReconnect, OAuthRefreshFailed
from providers.models import Account, AccountStatus, AuthStrategy, Provider
from providers.redaction import redact

logger = logging.getLogger(__name__)

SESSION_KEY = "providers_oauth_flows"
STATE_LIFETIME_SECONDS = 600
MAX_PENDING_FLOWS = 5
CALLBACK_PATH = "/api/v1/providers/oauth/callback"
# Refresh this long before the access token expires, so a request never starts with a token
# that runs out in flight.
REFRESH_MARGIN = timedelta(seconds=60)
REFRESH_LOCK_SECONDS = 30
REFRESH_WAIT_SECONDS = 15.0
REFRESH_POLL_SECONDS = 0.05

# Tests replace this seam to observe waits without sleeping.
_sleep = time.sleep


class OAuthFlowError(Exception):
    """A failed connect flow; `code` goes into the redirect as `?error=<code>`."""

    def __init__(self, code: str, detail: str = "") -> None:
        self.code = code
        self.detail = detail
        super().__init__(code)


@dataclass(frozen=True)
class PendingFlow:
    state: str
    provider_id: str
    workspace_id: str
    user_id: str
    account_name: str
    code_verifier: str | None
    redirect_uri: str
    created_at: float


def redirect_uri() -> str:
    """Return the callback URL registered with every provider, built from ATHENA_PUBLIC_URL."""
    return settings.ATHENA_PUBLIC_URL.rstrip("/") + CALLBACK_PATH


def _code_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def oauth_authorization_url(*, session: Any, provider: Provider, workspace: Any, user: Any, account_name: str) -> str:
    """Start a connect flow: remember the state and PKCE verifier in the session and return the authorize URL.

    Raises Conflict (`oauth_not_configured`) when the provider does not use OAuth2 or has no client id.
    """
    config = provider.authentication_config or {}
    if config.get("strategy") != AuthStrategy.OAUTH2:
        raise Conflict("The provider does not use OAuth2.", code="oauth_not_configured")
    if not config.get("client_id"):
        raise Conflict(
            "The provider has no OAuth2 client id yet. An administrator must register Athena with the provider "
            "and enter the client id and secret.",
            code="oauth_not_configured",
        )

    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64) if config.get("pkce", True) else None
    flow = PendingFlow(
        state=state,
        provider_id=str(provider.pk),
        workspace_id=str(workspace.pk),
        user_id=str(user.pk),
        account_name=account_name,
        code_verifier=verifier,
        redirect_uri=redirect_uri(),
        created_at=time.time(),
    )
    flows = _live_flows(session)
    flows[state] = flow.__dict__
    # Keep the newest few flows only, so abandoned attempts do not grow the session.
    newest = sorted(flows.items(), key=lambda item: item[1]["created_at"])[-MAX_PENDING_FLOWS:]
    session[SESSION_KEY] = dict(newest)

    params = {
        "response_type": "code",
        "client_id": config["client_id"],
        "redirect_uri": flow.redirect_uri,
        "state": state,
        **config.get("authorize_params", {}),
    }
    if config.get("scopes"):
        params["scope"] = " ".join(config["scopes"])
    if verifier:
        params["code_challenge"] = _code_challenge(verifier)
        params["code_challenge_method"] = "S256"
    separator = "&" if "?" in config["authorize_url"] else "?"
    return f"{config['authorize_url']}{separator}{urlencode(params)}"


def _live_flows(session: Any) -> dict[str, dict[str, Any]]:
    now = time.time()
    flows = session.get(SESSION_KEY) or {}
    return {state: flow for state, flow in flows.items() if now - flow["created_at"] < STATE_LIFETIME_SECONDS}


def _pop_flow(session: Any, state: str) -> PendingFlow:
    flows = session.get(SESSION_KEY) or {}
    raw = flows.pop(state, None) if state else None
    session[SESSION_KEY] = flows
    if raw is None:
        raise OAuthFlowError("invalid_state")
    if time.time() - raw["created_at"] >= STATE_LIFETIME_SECONDS:
        raise OAuthFlowError("expired_state")
    return PendingFlow(**raw)


def _token_request(provider: Provider, data: dict[str, str]) -> dict[str, Any]:
    """POST to the provider's token endpoint through the guarded client and return the JSON body.

    Raises OAuthFlowError with `invalid_grant`, `token_exchange_failed` or `blocked_destination`.
    """
    config = provider.authentication_config
    client_secret = provider.oauth_client_secret.reveal() if provider.oauth_client_secret else None
    data = {**data}
    auth = None
    if client_secret and config.get("token_auth_method") == "basic":
        auth = (config["client_id"], client_secret)
    else:
        data["client_id"] = config["client_id"]
        if client_secret:
            data["client_secret"] = client_secret
    known_secrets = [value for value in (client_secret, data.get("code"), data.get("refresh_token")) if value]

    try:
        with guarded_session() as session:
            response = session.post(
                config["token_url"], data=data, auth=auth, headers={"Accept": "application/json"}, allow_redirects=False
            )
            body_text = response.text
    except OutboundRequestBlocked as exc:
        raise OAuthFlowError("blocked_destination", redact(exc, known_secrets)) from None
    except requests.RequestException as exc:
        raise OAuthFlowError("token_exchange_failed", redact(exc, known_secrets)) from None

    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    if response.status_code >= 400 or "access_token" not in body:
        error = str(body.get("error", ""))
        detail = redact(f"HTTP {response.status_code}: {body_text}", known_secrets)
        logger.warning(
            "OAuth2 token endpoint rejected the request",
            extra={"provider": provider.key, "status": response.status_code, "oauth_error": error[:64]},
        )
        raise OAuthFlowError("invalid_grant" if error == "invalid_grant" else "token_exchange_failed", detail)
    return body


def _credentials_from_token(body: dict[str, Any], previous: dict[str, Any] | None = None) -> dict[str, Any]:
    previous = previous or {}
    credentials: dict[str, Any] = {"access_token": str(body["access_token"])}
    # Providers that do not rotate refresh tokens omit them from refresh responses.
    refresh_token = body.get("refresh_token") or previous.get("refresh_token")
    if refresh_token:
        credentials["refresh_token"] = str(refresh_token)
    expires_in = body.get("expires_in")
    if isinstance(expires_in, int | float) or (isinstance(expires_in, str) and expires_in.isdigit()):
        credentials["expires_at"] = int(time.time() + float(expires_in))
    scope = body.get("scope")
    if isinstance(scope, str):
        credentials["scopes"] = [item for item in scope.replace(",", " ").split() if item]
    elif previous.get("scopes"):
        credentials["scopes"] = previous["scopes"]
    if body.get("token_type"):
        credentials["token_type"] = str(body["token_type"])
    return credentials


def oauth_complete(*, session: Any, user: Any, state: str, code: str | None, error: str | None) -> Account:
    """Finish a connect flow: check the state, exchange the code and store the tokens in a new Account.

    Raises OAuthFlowError with the code for the redirect; nothing is stored on error.
    """
    from providers import selectors, services

    flow = _pop_flow(session, state)
    if str(user.pk) != flow.user_id:
        raise OAuthFlowError("invalid_state")
    if error:
        raise OAuthFlowError("access_denied" if error == "access_denied" else "authorization_failed")
    if not code:
        raise OAuthFlowError("missing_code")
    provider = selectors.provider_find(provider_id=flow.provider_id)
    if provider is None:
        raise OAuthFlowError("provider_not_found")

    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": flow.redirect_uri}
    if flow.code_verifier:
        data["code_verifier"] = flow.code_verifier
    body = _token_request(provider, data)

    account = services.account_create_connected(
        workspace_id=uuid.UUID(flow.workspace_id),
        provider=provider,
        user=user,
        name=flow.account_name,
        credentials=_credentials_from_token(body),
    )
    logger.info("Connected OAuth2 account", extra={"provider": provider.key, "account_id": str(account.pk)})
    return account


def _needs_refresh(account: Account) -> bool:
    expires_at = account.token_expires_at
    return expires_at is not None and expires_at - REFRESH_MARGIN <= timezone.now()


def account_ensure_fresh_token(*, account: Account) -> Account:
    """Return the account with an access token that is not about to expire, refreshing it when needed.

    Only one refresh runs per account at a time: the first caller takes a short lock in the
    cache (Redis in production), and others wait for it and re-read the stored token.
    NOTE: without REDIS_URL the cache is per process, so the lock then holds within one process only.
    Raises AccountNeedsReconnect when the provider returns `invalid_grant` (the account is
    then marked `expired`) and OAuthRefreshFailed for other failures.
    """
    if account.status == AccountStatus.EXPIRED:
        raise AccountNeedsReconnect()
    if not _needs_refresh(account):
        return account

    lock_key = f"providers:oauth-refresh:{account.pk}"
    owner = secrets.token_hex(8)
    deadline = time.monotonic() + REFRESH_WAIT_SECONDS
    while not cache.add(lock_key, owner, timeout=REFRESH_LOCK_SECONDS):
        # Another process or thread is refreshing this account: wait, then use its result.
        if time.monotonic() > deadline:
            raise OAuthRefreshFailed("Another refresh of this account did not finish in time. Try again.")
        _sleep(REFRESH_POLL_SECONDS)
        account.refresh_from_db()
        if account.status == AccountStatus.EXPIRED:
            raise AccountNeedsReconnect()
        if not _needs_refresh(account):
            return account

    try:
        account.refresh_from_db()
        if not _needs_refresh(account):
            return account
        return _refresh(account)
    finally:
        if cache.get(lock_key) == owner:
            cache.delete(lock_key)


def _refresh(account: Account) -> Account:
    from providers import services

    previous = account.credentials.reveal() if account.credentials else {}
    refresh_token = previous.get("refresh_token")
    if not refresh_token:
        services.account_mark_failed(
            account=account,
            status=AccountStatus.EXPIRED,
            error="The access token expired and there is no refresh token.",
        )
        raise AccountNeedsReconnect()

    provider = account.provider
    try:
        body = _token_request(provider, {"grant_type": "refresh_token", "refresh_token": refresh_token})
    except OAuthFlowError as exc:
        if exc.code == "invalid_grant":
            services.account_mark_failed(
                account=account, status=AccountStatus.EXPIRED, error="The provider rejected the refresh token."
            )
            logger.warning(
                "OAuth2 refresh token rejected", extra={"provider": provider.key, "account_id": str(account.pk)}
            )
            raise AccountNeedsReconnect() from None
        services.account_mark_failed(account=account, status=account.status, error=exc.detail or exc.code)
        raise OAuthRefreshFailed() from None

    with transaction.atomic():
        services.account_store_tokens(account=account, credentials=_credentials_from_token(body, previous))
    logger.info("Refreshed OAuth2 access token", extra={"provider": provider.key, "account_id": str(account.pk)})
    return account
