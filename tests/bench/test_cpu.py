"""CPU accounting from /proc (bench/cpu.py): a stat line, a group's ticks, milliseconds per request."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import cpu
from bench.cpu import CpuMeter, PgTracker, Stat, group_ticks, ms_per_request, parse_stat, postgres_sample

# A real line (gunicorn's master), with its name in parentheses.
GUNICORN = (
    "4242 (gunicorn) S 1 4242 4242 0 -1 4194560 26000 150000 0 0 120 35 9800 1200 20 0 1 0 "
    "123456 80000000 9000 18446744073709551615 1 1 0 0 0 0 0 16781312 134235651 0 0 0 17 1 0 0 0 0 0"
)


def test_a_stat_line_gives_own_and_reaped_childrens_ticks():
    assert parse_stat(GUNICORN) == Stat(comm="gunicorn", ppid=1, own=120 + 35, children=9800 + 1200)
    assert parse_stat(GUNICORN).total == 155 + 11000


def test_a_name_with_spaces_and_parentheses_does_not_shift_the_fields():
    line = GUNICORN.replace("(gunicorn)", "(postgres: a) b)")
    assert parse_stat(line) == Stat(comm="postgres: a) b", ppid=1, own=155, children=11000)


def test_a_group_counts_the_time_of_children_that_ended():
    live = [Stat("postgres", 1, own=10, children=500), Stat("postgres", 77, own=40, children=0)]
    assert group_ticks(live) == 550
    # A backend that ended moved its 40 ticks into the postmaster's children: same total.
    assert group_ticks([Stat("postgres", 1, own=10, children=540)]) == 550


def test_milliseconds_per_request():
    # 500 ticks at 100 a second = 5 s over 1,000 requests = 5 ms each.
    assert ms_per_request({"server": 500, "postgresql": 100, "redis": 1}, 1000, ticks_per_s=100) == {
        "server": 5.0,
        "postgresql": 1.0,
        "redis": 0.01,
    }


def test_what_was_not_measured_stays_none():
    spent = ms_per_request({"server": 10, "postgresql": None}, 10, ticks_per_s=100)
    assert spent == {"server": 10.0, "postgresql": None, "redis": None}
    assert ms_per_request({"server": 10}, 0, ticks_per_s=100)["server"] is None  # no request: no cost


def test_processes_followed_while_they_come_and_go():
    tracker = PgTracker({1: 100, 2: 50})
    tracker.add({1: 130, 2: 60, 3: 5})  # 3 began during the run: all its time counts
    tracker.add({1: 150, 3: 25})  # 2 ended: what it spent until its last sample stays
    assert tracker.spent() == 50 + 10 + 25


def fake_process(proc: Path, pid: int, comm: str, ppid: int, own: int, children: int = 0, **more) -> None:
    folder = proc / str(pid)
    (folder / "task" / str(pid)).mkdir(parents=True)
    fields = ["S", str(ppid), *["0"] * 9, str(own), "0", str(children), "0", *["0"] * 30]
    (folder / "stat").write_text(f"{pid} ({comm}) " + " ".join(fields))
    (folder / "task" / str(pid) / "children").write_text(" ".join(map(str, more.get("kids", ()))))
    (folder / "cmdline").write_bytes(more.get("cmdline", comm).replace(" ", "\0").encode() + b"\0")


PG = "postgres: 15/main:"  # how PostgreSQL titles its processes


@pytest.fixture
def proc(tmp_path, monkeypatch):
    monkeypatch.setattr(cpu, "PROC", tmp_path)
    fake_process(tmp_path, 100, "gunicorn", 1, own=5, children=20, kids=(101, 102))
    fake_process(tmp_path, 101, "gunicorn", 100, own=300)
    fake_process(tmp_path, 102, "gunicorn", 100, own=200)
    fake_process(
        tmp_path, 200, "postgres", 1, own=2, children=1000, cmdline="/usr/lib/postgresql/15/bin/postgres -D x"
    )
    fake_process(tmp_path, 201, "postgres", 200, own=70, cmdline="postgres: 15/main: walwriter")
    fake_process(
        tmp_path,
        202,
        "postgres",
        200,
        own=40,
        cmdline="postgres: 15/main: postgres abc_bench 127.0.0.1(5) idle",
    )
    fake_process(
        tmp_path,
        203,
        "postgres",
        200,
        own=900,
        cmdline="postgres: 15/main: postgres test_abc_bench 127.0.0.1(6) idle",
    )
    fake_process(
        tmp_path, 204, "postgres", 200, own=900, cmdline="postgres: 15/main: postgres abc 127.0.0.1(7) SELECT"
    )
    fake_process(tmp_path, 300, "redis-server", 1, own=9, children=3)
    fake_process(tmp_path, 400, "node", 1, own=12345)  # someone else's
    return tmp_path


def test_postgresql_is_the_bench_databases_backends_and_the_shared_processes(proc):
    # Not the backends of other databases (a test suite beside), nor the postmaster's reaped children.
    assert postgres_sample("abc_bench") == {200: 2, 201: 70, 202: 40}


def test_a_runs_cpu_by_group(proc):
    with CpuMeter(100, "abc_bench", interval=0.01) as meter:
        fake_process(proc, 103, "gunicorn", 100, own=50)  # a worker that was not there before
        (proc / "100" / "task" / "100" / "children").write_text("101 102 103")
        fake_process(
            proc, 205, "postgres", 200, own=8, cmdline="postgres: 15/main: postgres abc_bench x(8) idle"
        )
    assert meter.spent == {"server": 50, "postgresql": 8, "redis": 0}
    assert CpuMeter(None, None).__enter__().spent == {"server": None, "postgresql": None, "redis": None}


def test_no_redis_on_this_machine_is_not_zero_cost(proc):
    (proc / "300" / "stat").unlink()
    with CpuMeter(100, None) as meter:
        pass
    assert meter.spent == {"server": 0, "postgresql": None, "redis": None}
