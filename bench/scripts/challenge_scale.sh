#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The challenges plugin at scale, on a Release `stride serve` with a run database:
#   - a route challenge with 10,000 members in 10 teams (bench/server/challenge_load joins them,
#     50 upload a run each: the plugin's event work per run at that size);
#   - leaderboard and progress latency over HTTP at 8 connections (wrk, 10 s each);
#   - 1,000 Server-Sent Event subscribers receiving a milestone (time after the upload's answer
#     until the last one has it);
#   - plugin reload time: POST /v1/admin/plugins/reload swapping the example plugin between two
#     versions, 20 times (curl's total time).
# MEMBERS, SUBSCRIBERS and RUNNERS override the sizes.
#
#   bench/scripts/challenge_scale.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/scripts/serve_helpers.sh
bench_dir=${BENCH_DIR:-/tmp/stride-bench}
mkdir -p "$bench_dir"
ulimit -n 8192 2>/dev/null || true
export STRIDE_JWT_SECRET=${STRIDE_JWT_SECRET:-bench-secret-0123456789abcdef0123456789}
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTRIDE_BUILD_BENCH=ON \
  -DSTRIDE_BUILD_TESTS=ON >/dev/null
ninja -C build-release stride challenge_load gen_routes hello hello_v2 >/dev/null
db="$bench_dir/challenge-routes"
[ -d "$db" ] || ./build-release/datasets/gen_routes --db "$db" --routes 2000 \
  --region 41.9,1.4,42.6,1.6 >/dev/null
runs="$bench_dir/challenge-runs"
plugins="$bench_dir/challenge-plugins"
rm -rf "$runs" "$plugins"
mkdir -p "$plugins"
# The example plugin, unsigned (--dev), to reload.
manifest() {  # library version
  cp "$1" "$plugins/libhello.so"
  local sha
  sha=$(sha256sum "$plugins/libhello.so" | cut -d' ' -f1)
  printf '{"name":"hello","version":"%s","library":"libhello.so","sha256":"%s"}' "$2" "$sha" \
    >"$plugins/hello.manifest.json"
}
manifest build-release/plugins/libhello.so 1.0.0
echo hello >"$plugins/plugins.allow"
port=$(free_port)
./build-release/stride serve --db "$db" --rate-limit off --runs "$runs" --port "$port" --quiet --no-sync \
  --plugins "$plugins" --dev --max-connections 20000 2>"$bench_dir/challenge-serve.log" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
wait_for_stride "$port" 10
out=$(./build-release/bench/challenge_load --port "$port" --secret "$STRIDE_JWT_SECRET" \
  --members "${MEMBERS:-10000}" --runners "${RUNNERS:-50}" \
  --subscribers "${SUBSCRIBERS:-1000}")
echo "$out"
id=$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["challenge"])')
tok=$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["reader_token"])')
for path in "/v1/challenges/$id/leaderboard" "/v1/challenges/$id/leaderboard?limit=10" \
  "/v1/challenges/$id"; do
  echo "== wrk -c8 -t2 -d10s $path"
  wrk -c8 -t2 -d10s --latency -H "Authorization: Bearer $tok" "http://127.0.0.1:$port$path" |
    grep -E "Latency|50%|90%|99%|Requests/sec|Non-2xx"
done
admin=$(./build-release/stride token --user ops --scope admin)
times=()
for i in $(seq 1 20); do
  if [ $((i % 2)) = 1 ]; then
    manifest build-release/tests/libhello_v2.so 2.0.0
  else
    manifest build-release/plugins/libhello.so 1.0.0
  fi
  times+=("$(curl -s -o /dev/null -w '%{time_total}' -X POST -H "Authorization: Bearer $admin" \
    "http://127.0.0.1:$port/v1/admin/plugins/reload")")
done
printf '%s\n' "${times[@]}" | python3 -c '
import sys
t = sorted(float(x) * 1000 for x in sys.stdin)
print("reload of the example plugin over HTTP: p50 %.2f ms, max %.2f ms (%d reloads)" % (t[len(t)//2], t[-1], len(t)))'
curl -s "http://127.0.0.1:$port/v1/hello" ; echo
