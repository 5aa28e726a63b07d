"""Removal of secrets from upstream error text before it is logged, stored or shown."""

import re
from collections.abc import Iterable
from typing import Any

REDACTED = "[redacted]"
MAX_ERROR_LENGTH = 500
# Secrets shorter than this are not searched for: replacing a 2-character password would mangle
# ordinary words, and values this short are not worth protecting by search anyway.
MIN_SECRET_LENGTH = 4

# Shapes of credentials that an upstream may echo even when they are not this account's:
# bearer and basic headers, key=value pairs and well-known vendor key prefixes.
_PATTERNS = (
    re.compile(r"(?i)(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(
        r"(?i)((?:api[_-]?key|access[_-]?token|refresh[_-]?token|client[_-]?secret|password|token)"
        r"[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,}]+"
    ),
    re.compile(r"\b(sk|pk|rk)-[A-Za-z0-9_-]{8,}"),
    re.compile(r"\bsk-ant-[A-Za-z0-9_-]{8,}"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{8,}"),
)


def redact(text: object, secrets: Iterable[str] = (), *, max_length: int = MAX_ERROR_LENGTH) -> str:
    """Return `text` with every known secret and credential-shaped string replaced, cut to `max_length`."""
    result = str(text)
    for secret in sorted(
        {value for value in secrets if value and len(value) >= MIN_SECRET_LENGTH}, key=len, reverse=True
    ):
        result = result.replace(secret, REDACTED)
    for pattern in _PATTERNS:
        result = pattern.sub(_replacement, result)
    if len(result) > max_length:
        result = result[: max_length - 1] + "…"
    return result


def _replacement(match: re.Match[str]) -> str:
    # Keep a key=value pair's key, so the reader still sees which setting was rejected.
    if match.re is _PATTERNS[1]:
        return match.group(1) + REDACTED
    if match.re is _PATTERNS[0]:
        return match.group(1) + " " + REDACTED
    return REDACTED


def redact_values(value: Any, secrets: Iterable[str]) -> Any:
    """Return a copy of a JSON-like value with every known secret replaced in its strings and keys.

    Use it on upstream responses that may echo an account's credentials, because a key placed in
    the query string comes back in URLs. Unlike `redact`, it keeps the structure and cuts nothing.
    """
    known = sorted({item for item in secrets if item and len(item) >= MIN_SECRET_LENGTH}, key=len, reverse=True)
    if not known:
        return value
    return _redact_values(value, known)


def _redact_values(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, dict):
        return {_redact_values(key, secrets): _redact_values(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [_redact_values(item, secrets) for item in value]
    return value
