// SPDX-License-Identifier: Apache-2.0
//
// Number and time parsing for the text formats (GPX, TCX). No allocation, no locale.
#pragma once

#include <string_view>

namespace stride::importers::detail {

// Parses a decimal number (optional sign, optional exponent) that fills all of `s`.
bool ParseDouble(std::string_view s, double* out);

// Parses an ISO 8601 / RFC 3339 date-time ("2018-05-13T08:03:45Z", "...45.250+02:00",
// "2018-05-13 08:03:45") into seconds since the Unix epoch, UTC. A time without a zone is UTC.
bool ParseIsoTime(std::string_view s, double* epoch_s);

// ParseIsoTime for a stream of timestamps that mostly share their date: remembers the last
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
