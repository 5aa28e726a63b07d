"""Tasks owned by the site itself."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="athena.ping")
def ping() -> str:
    """Answer `pong`; health checks and tests use it to prove a worker is consuming the queue."""
    logger.info("Ping task received")
    return "pong"
