// SPDX-License-Identifier: Apache-2.0
//
// The wall clock as the stores and the summaries record it: seconds since the Unix epoch, with
// fractions. (Code that a test must move in time takes an engine::Clock instead:
// engine/store/key_value.hpp.)
//
// Thread-safety: any thread.
#pragma once

#include <chrono>

namespace stride::engine {

inline double UnixNowS() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace stride::engine
