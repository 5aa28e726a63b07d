"""The OAuth2 flow over real HTTP against a live server, and concurrent refresh requests.

A separate server thread handles these requests, so the tests use `transactional_db` and
real commits. With DATABASE_URL pointing at PostgreSQL the two refresh requests run at the same
time on two connections. The SQLite test database is in memory, and every server thread shares
its one connection, which cannot hold two transactions at once. There the server handles one
request at a time, so the test covers a replay that arrives right after the rotation.
"""

import threading
from contextlib import contextmanager
from urllib.parse import urlencode

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings

from tests.oauth2.conftest import REDIRECT_URI, authorize_query, hidden_inputs, pkce_pair, redirect_params

TIMEOUT_SECONDS = 10


def browser_session(live_server, user) -> requests.Session:
    """Sign the user in with Django's test client and carry the session cookie over to requests."""
    client = Client()
    client.force_login(user)
    session = requests.Session()
    # No domain: the cookie jar then sends it to the live server whatever its host name is.
    session.cookies.set(settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value)
    return session


@contextmanager
def one_request_at_a_time_on_shared_sqlite(live_server):
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


def issue_tokens_over_http(live_server, user, application, scope: str) -> dict:
    session = browser_session(live_server, user)
    pkce = pkce_pair()

    consent = session.get(
        f"{live_server.url}/o/authorize/?{authorize_query(application, scope=scope, pkce=pkce)}",
        timeout=TIMEOUT_SECONDS,
        allow_redirects=False,
    )
    assert consent.status_code == 200, consent.text
    assert "Authorize Public test client?" in consent.text

    form = hidden_inputs(consent.text)
    decision = session.post(
        f"{live_server.url}/o/authorize/",
        data={**form, "allow": "Authorize"},
        timeout=TIMEOUT_SECONDS,
        allow_redirects=False,
    )
    assert decision.status_code == 302, decision.text
    params = redirect_params(decision.headers["Location"])
    assert params["state"] == "state-123"

    token = requests.post(
        f"{live_server.url}/o/token/",
        data={
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": REDIRECT_URI,
            "client_id": application.client_id,
            "code_verifier": pkce.verifier,
        },
        timeout=TIMEOUT_SECONDS,
    )
    assert token.status_code == 200, token.text
    return token.json()


@pytest.mark.usefixtures("transactional_db")
def test_live_authorization_code_flow_calls_api(live_server, oauth_user, public_application):
    tokens = issue_tokens_over_http(live_server, oauth_user, public_application, scope="agents:read threads:read")

    response = requests.get(
        f"{live_server.url}/api/v1/user",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=TIMEOUT_SECONDS,
    )

    assert response.status_code == 200, response.text
    assert response.json()["data"]["email"] == oauth_user.email


@pytest.mark.usefixtures("transactional_db")
def test_live_authorize_without_pkce_rejected(live_server, oauth_user, public_application):
    session = browser_session(live_server, oauth_user)
    query = authorize_query(public_application, scope="agents:read", pkce=None)

    response = session.get(f"{live_server.url}/o/authorize/?{query}", timeout=TIMEOUT_SECONDS, allow_redirects=False)

    assert response.status_code == 302, response.text
    assert redirect_params(response.headers["Location"])["error"] == "invalid_request"


@pytest.mark.parametrize("grace_seconds", [0, 10])
@pytest.mark.usefixtures("transactional_db")
def test_live_concurrent_refresh_never_fails_with_500(live_server, oauth_user, public_application, grace_seconds):
    tokens = issue_tokens_over_http(live_server, oauth_user, public_application, scope="agents:read")
    body = urlencode(
        {
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": public_application.client_id,
        }
    )
    start = threading.Barrier(2)
    results: list[requests.Response | BaseException] = []

    def refresh_once() -> None:
        start.wait(timeout=TIMEOUT_SECONDS)
        try:
            results.append(
                requests.post(
                    f"{live_server.url}/o/token/",
                    data=body,
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                    timeout=TIMEOUT_SECONDS,
                )
            )
        except BaseException as exc:
            results.append(exc)

    grace = {**settings.OAUTH2_PROVIDER, "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": grace_seconds}
    with override_settings(OAUTH2_PROVIDER=grace), one_request_at_a_time_on_shared_sqlite(live_server):
        threads = [threading.Thread(target=refresh_once) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=TIMEOUT_SECONDS * 2)

    assert len(results) == 2, results
    responses = [result for result in results if isinstance(result, requests.Response)]
    assert len(responses) == 2, results
    statuses = sorted(response.status_code for response in responses)
    assert 500 not in statuses, [response.text for response in responses]
    assert statuses[0] == 200, [response.text for response in responses]
    for response in responses:
        if response.status_code == 400:
            assert response.json()["error"] == "invalid_grant", response.text
        else:
            assert response.status_code == 200, response.text
            assert response.json()["refresh_token"] != tokens["refresh_token"]
