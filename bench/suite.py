"""The benchmark suite: Athena and n8n side by side on one machine, in one run.

Usage (PostgreSQL and Redis on 127.0.0.1, run as root for the network namespace):

    make bench
    .venv/bin/python -m bench.suite --database athena_bench --n8n-database athena_bench_n8n

Parts, each measured with the systems alternating and repeated (`--repeats`):
1. workflow throughput: webhook -> set -> condition -> respond with JSON, in Athena and n8n, at
   concurrency 1, 8, 32 and 64 for `--seconds` each: requests/s, p50/p99, errors, executions saved;
2. async webhook intake: the same workflow without a response node (Athena returns 202, n8n's
   webhook responds on receipt): accepted/s and the time until every accepted execution finished;
3. API overhead: token-authenticated agent list (50 of 10,000), detail and create against a bare
   view returning a body of the same size on the same server; queries per request;
4. agent turn overhead: `POST threads/{id}/run` on a fake LLM server that answers at once, against
   the official openai client calling the same server, plain and streaming;
5. scaling: agent list latency with 1,000 and 100,000 agents in the workspace, execution time of
   chains of 1, 10 and 100 noop nodes, worker memory after 1,000 and 10,000 executions.

Results go to bench/results/suite-<time>.json and the summary to docs/benchmarks.md. The machine
is shared and noisy, so every figure that is compared is a ratio of runs made back to back.
"""

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from bench import athena, report
from bench.load import percentile, run_wrk, spread
from bench.n8n import ASYNC_PATH, SYNC_PATH, N8n
from bench.workflows import RESULTS_DIR, machine, require_loopback, worker_rss_bytes

CONCURRENCY_LEVELS = (1, 8, 32, 64)
INTAKE_CONCURRENCY = 32
API_CONCURRENCY = 8
SETTLE_TIMEOUT_SECONDS = 120
DRAIN_TIMEOUT_SECONDS = 300


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="athena_bench", help="Athena's database; dropped and created.")
    parser.add_argument("--n8n-database", default="athena_bench_n8n", help="n8n's database; dropped and created.")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12", help="An empty Redis database (broker).")
    parser.add_argument(
        "--redis-cache-url", default="redis://127.0.0.1:6379/13", help="An empty Redis database (cache)."
    )
    parser.add_argument("--port", type=int, default=0, help="Port for gunicorn; 0 picks a free one.")
    parser.add_argument("--repeats", type=int, default=3, help="Alternating runs of each measurement.")
    parser.add_argument("--seconds", type=int, default=10, help="Duration of each throughput run.")
    parser.add_argument("--intake-seconds", type=int, default=8, help="Duration of each async intake run.")
    parser.add_argument("--api-seconds", type=int, default=6, help="Duration of each API run.")
    parser.add_argument("--turns", type=int, default=60, help="Agent turns of each kind.")
    parser.add_argument("--chain-runs", type=int, default=10, help="Executions of each noop chain.")
    parser.add_argument("--large-rows", type=int, default=100_000, help="Agents in the large workspace.")
    parser.add_argument("--memory-executions", type=int, default=10_000, help="Executions for the second memory point.")
    parser.add_argument(
        "--web-worker-class",
        choices=("gthread", "sync"),
        help=f"gunicorn's worker class ({athena.GUNICORN_WORKER_CLASS}).",
    )
    parser.add_argument("--web-workers", type=int, help=f"gunicorn worker processes ({athena.GUNICORN_WORKERS}).")
    parser.add_argument("--web-threads", type=int, help=f"Threads per gthread worker ({athena.GUNICORN_THREADS}).")
    parser.add_argument(
        "--web-keep-alive",
        type=int,
        help=f"Seconds gunicorn keeps an idle connection open; 0 closes it after each response "
        f"({athena.GUNICORN_KEEP_ALIVE_SECONDS}).",
    )
    parser.add_argument("--skip-n8n", action="store_true", help="Measure Athena alone (no ratios against n8n).")
    parser.add_argument("--no-doc", action="store_true", help="Do not rewrite docs/benchmarks.md.")
    parser.add_argument("--label", default="", help="Added to the result file name.")
    return parser.parse_args()


class Systems:
    """The running systems and the URLs the measurements drive."""

    def __init__(self, services: athena.AthenaServices, data: athena.BenchData, peer: N8n | None) -> None:
        self.services = services
        self.data = data
        self.peer = peer
        self.base = f"http://127.0.0.1:{services.port}"
        self.headers = {"Authorization": f"Bearer {data.token}", "X-Workspace": str(data.workspace.pk)}

    def hook_url(self, key: str) -> str:
        return f"{self.base}/api/v1/hooks/{self.data.workflows[key].webhook_token}"

    def athena_run(self, key: str, connections: int, seconds: int) -> dict[str, Any]:
        return run_wrk(self.hook_url(key), connections=connections, seconds=seconds, body="branches")

    def n8n_run(self, path: str, connections: int, seconds: int) -> dict[str, Any]:
        assert self.peer is not None and self.peer.process is not None
        return run_wrk(
            self.peer.url(path),
            connections=connections,
            seconds=seconds,
            body="branches",
            network_namespace_pid=self.peer.process.pid,
        )


def n8n_wait_settled(peer: N8n, timeout: float) -> dict[str, int]:
    """Wait until n8n's saved execution count stops changing and none is running; return the counts."""
    deadline = time.monotonic() + timeout
    previous: dict[str, int] | None = None
    while True:
        counts = peer.execution_counts()
        busy = sum(count for status, count in counts.items() if status in ("new", "running", "waiting"))
        if (counts == previous and busy == 0) or time.monotonic() >= deadline:
            return counts
        previous = counts
        time.sleep(0.5)


def _delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {status: after.get(status, 0) - before.get(status, 0) for status in sorted(set(before) | set(after))}


def _level_entry(summary: dict[str, Any], saved: dict[str, int], ok_status: str) -> dict[str, Any]:
    answered = summary["requests"] - summary["non_2xx_3xx"]
    return {
        **{key: summary[key] for key in ("requests", "requests_per_second", "p50_ms", "p99_ms", "max_ms")},
        "non_2xx": summary["non_2xx_3xx"],
        "socket_errors": summary["socket_errors"],
        "executions_saved": saved,
        "answered_without_saved_success": max(0, answered - saved.get(ok_status, 0)),
    }


def measure_throughput(systems: Systems, repeats: int, seconds: int) -> dict[str, Any]:
    """Part 1: the responding workflow at each concurrency level, alternating which system goes first."""
    workflow = systems.data.workflows["sync"]
    runs: dict[str, list[dict[str, Any]]] = {"athena": [], "n8n": []}
    for repeat in range(repeats):
        for concurrency in CONCURRENCY_LEVELS:
            order = ("athena", "n8n") if (repeat + concurrency) % 2 == 0 else ("n8n", "athena")
            for system in order:
                if system == "n8n" and systems.peer is None:
                    continue
                if system == "athena":
                    before = athena.wait_settled(workflow, SETTLE_TIMEOUT_SECONDS)
                    summary = systems.athena_run("sync", concurrency, seconds)
                    saved = _delta(before, athena.wait_settled(workflow, SETTLE_TIMEOUT_SECONDS))
                    entry = _level_entry(summary, saved, "succeeded")
                else:
                    before = n8n_wait_settled(systems.peer, SETTLE_TIMEOUT_SECONDS)
                    summary = systems.n8n_run(SYNC_PATH, concurrency, seconds)
                    saved = _delta(before, n8n_wait_settled(systems.peer, SETTLE_TIMEOUT_SECONDS))
                    entry = _level_entry(summary, saved, "success")
                entry.update({"repeat": repeat, "concurrency": concurrency})
                runs[system].append(entry)
                print(f"throughput {system} c={concurrency} #{repeat}: {json.dumps(entry)}", flush=True)
    return {"runs": runs, "summary": _throughput_summary(runs)}


def _throughput_summary(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for concurrency in CONCURRENCY_LEVELS:
        level: dict[str, Any] = {}
        for system, entries in runs.items():
            chosen = [entry for entry in entries if entry["concurrency"] == concurrency]
            if not chosen:
                continue
            level[system] = {
                "requests_per_second": spread([entry["requests_per_second"] for entry in chosen]),
                "p50_ms": spread([entry["p50_ms"] for entry in chosen]),
                "p99_ms": spread([entry["p99_ms"] for entry in chosen]),
                "errors": sum(entry["non_2xx"] + entry["socket_errors"] for entry in chosen),
                "unsaved": sum(entry["answered_without_saved_success"] for entry in chosen),
            }
        if "athena" in level and "n8n" in level:
            level["ratio_requests_per_second"] = _ratio(
                level["athena"]["requests_per_second"]["median"], level["n8n"]["requests_per_second"]["median"]
            )
            level["ratio_p99"] = _ratio(level["athena"]["p99_ms"]["median"], level["n8n"]["p99_ms"]["median"])
        summary[str(concurrency)] = level
    return summary


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if not numerator or not denominator:
        return None
    return round(numerator / denominator, 3)


def measure_intake(systems: Systems, repeats: int, seconds: int) -> dict[str, Any]:
    """Part 2: accepted requests/s of the non-responding workflow, and how long the backlog takes to finish."""
    workflow = systems.data.workflows["async"]
    runs: dict[str, list[dict[str, Any]]] = {"athena": [], "n8n": []}
    for repeat in range(repeats):
        order = ("athena", "n8n") if repeat % 2 == 0 else ("n8n", "athena")
        for system in order:
            if system == "n8n" and systems.peer is None:
                continue
            if system == "athena":
                before = athena.wait_settled(workflow, SETTLE_TIMEOUT_SECONDS)
                started = time.time()
                summary = systems.athena_run("async", INTAKE_CONCURRENCY, seconds)
                ended = time.time()
                after = athena.wait_settled(workflow, DRAIN_TIMEOUT_SECONDS)
                last = athena.last_finished_at(workflow)
                ok_status = "succeeded"
            else:
                before = n8n_wait_settled(systems.peer, SETTLE_TIMEOUT_SECONDS)
                started = time.time()
                summary = systems.n8n_run(ASYNC_PATH, INTAKE_CONCURRENCY, seconds)
                ended = time.time()
                after = n8n_wait_settled(systems.peer, DRAIN_TIMEOUT_SECONDS)
                last = systems.peer.last_stopped_at()
                ok_status = "success"
            accepted = summary["requests"] - summary["non_2xx_3xx"]
            saved = _delta(before, after)
            finished_after = (last - started) if last else None
            entry = {
                "repeat": repeat,
                "accepted": accepted,
                "accepted_per_second": round(accepted / summary["seconds"], 2),
                "p50_ms": summary["p50_ms"],
                "p99_ms": summary["p99_ms"],
                "errors": summary["non_2xx_3xx"] + summary["socket_errors"],
                "executions_saved": saved,
                "lost": max(0, accepted - saved.get(ok_status, 0)),
                "seconds_until_all_finished": round(finished_after, 2) if finished_after else None,
                "backlog_seconds_after_load": round(max(0.0, last - ended), 2) if last else None,
                "finished_per_second": round(saved.get(ok_status, 0) / finished_after, 2) if finished_after else None,
            }
            runs[system].append(entry)
            print(f"intake {system} #{repeat}: {json.dumps(entry)}", flush=True)

    summary: dict[str, Any] = {}
    for system, entries in runs.items():
        if entries:
            summary[system] = {
                key: spread([entry[key] for entry in entries if entry[key] is not None])
                for key in ("accepted_per_second", "finished_per_second", "seconds_until_all_finished", "p99_ms")
            }
            summary[system]["lost"] = sum(entry["lost"] for entry in entries)
            summary[system]["errors"] = sum(entry["errors"] for entry in entries)
    if runs["athena"] and runs["n8n"]:
        summary["ratio_accepted_per_second"] = _ratio(
            summary["athena"]["accepted_per_second"]["median"], summary["n8n"]["accepted_per_second"]["median"]
        )
        summary["ratio_finished_per_second"] = _ratio(
            summary["athena"]["finished_per_second"]["median"], summary["n8n"]["finished_per_second"]["median"]
        )
    return {"runs": runs, "summary": summary}


def query_counts(systems: Systems) -> dict[str, int]:
    """Count the queries of the API requests in-process, with Django's test client against the bench database."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(
        HTTP_HOST="127.0.0.1",
        HTTP_AUTHORIZATION=systems.headers["Authorization"],
        HTTP_X_WORKSPACE=systems.headers["X-Workspace"],
    )
    agent_id = systems.data.agent.pk
    requests_to_count = {
        "list_per_page_1": ("get", "/api/v1/agents?per_page=1", None),
        "list_per_page_50": ("get", "/api/v1/agents?per_page=50", None),
        "list_per_page_100": ("get", "/api/v1/agents?per_page=100", None),
        "detail": ("get", f"/api/v1/agents/{agent_id}", None),
        "create": ("post", "/api/v1/agents", {"name": "Counted agent", "instructions": "Answer briefly."}),
    }
    counts: dict[str, int] = {}
    for name, (method, path, body) in requests_to_count.items():
        # The first request warms caches (token lookup, workspace); the second is counted.
        for attempt in range(2):
            with CaptureQueriesContext(connection) as captured:
                if method == "get":
                    response = client.get(path)
                else:
                    response = client.post(
                        path, {**body, "name": f"{body['name']} {attempt}"}, content_type="application/json"
                    )
            assert response.status_code in (200, 201), (path, response.status_code, response.content[:300])
        counts[name] = len(captured.captured_queries)
    return counts


def measure_api(systems: Systems, repeats: int, seconds: int) -> dict[str, Any]:
    """Part 3: list, detail and create against the bare view with a body of the same size, alternating."""
    agent_id = systems.data.agent.pk
    endpoints = {
        "list": (f"{systems.base}/api/v1/agents?per_page=50", "GET", ""),
        "detail": (f"{systems.base}/api/v1/agents/{agent_id}", "GET", ""),
        "create": (f"{systems.base}/api/v1/agents", "POST", "create"),
    }
    sizes: dict[str, int] = {}
    with requests.Session() as session:
        for name, (url, method, _body) in endpoints.items():
            if method == "GET":
                response = session.get(url, headers=systems.headers, timeout=30)
            else:
                payload = {"name": "Sized agent", "instructions": "Answer briefly."}
                response = session.post(url, json=payload, headers=systems.headers, timeout=30)
            if response.status_code not in (200, 201):
                raise RuntimeError(f"{method} {url} returned {response.status_code}: {response.text[:300]}")
            sizes[name] = len(response.content)

    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in endpoints}
    for repeat in range(repeats):
        for name, (url, _method, body) in endpoints.items():
            bare_url = f"{systems.base}/bench/bare?bytes={sizes[name]}"
            order = ("api", "bare") if repeat % 2 == 0 else ("bare", "api")
            entry: dict[str, Any] = {"repeat": repeat}
            for side in order:
                if side == "api":
                    summary = run_wrk(
                        url,
                        connections=API_CONCURRENCY,
                        seconds=seconds,
                        body=body,
                        headers=systems.headers,
                        run_id=f"{repeat}-{time.time_ns()}",
                    )
                else:
                    summary = run_wrk(bare_url, connections=API_CONCURRENCY, seconds=seconds)
                entry[side] = {
                    key: summary[key]
                    for key in ("requests_per_second", "p50_ms", "p99_ms", "non_2xx_3xx", "socket_errors")
                }
            entry["ratio"] = _ratio(entry["api"]["requests_per_second"], entry["bare"]["requests_per_second"])
            runs[name].append(entry)
            print(f"api {name} #{repeat}: {json.dumps(entry)}", flush=True)

    summary = {
        name: {
            "response_bytes": sizes[name],
            "api_requests_per_second": spread([entry["api"]["requests_per_second"] for entry in entries]),
            "bare_requests_per_second": spread([entry["bare"]["requests_per_second"] for entry in entries]),
            "api_p50_ms": spread([entry["api"]["p50_ms"] for entry in entries]),
            "ratio": spread([entry["ratio"] for entry in entries if entry["ratio"] is not None]),
            "errors": sum(entry["api"]["non_2xx_3xx"] + entry["api"]["socket_errors"] for entry in entries),
        }
        for name, entries in runs.items()
    }
    summary["queries_per_request"] = query_counts(systems)
    return {"runs": runs, "summary": summary}


def _first_byte_seconds(response: requests.Response, started: float) -> float:
    for chunk in response.iter_content(chunk_size=None):
        if chunk:
            return time.perf_counter() - started
    return time.perf_counter() - started


def measure_agent_turns(systems: Systems, turns: int) -> dict[str, Any]:
    """Part 4: thread runs against the direct openai client on the same fake server, interleaved."""
    import openai

    fake = systems.data.fake_llm
    direct = openai.OpenAI(base_url=fake.openai_base_url, api_key="fake-llm-token-0001", max_retries=0)
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}]
    threads = iter(systems.data.threads)
    timings: dict[str, list[float]] = {"athena_plain": [], "direct_plain": [], "athena_stream": [], "direct_stream": []}
    failures = 0
    with requests.Session() as session:
        for index in range(turns + 3):
            # The first three rounds warm connections and caches and are not counted.
            record = index >= 3

            thread = next(threads)
            started = time.perf_counter()
            response = session.post(
                f"{systems.base}/api/v1/threads/{thread.pk}/run",
                json={"content": "Hello"},
                headers=systems.headers,
                timeout=30,
            )
            elapsed = time.perf_counter() - started
            failures += response.status_code != 200 or response.json()["data"].get("status") != "succeeded"
            if record:
                timings["athena_plain"].append(elapsed)

            started = time.perf_counter()
            direct.chat.completions.create(model="fake-chat", messages=messages)
            if record:
                timings["direct_plain"].append(time.perf_counter() - started)

            thread = next(threads)
            started = time.perf_counter()
            with session.post(
                f"{systems.base}/api/v1/threads/{thread.pk}/run",
                json={"content": "Hello", "stream": True},
                headers=systems.headers,
                timeout=30,
                stream=True,
            ) as response:
                first_byte = _first_byte_seconds(response, started)
                failures += response.status_code != 200
                for _chunk in response.iter_content(chunk_size=None):
                    pass
            if record:
                timings["athena_stream"].append(first_byte)

            started = time.perf_counter()
            stream = direct.chat.completions.create(model="fake-chat", messages=messages, stream=True)
            first_chunk = None
            for _chunk in stream:
                if first_chunk is None:
                    first_chunk = time.perf_counter() - started
            if record:
                timings["direct_stream"].append(first_chunk or 0.0)

    milliseconds = {
        name: {"p50": round(percentile(values, 0.5) * 1000, 2), "p99": round(percentile(values, 0.99) * 1000, 2)}
        for name, values in timings.items()
    }
    added = {
        kind: {
            "p50": round(milliseconds[f"athena_{kind}"]["p50"] - milliseconds[f"direct_{kind}"]["p50"], 2),
            "p99": round(milliseconds[f"athena_{kind}"]["p99"] - milliseconds[f"direct_{kind}"]["p99"], 2),
        }
        for kind in ("plain", "stream")
    }
    return {"turns": turns, "failures": failures, "milliseconds": milliseconds, "added_ms": added}


def measure_list_scaling(systems: Systems, repeats: int, seconds: int) -> dict[str, Any]:
    """Part 5a: the agent list (15 per page, with the total count) in a 1,000-row and a large workspace."""
    workspaces = {"small": systems.data.small_workspace, "large": systems.data.large_workspace}
    runs: dict[str, list[dict[str, Any]]] = {"small": [], "large": []}
    for repeat in range(repeats):
        order = ("small", "large") if repeat % 2 == 0 else ("large", "small")
        for size in order:
            headers = {**systems.headers, "X-Workspace": str(workspaces[size].pk)}
            summary = run_wrk(f"{systems.base}/api/v1/agents", connections=1, seconds=seconds, headers=headers)
            entry = {key: summary[key] for key in ("requests_per_second", "p50_ms", "p99_ms", "non_2xx_3xx")}
            runs[size].append(entry)
            print(f"list scaling {size} #{repeat}: {json.dumps(entry)}", flush=True)
    small = spread([entry["p50_ms"] for entry in runs["small"]])
    large = spread([entry["p50_ms"] for entry in runs["large"]])
    return {
        "rows": {"small": _agent_count(workspaces["small"]), "large": _agent_count(workspaces["large"])},
        "runs": runs,
        "p50_ms": {"small": small, "large": large},
        "ratio_large_to_small": _ratio(large["median"], small["median"]),
    }


def _agent_count(workspace: Any) -> int:
    from agents.models import Agent

    return Agent.objects.filter(workspace=workspace).count()


def measure_chains(systems: Systems, runs: int) -> dict[str, Any]:
    """Part 5b: execution time (finished_at - started_at) of chains of 1, 10 and 100 noops, interleaved."""
    from workflows.models import WorkflowExecution

    durations: dict[str, list[float]] = {"chain_1": [], "chain_10": [], "chain_100": []}
    with requests.Session() as session:
        for _ in range(runs):
            for key in durations:
                response = session.post(systems.hook_url(key), json={"value": 1}, timeout=30)
                execution_id = response.json()["data"]["execution_id"]
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    execution = WorkflowExecution.objects.get(pk=execution_id)
                    if execution.status in ("succeeded", "failed", "canceled"):
                        break
                    time.sleep(0.02)
                if execution.status == "succeeded":
                    durations[key].append((execution.finished_at - execution.started_at).total_seconds() * 1000)
    medians = {key: round(statistics.median(values), 3) for key, values in durations.items() if values}
    return {
        "runs": runs,
        "execution_ms": {key: spread(values) for key, values in durations.items() if values},
        "per_node_ms_10": round((medians["chain_10"] - medians["chain_1"]) / 9, 3),
        "per_node_ms_100": round((medians["chain_100"] - medians["chain_1"]) / 99, 3),
    }


def run_until_finished(systems: Systems, total: int, deadline: float) -> int:
    """Trigger the async workflow with wrk until `total` executions have finished; return the count reached."""
    workflow = systems.data.workflows["async"]
    while (done := athena.finished_total()) < total and time.monotonic() < deadline:
        athena.wait_settled(workflow, DRAIN_TIMEOUT_SECONDS)
        done = athena.finished_total()
        if done >= total:
            break
        # Short bursts keep the backlog small, so the count overshoots `total` only a little.
        seconds = max(1, min(10, (total - done) // 300))
        systems.athena_run("async", 8, seconds)
    athena.wait_settled(workflow, DRAIN_TIMEOUT_SECONDS)
    return athena.finished_total()


def versions(peer: N8n | None) -> dict[str, str]:
    """Return the versions of everything measured, for the record."""
    import django
    import redis
    from django.conf import settings
    from django.db import connection

    def output(command: list[str]) -> str:
        completed = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 (fixed commands)
        lines = completed.stdout.strip().splitlines()
        return lines[0] if completed.returncode == 0 and lines else "unknown"

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    return {
        "athena": output(["git", "-C", str(Path(__file__).resolve().parent.parent), "rev-parse", "--short", "HEAD"]),
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": postgres,
        "redis": redis.Redis.from_url(settings.REDIS_URL).info("server")["redis_version"],
        "node": output(["node", "--version"]),
        "n8n": peer.version() if peer else "not run",
        "wrk": output(["dpkg-query", "--show", "--showformat=${Version}", "wrk"]),
    }


def main() -> None:
    arguments = parse_arguments()
    for url in (arguments.postgres_url, arguments.redis_url, arguments.redis_cache_url):
        require_loopback(url)
    started = time.monotonic()
    deadline = started + 28 * 60
    services = athena.AthenaServices(arguments)
    peer = (
        None
        if arguments.skip_n8n
        else N8n(postgres_url=arguments.postgres_url, database=arguments.n8n_database, log_dir=RESULTS_DIR / "logs")
    )
    if peer is not None and not peer.installed():
        sys.exit("n8n is not installed: run bench/install-n8n.sh (make bench does).")
    result: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(),
        "machine": machine(),
        "arguments": {key: value for key, value in vars(arguments).items() if "url" not in key},
        "setup": {
            "settings": "athena_site.settings.production (bench.settings adds the bare view)",
            "gunicorn": (
                f"{services.web_worker_class}, {services.web_workers} workers x {services.web_threads} threads, "
                f"keep-alive {services.web_keep_alive} s"
            ),
            "celery_worker_processes": athena.WORKER_PROCESSES,
            "load_generator": "wrk, 1 thread, bench/wrk/bench.lua",
        },
    }
    try:
        services.claim_redis()
        services.create_database()
        athena.setup_django(services)
        print(f"migrated after {time.monotonic() - started:.0f} s; creating data", flush=True)
        data = athena.create_data(
            agents=10_000, small_agents=1_000, large_agents=arguments.large_rows, threads=2 * (arguments.turns + 3)
        )
        print(f"data created after {time.monotonic() - started:.0f} s", flush=True)
        services.start_gunicorn()
        services.start_worker()
        print(f"Athena started after {time.monotonic() - started:.0f} s", flush=True)
        if peer is not None:
            print("starting n8n", flush=True)
            peer.prepare()
            peer.start()
        systems = Systems(services, data, peer)
        result["versions"] = versions(peer)
        print(json.dumps(result["versions"]), flush=True)

        # Warm both systems up; the first Athena executions also wait for the worker to connect.
        systems.athena_run("sync", 8, 3)
        if peer is not None:
            systems.n8n_run(SYNC_PATH, 8, 3)
        reached = run_until_finished(systems, 1_000, deadline)
        result["memory"] = [{"executions": reached, "worker_rss_mib": _worker_rss(services)}]
        print(f"memory: {result['memory'][-1]}", flush=True)

        result["throughput"] = measure_throughput(systems, arguments.repeats, arguments.seconds)
        result["intake"] = measure_intake(systems, arguments.repeats, arguments.intake_seconds)
        result["api"] = measure_api(systems, arguments.repeats, arguments.api_seconds)
        result["agent_turns"] = measure_agent_turns(systems, arguments.turns)
        print(f"agent turns: {json.dumps(result['agent_turns'])}", flush=True)
        result["list_scaling"] = measure_list_scaling(systems, arguments.repeats, 5)
        result["chains"] = measure_chains(systems, arguments.chain_runs)
        print(f"chains: {json.dumps(result['chains'])}", flush=True)

        reached = run_until_finished(systems, arguments.memory_executions, deadline)
        result["memory"].append({"executions": reached, "worker_rss_mib": _worker_rss(services)})
        first, last = result["memory"][0], result["memory"][-1]
        result["memory_growth_percent"] = round(
            (last["worker_rss_mib"] - first["worker_rss_mib"]) / first["worker_rss_mib"] * 100, 1
        )
        print(f"memory: {result['memory']}", flush=True)
    finally:
        if peer is not None:
            peer.stop()
        services.stop_all()
        if "data" in locals():
            data.fake_llm.stop()
        services.drop_database()
        services.release_redis()
        if peer is not None:
            peer.drop_database()

    result["finished_at"] = datetime.now(UTC).isoformat()
    result["minutes"] = round((time.monotonic() - started) / 60, 1)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS_DIR / f"suite-{stamp}{'-' + arguments.label if arguments.label else ''}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"Results written to {path}")
    print(report.ratio_table(result))
    if not arguments.no_doc:
        report.write_doc(result, path)


def _worker_rss(services: athena.AthenaServices) -> float:
    return round(worker_rss_bytes(services.processes["worker"].pid) / 2**20, 1)


if __name__ == "__main__":
    main()
