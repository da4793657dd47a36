// SPDX-License-Identifier: Apache-2.0
#include "engine/text/iso_time.hpp"

#include <cmath>
#include <cstdio>

namespace stride::engine {
bool ParseIsoTime(std::string_view s, double* epoch_s) {
  // The year: four digits, or the expanded form FormatIsoTime writes outside 0-9999 (a sign, then
  // four to six digits), so that every text it writes reads back.
  long long y = 0;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    const long long sign = s[0] == '-' ? -1 : 1;
    size_t end = 1;
    while (end < s.size() && end <= 7 && s[end] >= '0' && s[end] <= '9') {
      y = y * 10 + (s[end] - '0');
      ++end;
    }
    if (end < 5 || end > 7) return false;
    y *= sign;
    s.remove_prefix(end - 4);  // the fields below sit at their four-digit-year offsets
  } else {
    int y4;
    if (!ParseFixedDigits(s, 0, 4, &y4)) return false;
    y = y4;
  }
  int mo, d, h, mi, se;
  if (s.size() < 19 || s[4] != '-' || !ParseFixedDigits(s, 5, 2, &mo) || s[7] != '-' ||
      !ParseFixedDigits(s, 8, 2, &d) || (s[10] != 'T' && s[10] != ' ' && s[10] != 't') ||
      !ParseFixedDigits(s, 11, 2, &h) || s[13] != ':' || !ParseFixedDigits(s, 14, 2, &mi) ||
      s[16] != ':' || !ParseFixedDigits(s, 17, 2, &se)) {
    return false;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 24 || mi > 59 || se > 60) return false;
  size_t i = 19;
  double frac = 0;
  if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
    double scale = 0.1;
    ++i;
    const size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      frac += (s[i] - '0') * scale;
      scale *= 0.1;
      ++i;
    }
    if (i == start) return false;
  }
  long offset_s = 0;
  if (i < s.size()) {
    if (s[i] == 'Z' || s[i] == 'z') {
      ++i;
    } else if (s[i] == '+' || s[i] == '-') {
      const int sign = s[i] == '-' ? -1 : 1;
      int oh, om = 0;
      if (!ParseFixedDigits(s, i + 1, 2, &oh)) return false;
      i += 3;
      if (i < s.size() && s[i] == ':') ++i;
      if (i < s.size()) {
        if (!ParseFixedDigits(s, i, 2, &om)) return false;
        i += 2;
      }
      offset_s = sign * (oh * 3600L + om * 60L);
    }
  }
  if (i != s.size()) return false;
  const long long days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  *epoch_s = static_cast<double>(days * 86400L + h * 3600L + mi * 60L + se - offset_s) + frac;
  return true;
}

long long DaysFromCivil(long long y, unsigned m, unsigned d) {
  y -= m <= 2;
  const long long era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<long long>(doe) - 719468;
}

void CivilFromDays(long long z, long long* y, unsigned* m, unsigned* d) {
  z += 719468;
  const long long era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<long long>(yoe) + era * 400 + (*m <= 2);
}

std::string FormatIsoTime(double unix_s, int fraction_digits) {
  if (!std::isfinite(unix_s) || std::fabs(unix_s) > 1e13) return {};
  if (fraction_digits < 0) fraction_digits = 0;
  if (fraction_digits > 6) fraction_digits = 6;
  long long scale = 1;
  for (int i = 0; i < fraction_digits; ++i) scale *= 10;
  // Whole units of 10^-digits s, rounded, then split into days, seconds and the fraction.
  const auto units = static_cast<long long>(std::llround(unix_s * static_cast<double>(scale)));
  long long secs = units / scale, frac = units % scale;
  if (frac < 0) frac += scale, secs -= 1;
  long long days = secs / 86400, sod = secs % 86400;
  if (sod < 0) sod += 86400, days -= 1;
  long long y = 0;
  unsigned mo = 0, d = 0;
  CivilFromDays(days, &y, &mo, &d);
  char buf[64];
  const char* year_format = y >= 0 && y <= 9999 ? "%04lld" : (y < 0 ? "-%04lld" : "+%lld");
  int n = std::snprintf(buf, sizeof buf, year_format, y < 0 ? -y : y);
  n += std::snprintf(buf + n, sizeof buf - static_cast<size_t>(n),
                     "-%02u-%02uT%02lld:%02lld:%02lld", mo, d, sod / 3600, sod / 60 % 60, sod % 60);
  if (fraction_digits > 0) {
    n += std::snprintf(buf + n, sizeof buf - static_cast<size_t>(n), ".%0*lld", fraction_digits,
                       frac);
  }
  std::snprintf(buf + n, sizeof buf - static_cast<size_t>(n), "Z");
  return buf;
}

}  // namespace stride::engine
