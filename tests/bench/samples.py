"""wrk output as the bench reads it: a real run with our Lua's line, wrk's own text, a made-up line."""

from __future__ import annotations

import json

from bench.wrk import WrkResult, parse_bench_json

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


def lua_result(output: str) -> WrkResult:
    """The result read from our Lua's line, which ``output`` must have."""
    result = parse_bench_json(output)
    assert result is not None, "no BENCH_JSON line"
    return result
