// SPDX-License-Identifier: Apache-2.0
#include "importers/activity/activity_reader.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
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
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    const int err = errno;
    if (err == ENOENT) return Status::NotFound("no such file");
    return Status::IoError(std::strerror(err));
  }
  struct stat st {};
  if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
    std::fclose(f);
    return Status::InvalidArgument("is a directory, expected a file");
  }
  std::string data;
  if (st.st_size > 0) {
    if (static_cast<size_t>(st.st_size) > limits.max_bytes) {
      std::fclose(f);
      return Status::ResourceExhausted("file of " + std::to_string(st.st_size) +
                                       " bytes is over the limit of " +
                                       std::to_string(limits.max_bytes));
    }
    data.reserve(static_cast<size_t>(st.st_size));
  }
  char buf[1 << 16];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) {
    // Checked before appending: a stream without end (/dev/zero, a FIFO) grows the buffer
    // to the limit, not to the next doubling past it.
    if (got > limits.max_bytes - data.size()) {
      std::fclose(f);
      return Status::ResourceExhausted("file is over the limit of " +
                                       std::to_string(limits.max_bytes) + " bytes");
    }
    data.append(buf, got);
  }
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return Status::IoError("read failed");
  return data;
}

}  // namespace stride::importers
