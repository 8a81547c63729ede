"""How each kind of scenario row is measured (its `drive` column), and one measured wrk run.

static: the same request over and over, after a check that a single one succeeds; refresh:
rotation through a pool of refresh tokens; codes: single-use authorization codes minted
for the whole run; peer: the peer's token endpoint, once it serves.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from bench.client import fetch, warm
from bench.console import log
from bench.cpu import CpuMeter, machine_busy, wait_quiet
from bench.credentials import (
    Credentials,
    code_spec,
    codes_needed,
    exchange,
    extend_codes,
    mint_codes,
)
from bench.options import API_USER, MOBILE_CLIENT, Config
from bench.peer import Peer, peer_ready
from bench.processes import Processes
from bench.report import Results, ok_rps
from bench.scenarios import WARMUP, Scenario, SkipScenario
from bench.server import Server
from bench.wrk import WrkResult, run_wrk


@dataclass
class Run:
    """What every driver may need: the configuration, the servers, credentials, results."""

    cfg: Config
    processes: Processes
    server: Server
    peer: Peer | None
    credentials: Credentials
    results: Results
    bodies: dict[str, bytes] = field(default_factory=dict)  # a single request's answer, by scenario

    @property
    def pid(self) -> int | None:
        return self.server.process.pid if self.server.process else None


def warm_up(cfg: Config, processes: Processes, server: Server) -> None:
    """2 s of discovery: every worker imports, compiles templates and fills its caches."""
    run_wrk(cfg, processes, server.port, replace(WARMUP, headers=dict(server.base_headers)), 2)


def measure(
    run: Run, scenario: Scenario, port: int, pid: int | None, *, seconds: int | None = None, **extra: Any
) -> WrkResult:
    """One measured run (``seconds``: BENCH_SECONDS unless given), between quiet servers:
    requests left queued must not count twice."""
    wait_quiet(pid)
    busy = machine_busy()
    with CpuMeter(pid, run.server.database_name) as meter:
        result = run_wrk(run.cfg, run.processes, port, scenario, seconds or run.cfg.seconds)
    run.results.record(scenario, result, busy, meter.ms_per_request(result.requests), **extra)
    wait_quiet(pid)
    return result


def run_scenario(run: Run, row: Scenario) -> None:
    """A table row, filled in for this run and driven; a row that cannot run is skipped."""
    scenario = replace(row, what=row.describe(run.cfg))
    try:
        feature = run.server.features.get(scenario.requires, f"{scenario.requires}: not set up")
        if scenario.requires and feature != "ok":
            raise SkipScenario(feature)
        if scenario.target == "ours":
            headers = run.server.base_headers | dict(scenario.headers)
            scenario = replace(scenario, headers=headers | run.credentials.headers(scenario.credential))
        DRIVERS[scenario.drive](run, scenario)
    except RuntimeError as error:  # SkipScenario, a failed wrk or minting
        run.results.skip(scenario, str(error))


def drive_static(run: Run, scenario: Scenario) -> None:
    server = run.server
    reply = warm(
        2 * run.cfg.workers,
        lambda: server.request(scenario.method, scenario.path, dict(scenario.headers), scenario.body),
    )
    run.results.checks[scenario.name] = reply.status
    if reply.status == 404 and scenario.when_404:
        raise SkipScenario(scenario.when_404)
    if reply.status != 200:
        raise SkipScenario(f"a single request fails: {reply.snippet()}")
    if scenario.expect_alg:
        alg = token_alg(reply.json().get("access_token", ""))
        run.results.checks[f"{scenario.name} alg"] = alg
        if alg != scenario.expect_alg:
            raise SkipScenario(f"the access token is signed {alg or '(no JWT)'}, not {scenario.expect_alg}")
    run.bodies[scenario.name] = reply.body
    if scenario.same_body_as in run.bodies:
        same = same_page(reply.body, run.bodies[scenario.same_body_as])
        run.results.checks[f"{scenario.name} same page as {scenario.same_body_as}"] = same
        if not same:
            log(f"  note: {scenario.name} does not answer the same page as {scenario.same_body_as}")
    measure(run, scenario, server.port, run.pid)


def same_page(one: bytes, other: bytes) -> bool:
    """The same answer, pagination links aside: each names its own view's URL."""
    if one == other:
        return True
    try:
        first, second = json.loads(one), json.loads(other)
    except ValueError:
        return False
    if isinstance(first, dict) and isinstance(second, dict):
        first, second = (
            {k: v for k, v in page.items() if k not in {"next", "previous"}} for page in (first, second)
        )
    return bool(first == second)


def token_alg(token: str) -> str:
    """The ``alg`` of a JWT's header, or "" when ``token`` is no JWT."""
    head = token.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except ValueError:
        return ""
    return str(header.get("alg", "")) if isinstance(header, dict) else ""


def drive_refresh(run: Run, scenario: Scenario) -> None:
    tokens = run.credentials.refresh_tokens
    # Every connection of every thread needs a token to start with.
    if len(tokens) < run.cfg.connections + run.cfg.threads:
        raise SkipScenario("no refresh tokens (see checks in the result file)")
    extra = {
        "tokens": tokens,  # DOT's tokens are letters and digits: no escaping
        "prefix": "grant_type=refresh_token&refresh_token=",
        "suffix": "&" + urlencode({"client_id": MOBILE_CLIENT}),
    }
    measure(run, replace(scenario, extra=extra), run.server.port, run.pid, minted_tokens=len(tokens))


def drive_codes(run: Run, scenario: Scenario) -> None:
    """Codes are single-use: mint enough for the whole run through /authorize, then spend.

    1.5 times the expected rate for the run's length (bench/credentials.py: codes_needed).
    The table says so if the run ran out all the same.
    """
    cfg, server = run.cfg, run.server
    session = run.credentials.sessions.get(API_USER)
    if session is None:
        raise SkipScenario("alice's login failed")
    for code, verifier in mint_codes(server, session, 2 * cfg.workers, cfg.parallel):
        exchange(server, code, verifier)  # warm the exchange path in the workers
    estimate, basis = code_rate(run, scenario, session)
    needed = codes_needed(estimate, cfg.seconds, cfg.connections)
    started = time.monotonic()
    codes = mint_codes(server, session, needed, cfg.parallel)
    minted_in = time.monotonic() - started
    log(f"  authcode_pkce     minted {needed} codes in {minted_in:.0f} s (from {basis}, {estimate:.0f}/s)")
    # Codes live 60 s; minting this many can take longer than that before the run ends.
    extend_codes(run.processes, server, 600 + cfg.seconds)
    scenario = replace(scenario, extra=code_spec(codes, scenario.name))
    measure(run, scenario, server.port, run.pid, minted_codes=needed, minting_seconds=round(minted_in, 1))


def code_rate(run: Run, scenario: Scenario, session: str) -> tuple[float, str]:
    """The expected exchange rate and where it comes from: the refresh scenario's rate (a
    similar amount of work: new access, ID and refresh tokens) or a one-second calibration."""
    reference = run.results.measured.get("refresh_rotation")
    if reference is not None and reference.ok and not reference.starved:
        return ok_rps(reference) or 0.0, "refresh_rotation's rate"
    cfg, server = run.cfg, run.server
    probe_codes = mint_codes(server, session, codes_needed(200, 1, cfg.connections), cfg.parallel)
    extend_codes(run.processes, server, 600)
    probe = replace(scenario, extra=code_spec(probe_codes, "calibration"))
    wait_quiet(run.pid)
    calibration = run_wrk(cfg, run.processes, server.port, probe, 1, label="authcode_calibration")
    # A calibration that ran out of codes saw only part of the second: the rate is higher.
    return (ok_rps(calibration) or 0.0) * (2 if calibration.starved else 1), "a 1 s calibration run"


def drive_peer(run: Run, scenario: Scenario) -> None:
    meta, headers = run.results.meta, dict(scenario.headers)
    if run.peer is not None and peer_ready(run.peer, meta, headers, scenario.body):
        port, pid = run.peer.port, run.peer.process.pid
        warm(16, lambda: fetch(port, scenario.method, scenario.path, headers, scenario.body))
        measure(run, scenario, port, pid)
    else:
        run.results.skip(scenario, meta["peer"].removeprefix("skipped: "))
    log(f"  peer: {meta['peer']}")


DRIVERS: dict[str, Callable[[Run, Scenario], None]] = {
    "static": drive_static,
    "refresh": drive_refresh,
    "codes": drive_codes,
    "peer": drive_peer,
}
