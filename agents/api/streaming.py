"""Server-Sent Events for agent runs: the renderer DRF negotiates, and the streamed response."""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Iterator
from typing import Any

from django.db import connections
from django.http import StreamingHttpResponse
from rest_framework.renderers import BaseRenderer

from agents import services
from agents.conf import agent_setting
from agents.runtime import RunEvent

logger = logging.getLogger(__name__)

_END = object()
SSE_RESPONSE_DESCRIPTION = (
    "With `stream: true` or `Accept: text/event-stream`: Server-Sent Events `delta` (`{text}`), `step` "
    "(one tool call), `error` (`{code, message, limit?}`) and a final `done` with the same summary as the "
    "JSON response. Comment lines are heartbeats."
)


class EventStreamRenderer(BaseRenderer):
    """Let clients send `Accept: text/event-stream` or `?format=sse`.

    A stream is a StreamingHttpResponse, which no renderer touches. What reaches this renderer
    is a JSON body, such as an error raised before the stream started, so it is labelled
    `application/json`, the type the schema documents for it.
    """

    media_type = "text/event-stream"
    format = "sse"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: dict | None = None) -> bytes:
        if data is None:
            return b""
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return json.dumps(data, default=str).encode()


def sse_event(name: str, data: Any) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, default=str)}\n\n".encode()


def _work(prepared: services.PreparedRun, events: queue.Queue) -> None:
    try:
        for event in services.agent_run_execute(prepared=prepared, stream=True):
            events.put(event)
            if prepared.cancel.is_set() and event.type == "done":
                break
    except Exception:
        # The run row is already recorded by agent_run_execute; the client still gets an end.
        logger.exception("Agent stream failed", extra={"run_id": str(prepared.run.pk)})
        events.put(RunEvent("error", {"code": "server_error", "message": "The run failed unexpectedly."}))
    finally:
        # This thread opened its own database connection. Close it before signalling the end, so
        # the request (and a test's database teardown) never outlives an open connection.
        connections.close_all()
        events.put(_END)


def _body(prepared: services.PreparedRun) -> Iterator[bytes]:
    events: queue.Queue = queue.Queue()
    heartbeat = float(agent_setting("ATHENA_AGENT_STREAM_HEARTBEAT_SECONDS"))
    # The run executes in its own thread, so heartbeats keep flowing while the model or a tool
    # is slow. Closing this generator (the client went away) sets the cancel event, which stops the run.
    worker = threading.Thread(target=_work, args=(prepared, events), name=f"agent-run-{prepared.run.pk}", daemon=True)
    worker.start()
    try:
        yield b": stream opened\n\n"
        while True:
            try:
                item = events.get(timeout=heartbeat)
            except queue.Empty:
                yield b": heartbeat\n\n"
                continue
            if item is _END:
                return
            yield sse_event(item.type, item.data)
    finally:
        prepared.cancel.set()


def stream_run_response(prepared: services.PreparedRun) -> StreamingHttpResponse:
    """Return the SSE response of a prepared run: `delta`, `step`, `error` and a final `done` event."""
    response = StreamingHttpResponse(_body(prepared), content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    # Tells nginx not to buffer the stream, so each event reaches the client when it is sent.
    response["X-Accel-Buffering"] = "no"
    return response


def wants_stream(request: Any, requested: bool) -> bool:
    """Tell whether the caller asked for a stream, by `stream: true`, the Accept header or `?format=sse`."""
    renderer = getattr(request, "accepted_renderer", None)
    return (
        requested
        or "text/event-stream" in request.META.get("HTTP_ACCEPT", "")
        or isinstance(renderer, EventStreamRenderer)
    )
