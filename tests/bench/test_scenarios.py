"""The scenario and ratio tables (bench/scenarios.py) and how a run fills a row (bench/drivers.py)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest

from bench import drivers
from bench.credentials import Credentials
from bench.drivers import DRIVERS, Run, run_scenario
from bench.options import FORM, Config
from bench.processes import Processes
from bench.report import Results
from bench.scenarios import RATIOS, SCALE_NAMES, SCALE_RATIOS, SCENARIOS, Ratio, Scenario
from bench.server import Server

NAMES = [row.name for row in SCENARIOS]


def test_the_scenarios_in_the_order_they_run():
    assert NAMES == [
        "discovery",
        "jwks",
        "api_get",
        "api_get_noauth",  # its baseline: the same page without authentication
        "dashboard_users",
        "cc_form",
        "cc_json",
        "cc_form_es256",
        "refresh_rotation",
        "authcode_pkce",
        "peer_cc_form",  # last: the peer's first npm install has all our set-up to finish
    ]
    # authcode_pkce sizes its codes from refresh_rotation's rate, measured just before.
    assert NAMES.index("refresh_rotation") < NAMES.index("authcode_pkce")


def test_every_row_can_be_driven():
    for row in SCENARIOS:
        assert row.drive in DRIVERS, row.name
        assert row.method in {"GET", "POST"}, row.name
        assert row.path.startswith("/"), row.name
        assert row.script in {"static.lua", "refresh.lua", "once.lua"}, row.name
        assert not row.extra, f"{row.name}: spec entries are made by the run"
        assert set(row.run_with) <= set(NAMES), row.name


def test_ratios_compare_scenarios_of_the_table_against_the_issues_targets():
    targets = {ratio.name: ratio.target for ratio in RATIOS}
    assert targets == {
        "cc_form / peer_cc_form": 0.5,
        "cc_json / cc_form": 0.9,
        "refresh_rotation / peer_cc_form": 0.15,
        "authcode_pkce / peer_cc_form": 0.15,
        "api_get / api_get_noauth": 0.9,
        "cc_form_es256 / peer_cc_form": None,
        "api_get / discovery": None,
        "api_get / jwks": None,
    }
    for ratio in RATIOS:
        assert {ratio.numerator, ratio.denominator} <= set(NAMES)
        assert ratio.what


def test_a_ratio_is_met_at_its_target_and_above():
    ratio = Ratio("a", "b", "a over b", 0.5)
    assert ratio.met(0.5) is True
    assert ratio.met(0.73) is True
    assert ratio.met(0.4999) is False
    assert ratio.met(None) is None  # not measured: neither met nor missed
    assert Ratio("a", "b", "no target").met(2.0) is None


def test_the_scale_mode_compares_each_row_with_itself_grown():
    assert [ratio.name for ratio in SCALE_RATIOS] == [
        "cc_form@large / cc_form",
        "authcode_pkce@large / authcode_pkce",
        "api_get@large / api_get",
    ]
    assert all(ratio.target == 0.9 for ratio in SCALE_RATIOS)
    assert set(SCALE_NAMES) <= set(NAMES)


def test_latency_targets_and_signing_algorithms():
    rows = {row.name: row for row in SCENARIOS}
    limits = {name: row.p99_limit_ms for name, row in rows.items() if row.p99_limit_ms is not None}
    assert limits == {"dashboard_users": 100.0, "cc_form": 50.0, "cc_json": 50.0, "cc_form_es256": 50.0}
    assert {name: row.expect_alg for name, row in rows.items() if row.expect_alg} == {
        "cc_form": "RS256",
        "cc_json": "RS256",
        "cc_form_es256": "ES256",
    }


def test_the_unauthenticated_list_and_the_es256_api():
    rows = {row.name: row for row in SCENARIOS}
    noauth = rows["api_get_noauth"]
    assert (noauth.path, noauth.credential) == ("/bench/timesheets?person=alice%40abcinc.example", "")
    assert noauth.when_404 and noauth.same_body_as == "api_get"
    assert noauth.chosen(Config(only={"api_get"}))
    es256 = rows["cc_form_es256"]
    assert es256.requires == "es256"
    assert parse_qs(es256.body)["audience"] == ["https://timesheets.abcinc.example/api-es256"]
    assert parse_qs(es256.body)["grant_type"] == ["client_credentials"]


def test_token_requests_and_their_bodies():
    rows = {row.name: row for row in SCENARIOS}
    form, json_body = rows["cc_form"], rows["cc_json"]
    wanted = {"grant_type": "client_credentials", "audience": "https://timesheets.abcinc.example/api"}
    assert form.headers == {"Content-Type": FORM}
    assert {key: value for key, [value] in parse_qs(form.body).items()} == wanted
    assert json_body.headers == {"Content-Type": "application/json"}
    assert json.loads(json_body.body) == wanted
    assert form.credential == json_body.credential == "batch_basic"
    assert rows["api_get"].credential == "bearer"
    assert rows["dashboard_users"].credential == "admin_session"
    assert (rows["refresh_rotation"].drive, rows["refresh_rotation"].script) == ("refresh", "refresh.lua")
    assert (rows["authcode_pkce"].drive, rows["authcode_pkce"].script) == ("codes", "once.lua")
    peer = rows["peer_cc_form"]
    assert (peer.target, peer.drive, peer.path) == ("peer", "peer", "/token")
    assert peer.headers["Authorization"].startswith("Basic ")


def test_descriptions_follow_the_configuration():
    rows = {row.name: row for row in SCENARIOS}
    cfg = Config(users=10_000, entries=250)
    assert rows["api_get"].describe(cfg).endswith("(alice: 50 of 250 entries)")
    assert rows["dashboard_users"].describe(cfg) == "GET /dashboard/users/ as admin, 10,006 users"
    assert rows["discovery"].describe(cfg) == rows["discovery"].what


def test_bench_only_chooses_rows_and_the_peer_runs_with_cc_form():
    peer = next(row for row in SCENARIOS if row.name == "peer_cc_form")
    assert all(row.chosen(Config()) for row in SCENARIOS)
    assert peer.chosen(Config(only={"cc_form"}))
    assert peer.chosen(Config(only={"authcode_pkce"}))  # its ratio is to the peer's rate
    assert not peer.chosen(Config(only={"cc_json"}))  # its ratio is to cc_form, which it brings
    assert not peer.chosen(Config(only={"api_get"}))
    assert [row.name for row in SCENARIOS if row.chosen(Config(only={"cc_json"}))] == ["cc_form", "cc_json"]
    assert [row.name for row in SCENARIOS if row.chosen(Config(only={"jwks"}))] == ["jwks"]


def test_the_spec_wrk_reads():
    row = Scenario("x", "", "POST", "/t", {"A": "1"}, "a=1", extra={"tokens": ["t"]})
    assert row.spec(2) == {
        "method": "POST",
        "path": "/t",
        "headers": {"A": "1"},
        "threads": 2,
        "body": "a=1",
        "tokens": ["t"],
    }
    assert "body" not in Scenario("y", "", "GET", "/").spec(1)


@pytest.fixture
def driven(monkeypatch):
    """Run rows through run_scenario with drivers that only note what they were given."""
    seen: list[Scenario] = []
    noting = dict.fromkeys(DRIVERS, lambda run, scenario: seen.append(scenario))
    monkeypatch.setattr(drivers, "DRIVERS", noting)
    monkeypatch.setattr("bench.report.run_meta", lambda cfg, started_at: {"checks": {}})
    server = Server(port=1, env={}, issuer="https://127.0.0.1:1", password="p", client_secret="s")
    credentials = Credentials(client_secret="s", api_token="e.y.j")
    results = Results(Config())
    run = Run(Config(), Processes(), server, peer=None, credentials=credentials, results=results)
    return run, seen


def test_a_run_fills_in_headers_and_credentials(driven):
    run, seen = driven
    rows = {row.name: row for row in SCENARIOS}
    for name in ("api_get", "cc_form", "peer_cc_form"):
        run_scenario(run, rows[name])
    api_get, cc_form, peer = seen
    assert api_get.headers == {"X-Forwarded-Proto": "https", "Authorization": "Bearer e.y.j"}
    assert cc_form.headers == {
        "X-Forwarded-Proto": "https",
        "Content-Type": FORM,
        "Authorization": run.credentials.headers("batch_basic")["Authorization"],
    }
    # A token client is not a browser: no cookie, no Origin, no CSRF token.
    assert not {"Cookie", "Origin", "X-CSRFToken"} & set(cc_form.headers)
    assert peer.headers == rows["peer_cc_form"].headers  # the peer is not behind our proxy
    assert rows["cc_form"].headers == {"Content-Type": FORM}  # the table's row is left alone


def test_a_row_without_its_credential_is_skipped(driven):
    run, seen = driven
    run_scenario(run, next(row for row in SCENARIOS if row.name == "dashboard_users"))
    assert seen == []
    assert run.results.rows == [{"name": "dashboard_users", "skipped": "admin login failed"}]
    assert run.results.results["dashboard_users"] == {
        "target": "ours",
        "what": "GET /dashboard/users/ as admin, 10,006 users",
        "skipped": "admin login failed",
    }


def test_a_row_whose_feature_the_set_up_could_not_make_is_skipped_with_its_reason(driven):
    run, seen = driven
    es256 = next(row for row in SCENARIOS if row.name == "cc_form_es256")
    run.server.features = {"es256": "no ES256 signing in this project (Api.Algorithm has no ES256)"}
    run_scenario(run, es256)
    run.server.features = {}
    run_scenario(run, es256)
    assert seen == []
    assert [row["skipped"] for row in run.results.rows] == [
        "no ES256 signing in this project (Api.Algorithm has no ES256)",
        "es256: not set up",
    ]
    run.server.features = {"es256": "ok"}
    run_scenario(run, es256)
    assert [scenario.name for scenario in seen] == ["cc_form_es256"]
