"""The authenticated account session: every strategy and placement, retries and redirects."""

import base64
import json

import pytest

from providers.http import account_session, backoff_seconds, retry_after_seconds
from tests.providers.conftest import make_secret
from tests.providers.factories import AccountFactory, ProviderFactory


def _account(workspace, server, config, credentials):
    provider = ProviderFactory(workspace=workspace, base_url=server.url, authentication_config=config)
    return AccountFactory(provider=provider, workspace=workspace, credentials=credentials)


@pytest.mark.parametrize(
    ("config", "expected_header"),
    [
        ({"strategy": "api_key", "placement": "header", "name": "X-API-Key"}, ("x-api-key", "{secret}")),
        (
            {"strategy": "api_key", "placement": "header", "name": "Authorization", "prefix": "Token "},
            ("authorization", "Token {secret}"),
        ),
        ({"strategy": "bearer"}, ("authorization", "Bearer {secret}")),
    ],
)
def test_account_session_header_placement(db, workspace, echo_server, config, expected_header):
    secret = make_secret()
    field = "api_key" if config["strategy"] == "api_key" else "token"
    account = _account(workspace, echo_server, config, {field: secret})

    with account_session(account=account) as session:
        response = session.get(f"{echo_server.url}/items")

    name, value = expected_header
    assert response.status_code == 200, response.text
    assert echo_server.received[0].headers[name] == value.format(secret=secret)


def test_account_session_query_placement(db, workspace, echo_server):
    secret = make_secret()
    config = {"strategy": "api_key", "placement": "query", "name": "key"}
    account = _account(workspace, echo_server, config, {"api_key": secret})

    with account_session(account=account) as session:
        session.get(f"{echo_server.url}/items", params={"page": "2"})

    assert echo_server.received[0].query == {"page": ["2"], "key": [secret]}


def test_account_session_json_body_placement(db, workspace, echo_server):
    secret = make_secret()
    config = {"strategy": "api_key", "placement": "body", "name": "api_key"}
    account = _account(workspace, echo_server, config, {"api_key": secret})

    with account_session(account=account) as session:
        session.post(f"{echo_server.url}/items", json={"title": "Hello"})

    assert json.loads(echo_server.received[0].body) == {"title": "Hello", "api_key": secret}


def test_account_session_form_body_placement(db, workspace, echo_server):
    secret = make_secret()
    config = {"strategy": "bearer", "placement": "body", "name": "access_token", "prefix": ""}
    account = _account(workspace, echo_server, config, {"token": secret})

    with account_session(account=account) as session:
        session.post(f"{echo_server.url}/items", data={"title": "Hello"})

    received = echo_server.received[0]
    assert received.headers["content-type"] == "application/x-www-form-urlencoded"
    assert received.body.decode() == f"title=Hello&access_token={secret}"


def test_account_session_basic_strategy(db, workspace, echo_server):
    password = make_secret()
    account = _account(workspace, echo_server, {"strategy": "basic"}, {"username": "robot", "password": password})

    with account_session(account=account) as session:
        session.get(echo_server.url)

    encoded = echo_server.received[0].headers["authorization"].removeprefix("Basic ")
    assert base64.b64decode(encoded).decode() == f"robot:{password}"


def test_account_session_none_strategy_sends_no_credential(db, workspace, echo_server):
    account = _account(workspace, echo_server, {"strategy": "none"}, {})

    with account_session(account=account) as session:
        session.get(echo_server.url)

    assert "authorization" not in echo_server.received[0].headers


def test_account_session_retries_get_honouring_retry_after(db, workspace, echo_server, waits):
    account = _account(workspace, echo_server, {"strategy": "bearer"}, {"token": make_secret()})
    echo_server.answer(503, {"Retry-After": "3"})
    echo_server.answer(429, {"Retry-After": "1"})

    with account_session(account=account) as session:
        response = session.get(echo_server.url)

    assert response.status_code == 200, response.text
    assert waits == [3.0, 1.0]
    assert len(echo_server.received) == 3


def test_account_session_retries_are_capped(db, workspace, echo_server, waits):
    account = _account(workspace, echo_server, {"strategy": "bearer"}, {"token": make_secret()})
    for _ in range(5):
        echo_server.answer(502)

    with account_session(account=account, max_retries=2) as session:
        response = session.get(echo_server.url)

    assert response.status_code == 502
    assert len(echo_server.received) == 3
    assert len(waits) == 2


def test_account_session_does_not_retry_post(db, workspace, echo_server, waits):
    account = _account(workspace, echo_server, {"strategy": "bearer"}, {"token": make_secret()})
    echo_server.answer(503)

    with account_session(account=account) as session:
        response = session.post(echo_server.url, json={})

    assert response.status_code == 503
    assert len(echo_server.received) == 1
    assert waits == []


def test_account_session_redirect_drops_header(db, workspace, echo_server):
    # given a redirect from 127.0.0.1 to localhost, a different host on the same server
    secret = make_secret()
    config = {"strategy": "api_key", "placement": "header", "name": "X-API-Key"}
    account = _account(workspace, echo_server, config, {"api_key": secret})
    port = echo_server.httpd.server_address[1]
    echo_server.answer(302, {"Location": f"http://localhost:{port}/landing"})

    with account_session(account=account) as session:
        session.get(f"{echo_server.url}/start")

    assert echo_server.received[0].headers["x-api-key"] == secret
    assert echo_server.received[1].path == "/landing"
    assert "x-api-key" not in echo_server.received[1].headers


def test_account_session_redirect_drops_query_key(db, workspace, echo_server):
    secret = make_secret()
    config = {"strategy": "api_key", "placement": "query", "name": "key"}
    account = _account(workspace, echo_server, config, {"api_key": secret})
    port = echo_server.httpd.server_address[1]
    echo_server.answer(302, {"Location": f"http://localhost:{port}/landing?key={secret}&keep=1"})

    with account_session(account=account) as session:
        session.get(f"{echo_server.url}/start")

    assert echo_server.received[1].query == {"keep": ["1"]}


def test_retry_after_seconds_parses_seconds_and_dates():
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_backoff_seconds_is_capped():
    assert backoff_seconds(1, 500.0, cap=30.0) == 30.0
    assert backoff_seconds(20, None, cap=30.0) <= 30.0
