// SPDX-License-Identifier: Apache-2.0
//
// Small helpers for the CLI: formatting for human-readable output, parsing of option values,
// the figures a command reports about itself.
#pragma once

#include <string>

#include "engine/text/duration.hpp"

namespace stride::tools {

// "1:02:03" or "2:03"; "-" for NaN (engine/text/duration.hpp).
using engine::FormatDuration;
// "5:07 /km"; "-" for NaN.
std::string FormatPace(double s_per_km);

// A whole number (digits, after a '-' at most) / a number in [lo, hi], the entire string
// (no spaces, '+' or hex: engine/text/number.hpp); false otherwise.
bool ParseInt(const std::string& s, int lo, int hi, int* out);
bool ParseNumber(const std::string& s, double lo, double hi, double* out);

// This process's peak resident memory so far, MiB, for messages (engine::PeakResidentBytes).
double PeakRssMiB();

}  // namespace stride::tools
