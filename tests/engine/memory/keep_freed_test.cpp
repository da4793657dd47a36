// SPDX-License-Identifier: Apache-2.0
//
// KeepFreedMemory against glibc's own account of the heap (mallinfo2): with the setting, 20 MB
// freed in small blocks stays in the process; with the defaults restored, it is given back.
// Not under the sanitizers (they bring their own allocator) nor off glibc.
#include "engine/memory/keep_freed.hpp"

#include <gtest/gtest.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <cstdint>
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
#else
TEST(KeepFreedMemory, NotMeasurableHere) {
  GTEST_SKIP() << "glibc's heap account is needed (not under the sanitizers, not off glibc)";
}
#endif

}  // namespace
}  // namespace stride::engine
