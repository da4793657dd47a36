// SPDX-License-Identifier: Apache-2.0
//
// Durations as people read them on a watch: "1:52:10", "48:03", "0:07". The one formatter for
// the CLI's reports and the coach chat's documents and answers.
//
// Thread-safety: pure functions.
#pragma once

#include <cmath>
#include <cstdio>
#include <string>

namespace stride::engine {

// Whole seconds (rounded) as H:MM:SS from an hour up, else M:SS; "-" for NaN, a negative
// duration or one beyond 10^12 s (no lround overflow).
inline std::string FormatDuration(double seconds) {
  if (!(seconds >= 0) || seconds > 1e12) return "-";
  const long long s = std::llround(seconds);
  char buf[40];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
  }
  return buf;
}

}  // namespace stride::engine
