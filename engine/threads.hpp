// SPDX-License-Identifier: Apache-2.0
//
// How many worker threads an option asking for `requested` means: options across Stride take
// 0 for "one per core" (import and update, analyze --jobs, the plugin host's event threads,
// the synthetic generators; the HTTP event server's workers, four per core), resolved here once
// so that, for one, the import's decoding and its contraction cannot disagree about the same
// --threads.
//
// Thread-safety: pure function.
#pragma once

#include <algorithm>
#include <thread>

namespace stride::engine {

// `requested` if positive; otherwise the hardware's concurrency, at least 1 (the standard lets
// hardware_concurrency() answer 0 when it does not know).
inline int ThreadsOrCores(int requested) {
  if (requested > 0) return requested;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

}  // namespace stride::engine
