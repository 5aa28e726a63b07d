"""Check the running settings against the production checklist in docs/security.md.

Prints one line per check and exits with status 1 when any check finds an unsafe setting, so a
deployment script can stop before serving traffic.
"""

import ipaddress
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from athena_site.settings.base import INSECURE_SECRET_KEY

MIN_SECRET_KEY_LENGTH = 50
MIN_SECRET_KEY_CHARACTERS = 5
MIN_HSTS_SECONDS = 180 * 24 * 3600
# Allowlist networks larger than this many addresses open more than a few named hosts.
MAX_ALLOWLIST_NETWORK_ADDRESSES = 256


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool
    detail: str


def _check_debug() -> Iterator[Finding]:
    yield Finding("DEBUG", not settings.DEBUG, "DEBUG is on: error pages show code and settings.")


def _check_secret_key() -> Iterator[Finding]:
    key = settings.SECRET_KEY or ""
    weak = (
        key == INSECURE_SECRET_KEY
        or key.startswith("django-insecure")
        or len(key) < MIN_SECRET_KEY_LENGTH
        or len(set(key)) < MIN_SECRET_KEY_CHARACTERS
    )
    yield Finding(
        "SECRET_KEY",
        not weak,
        f"SECRET_KEY is missing, the development default, or shorter than {MIN_SECRET_KEY_LENGTH} characters.",
    )


def _check_allowed_hosts() -> Iterator[Finding]:
    hosts = list(settings.ALLOWED_HOSTS)
    yield Finding(
        "ALLOWED_HOSTS", bool(hosts) and "*" not in hosts, "ALLOWED_HOSTS is empty or contains '*'; list your names."
    )


def _check_encryption_keys() -> Iterator[Finding]:
    from athena_site.crypto import _fernet_for

    keys = tuple(settings.ATHENA_ENCRYPTION_KEYS or ())
    try:
        _fernet_for(keys)
        valid = True
    except Exception:  # noqa: BLE001 (any failure to build the cipher means the keys are unusable)
        valid = False
    yield Finding(
        "ATHENA_ENCRYPTION_KEYS", valid, "ATHENA_ENCRYPTION_KEYS is missing or holds a key that is not a Fernet key."
    )


def _check_https() -> Iterator[Finding]:
    yield Finding("SESSION_COOKIE_SECURE", settings.SESSION_COOKIE_SECURE, "Session cookies are sent over plain HTTP.")
    yield Finding("CSRF_COOKIE_SECURE", settings.CSRF_COOKIE_SECURE, "CSRF cookies are sent over plain HTTP.")
    hsts = int(getattr(settings, "SECURE_HSTS_SECONDS", 0) or 0)
    yield Finding(
        "SECURE_HSTS_SECONDS",
        hsts >= MIN_HSTS_SECONDS,
        f"HSTS is off or shorter than {MIN_HSTS_SECONDS} seconds (180 days).",
    )
    header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    yield Finding(
        "SECURE_PROXY_SSL_HEADER",
        header is None or bool(settings.ATHENA_TRUSTED_PROXIES),
        "SECURE_PROXY_SSL_HEADER trusts X-Forwarded-Proto, but ATHENA_TRUSTED_PROXIES names no proxy; "
        "make sure only your proxy can reach Athena, and list it.",
    )
    public_url = settings.ATHENA_PUBLIC_URL
    yield Finding("ATHENA_PUBLIC_URL", public_url.startswith("https://"), "ATHENA_PUBLIC_URL is not an https URL.")


def _check_trusted_proxies() -> Iterator[Finding]:
    broad = []
    for entry in settings.ATHENA_TRUSTED_PROXIES:
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            broad.append(f"{entry} (not a network)")
            continue
        if network.prefixlen == 0 or network.is_global:
            broad.append(entry)
    yield Finding(
        "ATHENA_TRUSTED_PROXIES",
        not broad,
        f"ATHENA_TRUSTED_PROXIES lists {', '.join(broad)}: any client there could forge X-Forwarded-For.",
    )


def _check_services() -> Iterator[Finding]:
    yield Finding("REDIS_URL", bool(settings.REDIS_URL), "REDIS_URL is not set: no worker, schedules or shared cache.")
    engine = settings.DATABASES["default"]["ENGINE"]
    yield Finding("DATABASES", "postgresql" in engine, f"The database engine is {engine}; use PostgreSQL.")
    backend = settings.EMAIL_BACKEND
    yield Finding(
        "EMAIL_BACKEND",
        not backend.endswith(("console.EmailBackend", "locmem.EmailBackend", "dummy.EmailBackend")),
        f"EMAIL_BACKEND is {backend}: verification and reset emails never reach anyone.",
    )


def _check_outbound_allowlist() -> Iterator[Finding]:
    broad = []
    for entry in settings.ATHENA_OUTBOUND_ALLOWLIST:
        try:
            network = ipaddress.ip_network(str(entry).strip("[]"), strict=False)
        except ValueError:
            continue
        reaches_internal = network.prefixlen == 0 or not network.is_global
        if network.num_addresses > MAX_ALLOWLIST_NETWORK_ADDRESSES and reaches_internal:
            broad.append(str(entry))
    yield Finding(
        "ATHENA_OUTBOUND_ALLOWLIST",
        not broad,
        f"ATHENA_OUTBOUND_ALLOWLIST opens whole private ranges ({', '.join(broad)}); list single hosts.",
    )


CHECKS: list[Callable[[], Iterator[Finding]]] = [
    _check_debug,
    _check_secret_key,
    _check_allowed_hosts,
    _check_encryption_keys,
    _check_https,
    _check_trusted_proxies,
    _check_services,
    _check_outbound_allowlist,
]


def run_checks() -> list[Finding]:
    """Return the findings of every check, in the checklist's order."""
    return [finding for check in CHECKS for finding in check()]


class Command(BaseCommand):
    help = "Check this deployment's settings against the production checklist; exit 1 when any is unsafe."

    def handle(self, *args: Any, **options: Any) -> None:
        findings = run_checks()
        unsafe = [finding for finding in findings if not finding.ok]
        for finding in findings:
            if finding.ok:
                self.stdout.write(f"ok      {finding.check}")
            else:
                self.stdout.write(self.style.ERROR(f"UNSAFE  {finding.check}: {finding.detail}"))
        if unsafe:
            raise CommandError(f"{len(unsafe)} of {len(findings)} checks found an unsafe setting.", returncode=1)
        self.stdout.write(self.style.SUCCESS(f"All {len(findings)} checks passed."))
