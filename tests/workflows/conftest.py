"""Fixtures of the workflows tests: graphs, a counting HTTP server and eager task execution."""

import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from tests.fakes import FakeServer
from tests.workspaces.conftest import client_for
from workflows.services.workflows import workflow_create


@pytest.fixture(autouse=True)
def eager_unless_integration(request, settings):
    """Run tasks inline, except in integration tests that talk to the real worker."""
    # Celery reads the namespaced Django setting before its own configuration changes.
    if not request.node.get_closest_marker("integration"):
        settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture
def owner(db):
    from tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def workspace(owner):
    from tests.factories import WorkspaceFactory

    return WorkspaceFactory(owner=owner, name="Automation team")


@pytest.fixture
def owner_client(owner):
    return client_for(owner)


def trigger(node_id: str = "start", kind: str = "trigger.manual", **parameters: Any) -> dict:
    return {"id": node_id, "type": kind, "parameters": parameters}


def node(node_id: str, kind: str, **fields: Any) -> dict:
    parameters = fields.pop("parameters", {})
    return {"id": node_id, "type": kind, "parameters": parameters, **fields}


def edge(source: str, target: str, handle: str = "main") -> dict:
    return {"id": f"{source}-{target}-{handle}", "source": source, "target": target, "source_handle": handle}


def chain(*node_ids: str) -> list[dict]:
    return [edge(source, target) for source, target in itertools.pairwise(node_ids)]


@pytest.fixture
def make_workflow(workspace, owner):
    def make(nodes: list[dict], edges: list[dict], **data: Any):
        return workflow_create(
            workspace=workspace, user=owner, data={"name": "Flow", "nodes": nodes, "edges": edges, **data}
        )

    return make


@pytest.fixture
def run_workflow(owner, django_capture_on_commit_callbacks):
    """Run a workflow through the API service with its task executed inline; return the execution."""
    from workflows.services.workflows import workflow_run

    def run(workflow, body: Any = None):
        with django_capture_on_commit_callbacks(execute=True):
            execution = workflow_run(workflow=workflow, user=owner, body=body)
        execution.refresh_from_db()
        return execution

    return run


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """A context manager that runs the on-commit callbacks (queued tasks) registered inside it."""

    def capture():
        return django_capture_on_commit_callbacks(execute=True)

    return capture


def node_runs(execution) -> dict[str, Any]:
    return {run.node_id: run for run in execution.node_runs.filter(item_index=-1)}


class CountingServer(FakeServer):
    """Answers every request with JSON describing it and counts calls per path.

    `statuses[path]` lists statuses to answer in turn (then 200); `delay` waits before answering.
    """

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.requests: list[dict[str, Any]] = []
        self.statuses: dict[str, list[int]] = {}
        self.delay = 0.0
        self.lock = threading.Lock()
        super().__init__(_CountingHandler)

    def count(self, path: str) -> int:
        with self.lock:
            return self.calls.get(path, 0)


class _CountingHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        fake: CountingServer = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        path = self.path.split("?", 1)[0]
        with fake.lock:
            fake.calls[path] = fake.calls.get(path, 0) + 1
            fake.requests.append(
                {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
            )
            queued = fake.statuses.get(path) or []
            status = queued.pop(0) if queued else 200
        if fake.delay:
            time.sleep(fake.delay)
        reply = json.dumps(
            {"method": self.command, "path": self.path, "body": body, "count": fake.calls[path]}
        ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


@pytest.fixture
def http_server():
    server = CountingServer().start()
    yield server
    server.stop()
