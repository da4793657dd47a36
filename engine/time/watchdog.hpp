// SPDX-License-Identifier: Apache-2.0
//
// Watchdog: calls `expire` on a thread of its own once `seconds` have passed, unless it is
// destroyed first. For bounding a blocking call that has no deadline of its own: an HTTP
// client whose timeouts are per read (cpp-httplib) waits forever on a peer that sends a byte
// within each one; `expire` stops it from outside (httplib::Client::stop is safe to call from
// another thread).
//
// The destructor waits for `expire` to return if it has begun, so what it refers to may go
// right after. One thread per watchdog: for calls that take seconds, not for hot paths.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace stride::engine {

class Watchdog {
 public:
  Watchdog(double seconds, std::function<void()> expire)
      : expire_(std::move(expire)), thread_([this, seconds] {
          std::unique_lock lock(mu_);
          if (cv_.wait_for(lock, std::chrono::duration<double>(seconds),
                           [this] { return done_; })) {
            return;
          }
          expired_ = true;
          lock.unlock();
          expire_();
        }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Whether the time ran out (and `expire` was called or is being called).
  bool expired() {
    std::lock_guard lock(mu_);
    return expired_;
  }

 private:
  std::function<void()> expire_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false, expired_ = false;
  std::thread thread_;  // last: started once the members it reads are
};

}  // namespace stride::engine
