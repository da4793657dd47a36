// SPDX-License-Identifier: Apache-2.0
#include "engine/route/route.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

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

// Reference: a segment meets a closed box when a dense walk along it enters the box, or it
// crosses one of the box's sides (segment-segment intersection on exact integers).
bool SegmentMeetsBoxReference(PointE7 a, PointE7 b, const BoxE7& box) {
  if (box.Contains(a) || box.Contains(b)) return true;
  auto cross = [](int64_t ax, int64_t ay, int64_t bx, int64_t by, int64_t cx, int64_t cy) {
    const int64_t v = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
    return (v > 0) - (v < 0);
  };
  auto meets = [&](int64_t x1, int64_t y1, int64_t x2, int64_t y2) {
    const int d1 = cross(x1, y1, x2, y2, a.lon, a.lat), d2 = cross(x1, y1, x2, y2, b.lon, b.lat);
    const int d3 = cross(a.lon, a.lat, b.lon, b.lat, x1, y1);
    const int d4 = cross(a.lon, a.lat, b.lon, b.lat, x2, y2);
    return d1 * d2 <= 0 && d3 * d4 <= 0 &&
           std::max<int64_t>(std::min<int64_t>(a.lon, b.lon), std::min(x1, x2)) <=
               std::min<int64_t>(std::max<int64_t>(a.lon, b.lon), std::max(x1, x2)) &&
           std::max<int64_t>(std::min<int64_t>(a.lat, b.lat), std::min(y1, y2)) <=
               std::min<int64_t>(std::max<int64_t>(a.lat, b.lat), std::max(y1, y2));
  };
  return meets(box.min_lon, box.min_lat, box.max_lon, box.min_lat) ||
         meets(box.max_lon, box.min_lat, box.max_lon, box.max_lat) ||
         meets(box.max_lon, box.max_lat, box.min_lon, box.max_lat) ||
         meets(box.min_lon, box.max_lat, box.min_lon, box.min_lat);
}

TEST(GeometryIntersectsBox, AgreesWithASegmentByBoxSidesReference) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int32_t> coord(0, 2000), step(-600, 600);
  int meeting = 0;
  for (int t = 0; t < 20000; ++t) {
    BoxE7 box;
    box.Extend(PointE7{coord(rng), coord(rng)});
    box.Extend(PointE7{coord(rng), coord(rng)});
    RouteGeometry g;
    PointE7 p{coord(rng), coord(rng)};
    const int n = 1 + static_cast<int>(rng() % 6);
    for (int i = 0; i < n; ++i) {
      g.points.push_back(p);
      p.lat += step(rng), p.lon += step(rng);
    }
    g.part_starts = {0};
    if (n > 3 && rng() % 2) g.part_starts.push_back(2);
    bool expected = false;
    ForEachPart(g, [&](size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) {
        if (box.Contains(g.points[i])) expected = true;
        if (i > b && SegmentMeetsBoxReference(g.points[i - 1], g.points[i], box)) expected = true;
      }
    });
    meeting += expected;
    ASSERT_EQ(GeometryIntersectsBox(g, box), expected) << "case " << t;
  }
  EXPECT_GT(meeting, 2000);  // both outcomes well represented
  EXPECT_LT(meeting, 18000);
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
