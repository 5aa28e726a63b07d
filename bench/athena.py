"""Athena under benchmark: its processes (gunicorn, one Celery worker) and the data the suite needs."""

import os
import secrets
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any

import requests

from bench.workflows import REPO_ROOT, WORKER_PROCESSES, Services  # noqa: F401 (WORKER_PROCESSES: read by suite.py)

# A synchronous webhook runs its workflow in its request thread, so the work is CPU-bound there:
# more threads only contend for the interpreter lock. A worker keeps the kept-alive connections
# it accepted, and with 2 workers all of wrk's connections sometimes landed on one of them,
# which halved the throughput of that run. Four workers on two cores spread them better.
GUNICORN_WORKER_CLASS = "gthread"
GUNICORN_WORKERS = 4
GUNICORN_THREADS = 2
# gunicorn's default. 0 closes each connection after its response, as behind a proxy that does
# not keep connections to the app server alive.
GUNICORN_KEEP_ALIVE_SECONDS = 2
AGENT_BATCH = 5_000
START_TIMEOUT_SECONDS = 600


class AthenaServices(Services):
    """The suite's database, Redis databases, gunicorn and worker; the database name is fixed by the caller."""

    def __init__(self, arguments: Any) -> None:
        super().__init__(arguments)
        self.database_name = arguments.database
        self.database_url = arguments.postgres_url.rsplit("/", 1)[0] + f"/{self.database_name}"

    def environment(self) -> dict[str, str]:
        from cryptography.fernet import Fernet

        if not hasattr(self, "_environment"):
            self._environment = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "bench.settings",
                "DEBUG": "0",
                # Keys for this run only: the database is dropped at the end, so nothing needs them later.
                "SECRET_KEY": secrets.token_urlsafe(50),
                "ATHENA_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "ATHENA_PUBLIC_URL": f"http://127.0.0.1:{self.port}",
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.arguments.redis_url,
                "REDIS_CACHE_URL": self.arguments.redis_cache_url,
                # The fake LLM server of the agent-turn measurement listens on 127.0.0.1.
                "ATHENA_OUTBOUND_ALLOWLIST": "127.0.0.1",
                # Throttling stays on, so its cost is measured, with limits far above the load.
                "ATHENA_THROTTLE_TOKEN": "10000000/min",
                "ATHENA_THROTTLE_USER": "10000000/min",
                "LOG_LEVEL": "WARNING",
            }
        return self._environment

    def create_database(self) -> None:
        import psycopg

        with psycopg.connect(self.arguments.postgres_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.database_name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{self.database_name}"')
        self.database_created = True

    def claim_redis(self) -> None:
        import redis

        for url in (self.arguments.redis_url, self.arguments.redis_cache_url):
            if redis.Redis.from_url(url).dbsize():
                sys.exit(f"Redis database {url} is not empty; pass empty ones with --redis-url and --redis-cache-url.")
        self.redis_used = True

    def release_redis(self) -> None:
        import redis

        if self.redis_used:
            for url in (self.arguments.redis_url, self.arguments.redis_cache_url):
                redis.Redis.from_url(url).flushdb()

    @property
    def web_workers(self) -> int:
        return getattr(self.arguments, "web_workers", None) or GUNICORN_WORKERS

    @property
    def web_threads(self) -> int:
        if self.web_worker_class == "sync":
            return 1  # gunicorn switches a sync worker with more threads to gthread
        return getattr(self.arguments, "web_threads", None) or GUNICORN_THREADS

    @property
    def web_worker_class(self) -> str:
        return getattr(self.arguments, "web_worker_class", None) or GUNICORN_WORKER_CLASS

    @property
    def web_keep_alive(self) -> int:
        value = getattr(self.arguments, "web_keep_alive", None)
        return GUNICORN_KEEP_ALIVE_SECONDS if value is None else value

    def start_gunicorn(self) -> None:
        command = self.gunicorn_command(
            worker_class=self.web_worker_class,
            workers=self.web_workers,
            threads=self.web_threads,
            keep_alive=self.web_keep_alive,
        )
        self.start("gunicorn", command)
        # The first request of each gunicorn worker imports every app's URLs and the vendor SDKs,
        # which took minutes on a 2-core machine running other test suites.
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        answered = 0
        while time.monotonic() < deadline and answered < 2 * self.web_workers:
            try:
                requests.get(f"http://127.0.0.1:{self.port}/bench/bare", timeout=START_TIMEOUT_SECONDS)
                answered += 1
            except requests.RequestException:
                time.sleep(0.3)
        if answered < 2 * self.web_workers:
            raise RuntimeError(
                f"gunicorn did not respond within {START_TIMEOUT_SECONDS} seconds. See {self.logs['gunicorn']}."
            )


def setup_django(services: AthenaServices) -> None:
    os.environ.update(services.environment())
    sys.path.insert(0, str(REPO_ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


@dataclass
class BenchData:
    """What the measurements use: the token, the workspaces and their objects."""

    token: str
    workspace: Any
    small_workspace: Any
    large_workspace: Any
    agent: Any
    workflows: dict[str, Any]
    threads: list[Any]
    fake_llm: Any


def _graph(nodes: list[dict[str, Any]], edges: list[tuple[str, str, str]]) -> dict[str, Any]:
    return {
        "nodes": nodes,
        "edges": [
            {"id": f"e{index}", "source": source, "target": target, "source_handle": handle}
            for index, (source, target, handle) in enumerate(edges)
        ],
    }


def branch_workflow(*, respond: bool) -> dict[str, Any]:
    """Return webhook -> set -> condition (value > 10), ending in two respond_to_webhook nodes or two noops."""
    nodes = [
        {"id": "hook", "type": "trigger.webhook", "parameters": {}},
        {
            "id": "shape",
            "type": "set",
            "parameters": {"values": {"greeting": "{{ 'hello ' ~ input.name }}", "value": "{{ input.value }}"}},
        },
        {
            "id": "check",
            "type": "condition",
            "parameters": {"conditions": [{"left": "{{ input.value }}", "operator": "greater_than", "right": 10}]},
        },
    ]
    for branch in ("high", "low"):
        if respond:
            body = {"greeting": "{{ input.greeting }}", "value": "{{ input.value }}", "branch": branch}
            nodes.append({"id": branch, "type": "respond_to_webhook", "parameters": {"status": 200, "body": body}})
        else:
            nodes.append({"id": branch, "type": "noop", "parameters": {}})
    edges = [
        ("hook", "shape", "main"),
        ("shape", "check", "main"),
        ("check", "high", "true"),
        ("check", "low", "false"),
    ]
    return _graph(nodes, edges)


def chain_workflow(length: int) -> dict[str, Any]:
    """Return a webhook trigger followed by `length` noop nodes in a line."""
    nodes = [{"id": "hook", "type": "trigger.webhook", "parameters": {}}]
    nodes += [{"id": f"n{index}", "type": "noop", "parameters": {}} for index in range(length)]
    edges = [(nodes[index]["id"], nodes[index + 1]["id"], "main") for index in range(length)]
    return _graph(nodes, edges)


def _bulk_agents(workspace: Any, count: int, prefix: str) -> None:
    from agents.models import Agent

    for start in range(0, count, AGENT_BATCH):
        Agent.objects.bulk_create(
            [
                Agent(
                    workspace=workspace,
                    name=f"{prefix} agent {index}",
                    slug=f"{prefix}-agent-{index}",
                    description="An agent created for the benchmark.",
                    instructions="Answer in one sentence.",
                )
                for index in range(start, min(count, start + AGENT_BATCH))
            ]
        )


def create_data(*, agents: int, small_agents: int, large_agents: int, threads: int) -> BenchData:
    """Create the owner, a token, three workspaces with agents, the workflows, and threads on a fake LLM."""
    from django.db import connection

    from accounts_auth.models import User
    from accounts_auth.services import personal_access_token_create
    from agents.services import agent_create
    from tests.agents.factories import llm_setup
    from tests.fakes_llm import FakeLLM
    from threads.services import thread_create
    from workflows.services.workflows import workflow_create
    from workspaces.services.workspaces import workspace_create

    owner = User.objects.create_user(email=f"bench-{uuid.uuid4().hex[:8]}@example.com", password=None)
    _token, raw_token = personal_access_token_create(user=owner, name="bench", abilities=["*"])
    workspace = workspace_create(name="Benchmark", owner=owner)
    small_workspace = workspace_create(name="Benchmark small", owner=owner)
    large_workspace = workspace_create(name="Benchmark large", owner=owner)
    _bulk_agents(workspace, agents, "main")
    _bulk_agents(small_workspace, small_agents, "small")
    _bulk_agents(large_workspace, large_agents, "large")
    # Autovacuum does this within minutes of a bulk load. Done here, the measurements start from
    # the steady state: planner statistics and a visibility map for index-only scans.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE agents_agent")

    definitions = {
        "sync": branch_workflow(respond=True),
        "async": branch_workflow(respond=False),
        "chain_1": chain_workflow(1),
        "chain_10": chain_workflow(10),
        "chain_100": chain_workflow(100),
    }
    workflows = {
        key: workflow_create(
            workspace=workspace, user=owner, data={"name": f"Bench {key}", "webhook_rate_limit": 0, **graph}
        )
        for key, graph in definitions.items()
    }

    fake_llm = FakeLLM().start()
    account, model = llm_setup(workspace=workspace, base_url=fake_llm.openai_base_url)
    agent = agent_create(
        workspace=workspace,
        user=owner,
        data={"name": "Turn agent", "model_id": model.pk, "account_id": account.pk, "instructions": "Be brief."},
    )
    thread_list = [
        thread_create(workspace=workspace, user=owner, agent=agent, data={"name": f"Turn {index}"})
        for index in range(threads)
    ]
    return BenchData(
        token=raw_token,
        workspace=workspace,
        small_workspace=small_workspace,
        large_workspace=large_workspace,
        agent=agent,
        workflows=workflows,
        threads=thread_list,
        fake_llm=fake_llm,
    )


def execution_counts(workflow: Any) -> dict[str, int]:
    """Return the executions of `workflow` by status."""
    from django.db.models import Count

    from workflows.models import WorkflowExecution

    rows = WorkflowExecution.objects.filter(workflow=workflow).values("status").annotate(count=Count("id"))
    return {row["status"]: row["count"] for row in rows}


def wait_settled(workflow: Any, timeout: float) -> dict[str, int]:
    """Wait until no execution of `workflow` is queued or running (or `timeout` passed); return the counts."""
    deadline = time.monotonic() + timeout
    while True:
        counts = execution_counts(workflow)
        unfinished = sum(count for status, count in counts.items() if status in ("queued", "running", "waiting"))
        if unfinished == 0 or time.monotonic() >= deadline:
            return counts
        time.sleep(0.2)


def finished_total() -> int:
    from workflows.models import FINISHED_STATUSES, WorkflowExecution

    return WorkflowExecution.objects.filter(status__in=FINISHED_STATUSES).count()


def last_finished_at(workflow: Any) -> float | None:
    from django.db.models import Max

    from workflows.models import WorkflowExecution

    last = WorkflowExecution.objects.filter(workflow=workflow).aggregate(last=Max("finished_at"))["last"]
    return last.timestamp() if last else None


def run_subprocess_quietly(command: list[str]) -> str:
    completed = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 (fixed commands)
    return completed.stdout.strip()
