"""API throttles keyed by token and by user, sharing the one client-IP function.

Each throttle counts requests with a sliding-window counter: one counter per fixed window of the
rate's duration, and the estimate `previous window x share of it still in the sliding window +
current window`. That is one Redis round trip per throttle whatever the rate, where DRF's own
throttle reads and rewrites a list of every request's time, and two processes writing that list
at once lose each other's entries.
"""

import math
from contextlib import suppress
from typing import Any

from rest_framework.throttling import SimpleRateThrottle

from athena_site.cache import count_hit
from athena_site.client_ip import client_ip

# Retry-After is in whole seconds, so a request rejected just before the window frees up still waits one.
MIN_WAIT_SECONDS = 1.0


class _AthenaThrottle(SimpleRateThrottle):
    def get_ident(self, request: Any) -> str:
        return client_ip(request) or "unknown"

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        position = self.timer() / self.duration
        window = math.floor(position)
        self.elapsed = position - window
        current_key = f"{self.key}:{window}"
        self.hits, self.previous = count_hit(self.cache, current_key, f"{self.key}:{window - 1}", 2 * self.duration)
        if self.previous * (1 - self.elapsed) + self.hits <= self.num_requests:
            return True
        # A rejected request does not count, so a client that waits for Retry-After gets through.
        # A ValueError means the counter expired meanwhile, so there is nothing to take back.
        with suppress(ValueError):
            self.cache.decr(current_key)
        return False

    def wait(self) -> float:
        """Seconds until the next request fits under the rate."""
        if self.hits <= self.num_requests and self.previous:
            # The current window has room once enough of the previous one slides out.
            needed = 1 - (self.num_requests - self.hits) / self.previous
            seconds = (needed - self.elapsed) * self.duration
        else:
            # Wait for the next window, then for this window's requests to slide out far enough.
            counted = self.hits - 1
            needed = 1 - (self.num_requests - 1) / counted if counted > 0 else 0
            seconds = (1 - self.elapsed + max(0.0, needed)) * self.duration
        return max(MIN_WAIT_SECONDS, seconds)


class TokenRateThrottle(_AthenaThrottle):
    """Limit each token; requests without a token row (sessions, Multiplai) are not counted here."""

    scope = "token"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        token = getattr(getattr(request, "auth", None), "token", None)
        if token is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": f"{type(token).__name__}:{token.pk}"}


class UserRateThrottle(_AthenaThrottle):
    """Limit each user across all their credentials; anonymous requests are limited per client IP."""

    scope = "user"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return self.cache_format % {"scope": self.scope, "ident": user.pk}
        return self.cache_format % {"scope": "anon", "ident": self.get_ident(request)}

    def allow_request(self, request: Any, view: Any) -> bool:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            self.scope = "anon"
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)
