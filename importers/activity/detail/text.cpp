// SPDX-License-Identifier: Apache-2.0
#include "importers/activity/detail/text.hpp"

#include <bit>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "engine/text/iso_time.hpp"

namespace stride::importers::detail {

namespace {

// Consumes runs of four decimal digits at p (while at least four remain), appending them to
// *mant. Four bytes are checked and converted at once: pairs first (d0 * 10 + d1 fits a byte,
// so no carries cross), then the two pairs.
inline void Digits4(const char*& p, const char* e, uint64_t* mant) {
  while (e - p >= 4) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    if ((v & 0xF0F0F0F0u) != 0x30303030u || ((v + 0x06060606u) & 0xF0F0F0F0u) != 0x30303030u)
      return;
    v -= 0x30303030u;
    // Little-endian: byte 0 is the first digit.
    if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap32(v);
    v = v * 10 + (v >> 8);  // bytes 0 and 2: d0d1 and d2d3
    const uint32_t four = (v & 0xFF) * 100 + ((v >> 16) & 0xFF);
    *mant = *mant * 10000 + four;
    p += 4;
  }
}

}  // namespace

bool ParseDouble(std::string_view s, double* out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  // Fast path, correctly rounded: up to 15 digits and no exponent. The digits form an integer
  // below 2^53 and 10^k (k <= 15) is exact, so one IEEE division rounds once.
  if (s.size() <= 17) {  // longer cannot be 15 digits with a sign and a point
    static constexpr double kPow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                        1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    const char* p = s.data();
    const char* const e = p + s.size();
    const bool neg = *p == '-';
    if (neg) ++p;
    uint64_t mant = 0;
    const char* const int_start = p;
    Digits4(p, e, &mant);
    while (p < e && static_cast<unsigned>(*p - '0') < 10)
      mant = mant * 10 + static_cast<uint64_t>(*p++ - '0');
    const long int_digits = p - int_start;
    long frac = 0;
    bool ok = int_digits > 0;
    if (p < e && *p == '.') {
      const char* const frac_start = ++p;
      Digits4(p, e, &mant);
      while (p < e && static_cast<unsigned>(*p - '0') < 10)
        mant = mant * 10 + static_cast<uint64_t>(*p++ - '0');
      frac = p - frac_start;
      ok = frac > 0;
    }
    if (ok && p == e && int_digits + frac <= 15) {
      const double v = static_cast<double>(mant) / kPow10[frac];
      *out = neg ? -v : v;
      return true;
    }
  }
  const auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool IsoTimeParser::Parse(std::string_view s, double* epoch_s) {
  // Fast path: the date of the previous call, UTC, "hh:mm:ss" then "Z" or ".fff...Z".
  if (have_ && s.size() >= 20 && s.back() == 'Z' && s[10] == 'T' && s[13] == ':' && s[16] == ':' &&
      (s.size() == 20 || s[19] == '.')) {
    uint64_t head, cached;
    std::memcpy(&head, s.data(), 8);
    std::memcpy(&cached, date_, 8);
    int h, mi, se;
    if (head == cached && s[8] == date_[8] && s[9] == date_[9] &&
        engine::ParseFixedDigits(s, 11, 2, &h) && engine::ParseFixedDigits(s, 14, 2, &mi) &&
        engine::ParseFixedDigits(s, 17, 2, &se) && h < 24 && mi < 60 && se <= 60) {
      double frac = 0, scale = 0.1;
      bool ok = true;
      for (size_t i = 20; i + 1 < s.size(); ++i, scale *= 0.1) {
        const unsigned d = static_cast<unsigned>(s[i] - '0');
        ok &= d < 10;
        frac += d * scale;
      }
      if (ok && (s.size() == 20 || s.size() > 21)) {
        *epoch_s = day_start_s_ + h * 3600.0 + mi * 60.0 + se + frac;
        return true;
      }
    }
  }
  if (!engine::ParseIsoTime(s, epoch_s)) return false;
  // Remember the date when the time is UTC ("...Z") with a four-digit year: its midnight is exact.
  if (s.size() >= 20 && s[4] == '-' && s.back() == 'Z' && (s.size() == 20 || s[19] == '.')) {
    int h = 0, mi = 0, se = 0;
    engine::ParseFixedDigits(s, 11, 2, &h);
    engine::ParseFixedDigits(s, 14, 2, &mi);
    engine::ParseFixedDigits(s, 17, 2, &se);
    s.copy(date_, 10);
    day_start_s_ = static_cast<double>(engine::DaysFromCivil(
                       std::atoi(std::string(s.substr(0, 4)).c_str()),
                       static_cast<unsigned>((s[5] - '0') * 10 + s[6] - '0'),
                       static_cast<unsigned>((s[8] - '0') * 10 + s[9] - '0'))) *
                   86400.0;
    have_ = true;
  }
  return true;
}

}  // namespace stride::importers::detail
