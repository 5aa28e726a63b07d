"""A real MCP server on 127.0.0.1, built with the `mcp` SDK's own server side and served by uvicorn.

Tools: `add(a, b)`, `fail()` that always reports an error, `slow(seconds)` that waits before it
responds, and `dots.name`, whose name models do not accept as is. `calls` counts the calls of each
tool; `requests` records the method, path, query string and headers of every HTTP request the server
receives.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest
import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError


@dataclass
class ReceivedRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]


@dataclass
class FakeMCP:
    """The server's state: counted calls and received requests; `url` is the streamable HTTP endpoint."""

    url: str = ""
    calls: Counter[str] = field(default_factory=Counter)
    requests: list[ReceivedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, tool: str) -> None:
        with self.lock:
            self.calls[tool] += 1

    def headers_received(self, name: str) -> list[str]:
        with self.lock:
            return [request.headers[name] for request in self.requests if name in request.headers]


def build_server(state: FakeMCP) -> MCPServer:
    server = MCPServer("athena-test-tools")

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two whole numbers."""
        state.count("add")
        return a + b

    @server.tool()
    def fail() -> str:
        """Always fails."""
        state.count("fail")
        raise ToolError("the warehouse is closed")

    @server.tool()
    async def slow(seconds: float) -> str:
        """Wait, then respond."""
        state.count("slow")
        await anyio.sleep(seconds)
        return "done"

    @server.tool(name="dots.name")
    def dots_name() -> str:
        """A tool whose name contains a dot."""
        return "dotted"

    return server


class _RecordingMiddleware:
    """ASGI middleware that records each HTTP request's method, path and headers."""

    def __init__(self, app: Any, state: FakeMCP) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
            with self.state.lock:
                query = scope["query_string"].decode("latin-1")
                self.state.requests.append(ReceivedRequest(scope["method"], scope["path"], query, headers))
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def _mcp_server() -> Iterator[FakeMCP]:
    state = FakeMCP()
    app = _RecordingMiddleware(build_server(state).streamable_http_app(), state)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("The MCP test server did not start within 10 seconds.")
        time.sleep(0.01)
    state.url = f"http://127.0.0.1:{port}/mcp"
    yield state
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture
def fake_mcp(_mcp_server: FakeMCP) -> FakeMCP:
    """The module's MCP server with its counters and recorded requests reset for this test."""
    with _mcp_server.lock:
        _mcp_server.calls.clear()
        _mcp_server.requests.clear()
    return _mcp_server
