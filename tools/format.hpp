// SPDX-License-Identifier: Apache-2.0
//
// Small text formatting helpers for the CLI's human-readable output.
#pragma once

#include <string>

namespace stride::tools {

// "1:02:03" or "2:03"; "-" for NaN.
std::string FormatDuration(double seconds);
// "5:07 /km"; "-" for NaN.
std::string FormatPace(double s_per_km);

}  // namespace stride::tools
