// SPDX-License-Identifier: Apache-2.0
//
// KeepFreedMemory against glibc's own account of the heap (mallinfo2): with the setting, 20 MB
// freed in small blocks stays in the process; with the defaults restored, it is given back.
// Not under the sanitizers (they bring their own allocator) nor off glibc.
#include "engine/memory/keep_freed.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/sanitized.hpp"

namespace stride::engine {
namespace {

#if defined(__GLIBC__) && !defined(STRIDE_TEST_SANITIZED)
// How much more free memory the heap holds after 20 MB of small blocks were allocated and
// freed (newest first, so the top of the heap is freed last and can be trimmed) than before.
int64_t HeldAfterChurn() {
  const int64_t before = static_cast<int64_t>(mallinfo2().fordblks);
  std::vector<void*> blocks;
  blocks.reserve(1000);  // before the blocks: below them, so it cannot pin the heap's top
  for (int i = 0; i < 1000; ++i) blocks.push_back(::operator new(20 * 1024));
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) ::operator delete(*it);
  return static_cast<int64_t>(mallinfo2().fordblks) - before;
}

TEST(KeepFreedMemory, FreedHeapStaysWithTheSettingAndGoesWithoutIt) {
  ASSERT_TRUE(KeepFreedMemory(64 << 20));
  EXPECT_GT(HeldAfterChurn(), int64_t{16} << 20);
  ASSERT_TRUE(KeepFreedMemory(0));
  malloc_trim(0);  // what the first churn kept goes; from here on, the defaults decide
  EXPECT_LT(HeldAfterChurn(), int64_t{4} << 20);
}
TEST(KeepFreedMemory, LargeBlocksComeFromTheHeapWhileKept) {
  // glibc maps a block of 128 KiB or more on its own (mallinfo2().hblkhd counts those bytes)
  // once any threshold was set; while memory is kept, blocks up to 32 MiB come from the heap.
  // The heap's free top is given back first: a block the heap can hold never asks for more.
  auto mapped_for = [](size_t bytes) {
    malloc_trim(0);
    const size_t before = mallinfo2().hblkhd;
    void* p = std::malloc(bytes);
    static_cast<volatile char*>(p)[0] = 1;  // a block in use: the pair cannot be optimised out
    const size_t during = mallinfo2().hblkhd;
    std::free(p);
    return during - before;
  };
  ASSERT_TRUE(KeepFreedMemory(64 << 20));
  EXPECT_TRUE(KeepingFreedMemory());
  EXPECT_EQ(mapped_for(size_t{4} << 20), 0u);
  EXPECT_GE(mapped_for(size_t{40} << 20), size_t{40} << 20);  // over 32 MiB: mapped still
  ASSERT_TRUE(KeepFreedMemory(0));
  EXPECT_FALSE(KeepingFreedMemory());
  EXPECT_GE(mapped_for(size_t{1} << 20), size_t{1} << 20);
}

// The VmFlags of the mapping that holds `address` (/proc/self/smaps), "" when none does.
std::string VmFlagsAt(uintptr_t address) {
  std::ifstream smaps("/proc/self/smaps");
  bool inside = false;
  for (std::string line; std::getline(smaps, line);) {
    const size_t dash = line.find('-');
    const size_t space = line.find(' ');
    if (dash != std::string::npos && space != std::string::npos && dash < space &&
        line.find_first_not_of("0123456789abcdef") == dash) {
      const uintptr_t lo = std::stoull(line.substr(0, dash), nullptr, 16);
      const uintptr_t hi = std::stoull(line.substr(dash + 1, space - dash - 1), nullptr, 16);
      inside = lo <= address && address < hi;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return "";
}

bool TransparentHugePagesOff() {
  std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str().empty() || ss.str().find("[never]") != std::string::npos;
}

TEST(PreferHugePages, WhatTheThreadAllocatesNextIsAdvised) {
  if (TransparentHugePagesOff()) GTEST_SKIP() << "no transparent huge pages in this kernel";
  ASSERT_TRUE(KeepFreedMemory(0));
  EXPECT_FALSE(PreferHugePages(size_t{16} << 20));  // only while memory is kept
  ASSERT_TRUE(KeepFreedMemory(64 << 20));
  std::string flags_inside;
  bool advised = false, again = false;
  std::thread([&] {  // a thread of its own: a heap of its own, nothing allocated before
    advised = PreferHugePages(size_t{16} << 20);
    void* next = std::malloc(size_t{4} << 20);
    flags_inside = VmFlagsAt(reinterpret_cast<uintptr_t>(next) + (size_t{1} << 20));
    std::free(next);
    // Once per thread: a second call does nothing and gives the first one's answer (asked
    // for a block no malloc can give, it would fail if it tried).
    again = PreferHugePages(size_t{1} << 62);
  })
      .join();
  ASSERT_TRUE(KeepFreedMemory(0));
  EXPECT_TRUE(advised);
  EXPECT_TRUE(again);
  EXPECT_NE(flags_inside.find(" hg"), std::string::npos)
      << "the next block is not in the advised range: " << flags_inside;
}

// 40 MB in small blocks, freed but for one block in every 65: the free memory lies in 64 KB
// holes that neither free() nor the top trim gives back; ReturnFreedMemory gives back their
// pages.
TEST(ReturnFreedMemory, GivesBackThePagesOfHolesInsideTheHeap) {
  ASSERT_TRUE(KeepFreedMemory(0));
  std::vector<char*> blocks;
  blocks.reserve(40000);
  for (int i = 0; i < 40000; ++i) {
    blocks.push_back(static_cast<char*>(::operator new(1000)));
    std::memset(blocks.back(), 1, 1000);  // resident
  }
  std::vector<char*> kept;
  for (size_t i = 0; i < blocks.size(); ++i) {
    if (i % 65 == 64) {
      kept.push_back(blocks[i]);
    } else {
      ::operator delete(blocks[i]);
    }
  }
  const auto before = static_cast<int64_t>(ResidentBytes());
  EXPECT_TRUE(ReturnFreedMemory());
  const auto after = static_cast<int64_t>(ResidentBytes());
  EXPECT_GT(before - after, int64_t{20} << 20) << before << " -> " << after;
  for (char* b : kept) ::operator delete(b);
}
#else
TEST(KeepFreedMemory, NotMeasurableHere) {
  GTEST_SKIP() << "glibc's heap account is needed (not under the sanitizers, not off glibc)";
}
#endif

// The peak is the kernel's high-water mark: 48 MiB touched and given back stays counted in it,
// while the resident memory drops again. Pages mapped directly, so the allocator (a
// sanitizer's or glibc's) plays no part.
TEST(PeakResidentBytes, KeepsAPeakThatIsGone) {
  const size_t n = size_t{48} << 20;
  void* p = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  std::memset(p, 1, n);
  const uint64_t held = ResidentBytes();
  ASSERT_GT(held, n);
  ASSERT_EQ(munmap(p, n), 0);
  const uint64_t after = ResidentBytes();
  const uint64_t peak = PeakResidentBytes();
  EXPECT_LT(after + (n / 2), held) << "munmap gave the pages back";
  EXPECT_GT(peak, after + (n / 2)) << "the peak still holds them";
  // The kernel counts resident pages per thread and folds them into the process's count every
  // 64 page faults, so the two readings may differ by a few hundred KiB (measured: < 100 KiB).
  EXPECT_GE(peak + (size_t{1} << 20), held);
}

// The pages inside the range go (resident memory drops by about the range); the bytes on
// either side keep their values, though they share a page with the range's ends.
TEST(ReleasePages, GivesBackTheWholePagesOfARange) {
  std::vector<uint64_t> a(size_t{8} << 20);  // 64 MiB, touched
  for (size_t i = 0; i < a.size(); ++i) a[i] = i * 3 + 1;
  const size_t lo = 1'000'001, hi = 7'000'003;  // not on page edges
  const uint64_t before = ResidentBytes();
  const size_t released = ReleasePages(a.data() + lo, (hi - lo) * sizeof(uint64_t));
  const uint64_t after = ResidentBytes();
  EXPECT_GT(released, (hi - lo) * sizeof(uint64_t) - 8192);
  EXPECT_LE(released, (hi - lo) * sizeof(uint64_t));
  EXPECT_GT(before, after + released - (size_t{1} << 20)) << before << " -> " << after;
  bool kept = true;
  for (size_t i = 0; i < lo; ++i) kept = kept && a[i] == i * 3 + 1;
  for (size_t i = hi; i < a.size(); ++i) kept = kept && a[i] == i * 3 + 1;
  EXPECT_TRUE(kept) << "a value outside the released pages changed";
  EXPECT_EQ(a[lo + 4096], 0u);                     // inside: read again as zero
  EXPECT_EQ(ReleasePages(a.data() + 3, 100), 0u);  // no whole page
}

// A pass front to back in steps that end inside pages: every page wholly behind the last step
// goes, each once, and the bytes from the last step on keep their values.
TEST(ReleaseBehind, GivesBackWhatAPassLeftBehind) {
  std::vector<uint32_t> a(size_t{8} << 20);  // 32 MiB
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<uint32_t>(i + 7);
  ReleaseBehind behind(a.data());
  const uint64_t before = ResidentBytes();
  size_t at = 0;
  for (; at + 777'777 < a.size() * 3 / 4; at += 777'777) behind.Behind(a.data() + at);
  const uint64_t after = ResidentBytes();
  const size_t bytes_behind = at * sizeof(uint32_t) - 777'777 * sizeof(uint32_t);
  EXPECT_GE(behind.released(), bytes_behind - 2 * 4096 * 16);  // all but the partial pages
  EXPECT_LE(behind.released(), bytes_behind);
  EXPECT_GT(before, after + behind.released() - (size_t{1} << 20));
  behind.Behind(a.data() + 5);  // backwards: nothing
  const size_t last = at - 777'777;
  bool kept = true;
  for (size_t i = last; i < a.size(); ++i) kept = kept && a[i] == i + 7;
  EXPECT_TRUE(kept);
}

}  // namespace
}  // namespace stride::engine
