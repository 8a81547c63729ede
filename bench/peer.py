"""The certified peer (panva oidc-provider, ../shared/bench/peer): start it, wait until it serves."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

from bench.client import fetch, free_port
from bench.options import VAR, Config
from bench.processes import Processes, tail, wait_for


@dataclass
class Peer:
    port: int
    process: subprocess.Popen


def start_peer(cfg: Config, processes: Processes, meta: dict[str, Any]) -> Peer | None:
    """Start it early: its first npm install overlaps our set-up. None when it cannot run."""
    run_sh = cfg.peer_dir / "run.sh"
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if not cfg.peer or missing or not run_sh.exists():
        reason = "BENCH_PEER=0" if not cfg.peer else f"missing {', '.join(missing) or run_sh}"
        meta["peer"] = f"skipped: {reason}"
        return None
    port = free_port()
    # Its npm dependencies go under var/bench (untracked), never into a repository.
    env = os.environ | {
        "PORT": str(port),
        "ALG": "RS256",
        "FORMAT": "jwt",
        "PEER_CACHE": str(VAR / "peer-cache"),
    }
    return Peer(port, processes.start("peer", ["bash", str(run_sh)], log_path=VAR / "peer.log", env=env))


def peer_ready(peer: Peer | None, meta: dict[str, Any], headers: dict[str, str], body: str) -> bool:
    """Whether the peer issues a JWT for this request; ``meta["peer"]`` says what ran, or why not."""
    if peer is None:
        return False

    def token_ok() -> bool:
        reply = fetch(peer.port, "POST", "/token", headers, body)
        return reply.status == 200 and reply.json().get("access_token", "").count(".") == 2

    # The first run installs oidc-provider with npm; later runs reuse var/bench/peer-cache.
    if wait_for(token_ok, timeout=240, process=peer.process):
        node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False)  # noqa: S607
        meta["peer"] = f"panva oidc-provider 9.13.3 on node {node.stdout.strip()}, RS256 JWT, one process"
        return True
    meta["peer"] = "skipped: did not start: " + tail(VAR / "peer.log", 3).replace("\n", " | ")
    return False
