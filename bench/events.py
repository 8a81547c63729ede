"""The token events' A/B (``BENCH_ONLY=events``): what recording them costs the token endpoint.

Two more gunicorns, twins of ours (same environment, database, cache, workers) started
together for the A/B only, so that both have the same history: one serves production's
application (events on), the other bench/events_off.py's, whose token endpoint records no
event. Each scenario of PAIRED runs in pairs, one run against each twin, both at the same
time (the default: the machine's other load weighs on both alike) or, with
BENCH_EVENTS_TOGETHER=0, one after the other with the order alternating
(bench/events_cost.py: arm_order); each run is BENCH_EVENTS_SECONDS long. The cost per pair
and its median are in bench/events_cost.py.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from bench.client import free_port, warm
from bench.console import log
from bench.cpu import CpuMeter, machine_busy, wait_quiet
from bench.credentials import code_spec, codes_needed, exchange, extend_codes, mint_codes
from bench.drivers import Run, code_rate, measure, warm_up
from bench.events_cost import NOEVENTS, PAIRED, Arm, arm_name, arm_order, summarise
from bench.options import API_USER
from bench.report import ok_rps
from bench.scenarios import SCENARIOS, Scenario, SkipScenario
from bench.server import Server, start_gunicorn
from bench.wrk import WrkResult, run_wrk

ON_APP = "config.wsgi"
OFF_APP = "bench.events_off:wsgi()"  # gunicorn's application factory syntax


def run_events(run: Run) -> None:
    """Every PAIRED scenario with events on and off; a pair that cannot run is skipped."""
    rows = [row for row in SCENARIOS if row.name in PAIRED]
    cfg = run.cfg
    log(f"token events: {cfg.events_pairs} pairs of {cfg.events_seconds} s runs, with and without events")
    # BENCH_EVENTS_AA=1: the "off" twin keeps its events, an A/A run (the method's own bias).
    off_app, off_what = (OFF_APP, "events off")
    if cfg.events_aa:
        off_app, off_what = ON_APP, "events ON (BENCH_EVENTS_AA=1)"
    try:
        servers = {
            True: start_twin(run, ON_APP, "gunicorn-events-on", "events on"),
            False: start_twin(run, off_app, "gunicorn-events-off", off_what),
        }
    except SystemExit as error:  # start_gunicorn's way of saying it did not start
        for row in rows:
            run.results.skip(replace(row, name=row.name + NOEVENTS), f"no twin server: {error}")
        return
    for row in rows:
        try:
            run_pairs(run, servers, row)
        except RuntimeError as error:  # SkipScenario, a failed wrk or minting
            run.results.skip(replace(row, name=row.name + NOEVENTS), str(error))


def start_twin(run: Run, app: str, name: str, what: str) -> Server:
    """A twin of our server serving ``app`` on a port of its own, warmed like ours."""
    twin = replace(run.server, port=free_port(), process=None)
    start_gunicorn(run.cfg, run.processes, twin, app=app, name=name)
    warm_up(run.cfg, run.processes, twin)
    log(f"  {name:<19} 127.0.0.1:{twin.port}: {app}, {what}")
    return twin


def run_pairs(run: Run, servers: Mapping[bool, Server], row: Scenario) -> None:
    """Every pair of runs of ``row``, one on each server (``servers[events on]``): one after
    the other, the order alternating (arm_order), or both at once (BENCH_EVENTS_TOGETHER)."""
    cfg = run.cfg
    headers = run.server.base_headers | dict(row.headers) | run.credentials.headers(row.credential)
    scenario = replace(row, what=row.describe(cfg), headers=headers)
    spend = CodeSpender(run, servers, scenario) if row.drive == "codes" else None
    if spend is None:
        for target in servers.values():
            check_static(run, target, scenario)
    arms: dict[tuple[int, bool], Arm] = {}
    if cfg.events_together:
        for pair in range(1, cfg.events_pairs + 1):
            ready = {on: arm_ready(scenario, pair, on, servers[on], spend) for on in (True, False)}
            measured = measure_together(run, {on: (*ready[on], servers[on]) for on in ready})
            for on, (result, cpu) in measured.items():
                arms[(pair, on)] = arm_of(result, cpu, spend)
    else:
        for pair, on in arm_order(cfg.events_pairs):
            target = servers[on]
            named, extra = arm_ready(scenario, pair, on, target, spend)
            pid = target.process.pid if target.process else None
            result = measure(run, named, target.port, pid, seconds=cfg.events_seconds, **extra)
            arms[(pair, on)] = arm_of(result, run.results.results[named.name]["cpu_ms_per_request"], spend)
    pairs = [(arms[(pair, True)], arms[(pair, False)]) for pair in range(1, cfg.events_pairs + 1)]
    how = {"together": cfg.events_together, "seconds": cfg.events_seconds, "aa_control": cfg.events_aa}
    run.results.token_events[row.name] = summarise(pairs) | how


def arm_ready(
    scenario: Scenario, pair: int, events_on: bool, target: Server, spend: CodeSpender | None
) -> tuple[Scenario, dict[str, int]]:
    """One arm's run: its name, and its own codes (minted on ``target``) when it spends codes."""
    named = replace(scenario, name=arm_name(scenario.name, pair, events_on))
    if not events_on:
        named = replace(named, what=named.what + "; token events off (bench/events_off.py)")
    return spend.ready(named, target) if spend else (named, {})


def arm_of(result: WrkResult, cpu: Mapping[str, float | None], spend: CodeSpender | None) -> Arm:
    if spend:
        spend.after(result)
    return Arm.of(cpu, ok_rps(result), clean=result.non2xx == 0 and not result.starved)


def measure_together(
    run: Run, arms: Mapping[bool, tuple[Scenario, dict[str, int], Server]]
) -> dict[bool, tuple[WrkResult, dict[str, float | None]]]:
    """Both arms at the same time, each server under its own wrk: whatever else the machine
    does weighs on both alike. Only the server's CPU is told apart (PostgreSQL and Redis
    serve both at once)."""
    pids = {on: target.process.pid if target.process else None for on, (_, _, target) in arms.items()}
    for pid in pids.values():
        wait_quiet(pid)
    busy = machine_busy()

    def one(on: bool) -> tuple[WrkResult, dict[str, float | None]]:
        scenario, _, target = arms[on]
        with CpuMeter(pids[on], None) as meter:
            result = run_wrk(run.cfg, run.processes, target.port, scenario, run.cfg.events_seconds)
        cpu = meter.ms_per_request(result.requests)
        return result, {"server": cpu["server"], "postgresql": None, "redis": None}

    with ThreadPoolExecutor(max_workers=2) as pool:
        measured = dict(zip(arms, pool.map(one, arms), strict=True))
    for on, (result, cpu) in measured.items():
        scenario, extra, _ = arms[on]
        run.results.record(scenario, result, busy, cpu, together=True, **extra)
    for pid in pids.values():
        wait_quiet(pid)
    return measured


def check_static(run: Run, target: Server, scenario: Scenario) -> None:
    """A single request of the scenario succeeds on this server (each worker warmed)."""
    reply = warm(
        2 * run.cfg.workers,
        lambda: target.request(scenario.method, scenario.path, dict(scenario.headers), scenario.body),
    )
    if reply.status != 200:
        raise SkipScenario(f"a single request to 127.0.0.1:{target.port} fails: {reply.snippet()}")


class CodeSpender:
    """Single-use codes for each run, minted just before it (alice's session, shared by the
    servers) on the server that will exchange them: both twins do the same work between runs."""

    def __init__(self, run: Run, servers: Mapping[bool, Server], scenario: Scenario) -> None:
        self.run = run
        session = run.credentials.sessions.get(API_USER)
        if session is None:
            raise SkipScenario("alice's login failed")
        self.session = session
        for target in servers.values():  # warm /authorize and the exchange in every worker of both
            for code, verifier in mint_codes(target, session, 2 * run.cfg.workers, run.cfg.parallel):
                exchange(target, code, verifier)
        measured = run.results.measured.get(scenario.name)
        if measured is not None and measured.ok and not measured.starved:
            self.rate = ok_rps(measured) or 0.0
        else:
            # A one-second calibration is a rough guess: twice it, so the first run has room.
            self.rate = 2 * code_rate(run, scenario, session)[0]

    def ready(self, scenario: Scenario, target: Server) -> tuple[Scenario, dict[str, int]]:
        """The scenario with fresh codes for one run on ``target``, and how many were minted."""
        cfg = self.run.cfg
        needed = codes_needed(self.rate, cfg.events_seconds, cfg.connections)
        started = time.monotonic()
        codes = mint_codes(target, self.session, needed, cfg.parallel)
        log(f"  {scenario.name:<17} minted {needed} codes in {time.monotonic() - started:.0f} s")
        extend_codes(self.run.processes, self.run.server, 600 + cfg.events_seconds)
        spec = code_spec(codes, scenario.name.replace("#", "-"))
        return replace(scenario, extra=spec), {"minted_codes": needed}

    def after(self, result: WrkResult) -> None:
        """The next run is sized from the fastest rate seen so far."""
        self.rate = max(self.rate, ok_rps(result) or 0.0)
