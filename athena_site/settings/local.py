"""Development settings: debug on, console email, SQLite and eager Celery unless configured."""

from athena_site.settings.base import *  # noqa: F403 (settings modules extend the base namespace)
from athena_site.settings.env import env_bool

DEBUG = env_bool("DEBUG", True)
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
