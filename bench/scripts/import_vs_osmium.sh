#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# `stride import` against `osmium export` (osmium-tool, the same libosmium underneath) on the
# same files in the same run: the largest shared extract, a merge of the shared extracts
# (about 1.2 M nodes), and synthetic networks of 10^6 and 10^7 nodes from datasets/gen_osm.
# Three interleaved rounds; each tool's best wall time and its peak memory are reported, with
# Stride's phase times. Builds Release; installs osmium-tool and time from Debian if missing.
#
#   bench/scripts/import_vs_osmium.sh [DATASETS_DIR] [--no-10m]
set -euo pipefail
cd "$(dirname "$0")/../.."
datasets=${1:-../shared/datasets}
big=1
[ "${2:-}" = "--no-10m" ] && big=0
[ -d "$datasets/osm" ] || { echo "no shared datasets at $datasets" >&2; exit 1; }

missing=()
command -v osmium >/dev/null || missing+=(osmium-tool)
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTRIDE_BUILD_TESTS=OFF \
  -DSTRIDE_BUILD_BENCH=OFF >/dev/null
ninja -C build-release stride gen_osm >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
osm="$datasets/osm"
# The extracts share some objects in different versions; time-filter keeps one version of
# each, which osmium export needs (it refuses an id seen twice).
osmium merge "$osm/nominatim-apidb-test-data.osm.pbf" "$osm/heidelberg-2024-09.osm.pbf" \
  "$osm/andorra-2021-10-28.osm.pbf" "$osm/copenhagen-kbh.osm.pbf" -o "$work/merged-all.osm.pbf" \
  --overwrite
osmium time-filter "$work/merged-all.osm.pbf" -o "$work/merged.osm.pbf" --overwrite
./build-release/datasets/gen_osm --out "$work/synthetic-1m.osm.pbf" --nodes 1000000 \
  --dem "$work/dem-synthetic" >/dev/null
files=("$osm/nominatim-apidb-test-data.osm.pbf" "$work/merged.osm.pbf" "$work/synthetic-1m.osm.pbf")
if [ "$big" = 1 ]; then
  ./build-release/datasets/gen_osm --out "$work/synthetic-10m.osm.pbf" --nodes 10000000 >/dev/null
  files+=("$work/synthetic-10m.osm.pbf")
fi

# Runs a command, prints "seconds peak_kib" (best wall time of the rounds is kept by caller).
measure() { /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>"$work/stderr"; cat "$work/time"; }

printf '%-28s %9s %9s %9s %7s %9s %9s  %s\n' file nodes osmium_s stride_s ratio osm_MiB str_MiB "stride phases (s)"
for f in "${files[@]}"; do
  dem="$datasets/dem"
  case "$f" in *synthetic*) dem="$work/dem-synthetic" ;; esac
  best_o=1e9; best_s=1e9; mem_o=0; mem_s=0; phases=""
  for round in 1 2 3; do
    read -r t m < <(measure osmium export "$f" -f geojsonseq -o "$work/out.geojsonseq" --overwrite)
    if awk "BEGIN{exit !($t < $best_o)}"; then best_o=$t; mem_o=$m; fi
    rm -rf "$work/db" "$work/db.previous"
    read -r t m < <(measure ./build-release/stride import --osm "$f" --dem "$dem" --db "$work/db")
    if awk "BEGIN{exit !($t < $best_s)}"; then
      best_s=$t; mem_s=$m
      phases=$(grep ' done$' "$work/stderr" | sed 's/trail graph/trail_graph/' |
        awk '{printf "%s=%s ", $2, $(NF-2)}')
    fi
  done
  nodes=$(./build-release/stride inspect --db "$work/db" | awk '/nodes_read/ {print $2}')
  ratio=$(awk "BEGIN{printf \"%.2f\", $best_s / $best_o}")
  printf '%-28s %9s %9s %9s %7s %9.0f %9.0f  %s\n' "$(basename "$f")" "$nodes" "$best_o" "$best_s" \
    "$ratio" "$(awk "BEGIN{print $mem_o/1024}")" "$(awk "BEGIN{print $mem_s/1024}")" "$phases"
done
echo "ratio = stride import (with DEM, routes, trail graph, RocksDB) / osmium export (GeoJSON);"
echo "best of 3 interleaved rounds; $(nproc) cores."
