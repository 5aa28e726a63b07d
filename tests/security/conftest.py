"""Fixtures of the security suites: a network jail, a workspace owner with a real token, row counts."""

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.apps import apps
from rest_framework.test import APIClient

from accounts_auth.services import personal_access_token_create
from athena_site import http as guard
from tests.factories import UserFactory, WorkspaceFactory


@dataclass
class NetworkJail:
    """Stubbed name resolution and a connect filter, so a guard bug cannot send a packet off this machine.

    `names` is the stub DNS table the guard's resolver reads. A socket may connect only to
    127.0.0.1 (or ::1): the test's own servers, the database and Redis. Any other destination is
    recorded as a violation and refused before the system call.
    """

    names: dict[str, list[str]] = field(default_factory=dict)
    lookups: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    # When set, loopback connections are allowed only to these ports: the test's own servers,
    # the database and Redis.
    loopback_ports: set[int] | None = None

    def resolve(self, host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple]:
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

    def check_connect(self, address: Any) -> None:
        if isinstance(address, (str, bytes)):
            # Unix sockets (a local PostgreSQL or Redis) never leave the machine.
            return
        is_loopback = isinstance(address, tuple) and address[0] in ("127.0.0.1", "::1")
        if is_loopback and (self.loopback_ports is None or address[1] in self.loopback_ports):
            return
        message = f"a test attempted a connection to {address!r}"
        self.violations.append(message)
        raise ConnectionRefusedError(message)


@pytest.fixture
def network_jail(monkeypatch: pytest.MonkeyPatch) -> Iterator[NetworkJail]:
    """Stub the guard's resolver and refuse every connection that is not to loopback."""
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
        # Only numeric hosts and loopback names resolve; any other name would be a real DNS query.
        if isinstance(host, bytes):
            host = host.decode()
        if host == "localhost":
            host = "127.0.0.1"
        try:
            return real_getaddrinfo(host, port, family, type, proto, flags | socket.AI_NUMERICHOST)
        except socket.gaierror:
            jail.violations.append(f"a test attempted a DNS lookup of {host!r}")
            raise

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", numeric_getaddrinfo)
    monkeypatch.setattr(guard, "_getaddrinfo", jail.resolve)
    yield jail
    assert not jail.violations, jail.violations


def service_ports() -> set[int]:
    """Return the loopback ports of the database and Redis the tests use, which stay reachable."""
    from urllib.parse import urlsplit

    from django.conf import settings
    from django.db import connection

    ports = set()
    if connection.vendor == "postgresql":
        ports.add(int(connection.settings_dict.get("PORT") or 5432))
    if settings.REDIS_URL:
        ports.add(urlsplit(settings.REDIS_URL).port or 6379)
    return ports


@pytest.fixture
def owner(db: None) -> Any:
    return UserFactory()


@pytest.fixture
def workspace(owner: Any) -> Any:
    return WorkspaceFactory(owner=owner, name="Security team")


@pytest.fixture
def owner_token(owner: Any) -> str:
    """A real personal access token of the workspace owner, with every ability."""
    _token, raw = personal_access_token_create(user=owner, name="security", abilities=["*"])
    return raw


@pytest.fixture
def owner_client(owner_token: str, workspace: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {owner_token}", HTTP_X_WORKSPACE=str(workspace.pk))
    return client


# Rows that any browser request may add: allauth records a session's first request.
SESSION_MODELS = frozenset({"sessions.Session", "usersessions.UserSession"})


def row_counts(*, exclude: frozenset[str] = SESSION_MODELS) -> dict[str, int]:
    """Count the rows of every model, to prove that a refused request wrote nothing."""
    counts = {}
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed or model._meta.label in exclude:
            continue
        counts[model._meta.label] = model._default_manager.count()
    return counts


# Figures of the fuzz and bad input suites, printed at the end of the run for docs/security.md.
SECURITY_FIGURES: dict[str, int] = {}


def count_figure(name: str, amount: int = 1) -> None:
    SECURITY_FIGURES[name] = SECURITY_FIGURES.get(name, 0) + amount


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SECURITY_FIGURES:
        terminalreporter.section("security figures")
        for name, value in sorted(SECURITY_FIGURES.items()):
            terminalreporter.write_line(f"{name}: {value}")
