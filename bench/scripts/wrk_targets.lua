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

dofile("bench/scripts/wrk_report.lua")  -- done(): the JSON line
