"""Body limits against a live gunicorn, which is the only way to send a chunked request body."""

import http.client
import json
import os
import socket
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.timeout(90)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def gunicorn_port(tmp_path_factory):
    port = free_port()
    log_path = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.foundation.gunicorn_settings"}
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "athena_site.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--worker-class",
        "gthread",
        "--threads",
        "2",
    ]
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None:
                    pytest.fail(f"gunicorn exited:\n{log_path.read_text()}")
                time.sleep(0.2)
        else:
            pytest.fail(f"gunicorn did not start:\n{log_path.read_text()}")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=20)


def post_chunked(port: int, path: str, chunks: list[bytes]) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        connection.request(
            "POST", path, body=iter(chunks), headers={"Content-Type": "application/json"}, encode_chunked=True
        )
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_chunked_body_within_limit_is_parsed(gunicorn_port):
    chunks = [b'{"name": ', b'"chunked", ', b'"count": 3}']

    status, body = post_chunked(gunicorn_port, "/api/v1/test-echo", chunks)

    assert status == 200, body
    assert body == {"data": {"received": {"name": "chunked", "count": 3}}}


def test_chunked_body_over_limit_is_413(gunicorn_port):
    piece = b"x" * 65536
    chunks = [b'{"blob": "'] + [piece] * 20 + [b'"}']

    status, body = post_chunked(gunicorn_port, "/api/v1/test-echo", chunks)

    assert status == 413, body
    assert body["code"] == "payload_too_large"


def test_chunked_body_over_route_limit_is_413(gunicorn_port):
    chunks = [b'{"blob": "', b"y" * 300, b'"}']

    status, body = post_chunked(gunicorn_port, "/api/v1/test-small-echo", chunks)

    assert status == 413, body


def test_content_length_over_limit_is_413(gunicorn_port):
    connection = http.client.HTTPConnection("127.0.0.1", gunicorn_port, timeout=20)
    raw = json.dumps({"blob": "z" * (1024 * 1024 + 10)}).encode()
    try:
        connection.request("POST", "/api/v1/test-echo", body=raw, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        status, body = response.status, json.loads(response.read())
    finally:
        connection.close()

    assert status == 413, body
    assert body["code"] == "payload_too_large"
