// SPDX-License-Identifier: Apache-2.0
#include "server/rate_limit.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>

#include "engine/text/join.hpp"

namespace stride::server {
namespace {

constexpr size_t kShards = 16;
constexpr double kEpsilon = 1e-9;

}  // namespace

struct MemoryRateLimitStore::Shard {
  struct Entry {
    int64_t window = 0;  // index of the current fixed window (now / window_s)
    double window_s = 0;
    uint64_t current = 0;
    uint64_t previous = 0;
  };
  mutable std::mutex mu;
  std::unordered_map<std::string, Entry> entries;  // guarded by mu
  uint64_t hits = 0;                               // guarded by mu
};

MemoryRateLimitStore::MemoryRateLimitStore(uint64_t sweep_every)
    : sweep_every_(std::max<uint64_t>(sweep_every, 1)) {
  for (size_t i = 0; i < kShards; ++i) shards_.push_back(std::make_unique<Shard>());
}

MemoryRateLimitStore::~MemoryRateLimitStore() = default;

size_t MemoryRateLimitStore::size() const {
  size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s->mu);
    n += s->entries.size();
  }
  return n;
}

RateDecision MemoryRateLimitStore::Hit(std::string_view key, const RateLimit& limit, double now_s) {
  RateDecision d;
  d.limit = limit.limit;
  if (limit.limit == 0 || limit.window_s <= 0) {
    d.remaining = 0;
    return d;
  }
  const double w_s = limit.window_s;
  const auto window = static_cast<int64_t>(std::floor(now_s / w_s));
  Shard& shard = *shards_[std::hash<std::string_view>{}(key) % kShards];
  std::lock_guard lock(shard.mu);
  if (++shard.hits % sweep_every_ == 0) {
    std::erase_if(shard.entries, [now_s](const auto& kv) {
      return now_s >= static_cast<double>(kv.second.window + 2) * kv.second.window_s;
    });
  }
  Shard::Entry& e = shard.entries[std::string(key)];
  if (e.window_s != w_s || e.window < window - 1) {
    e = Shard::Entry{window, w_s, 0, 0};
  } else if (e.window == window - 1) {
    e = Shard::Entry{window, w_s, 0, e.current};
  }  // a clock going backwards keeps the newer window
  WindowCounts c;
  c.current = e.current;
  c.previous = e.previous;
  c.elapsed = std::clamp(now_s / w_s - static_cast<double>(e.window), 0.0, 1.0);
  const bool admitted = SlidingWindowAdmits(c, limit.limit);
  if (admitted) ++e.current;
  return SlidingWindowDecision(c, admitted, limit);
}

bool SlidingWindowAdmits(const WindowCounts& c, uint64_t limit) {
  const double estimate = static_cast<double>(c.previous) * std::clamp(1.0 - c.elapsed, 0.0, 1.0) +
                          static_cast<double>(c.current);
  return estimate + 1 <= static_cast<double>(limit) + kEpsilon;
}

RateDecision SlidingWindowDecision(const WindowCounts& c, bool admitted, const RateLimit& limit) {
  RateDecision d;
  d.limit = limit.limit;
  const double w_s = limit.window_s;
  const auto lim = static_cast<double>(limit.limit);
  const auto cur = static_cast<double>(c.current);
  const auto prev = static_cast<double>(c.previous);
  const double elapsed = std::clamp(c.elapsed, 0.0, 1.0);
  const double estimate = prev * (1.0 - elapsed) + cur;
  const double window_end = (1.0 - elapsed) * w_s;
  if (admitted) {
    d.allowed = true;
    d.remaining = static_cast<uint64_t>(std::max(0.0, std::floor(lim - estimate - 1 + kEpsilon)));
    // This window's hits weigh until the end of the next one.
    d.reset_s = window_end + w_s;
    return d;
  }
  d.allowed = false;
  d.remaining = 0;
  if (cur + 1 > lim + kEpsilon) {
    // Wait for the window to roll; then this window's hits weigh (1 - f) until one fits.
    d.retry_after_s = window_end + w_s * std::max(0.0, 1.0 - (lim - 1) / cur);
  } else {
    // The previous window's share has to fall until one more fits.
    d.retry_after_s = w_s * (1.0 - (lim - 1 - cur) / prev) - w_s * elapsed;
  }
  d.retry_after_s = std::max(d.retry_after_s, 0.0);
  d.reset_s = c.current > 0 ? window_end + w_s : window_end;
  return d;
}

RateLimitPolicy RateLimitPolicy::Defaults() {
  RateLimitPolicy p;
  p.limits["read"] = {100, 60};
  p.limits["write"] = {30, 60};
  p.limits["search"] = {600, 60};
  p.limits["chat:ask"] = {30, 3600};
  p.limits["webhook"] = {6000, 60};
  p.limits["page"] = {600, 60};
  return p;
}

Status RateLimitPolicy::Set(std::string_view setting) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("--rate-limit " + std::string(setting) + ": " + why);
  };
  if (setting == "off") {
    limits.clear();
    return Status::Ok();
  }
  const size_t eq = setting.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return bad("expected NAME=COUNT/PERIOD (e.g. read=100/m), NAME=off or off");
  }
  const std::string name(setting.substr(0, eq));
  const std::string_view value = setting.substr(eq + 1);
  if (value == "off") {
    limits.erase(name);
    named[name] = std::string(setting);
    return Status::Ok();
  }
  const size_t slash = value.find('/');
  if (slash == std::string_view::npos) return bad("expected COUNT/PERIOD after '='");
  const std::string_view count = value.substr(0, slash);
  const std::string_view period = value.substr(slash + 1);
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), n);
  if (ec != std::errc() || end != count.data() + count.size() || n == 0) {
    return bad("expected a count of at least 1 before '/'");
  }
  double window_s = 0;
  if (period == "s" || period == "second") {
    window_s = 1;
  } else if (period == "m" || period == "minute") {
    window_s = 60;
  } else if (period == "h" || period == "hour") {
    window_s = 3600;
  } else if (period == "d" || period == "day") {
    window_s = 86400;
  } else {
    uint64_t secs = 0;
    auto [pend, pec] = std::from_chars(period.data(), period.data() + period.size(), secs);
    if (pec != std::errc() || pend != period.data() + period.size() || secs == 0 ||
        secs > 86400 * 7) {
      return bad(
          "expected a period of s, m, h, d (second, minute, hour, day) or 1 to 604800 seconds "
          "after '/'");
    }
    window_s = static_cast<double>(secs);
  }
  limits[name] = {n, window_s};
  named[name] = std::string(setting);
  return Status::Ok();
}

Status RateLimitPolicy::CheckNames(const std::set<std::string>& known) const {
  std::set<std::string> all = known;
  for (const auto& [name, limit] : Defaults().limits) all.insert(name);
  for (const auto& [name, setting] : named) {
    if (all.count(name) > 0) continue;
    return Status::InvalidArgument("--rate-limit " + setting +
                                   ": no request is counted against a limit named '" + name +
                                   "' (the limits: " + engine::Join(all) + ")");
  }
  return Status::Ok();
}

const RateLimit* RateLimitPolicy::Find(std::string_view name) const {
  auto it = limits.find(name);
  return it == limits.end() || it->second.limit == 0 ? nullptr : &it->second;
}

std::string RateLimitName(const RateLimitPolicy& policy, std::string_view method,
                          std::string_view scope, bool public_route) {
  if (public_route) return "search";
  if (!scope.empty() && policy.limits.count(scope) > 0) return std::string(scope);
  // A route that only reads is a read whatever its method (POST /v1/chat/retrieve carries its
  // question in a body).
  return method == "GET" || method == "HEAD" || scope == "runner:read" ? "read" : "write";
}

RateLimiter::RateLimiter(RateLimitPolicy policy, RateLimitStore* store)
    : policy_(std::move(policy)), store_(store) {}

RateDecision RateLimiter::Check(std::string_view name, std::string_view caller, double now_s) {
  const RateLimit* limit = policy_.Find(name);
  if (!limit || !store_) return RateDecision{};
  std::string key;
  key.reserve(name.size() + caller.size() + 1);
  key.append(name).append(1, '|').append(caller);
  return store_->Hit(key, *limit, now_s);
}

std::vector<std::pair<std::string, std::string>> RateLimitHeaders(std::string_view name,
                                                                  const RateLimit& limit,
                                                                  const RateDecision& d) {
  auto secs = [](double s) { return std::to_string(static_cast<int64_t>(std::ceil(s - 1e-6))); };
  std::vector<std::pair<std::string, std::string>> h;
  h.emplace_back("RateLimit-Policy", "\"" + std::string(name) +
                                         "\";q=" + std::to_string(limit.limit) +
                                         ";w=" + secs(limit.window_s));
  h.emplace_back("RateLimit-Limit", std::to_string(d.limit));
  h.emplace_back("RateLimit-Remaining", std::to_string(d.remaining));
  h.emplace_back("RateLimit-Reset", secs(d.reset_s));
  if (!d.allowed) h.emplace_back("Retry-After", secs(std::max(d.retry_after_s, 1.0)));
  return h;
}

}  // namespace stride::server
