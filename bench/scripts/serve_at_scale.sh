#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Route search at scale: a generated database of N routes (default 10^6 over 36-60 N,
# 10 W-30 E; datasets/gen_routes), then
#   1. the snapshot load `stride serve` does at start-up: seconds, tree and geometry bytes,
#      peak memory (route_db_tool load);
#   2. in-process latency of 20,000 API calls (half 10x10 km map views with 50 results, half
#      k=10 nearest, mixed filters; route_db_tool query: parameters, index, serialisation);
#   3. HTTP end to end: `stride serve` on loopback under wrk, 8 and 32 connections, 20 s each,
#      the same targets; throughput, p50/p99 and the server's peak RSS.
# Builds Release; installs wrk from Debian if missing. Keeps the database in $BENCH_DIR
# (default /tmp/stride-bench) so later runs skip generating it.
#
#   bench/scripts/serve_at_scale.sh [ROUTES]
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/scripts/serve_helpers.sh
routes=${1:-1000000}
bench_dir=${BENCH_DIR:-/tmp/stride-bench}
mkdir -p "$bench_dir"

if ! command -v wrk >/dev/null; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get install -y -qq wrk >/dev/null
fi
source bench/scripts/generated_db.sh
queries="$bench_dir/queries.txt"
python3 bench/scripts/route_queries.py --n 20000 --seed 1 > "$queries"

echo "== snapshot load (what stride serve does at start-up)"
./build-release/bench/route_db_tool load --db "$db"
echo "== in-process API calls (20,000 targets, 3 rounds)"
./build-release/bench/route_db_tool query --db "$db" --queries "$queries" --repeat 3

port=$(free_port)
./build-release/stride serve --db "$db" --rate-limit off --port "$port" --quiet 2>"$bench_dir/serve.log" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
wait_for_stride "$port" 120
echo "== stride serve: $(curl -sf "http://127.0.0.1:$port/v1/health")"
# Warm the connection pool and caches once, then measure.
TARGETS="$queries" wrk -t2 -c8 -d3s -s bench/scripts/wrk_targets.lua "http://127.0.0.1:$port" >/dev/null
for conns in 8 64; do
  echo "== wrk, $conns connections, 2 threads, 20 s"
  TARGETS="$queries" wrk -t2 -c"$conns" -d20s -s bench/scripts/wrk_targets.lua \
    "http://127.0.0.1:$port" | tail -1
done
echo "== server peak RSS: $(grep VmHWM /proc/$server/status | awk '{print $2/1024 " MiB"}')"
