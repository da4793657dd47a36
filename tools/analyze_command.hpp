// SPDX-License-Identifier: Apache-2.0
//
// `stride analyze FILE... [--json] [--sport run|walk|hike|ride] [--max-hr N]
//                 [--hr-zones B2,B3,B4,B5] [--rest-hr N]`
//
// Reads each file (GPX, TCX or FIT, detected from the content), runs the track pipeline over
// each session and prints a summary, or one JSON object per file (one per line) with --json.
// A file that cannot be read prints one error line on stderr naming the file and where it
// went wrong; the other files are still processed. Exit code: 0 all files read, 1 some file
// failed, 2 bad command line.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace stride::tools {

int RunAnalyze(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace stride::tools
