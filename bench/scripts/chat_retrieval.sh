#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The chat memory at ~10,000 documents (issue 14's figure: retrieval p99 under 5 ms
# in-process): bench/server/chat_retrieval.cpp on a Release build. One JSON line per vector
# index (hnsw, the plugin's; exact, the reference in the same run): build_ms (the memory's
# rebuild), memory_bytes, retrieval p50/p99/max and recall@5 of the fusion and each method
# alone over the evaluation's 338 questions, and the cost of adding one run's document.
#
#   bench/scripts/chat_retrieval.sh                    # EXTRA=27 (~10,000 documents)
#   EXTRA=4 bench/scripts/chat_retrieval.sh            # ~1,700 documents
set -euo pipefail
cd "$(dirname "$0")/../.."
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTRIDE_BUILD_BENCH=ON >/dev/null
ninja -C build-release chat_retrieval >/dev/null
echo "nproc: $(nproc)" >&2
./build-release/bench/chat_retrieval --extra-runs-per-day "${EXTRA:-27}" --repeat "${REPEAT:-5}"
