"""`manage.py athena_doctor`: the production checklist as a command."""

from io import StringIO
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def production(settings: Any) -> Any:
    """Settings that pass every check; each test breaks one."""
    settings.DEBUG = False
    settings.SECRET_KEY = "k3y-" + "".join(chr(65 + index % 26) + str(index) for index in range(30))
    settings.ALLOWED_HOSTS = ["athena.example.com"]
    settings.ATHENA_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.ATHENA_TRUSTED_PROXIES = ["10.0.0.2/32"]
    settings.ATHENA_PUBLIC_URL = "https://athena.example.com"
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    settings.DATABASES = {**settings.DATABASES}
    settings.DATABASES["default"] = {**settings.DATABASES["default"], "ENGINE": "django.db.backends.postgresql"}
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.ATHENA_OUTBOUND_ALLOWLIST = ["ollama.internal", "10.0.0.7/32"]
    return settings


def run_doctor() -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("athena_doctor", stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue()
    return 0, out.getvalue()


def test_athena_doctor_passes_a_safe_deployment(production):
    code, output = run_doctor()

    assert code == 0, output
    assert "UNSAFE" not in output
    assert "All" in output


@pytest.mark.parametrize(
    ("setting", "value", "check"),
    [
        ("DEBUG", True, "DEBUG"),
        ("SECRET_KEY", "django-insecure-athena-development-key-do-not-use-in-production", "SECRET_KEY"),
        ("SECRET_KEY", "short", "SECRET_KEY"),
        ("SECRET_KEY", "a" * 60, "SECRET_KEY"),
        ("ALLOWED_HOSTS", [], "ALLOWED_HOSTS"),
        ("ALLOWED_HOSTS", ["*"], "ALLOWED_HOSTS"),
        ("ATHENA_ENCRYPTION_KEYS", [], "ATHENA_ENCRYPTION_KEYS"),
        ("ATHENA_ENCRYPTION_KEYS", ["not-a-fernet-key"], "ATHENA_ENCRYPTION_KEYS"),
        ("SESSION_COOKIE_SECURE", False, "SESSION_COOKIE_SECURE"),
        ("CSRF_COOKIE_SECURE", False, "CSRF_COOKIE_SECURE"),
        ("SECURE_HSTS_SECONDS", 0, "SECURE_HSTS_SECONDS"),
        ("ATHENA_TRUSTED_PROXIES", [], "SECURE_PROXY_SSL_HEADER"),
        ("ATHENA_TRUSTED_PROXIES", ["0.0.0.0/0"], "ATHENA_TRUSTED_PROXIES"),
        ("ATHENA_TRUSTED_PROXIES", ["198.51.100.0/24", "8.8.8.8"], "ATHENA_TRUSTED_PROXIES"),
        ("ATHENA_PUBLIC_URL", "http://athena.example.com", "ATHENA_PUBLIC_URL"),
        ("REDIS_URL", "", "REDIS_URL"),
        ("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend", "EMAIL_BACKEND"),
        ("ATHENA_OUTBOUND_ALLOWLIST", ["10.0.0.0/8"], "ATHENA_OUTBOUND_ALLOWLIST"),
        ("ATHENA_OUTBOUND_ALLOWLIST", ["::/0"], "ATHENA_OUTBOUND_ALLOWLIST"),
    ],
)
def test_athena_doctor_reports_each_unsafe_setting(production, setting, value, check):
    # given a deployment that is safe but for one setting
    setattr(production, setting, value)

    # when the doctor runs
    code, output = run_doctor()

    # then it names that check as unsafe and exits non-zero
    assert code == 1, output
    unsafe = [line for line in output.splitlines() if line.startswith("UNSAFE")]
    assert [line.split()[1].rstrip(":") for line in unsafe] == [check], output


def test_athena_doctor_reports_sqlite(production):
    production.DATABASES["default"] = {**production.DATABASES["default"], "ENGINE": "django.db.backends.sqlite3"}

    code, output = run_doctor()

    assert code == 1
    assert "UNSAFE  DATABASES" in output


def test_athena_doctor_flags_the_test_settings(settings):
    # The test settings are a development setup: the doctor must not call them production-ready.
    code, output = run_doctor()

    assert code == 1
    assert "UNSAFE  SESSION_COOKIE_SECURE" in output
    assert "UNSAFE  ATHENA_OUTBOUND_ALLOWLIST" not in output
