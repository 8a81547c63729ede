-- Shared by every bench script (loaded with dofile): numbers each wrk thread, counts the
-- responses that are not 2xx per thread, and prints one machine-readable line at the end:
--   BENCH_JSON {"requests": …, "non2xx": …, "latency_us": {"p50": …, "p99": …}, …}
-- wrk itself counts only 4xx/5xx ("Non-2xx or 3xx responses" means status > 399), so a
-- redirect to the login page would pass unnoticed without this.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

-- Per thread (each wrk thread has its own Lua state).
non2xx = 0
starved = 0 -- requests sent without a fresh credential (codes or refresh tokens ran out)
statuses = {}

function count_response(status)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    local key = tostring(status)
    statuses[key] = (statuses[key] or 0) + 1
  end
end

function response(status, headers, body)
  count_response(status)
end

-- Read a spec file written by bench/wrk.py: a Lua chunk returning a table.
function load_spec(args)
  local path = args[1]
  if path == nil then
    error("usage: wrk ... -s script.lua <url> -- <spec.lua>")
  end
  local spec = dofile(path)
  wrk.method = spec.method or "GET"
  wrk.path = spec.path
  for name, value in pairs(spec.headers or {}) do
    wrk.headers[name] = value
  end
  if spec.body then
    wrk.body = spec.body
  end
  return spec
end

function done(summary, latency, requests)
  local total_non2xx, total_starved, by_status = 0, 0, {}
  for _, thread in ipairs(threads) do
    total_non2xx = total_non2xx + (thread:get("non2xx") or 0)
    total_starved = total_starved + (thread:get("starved") or 0)
    for key, count in pairs(thread:get("statuses") or {}) do
      by_status[key] = (by_status[key] or 0) + count
    end
  end
  local parts = {}
  for key, count in pairs(by_status) do
    table.insert(parts, string.format('"%s": %d', key, count))
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"non2xx": %d, "starved": %d, "statuses": {%s}, ' ..
    '"latency_us": {"min": %d, "mean": %.1f, "max": %d, "stdev": %.1f, ' ..
    '"p50": %d, "p75": %d, "p90": %d, "p99": %d}}\n',
    summary.requests, summary.duration, summary.bytes,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    total_non2xx, total_starved, table.concat(parts, ", "),
    latency.min, latency.mean, latency.max, latency.stdev,
    latency:percentile(50), latency:percentile(75), latency:percentile(90), latency:percentile(99)
  ))
end
