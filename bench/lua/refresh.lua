-- Refresh with rotation: every refresh token is used exactly once. Each thread starts
-- with its share of tokens minted before the run; every 200 answer brings the next token
-- of that family (rotation), which goes back into the thread's pool. A request is only
-- ever sent with a token nobody has used, as a client that keeps the newest token does.
-- wrk ... -s bench/lua/refresh.lua <url> -- <spec.lua>
-- spec: { method, path, headers, threads = N, tokens = { … }, prefix = "grant_type=…&refresh_token=",
--         suffix = "&client_id=…" }
-- A thread whose pool is empty (failed refreshes lose their family) sends an unknown token
-- (a 400, counted as non-2xx and as "starved").
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "common.lua")

local spec
local pool = {}

function init(args)
  spec = load_spec(args)
  for index = thread_id + 1, #spec.tokens, spec.threads do
    table.insert(pool, spec.tokens[index])
  end
end

function request()
  local token = table.remove(pool, 1)
  if token == nil then
    starved = starved + 1
    token = "starved-no-token-left"
  end
  return wrk.format(nil, nil, nil, spec.prefix .. token .. spec.suffix)
end

function response(status, headers, body)
  count_response(status)
  if status == 200 then
    local token = body:match('"refresh_token"%s*:%s*"([^"]+)"')
    if token then
      table.insert(pool, token)
    end
  end
end
