#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Sets everything up and runs the tests: installs the Debian packages, checks formatting
# (.clang-format, when clang-format is installed), builds with
# -Wall -Wextra -Wpedantic -Werror, runs every test (unit and integration), then builds with
# clang, AddressSanitizer + UndefinedBehaviorSanitizer and libFuzzer and runs them all again,
# with each fuzz target fuzzing for STRIDE_FUZZ_SECONDS (10).
#
# Tests that need the shared data (../shared/datasets) skip with a message when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/check_format.sh
jobs=$(nproc)
# Each phase's line says when it began, so a CI log shows where its time goes (bash's SECONDS
# counts from the script's start, packages included).
phase() { echo "== $* (at ${SECONDS} s)"; }

phase "build (RelWithDebInfo)"
# -g1 (line tables): enough for a failing test's backtrace, and a third less compile time
# than full debug information. Configure build/ yourself for a debugger's -g.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" >/dev/null
ninja -C build -j "$jobs"
phase "tests"
(cd build && ctest -j "$jobs" --output-on-failure)

phase "build (Asan: clang, AddressSanitizer + UndefinedBehaviorSanitizer, libFuzzer)"
# clang here: a second compiler's warnings, UBSan checks GCC's -fsanitize=undefined leaves out
# (float-cast-overflow), and libFuzzer, so the fuzz targets (fuzz/) fuzz for a few seconds each
# besides replaying their seeds and regressions. A build-asan/ configured by GCC is remade.
if grep -qs "CMAKE_CXX_COMPILER:[A-Z]*=.*g++" build-asan/CMakeCache.txt; then rm -rf build-asan; fi
CC=clang-14 CXX=clang++-14 cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Asan \
  -DSTRIDE_BUILD_BENCH=OFF -DSTRIDE_BUILD_PACKAGES=OFF -DSTRIDE_FUZZ_LIBFUZZER=ON \
  -DSTRIDE_FUZZ_SECONDS="${STRIDE_FUZZ_SECONDS:-10}" >/dev/null
ninja -C build-asan -j "$jobs"
phase "tests under sanitizers, and each fuzz target for ${STRIDE_FUZZ_SECONDS:-10} s"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest -j "$jobs" --output-on-failure)
phase "done"
