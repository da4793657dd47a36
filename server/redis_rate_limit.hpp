// SPDX-License-Identifier: Apache-2.0
//
// Rate limits shared by every `stride serve` replica: the counters of rate_limit.hpp's sliding
// window in Redis (`stride serve --redis URL`), so a per-user limit of 100 a minute admits 100
// requests in all, whichever replicas they reach.
//
// One request is one Lua script run in Redis (atomic: no two replicas can both take the last
// slot): it reads the caller's counters of this fixed window and the previous one, decides as
// MemoryRateLimitStore does (SlidingWindowAdmits) and counts the request when admitted. The
// time is Redis's own (TIME), not each replica's clock, so replicas whose clocks disagree still
// share windows. Keys: stride:rl:{NAME|CALLER}:WINDOW_MS:INDEX, expiring two windows after
// their own ends (the braces keep a caller's keys in one Redis Cluster slot).
//
// When Redis cannot answer (down, restarting, slower than the command timeout), the request is
// let through without RateLimit headers and the failure is reported to `on_error` (the server
// logs it, at most once every 10 s): a rate limit protects the service, and an outage of the
// limiter should not become an outage of the service. errors() counts them.
//
// Thread-safety: safe from any number of threads (index::Redis's pool).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "index/redis/redis.hpp"
#include "server/rate_limit.hpp"

namespace stride::server {

class RedisRateLimitStore final : public RateLimitStore {
 public:
  // `redis` must outlive the store. `on_error` (optional) hears each failure's message, at
  // most once every `report_every_s` seconds; the others are only counted.
  explicit RedisRateLimitStore(index::Redis* redis,
                               std::function<void(const std::string&)> on_error = {},
                               double report_every_s = 10);
  // `now_s` is not used: Redis's clock decides the window.
  RateDecision Hit(std::string_view key, const RateLimit& limit, double now_s) override;
  uint64_t errors() const { return errors_.load(); }

 private:
  index::Redis* redis_;
  std::function<void(const std::string&)> on_error_;
  double report_every_s_;
  std::atomic<uint64_t> errors_{0};
  std::mutex report_mu_;
  double last_report_s_ = -1e18;  // guarded by report_mu_
};

}  // namespace stride::server
