// SPDX-License-Identifier: Apache-2.0
//
// UTC date-times as ISO 8601 text: the one formatter for analysis JSON, run summaries, GPX
// exports, manifests and logs. Proleptic Gregorian calendar, so every finite time has a text:
// years 0-9999 are written with four digits ("0001-01-01T00:00:00Z"), others in ISO 8601's
// expanded form ("+10000-...", "-0001-..."). No time zone database and no libc state.
//
// Thread-safety: pure functions.
//
//   FormatIsoTime(1.6e9) == "2020-09-13T12:26:40Z";  FormatIsoTime(t, 3) -> "...:40.250Z"
#pragma once

#include <string>
#include <string_view>

namespace stride::engine {

// `unix_s` as "YYYY-MM-DDTHH:MM:SS[.fff]Z" with `fraction_digits` (0-6) digits of the second,
// rounded. Empty for NaN, infinities and times more than 10^13 s (~300,000 years) from 1970.
std::string FormatIsoTime(double unix_s, int fraction_digits = 0);

// Parses an ISO 8601 / RFC 3339 date-time ("2018-05-13T08:03:45Z", "...45.250+02:00",
// "2018-05-13 08:03:45") into seconds since the Unix epoch, UTC. A time without a zone is UTC.
// Years outside 0-9999 in the expanded form FormatIsoTime writes ("-0003-...", "+10000-...", up to
// six digits), so every text FormatIsoTime writes reads back. False for anything else (trailing
// text included).
bool ParseIsoTime(std::string_view s, double* epoch_s);

// The n decimal digits of `s` at `pos` as a number; false when any is not a digit or the text
// is shorter. Inline: the GPX reader's per-point time fast path calls it.
inline bool ParseFixedDigits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    const char c = s[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date, and back (Howard Hinnant's algorithms).
long long DaysFromCivil(long long y, unsigned m, unsigned d);
void CivilFromDays(long long days, long long* y, unsigned* m, unsigned* d);

}  // namespace stride::engine
