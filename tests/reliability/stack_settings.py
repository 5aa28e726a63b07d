"""Settings of the Athena processes that the reliability tests start against their own services.

They extend the test settings in two ways. Migrations are disabled, so `migrate --run-syncdb`
creates the schema of a fresh database in seconds instead of replaying every migration. The
periodic tasks run as often as `ATHENA_RELIABILITY_BEAT_SECONDS` sets, so a recovery by the
reaper takes seconds, not the production interval of 15 seconds.
"""

from athena_site.settings.env import env_str
from athena_site.settings.test import *  # noqa: F403 (extends the test settings)


class _NoMigrations(dict):
    """A MIGRATION_MODULES mapping that names no migrations package for any app."""

    def __contains__(self, app_label: object) -> bool:
        return True

    def __getitem__(self, app_label: str) -> None:
        return None


MIGRATION_MODULES = _NoMigrations()

_BEAT_SECONDS = float(env_str("ATHENA_RELIABILITY_BEAT_SECONDS", "1"))
CELERY_BEAT_SCHEDULE = {
    "workflows-reap-executions": {"task": "workflows.reap_executions", "schedule": _BEAT_SECONDS},
    "workflows-resume-due-executions": {"task": "workflows.resume_due_executions", "schedule": _BEAT_SECONDS},
}
