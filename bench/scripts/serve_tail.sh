#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Tail latency of `stride serve` against connection count, and what slow and idle clients do
# to everyone else (issue: "one request must never kill the server", defect 3).
#   1. wrk (closed loop) at 8, 64 and 1,000 keep-alive connections, 15 s each, over a
#      generated database of ROUTES routes (default 2*10^5) and 20,000 mixed search targets;
#   2. open_loop (bench/server/open_loop.cpp) at a fixed rate, half of what wrk reached at 8
#      connections, spread over 8, 64 and 1,000 connections: the p99 a connection count costs
#      when the offered load is the same (a closed loop's latency is connections/throughput);
#   3. 70 clients sending one header byte a second plus 500 idle connections, while a new
#      client runs searches one after another: its p50/p99/max and the slow clients' fate.
# With OLD_STRIDE=path/to/stride (a build of an earlier commit) every step runs against it
# too, in the same run, for the ratio. Builds Release; installs wrk if missing.
#
#   bench/scripts/serve_tail.sh [ROUTES]
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/scripts/serve_helpers.sh
routes=${1:-200000}
bench_dir=${BENCH_DIR:-/tmp/stride-bench}
mkdir -p "$bench_dir"
if ! command -v wrk >/dev/null; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get install -y -qq wrk >/dev/null
fi
source bench/scripts/generated_db.sh
ninja -C build-release open_loop >/dev/null
queries="$bench_dir/queries.txt"
python3 bench/scripts/route_queries.py --n 20000 --seed 1 > "$queries"

run_one() {  # $1 = label, $2 = stride binary
  local label=$1 bin=$2 port server
  port=$(free_port)
  local limits=()  # wrk measures the engine: no rate limit (an older binary has none)
  if "$bin" serve 2>&1 | grep -q -- --rate-limit; then limits=(--rate-limit off); fi
  "$bin" serve --db "$db" --port "$port" --quiet "${limits[@]}" 2>"$bench_dir/serve-$label.log" &
  server=$!
  wait_for_stride "$port" 120
  echo "== $label: $bin"
  TARGETS="$queries" wrk -t2 -c8 -d3s -s bench/scripts/wrk_targets.lua "http://127.0.0.1:$port" >/dev/null
  local rps8=0
  for conns in 8 64 1000; do
    local line
    line=$(TARGETS="$queries" wrk -t2 -c"$conns" -d15s --timeout 30s \
      -s bench/scripts/wrk_targets.lua "http://127.0.0.1:$port" | tail -1)
    echo "wrk   $label c=$conns $line"
    [ "$conns" = 8 ] && rps8=$(echo "$line" | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["rps"]))')
  done
  local rate=$((rps8 / 2))
  for conns in 8 64 1000; do
    echo "open  $label c=$conns $(./build-release/bench/open_loop --port "$port" \
      --targets "$queries" --connections "$conns" --rate "$rate" --seconds 15)"
  done
  echo "slow  $label $(PORT=$port TARGETS=$queries python3 - <<'PY'
import os, socket, threading, time, json, http.client
port = int(os.environ["PORT"]); targets = [l.strip() for l in open(os.environ["TARGETS"]) if l.strip()]
slow = [socket.create_connection(("127.0.0.1", port)) for _ in range(70)]
idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(500)]
req = b"GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200
stop = False
def drip():
    i = 0
    while not stop and i < len(req):
        for s in slow:
            try: s.send(req[i:i + 1])
            except OSError: pass
        i += 1; time.sleep(1)
threading.Thread(target=drip, daemon=True).start()
lat = []; fails = 0; t_end = time.time() + 20; i = 0
while time.time() < t_end:
    t = time.time()
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("GET", targets[i % len(targets)]); r = c.getresponse(); r.read(); c.close()
        if r.status != 200: fails += 1
    except Exception: fails += 1
    lat.append((time.time() - t) * 1000); i += 1
stop = True
answered = 0
for s in slow:
    s.settimeout(0.05)
    try:
        if s.recv(64).startswith(b"HTTP/1.1 408"): answered += 1
    except OSError: pass
lat.sort()
print(json.dumps({"new_client_requests": len(lat), "failed": fails,
                  "p50_ms": round(lat[len(lat) // 2], 2), "p99_ms": round(lat[int(len(lat) * 0.99)], 2),
                  "max_ms": round(lat[-1], 2), "slow_clients_answered_408": answered}))
PY
)"
  echo "rss   $label peak $(grep VmHWM /proc/$server/status | awk '{print $2/1024 " MiB"}')"
  kill "$server"; wait "$server" 2>/dev/null || true
}

run_one stride ./build-release/stride
if [ -n "${OLD_STRIDE:-}" ]; then run_one old "$OLD_STRIDE"; fi
