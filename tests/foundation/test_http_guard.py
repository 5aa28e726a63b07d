"""Tests for the outbound HTTP guard in athena_site.http.

Every test runs inside a network jail: the guard's resolver is a stub, the
system resolver only accepts numeric addresses, and a socket may only connect
to 127.0.0.1 ports of servers started here. A guard bug therefore fails a
test instead of sending a packet anywhere else.
"""

import asyncio
import contextlib
import datetime
import http.server
import pickle
import re
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from athena_site import http as guard
from athena_site.http import (
    GuardedHTTPAdapter,
    InvalidOutboundUrl,
    OutboundRequestBlocked,
    ResponseTooLarge,
    check_url,
    guarded_async_httpx_client,
    guarded_httpx_client,
    guarded_session,
    resolve_destination,
)

pytestmark = pytest.mark.timeout(10)

PINNED_NAME = "api.example.test"
HELLO_BODY = b"hello from the test server"
OVERSIZED_BODY_BYTES = 5000
SMALL_LIMIT = 1000
# A global unicast address used only in pure resolution checks. The jail
# makes sure nothing ever connects to it.
PUBLIC_ADDRESS = "203.0.114.7"


# --- network jail ----------------------------------------------------------------


@dataclass
class NetworkJail:
    """Stubbed name resolution plus a connect filter that only admits local test servers."""

    names: dict[str, list[str]] = field(default_factory=dict)
    allowed_ports: set[int] = field(default_factory=set)
    connects: list[tuple[str, int]] = field(default_factory=list)
    lookups: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    def resolve(self, host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple]:
        """Resolve the guard's lookups from the stub table only."""
        self.lookups.append(host)
        if host not in self.names:
            raise socket.gaierror(socket.EAI_NONAME, f"{host} is not in the test resolver")
        answers = []
        for address in self.names[host]:
            if ":" in address:
                answers.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
            else:
                answers.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
        return answers

    def violation(self, message: str) -> AssertionError:
        """Record a violation and build the error that stops it."""
        self.violations.append(message)
        return AssertionError(message)

    def check_connect(self, address: Any) -> None:
        """Allow only 127.0.0.1 ports of servers that this test module started."""
        if isinstance(address, tuple) and address[0] == "127.0.0.1" and address[1] in self.allowed_ports:
            self.connects.append((address[0], address[1]))
            return
        raise self.violation(f"test attempted a real connection to {address!r}")


@pytest.fixture(autouse=True)
def jail(monkeypatch: pytest.MonkeyPatch) -> Iterator[NetworkJail]:
    jail = NetworkJail()
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def connect(sock: socket.socket, address: Any) -> None:
        jail.check_connect(address)
        return real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        jail.check_connect(address)
        return real_connect_ex(sock, address)

    def numeric_getaddrinfo(host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0):
        # AI_NUMERICHOST makes the system resolver fail on names instead of asking DNS.
        try:
            return real_getaddrinfo(host, port, family, type, proto, flags | socket.AI_NUMERICHOST)
        except socket.gaierror:
            raise jail.violation(f"test attempted a real DNS lookup of {host!r}") from None

    def no_lookup(*args: Any, **kwargs: Any) -> None:
        raise jail.violation(f"test attempted a real DNS lookup of {args!r}")

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", numeric_getaddrinfo)
    for name in ("gethostbyname", "gethostbyname_ex", "gethostbyaddr"):
        monkeypatch.setattr(socket, name, no_lookup)
    monkeypatch.setattr(guard, "_getaddrinfo", jail.resolve)
    yield jail
    assert not jail.violations, jail.violations


@pytest.fixture(autouse=True)
def outbound_settings(settings: Any) -> Any:
    """Start every test from an empty allowlist, whatever the project settings list."""
    settings.ATHENA_OUTBOUND_ALLOWLIST = []
    settings.ATHENA_OUTBOUND_TIMEOUT_SECONDS = 5.0
    settings.ATHENA_OUTBOUND_MAX_RESPONSE_BYTES = guard.DEFAULT_MAX_RESPONSE_BYTES
    return settings


# --- local test servers ------------------------------------------------------------


class RecordingHandler(http.server.BaseHTTPRequestHandler):
    """Request handler for a few fixed routes that records the Host header of every request."""

    server: "RecordingServer"

    def do_GET(self) -> None:
        self.server.hosts.append(self.headers.get("Host", ""))
        parts = urlsplit(self.path)
        if parts.path == "/hello":
            self._reply(200, HELLO_BODY)
        elif parts.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", parse_qs(parts.query)["to"][0])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif parts.path == "/declared-large":
            self._reply(200, b"x" * OVERSIZED_BODY_BYTES)
        elif parts.path == "/streamed-large":
            # No Content-Length: the body ends when the connection closes.
            self.send_response(200)
            self.end_headers()
            for _ in range(OVERSIZED_BODY_BYTES // 500):
                self.wfile.write(b"y" * 500)
                self.wfile.flush()
        elif parts.path == "/slow":
            self.server.release.wait(timeout=5)
            self._reply(200, b"late")
        else:
            self._reply(404, b"not found")

    def _reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class RecordingServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        self.hosts: list[str] = []
        self.connections = 0
        self.release = threading.Event()
        super().__init__(("127.0.0.1", 0), RecordingHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, which can be a DNS query.
        http.server.socketserver.TCPServer.server_bind(self)
        self.server_name = "127.0.0.1"
        self.server_port = self.server_address[1]

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients in these tests hang up mid-body on purpose, so the broken pipe
        # that follows on the server side is expected and not worth a traceback.
        pass

    def process_request(self, request: Any, client_address: Any) -> None:
        self.connections += 1
        super().process_request(request, client_address)


@dataclass
class LocalServer:
    server: RecordingServer
    scheme: str

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"


@contextlib.contextmanager
def _serve(jail: NetworkJail, tls_context: ssl.SSLContext | None = None) -> Iterator[LocalServer]:
    server = RecordingServer()
    if tls_context is not None:
        server.socket = tls_context.wrap_socket(server.socket, server_side=True)
    jail.allowed_ports.add(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield LocalServer(server=server, scheme="https" if tls_context else "http")
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def local_server(jail: NetworkJail) -> Iterator[LocalServer]:
    with _serve(jail) as server:
        yield server


@dataclass
class Certificate:
    cert_path: Path
    key_path: Path


def _self_signed_certificate(directory: Path, name: str) -> Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / f"{name}.pem"
    key_path = directory / f"{name}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return Certificate(cert_path=cert_path, key_path=key_path)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Certificate]:
    directory = tmp_path_factory.mktemp("certs")
    return {name: _self_signed_certificate(directory, name) for name in (PINNED_NAME, "other.example.test")}


@dataclass
class TlsServer(LocalServer):
    server_names: list[str | None] = field(default_factory=list)


@contextlib.contextmanager
def _tls_server(jail: NetworkJail, certificate: Certificate) -> Iterator[TlsServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate.cert_path, certificate.key_path)
    server_names: list[str | None] = []
    context.sni_callback = lambda _sock, server_name, _context: server_names.append(server_name)
    with _serve(jail, context) as local:
        yield TlsServer(server=local.server, scheme="https", server_names=server_names)


# --- the three clients ---------------------------------------------------------


@dataclass
class Fetched:
    status: int
    body: bytes


def _fetch_requests(url: str, ca_path: Path | None = None, **options: Any) -> Fetched:
    with guarded_session(**options) as session:
        response = session.get(url, verify=str(ca_path) if ca_path else True)
        return Fetched(response.status_code, response.content)


def _client_options(ca_path: Path | None, options: dict[str, Any]) -> dict[str, Any]:
    if ca_path is not None:
        options["verify"] = ssl.create_default_context(cafile=str(ca_path))
    return {"follow_redirects": True, **options}


def _fetch_httpx(url: str, ca_path: Path | None = None, **options: Any) -> Fetched:
    with guarded_httpx_client(**_client_options(ca_path, options)) as client:
        response = client.get(url)
        return Fetched(response.status_code, response.content)


def _fetch_httpx_async(url: str, ca_path: Path | None = None, **options: Any) -> Fetched:
    async def fetch() -> Fetched:
        async with guarded_async_httpx_client(**_client_options(ca_path, options)) as client:
            response = await client.get(url)
            return Fetched(response.status_code, response.content)

    return asyncio.run(fetch())


CLIENTS: dict[str, Callable[..., Fetched]] = {
    "requests": _fetch_requests,
    "httpx": _fetch_httpx,
    "httpx_async": _fetch_httpx_async,
}


@pytest.fixture(params=sorted(CLIENTS))
def fetch(request: pytest.FixtureRequest) -> Callable[..., Fetched]:
    return CLIENTS[request.param]


# --- blocked destinations through every client ---------------------------------


@dataclass(frozen=True)
class Blocked:
    url: str
    host: str
    names: dict[str, list[str]] = field(default_factory=dict)
    # httpx2's URL parser itself rejects some spellings before any guard code
    # runs. The unit tests below cover the guard's own handling of them.
    httpx_parser_rejects: bool = False


BLOCKED = {
    "loopback": Blocked("http://127.0.0.1:9/", "127.0.0.1"),
    "private_10": Blocked("http://10.1.2.3/", "10.1.2.3"),
    "private_172": Blocked("http://172.16.0.1/", "172.16.0.1"),
    "private_192": Blocked("http://192.168.1.1/", "192.168.1.1"),
    "metadata": Blocked("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
    "ipv6_loopback": Blocked("http://[::1]:9/", "::1"),
    "ipv4_mapped": Blocked("http://[::ffff:127.0.0.1]:9/", "::ffff:127.0.0.1"),
    "unique_local": Blocked("http://[fd00::1]/", "fd00::1"),
    "decimal": Blocked("http://2130706433:9/", "2130706433"),
    "octal": Blocked("http://0177.0.0.1:9/", "0177.0.0.1", httpx_parser_rejects=True),
    "hex_short": Blocked("http://0x7f.1:9/", "0x7f.1"),
    "short": Blocked("http://127.1:9/", "127.1"),
    "private_name": Blocked(
        "http://internal.example.test/", "internal.example.test", {"internal.example.test": ["10.0.0.5"]}
    ),
}


@pytest.mark.parametrize("case", BLOCKED.values(), ids=BLOCKED.keys())
def test_clients_reject_blocked_destinations(fetch: Callable[..., Fetched], jail: NetworkJail, case: Blocked) -> None:
    jail.names.update(case.names)
    expected: type[Exception] = OutboundRequestBlocked
    if case.httpx_parser_rejects and fetch is not _fetch_requests:
        expected = httpx2.InvalidURL
    with pytest.raises(expected) as raised:
        fetch(case.url)
    assert repr(case.host) in str(raised.value)
    if expected is OutboundRequestBlocked:
        assert "was blocked" in str(raised.value)
    assert jail.connects == []


def test_clients_reject_redirect_to_private(
    fetch: Callable[..., Fetched], jail: NetworkJail, local_server: LocalServer, settings: Any
) -> None:
    settings.ATHENA_OUTBOUND_ALLOWLIST = [PINNED_NAME]
    jail.names[PINNED_NAME] = ["127.0.0.1"]
    url = local_server.url("/redirect?to=http://10.1.2.3/admin", host=PINNED_NAME)
    with pytest.raises(OutboundRequestBlocked, match=re.escape("'10.1.2.3'")):
        fetch(url)
    # The first hop reached the server, and the second was blocked before any connect.
    assert jail.connects == [("127.0.0.1", local_server.port)]


def test_clients_reject_redirect_to_private_name(
    fetch: Callable[..., Fetched], jail: NetworkJail, local_server: LocalServer, settings: Any
) -> None:
    settings.ATHENA_OUTBOUND_ALLOWLIST = [PINNED_NAME]
    jail.names.update({PINNED_NAME: ["127.0.0.1"], "intranet.example.test": ["192.168.1.1"]})
    url = local_server.url("/redirect?to=http://intranet.example.test/", host=PINNED_NAME)
    with pytest.raises(OutboundRequestBlocked, match=r"'intranet\.example\.test'.*192\.168\.1\.1"):
        fetch(url)


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://files.example.test/x", "gopher://gopher.example.test/"], ids=str
)
def test_clients_reject_other_schemes(fetch: Callable[..., Fetched], jail: NetworkJail, url: str) -> None:
    with pytest.raises(InvalidOutboundUrl, match="only http and https"):
        fetch(url)
    assert jail.lookups == []


def test_clients_report_unresolvable_names(fetch: Callable[..., Fetched]) -> None:
    with pytest.raises(
        (requests.exceptions.ConnectionError, httpx2.ConnectError), match=re.escape("missing.example.test")
    ):
        fetch("http://missing.example.test/")


# --- success, pinning and allowlisting -------------------------------------------


def test_clients_pin_allowlisted_host_name(
    fetch: Callable[..., Fetched], jail: NetworkJail, local_server: LocalServer, settings: Any
) -> None:
    settings.ATHENA_OUTBOUND_ALLOWLIST = ["API.Example.Test"]
    jail.names[PINNED_NAME] = ["127.0.0.1"]
    fetched = fetch(local_server.url("/hello", host=PINNED_NAME))
    assert fetched == Fetched(200, HELLO_BODY)
    # The guard resolved the name once and the client connected to that IP.
    # The name itself only travelled in the Host header.
    assert jail.lookups == [PINNED_NAME]
    assert jail.connects == [("127.0.0.1", local_server.port)]
    assert local_server.server.connections == 1
    assert local_server.server.hosts == [f"{PINNED_NAME}:{local_server.port}"]


def test_clients_allow_cidr_allowlist(
    fetch: Callable[..., Fetched], jail: NetworkJail, local_server: LocalServer, settings: Any
) -> None:
    settings.ATHENA_OUTBOUND_ALLOWLIST = ["127.0.0.0/8"]
    assert fetch(local_server.url("/hello")) == Fetched(200, HELLO_BODY)
    assert jail.lookups == []
    assert local_server.server.hosts == [f"127.0.0.1:{local_server.port}"]


def test_clients_follow_checked_redirects(
    fetch: Callable[..., Fetched], local_server: LocalServer, jail: NetworkJail, settings: Any
) -> None:
    settings.ATHENA_OUTBOUND_ALLOWLIST = [PINNED_NAME, "127.0.0.1/32"]
    jail.names[PINNED_NAME] = ["127.0.0.1"]
    target = local_server.url("/hello")
    fetched = fetch(local_server.url(f"/redirect?to={target}", host=PINNED_NAME))
    assert fetched == Fetched(200, HELLO_BODY)
    # Each hop carries its own Host header: the pinned name must not leak on.
    assert local_server.server.hosts == [f"{PINNED_NAME}:{local_server.port}", f"127.0.0.1:{local_server.port}"]


def test_clients_verify_tls_for_host_name(
    fetch: Callable[..., Fetched], jail: NetworkJail, certificates: dict[str, Certificate], settings: Any
) -> None:
    settings.ATHENA_OUTBOUND_ALLOWLIST = [PINNED_NAME]
    jail.names[PINNED_NAME] = ["127.0.0.1"]
    certificate = certificates[PINNED_NAME]
    with _tls_server(jail, certificate) as server:
        fetched = fetch(server.url("/hello", host=PINNED_NAME), ca_path=certificate.cert_path)
        assert fetched == Fetched(200, HELLO_BODY)
        assert server.server_names == [PINNED_NAME]
        assert server.server.hosts == [f"{PINNED_NAME}:{server.port}"]


def test_clients_reject_mismatched_certificate(
    fetch: Callable[..., Fetched], jail: NetworkJail, certificates: dict[str, Certificate], settings: Any
) -> None:
    settings.ATHENA_OUTBOUND_ALLOWLIST = [PINNED_NAME]
    jail.names[PINNED_NAME] = ["127.0.0.1"]
    certificate = certificates["other.example.test"]
    with _tls_server(jail, certificate) as server:
        url = server.url("/hello", host=PINNED_NAME)
        with pytest.raises((requests.exceptions.SSLError, httpx2.ConnectError), match=r"(?i)certificate"):
            fetch(url, ca_path=certificate.cert_path)


def test_clients_ignore_environment_proxies(
    fetch: Callable[..., Fetched], local_server: LocalServer, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.ATHENA_OUTBOUND_ALLOWLIST = ["127.0.0.1/32"]
    # Port 9 is not a server of this test, so using the proxy would trip the jail.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert fetch(local_server.url("/hello")) == Fetched(200, HELLO_BODY)


# --- response size and timeout ---------------------------------------------------


@pytest.mark.parametrize("path", ["/declared-large", "/streamed-large"])
def test_clients_cap_response_size(
    fetch: Callable[..., Fetched], local_server: LocalServer, settings: Any, path: str
) -> None:
    settings.ATHENA_OUTBOUND_ALLOWLIST = ["127.0.0.1/32"]
    with pytest.raises(ResponseTooLarge, match=f"limit of {SMALL_LIMIT} bytes"):
        fetch(local_server.url(path), max_response_bytes=SMALL_LIMIT)


def test_clients_cap_from_settings(fetch: Callable[..., Fetched], local_server: LocalServer, settings: Any) -> None:
    settings.ATHENA_OUTBOUND_ALLOWLIST = ["127.0.0.1/32"]
    settings.ATHENA_OUTBOUND_MAX_RESPONSE_BYTES = SMALL_LIMIT
    with pytest.raises(ResponseTooLarge, match="ATHENA_OUTBOUND_MAX_RESPONSE_BYTES"):
        fetch(local_server.url("/streamed-large"))


def test_clients_allow_body_at_limit(fetch: Callable[..., Fetched], local_server: LocalServer, settings: Any) -> None:
    settings.ATHENA_OUTBOUND_ALLOWLIST = ["127.0.0.1/32"]
    fetched = fetch(local_server.url("/hello"), max_response_bytes=len(HELLO_BODY))
    assert fetched == Fetched(200, HELLO_BODY)


def _read_all(raw: Any) -> None:
    raw.read()


def _stream_all(raw: Any) -> None:
    for _chunk in raw.stream(256):
        pass


def _readinto_all(raw: Any) -> None:
    buffer = bytearray(256)
    while raw.readinto(buffer):
        pass


@pytest.mark.parametrize("consume", [_read_all, _stream_all, _readinto_all], ids=["read", "stream", "readinto"])
def test_session_caps_raw_body_reads(local_server: LocalServer, settings: Any, consume: Callable[[Any], None]) -> None:
    settings.ATHENA_OUTBOUND_ALLOWLIST = ["127.0.0.1/32"]
    with guarded_session(max_response_bytes=SMALL_LIMIT) as session:
        response = session.get(local_server.url("/streamed-large"), stream=True)
        with pytest.raises(ResponseTooLarge):
            consume(response.raw)


def test_adapter_survives_pickling(settings: Any) -> None:
    adapter = pickle.loads(pickle.dumps(GuardedHTTPAdapter(timeout=2.5, max_response_bytes=SMALL_LIMIT)))
    assert (adapter.timeout, adapter.max_response_bytes) == (2.5, SMALL_LIMIT)


def test_clients_apply_default_timeout(fetch: Callable[..., Fetched], local_server: LocalServer, settings: Any) -> None:
    settings.ATHENA_OUTBOUND_ALLOWLIST = ["127.0.0.1/32"]
    settings.ATHENA_OUTBOUND_TIMEOUT_SECONDS = 0.2
    with pytest.raises((requests.exceptions.Timeout, httpx2.TimeoutException)):
        fetch(local_server.url("/slow"))


def test_default_timeout_reads_settings(settings: Any) -> None:
    settings.ATHENA_OUTBOUND_TIMEOUT_SECONDS = 3.5
    with guarded_session() as session:
        assert session.get_adapter("https://x.example.test/").timeout == 3.5
        assert session.trust_env is False
    with guarded_httpx_client() as client:
        assert client.timeout == httpx2.Timeout(3.5)
        assert client.trust_env is False


# --- guard units ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("2130706433", "127.0.0.1, a loopback"),
        ("0177.0.0.1", "127.0.0.1, a loopback"),
        ("0x7f000001", "127.0.0.1, a loopback"),
        ("0.0.0.0", "unspecified"),
        ("[::]", "unspecified"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("100.100.100.200", "cloud metadata"),
        ("fd00:ec2::254", "cloud metadata"),
        ("::ffff:169.254.169.254", "cloud metadata"),
        ("224.0.0.1", "multicast"),
        ("fe80::1", "link-local"),
        ("fec0::1", "site-local"),
        ("2002:7f00:1::1", "embeds 127.0.0.1"),
        ("64:ff9b::a00:1", "embeds 10.0.0.1"),
        ("192.0.2.10", "private"),
        ("240.0.0.1", "private"),
    ],
)
def test_resolve_destination_rejects_literals(host: str, reason: str) -> None:
    with pytest.raises(OutboundRequestBlocked, match=reason):
        resolve_destination(host, 80)


def test_resolve_destination_pins_first_address(jail: NetworkJail) -> None:
    jail.names["public.example.test"] = [PUBLIC_ADDRESS, "203.0.114.8"]
    assert resolve_destination("Public.Example.Test.", 443) == PUBLIC_ADDRESS
    assert jail.lookups == ["public.example.test"]


def test_resolve_destination_rejects_any_private_answer(jail: NetworkJail) -> None:
    jail.names["mixed.example.test"] = [PUBLIC_ADDRESS, "10.0.0.5"]
    with pytest.raises(OutboundRequestBlocked) as raised:
        resolve_destination("mixed.example.test", 443)
    assert str(raised.value) == (
        "Outbound request to 'mixed.example.test' was blocked: it resolves to 10.0.0.5, a private address. "
        "Add the host to ATHENA_OUTBOUND_ALLOWLIST to allow it."
    )


def test_resolve_destination_allows_public_nat64() -> None:
    assert resolve_destination("64:ff9b::cb00:7207", 443) == "64:ff9b::cb00:7207"


def test_allowlist_name_covers_only_itself(jail: NetworkJail, settings: Any) -> None:
    settings.ATHENA_OUTBOUND_ALLOWLIST = ["identity.example.test"]
    jail.names.update({"identity.example.test": ["10.0.0.7"], "other.example.test": ["10.0.0.7"]})
    assert resolve_destination("identity.example.test", 443) == "10.0.0.7"
    with pytest.raises(OutboundRequestBlocked, match=re.escape("'other.example.test'")):
        resolve_destination("other.example.test", 443)


def test_allowlist_cidr_covers_mapped_addresses(settings: Any) -> None:
    settings.ATHENA_OUTBOUND_ALLOWLIST = ["127.0.0.1/32", "::1/128"]
    assert resolve_destination("::ffff:127.0.0.1", 80) == "::ffff:7f00:1"
    assert resolve_destination("[::1]", 80) == "::1"
    with pytest.raises(OutboundRequestBlocked):
        resolve_destination("127.0.0.2", 80)


def test_allowlist_metadata_needs_exact_address(jail: NetworkJail, settings: Any) -> None:
    jail.names["trusted.example.test"] = ["169.254.169.254"]
    settings.ATHENA_OUTBOUND_ALLOWLIST = ["169.254.0.0/16", "trusted.example.test"]
    for host in ("169.254.169.254", "trusted.example.test"):
        with pytest.raises(OutboundRequestBlocked, match="cloud metadata"):
            resolve_destination(host, 80)
    settings.ATHENA_OUTBOUND_ALLOWLIST = ["169.254.169.254/32"]
    assert resolve_destination("169.254.169.254", 80) == "169.254.169.254"


def test_allowlist_rejects_malformed_network(settings: Any) -> None:
    from django.core.exceptions import ImproperlyConfigured

    settings.ATHENA_OUTBOUND_ALLOWLIST = ["10.0.0.0/33"]
    with pytest.raises(ImproperlyConfigured, match=re.escape("10.0.0.0/33")):
        resolve_destination("10.0.0.1", 80)


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://files.example.test/", "gopher://x.example.test/", "http:///path", "//x/y"]
)
def test_check_url_rejects_invalid_urls(url: str) -> None:
    with pytest.raises(InvalidOutboundUrl):
        check_url(url)


def test_check_url_accepts_http_and_https() -> None:
    check_url("http://api.example.test/v1")
    check_url("HTTPS://api.example.test:8443/v1?key=secret")


def test_session_rejects_explicit_proxies(jail: NetworkJail) -> None:
    with guarded_session() as session, pytest.raises(OutboundRequestBlocked, match="proxies"):
        session.get("http://api.example.test/", proxies={"http": "http://127.0.0.1:9"})
    assert jail.lookups == []


@pytest.mark.parametrize("option", ["transport", "mounts", "proxy"])
def test_httpx_clients_reject_bypass_options(option: str) -> None:
    with pytest.raises(TypeError, match=option):
        guarded_httpx_client(**{option: None})
    with pytest.raises(TypeError, match=option):
        guarded_async_httpx_client(**{option: None})


def test_adapter_rejects_unchecked_requests() -> None:
    adapter = GuardedHTTPAdapter()
    prepared = requests.Request("GET", "http://api.example.test/").prepare()
    with pytest.raises(OutboundRequestBlocked, match="not checked"):
        adapter.get_connection_with_tls_context(prepared, verify=True)
