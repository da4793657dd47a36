// SPDX-License-Identifier: Apache-2.0
//
// What the bench clients share: flag lookup, a steady clock in seconds, percentiles.
#pragma once

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

namespace stride::bench {

// The value after `--name` among argv[first..], or `def`. (`first` = 2 skips a subcommand.)
inline std::string Arg(int argc, char** argv, const std::string& name, const std::string& def = "",
                       int first = 1) {
  for (int i = first; i + 1 < argc; ++i) {
    if (argv[i] == name) return argv[i + 1];
  }
  return def;
}

// Seconds on the steady clock (for intervals only).
inline double SteadySeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The value at fraction p (0..1) of the sorted values (nearest rank, from below); 0 when empty.
inline double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace stride::bench
