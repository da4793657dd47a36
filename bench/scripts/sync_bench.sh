#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Delta sync latency (issue 19: pull p99 under 50 ms for a year of data): `stride serve`
# (Release, with the bundled plugins and a run database, fsync on) on loopback, seeded with a
# year of one runner's data by sync_bench.py, then a new device's first sync, an up-to-date
# device's pull with one change waiting, and a push of one edit (p50/p90/p99/max each).
#
#   BENCH_DIR=/tmp/stride-bench RUNS=250 REPS=200 bench/scripts/sync_bench.sh
#   BUILD=build bench/scripts/sync_bench.sh     # an existing build instead of build-release
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/scripts/serve_helpers.sh
bench_dir=${BENCH_DIR:-/tmp/stride-bench}
build=${BUILD:-build-release}
mkdir -p "$bench_dir"
export STRIDE_JWT_SECRET=${STRIDE_JWT_SECRET:-bench-secret-0123456789abcdef0123456789}
if [ "$build" = build-release ]; then
  cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTRIDE_BUILD_BENCH=ON >/dev/null
fi
ninja -C "$build" stride gen_routes gen_activity >/dev/null

db="$bench_dir/sync-routes"
if [ ! -d "$db" ]; then
  "./$build/datasets/gen_routes" --db "$db" --routes 2000 --region 42.3,1.3,42.7,1.8 >/dev/null
fi
runs="$bench_dir/sync-runs"
rm -rf "$runs"
port=$(free_port)
"./$build/stride" serve --db "$db" --rate-limit off --runs "$runs" --port "$port" --quiet \
  2>"$bench_dir/sync-serve.log" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
wait_for_stride "$port" 20
token=$("./$build/stride" token --user year --scope "runner:read runner:write chat:ask" --ttl 2h)
/usr/bin/python3 bench/scripts/sync_bench.py "$port" "$token" "./$build/datasets/gen_activity"
echo "server peak RSS: $(awk '/VmHWM/ {printf "%.0f MiB", $2/1024}' /proc/$server/status)," \
  "run database $(du -sm "$runs" | cut -f1) MiB"
