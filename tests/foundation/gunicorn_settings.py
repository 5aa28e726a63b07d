"""Settings for the live gunicorn test: the test settings with the convention test routes."""

from athena_site.settings.test import *  # noqa: F403 (extends the test settings)

ROOT_URLCONF = "tests.foundation.urls"
