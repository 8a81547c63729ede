"""wrk: run it on a scenario (the spec file it reads, the command) and read its output back."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.lua import lua_spec
from bench.options import LUA, VAR, Config
from bench.processes import Processes
from bench.scenarios import Scenario

MARKER = "BENCH_JSON "

_UNITS_US = {"us": 1.0, "ms": 1_000.0, "s": 1_000_000.0, "m": 60_000_000.0}
_DURATION = re.compile(r"^\s*([\d.]+)\s*(us|ms|s|m)\s*$")


@dataclass
class WrkResult:
    """One wrk run, whichever way it was read (our Lua's JSON line or wrk's own text)."""

    requests: int = 0
    duration_s: float = 0.0
    rps: float = 0.0
    p50_ms: float | None = None
    p90_ms: float | None = None
    p99_ms: float | None = None
    mean_ms: float | None = None
    max_ms: float | None = None
    non2xx: int = 0
    socket_errors: dict[str, int] = field(
        default_factory=lambda: {"connect": 0, "read": 0, "write": 0, "timeout": 0}
    )
    statuses: dict[str, int] = field(default_factory=dict)
    starved: int = 0
    source: str = "text"

    @property
    def socket_error_count(self) -> int:
        return sum(self.socket_errors.values())

    @property
    def ok(self) -> int:
        """Requests answered with a 2xx."""
        return max(self.requests - self.non2xx, 0)

    def as_dict(self) -> dict[str, Any]:
        data = {
            key: round(value, 3) if isinstance(value, float) else value for key, value in asdict(self).items()
        }
        data["socket_error_count"] = self.socket_error_count
        data["ok"] = self.ok
        return data


def duration_to_us(text: str) -> float:
    """wrk's durations: ``812.00us``, ``3.21ms``, ``1.50s``, ``2.00m``."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS_US[match.group(2)]


def parse_wrk_text(output: str) -> WrkResult:
    """wrk's human output (run with ``--latency`` for the percentiles).

    Used when our Lua's JSON line is missing; it cannot see 3xx responses, which wrk does not
    count as errors.
    """
    result = WrkResult(source="text")
    if match := re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m),", output):
        result.requests = int(match.group(1))
        result.duration_s = duration_to_us(match.group(2) + match.group(3)) / 1_000_000
    if match := re.search(r"Requests/sec:\s*([\d.]+)", output):
        result.rps = float(match.group(1))
    elif result.duration_s:
        result.rps = result.requests / result.duration_s
    if match := re.search(r"Non-2xx or 3xx responses:\s*(\d+)", output):
        result.non2xx = int(match.group(1))
    if match := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        result.socket_errors = dict(
            zip(("connect", "read", "write", "timeout"), map(int, match.groups()), strict=True)
        )
    percentiles = {
        int(p): duration_to_us(value) / 1000
        for p, value in re.findall(r"^\s*(50|75|90|99)%\s+([\d.]+(?:us|ms|s|m))\s*$", output, re.M)
    }
    result.p50_ms, result.p90_ms, result.p99_ms = (percentiles.get(p) for p in (50, 90, 99))
    if match := re.search(r"Latency\s+([\d.]+(?:us|ms|s|m))\s+\S+\s+([\d.]+(?:us|ms|s|m))", output):
        result.mean_ms = duration_to_us(match.group(1)) / 1000
        result.max_ms = duration_to_us(match.group(2)) / 1000
    return result


def parse_bench_json(output: str) -> WrkResult | None:
    """The line bench/lua/common.lua prints in wrk's ``done()``, or None if there is none."""
    for line in reversed(output.splitlines()):
        if line.startswith(MARKER):
            data = json.loads(line[len(MARKER) :])
            break
    else:
        return None
    latency = data["latency_us"]
    errors = data["errors"]
    duration_s = data["duration_us"] / 1_000_000
    return WrkResult(
        requests=data["requests"],
        duration_s=duration_s,
        rps=data["requests"] / duration_s if duration_s else 0.0,
        p50_ms=latency["p50"] / 1000,
        p90_ms=latency["p90"] / 1000,
        p99_ms=latency["p99"] / 1000,
        mean_ms=latency["mean"] / 1000,
        max_ms=latency["max"] / 1000,
        non2xx=data["non2xx"],
        socket_errors={name: errors[name] for name in ("connect", "read", "write", "timeout")},
        statuses={str(key): int(value) for key, value in data.get("statuses", {}).items()},
        starved=data.get("starved", 0),
        source="lua",
    )


def parse_wrk(output: str) -> WrkResult:
    """Prefer our Lua's exact numbers; fall back to wrk's text."""
    return parse_bench_json(output) or parse_wrk_text(output)


def run_wrk(
    cfg: Config, processes: Processes, port: int, scenario: Scenario, seconds: float, label: str = ""
) -> WrkResult:
    """One wrk run of ``scenario`` against 127.0.0.1:``port``; its output stays in var/bench."""
    label = label or scenario.name
    spec_path = VAR / f"spec-{label}.lua"
    spec_path.write_text(lua_spec(scenario.spec(cfg.threads)))
    spec_path.chmod(0o600)  # it holds secrets, tokens and cookies
    command = [
        "wrk", f"-t{cfg.threads}", f"-c{cfg.connections}", f"-d{max(seconds, 1):g}s",
        f"--timeout={cfg.timeout_s}s", "--latency", "-s", str(LUA / scenario.script),
        f"http://127.0.0.1:{port}", "--", str(spec_path),
    ]  # fmt: skip
    code, output = processes.run(f"wrk {label}", command, timeout=seconds + 60)
    (VAR / f"wrk-{label}.txt").write_text(output)
    if code != 0 and MARKER not in output:
        raise RuntimeError(f"wrk failed (exit {code}): {output[-300:]}")
    return parse_wrk(output)
