"""Print `export` lines for PostgreSQL and Redis on 127.0.0.1 when they accept connections and nothing is configured.

`make test` evaluates the output, so the same command uses the real services when they are
reachable and falls back to SQLite and eager Celery when they are not.
"""

import os
import socket


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def main() -> None:
    if not os.environ.get("DATABASE_URL") and _port_open(5432):
        try:
            import psycopg

            psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", connect_timeout=2).close()
        except Exception:
            pass
        else:
            print("export DATABASE_URL=postgresql://postgres@127.0.0.1:5432/athena")
    if not os.environ.get("REDIS_URL") and _port_open(6379):
        print("export REDIS_URL=redis://127.0.0.1:6379/0")
        if not os.environ.get("REDIS_CACHE_URL"):
            print("export REDIS_CACHE_URL=redis://127.0.0.1:6379/1")


if __name__ == "__main__":
    main()
