"""Run a thread's agent over the thread's history and store the reply."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction

from agents import services as agent_services
from agents.errors import AgentNotConfigured
from agents.models import RunSource
from agents.runtime import RunEvent
from athena_site.api.errors import ValidationFailed
from threads import selectors
from threads.conf import thread_setting
from threads.models import Attachment, Message, MessageRole, Thread
from threads.services.history import check_vision, trimmed_history
from threads.services.threads import message_add, thread_lock_acquire, thread_lock_release

logger = logging.getLogger(__name__)


@dataclass
class ThreadTurn:
    """A thread run whose lock is held and whose AgentRun and chat are prepared."""

    thread: Thread
    prepared: agent_services.PreparedRun
    lock: Any
    user_message: Message | None
    # How many chat messages were sent. The runtime appends tool calls and results after them.
    sent: int
    first_reply: bool


@dataclass
class ThreadRunResult:
    """The run summary in the API's shape, and the messages stored by this turn (user message first)."""

    summary: dict[str, Any]
    messages: list[Message] = field(default_factory=list)


def thread_run_prepare(
    *,
    thread: Thread,
    user: Any,
    content: str = "",
    attachments: list[Attachment] | None = None,
    source: str = RunSource.THREAD,
) -> ThreadTurn:
    """Take the thread's run lock, append the user message (when given) and prepare the agent run.

    Raises AgentNotConfigured, VisionUnsupported for images sent to a model without vision,
    ValidationFailed for a turn with nothing to answer, and ThreadBusy while another run holds
    the thread. Nothing is stored when it raises. Pass the result to `thread_run_execute`.
    """
    agent = thread.agent
    attachments = attachments or []
    if agent.model is None or agent.account is None:
        raise AgentNotConfigured()
    check_vision(model=agent.model, attachments=attachments)
    if not content and not attachments and not selectors.message_list(thread=thread).exists():
        raise ValidationFailed(errors={"content": ["Send content or attachments: the thread has no messages yet."]})

    lock = thread_lock_acquire(thread=thread)
    try:
        user_message = None
        if content or attachments:
            with transaction.atomic():
                user_message = message_add(
                    thread=thread, role=MessageRole.USER, content=content, user=user, attachments=attachments
                )
        history = list(selectors.message_list(thread=thread))
        query = content or _last_user_text(history)
        # build_messages puts the instructions, memories and examples first and the input last.
        # An empty placeholder stands in for the input when there is no text to retrieve
        # memories with. Either way the last item is replaced by the thread's own history.
        prepared = agent_services.agent_run_prepare(
            agent=agent,
            input=query,
            messages=None if query else [{"role": "user", "content": ""}],
            source=source,
            user=user,
        )
        prefix = prepared.messages[:-1]
        prepared.messages[:] = prefix + trimmed_history(
            messages=history, model=agent.model, prefix=prefix, reply_tokens=agent.max_output_tokens
        )
    except BaseException:
        thread_lock_release(thread=thread, lock=lock)
        raise
    return ThreadTurn(
        thread=thread,
        prepared=prepared,
        lock=lock,
        user_message=user_message,
        sent=len(prepared.messages),
        first_reply=not any(message.role == MessageRole.ASSISTANT for message in history),
    )


def _last_user_text(history: list[Message]) -> str:
    for message in reversed(history):
        if message.role == MessageRole.USER and message.content:
            return message.content
    return ""


def thread_run_execute(*, turn: ThreadTurn, stream: bool = False) -> Iterator[RunEvent]:
    """Run a prepared turn, yielding the runtime's events and a final `done` with a ThreadRunResult.

    The reply (and the tool calls and results before it) is stored even when the run failed or
    was stopped, and the lock is released, before `done` is yielded. Queues `threads.generate_name`
    on commit after the first reply of an unnamed thread.
    """
    summary: dict[str, Any] | None = None
    stored: list[Message] = []
    try:
        with closing(agent_services.agent_run_execute(prepared=turn.prepared, stream=stream)) as events:
            for event in events:
                if event.type == "done":
                    summary = event.data
                    break
                yield event
    finally:
        run = turn.prepared.run
        if summary is None:
            # The run stopped without its summary (an error or a closed stream): read what it recorded.
            run.refresh_from_db()
            summary = {"run_id": str(run.pk), "status": run.status, "output": run.output, "error": run.error}
        try:
            stored = _store_reply(turn, summary)
        finally:
            thread_lock_release(thread=turn.thread, lock=turn.lock)
    yield RunEvent("done", ThreadRunResult(summary=summary, messages=stored))


def _store_reply(turn: ThreadTurn, summary: dict[str, Any]) -> list[Message]:
    thread, run = turn.thread, turn.prepared.run
    model = thread.agent.model.model if thread.agent.model else ""
    stored = [turn.user_message] if turn.user_message is not None else []
    with transaction.atomic():
        for item in turn.prepared.messages[turn.sent :]:
            if item["role"] == "assistant":
                stored.append(
                    message_add(
                        thread=thread,
                        role=MessageRole.ASSISTANT,
                        content=item.get("content") or "",
                        tool_calls=item.get("tool_calls") or [],
                        run=run,
                        model=model,
                    )
                )
            elif item["role"] == "tool":
                stored.append(
                    message_add(
                        thread=thread,
                        role=MessageRole.TOOL,
                        content=item.get("content") or "",
                        tool_call_id=item.get("tool_call_id") or "",
                        run=run,
                    )
                )
        usage = summary.get("usage") or {}
        stored.append(
            message_add(
                thread=thread,
                role=MessageRole.ASSISTANT,
                content=summary.get("output") or "",
                run=run,
                model=model,
                input_tokens=usage.get("input_tokens", 0),
                output_tokens=usage.get("output_tokens", 0),
                cost=Decimal(summary["cost"]) if summary.get("cost") is not None else None,
                latency_ms=summary.get("latency_ms"),
                error=summary.get("error"),
            )
        )
        if turn.first_reply and not thread.name and thread_setting("ATHENA_THREAD_AUTO_NAME"):
            from threads.tasks import generate_thread_name

            thread_id = str(thread.pk)
            transaction.on_commit(lambda: generate_thread_name.delay(thread_id))
    logger.info(
        "Thread run stored",
        extra={"thread_id": str(thread.pk), "run_id": str(run.pk), "messages": len(stored)},
    )
    return stored


def thread_run(
    *, thread: Thread, user: Any, content: str = "", attachments: list[Attachment] | None = None
) -> ThreadRunResult:
    """Prepare and execute one turn without streaming and return its result."""
    turn = thread_run_prepare(thread=thread, user=user, content=content, attachments=attachments)
    events = list(thread_run_execute(turn=turn))
    # `done` is always the last event.
    return events[-1].data
