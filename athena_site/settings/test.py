"""Test settings: fast hashing, in-memory email, and outbound HTTP limited to loopback test servers."""

from athena_site.settings.base import *  # noqa: F403 (settings modules extend the base namespace)
from athena_site.settings.base import LOGGING
from athena_site.settings.env import env_bool, env_str

DEBUG = False
SECRET_KEY = "test-secret-key-not-used-anywhere-else-0123456789abcdef"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Two fixed keys so tests can check that the first encrypts and both decrypt.
ATHENA_ENCRYPTION_KEYS = [
    "UW1nvhpLXqeQKhIRyaBXhpwL37LDEo-hFhbNfhsglYE=",
    "0PF-xz4AOgfWhA4jDGh5o0xzpAHaqh2fJcogBnPqKYc=",
]
# Tests add the loopback servers they start; nothing else is reachable.
ATHENA_OUTBOUND_ALLOWLIST = ["127.0.0.1/32", "::1/128", "localhost"]
ATHENA_REQUIRE_SERVICES = env_bool("ATHENA_REQUIRE_SERVICES", False)
LOGGING = {**LOGGING, "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")}}
# Static files are served from the finders in tests, so no collectstatic run is needed.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
