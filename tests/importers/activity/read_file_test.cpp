// SPDX-License-Identifier: Apache-2.0
//
// ReadFileBytes on real files: a regular file read whole, a stream read until its end, and
// every way it refuses (missing, a directory, over the limit by size or by stream).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "importers/activity/activity_reader.hpp"

namespace stride::importers {
namespace {

namespace fs = std::filesystem;

class ReadFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("stride_read_file_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& bytes) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  fs::path dir_;
};

// Every byte value, in an order no two adjacent positions share, so a dropped or repeated
// chunk would show.
std::string Bytes(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 7 + i / 251) & 0xFF);
  return s;
}

TEST_F(ReadFile, AFileIsReadWholeAndExactly) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{65535}, size_t{65536}, size_t{3} << 20}) {
    const std::string bytes = Bytes(n);
    Result<std::string> got = ReadFileBytes(Write("f" + std::to_string(n), bytes));
    ASSERT_TRUE(got.ok()) << got.status().message();
    EXPECT_EQ(*got, bytes) << n << " bytes";
  }
}

TEST_F(ReadFile, AFileOfExactlyTheLimitIsReadAndOneByteMoreIsRefused) {
  ReadLimits limits;
  limits.max_bytes = 1000;
  Result<std::string> at = ReadFileBytes(Write("at", Bytes(1000)), limits);
  ASSERT_TRUE(at.ok()) << at.status().message();
  EXPECT_EQ(at->size(), 1000u);
  Result<std::string> over = ReadFileBytes(Write("over", Bytes(1001)), limits);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(over.status().message(), "file of 1001 bytes is over the limit of 1000");
}

TEST_F(ReadFile, AStreamIsReadToItsEndAndAnEndlessOneIsStoppedAtTheLimit) {
  // A FIFO has no size: it is read until its writer closes, across several growths.
  const std::string fifo = (dir_ / "fifo").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::string bytes = Bytes(300'000);
  std::thread writer([&] { std::ofstream(fifo, std::ios::binary) << bytes; });
  Result<std::string> got = ReadFileBytes(fifo);
  writer.join();
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(*got, bytes);
  // /dev/zero never ends: refused once it passes the limit, having read no more than it.
  ReadLimits limits;
  limits.max_bytes = 200'000;
  Result<std::string> endless = ReadFileBytes("/dev/zero", limits);
  ASSERT_FALSE(endless.ok());
  EXPECT_EQ(endless.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(endless.status().message(), "file is over the limit of 200000 bytes");
}

TEST_F(ReadFile, WhatCannotBeReadSaysWhy) {
  Result<std::string> missing = ReadFileBytes((dir_ / "none.gpx").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "no such file");
  Result<std::string> folder = ReadFileBytes(dir_.string());
  ASSERT_FALSE(folder.ok());
  EXPECT_EQ(folder.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(folder.status().message(), "is a directory, expected a file");
  if (::geteuid() != 0) {  // root reads any file
    const std::string locked = Write("locked", "x");
    ASSERT_EQ(::chmod(locked.c_str(), 0), 0);
    Result<std::string> denied = ReadFileBytes(locked);
    ASSERT_FALSE(denied.ok());
    EXPECT_EQ(denied.status().code(), StatusCode::kIoError);
    EXPECT_EQ(denied.status().message(), "Permission denied");
  }
}

}  // namespace
}  // namespace stride::importers
