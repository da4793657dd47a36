// SPDX-License-Identifier: Apache-2.0
#include "engine/text/uri.hpp"

#include <gtest/gtest.h>

namespace stride::engine {
namespace {

std::vector<std::string> Decoded(std::string_view path) {
  std::vector<std::string> out;
  for (std::string_view s : PathSegments(path)) out.push_back(PercentDecode(s));
  return out;
}

TEST(PathPattern, MatchesLiteralsParametersAndTheRest) {
  std::vector<std::pair<std::string, std::string>> p;
  ASSERT_TRUE(MatchPathPattern("/v1/runs/{id}/track", Decoded("/v1/runs/a%2Fb/track"), &p));
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0], (std::pair<std::string, std::string>{"id", "a/b"}));        // split, then decoded
  EXPECT_FALSE(MatchPathPattern("/v1/runs/{id}", Decoded("/v1/runs/"), &p));  // empty {id}
  EXPECT_FALSE(MatchPathPattern("/v1/runs/{id}", Decoded("/v1/runs/a/b")));
  EXPECT_FALSE(MatchPathPattern("/v1/runs", Decoded("/v1/run")));
  ASSERT_TRUE(MatchPathPattern("/v1/{plugin}/{*}", Decoded("/v1/hello"), &p));
  EXPECT_EQ(p[0].second, "hello");
  EXPECT_TRUE(MatchPathPattern("/v1/{plugin}/{*}", Decoded("/v1/hello/a/b/c")));
  EXPECT_FALSE(MatchPathPattern("/v1/{plugin}/{*}", Decoded("/v1")));
  EXPECT_EQ(PercentDecode("a+b%20c", true), "a b c");
}

}  // namespace
}  // namespace stride::engine
