// SPDX-License-Identifier: Apache-2.0
//
// The JSON form of an analysis, shared by `stride analyze --json` and the HTTP API so that both
// say the same thing. One object per file. A file with one session has the session's fields at
// the top level; a file with several (multi-sport) has totals at the top level and the
// sessions, each a full analysis, under "sessions". Units are in the names; absent values are
// null. Distances are rounded to 0.1 m, times to 0.1 s.
//
// Thread-safety: pure function.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/track/analysis.hpp"

namespace stride::engine {

// REQUIRES: !sessions.empty(). `indent` < 0 renders one line.
std::string AnalysisJson(std::string_view file_name, const std::vector<Analysis>& sessions,
                         int indent = -1);

}  // namespace stride::engine
