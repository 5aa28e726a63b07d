"""Benchmark of the workflow engine: webhook throughput and latency, per-node overhead, worker memory.

Usage (PostgreSQL and Redis on 127.0.0.1):

    .venv/bin/python bench/workflows.py                  # 1,000-execution memory point
    .venv/bin/python bench/workflows.py --long           # also the 10,000-execution point

The script creates a database `athena_bench_<random>` on the PostgreSQL server of
`--postgres-url`, uses an empty Redis database (`--redis-url`, db 15 by default), serves Athena
with gunicorn (gthread) under `athena_site.settings.production`, starts one Celery worker with
2 processes, and stops both by PID and drops the database at the end. Every request goes to
127.0.0.1, every phase sends a bounded number of requests, and the whole run stops after
`--max-seconds`. Results are written as JSON to bench/results/.

What is measured:
- throughput: a 4-node workflow (trigger.webhook -> set -> condition -> respond_to_webhook) is
  triggered through the public webhook by `--requests` requests at each concurrency level;
  executions per second is requests / (last execution's finished_at - first request sent).
  The web process answers 202 right after the commit (WORKFLOWS_SYNC_WEBHOOK_TIMEOUT_SECONDS=0),
  so the worker runs all 4 nodes, respond_to_webhook included.
- latency: client-side time of each 202 answer, p50 and p99, per concurrency level.
- per-node overhead: executions of webhook -> 1 noop and webhook -> N noops, one at a time and
  interleaved; (median duration with N - median duration with 1) / (N - 1), where a duration is
  finished_at - started_at of the execution row.
- memory: RSS of the worker (main process and its 2 children, from /proc) once 1,000 and, with
  `--long`, 10,000 executions have finished in total.
"""

import argparse
import json
import os
import platform
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "bench" / "results"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
CONCURRENCY_LEVELS = (1, 8, 32)
GUNICORN_WORKERS = 2
# Enough threads that concurrency 32 never queues inside gunicorn.
GUNICORN_THREADS = 16
WORKER_PROCESSES = 2
FINISH_TIMEOUT_SECONDS = 120


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15", help="An empty Redis database.")
    parser.add_argument("--port", type=int, default=0, help="Port for gunicorn; 0 picks a free one.")
    parser.add_argument("--requests", type=int, default=300, help="Webhook requests per concurrency level.")
    parser.add_argument("--chain-length", type=int, default=50, help="Noop nodes in the long chain.")
    parser.add_argument("--chain-runs", type=int, default=30, help="Executions of each chain.")
    parser.add_argument("--long", action="store_true", help="Also measure memory after 10,000 executions.")
    parser.add_argument("--max-seconds", type=int, default=1800, help="Stop the whole run after this many seconds.")
    parser.add_argument("--label", default="", help="Added to the result file name.")
    return parser.parse_args()


def require_loopback(url: str) -> None:
    host = urlsplit(url).hostname
    if host not in LOOPBACK_HOSTS:
        sys.exit(f"Refusing {url}: the benchmark only talks to 127.0.0.1.")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Services:
    """The bench database, the Redis database, gunicorn and the worker, with their cleanup."""

    def __init__(self, arguments: argparse.Namespace) -> None:
        self.arguments = arguments
        self.database_name = f"athena_bench_{uuid.uuid4().hex[:10]}"
        parts = urlsplit(arguments.postgres_url)
        self.database_url = urlunsplit(parts._replace(path=f"/{self.database_name}"))
        self.port = arguments.port or free_port()
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}
        self.database_created = False
        self.redis_used = False
        self.log_dir = RESULTS_DIR / "logs"

    def environment(self) -> dict[str, str]:
        from cryptography.fernet import Fernet

        if not hasattr(self, "_environment"):
            self._environment = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "athena_site.settings.production",
                "DEBUG": "0",
                "SECRET_KEY": secrets.token_urlsafe(50),
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "ATHENA_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
                "ATHENA_PUBLIC_URL": f"http://127.0.0.1:{self.port}",
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.arguments.redis_url,
                "WORKFLOWS_SYNC_WEBHOOK_TIMEOUT_SECONDS": "0",
                "LOG_LEVEL": "WARNING",
            }
        return self._environment

    def create_database(self) -> None:
        import psycopg

        with psycopg.connect(self.arguments.postgres_url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{self.database_name}"')
        self.database_created = True

    def drop_database(self) -> None:
        import psycopg

        if not self.database_created:
            return
        from django.db import connections

        connections.close_all()
        with psycopg.connect(self.arguments.postgres_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.database_name}" WITH (FORCE)')

    def claim_redis(self) -> None:
        import redis

        client = redis.Redis.from_url(self.arguments.redis_url)
        if client.dbsize():
            sys.exit(f"Redis database {self.arguments.redis_url} is not empty; pass an empty one with --redis-url.")
        self.redis_used = True

    def release_redis(self) -> None:
        import redis

        if self.redis_used:
            redis.Redis.from_url(self.arguments.redis_url).flushdb()

    def start(self, name: str, command: list[str]) -> subprocess.Popen:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        with open(log_path, "wb") as log_file:
            process = subprocess.Popen(  # noqa: S603 (fixed commands built by this script)
                command, cwd=REPO_ROOT, env=self.environment(), stdout=log_file, stderr=subprocess.STDOUT
            )
        self.processes[name] = process
        self.logs[name] = log_path
        return process

    def gunicorn_command(
        self,
        *,
        worker_class: str = "gthread",
        workers: int = GUNICORN_WORKERS,
        threads: int = GUNICORN_THREADS,
        keep_alive: int = 2,
    ) -> list[str]:
        """Return the command that serves Athena on this run's port; `keep_alive` 2 is gunicorn's default."""
        return [
            sys.executable,
            "-m",
            "gunicorn",
            "athena_site.wsgi:application",
            "--worker-class",
            worker_class,
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--keep-alive",
            str(keep_alive),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--log-level",
            "warning",
        ]

    def start_gunicorn(self) -> None:
        self.start("gunicorn", self.gunicorn_command())
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                # An unknown webhook token is a cheap 404 that passes through the whole stack.
                requests.get(f"http://127.0.0.1:{self.port}/api/v1/hooks/{'x' * 20}", timeout=5)
                return
            except requests.RequestException:
                time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not start within 30 seconds. See {self.logs['gunicorn']}.")

    def start_worker(self) -> None:
        self.start(
            "worker",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "athena_site",
                "worker",
                "--concurrency",
                str(WORKER_PROCESSES),
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
                "--hostname",
                f"bench-{uuid.uuid4().hex[:6]}@%h",
            ],
        )

    def stop_all(self) -> None:
        for name, process in reversed(list(self.processes.items())):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    print(f"{name} (pid {process.pid}) did not stop on SIGTERM; killing it", file=sys.stderr)
                    process.kill()
                    process.wait(timeout=10)


def worker_rss_bytes(pid: int) -> int:
    """Return the summed RSS of `pid` and its direct children, read from /proc."""
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        pids.extend(int(child) for child in children)
    total = 0
    for member in pids:
        for line in Path(f"/proc/{member}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def setup_django(services: Services) -> None:
    os.environ.update(services.environment())
    sys.path.insert(0, str(REPO_ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def create_workflows(chain_length: int) -> dict[str, object]:
    from accounts_auth.models import User
    from workflows.services.workflows import workflow_create
    from workspaces.services.workspaces import workspace_create

    owner = User.objects.create_user(email=f"bench-{uuid.uuid4().hex[:8]}@example.com", password=None)
    workspace = workspace_create(name="Benchmark", owner=owner)

    def make(name: str, nodes: list[dict]) -> object:
        # A condition leads on through its `true` handle; every other node through `main`.
        edges = [
            {
                "id": f"e{index}",
                "source": nodes[index]["id"],
                "target": nodes[index + 1]["id"],
                "source_handle": "true" if nodes[index]["type"] == "condition" else "main",
            }
            for index in range(len(nodes) - 1)
        ]
        data = {"name": name, "nodes": nodes, "edges": edges, "webhook_rate_limit": 0}
        return workflow_create(workspace=workspace, user=owner, data=data)

    start = {"id": "hook", "type": "trigger.webhook", "parameters": {}}
    condition = {
        "id": "check",
        "type": "condition",
        "parameters": {"conditions": [{"left": "{{ input.amount }}", "operator": "greater_than", "right": 100}]},
    }
    four_nodes = [
        start,
        {"id": "shape", "type": "set", "parameters": {"values": {"order": "{{ input.order }}", "amount": 250}}},
        condition,
        {"id": "reply", "type": "respond_to_webhook", "parameters": {"status": 200, "body": {"ok": True}}},
    ]
    four = make("Webhook answer", four_nodes)

    def noops(count: int) -> list[dict]:
        return [start, *({"id": f"n{index}", "type": "noop", "parameters": {}} for index in range(count))]

    return {
        "four": four,
        "chain_1": make("Noop x1", noops(1)),
        "chain_n": make(f"Noop x{chain_length}", noops(chain_length)),
    }


def hook_url(port: int, workflow: object) -> str:
    return f"http://127.0.0.1:{port}/api/v1/hooks/{workflow.webhook_token}"


def send_hooks(url: str, count: int, concurrency: int) -> tuple[list[float], list[int], list[str], float]:
    """POST `count` requests with `concurrency` threads; return latencies, statuses, execution ids, start time."""
    session_per_thread: dict[int, requests.Session] = {}

    def one(index: int) -> tuple[float, int, str]:
        import threading

        session = session_per_thread.setdefault(threading.get_ident(), requests.Session())
        started = time.perf_counter()
        response = session.post(url, json={"order": index, "amount": 250}, timeout=30)
        elapsed = time.perf_counter() - started
        execution_id = response.json().get("data", {}).get("execution_id", "") if response.status_code == 202 else ""
        return elapsed, response.status_code, execution_id

    started_at = time.time()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(one, range(count)))
    for session in session_per_thread.values():
        session.close()
    return [r[0] for r in results], [r[1] for r in results], [r[2] for r in results if r[2]], started_at


def wait_finished(execution_ids: list[str], timeout: float) -> dict[str, int]:
    from workflows.models import FINISHED_STATUSES, WorkflowExecution

    deadline = time.monotonic() + timeout
    while True:
        pending = WorkflowExecution.objects.filter(pk__in=execution_ids).exclude(status__in=FINISHED_STATUSES).count()
        if pending == 0 or time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    rows = WorkflowExecution.objects.filter(pk__in=execution_ids).values_list("status", flat=True)
    counts: dict[str, int] = {}
    for status in rows:
        counts[status] = counts.get(status, 0) + 1
    counts["missing"] = len(execution_ids) - len(rows)
    return counts


def measure_throughput(port: int, workflow: object, count: int, concurrency: int) -> dict[str, object]:
    from django.db.models import Max

    from workflows.models import WorkflowExecution

    latencies, statuses, ids, started_at = send_hooks(hook_url(port, workflow), count, concurrency)
    counts = wait_finished(ids, FINISH_TIMEOUT_SECONDS)
    last_finished = WorkflowExecution.objects.filter(pk__in=ids).aggregate(last=Max("finished_at"))["last"]
    seconds = last_finished.timestamp() - started_at if last_finished else None
    return {
        "concurrency": concurrency,
        "requests": count,
        "accepted": statuses.count(202),
        "other_statuses": sorted({status for status in statuses if status != 202}),
        "executions": counts,
        "lost": count - counts.get("succeeded", 0),
        "seconds": round(seconds, 3) if seconds else None,
        "executions_per_second": round(counts.get("succeeded", 0) / seconds, 2) if seconds else None,
        "latency_202_ms": {
            "p50": round(percentile(latencies, 0.50) * 1000, 2),
            "p99": round(percentile(latencies, 0.99) * 1000, 2),
        },
    }


def measure_node_overhead(port: int, short: object, long: object, chain_length: int, runs: int) -> dict[str, object]:
    from workflows.models import WorkflowExecution

    durations: dict[str, list[float]] = {"short": [], "long": []}
    for _ in range(runs):
        for name, workflow in (("short", short), ("long", long)):
            _latencies, _statuses, ids, _started = send_hooks(hook_url(port, workflow), 1, 1)
            wait_finished(ids, FINISH_TIMEOUT_SECONDS)
            execution = WorkflowExecution.objects.get(pk=ids[0])
            if execution.status == "succeeded":
                durations[name].append((execution.finished_at - execution.started_at).total_seconds())
    short_median = statistics.median(durations["short"])
    long_median = statistics.median(durations["long"])
    return {
        "chain_length": chain_length,
        "runs": runs,
        "median_execution_ms_1_noop": round(short_median * 1000, 3),
        f"median_execution_ms_{chain_length}_noops": round(long_median * 1000, 3),
        "per_node_overhead_ms": round((long_median - short_median) / (chain_length - 1) * 1000, 3),
    }


def finished_total() -> int:
    from workflows.models import FINISHED_STATUSES, WorkflowExecution

    return WorkflowExecution.objects.filter(status__in=FINISHED_STATUSES).count()


def run_until(port: int, workflow: object, total: int, deadline: float) -> int:
    """Trigger executions at concurrency 8 until `total` have finished in the run; return the count reached."""
    while (done := finished_total()) < total and time.monotonic() < deadline:
        batch = min(500, total - done)
        _latencies, _statuses, ids, _started = send_hooks(hook_url(port, workflow), batch, 8)
        wait_finished(ids, FINISH_TIMEOUT_SECONDS)
    return finished_total()


def machine() -> dict[str, object]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    memory_kb = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def main() -> None:
    arguments = parse_arguments()
    require_loopback(arguments.postgres_url)
    require_loopback(arguments.redis_url)
    deadline = time.monotonic() + arguments.max_seconds
    services = Services(arguments)
    result: dict[str, object] = {
        "started_at": datetime.now(UTC).isoformat(),
        "machine": machine(),
        "setup": {
            "settings": "athena_site.settings.production",
            "gunicorn": f"gthread, {GUNICORN_WORKERS} workers x {GUNICORN_THREADS} threads",
            "celery_worker_processes": WORKER_PROCESSES,
            "sync_webhook_timeout_seconds": 0,
            "requests_per_level": arguments.requests,
        },
    }
    try:
        services.claim_redis()
        services.create_database()
        setup_django(services)
        workflows = create_workflows(arguments.chain_length)
        services.start_gunicorn()
        services.start_worker()
        worker = services.processes["worker"]
        # The first execution also waits for the worker to connect to Redis and PostgreSQL.
        warm = run_until(services.port, workflows["four"], 20, deadline)
        print(f"warm-up: {warm} executions finished", flush=True)

        result["throughput"] = []
        for concurrency in CONCURRENCY_LEVELS:
            level = measure_throughput(services.port, workflows["four"], arguments.requests, concurrency)
            print(json.dumps(level), flush=True)
            result["throughput"].append(level)

        result["node_overhead"] = measure_node_overhead(
            services.port, workflows["chain_1"], workflows["chain_n"], arguments.chain_length, arguments.chain_runs
        )
        print(json.dumps(result["node_overhead"]), flush=True)

        memory = []
        for target in (1_000, 10_000) if arguments.long else (1_000,):
            reached = run_until(services.port, workflows["four"], target, deadline)
            memory.append({"executions": reached, "worker_rss_mib": round(worker_rss_bytes(worker.pid) / 2**20, 1)})
            print(json.dumps(memory[-1]), flush=True)
        result["memory"] = memory
        if len(memory) == 2:
            result["memory_growth_percent"] = round(
                (memory[1]["worker_rss_mib"] - memory[0]["worker_rss_mib"]) / memory[0]["worker_rss_mib"] * 100, 1
            )
    finally:
        services.stop_all()
        services.drop_database()
        services.release_redis()

    result["finished_at"] = datetime.now(UTC).isoformat()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS_DIR / f"workflows-{stamp}{'-' + arguments.label if arguments.label else ''}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"Results written to {path}")


if __name__ == "__main__":
    main()
