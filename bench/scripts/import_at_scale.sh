#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# `stride import` of one large generated map, as an operator sizing a machine runs it: the
# map (datasets/gen_osm, a jittered grid of trails with SRTM tiles of its terrain) is made
# once and kept in $BENCH_DIR/import-NODES/ (several GB at 10^8 nodes); then one import with
# the progress lines on, timed by /usr/bin/time. Prints the generation time, the import's wall
# and CPU time, its peak memory (and the phase that set it, from the progress lines), the
# database's size on disk, and the import's own summary. Extra arguments go to `stride
# import` (for example --threads 1). Builds Release; installs `time` from Debian if missing.
#
#   bench/scripts/import_at_scale.sh [NODES] [IMPORT ARGS ...]   # NODES default 10^8
set -euo pipefail
cd "$(dirname "$0")/../.."
nodes=${1:-100000000}
shift || true
dir=${BENCH_DIR:-/tmp/stride-bench}/import-$nodes
if [ ! -x /usr/bin/time ]; then
  ${SUDO:-$( [ "$(id -u)" = 0 ] || echo sudo )} apt-get install -y -qq time >/dev/null
fi
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTRIDE_BUILD_TESTS=OFF >/dev/null
ninja -C build-release stride stride-full gen_osm >/dev/null
bin=$PWD/build-release
mkdir -p "$dir"
if [ ! -f "$dir/map.osm.pbf" ]; then
  echo "generating a map of $nodes nodes into $dir ..." >&2
  start=$(date +%s.%N)
  "$bin/datasets/gen_osm" --out "$dir/map.tmp.osm.pbf" --nodes "$nodes" --dem "$dir/dem" >&2
  mv "$dir/map.tmp.osm.pbf" "$dir/map.osm.pbf"
  python3 -c "import sys; print(f'generated in {float(sys.argv[2]) - float(sys.argv[1]):.0f} s')" \
    "$start" "$(date +%s.%N)" >&2
fi
rm -rf "$dir/db" "$dir/db.previous"
sync
echo "importing $(du -h "$dir/map.osm.pbf" | cut -f1) of OSM data ($nodes nodes), $(nproc) cores ..." >&2
/usr/bin/time -v -o "$dir/time.txt" "$bin/stride" import --osm "$dir/map.osm.pbf" \
  --dem "$dir/dem" --db "$dir/db" "$@" >"$dir/summary.txt" 2>"$dir/progress.txt"
python3 - "$dir" <<'PY'
import re, subprocess, sys
d = sys.argv[1]
t = open(d + "/time.txt").read()
def field(name):
    return re.search(re.escape(name) + r":\s*(.+)", t).group(1).strip()
wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss)")
parts = [float(p) for p in wall.split(":")]
wall_s = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
cpu_s = float(field("User time (seconds)")) + float(field("System time (seconds)"))
peak_mib = int(field("Maximum resident set size (kbytes)")) / 1024
size = subprocess.run(["du", "-sb", d + "/db"], capture_output=True, text=True).stdout.split()[0]
print(f"import: {wall_s:.0f} s wall, {cpu_s:.0f} s CPU, peak {peak_mib:.0f} MiB, "
      f"database {int(size) / 2**30:.2f} GiB")
print("phases (the progress lines that end a phase, with the peak so far):")
for line in open(d + "/progress.txt"):
    if "done" in line:
        print("  " + line.strip())
print("summary:")
for line in open(d + "/summary.txt"):
    print("  " + line.rstrip())
PY
