#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The soak test of the hardening issue: `stride serve` (Release, 200,000 generated routes, a
# run database) under 30 minutes of mixed traffic - route searches, uploads with reads and
# deletes, 50 slow clients sending a header byte a second, 300 idle keep-alive connections,
# a gzip bomb every 5 s - with RSS, search p50/p99 and the answers by class printed every
# minute (bench/scripts/soak.py). Passes when no request got a 5xx. Rate limits are off: one
# address sends everything here, and limits are tested elsewhere.
#
#   bench/scripts/soak.sh [minutes]     (default 30; SOAK_ROUTES=200000)
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/scripts/serve_helpers.sh
minutes=${1:-30}
routes=${SOAK_ROUTES:-200000}
bench_dir=${BENCH_DIR:-/tmp/stride-bench}
mkdir -p "$bench_dir"
export STRIDE_JWT_SECRET=${STRIDE_JWT_SECRET:-bench-secret-0123456789abcdef0123456789}
source bench/scripts/generated_db.sh
ninja -C build-release upload_load >/dev/null
python3 bench/scripts/route_queries.py --n 20000 --seed 7 > "$bench_dir/soak-queries.txt"
./build-release/bench/upload_load write --out "$bench_dir" --minutes 30 >/dev/null
tokens="$bench_dir/soak-tokens.txt"
: > "$tokens"
for u in $(seq 1 20) bomber; do
  ./build-release/stride token --user "soak$u" --ttl 2h >> "$tokens"
done
runs="$bench_dir/soak-runs"
rm -rf "$runs"
port=$(free_port)
./build-release/stride serve --db "$db" --runs "$runs" --port "$port" --quiet --no-sync \
  --rate-limit off 2>"$bench_dir/soak-serve.log" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
wait_for_stride "$port" 120
echo "== soak: $minutes min, $routes routes, port $port, pid $server ($(nproc) cores)"
python3 bench/scripts/soak.py --port "$port" --pid "$server" --tokens "$tokens" \
  --fit "$bench_dir/run.fit" --queries "$bench_dir/soak-queries.txt" --minutes "$minutes"
