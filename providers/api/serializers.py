"""Serializers of the providers API. Credentials and client secrets are write-only everywhere."""

import json
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from providers.authentication import MAX_SECRET_LENGTH, PLACEMENTS, TOKEN_AUTH_METHODS
from providers.models import (
    KEY_PATTERN,
    Account,
    AuthStrategy,
    Capability,
    LargeLanguageModel,
    LLMProtocol,
    Provider,
    ProviderKind,
)

MAX_CONFIG_BYTES = 16 * 1024
MAX_CREDENTIALS_BYTES = 32 * 1024


def _check_json_size(value: Any, limit: int) -> Any:
    if len(json.dumps(value)) > limit:
        raise serializers.ValidationError(f"Ensure this value is at most {limit} bytes of JSON.")
    return value


class AuthenticationConfigSerializer(serializers.Serializer):
    """The authentication settings of a provider. Only the fields of the chosen strategy apply."""

    strategy = serializers.ChoiceField(choices=AuthStrategy.choices)
    placement = serializers.ChoiceField(
        choices=PLACEMENTS, required=False, help_text="api_key and bearer: where the key or token goes."
    )
    name = serializers.CharField(
        required=False, max_length=128, help_text="api_key and bearer: the header or parameter name."
    )
    prefix = serializers.CharField(
        required=False, allow_blank=True, max_length=32, help_text="api_key and bearer: text put before the value."
    )
    authorize_url = serializers.URLField(required=False, help_text="oauth2: the authorization endpoint.")
    token_url = serializers.URLField(required=False, help_text="oauth2: the token endpoint.")
    scopes = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="oauth2: scopes to request."
    )
    client_id = serializers.CharField(required=False, help_text="oauth2: the client id registered with the provider.")
    client_secret = serializers.CharField(
        required=False, write_only=True, help_text="oauth2: the client secret; stored encrypted and never returned."
    )
    # Not read-only, because read-only fields are documented as always present, and this one is
    # present only for oauth2. Input ignores it.
    client_secret_set = serializers.BooleanField(
        required=False, help_text="oauth2, in responses only: whether a client secret is stored."
    )
    pkce = serializers.BooleanField(required=False, default=True, help_text="oauth2: use PKCE (S256).")
    authorize_params = serializers.DictField(
        child=serializers.CharField(), required=False, help_text="oauth2: extra parameters of the authorize URL."
    )
    token_auth_method = serializers.ChoiceField(
        choices=TOKEN_AUTH_METHODS,
        required=False,
        help_text="oauth2: send the client credentials in the token request body or as basic authentication.",
    )

    class Meta:
        ref_name = "AuthenticationConfig"


class ProviderSerializer(serializers.ModelSerializer):
    workspace_id = serializers.UUIDField(read_only=True, allow_null=True, help_text="Null for built-in providers.")
    is_global = serializers.BooleanField(read_only=True, help_text="Built-in providers are read-only.")
    authentication_config = serializers.SerializerMethodField()
    # Plain strings: both may be blank, which a `uri` format would not allow.
    base_url = serializers.CharField(read_only=True, help_text="Empty when the provider has no base URL.")
    docs_url = serializers.CharField(read_only=True, help_text="Empty when not set.")
    llm_protocol = serializers.ChoiceField(
        choices=[("", "None"), *LLMProtocol.choices],
        read_only=True,
        help_text="The gateway adapter of an LLM provider; empty for service providers.",
    )

    class Meta:
        model = Provider
        ref_name = "Provider"
        fields = [
            "id",
            "workspace_id",
            "is_global",
            "key",
            "name",
            "kind",
            "llm_protocol",
            "base_url",
            "docs_url",
            "icon",
            "test_path",
            "authentication_config",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(AuthenticationConfigSerializer)
    def get_authentication_config(self, provider: Provider) -> dict[str, Any]:
        config = dict(provider.authentication_config or {})
        config.pop("client_secret", None)
        if config.get("strategy") == AuthStrategy.OAUTH2:
            config["client_secret_set"] = bool(provider.oauth_client_secret)
        return config


@extend_schema_field(AuthenticationConfigSerializer)
class AuthenticationConfigField(serializers.JSONField):
    """Free-form on input so that the per-strategy validation can name the exact missing field."""

    def to_internal_value(self, data: Any) -> Any:
        return _check_json_size(super().to_internal_value(data), MAX_CONFIG_BYTES)


class ProviderWriteSerializer(serializers.Serializer):
    key = serializers.RegexField(KEY_PATTERN, max_length=64, help_text="Lowercase letters, digits, - and _.")
    name = serializers.CharField(max_length=120)
    kind = serializers.ChoiceField(choices=ProviderKind.choices, default=ProviderKind.SERVICE)
    llm_protocol = serializers.ChoiceField(
        choices=LLMProtocol.choices, required=False, allow_blank=True, help_text="LLM providers: the API they speak."
    )
    base_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    docs_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    icon = serializers.CharField(max_length=500, required=False, allow_blank=True)
    test_path = serializers.CharField(max_length=500, required=False, allow_blank=True)
    authentication_config = AuthenticationConfigField(required=False)

    class Meta:
        ref_name = "ProviderWrite"


class CredentialsSerializer(serializers.Serializer):
    """The secret fields of the provider's strategy. Write-only: responses show `credentials_hint`."""

    api_key = serializers.CharField(required=False, help_text="api_key strategy.")
    token = serializers.CharField(required=False, help_text="bearer strategy.")
    username = serializers.CharField(required=False, help_text="basic strategy.")
    password = serializers.CharField(required=False, help_text="basic strategy.")
    access_token = serializers.CharField(required=False, help_text="oauth2 strategy, usually stored by connecting.")
    refresh_token = serializers.CharField(required=False, help_text="oauth2 strategy.")
    expires_at = serializers.IntegerField(required=False, help_text="oauth2: access token expiry, Unix seconds.")

    class Meta:
        ref_name = "AccountCredentials"


@extend_schema_field(CredentialsSerializer)
class CredentialsField(serializers.JSONField):
    def to_internal_value(self, data: Any) -> Any:
        value = _check_json_size(super().to_internal_value(data), MAX_CREDENTIALS_BYTES)
        if isinstance(value, dict) and any(
            isinstance(item, str) and len(item) > MAX_SECRET_LENGTH for item in value.values()
        ):
            raise serializers.ValidationError(f"Each credential may have at most {MAX_SECRET_LENGTH} characters.")
        return value


class AccountSerializer(serializers.ModelSerializer):
    workspace_id = serializers.UUIDField(read_only=True)
    provider_id = serializers.UUIDField(read_only=True)
    provider_key = serializers.CharField(source="provider.key", read_only=True)
    created_by = serializers.UUIDField(source="created_by_id", read_only=True, allow_null=True)
    credentials_hint = serializers.CharField(
        read_only=True, help_text="Last 4 characters of the main secret; empty for short or no secrets."
    )

    class Meta:
        model = Account
        ref_name = "Account"
        fields = [
            "id",
            "workspace_id",
            "provider_id",
            "provider_key",
            "name",
            "credentials_hint",
            "status",
            "token_expires_at",
            "last_used_at",
            "last_error",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class AccountCreateSerializer(serializers.Serializer):
    provider_id = serializers.UUIDField()
    name = serializers.CharField(max_length=120)
    credentials = CredentialsField(required=False)

    class Meta:
        ref_name = "AccountCreate"


class AccountUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    credentials = CredentialsField(required=False, help_text="Omit to keep the stored credentials.")

    class Meta:
        ref_name = "AccountUpdate"


class AccountTestResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    status_code = serializers.IntegerField(allow_null=True, help_text="The provider's HTTP status, when it answered.")
    code = serializers.CharField(allow_null=True, help_text="Error code when the test failed.")
    message = serializers.CharField(help_text="Outcome; upstream errors are redacted.")
    account = AccountSerializer()

    class Meta:
        ref_name = "AccountTestResult"


class LargeLanguageModelSerializer(serializers.ModelSerializer):
    provider_id = serializers.UUIDField(read_only=True)
    workspace_id = serializers.UUIDField(read_only=True, allow_null=True, help_text="Null for catalogue models.")
    is_catalogue = serializers.SerializerMethodField()
    input_price_per_million = serializers.DecimalField(
        max_digits=12, decimal_places=6, coerce_to_string=False, allow_null=True, read_only=True
    )
    output_price_per_million = serializers.DecimalField(
        max_digits=12, decimal_places=6, coerce_to_string=False, allow_null=True, read_only=True
    )
    capabilities = serializers.ListField(child=serializers.ChoiceField(choices=Capability.choices), read_only=True)

    class Meta:
        model = LargeLanguageModel
        ref_name = "LargeLanguageModel"
        fields = [
            "id",
            "provider_id",
            "workspace_id",
            "is_catalogue",
            "model",
            "display_name",
            "context_window",
            "max_output_tokens",
            "input_price_per_million",
            "output_price_per_million",
            "capabilities",
            "active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_is_catalogue(self, llm: LargeLanguageModel) -> bool:
        return llm.workspace_id is None


class LargeLanguageModelWriteSerializer(serializers.Serializer):
    provider_id = serializers.UUIDField(help_text="An LLM provider: built-in or your workspace's.")
    model = serializers.CharField(max_length=200, help_text="The vendor's model string.")
    display_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    context_window = serializers.IntegerField(min_value=1, max_value=100_000_000, required=False, allow_null=True)
    max_output_tokens = serializers.IntegerField(min_value=1, max_value=100_000_000, required=False, allow_null=True)
    input_price_per_million = serializers.DecimalField(
        max_digits=12, decimal_places=6, min_value=0, required=False, allow_null=True, coerce_to_string=False
    )
    output_price_per_million = serializers.DecimalField(
        max_digits=12, decimal_places=6, min_value=0, required=False, allow_null=True, coerce_to_string=False
    )
    capabilities = serializers.ListField(
        child=serializers.ChoiceField(choices=Capability.choices), required=False, max_length=len(Capability.values)
    )
    active = serializers.BooleanField(required=False)

    class Meta:
        ref_name = "LargeLanguageModelWrite"

    def validate_capabilities(self, value: list[str]) -> list[str]:
        return sorted(set(value))


class SyncModelsSerializer(serializers.Serializer):
    account_id = serializers.UUIDField(help_text="An account of this provider in one of your workspaces.")

    class Meta:
        ref_name = "SyncModels"


class SyncModelsResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    models = LargeLanguageModelSerializer(many=True)

    class Meta:
        ref_name = "SyncModelsResult"
