// SPDX-License-Identifier: Apache-2.0
#include "engine/memory/keep_freed.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <climits>

namespace stride::engine {

bool KeepFreedMemory(size_t bytes) {
#if defined(__GLIBC__)
  if (bytes == 0) {
    // glibc's defaults: a 128 KiB trim threshold and no top pad (the dynamic mmap threshold
    // cannot be re-enabled once set; it is not set here).
    return mallopt(M_TRIM_THRESHOLD, 128 * 1024) == 1 && mallopt(M_TOP_PAD, 0) == 1;
  }
  const int keep = bytes > static_cast<size_t>(INT_MAX) ? INT_MAX : static_cast<int>(bytes);
  return mallopt(M_TRIM_THRESHOLD, keep) == 1 && mallopt(M_TOP_PAD, keep / 8) == 1;
#else
  (void)bytes;
  return false;
#endif
}

}  // namespace stride::engine
