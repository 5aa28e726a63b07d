"""Athena as an OAuth2 authorization server: scopes are token abilities, PKCE is per client type."""

import logging
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError
from django.utils.module_loading import import_string
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import BaseScopes
from oauth2_provider.settings import oauth2_settings
from oauthlib.oauth2.rfc6749 import errors as oauth2_errors

from athena_site.api.abilities import ABILITY_GROUPS, WILDCARD, all_abilities

logger = logging.getLogger(__name__)


def pkce_required(client_id: str) -> bool:
    """Require PKCE for public clients, which cannot keep a client secret."""
    from oauth2_provider.models import get_application_model

    application_model = get_application_model()
    return application_model.objects.filter(client_id=client_id, client_type=application_model.CLIENT_PUBLIC).exists()


def _pkce_policy() -> bool | Callable[[str], bool]:
    # DOT calls PKCE_REQUIRED when it is callable but does not import dotted paths for it, and
    # settings cannot import this module (it imports DOT, which reads settings at import time).
    # So a dotted path is resolved here.
    policy = oauth2_settings.PKCE_REQUIRED
    if isinstance(policy, str):
        return import_string(policy)
    return policy


class AthenaOAuth2Validator(OAuth2Validator):
    """DOT's validator with two changes.

    `PKCE_REQUIRED` may be a dotted path to a per-client policy. A refresh that loses a race
    against a concurrent refresh of the same token gets `invalid_grant` instead of a server error.
    """

    def is_pkce_required(self, client_id: str, request: Any) -> bool:
        # oauthlib requires PKCE only when this returns exactly True.
        policy = _pkce_policy()
        if callable(policy):
            return bool(policy(client_id))
        return bool(policy)

    def save_bearer_token(self, token: dict[str, Any], request: Any, *args: Any, **kwargs: Any) -> Any:
        """Save the tokens, or raise `invalid_grant` when a concurrent refresh already rotated them.

        DOT locks the refresh token row while rotating it, but SQLite ignores
        `select_for_update`, so two requests refreshing one token can both try to create the
        successor access token and one hits the unique constraint on `source_refresh_token`.
        """
        try:
            return super().save_bearer_token(token, request, *args, **kwargs)
        except IntegrityError:
            if request.grant_type != "refresh_token":
                raise
            logger.warning(
                "Refresh token already rotated by a concurrent request",
                extra={"client_id": getattr(request.client, "client_id", "")},
            )
            raise oauth2_errors.InvalidGrantError(
                description="The refresh token was already used by a concurrent request.", request=request
            ) from None


class AbilityScopes(BaseScopes):
    """Offer every ability, and each group's wildcard, as an OAuth2 scope.

    A token's scopes become its abilities, so a scope outside this list is rejected with
    `invalid_scope` by DOT. Object abilities (`agents:run:<uuid>`) are not offered as scopes.
    """

    def get_all_scopes(self) -> dict[str, str]:
        scopes = {WILDCARD: "Full access to everything your account can do"}
        for group in ABILITY_GROUPS:
            scopes[f"{group}:{WILDCARD}"] = f"Full access to {group}"
        for ability in all_abilities():
            group, action = ability.split(":")
            scopes[ability] = f"{action.capitalize()} {group}"
        return scopes

    def get_available_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        return list(self.get_all_scopes())

    def get_default_scopes(self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any) -> list[str]:
        return [f"{group}:read" for group, actions in ABILITY_GROUPS.items() if "read" in actions]
