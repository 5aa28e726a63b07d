"""Failed sign-in lockout and bad-token counting, per account and per client IP.

Counters live in the shared cache with a fixed window. The API sign-in, the browser login form
and the bearer and Multiplai authentication classes all use these functions.
"""

import hashlib
import time

from django.conf import settings
from django.core.cache import cache


class LoginLocked(Exception):
    """Too many failed attempts. Retry after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(f"Too many failed attempts. Try again in {self.retry_after} seconds.")


def _key(kind: str, value: str) -> str:
    # Emails and IPs are hashed so the cache keys contain no personal data in its keys.
    return f"lockout:{kind}:{hashlib.sha256(value.encode()).hexdigest()}"


def _increment(key: str, window: int) -> None:
    # add() creates the counter with the window's expiry only if it is missing, and incr() is
    # atomic in Redis, so concurrent failures are all counted.
    if cache.add(key, 0, timeout=window):
        cache.set(f"{key}:start", time.time(), timeout=window)
    try:
        cache.incr(key)
    except ValueError:
        # The counter expired between add() and incr(): start a new window with this failure.
        cache.set(key, 1, timeout=window)
        cache.set(f"{key}:start", time.time(), timeout=window)


def _check(key: str, limit: int, window: int) -> None:
    count = cache.get(key) or 0
    if count >= limit:
        started = cache.get(f"{key}:start") or time.time()
        raise LoginLocked(retry_after=window - (time.time() - started))


def login_attempt_check(*, email: str, ip: str | None) -> None:
    """Raise LoginLocked when the account or the client IP has too many recent failures."""
    limit = settings.ATHENA_LOGIN_FAILURE_LIMIT
    window = settings.ATHENA_LOGIN_FAILURE_WINDOW_SECONDS
    _check(_key("account", email.strip().lower()), limit, window)
    if ip:
        _check(_key("ip", ip), limit, window)


def login_failure_record(*, email: str, ip: str | None) -> None:
    window = settings.ATHENA_LOGIN_FAILURE_WINDOW_SECONDS
    _increment(_key("account", email.strip().lower()), window)
    if ip:
        _increment(_key("ip", ip), window)


def login_success_record(*, email: str) -> None:
    """Reset the account's failure counter. The IP counter keeps counting, because it also covers other accounts."""
    key = _key("account", email.strip().lower())
    cache.delete_many([key, f"{key}:start"])


def bad_token_check(*, ip: str | None) -> None:
    """Raise LoginLocked when this IP sent too many invalid bearer or Multiplai tokens."""
    if ip:
        _check(_key("bad-token", ip), settings.ATHENA_BAD_TOKEN_LIMIT, settings.ATHENA_BAD_TOKEN_WINDOW_SECONDS)


def bad_token_record(*, ip: str | None) -> None:
    if ip:
        _increment(_key("bad-token", ip), settings.ATHENA_BAD_TOKEN_WINDOW_SECONDS)
