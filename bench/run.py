"""`make bench`: load-test the server as production runs it, next to a certified peer.

    python -m bench.run        (what `make bench` runs, from the repository's root)

Starts gunicorn (config.wsgi, production settings) on 127.0.0.1, loads the demo data plus
10,000 users, drives each scenario of bench/scenarios.py with wrk at fixed concurrency for
a fixed time, runs the peer (panva oidc-provider, ../shared/bench/peer) the same way,
prints a table and ratios, writes bench-results/result-<timestamp>.json, and stops every
process it started, also on failure or Ctrl-C. bench/README.md explains the scenarios, the
environment variables (bench/options.py) and how to read the numbers.
"""

from __future__ import annotations

import os
import shutil
import signal

from bench.console import log
from bench.credentials import credentials_prepare
from bench.database import database_choice
from bench.drivers import Run, run_scenario, warm_up
from bench.events import run_events
from bench.events_cost import EVENTS
from bench.options import ROOT, VAR, Config
from bench.peer import start_peer
from bench.processes import Processes, raise_on_signal
from bench.report import Results
from bench.scale import run_scale
from bench.scenarios import SCENARIOS
from bench.server import cache_choice, plain_client_gets_token, prepare_server


def main() -> int:
    cfg = Config.from_env()
    processes = Processes()
    # SIGINT too: a shell starts background jobs with it ignored, and Python keeps that.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, raise_on_signal)
    try:
        return run(cfg, processes)
    except KeyboardInterrupt:
        log("bench: interrupted; stopping what it started")
        return 130
    finally:
        processes.stop_all()


def run(cfg: Config, processes: Processes) -> int:
    if shutil.which("wrk") is None:
        log("bench: wrk is missing (Debian: apt-get install wrk; `make bench` does it when it can).")
        return 2
    clear_previous_run()
    results = Results(cfg)
    announce(cfg, results)
    if cfg.scale:
        results.meta["peer"], peer = "not run: BENCH_SCALE=1 compares our own runs", None
    else:
        peer = start_peer(cfg, processes, results.meta)  # its npm install (first run) overlaps our set-up
    log("set-up")
    server = prepare_server(cfg, processes, results.meta)
    warm_up(cfg, processes, server)
    results.checks["plain_client_gets_token"] = plain_client_gets_token(server)
    credentials = credentials_prepare(cfg, server, results.checks)
    log("scenarios")
    context = Run(cfg, processes, server, peer, credentials, results)
    if cfg.scale:
        run_scale(context)
    else:
        for row in SCENARIOS:
            if row.chosen(cfg):
                run_scenario(context, row)
        if cfg.wants(EVENTS) and cfg.events_pairs > 0:
            run_events(context)
    results.print_summary(results.write())
    return 0


def clear_previous_run() -> None:
    """The last run's logs, wrk output and spec files (they hold that run's secrets)."""
    VAR.mkdir(parents=True, exist_ok=True)
    for pattern in ("spec-*.lua", "wrk-*.txt", "codes-*.txt", "*.log"):
        for stale in VAR.glob(pattern):
            stale.unlink()


def announce(cfg: Config, results: Results) -> None:
    log(
        f"bench: {cfg.seconds} s per scenario; wrk {cfg.threads} threads, {cfg.connections} connections; "
        f"gunicorn {cfg.workers} sync workers; logs in {VAR.relative_to(ROOT)}/"
    )
    log(f"bench: database {database_choice()}")
    log(f"bench: cache {cache_choice()}")
    log(f"bench: {cfg.users:,} bulk users, {cfg.clients:,} extra machine clients")
    if cfg.scale:
        log(f"bench: BENCH_SCALE=1: then again at {cfg.scale_users:,} users, {cfg.scale_clients:,} clients")
    load = results.meta["machine"]["loadavg_before"][0]
    if load > 0.5 * (os.cpu_count() or 1):
        log(f"note: the machine is busy already (load average {load}); the numbers will be low")


if __name__ == "__main__":
    raise SystemExit(main())
