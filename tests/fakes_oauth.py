"""A fake OAuth2 authorization server on 127.0.0.1 for the connect and refresh flows.

`GET /authorize` consents at once and redirects to the client's `redirect_uri` with `code` and
`state` (or `error=access_denied` when `deny` is set). `POST /token` handles the
`authorization_code` grant (checking the client, the redirect URI and the PKCE S256 verifier)
and the `refresh_token` grant (rotating the refresh token, so a reused one gets `invalid_grant`).
`GET /resource` returns 200 only for a valid access token. `token_calls` counts token requests by
grant type; `token_delay` slows the token endpoint down so that concurrent refreshes overlap.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from tests.fakes import FakeServer


class FakeAuthorizationServer(FakeServer):
    def __init__(self, *, client_id: str = "athena-client", client_secret: str | None = "fake-client-secret") -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.deny = False
        self.expires_in = 3600
        self.token_delay = 0.0
        self.codes: dict[str, dict[str, Any]] = {}
        self.refresh_tokens: set[str] = set()
        self.access_tokens: set[str] = set()
        self.token_calls: Counter[str] = Counter()
        self.token_requests: list[dict[str, str]] = []
        self.lock = threading.Lock()
        super().__init__(_Handler)
        # A short poll interval makes stop() return quickly, which keeps the suite fast.
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def authorize_url(self) -> str:
        return f"{self.url}/authorize"

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    def consent(self, authorize_url: str) -> dict[str, str]:
        """Visit the authorize URL as the user's browser and return the query the callback receives."""
        response = requests.get(authorize_url, allow_redirects=False, timeout=5)
        assert response.status_code == 302, response.text
        return {key: values[0] for key, values in parse_qs(urlsplit(response.headers["Location"]).query).items()}

    def issue_tokens(self) -> dict[str, Any]:
        access_token = "fake-access-" + secrets.token_urlsafe(16)
        refresh_token = "fake-refresh-" + secrets.token_urlsafe(16)
        with self.lock:
            self.access_tokens.add(access_token)
            self.refresh_tokens.add(refresh_token)
        return {
            "access_token": access_token,
            "refresh_token": refresh_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": "read write",
        }


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    @property
    def fake(self) -> FakeAuthorizationServer:
        return self.server.fake  # type: ignore[attr-defined]

    def _send_json(self, status: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        if parts.path == "/authorize":
            self._authorize(query)
        elif parts.path == "/resource":
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            if token in self.fake.access_tokens:
                self._send_json(200, {"ok": True})
            else:
                self._send_json(401, {"error": "invalid_token"})
        else:
            self._send_json(404, {"error": "not_found"})

    def _authorize(self, query: dict[str, str]) -> None:
        redirect_uri = query.get("redirect_uri", "")
        if self.fake.deny:
            params = {"error": "access_denied", "state": query.get("state", "")}
        else:
            code = secrets.token_urlsafe(16)
            with self.fake.lock:
                self.fake.codes[code] = {
                    "client_id": query.get("client_id"),
                    "redirect_uri": redirect_uri,
                    "challenge": query.get("code_challenge"),
                    "scope": query.get("scope", ""),
                }
            params = {"code": code, "state": query.get("state", "")}
        self.send_response(302)
        self.send_header("Location", f"{redirect_uri}?{urlencode(params)}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        if urlsplit(self.path).path != "/token":
            self._send_json(404, {"error": "not_found"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        form = {key: values[0] for key, values in parse_qs(self.rfile.read(length).decode()).items()}
        grant = form.get("grant_type", "")
        with self.fake.lock:
            self.fake.token_calls[grant] += 1
            self.fake.token_requests.append(form)
        time.sleep(self.fake.token_delay)
        if not self._client_valid(form):
            self._send_json(401, {"error": "invalid_client"})
        elif grant == "authorization_code":
            self._exchange(form)
        elif grant == "refresh_token":
            self._refresh(form)
        else:
            self._send_json(400, {"error": "unsupported_grant_type"})

    def _client_valid(self, form: dict[str, str]) -> bool:
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        header = self.headers.get("Authorization", "")
        if header.startswith("Basic "):
            client_id, _, client_secret = base64.b64decode(header[6:]).decode().partition(":")
        if client_id != self.fake.client_id:
            return False
        return self.fake.client_secret is None or client_secret == self.fake.client_secret

    def _exchange(self, form: dict[str, str]) -> None:
        with self.fake.lock:
            grant = self.fake.codes.pop(form.get("code", ""), None)
        if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
            self._send_json(400, {"error": "invalid_grant", "error_description": "Unknown code or redirect URI."})
            return
        if grant["challenge"]:
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if digest != grant["challenge"]:
                self._send_json(400, {"error": "invalid_grant", "error_description": "PKCE verification failed."})
                return
        self._send_json(200, self.fake.issue_tokens())

    def _refresh(self, form: dict[str, str]) -> None:
        token = form.get("refresh_token", "")
        with self.fake.lock:
            known = token in self.fake.refresh_tokens
            self.fake.refresh_tokens.discard(token)
        if not known:
            self._send_json(400, {"error": "invalid_grant", "error_description": f"Refresh token {token} is invalid."})
            return
        self._send_json(200, self.fake.issue_tokens())


@pytest.fixture
def fake_oauth() -> Iterator[FakeAuthorizationServer]:
    """A started FakeAuthorizationServer, stopped after the test."""
    server = FakeAuthorizationServer().start()
    try:
        yield server
    finally:
        server.stop()
