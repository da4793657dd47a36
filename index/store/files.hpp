// SPDX-License-Identifier: Apache-2.0
//
// Whole files the stores write and read beside their databases (key files, the trail graph).
//
// Thread-safety: plain functions; concurrent writers of one path race for the rename.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "engine/status.hpp"

namespace stride::index {

// Writes `bytes` to `path` through a temporary name (`path`.tmp), synced when `sync`, with
// permission bits `mode`, so a crash leaves the old file or the new one, never a torn one.
// IoError naming the file and the reason; the temporary is removed on failure.
Status WriteFileAtomic(const std::string& path, std::string_view bytes, bool sync,
                       mode_t mode = 0600);

// The same for content too large to hold twice: `produce` hands the file's bytes, in order,
// to the function it is given (pieces of any size; small ones are gathered into 1 MiB
// writes, large ones written straight from the caller's memory). After the first failed
// write the rest are skipped and the IoError is returned.
using ByteSink = std::function<void(std::string_view)>;
Status WriteFileAtomicStreamed(const std::string& path, bool sync, mode_t mode,
                               const std::function<void(const ByteSink&)>& produce);

// The same, for a file whose parts are produced at different times (the trail graph: its
// network before the contraction, which then no longer needs the shapes in memory, its
// hierarchy after). Append as WriteFileAtomicStreamed's `produce`; Finish syncs (when `sync`)
// and renames `path`.tmp into place. The first error is kept: later Appends do nothing and
// Finish returns it. Destroyed unfinished (an error, an abandoned build), the temporary is
// removed and `path` is untouched.
class AtomicFileWriter {
 public:
  // IoError naming `path`.tmp when it cannot be created.
  static Result<AtomicFileWriter> Create(const std::string& path, mode_t mode);
  AtomicFileWriter(AtomicFileWriter&& o) noexcept;
  AtomicFileWriter& operator=(AtomicFileWriter&& o) noexcept;
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;
  ~AtomicFileWriter();

  Status Append(const std::function<void(const ByteSink&)>& produce);
  Status Finish(bool sync);
  // Bytes appended so far.
  uint64_t size() const { return size_; }

 private:
  AtomicFileWriter() = default;
  void Abandon();             // closes and unlinks the temporary
  Status WriteError() const;  // the IoError of the first failed write
  std::string path_, tmp_;
  int fd_ = -1;
  int error_ = 0;  // errno of the first failed write
  uint64_t size_ = 0;
};

// Creates the directories above `path` that are missing (as mkdir -p does). A file in the
// way is named as such (InvalidArgument), any other failure is an IoError naming the
// directory; each message starts with `where` ("--db DIR: ").
Status CreateParentDirectories(const std::string& path, const std::string& where);

// A whole file mapped read-only: its bytes without a copy on the heap (the pages come from the
// page cache and go back to it). Open: NotFound when the file does not exist; IoError naming
// the file and the reason otherwise (a directory or device: "not a regular file"). An empty
// file maps to no bytes.
class MappedFile {
 public:
  static Result<MappedFile> Open(const std::string& path);
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::string_view bytes() const { return {static_cast<const char*>(data_), size_}; }
  // Lets the pages wholly below `offset` go from this process's memory (they are read again
  // from the file if touched). For a reader done with the start of the file.
  void Release(size_t offset) const;

 private:
  MappedFile() = default;
  void* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace stride::index
