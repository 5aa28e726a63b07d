"""Cron schedules of workflows, as django-celery-beat periodic tasks."""

import json
import logging
import zoneinfo
from typing import Any

from celery.schedules import crontab
from django_celery_beat.models import CrontabSchedule, PeriodicTask

logger = logging.getLogger(__name__)

FIRE_TASK = "workflows.fire_schedule"


def _cron_fields(cron: str) -> list[str]:
    return cron.split()


def cron_problem(cron: str) -> str | None:
    """Return why `cron` is not a five-field cron expression, or None when it is one."""
    fields = _cron_fields(cron)
    if len(fields) != 5:
        return "Use five fields: minute hour day-of-month month day-of-week."
    minute, hour, day_of_month, month, day_of_week = fields
    try:
        crontab(minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month, day_of_week=day_of_week)
    except (ValueError, TypeError) as exc:
        return f"Not a valid cron expression: {exc}."
    return None


def timezone_problem(name: str) -> str | None:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return f"'{name}' is not an IANA time zone."
    return None


def task_name(workflow_id: Any) -> str:
    return f"workflow-schedule:{workflow_id}"


def schedule_sync(*, workflow: Any) -> None:
    """Create, update or remove the workflow's periodic task to match its schedule and active flag.

    The task carries the workflow id and version, so a run fired by a task written for an older
    version is dropped by `workflows.fire_schedule`. Call inside the transaction that saves the
    workflow.
    """
    name = task_name(workflow.pk)
    if not workflow.schedule_cron or not workflow.active:
        PeriodicTask.objects.filter(name=name).delete()
        return

    minute, hour, day_of_month, month, day_of_week = _cron_fields(workflow.schedule_cron)
    schedule, _ = CrontabSchedule.objects.get_or_create(
        minute=minute,
        hour=hour,
        day_of_month=day_of_month,
        month_of_year=month,
        day_of_week=day_of_week,
        timezone=workflow.schedule_timezone or "UTC",
    )
    arguments = json.dumps([str(workflow.pk), workflow.version])
    PeriodicTask.objects.update_or_create(
        name=name,
        defaults={"task": FIRE_TASK, "crontab": schedule, "interval": None, "args": arguments, "enabled": True},
    )


def schedule_remove(*, workflow_id: Any) -> None:
    PeriodicTask.objects.filter(name=task_name(workflow_id)).delete()
