// SPDX-License-Identifier: Apache-2.0
#include "importers/osm/line_assembly.hpp"

#include <gtest/gtest.h>

namespace stride::importers {
namespace {

struct Ways {
  std::vector<Ends> ends;
  EndsFn fn() const {
    return [this](uint32_t i) { return ends[i]; };
  }
};

TEST(OrderMembers, FollowsMemberOrderAndReversesWhereNeeded) {
  const Ways w{{{2, 1}, {2, 3}, {4, 3}}};  // first reversed, third reversed
  const std::vector<Part> parts = OrderMembers(3, w.fn());
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0], (Part{{0, true}, {1, false}, {2, true}}));
}

TEST(OrderMembers, BackwardsListedMembersGiveOneLine) {
  // The second way shows the first runs against the listing: the line runs 4-3-2-1.
  const Ways w{{{3, 4}, {2, 3}, {1, 2}}};
  const std::vector<Part> parts = OrderMembers(3, w.fn());
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0], (Part{{0, true}, {1, true}, {2, true}}));
  // Once a line has two ways, a way touching only its start goes in front.
  const Ways v{{{3, 4}, {4, 5}, {2, 3}}};
  const std::vector<Part> front = OrderMembers(3, v.fn());
  ASSERT_EQ(front.size(), 1u);
  EXPECT_EQ(front[0], (Part{{2, false}, {0, false}, {1, false}}));
}

TEST(OrderMembers, OutAndBackUsesAWayTwice) {
  const Ways w{{{1, 2}, {2, 3}, {2, 3}, {1, 2}}};
  const std::vector<Part> parts = OrderMembers(4, w.fn());
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0], (Part{{0, false}, {1, false}, {2, true}, {3, true}}));
}

TEST(OrderMembers, GapsMakePartsAndTouchingPartsJoin) {
  const Ways gap{{{1, 2}, {5, 6}}};
  EXPECT_EQ(OrderMembers(2, gap.fn()).size(), 2u);
  const Ways shuffled{{{3, 4}, {7, 8}, {1, 2}, {2, 3}, {4, 7}}};
  const std::vector<Part> parts = OrderMembers(5, shuffled.fn());
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].size(), 5u);
}

TEST(ChainWays, StartsAtADeadEndAndUsesEveryWayOnce) {
  // A T: 1-2-3 with a spur 2-9.
  const Ways w{{{2, 3}, {1, 2}, {9, 2}}};
  const std::vector<Part> parts = ChainWays(3, w.fn(), {30, 10, 20});
  size_t used = 0;
  for (const Part& p : parts) used += p.size();
  EXPECT_EQ(used, 3u);
  ASSERT_EQ(parts.size(), 2u);
  // Lowest-id way with a dead end is 10 (1-2); from 2 the lowest unused id is 20 (9-2).
  EXPECT_EQ(parts[0], (Part{{1, false}, {2, true}}));
  EXPECT_EQ(parts[1], (Part{{0, true}}));  // begun at its dead end, 3
}

}  // namespace
}  // namespace stride::importers
