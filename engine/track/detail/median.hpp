// SPDX-License-Identifier: Apache-2.0
//
// The (upper) median of a sample, used by the pipeline's robust estimates.
#pragma once

#include <algorithm>
#include <vector>

namespace stride::engine::detail {

// v[size / 2] after partial ordering; 0 for an empty sample. Takes the sample by value (it is
// reordered).
inline double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  const auto mid = v.begin() + static_cast<long>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

}  // namespace stride::engine::detail
