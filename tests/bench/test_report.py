"""What a run reports (bench/report.py): ratios of 2xx throughput, the printed table and ratios."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bench.options import Config
from bench.report import Results, format_ratios, format_table, ok_rps, ratio
from bench.scenarios import RATIOS, SCENARIOS, Scenario
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


def test_table():
    rows: list[dict[str, Any]] = [
        {"name": "discovery", "result": lua_result(WRK_WITH_JSON)},
        {"name": "dashboard_users", "result": lua_result(bench_json()), "note": "others busy 80%"},
        {"name": "peer_cc_form", "skipped": "BENCH_PEER=0"},
    ]
    table = format_table(rows).splitlines()
    assert table[0].split()[:3] == ["scenario", "req/s", "p50"]
    assert set(table[1]) <= {"-", " "}
    assert table[2].split()[:2] == ["discovery", "1.6"]
    assert "status 302x20, 500x10" in table[3]
    assert "ran out of credentials x5" in table[3]
    assert "others busy 80%" in table[3]
    assert table[4].startswith("peer_cc_form") and table[4].endswith("skipped: BENCH_PEER=0")


def test_ratio_lines():
    ratios: dict[str, dict[str, Any]] = {
        "a / b": {"value": 0.25, "what": "a over b"},
        "c / d": {"value": None, "what": "x"},
    }
    text = format_ratios(ratios)
    assert "0.250" in text and "a over b" in text
    assert "n/a" in text.splitlines()[1]


@pytest.fixture
def results(monkeypatch, tmp_path):
    monkeypatch.setattr("bench.report.run_meta", lambda cfg, started_at: {"config": {}, "checks": {}})
    monkeypatch.setattr("bench.report.RESULTS", tmp_path)
    return Results(Config())


def row(name: str) -> Scenario:
    return next(scenario for scenario in SCENARIOS if scenario.name == name)


def test_the_result_file(results):
    measured = lua_result(bench_json())  # 97 2xx/s
    results.record(row("cc_form"), measured, 40.0, minted_tokens=3)
    results.record(row("peer_cc_form"), lua_result(bench_json(non2xx=0, statuses={})), 0.0)
    results.skip(row("jwks"), "a single request fails")
    document = json.loads(results.write().read_text())
    assert list(document) == ["config", "checks", "finished_at", "elapsed_seconds", "scenarios", "ratios"]
    cc_form = document["scenarios"]["cc_form"]
    assert cc_form["request"] == "POST /oauth/token"
    assert cc_form["target"] == "ours"
    assert cc_form["cpu_busy_before_pct"] == 40.0
    assert cc_form["minted_tokens"] == 3
    assert cc_form["result"]["ok"] == 970
    assert document["scenarios"]["jwks"]["skipped"] == "a single request fails"
    assert list(document["ratios"]) == [ratio.name for ratio in RATIOS]
    assert document["ratios"]["cc_form / peer_cc_form"]["value"] == pytest.approx(0.97)
    assert document["ratios"]["api_get / jwks"]["value"] is None
    assert results.rows[0]["note"] == "others busy 40% before"
    assert results.rows[1]["note"] == ""
