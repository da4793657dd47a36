#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Run uploads end to end: `stride serve` (Release) with a run database and a generated route
# database around the run (20,000 routes, so route coverage does real work), on loopback.
#   1. the floor: reading + analysing the file in-process (upload_load analyze);
#   2. upload latency: 300 sequential uploads of a 1-hour 1 Hz FIT run (p50/p90/p99/max);
#   3. sustained uploads with 8 concurrent clients for 20 s: uploads/s and latency;
#   4. the server's peak memory (VmHWM) over the whole run;
#   5. the peer, measured in the same run: gpxpy parsing the same hour as GPX and computing
#      its moving data and climb (Debian's python3-gpxpy), in-process, no HTTP, no storage.
# Steps 2-4 run twice: with the default fsync of each upload's log write, and --no-sync.
#
#   BENCH_DIR=/tmp/stride-bench bench/scripts/uploads_at_scale.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/scripts/serve_helpers.sh
bench_dir=${BENCH_DIR:-/tmp/stride-bench}
mkdir -p "$bench_dir"
export STRIDE_JWT_SECRET=${STRIDE_JWT_SECRET:-bench-secret-0123456789abcdef0123456789}

if ! /usr/bin/python3 -c 'import gpxpy' 2>/dev/null; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get install -y -qq python3-gpxpy >/dev/null
fi
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTRIDE_BUILD_BENCH=ON >/dev/null
ninja -C build-release stride upload_load gen_routes >/dev/null

db="$bench_dir/upload-routes"
if [ ! -d "$db" ]; then
  ./build-release/datasets/gen_routes --db "$db" --routes 20000 --region 42.3,1.3,42.7,1.8 >/dev/null
fi
./build-release/bench/upload_load write --out "$bench_dir" --minutes 60
fit="$bench_dir/run.fit"
echo "file: $(stat -c %s "$fit") bytes FIT, $(stat -c %s "$bench_dir/run.gpx") bytes as GPX"
echo "== floor: read + analyse in-process"
./build-release/bench/upload_load analyze --file "$fit" --n 50
token=$(./build-release/stride token --user bench --ttl 2h)

for mode in sync no-sync; do
  runs="$bench_dir/upload-runs-$mode"
  rm -rf "$runs"
  extra=(); [ "$mode" = no-sync ] && extra=(--no-sync)
  port=$(free_port)
  ./build-release/stride serve --db "$db" --rate-limit off --runs "$runs" --port "$port" --quiet "${extra[@]}" \
    2>"$bench_dir/serve.log" &
  server=$!
  wait_for_stride "$port" 10
  echo "== $mode: 300 sequential uploads"
  ./build-release/bench/upload_load latency --port "$port" --token "$token" --file "$fit" --n 300
  echo "== $mode: 8 clients, 20 s"
  ./build-release/bench/upload_load throughput --port "$port" --token "$token" --file "$fit" \
    --clients 8 --seconds 20
  echo "server peak RSS: $(awk '/VmHWM/ {printf "%.0f MiB", $2/1024}' /proc/$server/status)," \
    "run database $(du -sm "$runs" | cut -f1) MiB"
  kill $server
  wait $server 2>/dev/null || true
done

echo "== peer: gpxpy on the same hour as GPX (parse + moving data + climb), best of 10"
/usr/bin/python3 - "$bench_dir/run.gpx" <<'PY'
import json, sys, time
import gpxpy
doc = open(sys.argv[1], encoding="utf-8").read()
times = []
for _ in range(10):
    t0 = time.perf_counter()
    g = gpxpy.parse(doc)
    g.get_moving_data()
    g.get_uphill_downhill()
    times.append((time.perf_counter() - t0) * 1000)
times.sort()
print(json.dumps({"gpxpy_ms": {"best": times[0], "median": times[len(times) // 2]}}))
PY
