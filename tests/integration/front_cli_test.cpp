// SPDX-License-Identifier: Apache-2.0
//
// The two binaries behind `stride` (tools/stride_front.cpp): the lean one users start runs
// `analyze` without loading the server's libraries and hands every other command to
// stride-full, found beside it or in an install's libexec/stride.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "tests/support/cli.hpp"

namespace stride {
namespace {

namespace fs = std::filesystem;
using testing::CliRun;
using testing::Stride;

// What the dynamic loader maps for a binary (LD_TRACE_LOADED_OBJECTS: ldd's list, nothing run).
std::string LoadedLibraries(const fs::path& binary) {
  const CliRun r = testing::RunShell("LD_TRACE_LOADED_OBJECTS=1 " + binary.string());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

TEST(StrideFront, AnalyzeStartsWithoutTheServersLibraries) {
  const std::string lean = LoadedLibraries(STRIDE_CLI);
  ASSERT_NE(lean.find("libstdc++"), std::string::npos) << lean;  // the list is a real one
  for (const char* lib : {"libpq", "libhiredis", "libgeos", "libssl", "libcrypto", "libprotobuf",
                          "librocksdb", "libcpp-httplib"}) {
    EXPECT_EQ(lean.find(lib), std::string::npos) << lib << " is loaded by `stride`:\n" << lean;
  }
  // stride-full, beside it, is the one that has them.
  const std::string full = LoadedLibraries(fs::path(STRIDE_CLI).parent_path() / "stride-full");
  EXPECT_NE(full.find("libpq"), std::string::npos) << full;
}

TEST(StrideFront, OtherCommandsAreStrideFulls) {
  const CliRun keys = Stride("keys new --id k1");  // stride-full's command, through the front
  EXPECT_EQ(keys.exit_code, 0) << keys.err;
  EXPECT_NE(keys.out.find("k1"), std::string::npos) << keys.out;

  const CliRun unknown = Stride("nosuch");  // stride-full's answer, the front's exit code
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("unknown command 'nosuch'"), std::string::npos) << unknown.err;

  const CliRun none = Stride("");
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("usage: stride <command>"), std::string::npos) << none.err;
  const CliRun version = Stride("version");
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out, "stride 0.1.0\n");
}

class StrideFrontLayout : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("stride_front_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "bin");
    fs::copy_file(STRIDE_CLI, dir_ / "bin" / "stride");  // a copy: /proc/self/exe is its path
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(StrideFrontLayout, FindsStrideFullInAnInstallsLibexec) {
  fs::create_directories(dir_ / "libexec" / "stride");
  fs::create_symlink(fs::absolute(fs::path(STRIDE_CLI).parent_path() / "stride-full"),
                     dir_ / "libexec" / "stride" / "stride-full");
  const CliRun r = testing::RunShell((dir_ / "bin" / "stride").string() + " nosuch");
  EXPECT_EQ(r.exit_code, 2) << r.err;  // stride-full ran and did not know the command
  EXPECT_NE(r.err.find("unknown command 'nosuch'"), std::string::npos) << r.err;
}

TEST_F(StrideFrontLayout, WithoutStrideFullSaysWhereItLooked) {
  const CliRun r = testing::RunShell((dir_ / "bin" / "stride").string() + " serve --db x");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("'serve' is run by stride-full"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find((dir_ / "bin" / "stride-full").string() + ": No such file"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find((dir_ / "libexec" / "stride" / "stride-full").string()), std::string::npos)
      << r.err;
  // `analyze` needs nothing else.
  const CliRun help = testing::RunShell((dir_ / "bin" / "stride").string() + " analyze --help");
  EXPECT_EQ(help.exit_code, 0) << help.err;
  EXPECT_NE(help.out.find("usage: stride analyze"), std::string::npos) << help.out;
}

}  // namespace
}  // namespace stride
