"""The built-in catalogue: global providers and the models of OpenAI and Anthropic with their prices.

Prices are US dollars per million tokens as OpenAI and Anthropic published them when this list
was last edited. Vendors change them, so keep this list current and run `load_catalogue` again.
"""

import logging
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction

from athena_site.crypto import Secret
from providers.models import AuthStrategy, LargeLanguageModel, LLMProtocol, Provider, ProviderKind

logger = logging.getLogger(__name__)

CHAT = ["tools", "json_output", "streaming"]
CHAT_VISION = ["tools", "vision", "json_output", "streaming"]


def _allauth_endpoints(adapter_path: str) -> tuple[str, str]:
    """Return (authorize URL, token URL) from one of django-allauth's OAuth2 adapter classes."""
    from django.utils.module_loading import import_string

    adapter = import_string(adapter_path)
    return adapter.authorize_url, adapter.access_token_url


def _social_app(provider_id: str) -> dict[str, str]:
    """Return the client id and secret configured for allauth's social login with this provider, if any."""
    apps = (getattr(settings, "SOCIALACCOUNT_PROVIDERS", {}).get(provider_id) or {}).get("APPS") or []
    return apps[0] if apps else {}


def providers() -> list[dict[str, Any]]:
    """Return the definitions of the global providers."""
    github_authorize, github_token = _allauth_endpoints(
        "allauth.socialaccount.providers.github.views.GitHubOAuth2Adapter"
    )
    google_authorize, google_token = _allauth_endpoints(
        "allauth.socialaccount.providers.google.views.GoogleOAuth2Adapter"
    )
    return [
        {
            "key": "openai",
            "name": "OpenAI",
            "kind": ProviderKind.LLM,
            "llm_protocol": LLMProtocol.OPENAI,
            "base_url": "https://api.openai.com/v1",
            "docs_url": "https://platform.openai.com/docs/api-reference",
            "icon": "openai",
            "authentication_config": {
                "strategy": AuthStrategy.BEARER,
                "placement": "header",
                "name": "Authorization",
                "prefix": "Bearer ",
            },
        },
        {
            "key": "anthropic",
            "name": "Anthropic",
            "kind": ProviderKind.LLM,
            "llm_protocol": LLMProtocol.ANTHROPIC,
            "base_url": "https://api.anthropic.com",
            "docs_url": "https://docs.anthropic.com/en/api",
            "icon": "anthropic",
            "authentication_config": {
                "strategy": AuthStrategy.API_KEY,
                "placement": "header",
                "name": "x-api-key",
                "prefix": "",
            },
        },
        {
            # A template: OpenAI-compatible servers live at an address of your own, so a
            # workspace creates its own provider with these settings and its server's base URL.
            "key": "openai-compatible",
            "name": "OpenAI-compatible server (template)",
            "kind": ProviderKind.LLM,
            "llm_protocol": LLMProtocol.OPENAI,
            "base_url": "",
            "docs_url": "https://platform.openai.com/docs/api-reference/chat",
            "icon": "server",
            "authentication_config": {
                "strategy": AuthStrategy.BEARER,
                "placement": "header",
                "name": "Authorization",
                "prefix": "Bearer ",
            },
        },
        {
            "key": "github",
            "name": "GitHub",
            "kind": ProviderKind.SERVICE,
            "base_url": "https://api.github.com",
            "docs_url": "https://docs.github.com/en/rest",
            "icon": "github",
            "test_path": "/user",
            "authentication_config": {
                "strategy": AuthStrategy.OAUTH2,
                "authorize_url": github_authorize,
                "token_url": github_token,
                "scopes": ["read:user", "repo"],
                "client_id": "",
                "pkce": True,
                "authorize_params": {},
                "token_auth_method": "body",
            },
            "social_app": "github",
        },
        {
            "key": "google-drive",
            "name": "Google Drive",
            "kind": ProviderKind.SERVICE,
            "base_url": "https://www.googleapis.com/drive/v3",
            "docs_url": "https://developers.google.com/drive/api/reference/rest/v3",
            "icon": "google-drive",
            "test_path": "/about?fields=user",
            "authentication_config": {
                "strategy": AuthStrategy.OAUTH2,
                "authorize_url": google_authorize,
                "token_url": google_token,
                "scopes": ["https://www.googleapis.com/auth/drive.readonly"],
                "client_id": "",
                "pkce": True,
                # Google issues a refresh token only for offline access with fresh consent.
                "authorize_params": {"access_type": "offline", "prompt": "consent"},
                "token_auth_method": "body",
            },
            "social_app": "google",
        },
        {
            "key": "bearer-api",
            "name": "Generic API (bearer token)",
            "kind": ProviderKind.SERVICE,
            "base_url": "",
            "icon": "key",
            "authentication_config": {
                "strategy": AuthStrategy.BEARER,
                "placement": "header",
                "name": "Authorization",
                "prefix": "Bearer ",
            },
        },
        {
            "key": "basic-api",
            "name": "Generic API (basic authentication)",
            "kind": ProviderKind.SERVICE,
            "base_url": "",
            "icon": "lock",
            "authentication_config": {"strategy": AuthStrategy.BASIC},
        },
    ]


def _model(
    model: str, name: str, context: int, output: int, price_in: str, price_out: str, capabilities: list[str]
) -> dict:
    return {
        "model": model,
        "display_name": name,
        "context_window": context,
        "max_output_tokens": output,
        "input_price_per_million": Decimal(price_in),
        "output_price_per_million": Decimal(price_out),
        "capabilities": capabilities,
    }


def models() -> dict[str, list[dict[str, Any]]]:
    """Return the catalogue models by provider key."""
    return {
        "openai": [
            _model("gpt-5", "GPT-5", 400_000, 128_000, "1.25", "10.00", CHAT_VISION),
            _model("gpt-5-mini", "GPT-5 mini", 400_000, 128_000, "0.25", "2.00", CHAT_VISION),
            _model("gpt-5-nano", "GPT-5 nano", 400_000, 128_000, "0.05", "0.40", CHAT_VISION),
            _model("gpt-4.1", "GPT-4.1", 1_047_576, 32_768, "2.00", "8.00", CHAT_VISION),
            _model("gpt-4.1-mini", "GPT-4.1 mini", 1_047_576, 32_768, "0.40", "1.60", CHAT_VISION),
            _model("gpt-4.1-nano", "GPT-4.1 nano", 1_047_576, 32_768, "0.10", "0.40", CHAT_VISION),
            _model("gpt-4o", "GPT-4o", 128_000, 16_384, "2.50", "10.00", CHAT_VISION),
            _model("gpt-4o-mini", "GPT-4o mini", 128_000, 16_384, "0.15", "0.60", CHAT_VISION),
            _model("o3", "o3", 200_000, 100_000, "2.00", "8.00", CHAT_VISION),
            _model("o4-mini", "o4-mini", 200_000, 100_000, "1.10", "4.40", CHAT_VISION),
            _model("text-embedding-3-small", "Text Embedding 3 Small", 8_191, 0, "0.02", "0", ["embeddings"]),
            _model("text-embedding-3-large", "Text Embedding 3 Large", 8_191, 0, "0.13", "0", ["embeddings"]),
        ],
        "anthropic": [
            _model("claude-opus-4-1", "Claude Opus 4.1", 200_000, 32_000, "15.00", "75.00", CHAT_VISION),
            _model("claude-sonnet-4-5", "Claude Sonnet 4.5", 200_000, 64_000, "3.00", "15.00", CHAT_VISION),
            _model("claude-sonnet-4-0", "Claude Sonnet 4", 200_000, 64_000, "3.00", "15.00", CHAT_VISION),
            _model("claude-haiku-4-5", "Claude Haiku 4.5", 200_000, 64_000, "1.00", "5.00", CHAT_VISION),
            _model("claude-3-5-haiku-latest", "Claude Haiku 3.5", 200_000, 8_192, "0.80", "4.00", CHAT_VISION),
        ],
    }


def _merge_oauth_client(provider: Provider, config: dict[str, Any], social_app: str | None) -> None:
    """Keep a client id and secret staff already entered; else take allauth's social login app, if configured."""
    existing = provider.authentication_config or {}
    if existing.get("client_id"):
        config["client_id"] = existing["client_id"]
        return
    app = _social_app(social_app) if social_app else {}
    if app.get("client_id"):
        config["client_id"] = app["client_id"]
        if app.get("secret") and not provider.oauth_client_secret:
            provider.oauth_client_secret = Secret(app["secret"])


def catalogue_load() -> dict[str, int]:
    """Create or update the global providers and catalogue models; safe to run any number of times.

    Returns the number of providers and models written.
    """
    written = {"providers": 0, "models": 0}
    catalogue = models()
    with transaction.atomic():
        for definition in providers():
            definition = dict(definition)
            social_app = definition.pop("social_app", None)
            config = dict(definition.pop("authentication_config"))
            provider = Provider.objects.filter(workspace__isnull=True, key=definition["key"]).first()
            if provider is None:
                provider = Provider(workspace=None, key=definition["key"])
            for field in ("name", "kind", "llm_protocol", "base_url", "docs_url", "icon", "test_path"):
                setattr(provider, field, definition.get(field, ""))
            if config["strategy"] == AuthStrategy.OAUTH2:
                _merge_oauth_client(provider, config, social_app)
            provider.authentication_config = config
            provider.save()
            written["providers"] += 1

            for row in catalogue.get(provider.key, []):
                LargeLanguageModel.objects.update_or_create(
                    provider=provider, workspace=None, model=row["model"], defaults={**row, "active": True}
                )
                written["models"] += 1
    logger.info("Catalogue loaded", extra=written)
    return written
