"""With a real Celery worker on Redis and PostgreSQL: crashes, the reaper and lost messages."""

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from tests.conftest import REPO_ROOT, database_url_for_current_connection
from tests.workflows.conftest import chain, node, trigger
from workflows.models import WorkflowExecution
from workflows.services.executions import executions_reap
from workflows.services.workflows import workflow_run

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _wait_until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def _http(node_id, url):
    return node(node_id, "http_request", parameters={"method": "POST", "url": url}, timeout_seconds=2)


def test_worker_runs_execution(celery_worker_process, make_workflow, owner, http_server):
    workflow = make_workflow([trigger(), _http("call", f"{http_server.url}/one")], chain("start", "call"))

    execution = workflow_run(workflow=workflow, user=owner, body={})

    assert _wait_until(lambda: WorkflowExecution.objects.get(pk=execution.pk).status == "succeeded", 30)
    assert http_server.count("/one") == 1


def test_lost_queued_message_is_resent(celery_worker_process, make_workflow, owner, settings):
    settings.WORKFLOWS_QUEUED_RESEND_SECONDS = 0
    workflow = make_workflow([trigger(), node("a", "noop")], chain("start", "a"))
    execution = WorkflowExecution.objects.create(
        workspace=workflow.workspace,
        workflow=workflow,
        status="queued",
        workflow_data={"nodes": workflow.nodes, "edges": workflow.edges, "settings": workflow.settings},
        dispatched_at=timezone.now() - timedelta(minutes=10),
    )

    counts = executions_reap()

    assert counts["resent"] >= 1
    assert _wait_until(lambda: WorkflowExecution.objects.get(pk=execution.pk).status == "succeeded", 30)


def test_reaper_recovers_stuck_runner(celery_worker_process, make_workflow, http_server):
    workflow = make_workflow([trigger(), _http("call", f"{http_server.url}/stuck")], chain("start", "call"))
    execution = WorkflowExecution.objects.create(
        workspace=workflow.workspace,
        workflow=workflow,
        status="running",
        lease_owner="runner-that-died",
        lease_expires_at=timezone.now() - timedelta(seconds=1),
        started_at=timezone.now(),
        workflow_data={"nodes": workflow.nodes, "edges": workflow.edges, "settings": workflow.settings},
    )

    counts = executions_reap()

    assert counts["recovered"] == 1
    assert _wait_until(lambda: WorkflowExecution.objects.get(pk=execution.pk).status == "succeeded", 30)
    assert WorkflowExecution.objects.get(pk=execution.pk).recoveries == 1


def _start_worker(queue: str, log_path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "athena_site.settings.test",
        "DATABASE_URL": database_url_for_current_connection(),
        "REDIS_URL": settings.REDIS_URL,
        "WORKFLOWS_LEASE_SECONDS": "3",
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
        "--without-gossip",
        "--without-mingle",
        "--hostname",
        f"{queue}-{uuid.uuid4().hex[:4]}@%h",
    ]
    with open(log_path, "ab") as log_file:
        # A session of its own lets the test kill the worker and its pool children together.
        return subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )


@pytest.mark.timeout(180)
def test_sigkill_worker_mid_batch_loses_and_duplicates_nothing(
    celery_worker_process, make_workflow, owner, http_server, tmp_path, settings
):
    from athena_site.celery import app

    settings.WORKFLOWS_QUEUED_RESEND_SECONDS = 5
    http_server.delay = 0.3
    queue = f"athena-crash-{uuid.uuid4().hex[:8]}"
    previous_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    worker = _start_worker(queue, tmp_path / "crash-worker.log")
    try:
        workflow = make_workflow(
            [
                trigger(),
                _http("a", f"{http_server.url}/a"),
                node("mid", "set", parameters={"values": {"x": 1}}),
                _http("b", f"{http_server.url}/b"),
                _http("c", f"{http_server.url}/c"),
            ],
            chain("start", "a", "mid", "b", "c"),
        )
        executions = [workflow_run(workflow=workflow, user=owner, body={"n": index}) for index in range(8)]
        ids = [execution.pk for execution in executions]
        assert _wait_until(lambda: http_server.count("/a") >= 2, 60), (tmp_path / "crash-worker.log").read_text()[
            -3000:
        ]

        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        worker = _start_worker(queue, tmp_path / "crash-worker.log")

        def all_done():
            executions_reap()
            return all(
                status == "succeeded"
                for status in WorkflowExecution.objects.filter(pk__in=ids).values_list("status", flat=True)
            )

        assert _wait_until(all_done, 120), list(
            WorkflowExecution.objects.filter(pk__in=ids).values_list("status", "error")
        )
    finally:
        app.conf.task_default_queue = previous_queue
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)

    committed = {
        path: WorkflowExecution.objects.filter(
            pk__in=ids, node_runs__node_id=node_id, node_runs__status="succeeded"
        ).count()
        for path, node_id in (("/a", "a"), ("/b", "b"), ("/c", "c"))
    }
    # Each committed node ran once; only a node whose result had not committed when the worker
    # died may have been called a second time, at most once per recovered execution.
    recovered = sum(WorkflowExecution.objects.filter(pk__in=ids).values_list("recoveries", flat=True))
    for path in ("/a", "/b", "/c"):
        assert committed[path] == 8
        assert 8 <= http_server.count(path) <= 8 + recovered
    assert http_server.count("/a") + http_server.count("/b") + http_server.count("/c") <= 24 + recovered
