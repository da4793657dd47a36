// SPDX-License-Identifier: Apache-2.0
//
// Rounding for what Stride prints: to a unit of 0.1, 0.001, 1e-7, ... Dividing by the scale
// (an exact integer), not multiplying by the unit, gives the double nearest the decimal, so
// 7497.9 prints as 7497.9 and not 7497.900000000001. One helper, so every document rounds alike.
//
// Thread-safety: pure functions.
#pragma once

#include <cmath>

namespace stride::engine {

// `x` to the nearest multiple of `unit` (REQUIRES: unit is 1 or 1/n for an integer n);
// NaN and infinities come back unchanged.
inline double RoundTo(double x, double unit) {
  if (!std::isfinite(x)) return x;
  const double scale = std::round(1.0 / unit);
  return std::round(x * scale) / scale;
}

}  // namespace stride::engine
