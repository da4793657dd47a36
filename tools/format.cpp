// SPDX-License-Identifier: Apache-2.0
#include "tools/format.hpp"

#include <sys/resource.h>

#include <cmath>

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
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // ru_maxrss is KiB on Linux
}

}  // namespace stride::tools
