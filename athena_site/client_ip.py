"""The client IP address, taken from proxy headers only as ATHENA_TRUSTED_PROXIES allows.

Every rate limit (sign-in lockout, DRF throttles, allauth's limits) uses this one function, so
a client cannot dodge one limit by forging a header that another limit trusts.
"""

import ipaddress
from functools import lru_cache
from typing import Any

from django.conf import settings

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=16)
def _trusted_networks(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _is_trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, networks: tuple[IPNetwork, ...]) -> bool:
    return any(address in network for network in networks)


def client_ip(request: Any) -> str | None:
    """Return the client's IP address for a Django or DRF request.

    `REMOTE_ADDR` is used unless it is a trusted proxy. Then `X-Forwarded-For` is read from the
    right, skipping trusted proxies, and the first address that is not one is the client.
    """
    meta = getattr(request, "META", {})
    remote = _parse(meta.get("REMOTE_ADDR", ""))
    if remote is None:
        return None
    networks = _trusted_networks(tuple(settings.ATHENA_TRUSTED_PROXIES))
    if not networks or not _is_trusted(remote, networks):
        return str(remote)
    forwarded = [item for item in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if item.strip()]
    for item in reversed(forwarded):
        address = _parse(item)
        if address is None:
            break
        if not _is_trusted(address, networks):
            return str(address)
    return str(remote)
