// SPDX-License-Identifier: Apache-2.0
#include "engine/text/utf8.hpp"

#include <algorithm>
#include <array>

namespace stride::engine {
namespace {

// The length of the valid UTF-8 sequence at s[i], or 0 when it is not one; *bad is then the
// length of the maximal invalid subpart (at least 1).
size_t SequenceAt(std::string_view s, size_t i, size_t* bad) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return 1;
  size_t need = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
  } else if (b0 == 0xE0) {
    need = 2, lo = 0xA0;
  } else if (b0 >= 0xE1 && b0 <= 0xEC) {
    need = 2;
  } else if (b0 == 0xED) {
    need = 2, hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xEE && b0 <= 0xEF) {
    need = 2;
  } else if (b0 == 0xF0) {
    need = 3, lo = 0x90;
  } else if (b0 >= 0xF1 && b0 <= 0xF3) {
    need = 3;
  } else if (b0 == 0xF4) {
    need = 3, hi = 0x8F;  // not past U+10FFFF
  } else {
    *bad = 1;
    return 0;
  }
  size_t k = 1;
  for (; k <= need; ++k) {
    if (i + k >= s.size()) break;
    const auto b = static_cast<unsigned char>(s[i + k]);
    const unsigned char min = k == 1 ? lo : 0x80, max = k == 1 ? hi : 0xBF;
    if (b < min || b > max) break;
  }
  if (k == need + 1) return need + 1;
  *bad = k;  // the lead byte and the continuation bytes that were valid so far
  return 0;
}

void AppendUtf8(char32_t c, std::string* out) {
  if (c < 0x80) {
    out->push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (c >> 6)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xE0 | (c >> 12)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

constexpr char kReplacement[] = "\xEF\xBF\xBD";

}  // namespace

size_t ValidUtf8Prefix(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    size_t bad = 0;
    const size_t n = SequenceAt(s, i, &bad);
    if (n == 0) return i;
    i += n;
  }
  return i;
}

std::string ValidUtf8(std::string_view s, size_t* replaced) {
  size_t i = ValidUtf8Prefix(s);
  if (i == s.size()) return std::string(s);
  std::string out(s.substr(0, i));
  while (i < s.size()) {
    size_t bad = 0;
    const size_t n = SequenceAt(s, i, &bad);
    if (n > 0) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += kReplacement;
      if (replaced) ++*replaced;
      i += bad;
    }
  }
  return out;
}

std::string Latin1ToUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (unsigned char c : s) AppendUtf8(c, &out);
  return out;
}

std::string Windows1252ToUtf8(std::string_view s) {
  // 0x80..0x9F; 0 = unassigned.
  static constexpr std::array<char16_t, 32> kHigh = {
      0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
      0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
      0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (unsigned char c : s) {
    if (c >= 0x80 && c <= 0x9F) {
      const char16_t u = kHigh[c - 0x80];
      if (u == 0) {
        out += kReplacement;
      } else {
        AppendUtf8(u, &out);
      }
    } else {
      AppendUtf8(c, &out);
    }
  }
  return out;
}

std::string EscapeForLog(std::string_view s, size_t max_bytes) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(std::min(s.size(), max_bytes) + 8);
  size_t i = 0;
  auto escape = [&](unsigned char c) {
    out += "\\x";
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  };
  while (i < s.size() && i < max_bytes) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F || c == '\\') {
      escape(c);
      ++i;
      continue;
    }
    size_t bad = 0;
    const size_t n = SequenceAt(s, i, &bad);
    if (n == 0) {
      for (size_t k = 0; k < bad; ++k) escape(static_cast<unsigned char>(s[i + k]));
      i += bad;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  if (i < s.size()) out += "...";
  return out;
}

}  // namespace stride::engine
