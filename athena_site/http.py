"""Guarded outbound HTTP for every client Athena uses.

All outbound traffic (LLM SDKs, workflow HTTP nodes, OAuth, the Multiplai
identity server) goes through the clients built here. A URL supplied by a user
or a remote redirect therefore cannot reach loopback, private networks or a
cloud metadata endpoint. Each destination is resolved once and every resolved
address is checked. The connection is then pinned to the checked address, so a
second, different DNS answer cannot slip in between the check and the connect.
"""

from __future__ import annotations

import dataclasses
import functools
import ipaddress
import logging
import re
import socket
import ssl
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

import anyio.to_thread
import httpcore2
import httpx2
import requests
import requests.adapters
import requests.utils
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

__all__ = [
    "AsyncGuardedTransport",
    "GuardedHTTPAdapter",
    "GuardedTransport",
    "InvalidOutboundUrl",
    "OutboundRequestBlocked",
    "ResponseTooLarge",
    "check_url",
    "guarded_async_httpx_client",
    "guarded_httpx_client",
    "guarded_session",
    "resolve_destination",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Tests replace this seam so that no real name lookup ever happens there.
_getaddrinfo = socket.getaddrinfo

DEFAULT_TIMEOUT_SECONDS = 10.0
DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024

_ALLOWED_SCHEMES = frozenset({"http", "https"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_READ_CHUNK_BYTES = 64 * 1024

# Only strings made of these characters are handed to inet_aton, because
# glibc's inet_aton ignores text after a space and "127.0.0.1 x" would parse.
_NUMERIC_IPV4 = re.compile(r"[0-9a-fx.]+")

_CLOUD_METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address) for address in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
_CARRIER_GRADE_NAT = ipaddress.IPv4Network("100.64.0.0/10")
_UNIQUE_LOCAL = ipaddress.IPv6Network("fc00::/7")
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")

# Mirrors httpx2's own default pool limits for callers that pass none.
_DEFAULT_HTTPX_LIMITS = httpx2.Limits(max_connections=100, max_keepalive_connections=20)

# Client options that would route requests around the guarded transport.
_BYPASSING_CLIENT_OPTIONS = ("transport", "mounts", "proxy")
# Client options that only configure the default transport, so they are
# handed to the guarded transport instead.
_TRANSPORT_OPTIONS = ("verify", "cert", "http1", "http2", "limits")


class OutboundRequestBlocked(Exception):
    """Error raised when the guard blocks an outbound request."""


class InvalidOutboundUrl(OutboundRequestBlocked, ValueError):
    """Error raised for an outbound URL whose scheme is not http/https or that has no host."""


class ResponseTooLarge(OutboundRequestBlocked):
    """Error raised when a response body is larger than the configured limit."""


@dataclasses.dataclass(frozen=True)
class _Allowlist:
    """Parsed ATHENA_OUTBOUND_ALLOWLIST: exact host names and IP networks."""

    hosts: frozenset[str]
    networks: tuple[IPNetwork, ...]

    def covers(self, address: IPAddress) -> bool:
        """Return whether a listed network contains the address."""
        candidates: list[IPAddress] = [address]
        translated = _translated_ipv4(address)
        if translated is not None:
            candidates.append(translated)
        return any(candidate in network for candidate in candidates for network in self.networks)

    def names_exactly(self, address: IPAddress) -> bool:
        """Return whether a single-address network entry lists the address."""
        candidates: list[IPAddress] = [address]
        translated = _translated_ipv4(address)
        if translated is not None:
            candidates.append(translated)
        return any(
            network.num_addresses == 1 and candidate in network for candidate in candidates for network in self.networks
        )


@dataclasses.dataclass(frozen=True)
class _Target:
    scheme: str
    host: str
    port: int


@dataclasses.dataclass(frozen=True)
class _Pin:
    address: str
    host: str
    is_literal: bool


def _normalise_host(host: str) -> str:
    """Lower-case a host and drop IPv6 brackets and a trailing root dot."""
    return host.strip().strip("[]").rstrip(".").lower()


def _load_allowlist() -> _Allowlist:
    """Parse ATHENA_OUTBOUND_ALLOWLIST into host names and networks."""
    entries = getattr(settings, "ATHENA_OUTBOUND_ALLOWLIST", None) or []
    if isinstance(entries, str):
        raise ImproperlyConfigured("ATHENA_OUTBOUND_ALLOWLIST must be a list of strings, not a string.")
    hosts: set[str] = set()
    networks: list[IPNetwork] = []
    for entry in entries:
        text = str(entry).strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text.strip("[]"), strict=False))
        except ValueError:
            if "/" in text:
                raise ImproperlyConfigured(
                    f"ATHENA_OUTBOUND_ALLOWLIST entry {text!r} is neither a host name nor a valid network."
                ) from None
            hosts.add(_normalise_host(text))
    return _Allowlist(hosts=frozenset(hosts), networks=tuple(networks))


def _parse_literal_address(host: str) -> IPAddress | None:
    """Return the address a literal IP host denotes, in any IPv4 spelling."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if not _NUMERIC_IPV4.fullmatch(host):
        return None
    # glibc's getaddrinfo reads decimal, octal, hex and shortened forms the
    # same way as inet_aton, so the checked address is the one connected to.
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """Return IPv4 addresses that an IPv6 address carries inside it."""
    embedded: list[ipaddress.IPv4Address] = []
    if address.sixtofour is not None:
        embedded.append(address.sixtofour)
    if address.teredo is not None:
        embedded.extend(address.teredo)
    return embedded


def _translated_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """Return the IPv4 address that a mapped or NAT64 IPv6 address reaches."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64_WELL_KNOWN:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _is_cloud_metadata(address: IPAddress) -> bool:
    """Return whether an address is, or translates to, a cloud metadata endpoint."""
    return address in _CLOUD_METADATA_ADDRESSES or _translated_ipv4(address) in _CLOUD_METADATA_ADDRESSES


def _rejection_reason(address: IPAddress) -> str | None:
    """Describe why an address is not a public destination, or return None."""
    if address in _CLOUD_METADATA_ADDRESSES:
        return "a cloud metadata address"

    if isinstance(address, ipaddress.IPv6Address):
        # Mapped and NAT64 addresses reach exactly the IPv4 address inside
        # them, so that address alone decides.
        translated = _translated_ipv4(address)
        if translated is not None:
            inner = _rejection_reason(translated)
            return None if inner is None else f"which embeds {translated}, {inner}"
        for inner_address in _embedded_ipv4(address):
            inner = _rejection_reason(inner_address)
            if inner is not None:
                return f"which embeds {inner_address}, {inner}"

    if address.is_loopback:
        return "a loopback address"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address in _CARRIER_GRADE_NAT:
        return "a carrier-grade NAT address"
    if address in _UNIQUE_LOCAL:
        return "a unique-local address"
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return "a site-local address"

    # The ipaddress registry catches what is left, such as documentation and
    # benchmarking ranges.
    if address.is_private:
        return "a private address"
    if address.is_reserved:
        return "a reserved address"
    if not address.is_global:
        return "a non-public address"
    return None


def _resolve_addresses(host: str, port: int) -> list[IPAddress]:
    """Return the distinct addresses the system resolver gives for a host."""
    results = _getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canonname, sockaddr in results:
        address = ipaddress.ip_address(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise socket.gaierror(socket.EAI_NONAME, f"No addresses found for {host!r}.")
    return addresses


def resolve_destination(host: str, port: int) -> str:
    """Resolve a host, reject non-public addresses and return the IP to pin.

    Raises OutboundRequestBlocked when any resolved address is rejected, and
    socket.gaierror (an OSError) when the name does not resolve.
    """
    name = _normalise_host(host)
    if not name:
        raise InvalidOutboundUrl("Outbound request was blocked: the URL is missing a host.")
    literal = _parse_literal_address(name)
    addresses = [literal] if literal is not None else _resolve_addresses(name, port)
    allowlist = _load_allowlist()
    host_allowed = name in allowlist.hosts
    for address in addresses:
        if _is_cloud_metadata(address):
            # A broad network entry, or a listed name whose DNS answer changed,
            # must not open a metadata endpoint. Only the exact address can.
            if allowlist.names_exactly(address):
                continue
            _reject(
                name,
                address,
                "a cloud metadata address",
                f"List the exact address ({address}) in ATHENA_OUTBOUND_ALLOWLIST if this is intended.",
            )
        if host_allowed or allowlist.covers(address):
            continue
        reason = _rejection_reason(address)
        if reason is not None:
            _reject(name, address, reason, "Add the host to ATHENA_OUTBOUND_ALLOWLIST to allow it.")
    pinned = str(addresses[0])
    logger.debug("Outbound destination %s pinned to %s", name, pinned)
    return pinned


def _reject(host: str, address: IPAddress, reason: str, advice: str) -> None:
    """Log and raise the rejection of one resolved address."""
    logger.warning("Blocked outbound request to host %s (%s, %s)", host, address, reason)
    raise OutboundRequestBlocked(
        f"Outbound request to {host!r} was blocked: it resolves to {address}, {reason}. {advice}"
    )


def _split_target(url: str) -> _Target:
    """Return the scheme, host and port of a URL allowed for outbound use."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidOutboundUrl(f"Outbound request was blocked: the URL is invalid ({exc}).") from None
    scheme = parts.scheme.lower()
    if scheme not in _ALLOWED_SCHEMES:
        scheme_text = scheme or "(missing)"
        raise InvalidOutboundUrl(
            f"Outbound request was blocked: the scheme {scheme_text!r} is not allowed, only http and https are."
        )
    host = _normalise_host(parts.hostname or "")
    if not host:
        raise InvalidOutboundUrl("Outbound request was blocked: the URL is missing a host.")
    return _Target(scheme=scheme, host=host, port=port or _DEFAULT_PORTS[scheme])


def check_url(url: str) -> None:
    """Raise InvalidOutboundUrl for a URL whose scheme is not http/https or that has no host."""
    _split_target(url)


def _default_timeout() -> float:
    """Return the configured default timeout in seconds."""
    return float(getattr(settings, "ATHENA_OUTBOUND_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS))


def _default_max_response_bytes() -> int:
    """Return the configured response body limit in bytes."""
    return int(getattr(settings, "ATHENA_OUTBOUND_MAX_RESPONSE_BYTES", DEFAULT_MAX_RESPONSE_BYTES))


class _ByteBudget:
    """Byte counter for one response body, raising once the limit is passed."""

    def __init__(self, host: str, limit: int) -> None:
        self.host = host
        self.limit = limit
        self.used = 0

    def check_declared(self, content_length: str | None) -> None:
        """Raise ResponseTooLarge when the declared Content-Length is over the limit."""
        if content_length is None:
            return
        try:
            declared = int(content_length)
        except ValueError:
            return
        if declared > self.limit:
            raise self._error(f"declares {declared} bytes")

    def consume(self, size: int) -> None:
        """Add received bytes and raise ResponseTooLarge once the total passes the limit."""
        self.used += size
        if self.used > self.limit:
            raise self._error("sent more than that")

    def _error(self, detail: str) -> ResponseTooLarge:
        logger.warning("Rejected oversized response from host %s (limit %d bytes)", self.host, self.limit)
        return ResponseTooLarge(
            f"Response from {self.host!r} {detail}, over the limit of {self.limit} bytes. "
            "Raise ATHENA_OUTBOUND_MAX_RESPONSE_BYTES or pass max_response_bytes to accept larger responses."
        )


def _may_have_body(method: str, status: int) -> bool:
    """Return whether a response's Content-Length describes a body that is sent."""
    return method.upper() != "HEAD" and status not in (204, 304)


# --- requests -----------------------------------------------------------------


class _CappedRaw:
    """Wrapper around a urllib3 response that counts every read against a byte budget."""

    def __init__(self, raw: Any, budget: _ByteBudget) -> None:
        self._raw = raw
        self._budget = budget

    def _account(self, data: bytes) -> bytes:
        self._account_size(len(data))
        return data

    def _account_size(self, size: int) -> None:
        try:
            self._budget.consume(size)
        except ResponseTooLarge:
            # The rest of the body is unwanted, so the connection cannot be reused.
            self._raw.close()
            raise

    def stream(self, amt: int | None = 2**16, decode_content: bool | None = None) -> Iterator[bytes]:
        """Yield body chunks, raising ResponseTooLarge once the limit is passed."""
        for chunk in self._raw.stream(amt, decode_content=decode_content):
            yield self._account(chunk)

    def read(self, amt: int | None = None, decode_content: bool | None = None, **kwargs: Any) -> bytes:
        """Read body bytes, raising ResponseTooLarge once the limit is passed."""
        if amt is not None:
            return self._account(self._raw.read(amt, decode_content=decode_content, **kwargs))
        # Read in chunks so that an endless body is stopped at the limit
        # instead of being buffered whole first.
        parts: list[bytes] = []
        while chunk := self._raw.read(_READ_CHUNK_BYTES, decode_content=decode_content, **kwargs):
            parts.append(self._account(chunk))
        return b"".join(parts)

    def readinto(self, buffer: bytearray | memoryview) -> int:
        """Read body bytes into a buffer, raising ResponseTooLarge once the limit is passed."""
        size = self._raw.readinto(buffer)
        self._account_size(size)
        return size

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


class GuardedHTTPAdapter(requests.adapters.HTTPAdapter):
    """Requests adapter that checks, pins and caps every request it sends."""

    # requests pickles adapters by this list, so the guard's settings must be on it.
    __attrs__ = [*requests.adapters.HTTPAdapter.__attrs__, "timeout", "max_response_bytes"]

    def __init__(
        self,
        *,
        timeout: float | None = None,
        max_response_bytes: int | None = None,
        **kwargs: Any,
    ) -> None:
        """Set up the adapter with a default timeout and a response size cap."""
        self.timeout = _default_timeout() if timeout is None else timeout
        self.max_response_bytes = _default_max_response_bytes() if max_response_bytes is None else max_response_bytes
        super().__init__(**kwargs)

    def send(  # type: ignore[override]
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        """Check and pin the destination, then send the request."""
        target = _split_target(request.url or "")
        if proxies and requests.utils.select_proxy(request.url, proxies):
            # A proxy would resolve the name itself, out of the guard's reach.
            raise OutboundRequestBlocked(
                f"Outbound request to {target.host!r} was blocked: the guarded session does not support proxies. "
                "Remove the proxies setting."
            )
        try:
            address = resolve_destination(target.host, target.port)
        except OSError as exc:
            raise requests.exceptions.ConnectionError(
                f"Failed to resolve {target.host!r}: {exc}", request=request
            ) from exc

        # Work on a copy: requests builds each redirect from the caller's
        # request, so a Host header added here must not leak into the next hop.
        pinned = request.copy()
        pinned._athena_pin = _Pin(  # type: ignore[attr-defined]
            address=address,
            host=target.host,
            is_literal=_parse_literal_address(target.host) is not None,
        )
        if "Host" not in pinned.headers:
            # The connection is opened to the IP, so the name travels in Host.
            pinned.headers["Host"] = _host_header(target)

        response = super().send(
            pinned,
            stream=stream,
            timeout=self.timeout if timeout is None else timeout,
            verify=verify,
            cert=cert,
            proxies=proxies,
        )
        response.request = request
        budget = _ByteBudget(target.host, self.max_response_bytes)
        if _may_have_body(request.method or "GET", response.status_code):
            try:
                budget.check_declared(response.headers.get("Content-Length"))
            except ResponseTooLarge:
                response.close()
                raise
        response.raw = _CappedRaw(response.raw, budget)
        return response

    def build_connection_pool_key_attributes(
        self,
        request: requests.PreparedRequest,
        verify: Any,
        cert: Any = None,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Point the connection pool at the pinned IP, verifying TLS for the host."""
        pin: _Pin | None = getattr(request, "_athena_pin", None)
        if pin is None:
            # Only send() attaches a pin, and nothing else may open a connection.
            raise OutboundRequestBlocked(
                "Outbound request was blocked: the destination was not checked. Send it through the adapter's send()."
            )
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        host_params["host"] = pin.address
        if host_params.get("scheme") == "https" and not pin.is_literal:
            # urllib3 sends this name as SNI and verifies the certificate against it.
            # It is also part of urllib3's pool key, so names sharing an IP never share a connection.
            pool_kwargs["server_hostname"] = pin.host
        return host_params, pool_kwargs


def _host_header(target: _Target) -> str:
    """Return the Host header value for a target, as http.client would build it."""
    host = f"[{target.host}]" if ":" in target.host else target.host
    if target.port != _DEFAULT_PORTS[target.scheme]:
        return f"{host}:{target.port}"
    return host


def guarded_session(*, timeout: float | None = None, max_response_bytes: int | None = None) -> requests.Session:
    """Build a requests session whose every request and redirect is guarded."""
    session = requests.Session()
    # Proxy settings from the environment would bypass the pinned connection.
    session.trust_env = False
    adapter = GuardedHTTPAdapter(timeout=timeout, max_response_bytes=max_response_bytes)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    # An empty prefix catches every other scheme, so file:// or gopher:// get
    # the guard's InvalidOutboundUrl rather than requests' InvalidSchema.
    session.mount("", adapter)
    return session


# --- httpx2 -------------------------------------------------------------------


def _connect_error(host: str, exc: OSError) -> httpcore2.ConnectError:
    """Wrap a resolver failure so that httpx2 reports it as ConnectError."""
    return httpcore2.ConnectError(f"Failed to resolve {host!r}: {exc}")


def _no_delay(socket_options: Iterable[Any] | None) -> list[Any]:
    """Add TCP_NODELAY, so that a request written as headers then body is not held back by Nagle's algorithm."""
    return [*(socket_options or ()), (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]


class _GuardedNetworkBackend(httpcore2.NetworkBackend):
    """Network backend that resolves and checks each new connection's host, then connects to the checked IP."""

    def __init__(self, inner: httpcore2.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.NetworkStream:
        """Open a TCP connection to the pinned address of a checked host."""
        try:
            address = resolve_destination(host, port)
        except OSError as exc:
            raise _connect_error(host, exc) from exc
        return self._inner.connect_tcp(
            address, port, timeout=timeout, local_address=local_address, socket_options=_no_delay(socket_options)
        )

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.NetworkStream:
        """Raise OutboundRequestBlocked for Unix sockets, which have no address to check."""
        raise OutboundRequestBlocked("Outbound request was blocked: Unix sockets are not allowed.")

    def sleep(self, seconds: float) -> None:
        """Sleep between connection retries."""
        self._inner.sleep(seconds)


class _AsyncGuardedNetworkBackend(httpcore2.AsyncNetworkBackend):
    """Async network backend that resolves and checks in a worker thread, then connects to the checked IP."""

    def __init__(self, inner: httpcore2.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        """Open a TCP connection to the pinned address of a checked host."""
        try:
            address = await anyio.to_thread.run_sync(resolve_destination, host, port)
        except OSError as exc:
            raise _connect_error(host, exc) from exc
        return await self._inner.connect_tcp(
            address, port, timeout=timeout, local_address=local_address, socket_options=_no_delay(socket_options)
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        """Raise OutboundRequestBlocked for Unix sockets, which have no address to check."""
        raise OutboundRequestBlocked("Outbound request was blocked: Unix sockets are not allowed.")

    async def sleep(self, seconds: float) -> None:
        """Sleep between connection retries."""
        await self._inner.sleep(seconds)


class _CappedStream(httpx2.SyncByteStream):
    """httpx2 response stream that counts body bytes against a budget.

    NOTE: the transport sees the body before content decoding, so the limit
    applies to compressed bytes and a small gzip body may decode to more.
    """

    def __init__(self, inner: httpx2.SyncByteStream, budget: _ByteBudget) -> None:
        self._inner = inner
        self._budget = budget

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            try:
                self._budget.consume(len(chunk))
            except ResponseTooLarge:
                self._inner.close()
                raise
            yield chunk

    def close(self) -> None:
        """Close the underlying stream."""
        self._inner.close()


class _AsyncCappedStream(httpx2.AsyncByteStream):
    """Async httpx2 response stream that counts body bytes before content decoding."""

    def __init__(self, inner: httpx2.AsyncByteStream, budget: _ByteBudget) -> None:
        self._inner = inner
        self._budget = budget

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            try:
                self._budget.consume(len(chunk))
            except ResponseTooLarge:
                await self._inner.aclose()
                raise
            yield chunk

    async def aclose(self) -> None:
        """Close the underlying stream."""
        await self._inner.aclose()


@functools.cache
def _default_ssl_context() -> ssl.SSLContext:
    """Return the verifying TLS context that every client without its own TLS options shares.

    Loading the CA bundle took about 90 ms here, and the LLM gateway builds a client per call,
    so the context is built once. An SSLContext is safe to share between threads.
    """
    return httpx2.create_ssl_context(verify=True, trust_env=False)


def _pool_options(
    *,
    verify: ssl.SSLContext | str | bool,
    cert: Any,
    http1: bool,
    http2: bool,
    limits: httpx2.Limits | None,
    retries: int,
) -> dict[str, Any]:
    """Return the options shared by the sync and async connection pools."""
    limits = limits or _DEFAULT_HTTPX_LIMITS
    if verify is True and cert is None:
        ssl_context = _default_ssl_context()
    else:
        ssl_context = httpx2.create_ssl_context(verify=verify, cert=cert, trust_env=False)
    return {
        "ssl_context": ssl_context,
        "max_connections": limits.max_connections,
        "max_keepalive_connections": limits.max_keepalive_connections,
        "keepalive_expiry": limits.keepalive_expiry,
        "http1": http1,
        "http2": http2,
        "retries": retries,
    }


def _response_budget(request: httpx2.Request, response: httpx2.Response, limit: int) -> _ByteBudget:
    """Check a response's declared length and return its byte budget."""
    budget = _ByteBudget(_normalise_host(request.url.host), limit)
    if _may_have_body(request.method, response.status_code):
        budget.check_declared(response.headers.get("Content-Length"))
    return budget


class GuardedTransport(httpx2.HTTPTransport):
    """httpx2 transport that checks, pins and caps every connection.

    Each new connection resolves and checks its host and connects to the
    checked IP. The URL keeps the host name, so the Host header, TLS SNI,
    certificate verification and the pool key all stay with the name.
    """

    def __init__(
        self,
        *,
        verify: ssl.SSLContext | str | bool = True,
        cert: Any = None,
        http1: bool = True,
        http2: bool = False,
        limits: httpx2.Limits | None = None,
        retries: int = 0,
        max_response_bytes: int | None = None,
    ) -> None:
        """Build the transport over a connection pool with a guarded backend."""
        options = _pool_options(verify=verify, cert=cert, http1=http1, http2=http2, limits=limits, retries=retries)
        super().__init__(verify=options["ssl_context"], trust_env=False, http1=http1, http2=http2)
        self._pool = httpcore2.ConnectionPool(
            **options, network_backend=_GuardedNetworkBackend(httpcore2.SyncBackend())
        )
        self.max_response_bytes = _default_max_response_bytes() if max_response_bytes is None else max_response_bytes

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """Check the URL, send the request and cap the response body."""
        check_url(str(request.url))
        response = super().handle_request(request)
        try:
            budget = _response_budget(request, response, self.max_response_bytes)
        except ResponseTooLarge:
            response.stream.close()  # type: ignore[union-attr]
            raise
        response.stream = _CappedStream(response.stream, budget)  # type: ignore[arg-type]
        return response


class AsyncGuardedTransport(httpx2.AsyncHTTPTransport):
    """Async httpx2 transport that checks, pins and caps every connection, as GuardedTransport does."""

    def __init__(
        self,
        *,
        verify: ssl.SSLContext | str | bool = True,
        cert: Any = None,
        http1: bool = True,
        http2: bool = False,
        limits: httpx2.Limits | None = None,
        retries: int = 0,
        max_response_bytes: int | None = None,
    ) -> None:
        """Build the transport over a connection pool with a guarded backend."""
        options = _pool_options(verify=verify, cert=cert, http1=http1, http2=http2, limits=limits, retries=retries)
        super().__init__(verify=options["ssl_context"], trust_env=False, http1=http1, http2=http2)
        self._pool = httpcore2.AsyncConnectionPool(
            **options, network_backend=_AsyncGuardedNetworkBackend(httpcore2.AnyIOBackend())
        )
        self.max_response_bytes = _default_max_response_bytes() if max_response_bytes is None else max_response_bytes

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """Check the URL, send the request and cap the response body."""
        check_url(str(request.url))
        response = await super().handle_async_request(request)
        try:
            budget = _response_budget(request, response, self.max_response_bytes)
        except ResponseTooLarge:
            await response.stream.aclose()  # type: ignore[union-attr]
            raise
        response.stream = _AsyncCappedStream(response.stream, budget)  # type: ignore[arg-type]
        return response


def _split_client_options(kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Separate transport options from client options and reject options that bypass the guard."""
    for name in _BYPASSING_CLIENT_OPTIONS:
        if name in kwargs:
            raise TypeError(f"guarded httpx2 clients do not accept {name!r}: it would bypass the guard")
    if kwargs.get("trust_env"):
        raise TypeError("guarded httpx2 clients do not accept trust_env=True: environment proxies bypass the guard")
    client_options = {key: value for key, value in kwargs.items() if key not in _TRANSPORT_OPTIONS}
    transport_options = {key: value for key, value in kwargs.items() if key in _TRANSPORT_OPTIONS}
    client_options["trust_env"] = False
    client_options.setdefault("timeout", _default_timeout())
    return client_options, transport_options


def guarded_httpx_client(*, max_response_bytes: int | None = None, **kwargs: Any) -> httpx2.Client:
    """Build an httpx2 client whose requests and redirects are guarded.

    The response size cap applies here too, so pass a larger max_response_bytes
    for SDK calls that return large bodies, such as big embedding batches.
    """
    client_options, transport_options = _split_client_options(kwargs)
    transport = GuardedTransport(max_response_bytes=max_response_bytes, **transport_options)
    return httpx2.Client(transport=transport, **client_options)


def guarded_async_httpx_client(*, max_response_bytes: int | None = None, **kwargs: Any) -> httpx2.AsyncClient:
    """Build an async httpx2 client whose requests and redirects are guarded."""
    client_options, transport_options = _split_client_options(kwargs)
    transport = AsyncGuardedTransport(max_response_bytes=max_response_bytes, **transport_options)
    return httpx2.AsyncClient(transport=transport, **client_options)
