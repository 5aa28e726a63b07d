"""A round trip through real Redis and a real Celery worker, carrying the request id."""

import time

import pytest
from django.db import transaction

from athena_site.logging import reset_request_id, set_request_id
from athena_site.tasks import ping

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def wait_for_text(path, text, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in path.read_text():
            return True
        time.sleep(0.2)
    return False


def test_ping_round_trip_through_worker(celery_worker_process, transactional_db):
    result = ping.apply_async()

    assert result.get(timeout=20) == "pong"


def test_request_id_reaches_task_log(celery_worker_process, transactional_db):
    request_id = "req-propagation-0001"
    token = set_request_id(request_id)
    try:
        result = ping.apply_async()
    finally:
        reset_request_id(token)

    assert result.get(timeout=20) == "pong"
    assert wait_for_text(celery_worker_process["log_path"], f"[{request_id}] Ping task received")


def test_task_sent_only_after_commit(celery_worker_process, transactional_db):
    with transaction.atomic():
        result = ping.delay_on_commit()
        assert result is None

    sent_after_commit = ping.delay()
    assert sent_after_commit.get(timeout=20) == "pong"
