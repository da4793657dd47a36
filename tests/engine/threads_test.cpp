// SPDX-License-Identifier: Apache-2.0
#include "engine/threads.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace stride::engine {
namespace {

TEST(ThreadsOrCores, AskedForIsGiven) {
  EXPECT_EQ(ThreadsOrCores(1), 1);
  EXPECT_EQ(ThreadsOrCores(3), 3);
  EXPECT_EQ(ThreadsOrCores(1024), 1024);
}

TEST(ThreadsOrCores, ZeroOrLessMeansOnePerCoreAndNeverNone) {
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  const int expected = cores > 0 ? cores : 1;
  EXPECT_EQ(ThreadsOrCores(0), expected);
  EXPECT_EQ(ThreadsOrCores(-4), expected);
}

}  // namespace
}  // namespace stride::engine
