"""What a run reports: results collected as scenarios finish, the printed table and ratios, the JSON file."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.console import log
from bench.cpu import GROUPS
from bench.events_cost import format_costs
from bench.options import RESULTS, ROOT, Config
from bench.scenarios import RATIOS, SCALE_RATIOS, Ratio, Scenario
from bench.wrk import WrkResult


def run_meta(cfg: Config, started_at: datetime) -> dict[str, Any]:
    """The result file's head: the machine, the configuration, room for the checks."""
    version = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)  # noqa: S607
    return {
        "started_at": started_at.isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "loadavg_before": [round(value, 2) for value in os.getloadavg()],
            "python": platform.python_version(),
            "wrk": (version.stdout or version.stderr).splitlines()[0].strip(),
        },
        "config": {
            "seconds": cfg.seconds,
            "connections": cfg.connections,
            "wrk_threads": cfg.threads,
            "gunicorn_workers": cfg.workers,
            "users_added": cfg.users,
            "entries_added": cfg.entries,
            "clients_added": cfg.clients,
            "rate_limit_per_ip": 0,
        }
        | ({"scale": {"users": cfg.scale_users, "clients": cfg.scale_clients}} if cfg.scale else {}),
        "checks": {},
    }


class Results:
    """One run's results: table rows, the result file's scenarios, the measurements by name."""

    def __init__(self, cfg: Config) -> None:
        self.rows: list[dict[str, Any]] = []
        self.results: dict[str, dict[str, Any]] = {}
        self.measured: dict[str, WrkResult] = {}
        self.started_at = datetime.now(UTC)
        self.meta: dict[str, Any] = run_meta(cfg, self.started_at)
        # BENCH_SCALE=1 runs only its own rows: the other ratios could not be computed.
        self.ratio_rows: tuple[Ratio, ...] = SCALE_RATIOS if cfg.scale else RATIOS
        # The token events' A/B (bench/events.py), by scenario: bench/events_cost.py's summary.
        self.token_events: dict[str, dict[str, Any]] = {}

    @property
    def checks(self) -> dict[str, Any]:
        return self.meta["checks"]

    def skip(self, scenario: Scenario, reason: str) -> None:
        log(f"  {scenario.name:<17} skipped: {reason}")
        self.rows.append({"name": scenario.name, "skipped": reason})
        self.results[scenario.name] = {"target": scenario.target, "what": scenario.what, "skipped": reason}

    def record(
        self,
        scenario: Scenario,
        result: WrkResult,
        busy: float,
        cpu: Mapping[str, float | None],
        **extra: Any,
    ) -> None:
        """A measured run; ``busy``: how busy the machine was just before it (percent);
        ``cpu``: CPU milliseconds per request by group (bench/cpu.py)."""
        self.measured[scenario.name] = result
        note = f"others busy {busy:.0f}% before" if busy > 25 else ""
        over = p99_over(result, scenario.p99_limit_ms)
        if over:
            note = (note + " " if note else "") + f"p99 over the {scenario.p99_limit_ms:g} ms target"
        self.rows.append(
            {"name": scenario.name, "result": result, "note": note, "cpu": cpu, "p99_over": over}
        )
        self.results[scenario.name] = {
            "target": scenario.target,
            "what": scenario.what,
            "request": f"{scenario.method} {scenario.path}",
            "cpu_busy_before_pct": round(busy, 1),
            "result": result.as_dict(),
            "cpu_ms_per_request": dict(cpu),
            **(
                {"p99_target_ms": scenario.p99_limit_ms, "p99_met": not over}
                if scenario.p99_limit_ms is not None
                else {}
            ),
            **extra,
        }
        log(
            f"  {scenario.name:<17} {result.rps:9.1f} req/s  p50 {result.p50_ms or 0:8.2f} ms  "
            f"p99 {result.p99_ms or 0:8.2f} ms  non-2xx {result.non2xx}  "
            f"socket errors {result.socket_error_count}  cpu ms/req "
            + " ".join(f"{group} {_fmt(cpu.get(group), 2)}" for group in GROUPS)
            + (f"  ran out x{result.starved}" if result.starved else "")
            + (f"  ({note})" if note else "")
        )

    def ratios(self) -> dict[str, dict[str, Any]]:
        ratios = {}
        for row in self.ratio_rows:
            numerator, denominator = self.measured.get(row.numerator), self.measured.get(row.denominator)
            value = ratio(ok_rps(numerator), ok_rps(denominator))
            ratios[row.name] = {
                "value": None if value is None else round(value, 4),
                "what": row.what,
                "target": row.target,
                "met": row.met(value),
            }
        return ratios

    def write(self) -> Path:
        finished = datetime.now(UTC)
        document = {
            **self.meta,
            "finished_at": finished.isoformat(timespec="seconds"),
            "elapsed_seconds": round((finished - self.started_at).total_seconds(), 1),
            "scenarios": self.results,
            "ratios": self.ratios(),
            **({"token_events": self.token_events} if self.token_events else {}),
        }
        RESULTS.mkdir(exist_ok=True)
        out = RESULTS / f"result-{self.started_at:%Y%m%d-%H%M%S}.json"
        out.write_text(json.dumps(document, indent=2) + "\n")
        return out

    def print_summary(self, out: Path) -> None:
        config = self.meta["config"]
        print()
        print(f"database: {config.get('database', '?')}; cache: {config.get('cache', '?')}")
        print(format_table(self.rows))
        print(
            "cpu: CPU milliseconds per request of the server (gunicorn's master and workers, or the peer),"
            " PostgreSQL and Redis; p99 with ! is at or over the issue's target (see note)"
        )
        print()
        print("ratios of 2xx responses per second (target: at least this much):")
        print(format_ratios(self.ratios()))
        print()
        if self.token_events:
            together = any(summary.get("together") for summary in self.token_events.values())
            how = "both at the same time" if together else "one after the other, order alternating"
            print(f"token events: events on / off, median of pairs of runs ({how}; bench/events.py):")
            for name, summary in self.token_events.items():
                print(format_costs(name, summary))
            print()
        log(f"wrote {out.relative_to(ROOT)}")


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, or None when either is missing or the denominator is 0."""
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


def p99_over(result: WrkResult, limit_ms: float | None) -> bool:
    """Whether the run's p99 is at or over the scenario's target (none: never)."""
    return limit_ms is not None and result.p99_ms is not None and result.p99_ms >= limit_ms


def ok_rps(result: WrkResult | None) -> float | None:
    """Throughput of successful (2xx) responses: what a ratio should compare."""
    if result is None or not result.duration_s:
        return None
    return result.ok / result.duration_s


# CPU milliseconds per request: gunicorn (master, workers) or the peer; PostgreSQL; Redis.
CPU_HEADERS = ("cpu srv", "cpu pg", "cpu redis")


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def format_table(rows: list[dict[str, Any]]) -> str:
    """The printed summary: one row per scenario (``name``, ``result`` or ``skipped``)."""
    header = (
        *("scenario", "req/s", "p50 ms", "p99 ms", "requests", "non-2xx", "sock err"),
        *CPU_HEADERS,
        "note",
    )
    lines = [header]
    for row in rows:
        result: WrkResult | None = row.get("result")
        if result is None:
            dashes = ("-",) * (len(header) - 2)
            lines.append((row["name"], *dashes, "skipped: " + row.get("skipped", "")))
            continue
        note = row.get("note", "")
        if result.statuses:
            note = (
                (note + " " if note else "")
                + "status "
                + ", ".join(f"{key}x{value}" for key, value in sorted(result.statuses.items()))
            )
        if result.starved:
            note = (note + " " if note else "") + f"ran out of credentials x{result.starved}"
        lines.append(
            (
                row["name"],
                _fmt(result.rps),
                _fmt(result.p50_ms, 2),
                _fmt(result.p99_ms, 2) + ("!" if row.get("p99_over") else ""),
                str(result.requests),
                str(result.non2xx),
                str(result.socket_error_count),
                *(_fmt(row.get("cpu", {}).get(group), 2) for group in GROUPS),
                note,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    out = []
    for index, line in enumerate(lines):
        cells = [
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(line[:-1])
        ]
        out.append("  ".join(cells) + ("  " + line[-1] if line[-1] else ""))
        if index == 0:
            out.append("  ".join("-" * width for width in widths))
    return "\n".join(out)


def format_ratios(ratios: dict[str, dict[str, Any]]) -> str:
    """One line a ratio: its value, its target and whether it is met, what it compares."""
    lines = []
    for name, item in ratios.items():
        value, target, met = item.get("value"), item.get("target"), item.get("met")
        shown = "n/a" if value is None else f"{value:.3f}"
        wanted = "" if target is None else f">= {target:g}"
        verdict = {True: "met", False: "NOT MET", None: ""}[met]
        lines.append(f"  {name:<36} {shown:>7}  {wanted:<7} {verdict:<7}  {item.get('what', '')}")
    return "\n".join(lines)
