"""DRF authentication classes, tried in order: session, Multiplai token, bearer token.

Each follows DRF's contract: return None when the request carries no credentials of its kind,
raise when it does and they are bad. The Multiplai class is the documented exception: an
invalid token, or Multiplai being unreachable, falls through to the bearer token step.
"""

import logging
from typing import Any

from oauth2_provider.oauth2_backends import get_oauthlib_core
from rest_framework import authentication, exceptions

from accounts_auth import lockout, multiplai, selectors, services, tokens
from athena_site.api.auth import AuthContext
from athena_site.api.exceptions import WWW_AUTHENTICATE
from athena_site.client_ip import client_ip

logger = logging.getLogger(__name__)

MULTIPLAI_HEADER = "HTTP_X_MULTIPLAI_AUTHORIZATION"
# Set on the Django request when Multiplai could not be reached, so the exception handler returns
# 503 instead of 401 when no later step authenticates the request.
UPSTREAM_AUTH_ERROR_ATTRIBUTE = "upstream_auth_error"


def _throttle_bad_tokens(request: Any) -> None:
    try:
        lockout.bad_token_check(ip=client_ip(request))
    except lockout.LoginLocked as exc:
        raise exceptions.Throttled(wait=exc.retry_after, detail="Too many invalid tokens from this address.") from None


class SessionAuthentication(authentication.SessionAuthentication):
    """Browser sessions from allauth login, with CSRF enforced for unsafe methods."""

    def authenticate(self, request: Any) -> tuple[Any, AuthContext] | None:
        result = super().authenticate(request)
        if result is None:
            return None
        return result[0], AuthContext(method="session")

    def authenticate_header(self, request: Any) -> str:
        return WWW_AUTHENTICATE


class MultiplaiAuthentication(authentication.BaseAuthentication):
    """`X-Multiplai-Authorization: Bearer <token>`, validated with Multiplai's user endpoint."""

    def authenticate(self, request: Any) -> tuple[Any, AuthContext] | None:
        header = request.META.get(MULTIPLAI_HEADER)
        if not header:
            return None
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        ip = client_ip(request)
        if scheme.lower() != "bearer" or not token or len(token) > 4096:
            lockout.bad_token_record(ip=ip)
            return None
        _throttle_bad_tokens(request)

        try:
            identity, fresh = multiplai.multiplai_identity_fetch(token=token)
        except multiplai.MultiplaiUnavailable:
            setattr(request._request, UPSTREAM_AUTH_ERROR_ATTRIBUTE, "multiplai_unavailable")
            return None
        except multiplai.MultiplaiInvalidToken:
            lockout.bad_token_record(ip=ip)
            services.auth_event_record(event="sign_in_failed", method="multiplai", outcome="failure", request=request)
            return None

        # A fresh validation syncs the user and their organizations. Within the cache period the
        # synced user is reused, so ordinary API calls cost no writes.
        user = None if fresh else selectors.user_get_by_multiplai_id(multiplai_id=identity.id)
        if user is None:
            user = multiplai.multiplai_user_sync(identity=identity)
            services.multiplai_user_signed_in(user=user, request=request)
        if not user.is_active:
            raise exceptions.AuthenticationFailed("This account is disabled.")
        return user, AuthContext(method="multiplai")

    def authenticate_header(self, request: Any) -> str:
        return WWW_AUTHENTICATE


class TokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <token>`: a personal access token or an Athena OAuth2 access token."""

    def authenticate(self, request: Any) -> tuple[Any, AuthContext] | None:
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != b"bearer":
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid Authorization header: use 'Bearer <token>'.")
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid Authorization header: the token must be ASCII.") from None
        _throttle_bad_tokens(request)

        if raw.startswith(tokens.PREFIX):
            return self._personal_access_token(request, raw)
        return self._oauth2_token(request)

    def _reject(self, request: Any) -> None:
        lockout.bad_token_record(ip=client_ip(request))
        raise exceptions.AuthenticationFailed("Invalid or expired token.")

    def _personal_access_token(self, request: Any, raw: str) -> tuple[Any, AuthContext]:
        token = selectors.personal_access_token_get_by_secret(raw=raw)
        if token is None:
            self._reject(request)
        services.personal_access_token_touch(token=token)
        return token.user, AuthContext(method="token", abilities=frozenset(token.abilities), token=token)

    def _oauth2_token(self, request: Any) -> tuple[Any, AuthContext]:
        valid, oauth_request = get_oauthlib_core().verify_request(request, scopes=[])
        access_token = getattr(oauth_request, "access_token", None)
        if not valid or access_token is None or not access_token.user or not access_token.user.is_active:
            self._reject(request)
        abilities = frozenset(access_token.scope.split())
        return access_token.user, AuthContext(method="oauth2", abilities=abilities, token=access_token)

    def authenticate_header(self, request: Any) -> str:
        return WWW_AUTHENTICATE
