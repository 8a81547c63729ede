"""BENCH_SCALE=1: is the cost of a token flat as the registry grows?

Runs cc_form, authcode_pkce and api_get (SCALE_NAMES) at the configured size (BENCH_CLIENTS,
BENCH_USERS), grows the same database to BENCH_SCALE_CLIENTS machine clients and
BENCH_SCALE_USERS people (bench/load_data.py, in the same run, on the same server), and runs
them again as <name>@large. The ratios <name>@large / <name> (SCALE_RATIOS) should be ≈ 1.0.
"""

from __future__ import annotations

from dataclasses import replace

from bench.console import log
from bench.drivers import Run, run_scenario, warm_up
from bench.scenarios import LARGE, SCALE_NAMES, SCENARIOS
from bench.server import load_data_command, run_setup_step


def run_scale(run: Run) -> None:
    cfg = run.cfg
    rows = [row for row in SCENARIOS if row.name in SCALE_NAMES and cfg.wants(row.name)]
    log(f"  small: {cfg.clients:,} extra clients, {cfg.users:,} bulk users")
    for row in rows:
        run_scenario(run, row)
    log(f"growing to {cfg.scale_clients:,} extra clients and {cfg.scale_users:,} bulk users")
    command = load_data_command(users=cfg.scale_users, clients=cfg.scale_clients, entries=0)
    run_setup_step(run.processes, run.server, run.results.meta, "grow", command)
    warm_up(cfg, run.processes, run.server)  # the workers' caches may have noticed nothing
    grown = f" (after growing to {cfg.scale_clients:,} clients, {cfg.scale_users:,} users)"
    for row in rows:
        run_scenario(run, replace(row, name=row.name + LARGE, what=row.what + grown))
