"""Production settings refuse unsafe configurations, naming the variable to fix."""

import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

from tests.conftest import REPO_ROOT

SAFE_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "a-long-random-production-secret-key-0123456789abcdefghijklmnop",
    "ALLOWED_HOSTS": "athena.example.com",
    "ATHENA_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
}


def import_production_settings(**overrides: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in SAFE_ENV}
    env.update(SAFE_ENV)
    env.update(overrides)
    env["DJANGO_SETTINGS_MODULE"] = "athena_site.settings.production"
    code = "import django; django.setup(); from django.conf import settings; print(settings.SESSION_COOKIE_SECURE)"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_production_settings_accept_safe_config():
    result = import_production_settings()

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"DEBUG": "1"}, "DEBUG"),
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
        ({"ATHENA_ENCRYPTION_KEYS": ""}, "ATHENA_ENCRYPTION_KEYS"),
    ],
)
def test_production_settings_reject_unsafe_config(overrides, variable):
    result = import_production_settings(**overrides)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr.strip().splitlines()[-1]


def test_production_settings_secure_cookies_and_hsts():
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, "
        "s.SECURE_HSTS_SECONDS > 0, s.SECURE_PROXY_SSL_HEADER, s.SESSION_COOKIE_SAMESITE)"
    )
    env = {**os.environ, **SAFE_ENV, "DJANGO_SETTINGS_MODULE": "athena_site.settings.production"}

    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True True True True ('HTTP_X_FORWARDED_PROTO', 'https') Lax"
