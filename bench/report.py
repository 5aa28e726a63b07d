"""The suite's summary: the ratio table printed at the end, and the generated part of docs/benchmarks.md."""

from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DOC_PATH = REPO_ROOT / "docs" / "benchmarks.md"
# docs/benchmarks.md keeps its hand-written text; the suite rewrites only what lies between these markers.
BEGIN_MARKER = "<!-- suite results: begin -->"
END_MARKER = "<!-- suite results: end -->"


def _triple(value: dict[str, Any] | None, digits: int = 1) -> str:
    if not value:
        return "n/a"
    return f"{value['median']:.{digits}f} ({value['min']:.{digits}f}-{value['max']:.{digits}f})"


def _number(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _verdict(passed: bool | None) -> str:
    return "n/a" if passed is None else ("met" if passed else "missed")


def targets(result: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """Return (measure, figure, target, met or missed) for every target of the suite."""
    rows: list[tuple[str, str, str, str]] = []
    level = result.get("throughput", {}).get("summary", {}).get("32", {})
    ratio = level.get("ratio_requests_per_second")
    athena = level.get("athena", {})
    clean = athena.get("errors") == 0 and athena.get("unsaved") == 0 if athena else None
    rows.append(
        (
            "workflow throughput, Athena/n8n, concurrency 32",
            _number(ratio),
            ">= 2, no errors, all saved",
            _verdict(None if ratio is None else ratio >= 2 and bool(clean)),
        )
    )
    p99 = level.get("ratio_p99")
    rows.append(
        ("p99 latency, Athena/n8n, concurrency 32", _number(p99), "<= 1", _verdict(None if p99 is None else p99 <= 1))
    )
    intake = result.get("intake", {}).get("summary", {}).get("ratio_accepted_per_second")
    rows.append(
        (
            "async intake accepted/s, Athena/n8n",
            _number(intake),
            ">= 3",
            _verdict(None if intake is None else intake >= 3),
        )
    )

    api = result.get("api", {}).get("summary", {})
    for name, minimum in (("list", 0.35), ("detail", 0.5), ("create", None)):
        if name in api:
            ratio = api[name]["ratio"]["median"]
            verdict = _verdict(None if minimum is None else ratio >= minimum)
            rows.append(
                (
                    f"API {name}, share of bare-view throughput",
                    _number(ratio),
                    f">= {minimum}" if minimum else "-",
                    verdict,
                )
            )
    queries = api.get("queries_per_request", {})
    if queries:
        list_queries = (queries["list_per_page_1"], queries["list_per_page_50"])
        constant = list_queries[0] == list_queries[1] and max(list_queries) <= 6
        rows.append(
            (
                "queries per list request, 1 / 50 per page",
                f"{list_queries[0]} / {list_queries[1]}",
                "equal, <= 6",
                _verdict(constant),
            )
        )

    turns = result.get("agent_turns", {}).get("added_ms", {})
    if turns:
        added = turns["plain"]["p50"]
        rows.append(("agent turn, added p50 (ms)", _number(added), "< 15", _verdict(added < 15)))
        rows.append(
            ("agent turn streaming, added time to first byte p50 (ms)", _number(turns["stream"]["p50"]), "-", "n/a")
        )

    scaling = result.get("list_scaling", {}).get("ratio_large_to_small")
    rows.append(
        ("list latency, 100k/1k rows", _number(scaling), "< 2", _verdict(None if scaling is None else scaling < 2))
    )
    chains = result.get("chains", {})
    if chains:
        per_node = chains["per_node_ms_100"]
        rows.append(("per-node overhead, median (ms)", _number(per_node, 3), "< 5", _verdict(per_node < 5)))
    growth = result.get("memory_growth_percent")
    points = result.get("memory", [])
    span = f"{points[0]['executions']:,} -> {points[-1]['executions']:,}" if len(points) > 1 else "1k -> 10k"
    rows.append(
        (
            f"worker memory growth, {span} executions (%)",
            _number(growth, 1),
            "< 10",
            _verdict(None if growth is None else growth < 10),
        )
    )
    return rows


def ratio_table(result: dict[str, Any]) -> str:
    """Return the targets as a plain-text table for the terminal."""
    rows = [("measure", "figure", "target", "verdict"), *targets(result)]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def results_markdown(result: dict[str, Any], path: Path) -> str:
    """Return the generated section of docs/benchmarks.md for one suite run."""
    machine = result["machine"]
    versions = result.get("versions", {})
    arguments = result["arguments"]
    lines = [
        f"### Last run: {result['started_at'][:16].replace('T', ' ')} UTC, {result.get('minutes', '?')} minutes",
        "",
        f"Raw figures: `bench/results/{path.name}`. Machine: {machine['cpus']} vCPUs ({machine['cpu']}), "
        f"{machine['memory_gib']} GiB RAM, Linux {machine['kernel']}. Versions: "
        + ", ".join(f"{name} {version}" for name, version in versions.items())
        + ".",
        "",
        f"Each figure is median (min-max) over {arguments['repeats']} alternating runs unless stated.",
        "",
        "#### Targets",
        "",
        *_table(["measure", "figure", "target", "verdict"], [list(row) for row in targets(result)]),
        "",
    ]

    throughput = result.get("throughput", {}).get("summary", {})
    if throughput:
        rows = []
        for concurrency, level in throughput.items():
            athena, n8n = level.get("athena", {}), level.get("n8n", {})
            rows.append(
                [
                    concurrency,
                    _triple(athena.get("requests_per_second")),
                    _triple(n8n.get("requests_per_second")),
                    _number(level.get("ratio_requests_per_second")),
                    f"{_triple(athena.get('p50_ms'), 0)} / {_triple(athena.get('p99_ms'), 0)}",
                    f"{_triple(n8n.get('p50_ms'), 0)} / {_triple(n8n.get('p99_ms'), 0)}",
                    f"{athena.get('errors', 'n/a')} / {athena.get('unsaved', 'n/a')}",
                    f"{n8n.get('errors', 'n/a')} / {n8n.get('unsaved', 'n/a')}",
                ]
            )
        lines += [
            f"#### 1. Workflow throughput ({arguments['seconds']} s per run)",
            "",
            *_table(
                [
                    "concurrency",
                    "Athena req/s",
                    "n8n req/s",
                    "ratio",
                    "Athena p50 / p99 ms",
                    "n8n p50 / p99 ms",
                    "Athena errors / unsaved",
                    "n8n errors / unsaved",
                ],
                rows,
            ),
            "",
        ]

    intake = result.get("intake", {}).get("summary", {})
    if intake.get("athena"):
        rows = []
        for system in ("athena", "n8n"):
            if system in intake:
                figures = intake[system]
                rows.append(
                    [
                        system,
                        _triple(figures["accepted_per_second"]),
                        _triple(figures["finished_per_second"]),
                        _triple(figures["seconds_until_all_finished"]),
                        _triple(figures["p99_ms"], 0),
                        f"{figures['errors']} / {figures['lost']}",
                    ]
                )
        lines += [
            f"#### 2. Async webhook intake (concurrency 32, {arguments['intake_seconds']} s per run)",
            "",
            *_table(["system", "accepted/s", "finished/s", "s until all finished", "p99 ms", "errors / lost"], rows),
            "",
            f"Ratio of accepted/s: {_number(intake.get('ratio_accepted_per_second'))}; of finished/s: "
            f"{_number(intake.get('ratio_finished_per_second'))}.",
            "",
        ]

    api = result.get("api", {}).get("summary", {})
    if api:
        rows = [
            [
                name,
                str(api[name]["response_bytes"]),
                _triple(api[name]["api_requests_per_second"]),
                _triple(api[name]["bare_requests_per_second"]),
                _triple(api[name]["ratio"], 2),
                str(api[name]["errors"]),
            ]
            for name in ("list", "detail", "create")
        ]
        queries = api["queries_per_request"]
        lines += [
            f"#### 3. API overhead (concurrency 8, {arguments['api_seconds']} s per run, 10,000 agents)",
            "",
            *_table(["request", "bytes", "API req/s", "bare view req/s", "ratio", "errors"], rows),
            "",
            "Queries per request: " + ", ".join(f"{name} {count}" for name, count in queries.items()) + ".",
            "",
        ]

    turns = result.get("agent_turns")
    if turns:
        timings = turns["milliseconds"]
        rows = [
            [
                kind,
                f"{timings[f'athena_{kind}']['p50']} / {timings[f'athena_{kind}']['p99']}",
                f"{timings[f'direct_{kind}']['p50']} / {timings[f'direct_{kind}']['p99']}",
                f"{turns['added_ms'][kind]['p50']} / {turns['added_ms'][kind]['p99']}",
            ]
            for kind in ("plain", "stream")
        ]
        lines += [
            f"#### 4. Agent turn overhead ({turns['turns']} turns of each kind, interleaved, "
            f"{turns['failures']} failed)",
            "",
            *_table(["kind", "Athena p50 / p99 ms", "openai client p50 / p99 ms", "added p50 / p99 ms"], rows),
            "",
            "Streaming figures are the time to the first byte of the response.",
            "",
        ]

    scaling = result.get("list_scaling")
    chains = result.get("chains")
    if scaling and chains:
        execution = chains["execution_ms"]
        lines += [
            "#### 5. Scaling",
            "",
            *_table(
                ["measure", "figure"],
                [
                    [f"agent list p50 ms, {scaling['rows']['small']:,} rows", _triple(scaling["p50_ms"]["small"], 2)],
                    [f"agent list p50 ms, {scaling['rows']['large']:,} rows", _triple(scaling["p50_ms"]["large"], 2)],
                    ["ratio large / small", _number(scaling["ratio_large_to_small"])],
                    ["execution ms, 1 noop", _triple(execution.get("chain_1"), 2)],
                    ["execution ms, 10 noops", _triple(execution.get("chain_10"), 2)],
                    ["execution ms, 100 noops", _triple(execution.get("chain_100"), 2)],
                    ["per-node ms (10 / 100 noops)", f"{chains['per_node_ms_10']} / {chains['per_node_ms_100']}"],
                    *[
                        [f"worker RSS MiB after {point['executions']:,} executions", str(point["worker_rss_mib"])]
                        for point in result.get("memory", [])
                    ],
                ],
            ),
            "",
        ]
    return "\n".join(lines)


def write_doc(result: dict[str, Any], path: Path) -> None:
    """Replace the generated section of docs/benchmarks.md with this run's figures."""
    text = DOC_PATH.read_text() if DOC_PATH.exists() else "# Benchmarks\n"
    section = f"{BEGIN_MARKER}\n{results_markdown(result, path)}\n{END_MARKER}"
    if BEGIN_MARKER in text and END_MARKER in text:
        head, _, rest = text.partition(BEGIN_MARKER)
        _, _, tail = rest.partition(END_MARKER)
        text = f"{head}{section}{tail}"
    else:
        text = f"{text.rstrip()}\n\n{section}\n"
    DOC_PATH.write_text(text)
