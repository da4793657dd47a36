// SPDX-License-Identifier: Apache-2.0
#include "engine/route/route.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "engine/geo/geodesy.hpp"

namespace stride::engine {
namespace {

PointE7 P(double lat, double lon) {
  return {static_cast<int32_t>(std::lround(lat * 1e7)),
          static_cast<int32_t>(std::lround(lon * 1e7))};
}

TEST(QueryPlane, DistancesMatchTheEllipsoidNearby) {
  const QueryPlane plane(P(46.0, 8.0));
  RouteGeometry g;
  g.points = {P(46.01, 7.99), P(46.01, 8.01)};  // a segment passing 0.01 degree north
  g.part_starts = {0};
  EXPECT_NEAR(plane.DistanceToGeometry(g), SegmentDistanceM(46.0, 8.0, 46.01, 8.0), 0.5);
  BoxE7 box;
  box.Extend(P(46.02, 8.02));
  box.Extend(P(46.03, 8.05));
  EXPECT_NEAR(
      plane.DistanceToBox(box),
      std::hypot(SegmentDistanceM(46.0, 8.0, 46.02, 8.0), SegmentDistanceM(46.0, 8.0, 46.0, 8.02)),
      2.0);
  box.Extend(P(45.9, 7.9));
  EXPECT_EQ(plane.DistanceToBox(box), 0.0);  // inside
}

TEST(QueryPlane, GapsBetweenPartsAreNotSegments) {
  const QueryPlane plane(P(46.0, 8.0));
  RouteGeometry g;
  // Two parts: west of the point and east of it; the gap passes right over it.
  g.points = {P(46.0, 7.90), P(46.0, 7.99), P(46.0, 8.01), P(46.0, 8.10)};
  g.part_starts = {0, 2};
  EXPECT_NEAR(plane.DistanceToGeometry(g), SegmentDistanceM(46.0, 8.0, 46.0, 8.01), 0.5);
  g.part_starts = {0};
  EXPECT_NEAR(plane.DistanceToGeometry(g), 0.0, 1e-6);
}

TEST(GeometryIntersectsBox, SegmentsCrossingWithoutAVertexInside) {
  BoxE7 box;
  box.Extend(P(46.0, 8.0));
  box.Extend(P(46.1, 8.1));
  RouteGeometry g;
  g.points = {P(45.9, 8.05), P(46.2, 8.05)};  // crosses the box, both ends outside
  g.part_starts = {0};
  EXPECT_TRUE(GeometryIntersectsBox(g, box));
  g.points = {P(45.9, 7.9), P(45.95, 8.2)};  // passes south of it
  EXPECT_FALSE(GeometryIntersectsBox(g, box));
  g.points = {P(45.9, 8.05), P(46.2, 8.05)};
  g.points.insert(g.points.begin() + 1, P(45.95, 8.05));
  g.part_starts = {0, 2};  // the crossing segment is now a gap between parts
  EXPECT_FALSE(GeometryIntersectsBox(g, box));
}

TEST(RouteFilter, MatchesEachAttribute) {
  RouteSummary r;
  r.length_m = 8000;
  r.ascent_m = 250;
  r.max_grade = 0.12f;
  r.type = RouteType::kHiking;
  r.surface = Surface::kUnpaved;
  r.difficulty = 2;
  r.network = 3;
  r.loop = true;
  RouteFilter f;
  EXPECT_TRUE(f.Matches(r));
  f.max_length_m = 7000;
  EXPECT_FALSE(f.Matches(r));
  f = {};
  f.max_ascent_m = 200;
  EXPECT_FALSE(f.Matches(r));
  f = {};
  f.type_mask = TypeBit(RouteType::kRunning);
  EXPECT_FALSE(f.Matches(r));
  f = {};
  f.loop = false;
  EXPECT_FALSE(f.Matches(r));
  f = {};
  f.max_difficulty = 1;
  EXPECT_FALSE(f.Matches(r));
  f = {};
  f.network_mask = 1u << 3;
  f.surface_mask = SurfaceBit(Surface::kUnpaved);
  EXPECT_TRUE(f.Matches(r));
}

}  // namespace
}  // namespace stride::engine
