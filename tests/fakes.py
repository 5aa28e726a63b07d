"""Small real HTTP servers on 127.0.0.1 that stand in for services outside this machine."""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _NoDelayHTTPServer(ThreadingHTTPServer):
    """Sends each write at once, as production HTTP servers do.

    With Nagle's algorithm on, a response written as headers then body waits for the client's
    delayed acknowledgement, about 40 ms on Linux, whenever the connection is kept alive.
    """

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address


class FakeServer:
    """A threaded HTTP server on 127.0.0.1 with a port chosen by the OS; stop() shuts it down."""

    def __init__(self, handler_class: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = _NoDelayHTTPServer(("127.0.0.1", 0), handler_class)
        self.httpd.fake = self
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


class FakeMultiplai(FakeServer):
    """Multiplai's `GET /api/user`: answers per token as configured in `users` and `mode`.

    `mode` is `normal`, `garbage` (a body that is not JSON), `error` (500), `slow` (waits
    `delay` seconds) or `drop` (closes the connection without answering).
    """

    def __init__(self) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self.mode = "normal"
        self.delay = 2.0
        self.calls = 0
        self.lock = threading.Lock()
        super().__init__(_MultiplaiHandler)

    def add_user(self, token: str, **fields: Any) -> dict[str, Any]:
        user = {
            "id": fields.pop("id", f"mp-{len(self.users) + 1}"),
            "name": "Multiplai User",
            "email": f"mp{len(self.users) + 1}@example.com",
            "avatar_url": "https://cdn.example.com/a.png",
            "organizations": [],
            **fields,
        }
        self.users[token] = user
        return user


class _MultiplaiHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        fake: FakeMultiplai = self.server.fake
        with fake.lock:
            fake.calls += 1
        if self.path != "/api/user":
            self._send(404, b'{"message": "not found"}')
            return
        if fake.mode == "garbage":
            self._send(200, b"<html>maintenance</html>", "text/html")
            return
        if fake.mode == "error":
            self._send(500, b'{"message": "server error"}')
            return
        if fake.mode == "slow":
            time.sleep(fake.delay)
        if fake.mode == "drop":
            self.close_connection = True
            self.connection.close()
            return
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        user = fake.users.get(token) if scheme == "Bearer" else None
        if user is None:
            self._send(401, b'{"message": "Unauthenticated."}')
            return
        self._send(200, json.dumps(user).encode())
