// SPDX-License-Identifier: Apache-2.0
#include "engine/memory/keep_freed.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>

namespace stride::engine {
namespace {

// Whether KeepFreedMemory's settings are in force (PreferHugePages relies on them).
std::atomic<bool> keeping{false};

// The kernel's page size (ResidentBytes counts in pages; ReleasePages gives whole ones back).
uintptr_t PageBytes() {
  static const uintptr_t page = [] {
    const long n = sysconf(_SC_PAGESIZE);
    return n > 0 ? static_cast<uintptr_t>(n) : uintptr_t{4096};
  }();
  return page;
}

}  // namespace

bool KeepFreedMemory(size_t bytes) {
#if defined(__GLIBC__)
  if (bytes == 0) {
    // glibc's default values: 128 KiB trim and mmap thresholds, no top pad (its dynamic
    // adjustment of the thresholds cannot be re-enabled once one was set).
    keeping = false;
    return mallopt(M_TRIM_THRESHOLD, 128 * 1024) == 1 && mallopt(M_TOP_PAD, 0) == 1 &&
           mallopt(M_MMAP_THRESHOLD, 128 * 1024) == 1;
  }
  const int keep = bytes > static_cast<size_t>(INT_MAX) ? INT_MAX : static_cast<int>(bytes);
  // 32 MiB is the most glibc takes as a mmap threshold on 64-bit systems.
  keeping = mallopt(M_TRIM_THRESHOLD, keep) == 1 && mallopt(M_TOP_PAD, keep / 8) == 1 &&
            mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1;
  return keeping;
#else
  (void)bytes;
  return false;
#endif
}

bool KeepingFreedMemory() {
  return keeping;
}

uint64_t ResidentBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long long size = 0, resident = 0;
  const int got = std::fscanf(f, "%llu %llu", &size, &resident);
  std::fclose(f);
  if (got != 2) return 0;
  return resident * PageBytes();
}

uint64_t PeakResidentBytes() {
  rusage u{};
  if (getrusage(RUSAGE_SELF, &u) != 0 || u.ru_maxrss < 0) return 0;
  return static_cast<uint64_t>(u.ru_maxrss) << 10;  // ru_maxrss is KiB on Linux
}

size_t ReleasePages(void* begin, size_t bytes) {
  const uintptr_t page = PageBytes();
  const uintptr_t from = (reinterpret_cast<uintptr_t>(begin) + page - 1) / page * page;
  const uintptr_t to = (reinterpret_cast<uintptr_t>(begin) + bytes) / page * page;
  if (to <= from) return 0;
  if (madvise(reinterpret_cast<void*>(from), to - from, MADV_DONTNEED) != 0) return 0;
  return to - from;
}

void ReleaseBehind::Behind(const void* p) {
  const uintptr_t page = PageBytes();
  const uintptr_t to = reinterpret_cast<uintptr_t>(p) / page * page;
  if (to <= next_) return;
  released_ += ReleasePages(reinterpret_cast<void*>(next_), to - next_);
  next_ = to;
}

bool ReturnFreedMemory() {
#if defined(__GLIBC__)
  return malloc_trim(0) == 1;
#else
  return false;
#endif
}

bool PreferHugePages(size_t bytes) {
#if defined(__GLIBC__) && defined(MADV_HUGEPAGE)
  constexpr uintptr_t kHugePage = uintptr_t{2} << 20;
  if (!keeping || bytes < 2 * kHugePage) return false;
  thread_local std::optional<bool> answered;  // this thread's first answer while keeping
  if (answered) return *answered;
  answered = false;
  void* block = std::malloc(bytes);
  if (block == nullptr) return false;
  const auto at = reinterpret_cast<uintptr_t>(block);
  const uintptr_t begin = (at + kHugePage - 1) & ~(kHugePage - 1);
  const uintptr_t end = (at + bytes) & ~(kHugePage - 1);
  const bool advised =
      end > begin && madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE) == 0;
  std::free(block);
  if (advised) {
    // The heap below `begin` would take the next blocks, on small pages: held until the thread
    // exits (64 bytes short of `begin`, for the block headers).
    thread_local struct Spacer {
      void* block = nullptr;
      ~Spacer() { std::free(block); }
    } spacer;
    std::free(spacer.block);
    spacer.block = begin - at > 128 ? std::malloc(begin - at - 64) : nullptr;
  }
  answered = advised;
  return advised;
#else
  (void)bytes;
  return false;
#endif
}

}  // namespace stride::engine
