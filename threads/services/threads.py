"""Writes of threads and their messages."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from agents import services as agent_services
from agents.models import Agent
from threads.conf import thread_setting
from threads.errors import ThreadBusy
from threads.models import Attachment, Message, MessageRole, Thread

logger = logging.getLogger(__name__)

THREAD_FIELDS = ("name", "metadata", "archived")


def thread_create(*, workspace: Any, user: Any, agent: Agent, data: dict[str, Any]) -> Thread:
    """Create a thread with `agent` in the workspace. The caller has checked that the agent is visible."""
    thread = Thread.objects.create(
        workspace=workspace,
        agent=agent,
        created_by=user if getattr(user, "is_authenticated", False) else None,
        **{key: data[key] for key in THREAD_FIELDS if key in data},
    )
    logger.info("Thread created", extra={"thread_id": str(thread.pk), "workspace_id": str(workspace.pk)})
    return thread


def thread_update(*, thread: Thread, data: dict[str, Any]) -> Thread:
    """Update a thread's name, metadata, archived flag and agent (an agent of the same workspace)."""
    for key in (*THREAD_FIELDS, "agent"):
        if key in data:
            setattr(thread, key, data[key])
    thread.save()
    return thread


def thread_delete(*, thread: Thread) -> None:
    """Delete a thread with its messages. Attachments stay until deleted on their own."""
    thread.delete()


def message_add(
    *,
    thread: Thread,
    role: str,
    content: str = "",
    user: Any = None,
    attachments: list[Attachment] | None = None,
    **fields: Any,
) -> Message:
    """Append a message to the thread and bump its counters. Call inside `transaction.atomic`.

    `fields` are further Message columns (tool_calls, tool_call_id, run, usage, error).
    """
    now = timezone.now()
    # The update takes the thread's row lock until the commit, which serialises appends, so
    # positions stay unique and in order. The next statement reads every append committed before.
    Thread.objects.filter(pk=thread.pk).update(
        message_count=F("message_count") + 1, last_message_at=now, last_activity_at=now, updated_at=now
    )
    counters = (
        Thread.objects.filter(pk=thread.pk)
        .annotate(last=Max("messages__position"))
        .values("message_count", "last")
        .get()
    )
    last = counters["last"]
    message = Message.objects.create(
        workspace_id=thread.workspace_id,
        thread_id=thread.pk,
        position=(last or 0) + 1,
        role=role,
        content=content,
        created_by=user if getattr(user, "is_authenticated", False) else None,
        created_at=now,
        **fields,
    )
    if attachments:
        message.attachments.set(attachments)
    else:
        # A new message without attachments has none, so serializing it needs no query for them.
        message._prefetched_objects_cache = {"attachments": Attachment.objects.none()}
    thread.message_count, thread.last_message_at, thread.last_activity_at = counters["message_count"], now, now
    return message


def message_create(
    *, thread: Thread, user: Any, role: str, content: str, attachments: list[Attachment] | None = None
) -> Message:
    """Add a message to the thread without running the agent."""
    with transaction.atomic():
        return message_add(thread=thread, role=role, content=content, user=user, attachments=attachments)


def message_update(*, message: Message, data: dict[str, Any]) -> Message:
    """Edit a message's content or rate a reply. Replies stored after it are left as they are.

    A rating of an assistant message also rates the AgentRun that produced it.
    """
    if "content" in data:
        message.content = data["content"]
    if "rating" in data:
        message.rating = data["rating"]
        if message.run is not None and data["rating"] is not None:
            agent_services.agent_run_rate(run=message.run, rating=data["rating"], comment=data.get("comment", ""))
    message.save()
    return message


def message_delete(*, message: Message) -> None:
    """Delete one message and keep the thread's later messages, replies included."""
    with transaction.atomic():
        thread = Thread.objects.select_for_update().get(pk=message.thread_id)
        message.delete()
        thread.message_count = Message.objects.filter(thread=thread).count()
        thread.save(update_fields=["message_count", "updated_at"])


# --- the run lock ---------------------------------------------------------------------


def thread_lock_acquire(*, thread: Thread) -> Any:
    """Mark the thread as running and return the lock's timestamp, or raise ThreadBusy when it already is.

    One conditional UPDATE takes the lock, so it works the same on PostgreSQL and SQLite. A lock
    older than ATHENA_THREAD_RUN_STALE_SECONDS belongs to a process that died, and is taken over.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=float(thread_setting("ATHENA_THREAD_RUN_STALE_SECONDS")))
    free = Q(running_since__isnull=True) | Q(running_since__lt=stale)
    taken = Thread.objects.filter(pk=thread.pk).filter(free).update(running_since=now)
    if not taken:
        raise ThreadBusy()
    thread.running_since = now
    return now


def thread_lock_release(*, thread: Thread, lock: Any) -> None:
    """Release the lock taken at `lock`, leaving alone a lock another run took over meanwhile."""
    Thread.objects.filter(pk=thread.pk, running_since=lock).update(running_since=None)
    thread.running_since = None


USER_WRITABLE_ROLES = (MessageRole.USER, MessageRole.ASSISTANT, MessageRole.SYSTEM)
