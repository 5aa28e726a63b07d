"""n8n, the peer system of the suite: its workflows, its environment, and its process.

n8n runs from bench/.n8n/ (installed by bench/install-n8n.sh) inside a network namespace of its
own whose only device is loopback (`unshare --net`), so it cannot reach any host, and everything
that would contact n8n's servers is switched off as well. Its database is one database of the
PostgreSQL server Athena uses, reached through the server's Unix socket, because the host's
127.0.0.1 is not visible inside the namespace. Requests to n8n (wrk, the readiness checks) enter
the same namespace with `nsenter`.
"""

import contextlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import psycopg

BENCH_DIR = Path(__file__).resolve().parent
INSTALL_DIR = BENCH_DIR / ".n8n"
N8N_BINARY = INSTALL_DIR / "node_modules" / ".bin" / "n8n"
PORT = 5678
SYNC_WORKFLOW_ID = "AthenaBenchSync1"
ASYNC_WORKFLOW_ID = "AthenaBenchAsync"
SYNC_PATH = "bench-sync"
ASYNC_PATH = "bench-async"
START_TIMEOUT_SECONDS = 180


def _node(name: str, node_type: str, version: float, position: int, parameters: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"00000000-0000-4000-8000-{position:012d}",
        "name": name,
        "type": f"n8n-nodes-base.{node_type}",
        "typeVersion": version,
        "position": [position * 200, 0],
        "parameters": parameters,
    }


def _link(target: str) -> list[dict[str, Any]]:
    return [{"node": target, "type": "main", "index": 0}]


def workflow_definition(*, respond: bool) -> dict[str, Any]:
    """Return the benchmark workflow in n8n's export format.

    Webhook -> Set (greeting from the body's name, value from the body's value) -> If value > 10.
    With `respond`, each If branch ends in a Respond to Webhook node returning JSON, and the
    webhook waits for it; without, the webhook responds as soon as the execution starts.
    """
    path = SYNC_PATH if respond else ASYNC_PATH
    webhook = _node(
        "Webhook",
        "webhook",
        2,
        1,
        {
            "httpMethod": "POST",
            "path": path,
            "responseMode": "responseNode" if respond else "onReceived",
            "options": {},
        },
    )
    webhook["webhookId"] = f"00000000-0000-4000-9000-00000000000{1 if respond else 2}"
    assignments = [
        {"id": "greeting", "name": "greeting", "type": "string", "value": "={{ 'hello ' + $json.body.name }}"},
        {"id": "value", "name": "value", "type": "number", "value": "={{ $json.body.value }}"},
    ]
    set_node = _node(
        "Set", "set", 3.4, 2, {"mode": "manual", "assignments": {"assignments": assignments}, "options": {}}
    )
    condition = {
        "id": "above-ten",
        "leftValue": "={{ $json.value }}",
        "rightValue": 10,
        "operator": {"type": "number", "operation": "gt"},
    }
    if_node = _node(
        "If",
        "if",
        2.2,
        3,
        {
            "conditions": {
                "options": {"caseSensitive": True, "leftValue": "", "typeValidation": "strict", "version": 2},
                "conditions": [condition],
                "combinator": "and",
            },
            "options": {},
        },
    )
    nodes = [webhook, set_node, if_node]
    connections: dict[str, Any] = {"Webhook": {"main": [_link("Set")]}, "Set": {"main": [_link("If")]}}
    if respond:
        for position, branch in ((4, "high"), (5, "low")):
            body = f'={{{{ {{ "greeting": $json.greeting, "value": $json.value, "branch": "{branch}" }} }}}}'
            nodes.append(
                _node(
                    f"Respond {branch}",
                    "respondToWebhook",
                    1.1,
                    position,
                    {"respondWith": "json", "responseBody": body},
                )
            )
        connections["If"] = {"main": [_link("Respond high"), _link("Respond low")]}
    return {
        "id": SYNC_WORKFLOW_ID if respond else ASYNC_WORKFLOW_ID,
        "name": "Athena bench (respond)" if respond else "Athena bench (accept)",
        "active": False,
        "settings": {"executionOrder": "v1"},
        "nodes": nodes,
        "connections": connections,
        "pinData": {},
    }


class N8n:
    """One fresh n8n instance on its own database; call stop() in a finally block."""

    def __init__(self, *, postgres_url: str, database: str, log_dir: Path) -> None:
        self.postgres_url = postgres_url
        self.database = database
        self.log_dir = log_dir
        self.home = INSTALL_DIR / "home"
        self.process: subprocess.Popen | None = None

    @staticmethod
    def installed() -> bool:
        return N8N_BINARY.exists()

    def environment(self) -> dict[str, str]:
        isolation = {
            "N8N_DIAGNOSTICS_ENABLED": "false",
            "N8N_DIAGNOSTICS_CONFIG_FRONTEND": "",
            "N8N_DIAGNOSTICS_CONFIG_BACKEND": "",
            "N8N_VERSION_NOTIFICATIONS_ENABLED": "false",
            "N8N_TEMPLATES_ENABLED": "false",
            "N8N_PERSONALIZATION_ENABLED": "false",
            "N8N_HIRING_BANNER_ENABLED": "false",
            "N8N_DYNAMIC_BANNERS_ENABLED": "false",
            "N8N_COMMUNITY_PACKAGES_ENABLED": "false",
            "N8N_AI_ENABLED": "false",
            "N8N_LICENSE_AUTO_RENEW_ENABLED": "false",
            "EXTERNAL_FRONTEND_HOOKS_URLS": "",
        }
        database = {
            "DB_TYPE": "postgresdb",
            # A directory as the host makes node-postgres connect through the Unix socket in it.
            "DB_POSTGRESDB_HOST": "/var/run/postgresql",
            "DB_POSTGRESDB_PORT": "5432",
            "DB_POSTGRESDB_DATABASE": self.database,
            "DB_POSTGRESDB_USER": "postgres",
        }
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            **isolation,
            **database,
            "N8N_LISTEN_ADDRESS": "127.0.0.1",
            "N8N_HOST": "127.0.0.1",
            "N8N_PORT": str(PORT),
            "N8N_PROTOCOL": "http",
            "N8N_USER_FOLDER": str(self.home),
            "N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS": "true",
            # Every execution is saved, as Athena saves every execution.
            "EXECUTIONS_DATA_SAVE_ON_SUCCESS": "all",
            "EXECUTIONS_DATA_SAVE_ON_ERROR": "all",
            "NODE_ENV": "production",
            "GENERIC_TIMEZONE": "UTC",
            "N8N_LOG_LEVEL": "warn",
        }

    def _isolated(self, *arguments: str) -> list[str]:
        """Return a command that runs n8n with `arguments` in a new loopback-only network namespace."""
        script = 'ip link set lo up && exec "$0" "$@"'
        return ["unshare", "--net", "sh", "-c", script, str(N8N_BINARY), *arguments]

    def version(self) -> str:
        completed = subprocess.run(  # noqa: S603 (fixed command)
            self._isolated("--version"), capture_output=True, text=True, env=self.environment(), timeout=120
        )
        return completed.stdout.strip().splitlines()[-1] if completed.stdout.strip() else "unknown"

    def reset_database(self) -> None:
        with psycopg.connect(self.postgres_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{self.database}"')

    def drop_database(self) -> None:
        with psycopg.connect(self.postgres_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')

    def _database_url(self) -> str:
        return self.postgres_url.rsplit("/", 1)[0] + f"/{self.database}"

    def prepare(self) -> None:
        """Start from an empty database and home folder, then import and publish both workflows."""
        self.reset_database()
        subprocess.run(["rm", "-rf", str(self.home)], check=True)  # noqa: S603, S607 (fixed command)
        self.home.mkdir(parents=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / "n8n-import.log"
        with open(log_path, "wb") as log_file:
            for respond in (True, False):
                definition = workflow_definition(respond=respond)
                path = self.home / f"{definition['id']}.json"
                path.write_text(json.dumps(definition))
                for arguments in (
                    ("import:workflow", f"--input={path}"),
                    ("publish:workflow", f"--id={definition['id']}"),
                ):
                    subprocess.run(  # noqa: S603 (fixed command)
                        self._isolated(*arguments),
                        env=self.environment(),
                        stdout=log_file,
                        stderr=subprocess.STDOUT,
                        check=True,
                        timeout=300,
                    )

    def start(self) -> None:
        """Start n8n and wait until both webhooks respond; raise RuntimeError when it does not start."""
        log_file = open(self.log_dir / "n8n.log", "wb")  # noqa: SIM115 (kept open while n8n runs)
        self.process = subprocess.Popen(  # noqa: S603 (fixed command)
            self._isolated("start"), env=self.environment(), stdout=log_file, stderr=subprocess.STDOUT
        )
        log_file.close()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"n8n exited with {self.process.returncode}; see {self.log_dir / 'n8n.log'}.")
            # Before its webhooks are registered n8n returns 404 or 503, and other pages may return 200.
            status, body = self.post(SYNC_PATH, '{"name":"x","value":12}')
            if status == 200 and '"greeting"' in body:
                return
            time.sleep(1)
        raise RuntimeError(
            f"n8n did not respond on its webhook within {START_TIMEOUT_SECONDS} s. See {self.log_dir / 'n8n.log'}."
        )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{PORT}/webhook/{path}"

    def post(self, path: str, body: str) -> tuple[int, str]:
        """POST a JSON body to one of n8n's webhooks from inside its namespace; return status and body."""
        assert self.process is not None
        command = [
            "nsenter",
            f"--net=/proc/{self.process.pid}/ns/net",
            "curl",
            "--silent",
            "--max-time",
            "10",
            "--header",
            "Content-Type: application/json",
            "--data",
            body,
            "--write-out",
            "\n%{http_code}",
            self.url(path),
        ]
        completed = subprocess.run(command, capture_output=True, text=True, timeout=30)  # noqa: S603 (fixed command)
        text, _, status = completed.stdout.rpartition("\n")
        return (int(status) if status.isdigit() else 0), text

    def execution_counts(self) -> dict[str, int]:
        """Return the saved executions by status."""
        with psycopg.connect(self._database_url()) as connection:
            rows = connection.execute("SELECT status, count(*) FROM execution_entity GROUP BY status").fetchall()
        return dict(rows)

    def last_stopped_at(self) -> float | None:
        with psycopg.connect(self._database_url()) as connection:
            row = connection.execute('SELECT extract(epoch FROM max("stoppedAt")) FROM execution_entity').fetchone()
        return float(row[0]) if row and row[0] is not None else None

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        children = _child_pids(self.process.pid)
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)


def _child_pids(pid: int) -> list[int]:
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children.extend(int(child) for child in (task / "children").read_text().split())
    return children
