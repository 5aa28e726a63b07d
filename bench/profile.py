"""Profile the suite's hot requests in-process: time per request, SQL statements, and a pyinstrument tree.

Usage (PostgreSQL and Redis on 127.0.0.1; pyinstrument comes with the `bench` extra):

    .venv/bin/python -m bench.profile                        # every request kind
    .venv/bin/python -m bench.profile detail list --count 300

Each request goes through Django's full handler and middleware with the suite's settings
(production settings, throttling on), from Django's test client, so no socket or gunicorn is
involved. Celery tasks run eagerly. The database (`--database`, default `athena_profile`) and
the two Redis databases are emptied before and after the run.
"""

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from bench import athena
from bench.workflows import require_loopback

KINDS = ("bare", "detail", "list", "create", "webhook", "intake", "turn")


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kinds", nargs="*", help=f"Request kinds to profile, of {', '.join(KINDS)} (all by default).")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="athena_profile", help="Dropped and created.")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/10", help="An empty Redis database (broker).")
    parser.add_argument("--redis-cache-url", default="redis://127.0.0.1:6379/11", help="An empty Redis database.")
    parser.add_argument("--count", type=int, default=200, help="Profiled requests of each kind.")
    parser.add_argument("--port", type=int, default=0, help="Unused; the requests stay in-process.")
    parser.add_argument("--tree", action="store_true", help="Print the pyinstrument call tree of each kind.")
    return parser.parse_args()


def requests_by_kind(data: athena.BenchData) -> dict[str, Callable[[Any, int], Any]]:
    """Return, for each kind, a function sending one request with the test client."""
    agent_id = data.agent.pk
    hooks = {key: workflow.webhook_token for key, workflow in data.workflows.items()}
    threads = iter(data.threads)

    def turn(client: Any, index: int) -> Any:
        thread = next(threads, None) or data.threads[index % len(data.threads)]
        return client.post(f"/api/v1/threads/{thread.pk}/run", {"content": "Hello"}, content_type="application/json")

    return {
        "bare": lambda client, index: client.get("/bench/bare?bytes=684"),
        "detail": lambda client, index: client.get(f"/api/v1/agents/{agent_id}"),
        "list": lambda client, index: client.get("/api/v1/agents?per_page=50"),
        "create": lambda client, index: client.post(
            "/api/v1/agents",
            {"name": f"Profiled {index}", "instructions": "Be brief."},
            content_type="application/json",
        ),
        "webhook": lambda client, index: client.post(
            f"/api/v1/hooks/{hooks['sync']}",
            {"name": "x", "value": 12 if index % 2 else 5},
            content_type="application/json",
        ),
        "intake": lambda client, index: client.post(
            f"/api/v1/hooks/{hooks['async']}", {"name": "x", "value": 12}, content_type="application/json"
        ),
        "turn": turn,
    }


def profile_kind(client: Any, send: Callable[[Any, int], Any], count: int, tree: bool) -> dict[str, Any]:
    from django.db import connection
    from pyinstrument import Profiler

    for index in range(5):
        response = send(client, index)
        if response.status_code >= 300:
            raise RuntimeError(f"Warm-up request failed with status {response.status_code}: {response.content[:300]!r}")
    connection.force_debug_cursor = True
    connection.queries_log.clear()
    send(client, 5)
    queries = [query["sql"] for query in connection.queries_log]
    connection.force_debug_cursor = False
    timings = []
    for index in range(count):
        started = time.perf_counter()
        send(client, 6 + index)
        timings.append((time.perf_counter() - started) * 1000)
    if tree:
        # A second pass under the profiler, so its overhead stays out of the timings.
        profiler = Profiler(interval=0.001)
        profiler.start()
        for index in range(count):
            send(client, 6 + count + index)
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False))
    timings.sort()
    return {
        "statements": len(queries),
        "transactions": queries.count("BEGIN"),
        "p50_ms": round(statistics.median(timings), 2),
        "p90_ms": round(timings[int(len(timings) * 0.9)], 2),
    }


def main() -> None:
    arguments = parse_arguments()
    for url in (arguments.postgres_url, arguments.redis_url, arguments.redis_cache_url):
        require_loopback(url)
    kinds = arguments.kinds or list(KINDS)
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        sys.exit(f"Unknown request kinds: {', '.join(unknown)}. Choose from {', '.join(KINDS)}.")
    services = athena.AthenaServices(arguments)
    data = None
    services.claim_redis()
    try:
        services.create_database()
        athena.setup_django(services)
        import logging

        from django.conf import settings
        from django.test import Client

        settings.CELERY_TASK_ALWAYS_EAGER = True
        logging.disable(logging.WARNING)
        data = athena.create_data(agents=1_000, small_agents=0, large_agents=0, threads=2 * arguments.count + 10)
        client = Client(
            HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {data.token}", HTTP_X_WORKSPACE=str(data.workspace.pk)
        )
        senders = requests_by_kind(data)
        for kind in kinds:
            print(kind, profile_kind(client, senders[kind], arguments.count, arguments.tree), flush=True)
    finally:
        if data is not None:
            data.fake_llm.stop()
        if services.database_created:
            from django.db import connections

            connections.close_all()
        services.drop_database()
        services.release_redis()


if __name__ == "__main__":
    main()
