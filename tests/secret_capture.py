"""A session-wide watch for secrets in logs, HTTP responses, database writes and the Celery worker's log.

The watch tracks three kinds of secret:

- issued: every personal access token and share link token generated in the test process. They
  are random, so they are watched for the whole session.
- stored: every secret string written through an `EncryptedJSONField` (account credentials,
  OAuth2 client secrets, workspace secrets, webhook secrets). They are watched only until the
  test that stored them ends, because tests reuse literal values as plain data in other tests.
- planted: any text containing `PLANTED_MARKER`, which `tests.factories.planted_secret` puts
  into the secrets the factories make.

Where the watch looks:

- every log record of the test process, at every level;
- every response Django serves in this process (test clients and the live server alike), by
  wrapping `BaseHandler.get_response`: status line, headers and body, streamed bodies (SSE)
  included, chunk by chunk;
- every INSERT and UPDATE sent to the database, so a secret never lands in plain text in
  execution data, run records, messages or any other row;
- the log file of the real Celery worker, read after each test.

A secret seen in any of these places is a sighting. Sightings are kept with the test that
caused them and reported when the session ends. The only sightings that are allowed are in
`ALLOWED_ISSUES`: the response of the request that issued a token or a share link, which is
how the user sees it once.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PLANTED_MARKER = "planted-secret"
# Stored values shorter than this, or with fewer distinct characters, are not watched: they
# would match ordinary text ("password", "xxxxxxxxxx") rather than prove a leak.
MIN_STORED_LENGTH = 8
MIN_STORED_DISTINCT_CHARACTERS = 6
# Credential keys whose values are secrets. Other keys (username, scopes, expires_at) are not.
CREDENTIAL_KEYS = frozenset({"api_key", "token", "password", "access_token", "refresh_token", "client_secret"})
# Characters of the previous chunk of a stream scanned again with the next one, so a secret
# split across two chunks is still found.
STREAM_OVERLAP = 512
PERSONAL_ACCESS_TOKEN = re.compile(r"athena_pat_[0-9A-Za-z]{38}")
# Test modules that send generated data, where one random string may land in a secret field
# and in a plain field of the same request. Their stored values are not watched, but issued
# tokens and planted secrets still are.
STORED_VALUES_IGNORED_IN = ("tests/security/test_fuzz.py", "tests/security/test_bad_input.py")


@dataclass(frozen=True)
class AllowedIssue:
    """A response that may contain a secret of `kind`, but only one issued while serving it."""

    kind: str
    method: str
    path: re.Pattern[str]
    reason: str


ALLOWED_ISSUES = (
    AllowedIssue("personal_access_token", "POST", re.compile(r"^/api/v1/auth/sign-in/?$"), "sign-in returns its token"),
    AllowedIssue("personal_access_token", "POST", re.compile(r"^/api/v1/user/tokens/?$"), "a new token is shown once"),
    AllowedIssue(
        "personal_access_token",
        "POST",
        re.compile(r"^/api/v1/user/tokens/[^/]+/rotate/?$"),
        "the replacement token is shown once",
    ),
    AllowedIssue(
        "personal_access_token",
        "POST",
        re.compile(r"^/api/v1/workspaces/[^/]+/service-accounts/[^/]+/tokens/?$"),
        "a service account token is shown once",
    ),
    AllowedIssue("personal_access_token", "POST", re.compile(r"^/settings/tokens/"), "the tokens page shows it once"),
    AllowedIssue(
        "personal_access_token",
        "POST",
        re.compile(r"^/settings/workspace/service-accounts/[^/]+/tokens/?$"),
        "the service accounts page shows it once",
    ),
    AllowedIssue(
        "share_token",
        "POST",
        re.compile(r"^/api/v1/(agents|workflows)/[^/]+/share/?$"),
        "the public link is shown to whoever creates the share",
    ),
)


@dataclass(frozen=True)
class Sighting:
    test: str
    place: str
    kind: str
    excerpt: str

    def __str__(self) -> str:
        return f"{self.test}: {self.kind} in {self.place}: {self.excerpt}"


@dataclass(frozen=True)
class _Issued:
    kind: str
    request_id: int | None


class SecretCapture:
    """The registry of secrets and the sightings found; see the module docstring."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.issued: dict[str, _Issued] = {}
        # The issued secrets other than personal access tokens, which are found by their shape.
        self.issued_by_value: dict[str, str] = {}
        self.stored: dict[str, str] = {}
        self.sightings: list[Sighting] = []
        self.current_test = "(outside a test)"
        self.watch_stored_values = True
        self.watched_files: dict[Path, int] = {}
        self.responses_seen = 0
        self.log_records_seen = 0
        self.writes_seen = 0
        self._expected: list[list[Sighting]] = []
        self._local = threading.local()
        self._request_ids = itertools.count(1)
        self._undo: list[Callable[[], None]] = []

    # --- registry -------------------------------------------------------------

    def begin_test(self, nodeid: str) -> None:
        with self.lock:
            self.current_test = nodeid
            self.stored = {}
            self.watch_stored_values = not nodeid.startswith(STORED_VALUES_IGNORED_IN)

    def record_issued(self, value: str, kind: str) -> None:
        with self.lock:
            self.issued[value] = _Issued(kind, getattr(self._local, "request_id", None))
            if kind != "personal_access_token":
                self.issued_by_value[value] = kind

    def record_stored(self, value: Any, kind: str, *, credentials: bool = False) -> None:
        for text in _secret_strings(value, credentials=credentials):
            if len(text) >= MIN_STORED_LENGTH and len(set(text)) >= MIN_STORED_DISTINCT_CHARACTERS:
                with self.lock:
                    self.stored[text] = kind

    # --- scanning -------------------------------------------------------------

    def find(self, text: str) -> list[tuple[str, str]]:
        """Return the (secret, kind) pairs found in `text`, each once; a planted marker alone is reported as itself."""
        found: dict[str, str] = {}
        with self.lock:
            others = list(self.issued_by_value.items())
            stored = list(self.stored.items()) if self.watch_stored_values else []
        if "athena_pat_" in text:
            for match in PERSONAL_ACCESS_TOKEN.finditer(text):
                entry = self.issued.get(match.group(0))
                if entry is not None:
                    found[match.group(0)] = entry.kind
        for value, kind in others:
            if value in text:
                found[value] = kind
        for value, kind in stored:
            if value in text:
                found[value] = kind
        if PLANTED_MARKER in text and not any(PLANTED_MARKER in value for value in found):
            found[PLANTED_MARKER] = "planted"
        return list(found.items())

    def scan(self, text: str, place: str, *, request: Any = None, request_id: int | None = None) -> list[str]:
        """Record a sighting for each secret in `text` that `ALLOWED_ISSUES` does not allow; return the secrets."""
        found = []
        for value, kind in self.find(text):
            if request is not None and self._allowed(value, kind, request, request_id):
                continue
            found.append(value)
            self._add(Sighting(self.current_test, place, kind, _excerpt(text, value, kind)))
        return found

    def _allowed(self, value: str, kind: str, request: Any, request_id: int | None) -> bool:
        issued = self.issued.get(value)
        if issued is None or issued.request_id is None or issued.request_id != request_id:
            return False
        return any(
            allowance.kind == kind and allowance.method == request.method and allowance.path.match(request.path)
            for allowance in ALLOWED_ISSUES
        )

    def _add(self, sighting: Sighting) -> None:
        with self.lock:
            if self._expected:
                self._expected[-1].append(sighting)
            else:
                self.sightings.append(sighting)

    @contextmanager
    def expecting(self) -> Iterator[list[Sighting]]:
        """Collect the sightings made inside the block into the yielded list instead of the session's.

        For tests of the capture itself, which leak on purpose.
        """
        collected: list[Sighting] = []
        with self.lock:
            self._expected.append(collected)
        try:
            yield collected
        finally:
            with self.lock:
                self._expected.remove(collected)

    def scan_watched_files(self) -> None:
        for path, offset in list(self.watched_files.items()):
            try:
                with open(path, "rb") as handle:
                    handle.seek(offset)
                    data = handle.read()
            except OSError:
                continue
            self.watched_files[path] = offset + len(data)
            if data:
                self.scan(data.decode("utf-8", "replace"), f"file {path.name}")

    def watch_file(self, path: Path) -> None:
        """Scan the lines appended to `path` (a worker's log) after each test."""
        self.watched_files[Path(path)] = 0

    # --- responses --------------------------------------------------------------

    def check_response(self, request: Any, response: Any, request_id: int) -> None:
        self.responses_seen += 1
        place = f"response {request.method} {request.path} {response.status_code}"
        headers = "\n".join(f"{name}: {value}" for name, value in response.items())
        self.scan(headers, place + " (headers)", request=request, request_id=request_id)
        if not response.streaming:
            self.scan(response.content.decode("utf-8", "replace"), place, request=request, request_id=request_id)
            return
        if response.is_async:
            response.streaming_content = self._watch_async_stream(
                response.streaming_content, place, request, request_id
            )
        else:
            response.streaming_content = self._watch_stream(response.streaming_content, place, request, request_id)

    def _scan_chunk(self, tail: str, chunk: Any, place: str, request: Any, request_id: int, seen: set[str]) -> str:
        text = tail + (chunk.decode("utf-8", "replace") if isinstance(chunk, bytes) else str(chunk))
        for value, kind in self.find(text):
            if value in seen or self._allowed(value, kind, request, request_id):
                continue
            seen.add(value)
            self._add(Sighting(self.current_test, place + " (stream)", kind, _excerpt(text, value, kind)))
        return text[-STREAM_OVERLAP:]

    def _watch_stream(self, chunks: Iterable[Any], place: str, request: Any, request_id: int) -> Iterator[Any]:
        iterator = iter(chunks)
        tail, seen = "", set()
        try:
            for chunk in iterator:
                tail = self._scan_chunk(tail, chunk, place, request, request_id, seen)
                yield chunk
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    async def _watch_async_stream(
        self, chunks: AsyncIterator[Any], place: str, request: Any, request_id: int
    ) -> AsyncIterator[Any]:
        tail, seen = "", set()
        async for chunk in chunks:
            tail = self._scan_chunk(tail, chunk, place, request, request_id, seen)
            yield chunk

    # --- database writes -----------------------------------------------------------

    def check_write(self, sql: str, params: Any) -> None:
        head = sql.lstrip()[:6].upper()
        if head not in ("INSERT", "UPDATE"):
            return
        self.writes_seen += 1
        text = "\n".join(_parameter_texts(params))
        if text:
            table = re.search(r'(?:INTO|UPDATE)\s+"?([A-Za-z0-9_]+)', sql, re.IGNORECASE)
            self.scan(text, f"database {head} {table.group(1) if table else '?'}")

    # --- installation -------------------------------------------------------------

    def install(self) -> None:
        """Patch token generation, the encrypted field, Django's handler, the database cursor and the root logger."""
        from django.core.handlers.base import BaseHandler
        from django.db.backends.utils import CursorWrapper

        from accounts_auth import tokens
        from agents import models as agent_models
        from agents.services import shares
        from athena_site.crypto import EncryptedJSONField
        from workflows.pages import workflows as workflow_pages

        capture = self

        def recording(module: Any, name: str, kind: str) -> None:
            original = getattr(module, name)

            def generate(*args: Any, **kwargs: Any) -> str:
                raw = original(*args, **kwargs)
                capture.record_issued(raw, kind)
                return raw

            self._patch(module, name, generate)

        recording(tokens, "generate_token", "personal_access_token")
        recording(agent_models, "new_share_token", "share_token")
        recording(shares, "new_share_token", "share_token")
        recording(workflow_pages, "new_webhook_secret", "webhook_secret")

        original_prep = EncryptedJSONField.get_prep_value

        def get_prep_value(field: Any, value: Any) -> Any:
            plain = value.reveal() if hasattr(value, "reveal") else value
            label = f"{field.model._meta.label}.{field.name}" if hasattr(field, "model") else "encrypted field"
            capture.record_stored(plain, label, credentials=field.name == "credentials")
            return original_prep(field, value)

        self._patch(EncryptedJSONField, "get_prep_value", get_prep_value)

        original_get_response = BaseHandler.get_response

        def get_response(handler: Any, request: Any) -> Any:
            request_id = next(capture._request_ids)
            capture._local.request_id = request_id
            try:
                response = original_get_response(handler, request)
            finally:
                capture._local.request_id = None
            capture.check_response(request, response, request_id)
            return response

        self._patch(BaseHandler, "get_response", get_response)

        original_execute = CursorWrapper.execute
        original_executemany = CursorWrapper.executemany

        def execute(cursor: Any, sql: str, params: Any = None) -> Any:
            capture.check_write(sql, params)
            return original_execute(cursor, sql, params)

        def executemany(cursor: Any, sql: str, param_list: Any) -> Any:
            param_list = list(param_list)
            capture.check_write(sql, param_list)
            return original_executemany(cursor, sql, param_list)

        self._patch(CursorWrapper, "execute", execute)
        self._patch(CursorWrapper, "executemany", executemany)

        root = logging.getLogger()
        handler = _CaptureHandler(self)
        previous_level = root.level
        # The root logger goes down to DEBUG so the watch receives every record. The console
        # handlers keep their own level, so the output does not change.
        console_levels = [(existing, existing.level) for existing in root.handlers]
        for existing, _level in console_levels:
            existing.setLevel(max(existing.level, previous_level))
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)

        def restore_logging() -> None:
            root.removeHandler(handler)
            root.setLevel(previous_level)
            for existing, level in console_levels:
                existing.setLevel(level)

        self._undo.append(restore_logging)

    def uninstall(self) -> None:
        while self._undo:
            self._undo.pop()()

    def _patch(self, owner: Any, name: str, replacement: Any) -> None:
        original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
        setattr(owner, name, replacement)
        self._undo.append(lambda: setattr(owner, name, original))

    def report(self, limit: int = 40) -> list[str]:
        lines = [str(sighting) for sighting in self.sightings[:limit]]
        if len(self.sightings) > limit:
            lines.append(f"... and {len(self.sightings) - limit} more")
        return lines


class _CaptureHandler(logging.Handler):
    def __init__(self, capture: SecretCapture) -> None:
        super().__init__(level=logging.DEBUG)
        self.capture = capture
        self.setFormatter(logging.Formatter("%(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record) + " " + repr(record.__dict__)
        except Exception:
            text = repr(record.__dict__)
        self.capture.log_records_seen += 1
        self.capture.scan(text, f"log {record.name} {record.levelname}")


def _secret_strings(value: Any, *, credentials: bool) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if not credentials or key in CREDENTIAL_KEYS:
                yield from _secret_strings(item, credentials=False)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _secret_strings(item, credentials=credentials)


def _parameter_texts(params: Any) -> Iterator[str]:
    if params is None:
        return
    if isinstance(params, dict):
        params = params.values()
    elif not isinstance(params, (list, tuple)):
        params = [params]
    for param in params:
        if isinstance(param, str):
            yield param
        elif isinstance(param, (bytes, memoryview)):
            yield bytes(param).decode("utf-8", "replace")
        elif isinstance(param, (list, tuple, dict)):
            yield from _parameter_texts(param)
        elif hasattr(param, "obj"):
            # psycopg's Jsonb wrapper, which Django uses for JSONField values.
            yield json.dumps(param.obj, default=str, ensure_ascii=False)


def _excerpt(text: str, value: str, kind: str) -> str:
    """Return the text around the secret with the secret itself replaced by its kind."""
    index = text.find(value)
    start = max(0, index - 60)
    end = min(len(text), index + len(value) + 60)
    return text[start:end].replace(value, f"<{kind}>").replace("\n", " ")


CAPTURE = SecretCapture()

# The agent page shows a new public link once, in the response of the form that creates it.
ALLOWED_ISSUES = (
    *ALLOWED_ISSUES,
    AllowedIssue(
        "share_token",
        "POST",
        re.compile(r"^/agents/[^/]+/share/?$"),
        "the agent page shows a new public link to whoever creates it",
    ),
)

# The workflow editor shows a new webhook signing secret once, in the response of the form that
# generates it. The secret is also stored encrypted, so its sighting has the field's label.
ALLOWED_ISSUES = (
    *ALLOWED_ISSUES,
    AllowedIssue(
        "workflows.Workflow.webhook_secret",
        "POST",
        re.compile(r"^/workflows/[^/]+/webhook-secret/?$"),
        "the workflow editor shows a new webhook signing secret once",
    ),
)
