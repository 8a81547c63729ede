"""The token events' A/B (bench/events.py, bench/events_cost.py, bench/events_off.py):
interleaved runs on two servers, the cost per pair and its median, and a twin whose token
endpoint really records nothing."""

from __future__ import annotations

import threading
from dataclasses import replace
from http import HTTPStatus
from types import SimpleNamespace
from typing import Any, cast

import pytest

from accounts import events as token_events
from accounts.models import AuditEntry
from bench import events
from bench.client import Reply
from bench.credentials import Credentials
from bench.drivers import Run
from bench.events_cost import Arm, arm_name, arm_order, format_costs, increase, pair_costs, summarise
from bench.events_off import switch_off
from bench.options import Config
from bench.processes import Processes
from bench.report import Results
from bench.scenarios import SCENARIOS
from bench.server import Server
from bench.wrk import WrkResult
from clients.services import client_grant_set
from tests.oauth import TIMESHEETS_API, client_credentials

CC_FORM = next(row for row in SCENARIOS if row.name == "cc_form")


def test_the_arms_alternate_which_goes_first():
    assert arm_order(3) == [(1, True), (1, False), (2, False), (2, True), (3, True), (3, False)]
    assert arm_order(0) == []
    order = arm_order(4)
    assert sorted(order) == sorted({(pair, on) for pair in range(1, 5) for on in (True, False)})


def test_arm_names():
    assert arm_name("cc_form", 2, True) == "cc_form#2"
    assert arm_name("authcode_pkce", 1, False) == "authcode_pkce_noevents#1"


def test_an_arm_adds_up_its_cpu():
    arm = Arm.of({"server": 2.0, "postgresql": 0.5, "redis": 0.1}, 400.0)
    assert arm.cpu_server == 2.0
    assert arm.cpu_all == pytest.approx(2.6)
    assert arm.ok_rps == 400.0
    on_sqlite = Arm.of({"server": 2.0, "postgresql": None, "redis": 0.1}, 400.0)
    assert (on_sqlite.cpu_server, on_sqlite.cpu_all) == (2.0, None)


def test_costs_are_what_events_add_per_request():
    assert increase(2.1, 2.0) == pytest.approx(0.05)
    assert increase(None, 2.0) is None
    assert increase(2.0, 0.0) is None
    on = Arm(cpu_server=2.2, cpu_all=2.75, ok_rps=380.0)
    off = Arm(cpu_server=2.0, cpu_all=2.5, ok_rps=400.0)
    costs = pair_costs(on, off)
    assert costs["cpu_server"] == pytest.approx(0.10)
    assert costs["cpu_all"] == pytest.approx(0.10)
    assert costs["time"] == pytest.approx(400 / 380 - 1)  # fewer answers a second: slower


def arm(cpu: float, rps: float = 100.0, *, clean: bool = True) -> Arm:
    return Arm(cpu_server=cpu, cpu_all=cpu + 1, ok_rps=rps, clean=clean)


def test_the_median_of_the_pairs_is_the_figure():
    pairs = [(arm(2.06), arm(2.0)), (arm(1.9), arm(2.0)), (arm(2.2), arm(2.0))]
    pairs.append((arm(9.0, clean=False), arm(2.0)))
    summary = summarise(pairs)
    assert (summary["pairs"], summary["dropped"]) == (3, 1)  # a pair with a failure is left out
    assert summary["cpu_server"]["per_pair"] == [0.03, -0.05, 0.1]
    assert summary["cpu_server"]["median"] == pytest.approx(0.03)
    assert summary["cpu_server"]["met"] is True
    assert summary["time"]["median"] == 0.0

    over = summarise([(arm(2.2), arm(2.0)), (arm(2.12), arm(2.0))])
    assert over["cpu_server"]["median"] == pytest.approx(0.08)
    assert over["cpu_server"]["met"] is False


def test_nothing_measured_gives_no_verdict():
    summary = summarise([])
    assert summary["cpu_server"] == {"what": "CPU/request", "per_pair": [], "median": None, "met": None}


def test_the_printed_cost():
    summary = summarise(
        [
            (arm(2.06), arm(2.0)),
            (arm(2.2), arm(2.0)),
            (
                arm(1.9),
                arm(2.0),
            ),
        ]
    )
    lines = format_costs("cc_form", summary).splitlines()
    assert lines[0].split() == [
        *("cc_form", "token", "events", "cost:", "+3.0", "%", "CPU/request"),
        *("(target", "≤", "5", "%)", "met;"),
        *("pairs", "+3.0%", "+10.0%", "-5.0%"),
    ]
    assert "CPU/request with PostgreSQL and Redis" in lines[1]
    assert "NOT MET" not in format_costs("cc_form", summary)
    dropped = format_costs("x", summarise([(arm(2.0, clean=False), arm(2.0))]))
    assert "1 pair(s) left out" in dropped


def test_the_ab_runs_half_as_long_as_a_scenario(monkeypatch):
    monkeypatch.setenv("BENCH_SECONDS", "10")
    monkeypatch.delenv("BENCH_EVENTS_SECONDS", raising=False)
    monkeypatch.delenv("BENCH_EVENTS_PAIRS", raising=False)
    monkeypatch.delenv("BENCH_EVENTS_TOGETHER", raising=False)
    cfg = Config.from_env()
    assert (cfg.events_pairs, cfg.events_seconds, cfg.events_together) == (3, 5, True)
    monkeypatch.setenv("BENCH_SECONDS", "3")
    assert Config.from_env().events_seconds == 5
    monkeypatch.setenv("BENCH_EVENTS_SECONDS", "12")
    monkeypatch.setenv("BENCH_EVENTS_PAIRS", "5")
    monkeypatch.setenv("BENCH_EVENTS_TOGETHER", "0")
    cfg = Config.from_env()
    assert (cfg.events_pairs, cfg.events_seconds, cfg.events_together) == (5, 12, False)


def test_each_arm_runs_against_its_server(monkeypatch):
    """Events on: our server; off: the twin; interleaved; the summary from what was measured."""
    monkeypatch.setattr("bench.report.run_meta", lambda cfg, started_at: {"checks": {}})
    monkeypatch.setattr(events, "warm", lambda count, send: Reply(200, [], b"{}"))
    calls: list[tuple[str, int, int]] = []

    def measure(run: Run, scenario: Any, port: int, pid: Any, *, seconds: int, **extra: Any) -> WrkResult:
        calls.append((scenario.name, port, seconds))
        cpu = {"server": 2.1 if port == 1 else 2.0, "postgresql": 0.4, "redis": 0}
        run.results.results[scenario.name] = {"cpu_ms_per_request": cpu}
        return WrkResult(requests=1000, duration_s=5.0)

    monkeypatch.setattr(events, "measure", measure)
    server = Server(port=1, env={}, issuer="https://127.0.0.1:1", password="p", client_secret="s")
    cfg = replace(Config(), events_pairs=2, events_seconds=5, events_together=False)
    run = Run(cfg, Processes(), server, None, Credentials(client_secret="s"), Results(cfg))
    twin = replace(server, port=2)
    events.run_pairs(run, {True: server, False: twin}, CC_FORM)
    assert calls == [
        ("cc_form#1", 1, 5),
        ("cc_form_noevents#1", 2, 5),
        ("cc_form_noevents#2", 2, 5),
        ("cc_form#2", 1, 5),
    ]
    summary = run.results.token_events["cc_form"]
    assert summary["cpu_server"]["per_pair"] == [0.05, 0.05]
    assert summary["time"]["median"] == 0.0


class FakeMeter:
    """bench.cpu.CpuMeter without /proc: the twin (pid 2) spends 2.0 ms a request, ours 2.2."""

    def __init__(self, pid: int, database: str | None) -> None:
        assert database is None  # PostgreSQL serves both arms at once: not told apart
        self.pid = pid

    def __enter__(self) -> FakeMeter:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def ms_per_request(self, requests: int) -> dict[str, float | None]:
        return {"server": 2.2 if self.pid == 1 else 2.0, "postgresql": 0.5, "redis": 0.1}


def test_together_both_arms_run_at_once(monkeypatch):
    """BENCH_EVENTS_TOGETHER=1: each pair's two wrk runs overlap, one on each server."""
    monkeypatch.setattr("bench.report.run_meta", lambda cfg, started_at: {"checks": {}})
    monkeypatch.setattr(events, "warm", lambda count, send: Reply(200, [], b"{}"))
    monkeypatch.setattr(events, "wait_quiet", lambda pid: None)
    monkeypatch.setattr(events, "machine_busy", lambda: 0.0)
    monkeypatch.setattr(events, "CpuMeter", FakeMeter)
    running: set[int] = set()
    overlapped: list[bool] = []
    barrier = threading.Barrier(2, timeout=5)

    def run_wrk(cfg: Config, processes: Any, port: int, scenario: Any, seconds: int) -> WrkResult:
        running.add(port)
        barrier.wait()  # fails unless the other arm runs at the same time
        overlapped.append(running == {1, 2})
        barrier.wait()
        running.discard(port)
        return WrkResult(requests=1000, duration_s=5.0)

    monkeypatch.setattr(events, "run_wrk", run_wrk)
    server = Server(port=1, env={}, issuer="https://127.0.0.1:1", password="p", client_secret="s")
    server.process = cast(Any, SimpleNamespace(pid=1))
    twin = replace(server, port=2, process=cast(Any, SimpleNamespace(pid=2)))
    cfg = replace(Config(), events_pairs=2, events_seconds=5, events_together=True)
    run = Run(cfg, Processes(), server, None, Credentials(client_secret="s"), Results(cfg))
    events.run_pairs(run, {True: server, False: twin}, CC_FORM)
    assert overlapped == [True] * 4
    assert set(run.results.results) == {"cc_form#1", "cc_form_noevents#1", "cc_form#2", "cc_form_noevents#2"}
    cpu = run.results.results["cc_form#1"]["cpu_ms_per_request"]
    assert cpu == {"server": 2.2, "postgresql": None, "redis": None}
    summary = run.results.token_events["cc_form"]
    assert summary["cpu_server"]["per_pair"] == [0.1, 0.1]
    assert summary["cpu_all"]["median"] is None
    assert summary["together"] is True
    printed = format_costs("cc_form", summary)
    assert "+10.0 % CPU/request" in printed
    assert "with PostgreSQL and Redis" not in printed  # not told apart: not shown


@pytest.mark.django_db
@pytest.mark.usefixtures("steady_rate_window")
def test_the_twin_records_no_token_event(confidential_client, timesheets_api):
    """bench/events_off.py takes every token event out, and what it returns puts them back."""
    client, secret = confidential_client
    client_grant_set(client=client, api=timesheets_api, scopes=["read:timesheets"])
    token_events.take()
    restore = switch_off()
    try:
        issued = client_credentials(client.client_id, secret, audience=TIMESHEETS_API)
        refused = client_credentials(client.client_id, "not-the-secret", audience=TIMESHEETS_API)
        assert (issued.status_code, refused.status_code) == (HTTPStatus.OK, HTTPStatus.UNAUTHORIZED)
        assert token_events.take() == []
        assert not AuditEntry.objects.filter(action__startswith="token.").exists()
    finally:
        restore()
    client_credentials(client.client_id, secret, audience=TIMESHEETS_API)  # settings.test flushes at once
    assert AuditEntry.objects.filter(action="token.issue.client_credentials").count() == 1
