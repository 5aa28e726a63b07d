"""API throttles keyed by token and by user, sharing the one client-IP function."""

from typing import Any

from rest_framework.throttling import SimpleRateThrottle

from athena_site.client_ip import client_ip


class _AthenaThrottle(SimpleRateThrottle):
    def get_ident(self, request: Any) -> str:
        return client_ip(request) or "unknown"


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
