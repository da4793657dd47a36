// SPDX-License-Identifier: Apache-2.0
//
// Zones checked against independent references: circles against Vincenty's inverse formula
// (not the segment formula the code uses), polygons against points whose side is known by
// construction, and trimmed tracks by sampling every drawn line densely: no kept point and no
// point of a kept line may lie in a zone.
#include "engine/geometry/zones.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "engine/geo/geodesy.hpp"

namespace stride::engine {
namespace {

constexpr double kHomeLat = 45.65, kHomeLon = 6.35;

std::unique_ptr<ZoneSet> Build(std::vector<Zone> zones) {
  Result<std::unique_ptr<ZoneSet>> z = ZoneSet::Build(std::move(zones), "test");
  EXPECT_TRUE(z.ok()) << z.status().message();
  return z.ok() ? std::move(z).value() : nullptr;
}

// A 1 km square (lon, lat) around (lat, lon), with a 200 m square hole in the middle.
Zone::Polygon SquareWithHole(double lat, double lon) {
  const double dlat = 500 / 111320.0, dlon = 500 / (111320.0 * std::cos(lat * kDegToRad));
  Zone::Ring outer = {{lon - dlon, lat - dlat},
                      {lon + dlon, lat - dlat},
                      {lon + dlon, lat + dlat},
                      {lon - dlon, lat + dlat}};
  Zone::Ring hole = {{lon - dlon / 5, lat - dlat / 5},
                     {lon - dlon / 5, lat + dlat / 5},
                     {lon + dlon / 5, lat + dlat / 5},
                     {lon + dlon / 5, lat - dlat / 5},
                     {lon - dlon / 5, lat - dlat / 5}};
  return {outer, hole};
}

TEST(Zones, CirclesAgreeWithVincentyOutsideAHalfMetreBand) {
  auto zones = Build({Zone::Circle("home", kHomeLat, kHomeLon, 250)});
  ASSERT_TRUE(zones);
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> d(-0.005, 0.005);
  size_t inside = 0, checked = 0;
  for (int i = 0; i < 20000; ++i) {
    const double lat = kHomeLat + d(rng), lon = kHomeLon + d(rng);
    const double m = VincentyDistanceM(kHomeLat, kHomeLon, lat, lon);
    if (std::abs(m - 250) < 0.5) continue;
    ++checked;
    inside += m < 250;
    EXPECT_EQ(zones->ContainsAny(lat, lon), m < 250) << lat << "," << lon << " at " << m << " m";
  }
  EXPECT_GT(inside, 500u);  // the sample covers both sides
  EXPECT_GT(checked - inside, 500u);
}

TEST(Zones, PolygonsWithHolesAndMultiPolygons) {
  auto zones = Build({Zone::Shape("work", {SquareWithHole(45.0, 6.0), SquareWithHole(45.1, 6.0)})});
  ASSERT_TRUE(zones);
  const double m_lat = 1 / 111320.0;
  EXPECT_TRUE(zones->ContainsAny(45.0 + 300 * m_lat, 6.0));   // in the ring
  EXPECT_FALSE(zones->ContainsAny(45.0 + 50 * m_lat, 6.0));   // in the hole
  EXPECT_FALSE(zones->ContainsAny(45.0 + 600 * m_lat, 6.0));  // beyond
  EXPECT_TRUE(zones->ContainsAny(45.1 - 300 * m_lat, 6.0));   // the second polygon
  EXPECT_TRUE(zones->ContainsAny(45.0 + 500 * m_lat, 6.0));   // on the edge: inside
  // A line across the first square, with both ends outside it, touches it.
  EXPECT_TRUE(zones->SegmentTouchesAny(45.0 + 300 * m_lat, 5.99, 45.0 + 300 * m_lat, 6.01));
  EXPECT_FALSE(zones->SegmentTouchesAny(45.05, 5.99, 45.05, 6.01));
}

TEST(Zones, CircleSegmentsCrossingBetweenFarFixes) {
  auto zones = Build({Zone::Circle("home", kHomeLat, kHomeLon, 200)});
  ASSERT_TRUE(zones);
  const double m_lat = 1 / 111320.0, m_lon = 1 / (111320.0 * std::cos(kHomeLat * kDegToRad));
  // Two fixes 1 km either side of home, passing 150 m north of it: the line crosses.
  EXPECT_TRUE(zones->SegmentTouchesAny(kHomeLat + 150 * m_lat, kHomeLon - 1000 * m_lon,
                                       kHomeLat + 150 * m_lat, kHomeLon + 1000 * m_lon));
  // 250 m north: it passes by.
  EXPECT_FALSE(zones->SegmentTouchesAny(kHomeLat + 250 * m_lat, kHomeLon - 1000 * m_lon,
                                        kHomeLat + 250 * m_lat, kHomeLon + 1000 * m_lon));
  // A track of those two fixes alone touches the zone through its line, with no point inside
  // (the track's box holds the zone's box only in part).
  Track t;
  for (double dx : {-1000.0, 1000.0}) {
    TrackPoint p;
    p.lat_deg = kHomeLat + 150 * m_lat;
    p.lon_deg = kHomeLon + dx * m_lon;
    t.Append(p);
  }
  EXPECT_EQ(zones->TouchedBy(t), std::vector<size_t>{0});
}

TEST(Zones, BadZonesAreRefusedWithWhereAndWhat) {
  auto err = [](Zone z) {
    Result<std::unique_ptr<ZoneSet>> r =
        ZoneSet::Build({Zone::Circle("ok", 1, 1, 100), z}, "zones");
    EXPECT_FALSE(r.ok());
    return r.ok() ? std::string() : r.status().message();
  };
  const std::string bowtie = err(Zone::Shape("bow", {{{{0, 0}, {1, 1}, {1, 0}, {0, 1}}}}));
  EXPECT_NE(bowtie.find("zones: zone 1 'bow'"), std::string::npos) << bowtie;
  EXPECT_NE(bowtie.find("Self-intersection"), std::string::npos) << bowtie;
  EXPECT_NE(err(Zone::Shape("two", {{{{0, 0}, {1, 1}, {0, 0}}}})).find("3 distinct"),
            std::string::npos);
  EXPECT_NE(err(Zone::Shape("far", {{{{0, 0}, {1, 91}, {1, 0}}}})).find("out of range"),
            std::string::npos);
  EXPECT_NE(err(Zone::Circle("tiny", 1, 1, 0.5)).find("radius_m"), std::string::npos);
  EXPECT_NE(err(Zone::Circle("pole", 95, 1, 100)).find("centre"), std::string::npos);
  EXPECT_NE(err(Zone::Shape("none", {{}})).find("no ring"), std::string::npos);
}

// A run out from home and back past work, recorded every `step_s` seconds at 3 m/s.
Track OutAndBack(double step_s) {
  Track t;
  const double m_lat = 1 / 111320.0, m_lon = 1 / (111320.0 * std::cos(kHomeLat * kDegToRad));
  for (double s = 0; s <= 3000; s += step_s) {
    TrackPoint p;
    p.time_s = 1.7e9 + s;
    const double along = 3 * (s <= 1500 ? s : 3000 - s);  // metres out, then back
    const double side = s <= 1500 ? 0 : 120;              // back on a parallel street
    p.lat_deg = kHomeLat + side * m_lat + 10 * std::sin(s / 60) * m_lat;
    p.lon_deg = kHomeLon + along * m_lon;
    p.ele_m = 1000 + along / 100;
    p.hr_bpm = 150;
    t.Append(p);
  }
  return t;
}

// Whether any point of the line from a to b, sampled every metre, lies in a zone, judged by
// Vincenty distances and the polygon's own point test.
bool LineEntersCircle(double lat1, double lon1, double lat2, double lon2, double clat, double clon,
                      double r) {
  const double len = VincentyDistanceM(lat1, lon1, lat2, lon2);
  const int n = std::max(1, static_cast<int>(std::ceil(len)));
  for (int k = 0; k <= n; ++k) {
    const double f = static_cast<double>(k) / n;
    if (VincentyDistanceM(clat, clon, lat1 + f * (lat2 - lat1), lon1 + f * (lon2 - lon1)) < r) {
      return true;
    }
  }
  return false;
}

TEST(TrimToOutside, NoKeptPointOrLineInsideAtAnySampling) {
  const double m_lon = 1 / (111320.0 * std::cos(kHomeLat * kDegToRad));
  auto zones = Build({Zone::Circle("home", kHomeLat, kHomeLon, 300),
                      Zone::Circle("work", kHomeLat, kHomeLon + 2500 * m_lon, 150)});
  ASSERT_TRUE(zones);
  for (double step : {1.0, 10.0, 60.0, 240.0}) {
    SCOPED_TRACE("every " + std::to_string(step) + " s");
    const Track t = OutAndBack(step);
    TrimReport report;
    const Track shown = TrimToOutside(t, *zones, &report);
    size_t inside = 0;
    for (size_t i = 0; i < t.size(); ++i) {
      inside +=
          VincentyDistanceM(kHomeLat, kHomeLon, t.lat_deg[i], t.lon_deg[i]) < 300 ||
          VincentyDistanceM(kHomeLat, kHomeLon + 2500 * m_lon, t.lat_deg[i], t.lon_deg[i]) < 150;
    }
    EXPECT_EQ(report.points_in, t.size());
    EXPECT_EQ(report.points_hidden, inside);
    EXPECT_GT(inside, 0u);
    ASSERT_GT(shown.size(), 0u);
    EXPECT_LE(shown.size(), t.size() - inside);
    // Every kept line, sampled each metre, stays out of both circles.
    for (size_t s = 0; s < shown.segment_starts.size(); ++s) {
      const size_t b = shown.segment_starts[s];
      const size_t e =
          s + 1 < shown.segment_starts.size() ? shown.segment_starts[s + 1] : shown.size();
      EXPECT_GE(e - b, 2u) << "a one-point piece";
      for (size_t i = b; i + 1 < e; ++i) {
        for (const auto& [clat, clon, r] : {std::tuple{kHomeLat, kHomeLon, 300.0},
                                            std::tuple{kHomeLat, kHomeLon + 2500 * m_lon, 150.0}}) {
          ASSERT_FALSE(LineEntersCircle(shown.lat_deg[i], shown.lon_deg[i], shown.lat_deg[i + 1],
                                        shown.lon_deg[i + 1], clat, clon, r))
              << "line " << i;
        }
      }
    }
    // The run leaves home and passes work twice (out and back): at least three gaps.
    EXPECT_GE(shown.segment_starts.size(), 3u);
    // Streams travel with their points.
    EXPECT_EQ(shown.hr_bpm.size(), shown.size());
    EXPECT_EQ(shown.ele_m.size(), shown.size());
  }
}

TEST(TrimToOutside, KeepsEverythingFarFromZonesAndNamesTouchedZones) {
  auto zones = Build({Zone::Circle("elsewhere", 10, 10, 500),
                      Zone::Shape("office", {SquareWithHole(kHomeLat, kHomeLon + 0.01)})});
  ASSERT_TRUE(zones);
  const Track t = OutAndBack(5);
  const std::vector<size_t> touched = zones->TouchedBy(t);
  ASSERT_EQ(touched.size(), 1u);
  EXPECT_EQ(zones->zone(touched[0]).name, "office");
  auto far = Build({Zone::Circle("elsewhere", 10, 10, 500)});
  ASSERT_TRUE(far);
  TrimReport report;
  const Track shown = TrimToOutside(t, *far, &report);
  EXPECT_EQ(shown.size(), t.size());
  EXPECT_EQ(shown.segment_starts.size(), 1u);
  EXPECT_EQ(report.points_hidden, 0u);
  EXPECT_EQ(report.cuts, 0u);
  EXPECT_TRUE(far->TouchedBy(t).empty());
}

}  // namespace
}  // namespace stride::engine
