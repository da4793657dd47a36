#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# What Redis adds to a rate-limited request (issue 20): `stride serve` answering GET /v1/runs
# (a per-user "read" limit, set high enough that nothing is refused, so every request does the
# limit's work) under wrk at 8 and 64 keep-alive connections, 10 s each, three ways in the same
# run and interleaved over two rounds: no limit at all, limits in the process (the default),
# and limits in a local redis-server (--redis; one Lua script per request over loopback).
# Prints one JSON line per run (rps, p50/p90/p99/p99.9) and the differences of the medians.
# Builds Release (or uses BUILD=dir); installs wrk and redis-server if missing.
#
#   bench/scripts/redis_rate_limit.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/scripts/serve_helpers.sh
bench_dir=${BENCH_DIR:-/tmp/stride-bench}
mkdir -p "$bench_dir"
export STRIDE_JWT_SECRET=${STRIDE_JWT_SECRET:-bench-secret-0123456789abcdef0123456789}
ensure_tools wrk redis-server
build=${BUILD:-build-release}
if [ "$build" = build-release ]; then
  cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTRIDE_BUILD_TESTS=OFF \
    -DSTRIDE_BUILD_BENCH=ON >/dev/null
fi
ninja -C "$build" stride gen_routes >/dev/null
db="$bench_dir/routes-2000"
[ -f "$db/CURRENT" ] || "./$build/datasets/gen_routes" --db "$db" --routes 2000 2>/dev/null
rm -rf "$bench_dir/redis-runs"
echo "/v1/runs?limit=1" > "$bench_dir/runs-target.txt"
token=$("./$build/stride" token --user bench --scope "runner:read runner:write")

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no >/dev/null &
redis_pid=$!
trap 'kill $redis_pid 2>/dev/null || true' EXIT
until redis-cli -p "$redis_port" ping >/dev/null 2>&1; do sleep 0.05; done

run_one() {  # $1 = label, then stride serve's extra options
  local label=$1 port server line
  shift
  port=$(free_port)
  "./$build/stride" serve --db "$db" --runs "$bench_dir/redis-runs" --port "$port" --quiet \
    --no-sync "$@" 2>"$bench_dir/serve-redis-$label.log" &
  server=$!
  wait_for_stride "$port" 60
  wrk -t2 -c8 -d2s -H "Authorization: Bearer $token" "http://127.0.0.1:$port/v1/runs?limit=1" \
    >/dev/null
  for conns in 8 64; do
    line=$(TARGETS="$bench_dir/runs-target.txt" wrk -t2 -c"$conns" -d10s \
      -H "Authorization: Bearer $token" -s bench/scripts/wrk_targets.lua \
      "http://127.0.0.1:$port" | tail -1)
    echo "{\"limits\":\"$label\",\"connections\":$conns,${line#\{}"
  done
  kill "$server"
  wait "$server" 2>/dev/null || true
}

results="$bench_dir/redis_rate_limit.jsonl"
: > "$results"
for round in 1 2; do
  run_one none --rate-limit off | tee -a "$results"
  run_one memory --rate-limit read=1000000000/m | tee -a "$results"
  run_one redis --rate-limit read=1000000000/m --redis "redis://127.0.0.1:$redis_port" |
    tee -a "$results"
done
echo "redis keys after the runs: $(redis-cli -p "$redis_port" dbsize)"
/usr/bin/python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def med(label, conns, key):
    return statistics.median(r[key] for r in rows if r["limits"] == label and r["connections"] == conns)
for conns in (8, 64):
    print(f"c={conns}: " + "; ".join(
        f"{l} p50 {med(l, conns, 'p50_ms'):.3f} ms p99 {med(l, conns, 'p99_ms'):.3f} ms "
        f"{med(l, conns, 'rps'):.0f}/s" for l in ("none", "memory", "redis")) +
        f"; redis adds {1000 * (med('redis', conns, 'p50_ms') - med('memory', conns, 'p50_ms')):.0f} us"
        f" at p50, {1000 * (med('redis', conns, 'p99_ms') - med('memory', conns, 'p99_ms')):.0f} us at p99")
PY
