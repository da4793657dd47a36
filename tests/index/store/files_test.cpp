// SPDX-License-Identifier: Apache-2.0
#include "index/store/files.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace stride::index {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class Files : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/stride_files_" + std::to_string(::getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
};

// Small pieces gathered across the 1 MiB buffer's edge, then pieces larger than the buffer
// written straight through, then small ones again: the file is their concatenation, in order.
TEST_F(Files, StreamedWriteIsTheConcatenationOfItsPieces) {
  const std::string path = dir_ + "/graph.bin";
  std::string expected;
  std::string big(2'500'000, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i * 7 % 26);
  const Status s = WriteFileAtomicStreamed(path, /*sync=*/true, 0644, [&](const ByteSink& out) {
    for (int i = 0; i < 400'000; ++i) {  // 2.8 MB of 7-byte pieces
      const std::string piece = "p" + std::to_string(100'000 + i);
      out(piece);
      expected += piece;
    }
    out(big);
    expected += big;
    out(std::string_view(big).substr(3, 1'048'576));  // exactly the buffer's size
    expected += big.substr(3, 1'048'576);
    out("end");
    expected += "end";
  });
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(ReadAll(path), expected);
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST_F(Files, StreamedWriteIntoAMissingDirectoryNamesTheFile) {
  const std::string path = dir_ + "/missing/graph.bin";
  bool produced = false;
  const Status s =
      WriteFileAtomicStreamed(path, true, 0644, [&](const ByteSink&) { produced = true; });
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_NE(s.message().find(path + ".tmp"), std::string::npos) << s.message();
  EXPECT_FALSE(produced);  // nothing is asked for when the file cannot be made
}

// A full disk: the first failed write is the error (ENOSPC), and neither the file nor its temporary
// is left. /dev/full fails every write with ENOSPC; the temporary beside it cannot be made there,
// so a symlink named PATH.tmp points at it.
TEST_F(Files, StreamedWriteThatFailsLeavesNothing) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full on this system";
  const std::string path = dir_ + "/graph.bin";
  fs::create_symlink("/dev/full", path + ".tmp");
  const Status s = WriteFileAtomicStreamed(path, false, 0644, [&](const ByteSink& out) {
    const std::string big(3 << 20, 'x');
    out(big);
    out(big);
    out("small");
  });
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_NE(s.message().find("cannot write"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("No space left"), std::string::npos) << s.message();
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(fs::symlink_status(path + ".tmp")));
}

// A file written in parts at different times is their concatenation, appears only when
// finished, and one abandoned (destroyed unfinished) leaves neither it nor its temporary, and
// the file it would have replaced as it was.
TEST_F(Files, AFileWrittenInPartsAppearsWhenFinished) {
  const std::string path = dir_ + "/graph.bin";
  {
    Result<AtomicFileWriter> w = AtomicFileWriter::Create(path, 0644);
    ASSERT_TRUE(w.ok()) << w.status().message();
    const std::string big(1'500'000, 'b');
    ASSERT_TRUE(w->Append([&](const ByteSink& out) {
                   out("head:");
                   out(big);
                 }).ok());
    EXPECT_FALSE(fs::exists(path));
    EXPECT_EQ(fs::file_size(path + ".tmp"), 5u + big.size());
    AtomicFileWriter moved = std::move(*w);  // a builder keeps it as a member
    ASSERT_TRUE(moved.Append([&](const ByteSink& out) { out(":tail"); }).ok());
    EXPECT_EQ(moved.size(), 10u + big.size());
    ASSERT_TRUE(moved.Finish(/*sync=*/true).ok());
    EXPECT_EQ(ReadAll(path), "head:" + big + ":tail");
    EXPECT_FALSE(fs::exists(path + ".tmp"));
    EXPECT_EQ(moved.Finish(true).code(), StatusCode::kInternal);  // once
  }
  {
    Result<AtomicFileWriter> w = AtomicFileWriter::Create(path, 0644);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(w->Append([&](const ByteSink& out) { out("half of a new file"); }).ok());
    EXPECT_TRUE(fs::exists(path + ".tmp"));
  }
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  EXPECT_EQ(ReadAll(path).substr(0, 5), "head:");  // the finished one, untouched
}

TEST_F(Files, MappedFileHoldsTheBytes) {
  const std::string path = dir_ + "/data";
  std::string content(3 << 20, '\0');
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 131 % 251);
  ASSERT_TRUE(WriteFileAtomic(path, content, false).ok());
  Result<MappedFile> m = MappedFile::Open(path);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->bytes(), content);
  MappedFile moved = std::move(m).value();  // the mapping moves with it
  EXPECT_EQ(moved.bytes(), content);
  moved.Release(content.size() / 2 + 100);  // released pages read again from the file
  EXPECT_EQ(moved.bytes(), content);
  moved.Release(content.size() * 2);
  EXPECT_EQ(moved.bytes(), content);

  ASSERT_TRUE(WriteFileAtomic(dir_ + "/empty", "", false).ok());
  Result<MappedFile> empty = MappedFile::Open(dir_ + "/empty");
  ASSERT_TRUE(empty.ok()) << empty.status().message();
  EXPECT_TRUE(empty->bytes().empty());
}

TEST_F(Files, MappedFileErrorsSayWhatAndWhere) {
  Result<MappedFile> missing = MappedFile::Open(dir_ + "/nothing");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find(dir_ + "/nothing"), std::string::npos);
  Result<MappedFile> directory = MappedFile::Open(dir_);
  EXPECT_EQ(directory.status().code(), StatusCode::kIoError);
  EXPECT_NE(directory.status().message().find(dir_ + ": not a regular file"), std::string::npos)
      << directory.status().message();
}

}  // namespace
}  // namespace stride::index
