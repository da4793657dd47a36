-- SPDX-License-Identifier: Apache-2.0
-- wrk script: requests the targets of the file named by the TARGETS environment variable in
-- turn (each wrk thread starts at its own offset) and prints latency percentiles as JSON.
local targets = {}
local next_index = 1

function init(args)
  for line in io.lines(os.getenv("TARGETS")) do
    if #line > 0 then targets[#targets + 1] = line end
  end
  next_index = 1 + (tonumber(string.format("%d", math.random(0, #targets - 1))) or 0)
end

function request()
  local t = targets[next_index]
  next_index = next_index % #targets + 1
  return wrk.format("GET", t)
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
