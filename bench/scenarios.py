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
from urllib.parse import quote, urlencode

from bench.client import basic
from bench.options import (
    API_USER,
    AUDIENCE,
    DEMO_PEOPLE,
    ES256_AUDIENCE,
    FORM,
    PEER_CLIENT,
    PEER_SECRET,
    Config,
)

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
    p99_limit_ms: float | None = None  # the latency target: the table flags a p99 at or over it
    requires: str = ""  # a feature the set-up must report (bench/load_data.py: "bench feature:")
    when_404: str = ""  # a single request answering 404 skips the row with this reason
    expect_alg: str = ""  # the "alg" its access token must be signed with
    same_body_as: str = ""  # the scenario whose response body this one must repeat byte for byte

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
    """Two scenarios' 2xx responses per second, one over the other; met when ≥ ``target``."""

    numerator: str
    denominator: str
    what: str
    target: float | None = None  # None: shown for reference, no target

    @property
    def name(self) -> str:
        return f"{self.numerator} / {self.denominator}"

    def met(self, value: float | None) -> bool | None:
        """Whether ``value`` reaches the target; None without a target or a value."""
        if self.target is None or value is None:
            return None
        return value >= self.target


_CC = {"grant_type": "client_credentials", "audience": AUDIENCE}
_CC_ES256 = _CC | {"audience": ES256_AUDIENCE}
# The p99 targets at 16 connections.
TOKEN_P99_MS, DASHBOARD_P99_MS = 50.0, 100.0

# In the order they run: authcode_pkce sizes its codes from refresh_rotation's rate, and the
# peer comes last so that its npm install (first run) has had all our set-up to finish.
SCENARIOS: tuple[Scenario, ...] = (
    Scenario("discovery", "GET /.well-known/openid-configuration: no auth, no database (baseline)",
             "GET", "/.well-known/openid-configuration"),
    Scenario("jwks", "GET /.well-known/jwks.json: no auth, reads the signing-key table",
             "GET", "/.well-known/jwks.json"),
    Scenario("api_get", "GET /api/timesheets, Bearer RS256 JWT (alice: 50 of {entries} entries)",
             "GET", "/api/timesheets", credential="bearer"),
    Scenario("api_get_noauth", "GET /bench/timesheets?person=alice: the same page without authentication",
             "GET", "/bench/timesheets?person=" + quote(API_USER), run_with=("api_get",),
             when_404="no baseline view here (GET /bench/timesheets answers 404 with BENCH_BASELINE_VIEWS=1)",
             same_body_as="api_get"),
    Scenario("dashboard_users", "GET /dashboard/users/ as admin, {people:,} users",
             "GET", "/dashboard/users/", credential="admin_session", p99_limit_ms=DASHBOARD_P99_MS),
    Scenario("cc_form", "client_credentials, form body, Basic (timesheets-batch)",
             "POST", "/oauth/token", {"Content-Type": FORM}, urlencode(_CC), credential="batch_basic",
             run_with=("cc_json",), p99_limit_ms=TOKEN_P99_MS, expect_alg="RS256"),
    Scenario("cc_json", "client_credentials, JSON body, Basic (timesheets-batch)",
             "POST", "/oauth/token", {"Content-Type": "application/json"}, json.dumps(_CC),
             credential="batch_basic", p99_limit_ms=TOKEN_P99_MS, expect_alg="RS256"),
    Scenario("cc_form_es256", "client_credentials, form body, Basic, for an API signing with ES256",
             "POST", "/oauth/token", {"Content-Type": FORM}, urlencode(_CC_ES256), credential="batch_basic",
             p99_limit_ms=TOKEN_P99_MS, requires="es256", expect_alg="ES256"),
    Scenario("refresh_rotation", "refresh_token grant with rotation, each token used once",
             "POST", "/oauth/token", {"Content-Type": FORM}, script="refresh.lua", drive="refresh"),
    Scenario("authcode_pkce", "authorization_code + PKCE exchange, codes minted before the run",
             "POST", "/oauth/token", {"Content-Type": FORM}, script="once.lua", drive="codes"),
    Scenario("peer_cc_form", "the peer: client_credentials, form body, Basic, RS256 JWT",
             "POST", "/token", {"Authorization": basic(PEER_CLIENT, PEER_SECRET), "Content-Type": FORM},
             "grant_type=client_credentials&scope=read", target="peer", drive="peer",
             run_with=("cc_form", "cc_form_es256", "refresh_rotation", "authcode_pkce")),
)  # fmt: skip

# The targets first; the rows without a target are for reference.
RATIOS: tuple[Ratio, ...] = (
    Ratio("cc_form", "peer_cc_form", "our client_credentials issuance / the peer's (RS256 both)", 0.5),
    Ratio("cc_json", "cc_form", "JSON body / form body: equal (0.9 allows for the run's noise)", 0.9),
    Ratio("refresh_rotation", "peer_cc_form", "refresh with rotation / the peer's client_credentials", 0.15),
    Ratio("authcode_pkce", "peer_cc_form", "code + PKCE exchange / the peer's client_credentials", 0.15),
    Ratio("api_get", "api_get_noauth", "the authenticated list / the same list unauthenticated", 0.9),
    Ratio("cc_form_es256", "peer_cc_form", "client_credentials signed ES256 / the peer's RS256"),
    Ratio("api_get", "discovery", "authenticated list / discovery (no auth, no DB)"),
    Ratio("api_get", "jwks", "authenticated list / jwks.json (no auth, reads the key table)"),
)

# Before anything counts, every worker imports, compiles templates and fills its caches.
WARMUP = Scenario("warmup", "", "GET", "/.well-known/openid-configuration")

# BENCH_SCALE=1 (bench/scale.py): these rows at the small size, then again, named <row>@large,
# after growing the registry; the cost of a token must stay flat (≈ 1.0; 0.9 allows for noise).
SCALE_NAMES = ("cc_form", "authcode_pkce", "api_get")
LARGE = "@large"
SCALE_RATIOS: tuple[Ratio, ...] = tuple(
    Ratio(name + LARGE, name, "after growing (BENCH_SCALE_CLIENTS, _USERS) / before: flat", 0.9)
    for name in SCALE_NAMES
)
