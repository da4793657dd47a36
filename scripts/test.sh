#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Sets everything up and runs the tests: installs the Debian packages, checks formatting
# (.clang-format, when clang-format is installed), builds with
# -Wall -Wextra -Wpedantic -Werror, runs every test (unit and integration), then builds with
# AddressSanitizer + UndefinedBehaviorSanitizer and runs them all again.
#
# Tests that need the shared data (../shared/datasets) skip with a message when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/check_format.sh
jobs=$(nproc)

echo "== build (RelWithDebInfo)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build -j "$jobs"
echo "== tests"
(cd build && ctest -j "$jobs" --output-on-failure)

echo "== build (Asan: AddressSanitizer + UndefinedBehaviorSanitizer)"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Asan -DSTRIDE_BUILD_BENCH=OFF >/dev/null
ninja -C build-asan -j "$jobs"
echo "== tests under sanitizers"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest -j "$jobs" --output-on-failure)
