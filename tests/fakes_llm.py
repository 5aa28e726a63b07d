"""A fake LLM vendor: a real HTTP server on 127.0.0.1 speaking OpenAI's and Anthropic's APIs.

Routes: `POST /v1/chat/completions` (plain and streaming SSE with usage, tool calls),
`POST /v1/embeddings`, `GET /v1/models` (OpenAI's shape, or Anthropic's when the request carries
`anthropic-version`) and `POST /v1/messages` (Anthropic Messages, plain and streaming).

Each chat or embeddings request takes the next scripted step, or the default reply when the
script is empty:

    fake_llm.reply("Paris.", input_tokens=12, output_tokens=3)
    fake_llm.reply(tool_calls=[{"name": "lookup", "arguments": {"city": "Paris"}}])
    fake_llm.fail("rate_limit", retry_after=2)   # 429 with Retry-After
    fake_llm.fail("server_error")                # 500
    fake_llm.fail("slow", delay=2)               # waits, then the default reply
    fake_llm.fail("drop")                        # closes the connection (mid-stream for streams)
    fake_llm.fail("stall", delay=2)              # sends part of the reply, waits, then closes
    fake_llm.fail("malformed_json")              # 200 with a body that is not JSON
    fake_llm.fail("context_too_long")            # 400 in the vendor's wording

`slow` delays the whole reply, so a client times out before the status line; `stall` times it
out in the middle of the body (after the first text delta of a stream).

Set `api_key` to require a key (`Authorization: Bearer` or `x-api-key`); a wrong key gets 401
with the key echoed in the error, as some servers do. `requests` records what was received.
Use the `fake_llm` fixture, with `openai_base_url` or `anthropic_base_url` as a provider's base URL.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.fakes import FakeServer

DEFAULT_TEXT = "Hello from the fake model."
FAILURES = (
    "rate_limit",
    "server_error",
    "unauthorized",
    "slow",
    "stall",
    "drop",
    "malformed_json",
    "context_too_long",
)


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    # time.monotonic() when the request arrived, to check the waits between retries.
    received_at: float = field(default_factory=time.monotonic)


@dataclass
class Step:
    """One scripted response: a reply, or a failure of one of the FAILURES kinds."""

    text: str = DEFAULT_TEXT
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    finish_reason: str | None = None
    input_tokens: int = 10
    output_tokens: int = 5
    failure: str | None = None
    retry_after: float | None = None
    delay: float = 0.0


class FakeLLM(FakeServer):
    """The fake vendor server; see the module docstring for the script API."""

    def __init__(self) -> None:
        self.script: deque[Step] = deque()
        self.requests: list[RecordedRequest] = []
        self.models = ["fake-chat", "fake-embed"]
        self.api_key: str | None = None
        self.embedding_dimensions = 3
        self.lock = threading.Lock()
        super().__init__(_Handler)
        # A short poll interval makes stop() return quickly, which keeps the suite fast.
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def openai_base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.url

    def reply(
        self,
        text: str = DEFAULT_TEXT,
        *,
        tool_calls: list[dict[str, Any]] | None = None,
        finish_reason: str | None = None,
        input_tokens: int = 10,
        output_tokens: int = 5,
    ) -> FakeLLM:
        """Queue a reply. Tool calls are `{"name", "arguments"}` with arguments as a dict."""
        self.script.append(
            Step(
                text=text,
                tool_calls=tool_calls or [],
                finish_reason=finish_reason,
                input_tokens=input_tokens,
                output_tokens=output_tokens,
            )
        )
        return self

    def fail(self, kind: str, *, retry_after: float | None = None, delay: float = 2.0) -> FakeLLM:
        """Queue a failure of one of the FAILURES kinds."""
        if kind not in FAILURES:
            raise ValueError(f"Unknown failure {kind!r}; use one of {', '.join(FAILURES)}.")
        self.script.append(Step(failure=kind, retry_after=retry_after, delay=delay))
        return self

    def next_step(self) -> Step:
        with self.lock:
            return self.script.popleft() if self.script else Step()

    def record(self, request: RecordedRequest) -> None:
        with self.lock:
            self.requests.append(request)

    @property
    def last_request(self) -> RecordedRequest:
        return self.requests[-1]

    def calls_to(self, path: str) -> list[RecordedRequest]:
        return [request for request in self.requests if request.path == path]


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 so that streams use chunked encoding: a dropped stream then misses its final
    # chunk and the client sees a broken body rather than a short but complete one.
    protocol_version = "HTTP/1.1"
    _is_stream = False

    def log_message(self, format: str, *args: Any) -> None:
        pass

    @property
    def fake(self) -> FakeLLM:
        return self.server.fake  # type: ignore[attr-defined]

    # --- plumbing ---------------------------------------------------------------

    def _read(self) -> RecordedRequest:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        parts = urlsplit(self.path)
        request = RecordedRequest(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query),
            headers={key.lower(): value for key, value in self.headers.items()},
            body=body,
        )
        self.fake.record(request)
        return request

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _chunk(self, data: str) -> None:
        encoded = data.encode()
        self.wfile.write(f"{len(encoded):x}\r\n".encode() + encoded + b"\r\n")
        self.wfile.flush()

    def _end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _drop(self) -> None:
        self.close_connection = True
        self.wfile.flush()
        self.connection.shutdown(2)

    def _stop_mid_stream(self, step: Step) -> None:
        if step.failure == "stall":
            time.sleep(step.delay)
        # The client may have given up waiting and closed the connection first.
        with contextlib.suppress(OSError):
            self._drop()

    def _authorised(self, request: RecordedRequest, anthropic: bool) -> bool:
        expected = self.fake.api_key
        if expected is None:
            return True
        given = request.headers.get("x-api-key") or request.headers.get("authorization", "").removeprefix("Bearer ")
        if given == expected:
            return True
        message = f"Incorrect API key provided: {given}"
        if anthropic:
            self._send_json(401, {"type": "error", "error": {"type": "authentication_error", "message": message}})
        else:
            self._send_json(
                401, {"error": {"message": message, "type": "invalid_request_error", "code": "invalid_api_key"}}
            )
        return False

    def _fail(self, step: Step, anthropic: bool) -> bool:
        """Send a scripted failure and return True, or return False for a step that replies."""
        kind = step.failure
        if kind is None:
            return False
        if kind == "slow":
            time.sleep(step.delay)
            return False
        if kind == "drop" and not self._is_stream:
            self._drop()
            return True
        if kind == "stall" and not self._is_stream:
            body = b'{"id": "chatcmpl-fake", "object": "chat.completion", "choices": ['
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body) * 4))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            self._stop_mid_stream(step)
            return True
        if kind == "malformed_json":
            body = b'{"id": "broken", "choices": [ this is not json'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return True
        statuses = {"rate_limit": 429, "server_error": 500, "unauthorized": 401, "context_too_long": 400}
        if kind not in statuses:
            return False
        messages = {
            "rate_limit": "Rate limit reached for requests.",
            "server_error": "The server had an error while processing your request.",
            "unauthorized": "Invalid authentication.",
            "context_too_long": "This model's maximum context length is 8192 tokens."
            if not anthropic
            else "prompt is too long: 210000 tokens > 200000 maximum",
        }
        headers = {"Retry-After": str(step.retry_after)} if step.retry_after is not None else {}
        if anthropic:
            payload = {"type": "error", "error": {"type": kind, "message": messages[kind]}}
        else:
            code = "context_length_exceeded" if kind == "context_too_long" else kind
            payload = {"error": {"message": messages[kind], "type": kind, "code": code}}
        self._send_json(statuses[kind], payload, headers)
        return True

    # --- routes -----------------------------------------------------------------

    def do_GET(self) -> None:
        request = self._read()
        anthropic = "anthropic-version" in request.headers
        if request.path != "/v1/models":
            self._send_json(404, {"error": {"message": "Not found."}})
            return
        if not self._authorised(request, anthropic):
            return
        if anthropic:
            data = [
                {"id": name, "type": "model", "display_name": name, "created_at": "2025-01-01T00:00:00Z"}
                for name in self.fake.models
            ]
            first, last = (data[0]["id"], data[-1]["id"]) if data else (None, None)
            self._send_json(200, {"data": data, "has_more": False, "first_id": first, "last_id": last})
            return
        data = [{"id": name, "object": "model", "created": 0, "owned_by": "fake"} for name in self.fake.models]
        self._send_json(200, {"object": "list", "data": data})

    def do_POST(self) -> None:
        request = self._read()
        body = request.body if isinstance(request.body, dict) else {}
        self._is_stream = bool(body.get("stream"))
        anthropic = request.path == "/v1/messages"
        if request.path not in ("/v1/chat/completions", "/v1/embeddings", "/v1/messages"):
            self._send_json(404, {"error": {"message": "Not found."}})
            return
        if not self._authorised(request, anthropic):
            return
        step = self.fake.next_step()
        if self._fail(step, anthropic):
            return
        model = body.get("model", "fake-chat")
        if request.path == "/v1/embeddings":
            self._embeddings(body, model)
        elif anthropic:
            self._anthropic_stream(step, model) if self._is_stream else self._anthropic(step, model)
        else:
            self._openai_stream(step, model) if self._is_stream else self._openai(step, model)

    def _embeddings(self, body: dict[str, Any], model: str) -> None:
        texts = body.get("input") or []
        texts = [texts] if isinstance(texts, str) else texts
        dimensions = self.fake.embedding_dimensions
        data = [
            {
                "object": "embedding",
                "index": index,
                "embedding": [float(len(text) + offset) for offset in range(dimensions)],
            }
            for index, text in enumerate(texts)
        ]
        tokens = sum(len(str(text).split()) for text in texts)
        self._send_json(
            200,
            {
                "object": "list",
                "data": data,
                "model": model,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )

    # --- OpenAI -------------------------------------------------------------------

    def _openai(self, step: Step, model: str) -> None:
        message: dict[str, Any] = {"role": "assistant", "content": step.text if not step.tool_calls else None}
        if step.tool_calls:
            message["tool_calls"] = [
                {
                    "id": f"call_{index}",
                    "type": "function",
                    "function": {"name": call["name"], "arguments": json.dumps(call.get("arguments", {}))},
                }
                for index, call in enumerate(step.tool_calls)
            ]
        finish = step.finish_reason or ("tool_calls" if step.tool_calls else "stop")
        self._send_json(
            200,
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": 0,
                "model": model,
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": {
                    "prompt_tokens": step.input_tokens,
                    "completion_tokens": step.output_tokens,
                    "total_tokens": step.input_tokens + step.output_tokens,
                },
            },
        )

    def _openai_chunk(self, model: str, delta: dict[str, Any], finish: str | None = None, usage: Any = None) -> None:
        chunk: dict[str, Any] = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": model,
            "choices": [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        if usage is not None:
            chunk["usage"] = usage
        self._chunk(f"data: {json.dumps(chunk)}\n\n")

    def _openai_stream(self, step: Step, model: str) -> None:
        self._start_stream()
        pieces = list(_pieces(step.text)) if not step.tool_calls else []
        self._openai_chunk(model, {"role": "assistant", "content": ""})
        for index, piece in enumerate(pieces):
            self._openai_chunk(model, {"content": piece})
            if step.failure in ("drop", "stall") and index == 0:
                self._stop_mid_stream(step)
                return
        for index, call in enumerate(step.tool_calls):
            arguments = json.dumps(call.get("arguments", {}))
            start = {
                "index": index,
                "id": f"call_{index}",
                "type": "function",
                "function": {"name": call["name"], "arguments": ""},
            }
            self._openai_chunk(model, {"tool_calls": [start]})
            for piece in (arguments[: len(arguments) // 2], arguments[len(arguments) // 2 :]):
                self._openai_chunk(model, {"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
        finish = step.finish_reason or ("tool_calls" if step.tool_calls else "stop")
        self._openai_chunk(model, {}, finish)
        usage = {
            "prompt_tokens": step.input_tokens,
            "completion_tokens": step.output_tokens,
            "total_tokens": step.input_tokens + step.output_tokens,
        }
        self._openai_chunk(model, None, usage=usage)
        self._chunk("data: [DONE]\n\n")
        self._end_stream()

    # --- Anthropic ----------------------------------------------------------------

    def _anthropic(self, step: Step, model: str) -> None:
        content: list[dict[str, Any]] = []
        if step.text and not step.tool_calls:
            content.append({"type": "text", "text": step.text})
        for index, call in enumerate(step.tool_calls):
            content.append(
                {"type": "tool_use", "id": f"toolu_{index}", "name": call["name"], "input": call.get("arguments", {})}
            )
        self._send_json(
            200,
            {
                "id": "msg_fake",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": content,
                "stop_reason": step.finish_reason or ("tool_use" if step.tool_calls else "end_turn"),
                "stop_sequence": None,
                "usage": {"input_tokens": step.input_tokens, "output_tokens": step.output_tokens},
            },
        )

    def _event(self, name: str, data: dict[str, Any]) -> None:
        self._chunk(f"event: {name}\ndata: {json.dumps({'type': name, **data})}\n\n")

    def _anthropic_stream(self, step: Step, model: str) -> None:
        self._start_stream()
        message = {
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": step.input_tokens, "output_tokens": 1},
        }
        self._event("message_start", {"message": message})
        block = 0
        if not step.tool_calls:
            self._event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
            for index, piece in enumerate(_pieces(step.text)):
                self._event("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": piece}})
                if step.failure in ("drop", "stall") and index == 0:
                    self._stop_mid_stream(step)
                    return
            self._event("content_block_stop", {"index": 0})
            block = 1
        for offset, call in enumerate(step.tool_calls):
            index = block + offset
            start = {"type": "tool_use", "id": f"toolu_{offset}", "name": call["name"], "input": {}}
            self._event("content_block_start", {"index": index, "content_block": start})
            arguments = json.dumps(call.get("arguments", {}))
            delta = {"type": "input_json_delta", "partial_json": arguments}
            self._event("content_block_delta", {"index": index, "delta": delta})
            self._event("content_block_stop", {"index": index})
        stop_reason = step.finish_reason or ("tool_use" if step.tool_calls else "end_turn")
        self._event(
            "message_delta",
            {
                "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": step.output_tokens},
            },
        )
        self._event("message_stop", {})
        self._end_stream()


def _pieces(text: str) -> Iterator[str]:
    """Split text into word-sized pieces that join back to the same text."""
    words = text.split(" ")
    for index, word in enumerate(words):
        yield word if index == len(words) - 1 else word + " "


@pytest.fixture
def fake_llm() -> Iterator[FakeLLM]:
    """A started FakeLLM, stopped after the test."""
    server = FakeLLM().start()
    try:
        yield server
    finally:
        server.stop()
