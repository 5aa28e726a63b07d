"""Playwright driving Debian's Chromium against pytest-django's live server.

Chromium is never downloaded: the tests use /usr/bin/chromium with background networking off,
and skip (or fail under ATHENA_REQUIRE_SERVICES=1) when it or Playwright is missing. Every
page the tests visit can be saved as a screenshot in `tests/browser/artifacts/`.
"""

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from tests.conftest import require_services

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
TIMEOUT_MS = 10_000


@pytest.fixture(scope="package")
def chromium() -> Iterator[object]:
    """One headless Chromium for the browser tests.

    Playwright's sync API keeps an event loop running in the main thread while it is started,
    which breaks `asyncio.run` in other tests, so it stops when the browser package ends.
    """
    if not CHROMIUM.exists():
        require_services(f"{CHROMIUM} is missing; install Debian's chromium package")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require_services("the playwright package is not installed (pip install -e '.[dev]')")

    # Playwright's sync API keeps an event loop running in this thread, so Django rejects ORM
    # calls from the test body unless this is set. Only these tests set it.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    manager = sync_playwright().start()
    browser = manager.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
    try:
        yield browser
    finally:
        browser.close()
        manager.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@contextmanager
def _serialized_on_shared_sqlite(live_server: object) -> Iterator[None]:
    # The in-memory SQLite test database is one connection shared by every server thread, which
    # cannot serve two requests at once; PostgreSQL serves them concurrently.
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        yield
        return
    httpd = live_server.thread.httpd
    application = httpd.get_app()
    lock = threading.Lock()

    def serialized(environ, start_response):
        with lock:
            return application(environ, start_response)

    httpd.set_app(serialized)
    try:
        yield
    finally:
        httpd.set_app(application)


def server_url(live_server: object) -> str:
    # The IPv4 address, not "localhost": Chromium may try ::1 first, where nothing listens.
    return live_server.url.replace("//localhost:", "//127.0.0.1:")


@pytest.fixture
def page(chromium, live_server, transactional_db) -> Iterator[object]:
    """A fresh browser context (no cookies) on the live server."""
    with _serialized_on_shared_sqlite(live_server):
        context = chromium.new_context(base_url=server_url(live_server), viewport={"width": 1280, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        try:
            yield page
        finally:
            context.close()


@pytest.fixture
def sign_in(page, live_server):
    """Return a function that signs a user in by giving the browser a session cookie."""

    def sign(user) -> object:
        client = Client()
        client.force_login(user)
        host = server_url(live_server).split("//", 1)[1].split(":", 1)[0]
        page.context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "domain": host,
                    "path": "/",
                }
            ]
        )
        return page

    return sign


@pytest.fixture
def screenshot(page):
    """Return a function that saves the whole page as `artifacts/<name>.png`."""
    ARTIFACTS.mkdir(exist_ok=True)

    def save(name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


@pytest.fixture(autouse=True)
def clear_rate_limits() -> Iterator[None]:
    # Sign-in lockouts and throttles count per client IP in the shared cache, and every browser
    # test signs in from 127.0.0.1, so counters left by earlier packages must not lock it out.
    from django.core.cache import cache

    cache.clear()
    yield
