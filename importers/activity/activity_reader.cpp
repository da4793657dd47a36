// SPDX-License-Identifier: Apache-2.0
#include "importers/activity/activity_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

namespace stride::importers {

ActivityFormat DetectFormat(std::string_view b) {
  if (b.size() >= 12 && (b[0] == 12 || b[0] == 14) && b.substr(8, 4) == ".FIT") {
    return ActivityFormat::kFit;
  }
  // XML: find the first element that is not a declaration, comment or doctype.
  size_t i = 0;
  const size_t limit = std::min<size_t>(b.size(), 64 * 1024);
  while (i < limit) {
    const size_t lt = b.find('<', i);
    if (lt == std::string_view::npos || lt + 1 >= limit) break;
    const char c = b[lt + 1];
    if (c == '?' || c == '!') {
      i = lt + 2;
      continue;
    }
    size_t e = lt + 1;
    while (e < b.size() && b[e] != ' ' && b[e] != '>' && b[e] != '/' && b[e] != '\n' &&
           b[e] != '\r' && b[e] != '\t') {
      ++e;
    }
    std::string_view name = b.substr(lt + 1, e - lt - 1);
    if (const size_t colon = name.find(':'); colon != std::string_view::npos) {
      name = name.substr(colon + 1);
    }
    if (name == "gpx") return ActivityFormat::kGpx;
    if (name == "TrainingCenterDatabase") return ActivityFormat::kTcx;
    return ActivityFormat::kUnknown;
  }
  return ActivityFormat::kUnknown;
}

namespace {

Result<engine::Activity> ReadByFormat(std::string_view bytes, const ReadLimits& limits) {
  switch (DetectFormat(bytes)) {
    case ActivityFormat::kGpx:
      return ReadGpx(bytes, limits);
    case ActivityFormat::kTcx:
      return ReadTcx(bytes, limits);
    case ActivityFormat::kFit:
      return ReadFit(bytes, limits);
    case ActivityFormat::kUnknown:
      break;
  }
  if (bytes.empty()) return Status::InvalidArgument("byte 0: empty file, expected GPX, TCX or FIT");
  return Status::InvalidArgument(
      "byte 0: not an activity file: expected a FIT header ('.FIT' at byte 8) or an XML "
      "document whose root is <gpx> or <TrainingCenterDatabase>");
}

}  // namespace

Result<engine::Activity> ReadActivity(std::string_view bytes, const ReadLimits& limits) {
  if (bytes.size() > limits.max_bytes) {
    return Status::ResourceExhausted("file of " + std::to_string(bytes.size()) +
                                     " bytes is over the limit of " +
                                     std::to_string(limits.max_bytes));
  }
  Result<engine::Activity> a = ReadByFormat(bytes, limits);
  if (a.ok() && a->RecordsNothing()) {
    return Status::InvalidArgument(a->format +
                                   " file without a track point, lap or session total: "
                                   "nothing to analyse");
  }
  return a;
}

Result<std::string> ReadFileBytes(const std::string& path, const ReadLimits& limits) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return Status::NotFound("no such file");
    return Status::IoError(std::strerror(err));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument("is a directory, expected a file");
  }
  if (st.st_size > 0 && static_cast<uint64_t>(st.st_size) > limits.max_bytes) {
    return Status::ResourceExhausted("file of " + std::to_string(st.st_size) +
                                     " bytes is over the limit of " +
                                     std::to_string(limits.max_bytes));
  }
  // read() straight into the result, never more than one byte past the limit (which is how
  // a stream without end, /dev/zero or a FIFO, is caught). A regular file is sized to its
  // length and one more byte, so it is read with one call and its end seen without growing;
  // a stream grows by doubling from 64 KiB.
  const size_t cap = limits.max_bytes == SIZE_MAX ? SIZE_MAX : limits.max_bytes + 1;
  const size_t first = st.st_size > 0 ? static_cast<size_t>(st.st_size) + 1 : size_t{1} << 16;
  std::string data(std::min(first, cap), '\0');
  size_t used = 0;
  while (true) {
    if (used == data.size()) {
      if (used == cap) {
        return Status::ResourceExhausted("file is over the limit of " +
                                         std::to_string(limits.max_bytes) + " bytes");
      }
      // Never past cap: a regular file that grew after fstat, under a limit below 64 KiB,
      // would otherwise be read on past its limit.
      data.resize(used > cap / 2 ? cap : std::min(cap, std::max(2 * used, size_t{1} << 16)));
    }
    const ssize_t got = ::read(fd, data.data() + used, data.size() - used);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return Status::IoError(std::string("read failed: ") + std::strerror(errno));
    if (got == 0) break;
    used += static_cast<size_t>(got);
  }
  data.resize(used);
  return data;
}

}  // namespace stride::importers
