#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The plans plugin over HTTP on a Release `stride serve`: a runner with six months of runs
# (RUNS, default 150: a synthetic FIT run every ~1.2 days, each with heart rate and best
# efforts) and a profile with availability and a half-marathon goal; then wrk at 8 connections
# on GET /v1/plans/next, /v1/plans/predict?distance_m=21097.5, /v1/plans/fitness and
# /v1/plans/current (10 s each). Every request reads the runner's records and the profile,
# estimates the VDOT and (next, current) generates the plan to the race: no cache.
#
#   bench/scripts/plan_latency.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/scripts/serve_helpers.sh
bench_dir=${BENCH_DIR:-/tmp/stride-bench}
mkdir -p "$bench_dir/plan-runs-files"
export STRIDE_JWT_SECRET=${STRIDE_JWT_SECRET:-bench-secret-0123456789abcdef0123456789}
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTRIDE_BUILD_BENCH=ON >/dev/null
ninja -C build-release stride gen_routes gen_activity >/dev/null
db="$bench_dir/upload-routes"
if [ ! -d "$db" ]; then
  ./build-release/datasets/gen_routes --db "$db" --routes 20000 --region 42.3,1.3,42.7,1.8 >/dev/null
fi
runs="$bench_dir/plan-runs"
rm -rf "$runs"
port=$(free_port)
./build-release/stride serve --db "$db" --rate-limit off --runs "$runs" --port "$port" --quiet --no-sync \
  2>"$bench_dir/plan-serve.log" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
wait_for_stride "$port" 10
token=$(./build-release/stride token --user planner --ttl 2h)
n=${RUNS:-150}
for i in $(seq 1 "$n"); do
  out="$bench_dir/plan-runs-files/$i"
  mkdir -p "$out"
  ./build-release/datasets/gen_activity --out "$out" --laps $((2 + i % 4)) --seed "$i" \
    --days-ago $((i * 180 / n)) >/dev/null
  curl -s -o /dev/null -w '' -X POST --data-binary "@$out/synthetic_run.fit" \
    -H "Authorization: Bearer $token" "http://127.0.0.1:$port/v1/runs"
done
race=$(date -u -d '+84 days' +%F)
curl -s -o /dev/null -X PUT -H "Authorization: Bearer $token" "http://127.0.0.1:$port/v1/me/profile" \
  -d '{"sex":"male","max_hr_bpm":188,"rest_hr_bpm":48,"availability":{"days":["tue","wed","fri","sat","sun"],"minutes_per_day":120},"goal":{"distance_m":21097.5,"date":"'"$race"'"}}'
curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$port/v1/plans/fitness" | head -c 200
echo
for path in /v1/plans/next "/v1/plans/predict?distance_m=21097.5" /v1/plans/fitness \
  /v1/plans/current; do
  echo "== wrk -c8 -t2 -d10s $path ($n runs)"
  wrk -c8 -t2 -d10s --latency -H "Authorization: Bearer $token" "http://127.0.0.1:$port$path" |
    grep -E "Latency|50%|90%|99%|Requests/sec|Non-2xx"
done
