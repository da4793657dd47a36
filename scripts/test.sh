#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Sets everything up and runs the tests: installs the Debian packages, checks formatting
# (.clang-format, when clang-format is installed), then builds twice, each with
# -Wall -Wextra -Wpedantic -Werror, and runs each test once:
#  1. GCC (build/): the whole product (CLI, server, plugins, C library, Python module,
#     benchmarks) and only the tests that cannot run under the sanitizers
#     (STRIDE_TESTS_UNSANITIZED_ONLY: glibc's allocator, the installed C library, the Python
#     module, the map page in Chromium, the cluster script);
#  2. clang with AddressSanitizer + UndefinedBehaviorSanitizer and libFuzzer (build-asan/):
#     every other test, and each fuzz target fuzzing for STRIDE_FUZZ_SECONDS (10).
# Until December 2026 the GCC build also built and ran every test, which then ran again under
# the sanitizers: its build took 696 s instead of 292 s and its tests 143 s instead of 32 s,
# of CI's 37-45 minutes on 2 cores. For all tests without the sanitizers, configure a build
# yourself (the default options build them all).
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

phase "build (GCC, RelWithDebInfo): the product, and the tests the sanitizers cannot run"
# -g1 (line tables): enough for a failing test's backtrace, and a third less compile time
# than full debug information. Configure build/ yourself for a debugger's -g.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTRIDE_TESTS_UNSANITIZED_ONLY=ON \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" >/dev/null
ninja -C build -j "$jobs"
phase "those tests"
(cd build && ctest -j "$jobs" --output-on-failure)

phase "build (Asan: clang, AddressSanitizer + UndefinedBehaviorSanitizer, libFuzzer)"
# clang here: a second compiler's warnings (the only ones on the tests' code), UBSan checks
# GCC's -fsanitize=undefined leaves out (float-cast-overflow), and libFuzzer, so the fuzz targets
# (fuzz/) fuzz for a few seconds each besides replaying their seeds and regressions. A
# build-asan/ configured by GCC is remade.
if grep -qs "CMAKE_CXX_COMPILER:[A-Z]*=.*g++" build-asan/CMakeCache.txt; then rm -rf build-asan; fi
CC=clang-14 CXX=clang++-14 cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Asan \
  -DSTRIDE_BUILD_BENCH=OFF -DSTRIDE_BUILD_PACKAGES=OFF -DSTRIDE_FUZZ_LIBFUZZER=ON \
  -DSTRIDE_FUZZ_SECONDS="${STRIDE_FUZZ_SECONDS:-10}" >/dev/null
ninja -C build-asan -j "$jobs"
phase "tests under sanitizers, and each fuzz target for ${STRIDE_FUZZ_SECONDS:-10} s"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest -j "$jobs" --output-on-failure)
phase "done"
