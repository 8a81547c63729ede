"""What a bench run is set to: the environment's BENCH_* variables, paths, and fixed names.

The names (clients, people, audience) are those `manage.py seed_demo` creates; the peer's
client is the one its run.sh configures. bench/README.md lists the variables.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
RESULTS = ROOT / "bench-results"
LUA = ROOT / "bench" / "lua"
VENV_BIN = Path(sys.executable).parent

AUDIENCE = "https://timesheets.abcinc.example/api"
# A second API like the Timesheets one, signing with ES256 (bench/load_data.py registers it
# when the project offers ES256) and the batch client's grant on it.
ES256_AUDIENCE = "https://timesheets.abcinc.example/api-es256"
READ_SCOPE = "read:timesheets"
BATCH_CLIENT = "timesheets-batch"
MOBILE_CLIENT = "timesheets-mobile"
CALLBACK = "com.abcinc.timesheets://callback"
MOBILE_SCOPE = "openid profile offline_access read:timesheets"
API_USER = "alice@abcinc.example"
ADMIN_USER = "admin@abcinc.example"
DEMO_PEOPLE = 6  # seed_demo's people, besides the bulk users
PEER_CLIENT, PEER_SECRET = "bench", "benchsecret"  # the peer's fixed client (its README)
FORM = "application/x-www-form-urlencoded"
# Several worker processes write at once. SQLite's default (deferred) transactions fail with
# "database is locked" when two of them upgrade to writing; BEGIN IMMEDIATE and a busy
# timeout make writers queue instead. BENCH_SQLITE_OPTIONS="" runs SQLite's plain default.
SQLITE_OPTIONS = "transaction_mode=IMMEDIATE&timeout=20"
DEFAULT_PEER_DIR = ROOT.parent / "shared" / "bench" / "peer"


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def env_flag(name: str, *, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    return default if not value else value not in {"0", "false", "no", "off"}


@dataclass
class Config:
    seconds: int = 20
    connections: int = 16
    threads: int = 2
    workers: int = 3
    users: int = 10_000
    entries: int = 250
    clients: int = 10  # extra machine clients, each with a grant on the Timesheets API
    scale: bool = False  # BENCH_SCALE=1: a few scenarios small, then again at scale_* (bench/scale.py)
    scale_users: int = 1_000_000
    scale_clients: int = 10_000
    peer: bool = True
    peer_dir: Path = DEFAULT_PEER_DIR
    only: set[str] = field(default_factory=set)
    timeout_s: int = 10
    # The token events' A/B (bench/events.py): pairs of runs, each run this long.
    events_pairs: int = 3
    events_seconds: int = 10
    events_together: bool = True  # both arms of a pair at the same time (0: one after the other)
    events_aa: bool = False  # the twin keeps its events: an A/A run, the method's own bias and noise

    @classmethod
    def from_env(cls) -> Config:
        return cls(
            seconds=env_int("BENCH_SECONDS", 20),
            connections=env_int("BENCH_CONNECTIONS", 16),
            threads=env_int("BENCH_THREADS", 2),
            # As config/gunicorn.py: one more than the cores (measured best here).
            workers=env_int("BENCH_WORKERS", (os.cpu_count() or 2) + 1),
            users=env_int("BENCH_USERS", 10_000),
            entries=env_int("BENCH_ENTRIES", 250),
            clients=env_int("BENCH_CLIENTS", 10),
            scale=env_flag("BENCH_SCALE", default=False),
            scale_users=env_int("BENCH_SCALE_USERS", 1_000_000),
            scale_clients=env_int("BENCH_SCALE_CLIENTS", 10_000),
            peer=env_flag("BENCH_PEER", default=True),
            peer_dir=Path(os.environ.get("BENCH_PEER_DIR") or DEFAULT_PEER_DIR),
            only={name.strip() for name in os.environ.get("BENCH_ONLY", "").split(",") if name.strip()},
            events_pairs=env_int("BENCH_EVENTS_PAIRS", 3),
            # Half a scenario's length (at least 5 s): a pair is four runs (two scenarios, on and off).
            events_together=env_flag("BENCH_EVENTS_TOGETHER", default=True),
            events_aa=env_flag("BENCH_EVENTS_AA", default=False),
            events_seconds=env_int("BENCH_EVENTS_SECONDS", max(5, env_int("BENCH_SECONDS", 20) // 2)),
        )

    def wants(self, name: str) -> bool:
        return not self.only or name in self.only

    @property
    def parallel(self) -> int:
        """Client threads that mint credentials: enough to keep every worker busy."""
        return min(2 * self.workers, 16)
