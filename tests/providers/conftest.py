"""Fixtures of the providers tests: providers, accounts, fake servers and the check that no credential is logged."""

import json
import logging
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from providers import http as provider_http
from providers import oauth
from providers.llm import gateway
from tests.fakes import FakeServer
from tests.fakes_llm import fake_llm  # noqa: F401 (fixture)
from tests.fakes_oauth import fake_oauth  # noqa: F401 (fixture)
from tests.workspaces.conftest import (  # noqa: F401 (fixtures)
    make_client,
    member_of,
    outsider,
    owner,
    owner_client,
    workspace,
)

# Every credential a test gives to Athena, which the log check searches for.
ISSUED_SECRETS: list[str] = []


def make_secret(prefix: str = "sk-test-") -> str:
    """Return a new credential-like string and remember it for the log check."""
    value = prefix + secrets.token_urlsafe(24)
    ISSUED_SECRETS.append(value)
    return value


@pytest.fixture
def secret() -> str:
    return make_secret()


class _LogCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.texts: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.texts.append(self.format(record) + " " + repr(record.__dict__))
        except Exception:
            self.texts.append(repr(record.__dict__))


@pytest.fixture(autouse=True)
def credentials_never_logged() -> Iterator[_LogCollector]:
    """Fail a test when any credential it issued appears in a log record, at any level."""
    root = logging.getLogger()
    collector = _LogCollector()
    previous_level = root.level
    root.addHandler(collector)
    root.setLevel(logging.DEBUG)
    first = len(ISSUED_SECRETS)
    try:
        yield collector
    finally:
        root.removeHandler(collector)
        root.setLevel(previous_level)
    issued = ISSUED_SECRETS[first:]
    leaks = [text[:300] for text in collector.texts if any(value in text for value in issued)]
    assert not leaks, f"Credentials appeared in logs: {leaks[:3]}"


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """Record the backoff waits of the HTTP session, the gateway and the OAuth refresh instead of sleeping."""
    recorded: list[float] = []
    for module in (provider_http, gateway, oauth):
        monkeypatch.setattr(module, "_sleep", recorded.append)
    return recorded


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


class EchoServer(FakeServer):
    """A server that records each request and returns the queued (status, headers, body), else 200 `{"ok": true}`."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.answers: list[tuple[int, dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        super().__init__(_EchoHandler)
        # A short poll interval makes stop() return quickly, which keeps the suite fast.
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def answer(self, status: int, headers: dict[str, str] | None = None, body: Any = None) -> None:
        payload = json.dumps(body if body is not None else {"status": status}).encode()
        self.answers.append((status, headers or {}, payload))


class _EchoHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        fake: EchoServer = self.server.fake  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        with fake.lock:
            fake.received.append(
                Received(
                    self.command,
                    parts.path,
                    parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
            )
            status, headers, payload = fake.answers.pop(0) if fake.answers else (200, {}, b'{"ok": true}')
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _handle


@pytest.fixture
def echo_server() -> Iterator[EchoServer]:
    server = EchoServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
