// SPDX-License-Identifier: Apache-2.0
//
// What `stride` prints for `help` and for a missing or unknown command. One text for both
// binaries: the `stride` users start (tools/stride_front.cpp) and the stride-full it runs for
// every command but `analyze` (tools/stride_main.cpp).
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace stride::tools {

#ifndef STRIDE_VERSION_TEXT
#error "the build defines STRIDE_VERSION_TEXT (the project's version) for the files using this"
#endif
inline constexpr std::string_view kStrideVersion = "stride " STRIDE_VERSION_TEXT "\n";

inline constexpr std::string_view kStrideUsage =
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

// `version` and `help` (and their flag spellings) print to `out` and exit with 0; nullopt for
// any other command.
inline std::optional<int> PrintVersionOrHelp(std::string_view cmd, std::ostream& out) {
  if (cmd == "version" || cmd == "--version") {
    out << kStrideVersion;
    return 0;
  }
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    out << kStrideUsage;
    return 0;
  }
  return std::nullopt;
}

// An empty argument is refused (exit 2) before any command sees it: no option of any command
// takes an empty value, and one is nearly always an unset shell variable (`--tls-cert
// "$CERT"`), which each command would otherwise take as the option left out: plain HTTP, no run
// storage, the default id. nullopt when there is none.
inline std::optional<int> RefuseEmptyArgument(std::string_view cmd,
                                              const std::vector<std::string>& args,
                                              std::ostream& err) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (!args[i].empty()) continue;
    err << "stride " << cmd << ": an empty argument";
    if (i > 0) err << " after " << args[i - 1];
    err << " (an unset shell variable?): give a value, or leave the option out for its "
           "default\n";
    return 2;
  }
  return std::nullopt;
}

}  // namespace stride::tools
