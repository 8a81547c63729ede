"""The pure parts of `make bench` (bench/harness.py): no server, no wrk, no load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.harness import (
    WrkResult,
    codes_needed,
    duration_to_us,
    format_ratios,
    format_table,
    lua_spec,
    lua_string,
    lua_value,
    ok_rps,
    parse_bench_json,
    parse_wrk,
    parse_wrk_text,
    ratio,
)

ROOT = Path(__file__).resolve().parents[2]

# A real run of bench/lua/static.lua (client_credentials on a busy 2-core machine).
WRK_WITH_JSON = """\
Running 3s test @ http://127.0.0.1:39107
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.60s   222.24ms   2.98s    80.00%
    Req/Sec     7.75      8.66    19.00     75.00%
  Latency Distribution
     50%    2.58s
     75%    2.59s
     90%    2.98s
     99%    2.98s
  5 requests in 3.03s, 8.38KB read
Requests/sec:      1.65
Transfer/sec:      2.76KB
BENCH_JSON {"requests": 5, "duration_us": 3031479, "bytes": 8580, "errors": {"connect": 0, "read": 0, \
"write": 0, "status": 0, "timeout": 0}, "non2xx": 0, "starved": 0, "statuses": {}, "latency_us": \
{"min": 2397905, "mean": 2604797.4, "max": 2975398, "stdev": 222242.5, "p50": 2584189, "p75": 2591360, \
"p90": 2975398, "p99": 2975398}}
"""

# wrk's own text with errors, as wrk 4.1 prints it.
WRK_TEXT_WITH_ERRORS = """\
Running 10s test @ http://127.0.0.1:8080
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   812.00us  200.00us   5.00ms   90.00%
    Req/Sec     9.50k     1.00k   11.00k    70.00%
  Latency Distribution
     50%  800.00us
     75%  900.00us
     90%    1.00ms
     99%    2.50ms
  189000 requests in 10.00s, 30.00MB read
  Socket errors: connect 1, read 12, write 0, timeout 3
  Non-2xx or 3xx responses: 42
Requests/sec:  18900.00
Transfer/sec:      3.00MB
"""


def bench_json(**overrides) -> str:
    data = {
        "requests": 1000,
        "duration_us": 10_000_000,
        "bytes": 1,
        "errors": {"connect": 0, "read": 2, "write": 0, "status": 10, "timeout": 1},
        "non2xx": 30,
        "starved": 5,
        "statuses": {"302": 20, "500": 10},
        "latency_us": {"min": 1, "mean": 1500.5, "max": 9000, "stdev": 1, "p50": 1200, "p75": 1, "p90": 2000,
                       "p99": 8000},
    }  # fmt: skip
    data.update(overrides)
    return "Running 10s test\n" + "BENCH_JSON " + json.dumps(data) + "\n"


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
    result = parse_bench_json(bench_json())
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
    assert parse_bench_json(output).requests == 2


def test_ratios():
    assert ratio(50, 200) == pytest.approx(0.25)
    assert ratio(None, 200) is None
    assert ratio(50, None) is None
    assert ratio(50, 0) is None


def test_ratios_compare_successful_responses():
    failing = parse_bench_json(bench_json())  # 970 of 1000 answered 2xx in 10 s
    assert ok_rps(failing) == pytest.approx(97.0)
    assert ok_rps(None) is None
    assert ok_rps(WrkResult()) is None


def test_codes_needed_has_headroom():
    assert codes_needed(100, 20, 16) == 3000 + 32
    assert codes_needed(0, 20, 16) == 64  # never fewer than a few per connection
    assert codes_needed(10.2, 10, 16, margin=1.0) == 102 + 32


def test_lua_strings():
    assert lua_string("plain") == '"plain"'
    assert lua_string('a"b\\c') == '"a\\"b\\\\c"'
    assert lua_string("line\nnext\r") == '"line\\nnext\\r"'
    assert lua_string("\x01\x7f") == '"\\001\\127"'
    assert lua_string("é") == '"\\195\\169"'  # UTF-8 bytes, as Lua strings are


def test_lua_values_and_spec():
    assert lua_value(None) == "nil"
    assert lua_value(True) == "true"
    assert lua_value(16) == "16"
    assert lua_value([]) == "{}"
    assert lua_value({}) == "{}"
    assert lua_value(["a", 1]) == '{\n  "a",\n  1\n}'
    assert lua_value({"Content-Type": "application/json"}) == '{\n  ["Content-Type"] = "application/json"\n}'
    spec = lua_spec({"method": "POST", "headers": {"X": '"quoted"'}, "bodies": ["a=1", "b=2"]})
    assert spec.startswith("-- ")
    assert '\nreturn {\n  ["method"] = "POST",' in spec
    assert '["X"] = "\\"quoted\\""' in spec
    with pytest.raises(TypeError):
        lua_value(object())


def test_table():
    rows = [
        {"name": "discovery", "result": parse_bench_json(WRK_WITH_JSON)},
        {"name": "dashboard_users", "result": parse_bench_json(bench_json()), "note": "others busy 80%"},
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
    ratios = {"a / b": {"value": 0.25, "what": "a over b"}, "c / d": {"value": None, "what": "x"}}
    text = format_ratios(ratios)
    assert "0.250" in text and "a over b" in text
    assert "n/a" in text.splitlines()[1]


def test_result_dict_is_json():
    data = parse_bench_json(bench_json()).as_dict()
    assert json.loads(json.dumps(data))["ok"] == 970
    assert data["socket_error_count"] == 3


def test_the_lua_scripts_share_the_reporting():
    lua = ROOT / "bench" / "lua"
    common = (lua / "common.lua").read_text()
    assert "BENCH_JSON " in common
    for script in ("static.lua", "once.lua", "refresh.lua"):
        assert 'dofile(here .. "common.lua")' in (lua / script).read_text()
