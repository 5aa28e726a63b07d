"""Celery entry points of the workspaces app."""

import logging
import time

from celery import shared_task
from django.db import OperationalError

from workspaces.services import workspace_delete_data

logger = logging.getLogger(__name__)


@shared_task(
    name="workspaces.delete_workspace",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
    soft_time_limit=600,
    time_limit=660,
)
def delete_workspace(workspace_id: str) -> bool:
    """Delete a workspace marked for deletion and all its data; returns whether a row was deleted.

    A workspace that is already gone, or whose deletion was not requested, is left alone, so the
    task may run twice. Only database connection errors are retried.
    """
    started = time.monotonic()
    deleted = workspace_delete_data(workspace_id=workspace_id)
    duration_ms = int((time.monotonic() - started) * 1000)
    if deleted:
        logger.info("Workspace deleted", extra={"workspace_id": workspace_id, "duration_ms": duration_ms})
    else:
        logger.info(
            "Workspace deletion skipped: no workspace marked for deletion", extra={"workspace_id": workspace_id}
        )
    return deleted
