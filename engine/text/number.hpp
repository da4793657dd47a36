// SPDX-License-Identifier: Apache-2.0
//
// Numbers in text that clients and operators send: query parameters, environment settings,
// command-line values. Strict, so that a typo is an error and not a different number: the whole
// text is one decimal number as std::from_chars reads it (an optional '-', digits, a fraction,
// an exponent); no spaces, no '+', no hex, no "inf" or "nan" (strtod takes all of those, and
// atol stops at the first letter, so "10abc" was 10). Errors are kInvalidArgument and name the
// value, quote the text and give the range: "limit: 0 is out of range [1, 500]".
//
// Thread-safety: pure functions.
//
//   STRIDE_ASSIGN_OR_RETURN(const double d, ParseNumber("distance_m", text, 400, 250000));
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/status.hpp"

namespace stride::engine {

// A finite number in [lo, hi].
Result<double> ParseNumber(std::string_view name, std::string_view text, double lo, double hi);

// A whole number (digits after an optional '-': "5.0" and "5e3" are refused) in [lo, hi].
Result<int64_t> ParseWholeNumber(std::string_view name, std::string_view text, int64_t lo,
                                 int64_t hi);

// `x` for a message (the ranges it gives): a whole number under 10^15 in digits ("1",
// "100000"), any other the shortest text that reads back as it ("0.25", "1e+30").
std::string NumberForMessage(double x);

}  // namespace stride::engine
