"""OpenAPI examples of the providers API."""

from drf_spectacular.utils import OpenApiExample

WORKSPACE_ID = "3f0b6a52-8f3e-4c43-9a51-0f2f7b9c1d11"
PROVIDER_ID = "6b1f0f7e-2a3c-4d5e-8f90-1a2b3c4d5e6f"
ACCOUNT_ID = "0c9e8d7f-6a5b-4c3d-9e2f-1a0b9c8d7e6f"
LLM_ID = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
USER_ID = "9b2d3c4e-5f60-4a71-8b92-a3b4c5d6e7f8"
TIMESTAMP = "2025-01-31T09:30:00.000000Z"

PROVIDER = OpenApiExample(
    "Provider",
    value={
        "id": PROVIDER_ID,
        "workspace_id": WORKSPACE_ID,
        "is_global": False,
        "key": "local-llm",
        "name": "Local vLLM",
        "kind": "llm",
        "llm_protocol": "openai",
        "base_url": "https://llm.internal.example.com/v1",
        "docs_url": "",
        "icon": "server",
        "test_path": "",
        "authentication_config": {
            "strategy": "bearer",
            "placement": "header",
            "name": "Authorization",
            "prefix": "Bearer ",
        },
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
    },
    response_only=True,
)
PROVIDER_CREATE = OpenApiExample(
    "Create an OpenAI-compatible provider",
    value={
        "key": "local-llm",
        "name": "Local vLLM",
        "kind": "llm",
        "llm_protocol": "openai",
        "base_url": "https://llm.internal.example.com/v1",
        "authentication_config": {"strategy": "bearer"},
    },
    request_only=True,
)
PROVIDER_CREATE_OAUTH = OpenApiExample(
    "Create an OAuth2 service provider",
    value={
        "key": "crm",
        "name": "Example CRM",
        "kind": "service",
        "base_url": "https://api.crm.example.com",
        "test_path": "/v1/me",
        "authentication_config": {
            "strategy": "oauth2",
            "authorize_url": "https://crm.example.com/oauth/authorize",
            "token_url": "https://crm.example.com/oauth/token",
            "scopes": ["contacts.read"],
            "client_id": "athena-client",
            "client_secret": "client-secret-value",
            "pkce": True,
        },
    },
    request_only=True,
)
PROVIDER_UPDATE = OpenApiExample("Rename a provider", value={"name": "vLLM on the GPU host"}, request_only=True)

ACCOUNT = OpenApiExample(
    "Account",
    value={
        "id": ACCOUNT_ID,
        "workspace_id": WORKSPACE_ID,
        "provider_id": PROVIDER_ID,
        "provider_key": "openai",
        "name": "Team OpenAI key",
        "credentials_hint": "x9Qz",
        "status": "active",
        "token_expires_at": None,
        "last_used_at": TIMESTAMP,
        "last_error": "",
        "created_by": USER_ID,
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
    },
    response_only=True,
)
ACCOUNT_CREATE = OpenApiExample(
    "Store an API key",
    value={"provider_id": PROVIDER_ID, "name": "Team OpenAI key", "credentials": {"token": "sk-example-key-x9Qz"}},
    request_only=True,
)
ACCOUNT_UPDATE = OpenApiExample(
    "Rename an account and keep its credentials", value={"name": "Production key"}, request_only=True
)
ACCOUNT_TEST = OpenApiExample(
    "Account test result",
    value={
        "ok": False,
        "status_code": 401,
        "code": "upstream_rejected",
        "message": 'HTTP 401: {"error": "invalid api key [redacted]"}',
        "account": {"id": ACCOUNT_ID, "status": "error", "credentials_hint": "x9Qz"},
    },
    response_only=True,
)

LLM = OpenApiExample(
    "Large language model",
    value={
        "id": LLM_ID,
        "provider_id": PROVIDER_ID,
        "workspace_id": None,
        "is_catalogue": True,
        "model": "gpt-4o-mini",
        "display_name": "GPT-4o mini",
        "context_window": 128000,
        "max_output_tokens": 16384,
        "input_price_per_million": 0.15,
        "output_price_per_million": 0.6,
        "capabilities": ["json_output", "streaming", "tools", "vision"],
        "active": True,
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
    },
    response_only=True,
)
LLM_CREATE = OpenApiExample(
    "Add a model of an OpenAI-compatible server",
    value={
        "provider_id": PROVIDER_ID,
        "model": "llama3.1:8b",
        "display_name": "Llama 3.1 8B",
        "context_window": 131072,
        "capabilities": ["streaming", "tools"],
    },
    request_only=True,
)
LLM_UPDATE = OpenApiExample("Deactivate a model", value={"active": False}, request_only=True)
SYNC_MODELS = OpenApiExample("Synchronise with an account", value={"account_id": ACCOUNT_ID}, request_only=True)
SYNC_MODELS_RESULT = OpenApiExample(
    "Synchronised models",
    value={
        "created": 1,
        "updated": 0,
        "models": [{"id": LLM_ID, "model": "llama3.1:8b", "display_name": "llama3.1:8b"}],
    },
    response_only=True,
)
