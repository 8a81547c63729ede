"""The pure parts of `make bench`: reading wrk's output, ratios, the table, Lua literals.

Nothing here starts a process or opens a socket, so tests/bench/test_harness.py checks it
all without load.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any

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


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, or None when either is missing or the denominator is 0."""
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


def ok_rps(result: WrkResult | None) -> float | None:
    """Throughput of successful (2xx) responses: what a ratio should compare."""
    if result is None or not result.duration_s:
        return None
    return result.ok / result.duration_s


def codes_needed(rate_per_s: float, seconds: float, connections: int, *, margin: float = 1.5) -> int:
    """How many single-use credentials a run of ``seconds`` may consume, with headroom.

    ``rate_per_s`` is an upper bound of the rate (measured earlier in the run); each
    connection also holds one request in flight when the run ends.
    """
    return max(math.ceil(rate_per_s * seconds * margin) + 2 * connections, 4 * connections)


def lua_string(value: str) -> str:
    """A Lua double-quoted string literal for any text (secrets, cookies, JSON bodies)."""
    out = ['"']
    for char in value:
        code = ord(char)
        if char == "\\":
            out.append("\\\\")
        elif char == '"':
            out.append('\\"')
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif code < 32 or code == 127:
            out.append(f"\\{code:03d}")
        elif code > 127:
            out.extend(f"\\{byte:03d}" for byte in char.encode())
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def lua_value(value: Any, indent: str = "") -> str:
    """A Lua literal for str, int, float, bool, None, list and dict (string keys)."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return lua_string(value)
    if isinstance(value, list | tuple):
        inner = ",\n".join(indent + "  " + lua_value(item, indent + "  ") for item in value)
        return "{\n" + inner + "\n" + indent + "}" if value else "{}"
    if isinstance(value, dict):
        inner = ",\n".join(
            f"{indent}  [{lua_string(str(key))}] = {lua_value(item, indent + '  ')}"
            for key, item in value.items()
        )
        return "{\n" + inner + "\n" + indent + "}" if value else "{}"
    raise TypeError(f"no Lua literal for {type(value).__name__}")


def lua_spec(spec: dict[str, Any]) -> str:
    """A spec file the Lua scripts read with dofile()."""
    return "-- written by bench/run.py; holds credentials: do not share\nreturn " + lua_value(spec) + "\n"


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def format_table(rows: list[dict[str, Any]]) -> str:
    """The printed summary: one row per scenario (``name``, ``result`` or ``skipped``)."""
    header = ("scenario", "req/s", "p50 ms", "p99 ms", "requests", "non-2xx", "sock err", "note")
    lines = [header]
    for row in rows:
        result: WrkResult | None = row.get("result")
        if result is None:
            lines.append((row["name"], "-", "-", "-", "-", "-", "-", "skipped: " + row.get("skipped", "")))
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
                _fmt(result.p99_ms, 2),
                str(result.requests),
                str(result.non2xx),
                str(result.socket_error_count),
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
    lines = []
    for name, item in ratios.items():
        value = item.get("value")
        shown = "n/a" if value is None else f"{value:.3f}"
        lines.append(f"  {name:<34} {shown:>9}   {item.get('what', '')}")
    return "\n".join(lines)
