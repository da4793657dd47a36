// SPDX-License-Identifier: Apache-2.0
#include "engine/geo/geodesy.hpp"

#include <geodesic.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace stride::engine {
namespace {

double Karney(double lat1, double lon1, double lat2, double lon2) {
  geod_geodesic g;
  geod_init(&g, kWgs84A, kWgs84F);
  double s12 = 0, azi1 = 0, azi2 = 0;
  geod_inverse(&g, lat1, lon1, lat2, lon2, &s12, &azi1, &azi2);
  return s12;
}

TEST(Geodesy, ShortSegmentsAgreeWithKarneyToAPartPerMillion) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> lat(-80, 80), lon(-180, 180), step(-0.02, 0.02);
  for (int i = 0; i < 2000; ++i) {
    const double a = lat(rng), b = lon(rng);
    const double c = a + step(rng), d = b + step(rng);
    const double ref = Karney(a, b, c, d);
    if (ref < 1.0) continue;
    EXPECT_NEAR(SegmentDistanceM(a, b, c, d) / ref, 1.0, 1e-6)
        << a << "," << b << " -> " << c << "," << d;
  }
}

TEST(Geodesy, LongSegmentsUseVincenty) {
  // Andorra la Vella to Barcelona, ~150 km.
  const double ref = Karney(42.5063, 1.5218, 41.3874, 2.1686);
  EXPECT_NEAR(SegmentDistanceM(42.5063, 1.5218, 41.3874, 2.1686), ref, 0.01);
  EXPECT_NEAR(VincentyDistanceM(0, 0, 0, 90), Karney(0, 0, 0, 90), 0.001);
}

TEST(Geodesy, TrackLengthMatchesKarneySumWithin005Percent) {
  // A 20 km wiggly track of 1 s steps near 60 degrees north.
  std::mt19937 rng(3);
  std::normal_distribution<double> turn(0, 0.2);
  double lat = 60.0, lon = 25.0, heading = 0.3, ours = 0, ref = 0;
  for (int i = 0; i < 6000; ++i) {
    heading += turn(rng);
    const double nlat = lat + 3.0 * std::cos(heading) / 111000.0;
    const double nlon = lon + 3.0 * std::sin(heading) / (111000.0 * std::cos(lat * kDegToRad));
    ours += SegmentDistanceM(lat, lon, nlat, nlon);
    ref += Karney(lat, lon, nlat, nlon);
    lat = nlat;
    lon = nlon;
  }
  EXPECT_NEAR(ours / ref, 1.0, 0.0005);
  EXPECT_NEAR(ours / ref, 1.0, 1e-6);  // in fact far better
}

TEST(LocalPlane, RoundTripsAndMeasuresMetres) {
  const LocalPlane p(42.5, 1.5);
  double x, y, lat, lon;
  p.ToMetres(42.51, 1.51, &x, &y);
  p.ToDegrees(x, y, &lat, &lon);
  EXPECT_NEAR(lat, 42.51, 1e-12);
  EXPECT_NEAR(lon, 1.51, 1e-12);
  EXPECT_NEAR(std::hypot(x, y), Karney(42.5, 1.5, 42.51, 1.51), 0.5);
}

// Across the 180th meridian a point 0.002 degrees east of the origin is 0.002 degrees east,
// not 359.998 west (a run on Fiji's Taveuni measured 32,000 km), and comes back in range.
TEST(LocalPlane, TakesLongitudesTheShortWayAcrossTheAntimeridian) {
  for (const double origin : {179.999, -179.999}) {
    const LocalPlane p(-16.8, origin);
    const double east = origin > 0 ? -179.999 : 179.999;  // 0.002 degrees the other side
    double x, y, lat, lon;
    p.ToMetres(-16.8, east, &x, &y);
    EXPECT_NEAR(std::fabs(x), Karney(-16.8, origin, -16.8, east), 0.5) << origin;
    EXPECT_LT(std::fabs(x), 250.0) << origin;
    EXPECT_EQ(x > 0, origin > 0) << origin;  // east of 179.999 is -179.999
    p.ToDegrees(x, y, &lat, &lon);
    EXPECT_NEAR(lon, east, 1e-9) << origin;
  }
}

}  // namespace
}  // namespace stride::engine

namespace stride::engine {
namespace {

TEST(TrackGeodesy, AgreesWithSegmentDistance) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> lat(-70, 70), lon(-180, 180), off(-0.05, 0.05),
      step(-0.001, 0.001);
  for (int i = 0; i < 200; ++i) {
    const double lat0 = lat(rng), lon0 = lon(rng);
    const TrackGeodesy geo(lat0);
    for (int k = 0; k < 50; ++k) {
      const double a = lat0 + off(rng), b = lon0 + off(rng);
      const double c = a + step(rng), d = b + step(rng);
      const double exact = SegmentDistanceM(a, b, c, d);
      EXPECT_NEAR(geo.DistanceM(a, b, c, d), exact, 1e-9 * exact + 1e-9);
    }
  }
  // Far from the reference latitude it falls back to the exact formula.
  const TrackGeodesy geo(10.0);
  EXPECT_DOUBLE_EQ(geo.DistanceM(60.0, 1.0, 60.001, 1.0), SegmentDistanceM(60.0, 1.0, 60.001, 1.0));
}

}  // namespace
}  // namespace stride::engine
