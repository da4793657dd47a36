// SPDX-License-Identifier: Apache-2.0
#include "tools/format.hpp"

#include <sys/resource.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace stride::tools {

std::string FormatPace(double s_per_km) {
  if (std::isnan(s_per_km) || std::isinf(s_per_km)) return "-";
  return FormatDuration(s_per_km) + " /km";
}

bool ParseInt(const std::string& s, int lo, int hi, int* out) {
  // Digits, after a '-' at most: strtol alone would take " 5", "+5" and "5 " too.
  const size_t first = !s.empty() && s[0] == '-' ? 1 : 0;
  if (s.size() <= first || s.size() > first + 10 ||
      s.find_first_not_of("0123456789", first) != std::string::npos) {
    return false;
  }
  char* end = nullptr;
  const long v = std::strtol(s.c_str(), &end, 10);
  if (*end != '\0' || v < lo || v > hi) return false;
  *out = static_cast<int>(v);
  return true;
}

bool ParseNumber(const std::string& s, double lo, double hi, double* out) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0' || !(v >= lo && v <= hi)) return false;
  *out = v;
  return true;
}

double PeakRssMiB() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // ru_maxrss is KiB on Linux
}

}  // namespace stride::tools
