// SPDX-License-Identifier: Apache-2.0
#include "engine/route/profile.hpp"

#include <gtest/gtest.h>

namespace stride::engine {
namespace {

TEST(ComputeClimb, SteadyGradeGivesItsAscentAndGrade) {
  ElevationProfile p;
  for (int i = 0; i <= 100; ++i) {  // 3 km at 10 %
    p.distance_m.push_back(static_cast<float>(i * 30));
    p.elevation_m.push_back(static_cast<float>(500 + i * 3));
  }
  const ClimbFigures c = ComputeClimb(p);
  EXPECT_NEAR(c.ascent_m, 300, 10);  // smoothing rounds the two ends a little
  EXPECT_NEAR(c.descent_m, 0, 1e-9);
  EXPECT_NEAR(c.max_grade, 0.10, 0.005);
  EXPECT_NEAR(c.avg_grade, 0.10, 0.005);
}

TEST(ComputeClimb, AJumpWherePartsMeetIsNotAClimb) {
  // Two flat parts at different heights; the second starts at the first one's end distance.
  ElevationProfile p;
  for (int i = 0; i <= 10; ++i) p.distance_m.push_back(i * 30.0f), p.elevation_m.push_back(1000);
  for (int i = 0; i <= 10; ++i)
    p.distance_m.push_back(300 + i * 30.0f), p.elevation_m.push_back(1500);
  const ClimbFigures c = ComputeClimb(p);
  EXPECT_EQ(c.ascent_m, 0);
  EXPECT_EQ(c.max_grade, 0);
}

TEST(PointAtDistance, WalksAlongParts) {
  RouteGeometry g;
  g.points = {{0, 0}, {0, 1'000'000}, {10'000'000, 0}, {10'100'000, 0}};
  g.part_starts = {0, 2};
  const double first = LineLengthM(g.points.data(), 2);
  const PointE7 mid = PointAtDistance(g, first / 2);
  EXPECT_EQ(mid.lat, 0);
  EXPECT_NEAR(mid.lon, 500'000, 1);
  const PointE7 second = PointAtDistance(g, first + 1);  // 1 m into the second part
  EXPECT_GT(second.lat, 10'000'000);
  EXPECT_EQ(PointAtDistance(g, 1e9).lat, 10'100'000);  // clamps to the end
}

}  // namespace
}  // namespace stride::engine
