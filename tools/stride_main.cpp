// SPDX-License-Identifier: Apache-2.0
//
// The `stride` command: dispatches to one subcommand. This is the one place that picks
// concrete classes and wires modules together.
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "tools/analyze_command.hpp"
#include "tools/backup_command.hpp"
#include "tools/import_command.hpp"
#include "tools/keys_command.hpp"
#include "tools/osm_update.hpp"
#include "tools/serve_command.hpp"

namespace {

constexpr std::string_view kUsage =
    "usage: stride <command> [options]\n"
    "\n"
    "commands:\n"
    "  analyze FILE... [--json] [--sport run|walk|hike|ride] [--max-hr N]\n"
    "                  [--hr-zones B2,B3,B4,B5] [--rest-hr N]\n"
    "      parse, clean, smooth, segment and measure GPX, TCX and FIT recordings\n"
    "  import --osm FILE... --db DIR [--dem DIR]\n"
    "      build a route database from OpenStreetMap extracts and SRTM tiles\n"
    "  update --db DIR --osc FILE... [--state state.txt]\n"
    "      apply OpenStreetMap change files to a database imported with --updatable\n"
    "  inspect --db DIR [--list | --route ID]\n"
    "      what a route database holds\n"
    "  serve --db DIR [--runs DIR] [--dev]\n"
    "      the HTTP API: route search, run uploads\n"
    "  worker --db DIR --runs postgresql://... --redis URL\n"
    "      post-processing for servers started with --queue-jobs\n"
    "  backup --runs DIR --to BACKUP_DIR [--keep N] | --list BACKUP_DIR\n"
    "      back the run database up (a running server: POST /v1/admin/backups)\n"
    "  restore --from BACKUP_DIR --runs NEW_DIR [--id N]\n"
    "      restore a backup into a new directory, checksums verified first\n"
    "  keys new [--id ID] | rotate --key-dir DIR [--kek-file F]\n"
    "      key-encryption keys for encryption at rest (stride serve --kek-file)\n"
    "  plugin keygen --out PREFIX | sign --key K --lib LIB --name N --version V\n"
    "      keys and signed manifests for plugins (stride serve --plugins)\n"
    "  token --user U [--scope S] [--ttl 1h]\n"
    "      mint a development bearer token\n"
    "  version\n"
    "      print the version\n"
    "\n"
    "run 'stride <command> --help' for a command's options\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string_view cmd = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (cmd == "analyze") return stride::tools::RunAnalyze(args, std::cout, std::cerr);
  if (cmd == "import") return stride::tools::RunImport(args, std::cout, std::cerr);
  if (cmd == "update") return stride::tools::RunUpdate(args, std::cout, std::cerr);
  if (cmd == "inspect") return stride::tools::RunInspect(args, std::cout, std::cerr);
  if (cmd == "serve") return stride::tools::RunServe(args, std::cout, std::cerr);
  if (cmd == "worker") return stride::tools::RunWorker(args, std::cout, std::cerr);
  if (cmd == "backup") return stride::tools::RunBackup(args, std::cout, std::cerr);
  if (cmd == "restore") return stride::tools::RunRestore(args, std::cout, std::cerr);
  if (cmd == "keys") return stride::tools::RunKeys(args, std::cout, std::cerr);
  if (cmd == "plugin") return stride::tools::RunPlugin(args, std::cout, std::cerr);
  if (cmd == "token") return stride::tools::RunToken(args, std::cout, std::cerr);
  if (cmd == "version" || cmd == "--version") {
    std::cout << "stride 0.1.0\n";
    return 0;
  }
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    std::cout << kUsage;
    return 0;
  }
  std::cerr << "stride: unknown command '" << cmd << "'\n" << kUsage;
  return 2;
}
