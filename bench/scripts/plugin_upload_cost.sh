#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# What the bundled plugins add to an upload: the same 1-hour 1 Hz FIT run uploaded 300 times in
# a row (upload_load latency) to `stride serve` without plugins (--no-bundled-plugins) and with
# the challenges and plan plugins: the user is in a route challenge and a daily one, so every
# upload moves a team along a line and judges a day, and has a profile with a goal race, so
# every upload recalculates the plan (fitness, load, the stored plan, its changes), and has
# asked the coach chat once, so every upload also becomes a document of the chat's memory.
# Events reach plugins off the request thread, so the
# difference is the event hand-off plus the plugin's work competing for the same 2 cores.
# Uploads use --no-sync so that fsync noise does not hide the difference. Builds Release.
#
#   bench/scripts/plugin_upload_cost.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/scripts/serve_helpers.sh
bench_dir=${BENCH_DIR:-/tmp/stride-bench}
mkdir -p "$bench_dir"
export STRIDE_JWT_SECRET=${STRIDE_JWT_SECRET:-bench-secret-0123456789abcdef0123456789}
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTRIDE_BUILD_BENCH=ON >/dev/null
ninja -C build-release stride upload_load gen_routes >/dev/null
db="$bench_dir/upload-routes"
if [ ! -d "$db" ]; then
  ./build-release/datasets/gen_routes --db "$db" --routes 20000 --region 42.3,1.3,42.7,1.8 >/dev/null
fi
./build-release/bench/upload_load write --out "$bench_dir" --minutes 60 >/dev/null
fit="$bench_dir/run.fit"
token=$(./build-release/stride token --user bench --ttl 2h)
for round in 1 2; do
  for mode in none plugins; do
    runs="$bench_dir/plugin-runs-$mode"
    rm -rf "$runs"
    extra=(); [ "$mode" = none ] && extra=(--no-bundled-plugins)
    port=$(free_port)
    ./build-release/stride serve --db "$db" --rate-limit off --runs "$runs" --port "$port" --quiet --no-sync \
      "${extra[@]}" 2>"$bench_dir/serve.log" &
    server=$!
    wait_for_stride "$port" 10
    if [ "$mode" = plugins ]; then
      race=$(date -u -d '+84 days' +%F)
      curl -s -o /dev/null -X PUT -H "Authorization: Bearer $token" "http://127.0.0.1:$port/v1/me/profile" \
        -d '{"time_zone":"Europe/Andorra","max_hr_bpm":190,"rest_hr_bpm":50,"availability":{"days":["tue","thu","sat","sun"],"minutes_per_day":90},"goal":{"distance_m":21097.5,"date":"'"$race"'"}}'
      for body in '{"name":"Relay","kind":"route","waypoints":[[1.5,42.5],[1.5,42.6],[1.6,42.6]],"milestone_every_m":1000}' \
                  '{"name":"Daily","kind":"daily","days":30,"min_distance_m":2000}'; do
        id=$(curl -s -X POST -H "Authorization: Bearer $token" "http://127.0.0.1:$port/v1/challenges" \
          -d "$body" | sed -n 's/.*"id":"\([0-9a-f]\{16\}\)".*/\1/p')
        curl -s -o /dev/null -X POST -H "Authorization: Bearer $token" \
          "http://127.0.0.1:$port/v1/challenges/$id/join" -d '{"start_date":"2023-11-01"}'
      done
      curl -s -o /dev/null -X POST -H "Authorization: Bearer $token" \
        "http://127.0.0.1:$port/v1/chat/retrieve" -d '{"question":"How far did I run last week?"}'
    fi
    echo "round $round, $mode: $(./build-release/bench/upload_load latency --port "$port" \
      --token "$token" --file "$fit" --n 300)"
    kill $server
    wait $server 2>/dev/null || true
  done
done
