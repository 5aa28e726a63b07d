"""Providers (external service definitions), accounts (encrypted credentials) and the LLM catalogue."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from athena_site.crypto import EncryptedJSONField

KEY_PATTERN = r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$"


class ProviderKind(models.TextChoices):
    LLM = "llm", "Large language model vendor"
    SERVICE = "service", "Service API"


class LLMProtocol(models.TextChoices):
    """The wire protocol of an LLM provider, which picks the gateway adapter."""

    OPENAI = "openai", "OpenAI Chat Completions"
    ANTHROPIC = "anthropic", "Anthropic Messages"


class AuthStrategy(models.TextChoices):
    NONE = "none", "None"
    API_KEY = "api_key", "API key"
    BEARER = "bearer", "Bearer token"
    BASIC = "basic", "Basic authentication"
    OAUTH2 = "oauth2", "OAuth 2.0"


class AccountStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"
    ERROR = "error", "Error"


class Capability(models.TextChoices):
    TOOLS = "tools", "Tool calls"
    VISION = "vision", "Image input"
    JSON_OUTPUT = "json_output", "JSON output"
    STREAMING = "streaming", "Streaming"
    EMBEDDINGS = "embeddings", "Embeddings"


class Provider(models.Model):
    """An external service: global (the built-in catalogue) when `workspace` is null, else workspace-owned."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, null=True, blank=True, related_name="providers"
    )
    key = models.CharField(max_length=64)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=ProviderKind.choices, default=ProviderKind.SERVICE)
    # Blank for service providers; picks the gateway adapter for LLM providers.
    llm_protocol = models.CharField(max_length=16, choices=LLMProtocol.choices, blank=True)
    base_url = models.URLField(max_length=500, blank=True)
    docs_url = models.URLField(max_length=500, blank=True)
    icon = models.CharField(max_length=500, blank=True)
    # Path below base_url that a cheap authenticated GET can reach to test an account.
    test_path = models.CharField(max_length=500, blank=True)
    # Strategy, placement and OAuth2 endpoints; never a secret (see oauth_client_secret).
    authentication_config = models.JSONField(default=dict, blank=True)
    oauth_client_secret = EncryptedJSONField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=Q(workspace__isnull=True), name="providers_provider_global_key"
            ),
            models.UniqueConstraint(
                fields=["workspace", "key"],
                condition=Q(workspace__isnull=False),
                name="providers_provider_workspace_key",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_global(self) -> bool:
        return self.workspace_id is None

    @property
    def strategy(self) -> str:
        return (self.authentication_config or {}).get("strategy", AuthStrategy.NONE)


class Account(models.Model):
    """One connected credential set for a provider in a workspace; the credentials are never returned."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="provider_accounts")
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="accounts")
    name = models.CharField(max_length=120)
    # api_key, token, username/password, or access_token/refresh_token/expires_at/scopes.
    credentials = EncryptedJSONField(null=True, blank=True)
    # The last 4 characters of the main secret, kept apart so lists need no decryption.
    credentials_hint = models.CharField(max_length=8, blank=True, editable=False)
    status = models.CharField(max_length=16, choices=AccountStatus.choices, default=AccountStatus.ACTIVE)
    # Copy of the OAuth2 access token expiry, so the refresh check needs no decryption.
    token_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Redacted before it is stored: never contains a credential.
    last_error = models.CharField(max_length=1000, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["workspace", "provider"], name="providers_account_ws_provider")]

    def __str__(self) -> str:
        return self.name


class LargeLanguageModel(models.Model):
    """A model of an LLM provider: a catalogue row when `workspace` is null, else defined by a workspace."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="models")
    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, null=True, blank=True, related_name="llms"
    )
    # The vendor's model string, such as "gpt-4o-mini".
    model = models.CharField(max_length=200)
    display_name = models.CharField(max_length=200)
    context_window = models.PositiveIntegerField(null=True, blank=True)
    max_output_tokens = models.PositiveIntegerField(null=True, blank=True)
    # US dollars per million tokens, as the vendor publishes them.
    input_price_per_million = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    output_price_per_million = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    capabilities = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["display_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "model"], condition=Q(workspace__isnull=True), name="providers_llm_catalogue_model"
            ),
            models.UniqueConstraint(
                fields=["provider", "workspace", "model"],
                condition=Q(workspace__isnull=False),
                name="providers_llm_workspace_model",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    def has_capability(self, capability: str) -> bool:
        return capability in (self.capabilities or [])
