// SPDX-License-Identifier: Apache-2.0
#include "server/redis_rate_limit.hpp"

#include <chrono>
#include <cmath>

namespace stride::server {
namespace {

// KEYS[1]: the caller's prefix; ARGV[1]: the limit; ARGV[2]: the window in ms. Returns
// {admitted (0/1), this window's hits before the request, the previous window's, ms elapsed in
// this window}. The admission test is SlidingWindowAdmits's, in Lua's doubles.
const index::RedisScript& Script() {
  static const index::RedisScript script(R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local w = tonumber(ARGV[2])
local idx = math.floor(now / w)
local cur_key = KEYS[1] .. ':' .. string.format('%d', idx)
local prev_key = KEYS[1] .. ':' .. string.format('%d', idx - 1)
local cur = tonumber(redis.call('GET', cur_key) or '0')
local prev = tonumber(redis.call('GET', prev_key) or '0')
local elapsed = now - idx * w
local share = 1 - elapsed / w
if share < 0 then share = 0 end
local admitted = 0
if prev * share + cur + 1 <= limit + 1e-9 then
  redis.call('INCR', cur_key)
  redis.call('PEXPIRE', cur_key, 2 * w - elapsed)
  admitted = 1
end
return {admitted, cur, prev, elapsed}
)lua");
  return script;
}

double SteadySeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

RedisRateLimitStore::RedisRateLimitStore(index::Redis* redis,
                                         std::function<void(const std::string&)> on_error,
                                         double report_every_s)
    : redis_(redis), on_error_(std::move(on_error)), report_every_s_(report_every_s) {}

RateDecision RedisRateLimitStore::Hit(std::string_view key, const RateLimit& limit,
                                      double /*now_s*/) {
  RateDecision open;  // allowed, limit 0: no headers
  if (limit.limit == 0 || limit.window_s <= 0) return open;
  const auto window_ms = static_cast<int64_t>(std::llround(limit.window_s * 1000));
  std::string prefix = "stride:rl:{";
  prefix.append(key).append("}:").append(std::to_string(window_ms));
  Result<index::RedisReply> r =
      redis_->Eval(Script(), {prefix}, {std::to_string(limit.limit), std::to_string(window_ms)});
  const bool shaped = r.ok() && r->type == index::RedisReply::Type::kArray &&
                      r->elements.size() == 4 &&
                      r->elements[0].type == index::RedisReply::Type::kInteger;
  if (!shaped) {
    ++errors_;
    if (on_error_) {
      const std::string why = r.ok()
                                  ? "Redis answered the rate limit script with an unexpected reply"
                                  : r.status().message();
      std::lock_guard lock(report_mu_);
      const double now = SteadySeconds();
      if (now - last_report_s_ >= report_every_s_) {
        last_report_s_ = now;
        on_error_("rate limits: " + why + "; letting requests through until Redis answers");
      }
    }
    return open;
  }
  WindowCounts c;
  c.current = static_cast<uint64_t>(std::max<int64_t>(r->elements[1].integer, 0));
  c.previous = static_cast<uint64_t>(std::max<int64_t>(r->elements[2].integer, 0));
  c.elapsed = static_cast<double>(r->elements[3].integer) / static_cast<double>(window_ms);
  return SlidingWindowDecision(c, r->elements[0].integer == 1, limit);
}

}  // namespace stride::server
