"""Removal of secrets from upstream error text before it is logged, stored or shown."""

import re
from collections.abc import Iterable

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
