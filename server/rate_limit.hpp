// SPDX-License-Identifier: Apache-2.0
//
// Rate limits: how many requests of a kind a caller may make in a window, and the answer when
// it is over (429 with Retry-After and RateLimit-* headers).
//
// A request belongs to one limit, by its route: public route search to "search" (per client
// IP: it carries no token), a route whose scope names a limit of its own to that one (the chat
// plugin's "chat:ask"), other GETs and routes of scope runner:read to "read" and everything
// else to "write" (per user: the
// token's subject); a route may name its own (inbound provider webhooks: "webhook", per
// address; the map page's files: "page", per address). Health and metrics belong to none. Defaults,
// from what the apps built on Stride do: read 100 a minute, write (uploads, deletes, check-ins) 30
// a minute, chat:ask 30 an hour, search 600 a minute, page 600 a minute (a browser keeps the files
// it was given: a load is 7 requests, then revalidations), webhook 6,000 a minute (a provider
// pushes many runners' activities from few addresses). A request refused by a limit does not count
// toward it.
//
// The window slides: a caller's count is this fixed window's hits plus the previous window's
// weighted by how much of it still lies inside the sliding one (Cloudflare's "sliding window
// counter"). It never lets through a burst of twice the limit at a window's edge, as a fixed
// window does, and costs two counters per caller instead of a log of every hit; it is exact
// when the previous window's hits were spread evenly, and otherwise errs by at most the
// previous window's count times the fraction of the window elapsed.
//
// The counters live behind RateLimitStore so several servers can share one (the multi-node
// issue puts it on Redis: two INCR'd keys per caller and window, expiring after two windows).
// MemoryRateLimitStore keeps them in this process.
//
// Thread-safety: RateLimiter and MemoryRateLimitStore are safe to call from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/status.hpp"

namespace stride::server {

struct RateLimit {
  uint64_t limit = 0;  // requests per window; 0 = unlimited
  double window_s = 60;
};

struct RateDecision {
  bool allowed = true;
  uint64_t limit = 0;
  uint64_t remaining = 0;    // after this request
  double reset_s = 0;        // until the caller's count is back to zero at this rate
  double retry_after_s = 0;  // when refused: until one more request would be allowed
};

// The sliding window for one caller, as the header describes: `current` and `previous` are the
// requests counted in this fixed window and the one before it (before the request at hand),
// `elapsed` how much of this window has passed, in [0, 1). Every store decides with these
// two, so a request gets the same answer from each (the Redis store's script repeats the
// test of SlidingWindowAdmits in Lua).
struct WindowCounts {
  uint64_t current = 0;
  uint64_t previous = 0;
  double elapsed = 0;
};
// Whether one more request fits under `limit`.
bool SlidingWindowAdmits(const WindowCounts& c, uint64_t limit);
// The answer to that request, admitted or not (remaining, reset, retry after).
RateDecision SlidingWindowDecision(const WindowCounts& c, bool admitted, const RateLimit& limit);

// The counters behind the limits. Hit counts one request of `key` (the limit's name and the
// caller) against `limit` at `now_s`, unless the limit is already reached.
class RateLimitStore {
 public:
  virtual ~RateLimitStore() = default;
  virtual RateDecision Hit(std::string_view key, const RateLimit& limit, double now_s) = 0;
};

// In this process: a sharded map of two counters per key; keys idle for two windows are
// dropped as a shard is walked (every `sweep_every` hits on it), so memory follows the callers
// active in the last two windows.
class MemoryRateLimitStore final : public RateLimitStore {
 public:
  explicit MemoryRateLimitStore(uint64_t sweep_every = 4096);
  ~MemoryRateLimitStore() override;
  RateDecision Hit(std::string_view key, const RateLimit& limit, double now_s) override;
  size_t size() const;  // keys held

 private:
  struct Shard;
  uint64_t sweep_every_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

// The limits by name ("read", "write", "search", "chat:ask", ...).
struct RateLimitPolicy {
  std::map<std::string, RateLimit, std::less<>> limits;
  // The names Set was given, as they were written ("read=100/m"): CheckNames holds them to the
  // routes served, once those are known.
  std::map<std::string, std::string, std::less<>> named;

  static RateLimitPolicy Defaults();
  // Applies "NAME=COUNT/PERIOD" (PERIOD: s, m, h, d, second, minute, hour, day, or a number of
  // seconds up to a week, e.g. read=100/m, chat:ask=30/hour, search=600/60) or "NAME=off";
  // "off" alone turns every limit off. InvalidArgument naming the setting and what was expected.
  Status Set(std::string_view setting);
  // InvalidArgument for a name given to Set that no request would be counted against: not one
  // of the defaults' (read, write, search, page, webhook, chat:ask) nor in `known` (the scopes
  // and route limits of the routes served). "--rate-limit reads=50/m" limited nothing.
  Status CheckNames(const std::set<std::string>& known) const;
  // Null when `name` has no limit (or it is off).
  const RateLimit* Find(std::string_view name) const;
};

// Which limit a route belongs to, as the header describes: "" for none.
std::string RateLimitName(const RateLimitPolicy& policy, std::string_view method,
                          std::string_view scope, bool public_route);

class RateLimiter {
 public:
  RateLimiter(RateLimitPolicy policy, RateLimitStore* store);
  // Counts a request under limit `name` for `caller` ("user:ID" or "ip:ADDR"). Allowed when
  // the limit is unknown or off (then decision.limit == 0).
  RateDecision Check(std::string_view name, std::string_view caller, double now_s);
  const RateLimitPolicy& policy() const { return policy_; }

 private:
  RateLimitPolicy policy_;
  RateLimitStore* store_;
};

// The response headers for a decision under limit `name`: RateLimit-Policy, RateLimit-Limit,
// RateLimit-Remaining, RateLimit-Reset (whole seconds, rounded up; draft-ietf-httpapi-
// ratelimit-headers), and Retry-After when refused.
std::vector<std::pair<std::string, std::string>> RateLimitHeaders(std::string_view name,
                                                                  const RateLimit& limit,
                                                                  const RateDecision& d);

}  // namespace stride::server
