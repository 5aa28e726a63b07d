"""Reads and permission scoping of the threads app."""

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet

from agents.models import Agent
from athena_site.api.errors import NotFound
from threads.models import Attachment, Message, Thread


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def thread_list(*, workspace_ids: list[Any], user: Any = None) -> QuerySet[Thread]:
    """Return the threads of the workspaces whose agent the user may see (private agents: their creator)."""
    # A run reads the agent's model, provider and account, so they come with the thread.
    threads = Thread.objects.filter(workspace_id__in=workspace_ids).select_related(
        "agent", "agent__model__provider", "agent__account__provider"
    )
    if user is not None:
        threads = threads.filter(Q(agent__visibility="workspace") | Q(agent__created_by=user))
    return threads


def thread_search(*, threads: QuerySet[Thread], text: str) -> QuerySet[Thread]:
    """Narrow threads to those whose name or any message contains `text` (case-insensitive)."""
    matching = Message.objects.filter(thread_id=OuterRef("pk"), content__icontains=text)
    return threads.filter(Q(name__icontains=text) | Exists(matching))


def thread_exists(workspace_id: uuid.UUID, thread_id: uuid.UUID) -> bool:
    return Thread.objects.filter(workspace_id=workspace_id, pk=thread_id).exists()


def thread_find(*, workspace_id: Any, thread_id: Any) -> Thread | None:
    """Return the thread of the workspace with this id, or None."""
    pk = _uuid(thread_id)
    if pk is None:
        return None
    return Thread.objects.filter(workspace_id=workspace_id, pk=pk).select_related("agent").first()


def message_list(*, thread: Thread) -> QuerySet[Message]:
    return Message.objects.filter(thread=thread).prefetch_related("attachments")


def message_get(*, thread: Thread, message_id: Any) -> Message:
    """Return one message of the thread; raises NotFound for an unknown or malformed id."""
    pk = _uuid(message_id)
    message = message_list(thread=thread).filter(pk=pk).first() if pk else None
    if message is None:
        raise NotFound("Message not found.")
    return message


def attachment_list(*, workspace_ids: list[Any]) -> QuerySet[Attachment]:
    return Attachment.objects.filter(workspace_id__in=workspace_ids).select_related("media")


def attachments_for_run(*, workspace_id: Any, attachment_ids: list[Any]) -> list[Attachment]:
    """Return the workspace's attachments with these ids in the given order; raises NotFound for any other id."""
    if not attachment_ids:
        return []
    found = {
        attachment.pk: attachment
        for attachment in attachment_list(workspace_ids=[workspace_id]).filter(pk__in=attachment_ids)
    }
    missing = [str(pk) for pk in attachment_ids if pk not in found]
    if missing:
        raise NotFound(f"Attachment not found: {', '.join(missing)}.")
    return [found[pk] for pk in attachment_ids]


def agent_for_model_name(*, workspace_id: Any, user: Any, name: str) -> Agent | None:
    """Return the agent of the workspace whose id or slug is `name`, as the OpenAI endpoint's `model`."""
    agents = Agent.objects.filter(workspace_id=workspace_id).filter(Q(visibility="workspace") | Q(created_by=user))
    pk = _uuid(name)
    match = Q(pk=pk) if pk is not None else Q(slug=name)
    return agents.filter(match).select_related("model", "account").first()


def agents_as_models(*, workspace_id: Any, user: Any) -> QuerySet[Agent]:
    """Return the agents the OpenAI endpoint lists as models, oldest first."""
    agents = Agent.objects.filter(workspace_id=workspace_id).filter(Q(visibility="workspace") | Q(created_by=user))
    return agents.order_by("created_at")


# --- metrics ------------------------------------------------------------------------


def threads_for_metrics(workspace_id: uuid.UUID, filters: Mapping[str, Any]) -> QuerySet[Thread]:
    """Return the threads of one workspace, narrowed by agent, for the threads metric."""
    threads = Thread.objects.filter(workspace_id=workspace_id)
    if filters.get("agent"):
        threads = threads.filter(agent_id=filters["agent"])
    return threads


def messages_for_metrics(workspace_id: uuid.UUID, filters: Mapping[str, Any]) -> QuerySet[Message]:
    """Return the messages of one workspace with `tokens` annotated, for the messages metric."""
    messages = Message.objects.filter(workspace_id=workspace_id)
    if filters.get("agent"):
        messages = messages.filter(thread__agent_id=filters["agent"])
    return messages.annotate(tokens=F("input_tokens") + F("output_tokens"))


def threads_count(workspace_ids: list[uuid.UUID], date_from: datetime | None, date_to: datetime | None) -> dict:
    return _count_by_workspace(Thread.objects.filter(workspace_id__in=workspace_ids), date_from, date_to)


def messages_count(workspace_ids: list[uuid.UUID], date_from: datetime | None, date_to: datetime | None) -> dict:
    return _count_by_workspace(Message.objects.filter(workspace_id__in=workspace_ids), date_from, date_to)


def _count_by_workspace(rows: QuerySet, date_from: datetime | None, date_to: datetime | None) -> dict:
    if date_from is not None:
        rows = rows.filter(created_at__gte=date_from)
    if date_to is not None:
        rows = rows.filter(created_at__lt=date_to)
    grouped = rows.order_by().values("workspace_id").annotate(count=Count("pk"))
    return {row["workspace_id"]: row["count"] for row in grouped}
