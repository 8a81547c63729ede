"""CPU use from /proc: per request (server, PostgreSQL, Redis); waiting for a server to idle; others' load.

Per request, CPU time is split in three groups, each read from /proc/<pid>/stat:

- **server**: gunicorn's master and workers (or the peer's process tree). Its time is, over the
  live processes, their own time plus that of the children they reaped (``utime + stime +
  cutime + cstime``): a worker that ended between two samples is still counted, in its
  parent's ``c`` fields.
- **postgresql**: the backends connected to the bench's database, the postmaster and the
  server's background processes (writers, checkpointer, autovacuum). Other databases'
  backends (a test suite running beside) are left out; their ended backends would land in the
  postmaster's ``c`` fields, so those are not used: instead each process's own time is
  followed while the run lasts (PgTracker), and a backend that ends loses at most its last
  sampling interval.
- **redis**: every redis-server process, with the children it reaped (snapshots).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
PROC = Path("/proc")
# The groups a request's CPU is split into, and the process names (comm) of the last two.
GROUPS = ("server", "postgresql", "redis")
POSTGRESQL_NAMES = frozenset({"postgres", "postmaster"})
REDIS_NAMES = frozenset({"redis-server"})
# Titles of PostgreSQL's shared processes ("postgres: 15/main: checkpointer").
PG_BACKGROUND = ("checkpointer", "background writer", "walwriter", "autovacuum", "logical replication")


@dataclass(frozen=True)
class Stat:
    """What the CPU accounting needs from one line of /proc/<pid>/stat."""

    comm: str
    ppid: int
    own: int  # utime + stime, in clock ticks
    children: int  # cutime + cstime: the children it reaped

    @property
    def total(self) -> int:
        return self.own + self.children


def parse_stat(text: str) -> Stat:
    """One /proc/<pid>/stat line; the name sits in parentheses and may hold spaces or ``)``."""
    head, _, tail = text.rpartition(")")
    fields = tail.split()
    # After the name: state(3) ppid(4) … utime(14) stime(15) cutime(16) cstime(17), 1-based.
    return Stat(
        comm=head.partition("(")[2],
        ppid=int(fields[1]),
        own=int(fields[11]) + int(fields[12]),
        children=int(fields[13]) + int(fields[14]),
    )


def read_stat(pid: int) -> Stat | None:
    try:
        return parse_stat((PROC / str(pid) / "stat").read_text())
    except (OSError, IndexError, ValueError):
        return None  # it ended, or is not ours to read


def process_tree(pid: int) -> list[int]:
    pids, queue = [], [pid]
    while queue:
        current = queue.pop()
        pids.append(current)
        with contextlib.suppress(OSError):
            children = PROC / str(current) / "task" / str(current) / "children"
            queue.extend(int(child) for child in children.read_text().split())
    return pids


def cpu_ticks(pids: list[int]) -> int:
    """Own CPU time of these processes (not their reaped children): for idling checks."""
    return sum(stat.own for pid in pids if (stat := read_stat(pid)) is not None)


def group_ticks(stats: Iterable[Stat]) -> int:
    """A group's CPU time so far, reaped children included (see the module's docstring)."""
    return sum(stat.total for stat in stats)


def named_processes(names: frozenset[str]) -> dict[int, Stat]:
    """Every process on the machine whose name (comm) is one of ``names``, by pid."""
    found = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (stat := read_stat(int(entry.name))) is not None and stat.comm in names:
            found[int(entry.name)] = stat
    return found


def title(pid: int) -> str:
    """A process's command line as ``ps`` shows it (PostgreSQL writes its state there)."""
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def is_bench_postgres(stat: Stat, text: str, database: str, pids: Container[int]) -> bool:
    """The postmaster, a shared background process, or a backend of ``database``
    (``postgres: 15/main: postgres abc_identity_bench 127.0.0.1(40112) idle``)."""
    if stat.ppid not in pids:
        return True  # the postmaster: its parent is no postgres process
    return f" {database} " in f"{text} " or any(name in text for name in PG_BACKGROUND)


def postgres_sample(database: str) -> dict[int, int]:
    """Own CPU ticks of the bench's PostgreSQL processes (is_bench_postgres), by pid."""
    stats = named_processes(POSTGRESQL_NAMES)
    return {
        pid: stat.own for pid, stat in stats.items() if is_bench_postgres(stat, title(pid), database, stats)
    }


class PgTracker:
    """Own CPU time of processes that come and go, sampled: the sum of each one's growth from
    its first sample (0 for one first seen after the start: it began during the run)."""

    def __init__(self, first: Mapping[int, int]) -> None:
        self.first = dict(first)
        self.last = dict(first)

    def add(self, sample: Mapping[int, int]) -> None:
        for pid, ticks in sample.items():
            self.first.setdefault(pid, 0)
            self.last[pid] = max(ticks, self.last.get(pid, 0))

    def spent(self) -> int:
        return sum(self.last[pid] - self.first[pid] for pid in self.last)


class CpuMeter:
    """CPU ticks each group spends while the ``with`` block runs (a wrk run)."""

    def __init__(self, server_pid: int | None, database: str | None, interval: float = 0.25) -> None:
        self.server_pid, self.database, self.interval = server_pid, database, interval
        self.spent: dict[str, int | None] = dict.fromkeys(GROUPS)
        self._stop = threading.Event()

    def _snapshots(self) -> dict[str, int | None]:
        server = None
        if self.server_pid is not None:
            tree = process_tree(self.server_pid)
            server = group_ticks(stat for pid in tree if (stat := read_stat(pid)) is not None)
        redis = named_processes(REDIS_NAMES)
        return {"server": server, "redis": group_ticks(redis.values()) if redis else None}

    def _follow_postgres(self, tracker: PgTracker, database: str) -> None:
        while not self._stop.wait(self.interval):
            tracker.add(postgres_sample(database))

    def __enter__(self) -> CpuMeter:
        self._before = self._snapshots()
        self._tracker = None
        if self.database is not None:
            self._tracker = PgTracker(postgres_sample(self.database))
            self._thread = threading.Thread(target=self._follow_postgres, args=(self._tracker, self.database))
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        after = self._snapshots()
        for group, end in after.items():
            start = self._before.get(group)
            self.spent[group] = None if start is None or end is None else max(end - start, 0)
        if self._tracker is not None and self.database is not None:
            self._stop.set()
            self._thread.join()
            self._tracker.add(postgres_sample(self.database))
            self.spent["postgresql"] = self._tracker.spent()

    def ms_per_request(self, requests: int) -> dict[str, float | None]:
        return ms_per_request(self.spent, requests)


def ms_per_request(
    spent: Mapping[str, int | None], requests: int, ticks_per_s: int = TICKS
) -> dict[str, float | None]:
    """CPU milliseconds per request of each group from the ticks it spent; None: not measured."""
    return {
        group: None
        if (ticks := spent.get(group)) is None or requests <= 0
        else round(ticks * 1000 / ticks_per_s / requests, 3)
        for group in GROUPS
    }


def machine_busy(interval: float = 0.5) -> float:
    """Percent of all CPUs busy over ``interval``: whatever else runs on the machine."""

    def sample() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        return sum(values), values[3] + values[4]  # idle + iowait

    try:
        total1, idle1 = sample()
        time.sleep(interval)
        total2, idle2 = sample()
    except (OSError, IndexError, ValueError):
        return 0.0
    return 100.0 * (1 - (idle2 - idle1) / max(total2 - total1, 1))


def wait_quiet(pid: int | None, *, timeout: float = 60.0) -> None:
    """Wait until a server's processes idle: requests wrk left queued must not spill over."""
    if pid is None:
        return
    deadline, calm = time.monotonic() + timeout, 0
    while calm < 2 and time.monotonic() < deadline:
        pids = process_tree(pid)
        before = cpu_ticks(pids)
        time.sleep(0.4)
        calm = calm + 1 if (cpu_ticks(pids) - before) / TICKS / 0.4 < 0.05 else 0
