// SPDX-License-Identifier: Apache-2.0
//
// stride-full: every `stride` command. Users start the lean `stride` (tools/stride_front.cpp),
// which runs `analyze` itself and execs this binary for the others. This is the one place that
// picks concrete classes and wires modules together.
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tools/analyze_command.hpp"
#include "tools/backup_command.hpp"
#include "tools/import_command.hpp"
#include "tools/keys_command.hpp"
#include "tools/osm_update.hpp"
#include "tools/serve_command.hpp"
#include "tools/usage.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << stride::tools::kStrideUsage;
    return 2;
  }
  const std::string_view cmd = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (const std::optional<int> refused = stride::tools::RefuseEmptyArgument(cmd, args, std::cerr)) {
    return *refused;
  }
  if (cmd == "analyze") return stride::tools::RunAnalyze(args, std::cout, std::cerr);
  if (cmd == "import" || cmd == "update") {
    stride::tools::RemoveBuildsOnInterrupt(std::string(cmd));
    return cmd == "import" ? stride::tools::RunImport(args, std::cout, std::cerr)
                           : stride::tools::RunUpdate(args, std::cout, std::cerr);
  }
  if (cmd == "inspect") return stride::tools::RunInspect(args, std::cout, std::cerr);
  if (cmd == "serve") return stride::tools::RunServe(args, std::cout, std::cerr);
  if (cmd == "worker") return stride::tools::RunWorker(args, std::cout, std::cerr);
  if (cmd == "backup") return stride::tools::RunBackup(args, std::cout, std::cerr);
  if (cmd == "restore") return stride::tools::RunRestore(args, std::cout, std::cerr);
  if (cmd == "keys") return stride::tools::RunKeys(args, std::cout, std::cerr);
  if (cmd == "plugin") return stride::tools::RunPlugin(args, std::cout, std::cerr);
  if (cmd == "token") return stride::tools::RunToken(args, std::cout, std::cerr);
  if (const std::optional<int> done = stride::tools::PrintVersionOrHelp(cmd, std::cout)) {
    return *done;
  }
  std::cerr << "stride: unknown command '" << cmd << "'\n" << stride::tools::kStrideUsage;
  return 2;
}
