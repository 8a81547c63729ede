-- Each request carries a body of its own, used once: authorization codes minted before the
-- run (wrk cannot follow /authorize's redirect and then post the code in one request).
-- wrk ... -s bench/lua/once.lua <url> -- <spec.lua>
-- spec: { method, path, headers, threads = N, bodies_file = "…", exhausted_body = "…" }
-- bodies_file holds one request body per line. Thread k (0-based) takes lines k+1, k+1+N,
-- k+1+2N, …; a thread that runs out sends exhausted_body (an unknown code: a 400, counted
-- as non-2xx and as "starved").
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "common.lua")

local spec
local bodies = {}
local index = 1

function init(args)
  spec = load_spec(args)
  local line_number = 0
  for line in io.lines(spec.bodies_file) do
    if line ~= "" then
      if line_number % spec.threads == thread_id then
        table.insert(bodies, line)
      end
      line_number = line_number + 1
    end
  end
end

function request()
  local body = bodies[index]
  if body == nil then
    starved = starved + 1
    body = spec.exhausted_body
  else
    index = index + 1
  end
  return wrk.format(nil, nil, nil, body)
end
