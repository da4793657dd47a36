// SPDX-License-Identifier: Apache-2.0
#include "tools/format.hpp"

#include <cmath>

#include "engine/memory/keep_freed.hpp"
#include "engine/text/number.hpp"

namespace stride::tools {

std::string FormatPace(double s_per_km) {
  if (std::isnan(s_per_km) || std::isinf(s_per_km)) return "-";
  return FormatDuration(s_per_km) + " /km";
}

bool ParseInt(const std::string& s, int lo, int hi, int* out) {
  const Result<int64_t> v = engine::ParseWholeNumber("", s, lo, hi);
  if (!v.ok()) return false;
  *out = static_cast<int>(*v);
  return true;
}

bool ParseNumber(const std::string& s, double lo, double hi, double* out) {
  const Result<double> v = engine::ParseNumber("", s, lo, hi);
  if (!v.ok()) return false;
  *out = *v;
  return true;
}

double PeakRssMiB() {
  return static_cast<double>(engine::PeakResidentBytes()) / 1048576.0;
}

}  // namespace stride::tools
