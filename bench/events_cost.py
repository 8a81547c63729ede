"""What the token events cost, from interleaved runs with events on and off (bench/events.py).

Each pair is one run against the server as production runs it (events on) and one against
its twin without them (bench/events_off.py): both at the same time, or one right after the
other, the order alternating from pair to pair (on/off, off/on, on/off, …) so that a machine
that slows down or speeds up steadily during the A/B weighs on both arms alike. A pair gives
a cost per measure; the median over the pairs is the figure, set against the issue's 5 %.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

EVENTS = "events"  # its BENCH_ONLY name
NOEVENTS = "_noevents"
PAIRED = ("cc_form", "authcode_pkce")  # the scenarios measured with events on and off
TARGET = 0.05  # issue 17: recording events must not slow the token endpoint by more than 5 %

# The measures a pair's cost is computed for, with their labels; the first is the headline.
MEASURES: tuple[tuple[str, str], ...] = (
    ("cpu_server", "CPU/request"),
    ("cpu_all", "CPU/request with PostgreSQL and Redis"),
    ("time", "time/request (1 / 2xx req/s)"),
)


def arm_order(pairs: int) -> list[tuple[int, bool]]:
    """(pair, events on) in the order they run: the order alternates within each pair."""
    order = []
    for pair in range(1, pairs + 1):
        first = pair % 2 == 1  # odd pairs start with events on
        order += [(pair, first), (pair, not first)]
    return order


def arm_name(scenario: str, pair: int, events_on: bool) -> str:
    """``cc_form#1`` with events, ``cc_form_noevents#1`` without."""
    return f"{scenario}{'' if events_on else NOEVENTS}#{pair}"


@dataclass(frozen=True)
class Arm:
    """One measured run: CPU milliseconds per request and 2xx responses per second."""

    cpu_server: float | None
    cpu_all: float | None  # server + PostgreSQL + Redis; None when one is not measured
    ok_rps: float | None
    clean: bool = True  # every response 2xx, no credential ran out

    @classmethod
    def of(cls, cpu: Mapping[str, float | None], ok_rps: float | None, *, clean: bool = True) -> Arm:
        parts = [cpu.get(group) for group in ("server", "postgresql", "redis")]
        total = None if any(part is None for part in parts) else sum(part or 0.0 for part in parts)
        return cls(cpu.get("server"), total, ok_rps, clean)


def increase(value: float | None, reference: float | None) -> float | None:
    """How much more ``value`` is than ``reference`` (0.05: 5 % more); None without both."""
    if value is None or reference is None or reference <= 0:
        return None
    return value / reference - 1


def pair_costs(on: Arm, off: Arm) -> dict[str, float | None]:
    """What events add per request: CPU (server; all of it) and time (the inverse of 2xx
    throughput, so the same direction: more is slower)."""
    return {
        "cpu_server": increase(on.cpu_server, off.cpu_server),
        "cpu_all": increase(on.cpu_all, off.cpu_all),
        "time": increase(off.ok_rps, on.ok_rps),
    }


def summarise(pairs: Sequence[tuple[Arm, Arm]]) -> dict[str, Any]:
    """Per measure: each clean pair's cost, their median, and whether it is within TARGET.

    A pair with a failed response or a credential run out in either arm is left out
    (``dropped``): its requests did other work than the token's.
    """
    kept = [(on, off) for on, off in pairs if on.clean and off.clean]
    costs = [pair_costs(on, off) for on, off in kept]
    summary: dict[str, Any] = {"pairs": len(kept), "dropped": len(pairs) - len(kept), "target": TARGET}
    for measure, label in MEASURES:
        values = [value for cost in costs if (value := cost[measure]) is not None]
        median = statistics.median(values) if values else None
        summary[measure] = {
            "what": label,
            "per_pair": [round(value, 4) for value in values],
            "median": None if median is None else round(median, 4),
            "met": None if median is None else median <= TARGET,
        }
    return summary


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:+.1f} %"


def format_costs(name: str, summary: Mapping[str, Any]) -> str:
    """The printed lines of one scenario's A/B: the headline first, then the other measures
    that were measured (with both arms at once, PostgreSQL's and Redis's share is not)."""
    lines = []
    shown = [(measure, label) for measure, label in MEASURES if summary[measure]["per_pair"]]
    for index, (measure, label) in enumerate(shown or MEASURES[:1]):
        item = summary[measure]
        verdict = {True: "met", False: "NOT MET", None: ""}[item["met"]]
        head = "token events cost:" if index == 0 else " " * len("token events cost:")
        pairs = " ".join(_percent(value).replace(" ", "") for value in item["per_pair"])
        lines.append(
            f"  {name if index == 0 else '':<14} {head} {_percent(item['median']):>8} {label} "
            f"(target ≤ {summary['target'] * 100:g} %) {verdict}; pairs {pairs or '-'}"
        )
    if summary["dropped"]:
        dropped = f"{summary['dropped']} pair(s) left out: a failed response or no credential left"
        lines.append(f"  {'':<14} {dropped}")
    return "\n".join(lines)
