"""Server-Sent Events of thread runs: the agent run's events, then `done` with the stored messages."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

from django.db import connections
from django.db.models import prefetch_related_objects
from django.http import StreamingHttpResponse

from agents.api.streaming import sse_event
from agents.conf import agent_setting
from agents.runtime import RunEvent
from threads import services
from threads.api.serializers import MessageSerializer

logger = logging.getLogger(__name__)

_END = object()
SSE_RESPONSE_DESCRIPTION = (
    "With `stream: true` or `Accept: text/event-stream`: Server-Sent Events `delta` (`{text}`), `step` "
    "(one tool call), `error` (`{code, message}`) and a final `done` with the same body as the JSON "
    "response, stored messages included. Comment lines are heartbeats."
)


def run_result_data(result: services.ThreadRunResult, *, context: dict[str, Any]) -> dict[str, Any]:
    """Return the API body of a finished thread run: the run summary plus the stored messages."""
    prefetch_related_objects(result.messages, "attachments")
    return {**result.summary, "messages": MessageSerializer(result.messages, many=True, context=context).data}


def background_events(
    produce: Callable[[], Iterator[RunEvent]], *, cancel: threading.Event, name: str
) -> Iterator[RunEvent | None]:
    """Run `produce()` in a worker thread and yield its events, or None for each idle heartbeat interval.

    The worker keeps running while the model or a tool is slow, so the caller can keep the
    connection alive. Closing this generator (the client went away) sets `cancel`, which stops the run.
    """
    events: queue.Queue = queue.Queue()
    heartbeat = float(agent_setting("ATHENA_AGENT_STREAM_HEARTBEAT_SECONDS"))

    def work() -> None:
        try:
            for event in produce():
                events.put(event)
        except Exception:
            # The service has recorded the run, and the client still gets an end.
            logger.exception("Streamed run failed", extra={"worker": name})
            events.put(RunEvent("error", {"code": "server_error", "message": "The run failed unexpectedly."}))
        finally:
            # This thread opened its own database connection. It is closed before the end is
            # signalled, so a caller that finishes on that signal never sees it still open.
            connections.close_all()
            events.put(_END)

    threading.Thread(target=work, name=name, daemon=True).start()
    try:
        while True:
            try:
                item = events.get(timeout=heartbeat)
            except queue.Empty:
                yield None
                continue
            if item is _END:
                return
            yield item
    finally:
        cancel.set()


def _thread_events(turn: services.ThreadTurn, context: dict[str, Any]) -> Iterator[RunEvent]:
    for event in services.thread_run_execute(turn=turn, stream=True):
        if event.type == "done":
            event = RunEvent("done", run_result_data(event.data, context=context))
        yield event


def _body(turn: services.ThreadTurn, context: dict[str, Any]) -> Iterator[bytes]:
    yield b": stream opened\n\n"
    for event in background_events(
        lambda: _thread_events(turn, context), cancel=turn.prepared.cancel, name=f"thread-run-{turn.prepared.run.pk}"
    ):
        yield b": heartbeat\n\n" if event is None else sse_event(event.type, event.data)


def stream_thread_response(turn: services.ThreadTurn, *, context: dict[str, Any]) -> StreamingHttpResponse:
    """Return the SSE response of a prepared thread run."""
    response = StreamingHttpResponse(_body(turn, context), content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    # Tells nginx not to buffer the stream, so each event reaches the client when it is sent.
    response["X-Accel-Buffering"] = "no"
    return response
