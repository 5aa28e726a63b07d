"""Fixtures shared by the whole suite: API clients, users, the real Celery worker and the secret capture."""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient

from accounts_auth.models import User
from tests.secret_capture import CAPTURE

REPO_ROOT = Path(__file__).resolve().parent.parent

# The fake LLM and OAuth servers' fixtures (`fake_llm`, `fake_oauth`) for every test package.
pytest_plugins = ["tests.fakes_llm", "tests.fakes_oauth"]


def require_services(reason: str) -> None:
    """Skip the test when a service is missing, or fail when ATHENA_REQUIRE_SERVICES is set."""
    if settings.ATHENA_REQUIRE_SERVICES:
        pytest.fail(f"{reason} (ATHENA_REQUIRE_SERVICES=1 makes this a failure)")
    pytest.skip(reason)


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db: None) -> User:
    return User.objects.create_user(email=f"user-{uuid.uuid4().hex[:8]}@example.com", password="correct horse battery")


def database_url_for_current_connection() -> str:
    """Build a DATABASE_URL for the database the tests use (pytest-django's test database)."""
    config = connection.settings_dict
    credentials = quote(config["USER"] or "")
    if config.get("PASSWORD"):
        credentials += ":" + quote(config["PASSWORD"])
    host = config.get("HOST") or "127.0.0.1"
    port = config.get("PORT") or "5432"
    return f"postgresql://{credentials}@{host}:{port}/{config['NAME']}"


@pytest.fixture(scope="session")
def celery_worker_process(
    django_db_setup: None, django_db_blocker: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict]:
    """Start one real Celery worker on the test database and Redis for the whole session.

    The worker consumes a queue named for this session, so a worker started elsewhere on the
    same Redis never takes these tasks. Yields the queue name and the worker's log file path.
    """
    if not settings.REDIS_URL:
        require_services("REDIS_URL is not set, so no real Celery worker can run")
    if connection.vendor != "postgresql":
        require_services("DATABASE_URL does not point at PostgreSQL, which a separate worker process needs")

    from athena_site.celery import app

    queue = f"athena-test-{uuid.uuid4().hex[:8]}"
    log_path = tmp_path_factory.mktemp("celery") / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "athena_site.settings.test",
        "DATABASE_URL": database_url_for_current_connection(),
        "REDIS_URL": settings.REDIS_URL,
        "LOG_LEVEL": "INFO",
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "athena_site",
        "worker",
        "--queues",
        queue,
        "--concurrency",
        "2",
        "--loglevel",
        "INFO",
        "--without-gossip",
        "--without-mingle",
        "--hostname",
        f"{queue}@%h",
    ]
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    CAPTURE.watch_file(log_path)
    previous_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    # Celery reads the namespaced Django setting before its own configuration changes.
    sending = override_settings(CELERY_TASK_ALWAYS_EAGER=False)
    sending.enable()
    try:
        _wait_for_worker(app, process, log_path)
        yield {"queue": queue, "log_path": log_path, "pid": process.pid}
    finally:
        app.conf.task_default_queue = previous_queue
        sending.disable()
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_for_worker(app: object, process: subprocess.Popen, log_path: Path) -> None:
    from athena_site.tasks import ping

    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"Celery worker exited with {process.returncode}:\n{log_path.read_text()[-4000:]}")
        try:
            if ping.apply_async().get(timeout=3) == "pong":
                return
        except Exception:
            time.sleep(0.5)
    pytest.fail(f"Celery worker did not answer within 45 seconds:\n{log_path.read_text()[-4000:]}")


@pytest.fixture(scope="session", autouse=True)
def secrets_never_leak() -> Iterator[None]:
    """Watch logs, responses and database writes for secrets during the whole session.

    See tests/secret_capture.py. Sightings fail the run when the session finishes.
    """
    CAPTURE.install()
    try:
        yield
    finally:
        CAPTURE.uninstall()


def pytest_runtest_logstart(nodeid: str, location: tuple) -> None:
    CAPTURE.begin_test(nodeid)


def pytest_runtest_logfinish(nodeid: str, location: tuple) -> None:
    CAPTURE.scan_watched_files()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    CAPTURE.scan_watched_files()
    if CAPTURE.sightings and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    terminalreporter.section("secret capture")
    terminalreporter.write_line(
        f"watched {len(CAPTURE.issued)} issued tokens, {CAPTURE.responses_seen} responses, "
        f"{CAPTURE.log_records_seen} log records and {CAPTURE.writes_seen} database writes"
    )
    if not CAPTURE.sightings:
        terminalreporter.write_line("no secret was seen")
        return
    terminalreporter.write_line(f"{len(CAPTURE.sightings)} secrets seen where they must not be:", red=True)
    for line in CAPTURE.report():
        terminalreporter.write_line(line, red=True)
