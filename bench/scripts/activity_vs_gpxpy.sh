#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Stride's activity pipeline against gpxpy on the same shared GPX files, in the same run, and
# the FIT decoder on the largest shared FIT file. Builds Release, installs python3-gpxpy from
# Debian when missing, prints both timings and their ratio.
#
#   bench/scripts/activity_vs_gpxpy.sh [DATASETS_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
datasets=${1:-../shared/datasets}
[ -d "$datasets/gpx" ] || { echo "no shared datasets at $datasets" >&2; exit 1; }

if ! /usr/bin/python3 -c 'import gpxpy' 2>/dev/null; then
  ${SUDO:-$( [ "$(id -u)" = 0 ] || echo sudo )} apt-get install -y -qq python3-gpxpy >/dev/null
fi
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTRIDE_BUILD_TESTS=OFF \
  -DSTRIDE_DATASETS_DIR="$(realpath "$datasets")" >/dev/null
ninja -C build-release stride_activity_bench >/dev/null

out=$(mktemp)
./build-release/bench/stride_activity_bench --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true --benchmark_format=json >"$out" 2>/dev/null
py=$(/usr/bin/python3 bench/scripts/gpxpy_bench.py "$datasets/gpx" 5)

/usr/bin/python3 - "$out" "$py" <<'PY'
import json, sys
bench = json.load(open(sys.argv[1]))
gpxpy = json.loads(sys.argv[2])
def median(name):
    for b in bench["benchmarks"]:
        if b["name"] == name + "_median":
            return b
    raise SystemExit("missing benchmark " + name)
unit = {"ms": 1e-3, "us": 1e-6, "ns": 1e-9, "s": 1.0}
def seconds(b): return b["real_time"] * unit[b["time_unit"]]
pipe = median("BM_GpxPipelineAll")
parse = median("BM_GpxParseAll")
fit = median("BM_FitDecode/roznet_large")
ana = median("BM_AnalyzeFit/roznet_large")
mb = pipe["bytes_per_second"] / 1e6
print(f"GPX, {gpxpy['files']} files, {gpxpy['points']} points, {pipe['bytes_per_second'] * seconds(pipe) / 1e6:.1f} MB:")
print(f"  gpxpy parse + moving data + uphill   {seconds({'real_time': gpxpy['seconds'], 'time_unit': 's'}) * 1e3:8.1f} ms")
print(f"  stride parse only                     {seconds(parse) * 1e3:8.2f} ms  ({parse['bytes_per_second'] / 1e6:.0f} MB/s)")
print(f"  stride parse + full pipeline          {seconds(pipe) * 1e3:8.2f} ms  ({pipe['items_per_second'] / 1e6:.2f} M points/s, {mb:.0f} MB/s)")
print(f"  ratio gpxpy / stride pipeline         {gpxpy['seconds'] / seconds(pipe):8.1f} x")
print(f"FIT bench__roznet_large.fit ({fit['counters'] if 'counters' in fit else ''}):")
print(f"  decode                                {seconds(fit) * 1e3:8.2f} ms  ({fit['items_per_second'] / 1e6:.1f} M records/s, {fit['bytes_per_second'] / 1e6:.0f} MB/s)")
print(f"  pipeline on its 42,709 points         {seconds(ana) * 1e3:8.2f} ms  ({ana['items_per_second'] / 1e6:.2f} M points/s)")
PY
rm -f "$out"
