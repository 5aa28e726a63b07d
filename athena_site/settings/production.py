"""Production settings: refuse to start when a setting would make the deployment unsafe."""

from django.core.exceptions import ImproperlyConfigured

from athena_site.settings.base import *  # noqa: F403 (settings modules extend the base namespace)
from athena_site.settings.base import (
    ALLOWED_HOSTS,
    ATHENA_ENCRYPTION_KEYS,
    DEBUG,
    INSECURE_SECRET_KEY,
    LOGGING,
    SECRET_KEY,
)
from athena_site.settings.env import env_bool, env_int


def check_production_settings() -> None:
    """Raise ImproperlyConfigured naming the first environment variable that is unsafe or missing."""
    if DEBUG:
        raise ImproperlyConfigured("DEBUG must be off in production: unset DEBUG or set DEBUG=0.")
    if not SECRET_KEY or SECRET_KEY == INSECURE_SECRET_KEY:
        raise ImproperlyConfigured(
            "SECRET_KEY is missing or uses the development default: set a long random SECRET_KEY."
        )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS is empty: set it to the host names Athena is served on.")
    if not ATHENA_ENCRYPTION_KEYS:
        raise ImproperlyConfigured("ATHENA_ENCRYPTION_KEYS is missing: set one or more comma-separated Fernet keys.")


check_production_settings()

SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
LOGGING = {
    **LOGGING,
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["request_id"], "formatter": "json"},
    },
}
