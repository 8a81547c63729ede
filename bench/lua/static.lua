-- The same request over and over (token issuance, API GET, JWKS, dashboard page).
-- wrk ... -s bench/lua/static.lua <url> -- <spec.lua>
-- spec: { method = "POST", path = "/oauth/token", headers = {…}, body = "…" }
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "common.lua")

function init(args)
  load_spec(args)
end
