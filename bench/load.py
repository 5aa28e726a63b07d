"""The bounded load generator of the suite: wrk from Debian's packages, with bench/wrk/bench.lua."""

import json
import os
import statistics
import subprocess
from pathlib import Path

WRK_SCRIPT = Path(__file__).resolve().parent / "wrk" / "bench.lua"
# wrk's own timeout; a request slower than this counts as an error.
REQUEST_TIMEOUT_SECONDS = 30


def run_wrk(
    url: str,
    *,
    connections: int,
    seconds: int,
    body: str = "",
    headers: dict[str, str] | None = None,
    run_id: str = "run",
    network_namespace_pid: int | None = None,
) -> dict[str, float]:
    """Drive `url` for `seconds` with `connections` open connections; return wrk's summary.

    With `network_namespace_pid`, wrk runs inside that process's network namespace (n8n's
    loopback-only one), where 127.0.0.1 is n8n's loopback and not the host's.
    """
    command = [
        "wrk",
        "--threads",
        "1",
        "--connections",
        str(connections),
        "--duration",
        f"{seconds}s",
        "--timeout",
        f"{REQUEST_TIMEOUT_SECONDS}s",
        "--script",
        str(WRK_SCRIPT),
    ]
    for name, value in (headers or {}).items():
        command += ["--header", f"{name}: {value}"]
    command.append(url)
    if network_namespace_pid is not None:
        command = ["nsenter", f"--net=/proc/{network_namespace_pid}/ns/net", *command]

    environment = {**os.environ, "BENCH_BODY": body, "BENCH_RUN_ID": run_id}
    completed = subprocess.run(  # noqa: S603 (a fixed command built above)
        command, capture_output=True, text=True, env=environment, timeout=seconds + REQUEST_TIMEOUT_SECONDS + 30
    )
    for line in completed.stdout.splitlines():
        if line.startswith("WRKJSON "):
            summary = json.loads(line.removeprefix("WRKJSON "))
            summary["socket_errors"] = sum(
                summary[name] for name in ("connect_errors", "read_errors", "write_errors", "timeouts")
            )
            return summary
    raise RuntimeError(f"wrk printed no summary (exit {completed.returncode}): {completed.stderr.strip()[:500]}")


def spread(values: list[float]) -> dict[str, float]:
    """Return the min, median and max of repeated measurements."""
    return {
        "min": round(min(values), 3),
        "median": round(statistics.median(values), 3),
        "max": round(max(values), 3),
        "runs": len(values),
    }


def percentile(values: list[float], fraction: float) -> float:
    """Return the nearest-rank percentile of `values` (fraction 0.5 for p50)."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]
