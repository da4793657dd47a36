#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Long fuzzing of every fuzz target (fuzz/README.md): a clang build with libFuzzer,
# AddressSanitizer and UndefinedBehaviorSanitizer (build-fuzz/), the seed corpus from the
# project's generators and the shared files, then each target for RUNS executions or SECONDS
# seconds, whichever ends first. One line per target: executions, executions per second,
# coverage (edges, features), corpus size, and the finding (none, or the crash file under
# build-fuzz/fuzz/artifacts/ that ctest will then replay once it is copied into
# fuzz/regressions/<target>/).
#
#   bench/scripts/fuzz.sh                         # every target, 10^7 executions or 1 hour each
#   SECONDS_EACH=120 bench/scripts/fuzz.sh gpx    # one target, two minutes
#   JOBS=2 bench/scripts/fuzz.sh                  # two targets at a time
#   BUILD_DIR=build-asan bench/scripts/fuzz.sh    # reuse scripts/test.sh's sanitizer build
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${RUNS:-10000000}
seconds=${SECONDS_EACH:-3600}
jobs=${JOBS:-1}
build=${BUILD_DIR:-build-fuzz}
CC=clang-14 CXX=clang++-14 cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Asan \
  -DSTRIDE_BUILD_BENCH=OFF -DSTRIDE_FUZZ_LIBFUZZER=ON >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(fit gpx tcx activity osm_xml http_request route_params jwt multipart gzip)
fi
ninja -C "$build" stride_fuzz_seeds "${targets[@]/%/_fuzz}" >/dev/null
out=$build/fuzz
"./$out/stride_fuzz_seeds" "$out/seeds" ../shared/datasets >&2
mkdir -p "$out/artifacts" "$out/logs"
echo "nproc: $(nproc); runs ${runs}, at most ${seconds} s per target" >&2

fuzz_one() {
  local t=$1 corpora=("$out/corpus/$1" "$out/seeds/$1")
  mkdir -p "$out/corpus/$t"
  [ -d "fuzz/regressions/$t" ] && corpora+=("fuzz/regressions/$t")
  local log="$out/logs/$t.log" rc=0
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$out/${t}_fuzz" -runs="$runs" -max_total_time="$seconds" -timeout=60 -rss_limit_mb=3072 \
    -print_final_stats=1 -artifact_prefix="$out/artifacts/$t-" "${corpora[@]}" >"$log" 2>&1 || rc=$?
  python3 - "$t" "$log" "$rc" <<'PY'
import re, sys
t, log, rc = sys.argv[1], sys.argv[2], int(sys.argv[3])
text = open(log, errors="replace").read()
def stat(name):
    m = re.findall(r"stat::%s:\s+(\d+)" % name, text)
    return int(m[-1]) if m else 0
cov = re.findall(r"cov: (\d+) ft: (\d+) corp: (\d+)", text)
edges, features, corpus = cov[-1] if cov else ("?", "?", "?")
crash = re.findall(r"Test unit written to (\S+)", text)
finding = "none" if rc == 0 else ("crash " + crash[-1] if crash else "exit %d (see %s)" % (rc, log))
execs = stat("number_of_executed_units")
print("%-13s execs %10d  exec/s %6d  cov %5s  ft %6s  corpus %5s  peak_rss_mb %4d  finding: %s"
      % (t, execs, stat("average_exec_per_sec"), edges, features, corpus, stat("peak_rss_mb"), finding))
PY
}
export -f fuzz_one
export out runs seconds
printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'fuzz_one {}'
