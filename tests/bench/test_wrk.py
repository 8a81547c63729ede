"""Reading wrk's output (bench/wrk.py): our Lua's JSON line first, wrk's own text otherwise."""

from __future__ import annotations

import json

import pytest

from bench.wrk import duration_to_us, parse_bench_json, parse_wrk, parse_wrk_text
from tests.bench.samples import WRK_TEXT_WITH_ERRORS, WRK_WITH_JSON, bench_json, lua_result


@pytest.mark.parametrize(
    ("text", "microseconds"),
    [("812.00us", 812), ("3.21ms", 3210), ("1.50s", 1_500_000), ("2.00m", 120_000_000), (" 7ms ", 7000)],
)
def test_wrk_durations(text, microseconds):
    assert duration_to_us(text) == pytest.approx(microseconds)


@pytest.mark.parametrize("text", ["", "12", "3 hours", "ms"])
def test_not_a_duration(text):
    with pytest.raises(ValueError, match="not a wrk duration"):
        duration_to_us(text)


def test_the_lua_line_is_read_exactly():
    result = parse_bench_json(WRK_WITH_JSON)
    assert result is not None
    assert result.source == "lua"
    assert result.requests == 5
    assert result.duration_s == pytest.approx(3.031479)
    assert result.rps == pytest.approx(5 / 3.031479)
    assert result.p50_ms == pytest.approx(2584.189)
    assert result.p99_ms == pytest.approx(2975.398)
    assert result.non2xx == 0
    assert result.socket_error_count == 0


def test_non_2xx_socket_errors_and_starvation_from_the_lua_line():
    result = lua_result(bench_json())
    assert result.non2xx == 30  # 3xx included: wrk's own count would say 10
    assert result.statuses == {"302": 20, "500": 10}
    assert result.socket_errors == {"connect": 0, "read": 2, "write": 0, "timeout": 1}
    assert result.socket_error_count == 3
    assert result.starved == 5
    assert result.ok == 970
    assert result.rps == pytest.approx(100.0)
    assert result.p50_ms == pytest.approx(1.2)
    assert result.p99_ms == pytest.approx(8.0)


def test_no_lua_line():
    assert parse_bench_json(WRK_TEXT_WITH_ERRORS) is None


def test_wrk_text():
    result = parse_wrk_text(WRK_TEXT_WITH_ERRORS)
    assert result.source == "text"
    assert result.requests == 189_000
    assert result.duration_s == pytest.approx(10.0)
    assert result.rps == pytest.approx(18_900.0)
    assert result.p50_ms == pytest.approx(0.8)
    assert result.p90_ms == pytest.approx(1.0)
    assert result.p99_ms == pytest.approx(2.5)
    assert result.mean_ms == pytest.approx(0.812)
    assert result.max_ms == pytest.approx(5.0)
    assert result.non2xx == 42
    assert result.socket_errors == {"connect": 1, "read": 12, "write": 0, "timeout": 3}


def test_wrk_text_without_errors_or_percentiles():
    text = WRK_WITH_JSON.split("BENCH_JSON")[0]
    result = parse_wrk_text(text.replace("Requests/sec:      1.65\n", ""))
    assert result.requests == 5
    assert result.rps == pytest.approx(5 / 3.03)  # computed when the line is missing
    assert result.non2xx == 0
    assert result.socket_error_count == 0
    assert result.p50_ms == pytest.approx(2580)


def test_parse_wrk_prefers_the_lua_line():
    assert parse_wrk(WRK_WITH_JSON).source == "lua"
    assert parse_wrk(WRK_TEXT_WITH_ERRORS).source == "text"


def test_the_last_lua_line_counts():
    output = bench_json(requests=1) + bench_json(requests=2)
    assert lua_result(output).requests == 2


def test_result_dict_is_json():
    data = lua_result(bench_json()).as_dict()
    assert json.loads(json.dumps(data))["ok"] == 970
    assert data["socket_error_count"] == 3
