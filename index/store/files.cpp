// SPDX-License-Identifier: Apache-2.0
#include "index/store/files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace stride::index {

Status WriteFileAtomic(const std::string& path, std::string_view bytes, bool sync, mode_t mode) {
  const std::string tmp = path + ".tmp";
  auto failed = [&](const std::string& what) {
    const Status s = Status::IoError(what + " " + tmp + ": " + std::strerror(errno));
    ::unlink(tmp.c_str());
    return s;
  };
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Status::IoError("cannot create " + tmp + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const Status s = failed("cannot write");
      ::close(fd);
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if ((sync && ::fsync(fd) != 0) || ::close(fd) != 0) return failed("cannot sync");
  if (::rename(tmp.c_str(), path.c_str()) != 0) return failed("cannot rename");
  return Status::Ok();
}

}  // namespace stride::index
