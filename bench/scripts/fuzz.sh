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
#   RESUME=1 bench/scripts/fuzz.sh osm_xml        # go on to RUNS in all, from the corpus left
#
# Executions count towards RUNS across runs of one target: each run that ends without a
# finding (its time is up, or it was interrupted with Ctrl-C / SIGINT, or even killed: the
# log's last count is taken) adds its executions to build-fuzz/fuzz/logs/<target>.total.
# Without RESUME a run starts that count again; with RESUME=1 it runs what is left of RUNS,
# from the corpus the earlier runs left, so a long target can be fuzzed over several sittings.
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
  targets=(fit gpx tcx activity osm_xml http_request route_params run_params jwt multipart gzip)
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
  local log="$out/logs/$t.log" total="$out/logs/$t.total" rc=0 done=0
  if [ "${RESUME:-0}" = 1 ] && [ -f "$total" ]; then
    done=$(awk '{s += $1} END {print s + 0}' "$total")
  else
    : >"$total"
  fi
  if [ "$done" -ge "$runs" ]; then
    echo "$t: $done executions already ($total); nothing left of RUNS=$runs"
    return
  fi
  [ -f "$log" ] && mv "$log" "$log.previous"
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$out/${t}_fuzz" -runs="$((runs - done))" -max_total_time="$seconds" -timeout=60 \
    -rss_limit_mb=3072 -print_final_stats=1 -artifact_prefix="$out/artifacts/$t-" \
    "${corpora[@]}" >"$log" 2>&1 || rc=$?
  python3 - "$t" "$log" "$rc" "$total" "$done" <<'PY'
import re, sys
t, log, rc, total, done = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
text = open(log, errors="replace").read()
def stat(name):
    m = re.findall(r"stat::%s:\s+(\d+)" % name, text)
    return int(m[-1]) if m else 0
cov = re.findall(r"cov: (\d+) ft: (\d+) corp: (\d+)", text)
edges, features, corpus = cov[-1] if cov else ("?", "?", "?")
crash = re.findall(r"Test unit written to (\S+)", text)
# 72: libFuzzer's exit status when interrupted (SIGINT); 137: killed. Neither is a finding.
interrupted = rc in (72, 130, 137, 143) and not crash
finding = ("none" if rc == 0 else "none (interrupted)" if interrupted
           else "crash " + crash[-1] if crash else "exit %d (see %s)" % (rc, log))
counts = [int(n) for n in re.findall(r"^#(\d+)\s", text, re.M)]
execs = max([stat("number_of_executed_units")] + counts)
if finding.startswith("none"):
    open(total, "a").write("%d\n" % execs)
print("%-13s execs %10d  exec/s %6d  cov %5s  ft %6s  corpus %5s  peak_rss_mb %4d  finding: %s"
      "  (in all %d)" % (t, execs, stat("average_exec_per_sec"), edges, features, corpus,
                         stat("peak_rss_mb"), finding, done + execs))
PY
}
export -f fuzz_one
export out runs seconds
printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'fuzz_one {}'
