"""Celery entry points of the threads app."""

import logging

from celery import shared_task

from providers.errors import LLMError
from threads import services
from threads.models import Thread

logger = logging.getLogger(__name__)


@shared_task(name="threads.generate_name", acks_late=True, soft_time_limit=60, time_limit=90)
def generate_thread_name(thread_id: str) -> None:
    """Name a thread by id unless it has a name by now; a deleted thread is skipped."""
    thread = Thread.objects.select_related("agent__model", "agent__account").filter(pk=thread_id).first()
    if thread is None or thread.name:
        return
    try:
        services.thread_generate_name(thread=thread)
    except LLMError as exc:
        # A missing title is cosmetic: the thread stays unnamed and the user may ask again.
        logger.warning("Thread naming failed with %s", exc.code, extra={"thread_id": thread_id})
