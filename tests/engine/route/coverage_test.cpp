// SPDX-License-Identifier: Apache-2.0
#include "engine/route/coverage.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace stride::engine {
namespace {

constexpr double kLat0 = 45.0, kLon0 = 6.0;
const double kMPerDegLat = 111'132.0;  // near 45 N
const double kMPerDegLon = 111'319.49 * std::cos(kLat0 * M_PI / 180.0);

// A point `east` and `north` metres from (kLat0, kLon0).
PointE7 At(double east, double north) {
  return {static_cast<int32_t>(std::llround((kLat0 + north / kMPerDegLat) * 1e7)),
          static_cast<int32_t>(std::llround((kLon0 + east / kMPerDegLon) * 1e7))};
}

RouteGeometry Line(std::initializer_list<std::pair<double, double>> en, double step = 50) {
  RouteGeometry g;
  auto it = en.begin();
  std::pair<double, double> prev = *it;
  g.points.push_back(At(prev.first, prev.second));
  for (++it; it != en.end(); ++it) {
    const double len = std::hypot(it->first - prev.first, it->second - prev.second);
    const int n = std::max(1, static_cast<int>(len / step));
    for (int k = 1; k <= n; ++k) {
      const double f = static_cast<double>(k) / n;
      g.points.push_back(At(prev.first + f * (it->first - prev.first),
                            prev.second + f * (it->second - prev.second)));
    }
    prev = *it;
  }
  g.part_starts = {0};
  return g;
}

// A runner going east along y = `north` from x0 to x1 at 3 m/s, 1 Hz, with GPS noise.
Track Runner(double x0, double x1, double north, double noise, uint32_t seed, double t0 = 1.7e9) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> n(0, noise);
  Track t;
  const double dir = x1 > x0 ? 1 : -1;
  for (double x = x0, s = 0; dir * (x1 - x) >= 0; x += dir * 3, ++s) {
    TrackPoint p;
    p.time_s = t0 + s;
    const PointE7 q = At(x + n(rng), north + n(rng));
    p.lat_deg = q.lat * 1e-7;
    p.lon_deg = q.lon * 1e-7;
    t.Append(p);
  }
  return t;
}

TEST(Coverage, HalfOfAStraightRoute) {
  const RouteGeometry route = Line({{0, 0}, {2000, 0}});
  const Track run = Runner(-300, 1000, 5, 4.0, 1);
  const auto c = MeasureCoverage(run, {{7, &route}});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].id, 7u);
  EXPECT_NEAR(c[0].length_m, 2000, 2);
  // The run ends at x = 1000, 5 m off the route: the route is within the tolerance up to
  // x = 1000 + sqrt(30² - 5²).
  const double covered = 1000 + std::sqrt(30.0 * 30 - 5 * 5);
  EXPECT_NEAR(c[0].covered_m, covered, 10);
  EXPECT_NEAR(c[0].share, covered / 2000, 0.005);
  // Reached where the run crosses x = -tolerance (the route starts at x = 0).
  EXPECT_NEAR(static_cast<double>(c[0].first_point), (300 - 30) / 3.0, 3);
}

TEST(Coverage, ToleranceDecidesAParallelPath) {
  const RouteGeometry near = Line({{0, 25}, {2000, 25}});
  const RouteGeometry far = Line({{0, 60}, {2000, 60}});
  const Track run = Runner(0, 2000, 0, 0.0, 2);
  const auto c = MeasureCoverage(run, {{1, &near}, {2, &far}});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].id, 1u);
  EXPECT_NEAR(c[0].share, 1.0, 0.005);
  CoverageOptions wide;
  wide.tolerance_m = 70;
  EXPECT_EQ(MeasureCoverage(run, {{1, &near}, {2, &far}}, wide).size(), 2u);
}

TEST(Coverage, CrossingIsNotFollowingAndOrderIsByFirstReach) {
  const RouteGeometry crossing = Line({{500, -1000}, {500, 1000}});  // north-south, 2 km
  const RouteGeometry later = Line({{1500, 0}, {2500, 0}});
  const RouteGeometry first = Line({{0, 0}, {600, 0}});
  const Track run = Runner(0, 2500, 0, 2.0, 3);
  const auto c = MeasureCoverage(run, {{10, &crossing}, {20, &later}, {30, &first}});
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].id, 30u);
  EXPECT_EQ(c[1].id, 20u);
  EXPECT_NEAR(c[0].share, 1.0, 0.01);
  EXPECT_NEAR(c[1].share, 1.0, 0.01);
}

TEST(Coverage, ARecordingGapIsNotAPath) {
  // The runner stops recording at x = 500 and resumes at x = 1500: the route between is not
  // covered, though a straight line joins the two fixes.
  const RouteGeometry route = Line({{0, 0}, {2000, 0}});
  Track run = Runner(0, 500, 0, 0.0, 4);
  const Track rest = Runner(1500, 2000, 0, 0.0, 5, 1.7e9 + 5000);
  run.StartSegment();
  for (size_t i = 0; i < rest.size(); ++i) run.Append(rest.PointAt(i));
  const auto c = MeasureCoverage(run, {{1, &route}});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_NEAR(c[0].covered_m, 1000 + 2 * 30, 25);  // both halves, each overlapping by the tolerance
}

TEST(Coverage, NothingWithoutPositions) {
  const RouteGeometry route = Line({{0, 0}, {2000, 0}});
  Track t;
  TrackPoint p;
  p.time_s = 1;
  t.Append(p);
  EXPECT_TRUE(MeasureCoverage(t, {{1, &route}}).empty());
}

}  // namespace
}  // namespace stride::engine
