"""Validation of a provider's `authentication_config` and of the credentials an account stores for it.

Both raise `ValidationFailed` (422) whose `errors` name the offending field with its full path,
such as `authentication_config.token_url` or `credentials.api_key`.
"""

from typing import Any
from urllib.parse import urlsplit

from athena_site.api.errors import ValidationFailed
from providers.models import AuthStrategy

PLACEMENTS = ("header", "query", "body")
TOKEN_AUTH_METHODS = ("body", "basic")
MAX_NAME_LENGTH = 128
MAX_PREFIX_LENGTH = 32
MAX_URL_LENGTH = 500
MAX_SCOPES = 50
MAX_SCOPE_LENGTH = 200
MAX_AUTHORIZE_PARAMS = 20
MAX_PARAM_LENGTH = 500
MAX_SECRET_LENGTH = 8192
MIN_HINT_SECRET_LENGTH = 12

_COMMON_KEYS = {"strategy"}
_KEYS_BY_STRATEGY: dict[str, set[str]] = {
    AuthStrategy.NONE: set(),
    AuthStrategy.API_KEY: {"placement", "name", "prefix"},
    AuthStrategy.BEARER: {"placement", "name", "prefix"},
    AuthStrategy.BASIC: set(),
    AuthStrategy.OAUTH2: {
        "authorize_url",
        "token_url",
        "scopes",
        "client_id",
        "client_secret",
        "pkce",
        "authorize_params",
        "token_auth_method",
    },
}
# Defaults that make a bare {"strategy": "bearer"} mean the usual Authorization header.
_BEARER_DEFAULTS = {"placement": "header", "name": "Authorization", "prefix": "Bearer "}

# The credential fields each strategy requires, and the "main" secret that the hint shows.
CREDENTIAL_FIELDS: dict[str, tuple[str, ...]] = {
    AuthStrategy.NONE: (),
    AuthStrategy.API_KEY: ("api_key",),
    AuthStrategy.BEARER: ("token",),
    AuthStrategy.BASIC: ("username", "password"),
    AuthStrategy.OAUTH2: ("access_token",),
}
_OPTIONAL_CREDENTIAL_FIELDS: dict[str, tuple[str, ...]] = {
    AuthStrategy.OAUTH2: ("refresh_token", "expires_at", "scopes", "token_type"),
}
_MAIN_SECRET = {
    AuthStrategy.API_KEY: "api_key",
    AuthStrategy.BEARER: "token",
    AuthStrategy.BASIC: "password",
    AuthStrategy.OAUTH2: "access_token",
}


def _fail(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(errors={field: [message]})


def _check_url(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(field, "This field is required.")
    if len(value) > MAX_URL_LENGTH:
        raise _fail(field, f"Ensure this field has no more than {MAX_URL_LENGTH} characters.")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _fail(field, "Enter an http or https URL with a host.")
    return value.strip()


def _check_text(value: Any, field: str, *, max_length: int, required: bool = True, allow_blank: bool = False) -> str:
    if value is None or (value == "" and not allow_blank):
        if required:
            raise _fail(field, "This field is required.")
        return ""
    if not isinstance(value, str):
        raise _fail(field, "Must be a string.")
    if len(value) > max_length:
        raise _fail(field, f"Ensure this field has no more than {max_length} characters.")
    return value


def _validate_key_placement(config: dict[str, Any], strategy: str, prefix: str) -> dict[str, Any]:
    if strategy == AuthStrategy.BEARER:
        config = {**_BEARER_DEFAULTS, **{key: value for key, value in config.items() if value is not None}}
    placement = config.get("placement")
    if placement is None:
        raise _fail(f"{prefix}.placement", "This field is required.")
    if placement not in PLACEMENTS:
        raise _fail(f"{prefix}.placement", f"Use one of: {', '.join(PLACEMENTS)}.")
    name = _check_text(config.get("name"), f"{prefix}.name", max_length=MAX_NAME_LENGTH)
    if any(character in name for character in "\r\n:"):
        raise _fail(f"{prefix}.name", "A header or parameter name must not contain ':' or line breaks.")
    value_prefix = _check_text(
        config.get("prefix", ""), f"{prefix}.prefix", max_length=MAX_PREFIX_LENGTH, required=False, allow_blank=True
    )
    if any(character in value_prefix for character in "\r\n"):
        raise _fail(f"{prefix}.prefix", "The prefix must not contain line breaks.")
    return {"strategy": strategy, "placement": placement, "name": name, "prefix": value_prefix}


def _validate_oauth2(config: dict[str, Any], prefix: str, *, has_stored_secret: bool) -> tuple[dict[str, Any], Any]:
    result: dict[str, Any] = {"strategy": AuthStrategy.OAUTH2}
    result["authorize_url"] = _check_url(config.get("authorize_url"), f"{prefix}.authorize_url")
    result["token_url"] = _check_url(config.get("token_url"), f"{prefix}.token_url")
    result["client_id"] = _check_text(config.get("client_id"), f"{prefix}.client_id", max_length=MAX_PARAM_LENGTH)

    scopes = config.get("scopes", [])
    if not isinstance(scopes, list) or not all(isinstance(scope, str) and scope for scope in scopes):
        raise _fail(f"{prefix}.scopes", "Must be a list of non-empty strings.")
    if len(scopes) > MAX_SCOPES or any(len(scope) > MAX_SCOPE_LENGTH for scope in scopes):
        raise _fail(f"{prefix}.scopes", f"Use at most {MAX_SCOPES} scopes of {MAX_SCOPE_LENGTH} characters each.")
    result["scopes"] = scopes

    pkce = config.get("pkce", True)
    if not isinstance(pkce, bool):
        raise _fail(f"{prefix}.pkce", "Must be a boolean.")
    result["pkce"] = pkce

    method = config.get("token_auth_method", "body")
    if method not in TOKEN_AUTH_METHODS:
        raise _fail(f"{prefix}.token_auth_method", f"Use one of: {', '.join(TOKEN_AUTH_METHODS)}.")
    result["token_auth_method"] = method

    params = config.get("authorize_params", {})
    if not isinstance(params, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in params.items()
    ):
        raise _fail(f"{prefix}.authorize_params", "Must be an object of string values.")
    reserved = {"state", "code_challenge", "code_challenge_method", "redirect_uri", "client_id", "response_type"}
    if len(params) > MAX_AUTHORIZE_PARAMS or any(
        len(key) + len(value) > MAX_PARAM_LENGTH for key, value in params.items()
    ):
        raise _fail(f"{prefix}.authorize_params", f"Use at most {MAX_AUTHORIZE_PARAMS} short parameters.")
    if reserved & set(params):
        raise _fail(f"{prefix}.authorize_params", f"These parameters are set by Athena: {', '.join(sorted(reserved))}.")
    result["authorize_params"] = params

    secret = config.get("client_secret")
    if secret is not None:
        secret = _check_text(secret, f"{prefix}.client_secret", max_length=MAX_SECRET_LENGTH)
    elif not pkce and not has_stored_secret:
        # Without PKCE, the client secret is the only proof that the exchange comes from Athena.
        raise _fail(f"{prefix}.client_secret", "This field is required when pkce is false.")
    return result, secret


def validate_authentication_config(
    config: Any, *, prefix: str = "authentication_config", has_stored_secret: bool = False
) -> tuple[dict[str, Any], Any]:
    """Validate a config and return it normalised, without the client secret, and the secret (or None).

    `has_stored_secret` is true when a client secret is already stored, so an update may omit it.
    Raises ValidationFailed naming the first invalid field.
    """
    if config is None:
        config = {"strategy": AuthStrategy.NONE}
    if not isinstance(config, dict):
        raise _fail(prefix, "Must be an object.")
    strategy = config.get("strategy")
    if strategy is None:
        raise _fail(f"{prefix}.strategy", "This field is required.")
    if strategy not in AuthStrategy.values:
        raise _fail(f"{prefix}.strategy", f"Use one of: {', '.join(AuthStrategy.values)}.")
    unknown = set(config) - _COMMON_KEYS - _KEYS_BY_STRATEGY[strategy]
    if unknown:
        field = sorted(unknown)[0]
        raise _fail(f"{prefix}.{field}", f"Not a setting of the {strategy} strategy.")

    if strategy in (AuthStrategy.API_KEY, AuthStrategy.BEARER):
        return _validate_key_placement(config, strategy, prefix), None
    if strategy == AuthStrategy.OAUTH2:
        return _validate_oauth2(config, prefix, has_stored_secret=has_stored_secret)
    return {"strategy": strategy}, None


def validate_credentials(credentials: Any, *, strategy: str, prefix: str = "credentials") -> dict[str, Any]:
    """Validate the credentials an account stores for a strategy and return only the known fields.

    Raises ValidationFailed naming a missing or invalid field.
    """
    if credentials is None:
        credentials = {}
    if not isinstance(credentials, dict):
        raise _fail(prefix, "Must be an object.")
    required = CREDENTIAL_FIELDS.get(strategy, ())
    optional = _OPTIONAL_CREDENTIAL_FIELDS.get(strategy, ())
    unknown = set(credentials) - set(required) - set(optional)
    if unknown:
        raise _fail(f"{prefix}.{sorted(unknown)[0]}", f"Not a credential of the {strategy} strategy.")

    cleaned: dict[str, Any] = {}
    for field in required:
        cleaned[field] = _check_text(credentials.get(field), f"{prefix}.{field}", max_length=MAX_SECRET_LENGTH)
    for field in optional:
        if field not in credentials or credentials[field] is None:
            continue
        value = credentials[field]
        if field == "expires_at" and not isinstance(value, int | float):
            raise _fail(f"{prefix}.{field}", "Must be a Unix timestamp in seconds.")
        if field == "scopes" and not (isinstance(value, list) and all(isinstance(item, str) for item in value)):
            raise _fail(f"{prefix}.{field}", "Must be a list of strings.")
        if field in ("refresh_token", "token_type"):
            value = _check_text(value, f"{prefix}.{field}", max_length=MAX_SECRET_LENGTH)
        cleaned[field] = value
    return cleaned


def credentials_hint(credentials: dict[str, Any] | None, *, strategy: str) -> str:
    """Return the last 4 characters of the main secret, or "" when it is too short to show any of it."""
    field = _MAIN_SECRET.get(strategy)
    value = (credentials or {}).get(field) if field else None
    if not isinstance(value, str) or len(value) < MIN_HINT_SECRET_LENGTH:
        return ""
    return value[-4:]


def secret_values(credentials: dict[str, Any] | None) -> list[str]:
    """Return every secret string in credentials, for redaction."""
    names = ("api_key", "token", "password", "access_token", "refresh_token")
    return [value for name in names if isinstance(value := (credentials or {}).get(name), str) and value]
