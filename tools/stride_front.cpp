// SPDX-License-Identifier: Apache-2.0
//
// The `stride` users start. It runs `analyze`, `version` and `help` itself and execs
// stride-full (tools/stride_main.cpp) for every other command.
//
// Why two binaries: `stride analyze` is run once per file or per batch by scripts and apps, and
// its start-up is most of what a short analysis costs. Linked with the server, the one binary
// loaded 41 shared libraries (libpq alone brings 21: Kerberos, LDAP, GnuTLS) and ran their
// initialisers, ~26 ms before main on our 2-core machines; this one needs 6 and starts in ~4 ms.
// The other commands run for seconds to days and pay one exec (~25 ms) more.
//
// The exec keeps the process id, argv, environment and descriptors, so scripts that start
// `stride serve &` and signal $! reach the server. stride-full is looked for beside this
// binary (the build tree) and then in ../libexec/stride/ (an install).
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "tools/analyze_command.hpp"
#include "tools/usage.hpp"

namespace {

// Where stride-full can be, in the order tried: beside this binary, then an install's libexec.
std::vector<std::filesystem::path> FullBinaryCandidates() {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  const std::filesystem::path dir = self.parent_path();
  return {dir / "stride-full", dir.parent_path() / "libexec" / "stride" / "stride-full"};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << stride::tools::kStrideUsage;
    return 2;
  }
  const std::string_view cmd = argv[1];
  if (cmd == "analyze") {
    std::vector<std::string> args(argv + 2, argv + argc);
    if (const std::optional<int> refused =
            stride::tools::RefuseEmptyArgument(cmd, args, std::cerr)) {
      return *refused;
    }
    return stride::tools::RunAnalyze(args, std::cout, std::cerr);
  }
  if (const std::optional<int> done = stride::tools::PrintVersionOrHelp(cmd, std::cout)) {
    return *done;
  }
  // Everything else (and an unknown command, which stride-full reports) is stride-full's.
  const std::vector<std::filesystem::path> candidates = FullBinaryCandidates();
  std::string tried;
  for (const std::filesystem::path& path : candidates) {
    if (::access(path.c_str(), X_OK) != 0) {
      tried += "\n  " + path.string() + ": " + std::strerror(errno);
      continue;
    }
    ::execv(path.c_str(), argv);
    tried += "\n  " + path.string() + ": " + std::strerror(errno);  // execv returns on failure
  }
  if (candidates.empty()) tried = "\n  /proc/self/exe: cannot be read";
  std::cerr << "stride: '" << cmd << "' is run by stride-full, which could not be started:" << tried
            << "\n";
  return 1;
}
