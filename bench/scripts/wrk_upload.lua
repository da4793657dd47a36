-- SPDX-License-Identifier: Apache-2.0
-- wrk script: POSTs the GPX file named by the UPLOAD environment variable to /v1/runs (a new
-- run each time: no Idempotency-Key) and prints latency percentiles as JSON (wrk_targets.lua's
-- line).
local body

function init(args)
  local f = assert(io.open(os.getenv("UPLOAD"), "rb"))
  body = f:read("*a")
  f:close()
end

function request()
  -- wrk.headers holds the -H headers (the token); a table given to format() would replace them.
  wrk.headers["Content-Type"] = "application/gpx+xml"
  return wrk.format("POST", "/v1/runs", nil, body)
end

dofile("bench/scripts/wrk_report.lua")  -- done(): the JSON line
