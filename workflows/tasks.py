"""Celery entry points of the workflows app: thin wrappers over the engine and services."""

import logging
from typing import Any

from celery import shared_task
from celery.contrib.django.task import DjangoTask

logger = logging.getLogger(__name__)


class _SafeSendTask(DjangoTask):
    """A task whose on-commit send logs a broker failure instead of raising it.

    The execution row is committed before the send, so the reaper sends it again later; the
    caller has nothing to undo and should still answer 202.
    """

    def delay_on_commit(self, *args: Any, **kwargs: Any) -> None:
        from django.db import transaction

        def send() -> None:
            try:
                self.delay(*args, **kwargs)
            except Exception:
                logger.warning(
                    "Sending a task failed; the reaper will send it again", extra={"task": self.name}, exc_info=True
                )

        transaction.on_commit(send)


@shared_task(name="workflows.run_execution", base=_SafeSendTask, ignore_result=True)
def run_execution(execution_id: str) -> str | None:
    """Run an execution until it finishes or waits; a vanished, finished or leased one is left alone."""
    from workflows.engine import execution_run

    execution = execution_run(execution_id=execution_id)
    return execution.status if execution is not None else None


@shared_task(name="workflows.reap_executions", ignore_result=True)
def reap_executions() -> dict[str, int]:
    """Re-queue executions with expired leases and re-send lost queued messages."""
    from workflows.services.executions import executions_reap

    return executions_reap()


@shared_task(name="workflows.resume_due_executions", ignore_result=True)
def resume_due_executions() -> int:
    """Queue the waiting executions whose `resume_at` has come."""
    from workflows.services.executions import executions_resume_due

    return executions_resume_due()


@shared_task(name="workflows.delete_old_executions", ignore_result=True)
def delete_old_executions() -> int:
    """Delete finished executions older than the retention setting."""
    from workflows.services.executions import executions_delete_old

    return executions_delete_old()


@shared_task(name="workflows.fire_schedule", ignore_result=True)
def fire_schedule(workflow_id: str, version: int) -> str | None:
    """Start a scheduled execution; a task written for an older version does nothing."""
    from workflows.services.workflows import workflow_fire_schedule

    execution = workflow_fire_schedule(workflow_id=workflow_id, version=version)
    return str(execution.pk) if execution else None


@shared_task(name="workflows.delete_test_executions", ignore_result=True)
def delete_test_executions() -> int:
    """Delete test executions older than the test retention setting."""
    from workflows.services.testing import executions_delete_old_tests

    return executions_delete_old_tests()
