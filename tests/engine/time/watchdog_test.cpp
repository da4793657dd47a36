// SPDX-License-Identifier: Apache-2.0
#include "engine/time/watchdog.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace stride::engine {
namespace {

TEST(Watchdog, ExpiresOnlyWhenItsTimeRunsOut) {
  std::atomic<int> calls{0};
  {
    // Destroyed long before its time: never called, and the destructor does not wait it out
    // (the test would take an hour).
    Watchdog w(3600, [&calls] { ++calls; });
    EXPECT_FALSE(w.expired());
  }
  EXPECT_EQ(calls.load(), 0);
  {
    Watchdog w(0.01, [&calls] { ++calls; });
    while (!w.expired()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // The destructor waited for the call to return.
  EXPECT_EQ(calls.load(), 1);
}

TEST(Watchdog, StopsABlockedWait) {
  // What it is for: a call blocked on something that will not end by itself.
  std::mutex mu;
  std::condition_variable cv;
  bool stopped = false;
  Watchdog w(0.02, [&] {
    std::lock_guard lock(mu);
    stopped = true;
    cv.notify_all();
  });
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return stopped; });
  EXPECT_TRUE(w.expired());
}

}  // namespace
}  // namespace stride::engine
