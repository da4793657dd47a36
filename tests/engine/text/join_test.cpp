// SPDX-License-Identifier: Apache-2.0
#include "engine/text/join.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace stride::engine {
namespace {

TEST(Join, SeparatesItemsAndNothingElse) {
  EXPECT_EQ(Join(std::vector<std::string>{"bbox", "limit", "sort"}), "bbox, limit, sort");
  EXPECT_EQ(Join(std::vector<std::string>{"only"}), "only");
  EXPECT_EQ(Join(std::vector<std::string>{}), "");
  EXPECT_EQ(Join(std::vector<std::string>{}, ", ", "none"), "none");
  EXPECT_EQ(Join(std::set<std::string>{"b", "a"}, "|"), "a|b");
  EXPECT_EQ(Join(std::initializer_list<std::string_view>{"GET", "HEAD"}), "GET, HEAD");
  // An empty item is still an item: its separators stay.
  EXPECT_EQ(Join(std::vector<std::string>{"", "x", ""}, ","), ",x,");
}

TEST(Join, KeysOfAMap) {
  const std::map<std::string, int> m = {{"strava", 1}, {"garmin", 2}};
  EXPECT_EQ(JoinKeys(m), "garmin, strava");
  EXPECT_EQ(JoinKeys(std::map<std::string, int>{}, ", ", "none"), "none");
}

}  // namespace
}  // namespace stride::engine
