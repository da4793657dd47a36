#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Sets everything up and runs Stride's main jobs on data the project generates itself: builds,
# writes a synthetic trail network (OSM, 200k nodes) and its terrain (SRTM tiles), imports
# them into a route database in demo/db and shows what it holds; then writes a synthetic run
# (GPX, TCX and FIT, with GPS noise, a hill and a stop) and analyses it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build stride gen_activity gen_osm >/dev/null
mkdir -p demo

echo "== route database =="
./build/datasets/gen_osm --out demo/trails.osm.pbf --nodes 200000 --dem demo/dem
./build/stride import --osm demo/trails.osm.pbf --dem demo/dem --db demo/db
echo
./build/stride inspect --db demo/db
echo
echo "first routes (id, origin, type, length, ascent, loop, parts, name):"
./build/stride inspect --db demo/db --list | head -5
echo
echo "one route as JSON (first 700 characters):"
./build/stride inspect --db demo/db --route relation/1 | tr -s ' \n' ' ' | cut -c1-700
echo
echo
echo "== run analysis =="
./build/datasets/gen_activity --out demo --laps 3 --noise 1.5
echo
./build/stride analyze demo/synthetic_run.fit demo/synthetic_run.gpx
echo
echo "JSON of the TCX export (first 600 characters):"
./build/stride analyze --json demo/synthetic_run.tcx | cut -c1-600
echo
echo
echo "Try: ./build/stride inspect --db demo/db --route relation/2"
echo "     ./build/stride import --osm ../shared/datasets/osm/andorra-2021-10-28.osm.pbf --dem ../shared/datasets/dem --db demo/andorra"
echo "     ./build/stride analyze --json --max-hr 185 demo/synthetic_run.fit"
