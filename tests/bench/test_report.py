"""What a run reports (bench/report.py): ratios of 2xx throughput, the printed table and ratios."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from bench.options import Config
from bench.report import Results, format_ratios, format_table, ok_rps, ratio
from bench.scenarios import RATIOS, SCALE_RATIOS, SCENARIOS, Scenario
from bench.wrk import WrkResult
from tests.bench.samples import WRK_WITH_JSON, bench_json, lua_result


def test_ratios():
    assert ratio(50, 200) == pytest.approx(0.25)
    assert ratio(None, 200) is None
    assert ratio(50, None) is None
    assert ratio(50, 0) is None


def test_ratios_compare_successful_responses():
    failing = lua_result(bench_json())  # 970 of 1000 answered 2xx in 10 s
    assert ok_rps(failing) == pytest.approx(97.0)
    assert ok_rps(None) is None
    assert ok_rps(WrkResult()) is None


CPU = {"server": 4.5, "postgresql": 1.25, "redis": 0.05}


def test_table():
    rows: list[dict[str, Any]] = [
        {"name": "discovery", "result": lua_result(WRK_WITH_JSON), "cpu": CPU},
        {"name": "dashboard_users", "result": lua_result(bench_json()), "note": "others busy 80%",
         "p99_over": True},
        {"name": "peer_cc_form", "skipped": "BENCH_PEER=0"},
    ]  # fmt: skip
    table = format_table(rows).splitlines()
    assert table[0].split()[:3] == ["scenario", "req/s", "p50"]
    assert table[0].split()[-7:] == ["cpu", "srv", "cpu", "pg", "cpu", "redis", "note"]
    assert set(table[1]) <= {"-", " "}
    assert table[2].split() == [
        "discovery",
        "1.6",
        "2,584.19",
        "2,975.40",
        "5",
        "0",
        "0",
        "4.50",
        "1.25",
        "0.05",
    ]
    assert table[3].split()[3] == "8.00!"  # over its p99 target
    assert table[3].split()[7:10] == ["-", "-", "-"]  # CPU not measured
    assert "status 302x20, 500x10" in table[3]
    assert "ran out of credentials x5" in table[3]
    assert "others busy 80%" in table[3]
    assert table[4].startswith("peer_cc_form") and table[4].endswith("skipped: BENCH_PEER=0")


def test_ratio_lines():
    ratios: dict[str, dict[str, Any]] = {
        "a / b": {"value": 0.25, "what": "a over b", "target": 0.5, "met": False},
        "c / d": {"value": None, "what": "x", "target": 0.15, "met": None},
        "e / f": {"value": 1.5, "what": "y", "target": None, "met": None},
        "g / h": {"value": 0.9, "what": "z", "target": 0.9, "met": True},
    }
    lines = format_ratios(ratios).splitlines()
    assert lines[0].split() == ["a", "/", "b", "0.250", ">=", "0.5", "NOT", "MET", "a", "over", "b"]
    assert lines[1].split() == ["c", "/", "d", "n/a", ">=", "0.15", "x"]
    assert lines[2].split() == ["e", "/", "f", "1.500", "y"]
    assert lines[3].split() == ["g", "/", "h", "0.900", ">=", "0.9", "met", "z"]


@pytest.fixture
def results(monkeypatch, tmp_path):
    monkeypatch.setattr("bench.report.run_meta", lambda cfg, started_at: {"config": {}, "checks": {}})
    monkeypatch.setattr("bench.report.RESULTS", tmp_path)
    return Results(Config())


def row(name: str) -> Scenario:
    return next(scenario for scenario in SCENARIOS if scenario.name == name)


def test_the_result_file(results):
    measured = lua_result(bench_json())  # 97 2xx/s, p99 8 ms
    results.record(row("cc_form"), measured, 40.0, CPU, minted_tokens=3)
    slow = lua_result(bench_json(latency_us={"mean": 1, "max": 1, "p50": 1, "p90": 1, "p99": 100_000}))
    results.record(row("dashboard_users"), slow, 0.0, CPU)
    results.record(row("peer_cc_form"), lua_result(bench_json(non2xx=0, statuses={})), 0.0, CPU)
    results.skip(row("jwks"), "a single request fails")
    document = json.loads(results.write().read_text())
    assert list(document) == ["config", "checks", "finished_at", "elapsed_seconds", "scenarios", "ratios"]
    cc_form = document["scenarios"]["cc_form"]
    assert cc_form["request"] == "POST /oauth/token"
    assert cc_form["target"] == "ours"
    assert cc_form["cpu_busy_before_pct"] == 40.0
    assert cc_form["minted_tokens"] == 3
    assert cc_form["result"]["ok"] == 970
    assert cc_form["cpu_ms_per_request"] == CPU
    assert (cc_form["p99_target_ms"], cc_form["p99_met"]) == (50.0, True)
    dashboard = document["scenarios"]["dashboard_users"]
    assert (dashboard["p99_target_ms"], dashboard["p99_met"]) == (100.0, False)  # 100 ms is not under 100
    assert "p99_met" not in document["scenarios"]["peer_cc_form"]
    assert document["scenarios"]["jwks"]["skipped"] == "a single request fails"
    assert list(document["ratios"]) == [ratio.name for ratio in RATIOS]
    assert document["ratios"]["cc_form / peer_cc_form"] == {
        "value": pytest.approx(0.97),
        "what": RATIOS[0].what,
        "target": 0.5,
        "met": True,
    }
    assert document["ratios"]["api_get / jwks"] == {"value": None, "what": RATIOS[-1].what, "target": None,
                                                    "met": None}  # fmt: skip
    assert results.rows[0]["note"] == "others busy 40% before"
    assert results.rows[1]["note"] == "p99 over the 100 ms target"
    assert results.rows[2]["note"] == ""


def test_the_scale_mode_has_its_own_ratios(monkeypatch, tmp_path):
    monkeypatch.setattr("bench.report.run_meta", lambda cfg, started_at: {"config": {}, "checks": {}})
    results = Results(Config(scale=True))
    small, large = lua_result(bench_json()), lua_result(bench_json(requests=900, non2xx=27))
    results.record(row("cc_form"), small, 0.0, CPU)
    results.record(replace(row("cc_form"), name="cc_form@large"), large, 0.0, CPU)
    ratios = results.ratios()
    assert list(ratios) == [ratio.name for ratio in SCALE_RATIOS]
    assert ratios["cc_form@large / cc_form"]["value"] == pytest.approx(0.9)
    assert ratios["cc_form@large / cc_form"]["met"] is True
    assert ratios["api_get@large / api_get"]["met"] is None
    assert "cc_form@large / cc_form" not in Results(Config()).ratios()
