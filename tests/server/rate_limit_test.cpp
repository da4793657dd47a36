// SPDX-License-Identifier: Apache-2.0
//
// The sliding window counter against values worked out by hand from its definition
// (rate_limit.hpp): count = previous window's hits x the share of it still inside the sliding
// window + this window's hits.
#include "server/rate_limit.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

namespace stride::server {
namespace {

constexpr double kT0 = 6000;  // the start of fixed window 100 of 60 s
const RateLimit kTenAMinute{10, 60};

std::map<std::string, std::string> HeaderMap(const RateDecision& d) {
  std::map<std::string, std::string> m;
  for (auto& [k, v] : RateLimitHeaders("read", kTenAMinute, d)) m[k] = v;
  return m;
}

TEST(MemoryRateLimitStore, CountsDownThenRefusesWithTheWaitUntilOneFits) {
  MemoryRateLimitStore store;
  for (int i = 0; i < 10; ++i) {
    const RateDecision d = store.Hit("ann", kTenAMinute, kT0 + i);
    ASSERT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.remaining, static_cast<uint64_t>(9 - i));
    EXPECT_EQ(d.limit, 10u);
  }
  const RateDecision over = store.Hit("ann", kTenAMinute, kT0 + 10);
  EXPECT_FALSE(over.allowed);
  EXPECT_EQ(over.remaining, 0u);
  // The window rolls at 6060; then 10 x (1 - f) + 1 <= 10 from f = 0.1, at 6066: 56 s from now.
  EXPECT_NEAR(over.retry_after_s, 56, 1e-6);
  EXPECT_EQ(HeaderMap(over)["Retry-After"], "56");
  EXPECT_EQ(HeaderMap(over)["RateLimit-Remaining"], "0");
  EXPECT_EQ(HeaderMap(over)["RateLimit-Policy"], "\"read\";q=10;w=60");
  // Refused requests do not count: the wait is the same a moment later, and it is exact.
  EXPECT_FALSE(store.Hit("ann", kTenAMinute, kT0 + 65.9).allowed);
  EXPECT_TRUE(store.Hit("ann", kTenAMinute, kT0 + 66).allowed);
  EXPECT_FALSE(store.Hit("ann", kTenAMinute, kT0 + 66).allowed);
}

TEST(MemoryRateLimitStore, ThePreviousWindowWeighsByTheShareStillInside) {
  MemoryRateLimitStore store;
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(store.Hit("ann", kTenAMinute, kT0 + 30).allowed);
  // At 6075 a quarter of window 101 has passed: 10 x 0.75 = 7.5 still count, so two fit.
  const RateDecision first = store.Hit("ann", kTenAMinute, kT0 + 75);
  EXPECT_TRUE(first.allowed);
  EXPECT_EQ(first.remaining, 1u);  // floor(10 - 8.5)
  EXPECT_TRUE(store.Hit("ann", kTenAMinute, kT0 + 75).allowed);
  const RateDecision third = store.Hit("ann", kTenAMinute, kT0 + 75);
  EXPECT_FALSE(third.allowed);
  // 10 x (1 - f) + 2 + 1 <= 10 from f = 0.3, at 6078: 3 s.
  EXPECT_NEAR(third.retry_after_s, 3, 1e-6);
  EXPECT_FALSE(store.Hit("ann", kTenAMinute, kT0 + 77.9).allowed);
  EXPECT_TRUE(store.Hit("ann", kTenAMinute, kT0 + 78).allowed);
}

TEST(MemoryRateLimitStore, NoDoubleBurstAtAWindowEdge) {
  MemoryRateLimitStore store;
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(store.Hit("ann", kTenAMinute, kT0 + 59.5).allowed);
  // A fixed window would give ten more at 6060; the sliding one gives none for 6 s.
  EXPECT_FALSE(store.Hit("ann", kTenAMinute, kT0 + 60).allowed);
  EXPECT_FALSE(store.Hit("ann", kTenAMinute, kT0 + 65.9).allowed);
  EXPECT_TRUE(store.Hit("ann", kTenAMinute, kT0 + 66).allowed);
}

TEST(MemoryRateLimitStore, CallersAndLimitsAreIndependentAndForgotten) {
  MemoryRateLimitStore store;
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(store.Hit("ann", kTenAMinute, kT0).allowed);
  EXPECT_FALSE(store.Hit("ann", kTenAMinute, kT0).allowed);
  EXPECT_TRUE(store.Hit("bob", kTenAMinute, kT0).allowed);
  const RateLimit two_an_hour{2, 3600};
  EXPECT_TRUE(store.Hit("ann/chat", two_an_hour, kT0).allowed);
  EXPECT_TRUE(store.Hit("ann/chat", two_an_hour, kT0).allowed);
  EXPECT_FALSE(store.Hit("ann/chat", two_an_hour, kT0 + 1800).allowed);
  // Two windows later nothing of the burst is left.
  const RateDecision later = store.Hit("ann", kTenAMinute, kT0 + 120);
  EXPECT_TRUE(later.allowed);
  EXPECT_EQ(later.remaining, 9u);
}

TEST(MemoryRateLimitStore, IdleCallersAreDropped) {
  MemoryRateLimitStore store(/*sweep_every=*/1);
  for (int i = 0; i < 500; ++i) store.Hit("old" + std::to_string(i), kTenAMinute, kT0);
  EXPECT_EQ(store.size(), 500u);
  // Within the next window the old counts still matter and stay.
  for (int i = 0; i < 100; ++i) store.Hit("mid" + std::to_string(i), kTenAMinute, kT0 + 90);
  EXPECT_EQ(store.size(), 600u);
  // Two windows on, every shard walked: only callers of the last two windows are kept.
  for (int i = 0; i < 400; ++i) store.Hit("new" + std::to_string(i), kTenAMinute, kT0 + 130);
  EXPECT_EQ(store.size(), 500u);
}

TEST(RateLimitPolicy, ParsesSettingsAndSaysWhatIsWrong) {
  RateLimitPolicy p = RateLimitPolicy::Defaults();
  ASSERT_NE(p.Find("read"), nullptr);
  EXPECT_EQ(p.Find("read")->limit, 100u);
  EXPECT_EQ(p.Find("write")->limit, 30u);
  EXPECT_EQ(p.Find("search")->limit, 600u);
  EXPECT_EQ(p.Find("chat:ask")->limit, 30u);
  EXPECT_EQ(p.Find("chat:ask")->window_s, 3600);
  EXPECT_EQ(p.Find("webhook")->limit, 6000u);

  ASSERT_TRUE(p.Set("read=5/m").ok());
  EXPECT_EQ(p.Find("read")->limit, 5u);
  EXPECT_EQ(p.Find("read")->window_s, 60);
  ASSERT_TRUE(p.Set("upload=3/90").ok());
  EXPECT_EQ(p.Find("upload")->window_s, 90);
  ASSERT_TRUE(p.Set("burst=2/s").ok());
  EXPECT_EQ(p.Find("burst")->window_s, 1);
  ASSERT_TRUE(p.Set("write=off").ok());
  EXPECT_EQ(p.Find("write"), nullptr);

  // The words a 429 uses ("per minute") and days (a week at most, as in seconds).
  ASSERT_TRUE(p.Set("read=7/minute").ok());
  EXPECT_EQ(p.Find("read")->window_s, 60);
  ASSERT_TRUE(p.Set("read=7/d").ok());
  EXPECT_EQ(p.Find("read")->window_s, 86400);
  ASSERT_TRUE(p.Set("read=5/hour").ok());
  EXPECT_EQ(p.Find("read")->window_s, 3600);
  ASSERT_TRUE(p.Set("read=5/m").ok());

  for (const char* bad : {"read", "=5/m", "read=5", "read=0/m", "read=x/m", "read=5/w", "read=5/0",
                          "read=5/-1", "read=-5/m", "read=5/m/s"}) {
    const Status s = p.Set(bad);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find(std::string("--rate-limit ") + bad), std::string::npos)
        << s.message();
  }
  EXPECT_EQ(p.Find("read")->limit, 5u);  // a bad setting changes nothing
  ASSERT_TRUE(p.Set("off").ok());
  EXPECT_EQ(p.Find("read"), nullptr);
  EXPECT_EQ(p.Find("search"), nullptr);
}

TEST(RateLimitPolicy, ANameNoRequestIsCountedAgainstIsRefused) {
  // "reads" for "read": accepted, and nothing was limited.
  RateLimitPolicy p = RateLimitPolicy::Defaults();
  ASSERT_TRUE(p.Set("read=50/m").ok());
  ASSERT_TRUE(p.Set("runner:write=5/m").ok());  // a scope names a limit of its own
  ASSERT_TRUE(p.Set("chat:ask=off").ok());
  const std::set<std::string> served = {"runner:read", "runner:write", "admin"};
  EXPECT_TRUE(p.CheckNames(served).ok());
  ASSERT_TRUE(p.Set("reads=50/m").ok());
  const Status s = p.CheckNames(served);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "--rate-limit reads=50/m: no request is counted against a limit named 'reads' (the "
            "limits: admin, chat:ask, page, read, runner:read, runner:write, search, webhook, "
            "write)");
  RateLimitPolicy q = RateLimitPolicy::Defaults();
  ASSERT_TRUE(q.Set("coach:write=off").ok());  // a plugin's scope, when no plugin serves it
  EXPECT_FALSE(q.CheckNames(served).ok());
  EXPECT_TRUE(q.CheckNames({"coach:write"}).ok());
}

TEST(RateLimitName, PublicRoutesAreSearchScopedOnesReadOrWriteUnlessNamed) {
  const RateLimitPolicy p = RateLimitPolicy::Defaults();
  EXPECT_EQ(RateLimitName(p, "GET", "", true), "search");
  EXPECT_EQ(RateLimitName(p, "GET", "runner:read", false), "read");
  EXPECT_EQ(RateLimitName(p, "HEAD", "runner:read", false), "read");
  EXPECT_EQ(RateLimitName(p, "POST", "runner:write", false), "write");
  EXPECT_EQ(RateLimitName(p, "DELETE", "runner:write", false), "write");
  EXPECT_EQ(RateLimitName(p, "POST", "chat:ask", false), "chat:ask");
  EXPECT_EQ(RateLimitName(p, "POST", "runner:read", false), "read");  // a read with a body
}

TEST(RateLimiter, KeysByLimitAndCallerAndPassesUnlimitedNames) {
  RateLimitPolicy p;
  ASSERT_TRUE(p.Set("read=1/m").ok());
  ASSERT_TRUE(p.Set("write=1/m").ok());
  MemoryRateLimitStore store;
  RateLimiter limiter(p, &store);
  EXPECT_TRUE(limiter.Check("read", "user:ann", kT0).allowed);
  EXPECT_FALSE(limiter.Check("read", "user:ann", kT0).allowed);
  EXPECT_TRUE(limiter.Check("write", "user:ann", kT0).allowed);
  EXPECT_TRUE(limiter.Check("read", "user:bob", kT0).allowed);
  const RateDecision none = limiter.Check("search", "ip:127.0.0.1", kT0);
  EXPECT_TRUE(none.allowed);
  EXPECT_EQ(none.limit, 0u);
}

}  // namespace
}  // namespace stride::server
