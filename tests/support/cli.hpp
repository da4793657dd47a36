// SPDX-License-Identifier: Apache-2.0
//
// Runs the real `stride` binary (built at STRIDE_CLI) through the shell and captures its exit
// code, stdout and stderr, as an operator's script would see them.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace stride::testing {

struct CliRun {
  int exit_code = -1;
  std::string out, err;
};

// Runs a shell command line; its stderr is captured apart from its stdout.
inline CliRun RunShell(const std::string& command) {
  namespace fs = std::filesystem;
  const fs::path err_file =
      fs::temp_directory_path() / ("stride_cli_err_" + std::to_string(::getpid()));
  const std::string cmd = command + " 2>" + err_file.string();
  CliRun r;
  FILE* p = ::popen(cmd.c_str(), "r");
  std::array<char, 65536> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream e(err_file);
  std::stringstream ss;
  ss << e.rdbuf();
  r.err = ss.str();
  fs::remove(err_file);
  return r;
}

// `args` is pasted into a shell command line after the binary's path.
inline CliRun Stride(const std::string& args) {
  return RunShell(std::string(STRIDE_CLI) + " " + args);
}

}  // namespace stride::testing
