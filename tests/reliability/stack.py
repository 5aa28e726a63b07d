"""Private services and Athena processes that fault-injection tests may stop, kill and restart.

Each test session gets its own PostgreSQL cluster and redis-server on spare 127.0.0.1 ports,
so stopping them never touches the machine's services or the rest of the suite. Every
process is started as a direct child (PostgreSQL through `Popen(user=...)`, because initdb
and postgres refuse to run as root), so it is stopped by its PID.
"""

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from tests.reliability.gunicorn_config import WARM_MESSAGE

REPO_ROOT = Path(__file__).resolve().parents[2]
POSTGRES_BIN_PATTERN = "/usr/lib/postgresql/*/bin"
DATABASE_NAME = "athena"
STACK_SETTINGS = "tests.reliability.stack_settings"


class MissingBinary(Exception):
    """A program that the private services need is not installed."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    """Call `predicate` every `interval` seconds until it returns True; return False after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def stop_process(process: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
    """Send `sig` to the process (and its process group when it leads one), then SIGKILL after `timeout`."""
    if process is None or process.poll() is not None:
        return
    _signal(process, sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _signal(process, signal.SIGKILL)
        process.wait(timeout=10)


def _signal(process: subprocess.Popen, sig: int) -> None:
    try:
        if os.getpgid(process.pid) == process.pid:
            os.killpg(process.pid, sig)
        else:
            process.send_signal(sig)
    except ProcessLookupError:
        pass


def _tail(path: Path, chars: int | None = 3000) -> str:
    try:
        text = path.read_text(errors="replace")
        return text[-chars:] if chars else text
    except OSError:
        return ""


def _as_postgres_user() -> dict[str, Any]:
    """Return Popen arguments that run the child as the `postgres` user when the tests run as root."""
    if os.geteuid() != 0:
        return {}
    return {"user": "postgres", "group": "postgres", "extra_groups": []}


class PrivatePostgres:
    """A throwaway PostgreSQL cluster in a temporary folder, listening only on 127.0.0.1:`port`."""

    def __init__(self) -> None:
        candidates = sorted(glob.glob(POSTGRES_BIN_PATTERN), key=lambda path: int(Path(path).parent.name))
        if not candidates or not os.path.exists(os.path.join(candidates[-1], "initdb")):
            raise MissingBinary(f"No PostgreSQL server binaries in {POSTGRES_BIN_PATTERN}")
        self.bin = Path(candidates[-1])
        self.root = Path(tempfile.mkdtemp(prefix="athena-reliability-pg-"))
        self.data = self.root / "data"
        self.log_path = self.root / "postgres.log"
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")

    def url(self, database: str = DATABASE_NAME) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        subprocess.run(
            [self.bin / "initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"],
            check=True,
            capture_output=True,
            cwd=self.root,
            **_as_postgres_user(),
        )
        self.start()
        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {DATABASE_NAME}")

    def start(self) -> None:
        # Durability settings are off: the tests restart the server cleanly or not at all.
        command = [
            self.bin / "postgres",
            "-D",
            self.data,
            "-p",
            str(self.port),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "unix_socket_directories=",
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=200",
        ]
        with open(self.log_path, "ab") as log_file:
            self.process = subprocess.Popen(
                command, cwd=self.root, stdout=log_file, stderr=subprocess.STDOUT, **_as_postgres_user()
            )
        if not wait_until(self.accepts_connections, 30):
            raise RuntimeError(f"PostgreSQL did not start:\n{_tail(self.log_path)}")

    def accepts_connections(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"PostgreSQL exited with {self.process.returncode}:\n{_tail(self.log_path)}")
        try:
            psycopg.connect(self.url("postgres"), connect_timeout=1).close()
        except psycopg.OperationalError:
            return False
        return True

    def stop(self) -> None:
        """Shut down in fast mode: open sessions are disconnected and their transactions rolled back."""
        stop_process(self.process, signal.SIGINT, timeout=30)
        self.process = None

    def destroy(self) -> None:
        stop_process(self.process, signal.SIGQUIT, timeout=10)
        self.process = None
        shutil.rmtree(self.root, ignore_errors=True)

    def query(self, sql: str, params: tuple | dict | None = None) -> list[tuple]:
        with psycopg.connect(self.url(), autocommit=True, connect_timeout=5) as connection:
            return connection.execute(sql, params).fetchall()


class PrivateRedis:
    """A redis-server without persistence on 127.0.0.1:`port`, so a restart loses every queued message."""

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            raise MissingBinary("redis-server is not installed")
        self.root = Path(tempfile.mkdtemp(prefix="athena-reliability-redis-"))
        self.log_path = self.root / "redis.log"
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def url(self, database: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        command = [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.root),
            "--maxmemory-policy",
            "noeviction",
        ]
        with open(self.log_path, "ab") as log_file:
            self.process = subprocess.Popen(command, cwd=self.root, stdout=log_file, stderr=subprocess.STDOUT)
        if not wait_until(self._answers_ping, 15, interval=0.1):
            raise RuntimeError(f"redis-server did not start:\n{_tail(self.log_path)}")

    def _answers_ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        stop_process(self.process, signal.SIGTERM, timeout=10)
        self.process = None

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class AthenaStack:
    """Gunicorn and a Celery worker with beat on the private services, each restartable alone.

    `settings` become environment variables of every process started afterwards, for example
    `{"WORKFLOWS_LEASE_SECONDS": "4"}`.
    """

    def __init__(
        self, postgres: PrivatePostgres, redis: PrivateRedis, log_dir: Path, settings: dict[str, str] | None = None
    ) -> None:
        self.postgres = postgres
        self.redis = redis
        self.log_dir = log_dir
        self.port = free_port()
        self.name = f"athena-reliability-{uuid.uuid4().hex[:8]}"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": STACK_SETTINGS,
            "DATABASE_URL": postgres.url(),
            "REDIS_URL": redis.url(0),
            "REDIS_CACHE_URL": redis.url(1),
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            **(settings or {}),
        }
        self.server: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.worker_starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen:
        with open(self.log_dir / f"{name}.log", "ab") as log_file:
            # A session of its own lets a test signal the process and its children together.
            return subprocess.Popen(
                command, cwd=REPO_ROOT, env=self.env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
            )

    def log(self, name: str, chars: int | None = 3000) -> str:
        return _tail(self.log_dir / f"{name}.log", chars)

    def start_server(self, workers: int = 2, threads: int = 8) -> None:
        self.warm_before = self.log("gunicorn", chars=None).count(WARM_MESSAGE)
        self.server = self._spawn(
            "gunicorn",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "athena_site.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--worker-class",
                "gthread",
                "--threads",
                str(threads),
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
                # Longer than gunicorn's default of 2 seconds, so that a busy load generator rarely
                # reuses a connection at the moment the server closes it as idle.
                "--keep-alive",
                "30",
                "--config",
                "python:tests.reliability.gunicorn_config",
            ],
        )

    def wait_for_server(self, timeout: float = 180) -> None:
        def listening() -> bool:
            if self.server.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.server.returncode}:\n{self.log('gunicorn')}")
            return self.log("gunicorn", chars=None).count(WARM_MESSAGE) > self.warm_before

        if not wait_until(listening, timeout):
            raise RuntimeError(f"gunicorn did not listen within {timeout} seconds:\n{self.log('gunicorn')}")

    def start_worker(self, concurrency: int = 4) -> None:
        self.worker_starts += 1
        self.worker = self._spawn(
            "worker",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "athena_site",
                "worker",
                "--concurrency",
                str(concurrency),
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--hostname",
                f"{self.name}-{self.worker_starts}@%h",
                # Beat runs inside the worker, so one SIGKILL stops both, as on a crashed machine.
                "--beat",
                "--scheduler",
                "celery.beat:PersistentScheduler",
                "--schedule",
                str(self.log_dir / f"beat-schedule-{self.worker_starts}"),
            ],
        )

    def wait_for_worker(self, timeout: float = 180) -> None:
        def ready() -> bool:
            if self.worker.poll() is not None:
                raise RuntimeError(f"The Celery worker exited with {self.worker.returncode}:\n{self.log('worker')}")
            return f"{self.name}-{self.worker_starts}@" in self.log("worker") and " ready." in self.log("worker")

        if not wait_until(ready, timeout):
            raise RuntimeError(f"The Celery worker was not ready within {timeout} seconds:\n{self.log('worker')}")

    def kill_worker(self) -> None:
        """SIGKILL the worker and its pool processes at once, as a machine crash or the OOM killer would."""
        stop_process(self.worker, signal.SIGKILL)
        self.worker = None

    def start(self) -> None:
        """Start the server and the worker together and wait until both are ready."""
        self.start_server()
        self.start_worker()
        self.wait_for_server()
        self.wait_for_worker()

    def heal(self) -> None:
        """Start again whatever a test left stopped: the services first, then the Athena processes."""
        if self.redis.process is None:
            self.redis.start()
        if self.postgres.process is None:
            self.postgres.start()
        if self.server is None or self.server.poll() is not None:
            self.start_server()
            self.wait_for_server()
        if self.worker is None or self.worker.poll() is not None:
            self.start_worker()
            self.wait_for_worker()

    def stop(self) -> None:
        for process in (self.worker, self.server):
            stop_process(process)
        self.server = self.worker = None

    def run_django(self, source: str) -> Any:
        """Run Python `source` in a fresh process on the private services; return the JSON it prints last."""
        preamble = "import django, json\ndjango.setup()\n"
        completed = subprocess.run(
            [sys.executable, "-c", preamble + source],
            cwd=REPO_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"Django script failed:\n{completed.stderr[-4000:]}")
        return json.loads(completed.stdout.strip().splitlines()[-1])


_CREATE_WORKFLOWS = """
from tests.factories import UserFactory, WorkspaceFactory
from workflows.services.workflows import workflow_create

owner = UserFactory(email=OWNER_EMAIL)
workspace = WorkspaceFactory(owner=owner)
created = {}
for name, data in WORKFLOWS.items():
    workflow = workflow_create(workspace=workspace, user=owner, data=data)
    created[name] = {"id": str(workflow.pk), "webhook_token": workflow.webhook_token}
print(json.dumps(created))
"""


def create_workflows(stack: "AthenaStack", workflows: dict[str, dict[str, Any]]) -> dict[str, dict[str, str]]:
    """Create an owner, a workspace and one workflow per entry of `workflows` in the private database.

    Returns each workflow's `id` and `webhook_token` under the same name. One call starts one
    Django process, which takes seconds, so create a module's workflows together.
    """
    email = f"owner-{uuid.uuid4().hex[:12]}@example.com"
    source = f"OWNER_EMAIL = {email!r}\nWORKFLOWS = json.loads({json.dumps(workflows)!r})\n"
    return stack.run_django(source + _CREATE_WORKFLOWS)


def copy_database(postgres: PrivatePostgres, source_url: str) -> None:
    """Copy the schema and rows of the PostgreSQL database at `source_url` into the private database.

    The test database holds Athena's schema and the rows Django creates after migrating
    (content types, permissions, the site), which is all a fresh deployment starts with.
    """
    dump = subprocess.run(
        [postgres.bin / "pg_dump", "--no-owner", "--no-privileges", "--dbname", source_url],
        check=True,
        capture_output=True,
        timeout=120,
    )
    load = subprocess.run(
        [postgres.bin / "psql", "--quiet", "--set", "ON_ERROR_STOP=1", "--dbname", postgres.url()],
        input=dump.stdout,
        capture_output=True,
        timeout=120,
    )
    if load.returncode != 0:
        raise RuntimeError(f"Loading the schema failed:\n{load.stderr.decode(errors='replace')[-4000:]}")


def create_schema(postgres: PrivatePostgres, redis: PrivateRedis, log_dir: Path) -> None:
    """Create every table in the private database with `migrate --run-syncdb` and the default rows.

    Slower than `copy_database`; for sessions whose test database is not PostgreSQL.
    """
    stack = AthenaStack(postgres, redis, log_dir)
    completed = subprocess.run(
        [sys.executable, "-m", "django", "migrate", "--run-syncdb", "--noinput", "--skip-checks", "--verbosity", "0"],
        cwd=REPO_ROOT,
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"Creating the schema failed:\n{completed.stderr[-4000:]}")
