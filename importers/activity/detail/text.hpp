// SPDX-License-Identifier: Apache-2.0
//
// Number and time parsing for the text formats (GPX, TCX). No allocation, no locale.
#pragma once

#include <string_view>

namespace stride::importers::detail {

// Parses a decimal number (optional sign, optional exponent) that fills all of `s`.
bool ParseDouble(std::string_view s, double* out);

// engine::ParseIsoTime for a stream of timestamps that mostly share their date: remembers the last
// date's day number. One per reader; not thread-safe.
class IsoTimeParser {
 public:
  bool Parse(std::string_view s, double* epoch_s);

 private:
  char date_[10] = {};
  double day_start_s_ = 0;
  bool have_ = false;
};

}  // namespace stride::importers::detail
