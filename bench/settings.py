"""Settings of the Athena server under benchmark: production settings plus one bare view for comparison."""

from athena_site.settings.production import *  # noqa: F403 (settings modules extend the base namespace)

ROOT_URLCONF = "bench.urls"
