#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# `stride update` with a minutely-sized diff (about 1,000 changes: nodes moved, ways renamed
# and deleted, new ways; bench/scripts/minutely_diff.py) on a generated map of NODES OSM nodes
# (10^7 by default) imported with --updatable, while `stride serve` answers route searches
# and directions from the same database (bench/scripts/serve_latency_probe.py, one request at
# a time over a keep-alive connection): the update's wall time, peak memory and phase lines;
# when the server switched to the updated database; request latency (p50/p99/max) before,
# while the update runs, between its end and the switch, and after. The generated map and
# its import are kept in $BENCH_DIR/update-NODES (/tmp/stride-bench) and reused; each run
# applies its diff to a copy.
#
#   bench/scripts/update_at_scale.sh [NODES] [CHANGES] [MIX]
#
# MIX: network (default; the walkable network changes, so the hierarchy is built again, in the
# node order of the one it replaces) or renames (only ways renamed: the update keeps the
# hierarchy of the database it replaces). UPDATE_FLAGS: more options for stride update (e.g.
# "--max-order-drift 0": the order computed afresh, as a fresh import does).
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/scripts/serve_helpers.sh
nodes=${1:-10000000}
changes=${2:-1000}
mix=${3:-network}
dir=${BENCH_DIR:-/tmp/stride-bench}/update-$nodes
command -v osmium >/dev/null || ensure_tools osmium-tool
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTRIDE_BUILD_TESTS=OFF >/dev/null
ninja -C build-release stride stride-full gen_osm >/dev/null
bin=$PWD/build-release
mkdir -p "$dir"
if [ ! -f "$dir/base/CURRENT" ]; then
  echo "generating a map of $nodes nodes and importing it into $dir/base (minutes) ..." >&2
  "$bin/datasets/gen_osm" --out "$dir/map.osm.pbf" --nodes "$nodes" --dem "$dir/dem" >&2
  rm -rf "$dir/base.tmp"
  "$bin/stride" import --updatable --quiet --osm "$dir/map.osm.pbf" --dem "$dir/dem" \
    --db "$dir/base.tmp" >/dev/null
  mv "$dir/base.tmp" "$dir/base"
fi
python3 bench/scripts/minutely_diff.py "$dir/map.osm.pbf" "$dir/diff.osc" --changes "$changes" \
  --mix "$mix"
rm -rf "$dir/db" "$dir/db.previous" "$dir/stop"
cp -a "$dir/base" "$dir/db"
sync

port=$(free_port)
"$bin/stride" serve --db "$dir/db" --port "$port" --rate-limit off --quiet \
  >"$dir/serve.log" 2>&1 &
serve_pid=$!
trap 'kill $serve_pid 2>/dev/null || true; touch "$dir/stop"' EXIT
wait_for_stride "$port" 300
python3 bench/scripts/serve_latency_probe.py "$port" "$dir/probe.log" "$dir/stop" &
probe_pid=$!
now() { python3 -c 'import time; print(f"{time.monotonic():.6f}")'; }
reloads() {
  curl -sf "http://127.0.0.1:$port/v1/health" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["reloads"])'
}
sleep 10
reloads0=$(reloads)
t_start=$(now)
/usr/bin/time -f "%e s, peak %M KB" -o "$dir/update.time" \
  "$bin/stride" update --db "$dir/db" --osc "$dir/diff.osc" --dem "$dir/dem" ${UPDATE_FLAGS:-} \
  >"$dir/update.log" 2>"$dir/update.err"
t_end=$(now)
# The server looks for a new database every 2 s and loads it before switching.
for _ in $(seq 600); do
  [ "$(reloads)" != "$reloads0" ] && break
  sleep 0.5
done
sleep 10
touch "$dir/stop"
wait $probe_pid

echo "stride update, $changes changes ($mix) on a generated map of $nodes nodes:"
echo "  $(cat "$dir/update.time")"
grep -E "done|update:|applied|trail graph" "$dir/update.err" "$dir/update.log" | sed 's/^[^:]*:/  /' | tail -12
python3 - "$dir/probe.log" "$t_start" "$t_end" <<'PY'
import sys
reqs, switch, first = [], None, None
for line in open(sys.argv[1]):
    f = line.split()
    if f[0] == "req":
        reqs.append((float(f[1]), float(f[2]), int(f[3])))
    elif f[0] == "health" and first is None:
        first = int(f[3])
    elif f[0] == "health" and switch is None and first is not None and int(f[3]) > first:
        switch = float(f[1])
t0, t1 = float(sys.argv[2]), float(sys.argv[3])
print(f"  update wall time {t1 - t0:.2f} s; the server served the update "
      + (f"{switch - t1:.2f} s after it ended" if switch else "never (within the wait)"))
def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p / 100 * len(v)))] if v else float("nan")
windows = [("before", -1e18, t0), ("while updating", t0, t1),
           ("until switched", t1, switch or t1), ("after", switch or t1, 1e18)]
print("  serving while it applies (route search and directions, one at a time):")
print(f"    {'window':16s} {'requests':>9s} {'p50 ms':>8s} {'p99 ms':>8s} {'max ms':>8s} {'errors':>7s}")
for name, a, b in windows:
    lat = [l for t, l, s in reqs if a <= t < b]
    err = sum(1 for t, l, s in reqs if a <= t < b and s >= 500)
    if lat:
        print(f"    {name:16s} {len(lat):9d} {pct(lat, 50):8.2f} {pct(lat, 99):8.2f} "
              f"{max(lat):8.2f} {err:7d}")
PY
