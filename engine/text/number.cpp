// SPDX-License-Identifier: Apache-2.0
#include "engine/text/number.hpp"

#include <charconv>
#include <cmath>

#include "engine/text/utf8.hpp"

namespace stride::engine {
namespace {

// The text as a message quotes it: control characters and invalid bytes escaped, and cut at
// 64 bytes (a megabyte of "limit" is not echoed back whole).
std::string Shown(std::string_view text) {
  return EscapeForLog(text, 64);
}

std::string Quoted(std::string_view name, std::string_view text, const char* what) {
  return std::string(name) + ": '" + Shown(text) + "' is not " + what;
}

std::string OutOfRange(std::string_view name, std::string_view text, const std::string& lo,
                       const std::string& hi) {
  return std::string(name) + ": " + Shown(text) + " is out of range [" + lo + ", " + hi + "]";
}

}  // namespace

std::string NumberForMessage(double x) {
  char buf[32];
  // Whole numbers in digits: the shortest form of 100000 is "1e+05", which reads as a typo
  // in "expected 500 to 1e+05".
  const bool digits = std::abs(x) < 1e15 && x == std::trunc(x);
  const auto [end, ec] = digits ? std::to_chars(buf, buf + sizeof buf, x, std::chars_format::fixed)
                                : std::to_chars(buf, buf + sizeof buf, x);
  return ec == std::errc() ? std::string(buf, end) : std::string("?");
}

Result<double> ParseNumber(std::string_view name, std::string_view text, double lo, double hi) {
  double x = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), x);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(x)) {
    return Status::InvalidArgument(Quoted(name, text, "a number"));
  }
  if (!(x >= lo && x <= hi)) {
    return Status::InvalidArgument(
        OutOfRange(name, text, NumberForMessage(lo), NumberForMessage(hi)));
  }
  return x;
}

Result<int64_t> ParseWholeNumber(std::string_view name, std::string_view text, int64_t lo,
                                 int64_t hi) {
  int64_t x = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), x);
  if (ec == std::errc::result_out_of_range && end == text.data() + text.size()) {
    return Status::InvalidArgument(OutOfRange(name, text, std::to_string(lo), std::to_string(hi)));
  }
  if (ec != std::errc() || end != text.data() + text.size()) {
    double d = 0;  // "2.5": a number, but not a whole one
    const auto [dend, dec] = std::from_chars(text.data(), text.data() + text.size(), d);
    if (dec == std::errc() && dend == text.data() + text.size() && std::isfinite(d)) {
      return Status::InvalidArgument(std::string(name) + ": " + Shown(text) +
                                     " is not a whole number");
    }
    return Status::InvalidArgument(Quoted(name, text, "a whole number"));
  }
  if (x < lo || x > hi) {
    return Status::InvalidArgument(OutOfRange(name, text, std::to_string(lo), std::to_string(hi)));
  }
  return x;
}

}  // namespace stride::engine
