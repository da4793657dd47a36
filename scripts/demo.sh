#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Sets everything up and runs Stride's main job on data the project generates itself: builds,
# writes a synthetic run (GPX, TCX and FIT, with GPS noise, a hill and a stop) into demo/,
# and analyses it with `stride analyze`, as a summary and as JSON.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build stride gen_activity >/dev/null
mkdir -p demo
./build/datasets/gen_activity --out demo --laps 3 --noise 1.5
echo
./build/stride analyze demo/synthetic_run.fit demo/synthetic_run.gpx
echo
echo "JSON of the TCX export (first 600 characters):"
./build/stride analyze --json demo/synthetic_run.tcx | cut -c1-600
echo
echo
echo "Try: ./build/stride analyze --json --max-hr 185 demo/synthetic_run.fit"
echo "     ./build/stride analyze ../shared/datasets/fit/*.fit    (if the shared data is beside this clone)"
