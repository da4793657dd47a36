#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The plans plugin's nightly recalculation at scale (issue 13's figure: 100,000 runners with six
# months of runs each, under 60 s on a 2-core machine): bench/server/plan_nightly.cpp on a
# Release build, on the real RocksDB user database and plugin host. Prints the JSON line of
# plan_nightly (setup, first plans, the night, runners per second, peak RSS, database size).
#
#   bench/scripts/plan_nightly.sh                 # RUNNERS=100000 MONTHS=6
#   RUNNERS=10000 bench/scripts/plan_nightly.sh   # a quicker look
set -euo pipefail
cd "$(dirname "$0")/../.."
bench_dir=${BENCH_DIR:-/tmp/stride-bench}
mkdir -p "$bench_dir"
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTRIDE_BUILD_BENCH=ON >/dev/null
ninja -C build-release plan_nightly >/dev/null
echo "nproc: $(nproc)" >&2
./build-release/bench/plan_nightly --db "$bench_dir/plan-nightly" --runners "${RUNNERS:-100000}" \
  --months "${MONTHS:-6}"
rm -rf "$bench_dir/plan-nightly"
