"""Read-only admin pages for the OAuth2 credentials django-oauth-toolkit issues.

DOT's own registrations are replaced so that no admin page, list or search ever shows a token
or authorization code: those fields are excluded and only a short hint identifies a row.
Tokens are issued by the OAuth2 flows, never typed in, so the pages are read-only, and the
only change offered is DOT's revocation.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import ngettext
from oauth2_provider.models import (
    get_access_token_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
    revoke_access_token,
)

AccessToken = get_access_token_model()
RefreshToken = get_refresh_token_model()
Grant = get_grant_model()
IDToken = get_id_token_model()

# The secret columns of each model. The checksum is a SHA-256 of the token, which is not the
# token, but it is the lookup key DOT uses, so it is not shown either.
SECRET_FIELDS = ("token", "token_checksum", "code")
HINT_LENGTH = 4
# Values shorter than this show no characters at all, so a hint never reveals most of a value.
HINT_MIN_LENGTH = 16


def credential_hint(value: str | None) -> str:
    """Return the last few characters of a token or code, enough to tell rows apart."""
    if not value:
        return "(not stored)"
    if len(value) < HINT_MIN_LENGTH:
        return "…"
    return f"…{value[-HINT_LENGTH:]}"


class ReadOnlyCredentialAdmin(admin.ModelAdmin):
    """An admin that lists and shows credentials without their secret fields and never edits them."""

    # Search by names and ids only: a token typed into the search box would land in access logs.
    search_fields = ("application__name", "application__client_id", "user__email")
    list_filter = ("application",)
    list_select_related = ("application", "user")
    has_hint = True

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        names = [field.name for field in self.model._meta.concrete_fields if field.name not in SECRET_FIELDS]
        return [*names, "hint"] if self.has_hint else names

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return self.get_fields(request, obj)

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return SECRET_FIELDS

    @admin.display(description="hint")
    def hint(self, obj: Any) -> str:
        return credential_hint(getattr(obj, "token", None) or getattr(obj, "code", None))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Deleting a row would skip DOT's revocation, which keeps a revoked refresh token as a
        # marker so that a replay of it is still detected.
        return False


class AccessTokenAdmin(ReadOnlyCredentialAdmin):
    list_display = ("pk", "hint", "user", "application", "scope", "expires", "created")
    actions = ("revoke_tokens",)

    @admin.action(description="Revoke selected access tokens", permissions=["view"])
    def revoke_tokens(self, request: HttpRequest, queryset: Any) -> None:
        count = 0
        for token in queryset:
            revoke_access_token(token)
            count += 1
        self.message_user(request, ngettext("Revoked %d access token.", "Revoked %d access tokens.", count) % count)


class RefreshTokenAdmin(ReadOnlyCredentialAdmin):
    list_display = ("pk", "hint", "user", "application", "revoked", "created")
    list_filter = ("application", "revoked")
    actions = ("revoke_tokens",)

    @admin.action(description="Revoke selected refresh tokens", permissions=["view"])
    def revoke_tokens(self, request: HttpRequest, queryset: Any) -> None:
        count = 0
        for token in queryset:
            # Revokes the paired access token too; a no-op on a token already revoked.
            token.revoke()
            count += 1
        self.message_user(request, ngettext("Revoked %d refresh token.", "Revoked %d refresh tokens.", count) % count)


class GrantAdmin(ReadOnlyCredentialAdmin):
    list_display = ("pk", "hint", "user", "application", "expires", "created")


class IDTokenAdmin(ReadOnlyCredentialAdmin):
    # An ID token row stores its `jti` identifier, not the signed token.
    has_hint = False
    list_display = ("jti", "user", "application", "expires", "created")


for model, model_admin in (
    (AccessToken, AccessTokenAdmin),
    (RefreshToken, RefreshTokenAdmin),
    (Grant, GrantAdmin),
    (IDToken, IDTokenAdmin),
):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
