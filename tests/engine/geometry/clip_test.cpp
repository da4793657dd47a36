// SPDX-License-Identifier: Apache-2.0
//
// ClipSegment against an independent reference: the segment sampled at 10^4 points, each
// tested against the box; the clipped interval must hold every inside sample and no outside
// one (to the sampling step), over random segments and boxes, edges and degenerate cases.
#include "engine/geometry/clip.hpp"

#include <gtest/gtest.h>

#include <random>

namespace stride::engine {
namespace {

TEST(ClipSegment, KnownCases) {
  double t0 = -1, t1 = -1;
  ASSERT_TRUE(ClipSegment({0, 0}, {10, 0}, {2, -1, 4, 1}, &t0, &t1));
  EXPECT_DOUBLE_EQ(t0, 0.2);
  EXPECT_DOUBLE_EQ(t1, 0.4);
  EXPECT_FALSE(ClipSegment({0, 2}, {10, 2}, {2, -1, 4, 1}, &t0, &t1));  // passes above
  ASSERT_TRUE(ClipSegment({3, 0}, {3, 0}, {2, -1, 4, 1}, &t0, &t1));    // a point inside
  EXPECT_EQ(t0, 0);
  EXPECT_EQ(t1, 1);
  EXPECT_FALSE(ClipSegment({5, 0}, {5, 0}, {2, -1, 4, 1}, &t0, &t1));  // a point outside
  ASSERT_TRUE(ClipSegment({0, 1}, {10, 1}, {2, -1, 4, 1}, &t0, &t1));  // along the top edge
  EXPECT_DOUBLE_EQ(t0, 0.2);
  EXPECT_DOUBLE_EQ(t1, 0.4);
  ASSERT_TRUE(ClipSegment({4, 1}, {6, 3}, {2, -1, 4, 1}, &t0, &t1));  // touches a corner
  EXPECT_EQ(t0, 0);
  EXPECT_EQ(t1, 0);
  EXPECT_FALSE(ClipSegment({0, 3}, {3, 6}, {2, -1, 4, 1}, &t0, &t1));  // diagonal, misses
}

TEST(ClipSegment, AgreesWithSamplingOnRandomSegments) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(-10, 10);
  constexpr int kSamples = 10000;
  int hits = 0;
  for (int i = 0; i < 2000; ++i) {
    const double x0 = u(rng);
    const double x1 = u(rng);
    const double y0 = u(rng);
    const double y1 = u(rng);
    const ClipBox box{std::min(x0, x1), std::min(y0, y1), std::max(x0, x1), std::max(y0, y1)};
    const double ax = u(rng);
    const double ay = u(rng);
    const double bx = u(rng);
    const double by = u(rng);
    double t0 = 0, t1 = 0;
    const bool clipped = ClipSegment({ax, ay}, {bx, by}, box, &t0, &t1);
    double first = 2, last = -1;
    for (int k = 0; k <= kSamples; ++k) {
      const double t = static_cast<double>(k) / kSamples;
      const double x = ax + t * (bx - ax), y = ay + t * (by - ay);
      if (x >= box.min_x && x <= box.max_x && y >= box.min_y && y <= box.max_y) {
        first = std::min(first, t);
        last = std::max(last, t);
      }
    }
    if (last < 0) {
      // No sample inside: at most a sliver between two samples.
      if (clipped) {
        EXPECT_LT(t1 - t0, 2.0 / kSamples) << i;
      }
      continue;
    }
    ++hits;
    ASSERT_TRUE(clipped) << i;
    EXPECT_NEAR(t0, first, 1.0 / kSamples) << i;
    EXPECT_NEAR(t1, last, 1.0 / kSamples) << i;
  }
  EXPECT_GT(hits, 300);  // both outcomes are exercised
}

}  // namespace
}  // namespace stride::engine
