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

function done(summary, latency, requests)
  io.write(string.format(
    '{"requests":%d,"seconds":%.2f,"rps":%.1f,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,' ..
    '"p999_ms":%.3f,"max_ms":%.3f,"errors":%d,"non2xx":%d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency:percentile(99.9) / 1000, latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
