"""The scenarios of a run and the ratios between them, as tables: one row each.

A row says what is requested, which credential the run adds, which Lua script wrk runs and
how the harness drives it (bench/drivers.py). Rows are constants; a run fills in a copy with
the headers and spec entries it made (`dataclasses.replace`). bench/README.md explains each.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode

from bench.client import basic
from bench.options import AUDIENCE, DEMO_PEOPLE, FORM, PEER_CLIENT, PEER_SECRET, Config

# What the run adds to a row's headers (bench/credentials.py: Credentials.headers).
Credential = Literal["", "batch_basic", "bearer", "admin_session"]
# How a row is measured (bench/drivers.py: DRIVERS).
Drive = Literal["static", "refresh", "codes", "peer"]


class SkipScenario(RuntimeError):
    """A scenario that cannot run this time; the reason goes into the table and the result file."""


@dataclass(frozen=True)
class Scenario:
    name: str
    what: str  # for the result file; {entries} and {people} are filled in from the config
    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str = ""
    script: str = "static.lua"  # under bench/lua/
    target: Literal["ours", "peer"] = "ours"
    credential: Credential = ""
    drive: Drive = "static"
    # Also run when one of these is chosen with BENCH_ONLY: this row is their baseline.
    run_with: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)  # spec entries made by the run

    def describe(self, cfg: Config) -> str:
        return self.what.format(entries=cfg.entries, people=cfg.users + DEMO_PEOPLE)

    def chosen(self, cfg: Config) -> bool:
        return cfg.wants(self.name) or any(cfg.wants(name) for name in self.run_with)

    def spec(self, threads: int) -> dict[str, Any]:
        """What the Lua script reads (bench/lua/common.lua: load_spec)."""
        spec = {"method": self.method, "path": self.path, "headers": dict(self.headers), "threads": threads}
        return spec | ({"body": self.body} if self.body else {}) | dict(self.extra)


@dataclass(frozen=True)
class Ratio:
    """Two scenarios' 2xx responses per second, one over the other."""

    numerator: str
    denominator: str
    what: str

    @property
    def name(self) -> str:
        return f"{self.numerator} / {self.denominator}"


_CC = {"grant_type": "client_credentials", "audience": AUDIENCE}

# In the order they run: authcode_pkce sizes its codes from refresh_rotation's rate, and the
# peer comes last so that its npm install (first run) has had all our set-up to finish.
SCENARIOS: tuple[Scenario, ...] = (
    Scenario("discovery", "GET /.well-known/openid-configuration: no auth, no database (baseline)",
             "GET", "/.well-known/openid-configuration"),
    Scenario("jwks", "GET /.well-known/jwks.json: no auth, reads the signing-key table",
             "GET", "/.well-known/jwks.json"),
    Scenario("api_get", "GET /api/timesheets, Bearer RS256 JWT (alice: 50 of {entries} entries)",
             "GET", "/api/timesheets", credential="bearer"),
    Scenario("dashboard_users", "GET /dashboard/users/ as admin, {people:,} users",
             "GET", "/dashboard/users/", credential="admin_session"),
    Scenario("cc_form", "client_credentials, form body, Basic (timesheets-batch)",
             "POST", "/oauth/token", {"Content-Type": FORM}, urlencode(_CC), credential="batch_basic"),
    Scenario("cc_json", "client_credentials, JSON body, Basic (timesheets-batch)",
             "POST", "/oauth/token", {"Content-Type": "application/json"}, json.dumps(_CC),
             credential="batch_basic"),
    Scenario("refresh_rotation", "refresh_token grant with rotation, each token used once",
             "POST", "/oauth/token", {"Content-Type": FORM}, script="refresh.lua", drive="refresh"),
    Scenario("authcode_pkce", "authorization_code + PKCE exchange, codes minted before the run",
             "POST", "/oauth/token", {"Content-Type": FORM}, script="once.lua", drive="codes"),
    Scenario("peer_cc_form", "the peer: client_credentials, form body, Basic, RS256 JWT",
             "POST", "/token", {"Authorization": basic(PEER_CLIENT, PEER_SECRET), "Content-Type": FORM},
             "grant_type=client_credentials&scope=read", target="peer", drive="peer", run_with=("cc_form",)),
)  # fmt: skip

RATIOS: tuple[Ratio, ...] = (
    Ratio("cc_form", "peer_cc_form", "our client_credentials issuance / the peer's"),
    Ratio("cc_json", "peer_cc_form", "the same with our JSON body"),
    Ratio("api_get", "discovery", "authenticated GET / unauthenticated baseline (no DB)"),
    Ratio("api_get", "jwks", "authenticated GET / GET jwks.json (no auth, DB)"),
)

# Before anything counts, every worker imports, compiles templates and fills its caches.
WARMUP = Scenario("warmup", "", "GET", "/.well-known/openid-configuration")
