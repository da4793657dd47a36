// SPDX-License-Identifier: Apache-2.0
//
// StringPrintf: printf into a std::string of whatever length the text needs, with the compiler
// checking the format against the arguments (-Wformat: a %f given an int is a warning, and so
// an error in this build). For messages and reasons people read, not for hot loops (the text
// is formatted twice when it is longer than 255 bytes).
//
// Thread-safety: pure function (vsnprintf reads the locale, which Stride never changes).
#pragma once

#include <cstdarg>
#include <cstddef>
#include <cstdio>
#include <string>

namespace stride::engine {

[[gnu::format(printf, 1, 2)]] inline std::string StringPrintf(const char* format, ...) {
  char small[256];
  va_list args;
  va_start(args, format);
  va_list again;
  va_copy(again, args);
  const int n = std::vsnprintf(small, sizeof small, format, args);
  va_end(args);
  std::string out;
  if (n >= 0 && static_cast<size_t>(n) < sizeof small) {
    out.assign(small, static_cast<size_t>(n));
  } else if (n > 0) {
    out.resize(static_cast<size_t>(n));
    std::vsnprintf(out.data(), out.size() + 1, format, again);
  }
  va_end(again);
  return out;
}

}  // namespace stride::engine
