// SPDX-License-Identifier: Apache-2.0
#include "index/store/files.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "engine/memory/keep_freed.hpp"

namespace stride::index {

namespace {

// Writes all of `bytes` (retrying short writes and EINTR); false with errno set on failure.
bool WriteAll(int fd, std::string_view bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

Status WriteFileAtomic(const std::string& path, std::string_view bytes, bool sync, mode_t mode) {
  return WriteFileAtomicStreamed(path, sync, mode, [&](const ByteSink& out) { out(bytes); });
}

Status WriteFileAtomicStreamed(const std::string& path, bool sync, mode_t mode,
                               const std::function<void(const ByteSink&)>& produce) {
  Result<AtomicFileWriter> w = AtomicFileWriter::Create(path, mode);
  if (!w.ok()) return w.status();
  STRIDE_RETURN_IF_ERROR(w->Append(produce));
  return w->Finish(sync);
}

Result<AtomicFileWriter> AtomicFileWriter::Create(const std::string& path, mode_t mode) {
  AtomicFileWriter w;
  w.path_ = path;
  w.tmp_ = path + ".tmp";
  w.fd_ = ::open(w.tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (w.fd_ < 0) return Status::IoError("cannot create " + w.tmp_ + ": " + std::strerror(errno));
  return w;
}

AtomicFileWriter::AtomicFileWriter(AtomicFileWriter&& o) noexcept
    : path_(std::move(o.path_)),
      tmp_(std::move(o.tmp_)),
      fd_(std::exchange(o.fd_, -1)),
      error_(o.error_),
      size_(o.size_) {}

AtomicFileWriter& AtomicFileWriter::operator=(AtomicFileWriter&& o) noexcept {
  if (this != &o) {
    Abandon();
    path_ = std::move(o.path_);
    tmp_ = std::move(o.tmp_);
    fd_ = std::exchange(o.fd_, -1);
    error_ = o.error_;
    size_ = o.size_;
  }
  return *this;
}

AtomicFileWriter::~AtomicFileWriter() {
  Abandon();
}

void AtomicFileWriter::Abandon() {
  if (fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
  ::unlink(tmp_.c_str());
}

Status AtomicFileWriter::Append(const std::function<void(const ByteSink&)>& produce) {
  if (fd_ < 0) return Status::Internal("AtomicFileWriter: " + tmp_ + " is finished");
  constexpr size_t kBuffer = 1 << 20;
  std::string buffer;
  auto write = [&](std::string_view bytes) {
    if (error_ == 0 && !WriteAll(fd_, bytes)) error_ = errno;
    if (error_ == 0) size_ += bytes.size();
  };
  auto flush = [&] {
    write(buffer);
    buffer.clear();
  };
  produce([&](std::string_view piece) {
    if (error_ != 0) return;
    if (buffer.size() + piece.size() <= kBuffer) {
      if (buffer.capacity() < kBuffer) buffer.reserve(kBuffer);
      buffer.append(piece);
      return;
    }
    flush();
    if (piece.size() < kBuffer) {
      buffer.append(piece);
    } else {
      write(piece);
    }
  });
  flush();
  return error_ != 0 ? WriteError() : Status::Ok();
}

Status AtomicFileWriter::WriteError() const {
  return Status::IoError("cannot write " + tmp_ + ": " + std::strerror(error_));
}

Status AtomicFileWriter::Finish(bool sync) {
  if (fd_ < 0) return Status::Internal("AtomicFileWriter: " + tmp_ + " is finished");
  auto failed = [&](const std::string& what, int error) {
    const Status s = Status::IoError(what + " " + tmp_ + ": " + std::strerror(error));
    ::unlink(tmp_.c_str());
    return s;
  };
  if (error_ != 0) {
    Abandon();
    return WriteError();
  }
  // The descriptor is closed whether or not the sync succeeds; the first error is reported.
  const int sync_error = sync && ::fsync(fd_) != 0 ? errno : 0;
  const int close_error = ::close(fd_) != 0 ? errno : 0;
  fd_ = -1;
  if (sync_error != 0 || close_error != 0) {
    return failed("cannot sync", sync_error != 0 ? sync_error : close_error);
  }
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) return failed("cannot rename", errno);
  return Status::Ok();
}

Result<MappedFile> MappedFile::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    if (error == ENOENT) return Status::NotFound(path + ": no such file");
    return Status::IoError("cannot open " + path + ": " + std::strerror(error));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int error = errno;
    ::close(fd);
    return Status::IoError("cannot stat " + path + ": " + std::strerror(error));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::IoError(path + ": not a regular file");
  }
  MappedFile f;
  f.size_ = static_cast<size_t>(st.st_size);
  if (f.size_ > 0) {
    void* p = ::mmap(nullptr, f.size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int error = errno;
      ::close(fd);
      return Status::IoError("cannot map " + path + ": " + std::strerror(error));
    }
    ::madvise(p, f.size_, MADV_SEQUENTIAL);
    f.data_ = p;
  }
  ::close(fd);  // the mapping keeps the file
  return f;
}

MappedFile::MappedFile(MappedFile&& o) noexcept : data_(o.data_), size_(o.size_) {
  o.data_ = nullptr;
  o.size_ = 0;
}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    if (data_ != nullptr) ::munmap(data_, size_);
    data_ = o.data_;
    size_ = o.size_;
    o.data_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}

void MappedFile::Release(size_t offset) const {
  // The mapping starts on a page: every whole page below `offset` goes.
  if (data_ != nullptr) engine::ReleasePages(data_, std::min(offset, size_));
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(data_, size_);
}

Status CreateParentDirectories(const std::string& path, const std::string& where) {
  namespace fs = std::filesystem;
  const fs::path parent = fs::path(path).parent_path();
  std::error_code ec;
  if (parent.empty() || fs::is_directory(parent, ec)) return Status::Ok();
  for (fs::path up = parent; !up.empty(); up = up.parent_path()) {
    if (fs::exists(up, ec)) {
      if (!fs::is_directory(up, ec)) {
        return Status::InvalidArgument(where + up.string() + " is a file, not a directory");
      }
      break;
    }
    if (up == up.parent_path()) break;
  }
  fs::create_directories(parent, ec);
  if (ec) {
    return Status::IoError(where + "cannot create the directory " + parent.string() + ": " +
                           ec.message());
  }
  return Status::Ok();
}

}  // namespace stride::index
