"""Admin registrations of the providers app. Credentials and client secrets are never shown or editable here."""

from django.contrib import admin
from django.db import models

from providers.models import Account, LargeLanguageModel, Provider


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    """Staff edit the built-in providers here, such as a GitHub or Google OAuth2 client id."""

    list_display = ["name", "key", "kind", "workspace", "created_at"]
    list_filter = ["kind", ("workspace", admin.EmptyFieldListFilter)]
    search_fields = ["name", "key"]
    raw_id_fields = ["workspace", "created_by"]
    readonly_fields = ["client_secret_set", "created_at", "updated_at"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.display(boolean=True, description="OAuth2 client secret stored")
    def client_secret_set(self, provider: Provider) -> bool:
        return bool(provider.oauth_client_secret)


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["name", "provider", "workspace", "status", "credentials_hint", "last_used_at"]
    list_filter = ["status", "provider"]
    search_fields = ["name"]
    raw_id_fields = ["workspace", "provider", "created_by"]
    # `credentials` is not editable, so it never reaches the form; these only display.
    readonly_fields = ["credentials_hint", "token_expires_at", "last_used_at", "last_error", "created_at", "updated_at"]


@admin.register(LargeLanguageModel)
class LargeLanguageModelAdmin(admin.ModelAdmin):
    list_display = ["display_name", "model", "provider", "workspace", "active"]
    list_filter = ["active", "provider"]
    search_fields = ["model", "display_name"]
    raw_id_fields = ["provider", "workspace"]
