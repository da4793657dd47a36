// SPDX-License-Identifier: Apache-2.0
//
// Douglas-Peucker against lines whose answer is known by construction: distances in metres
// from the geodesy module (an independent path), points 1e-7 degree apart on the E7 grid.
#include "engine/route/simplify.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <utility>

#include "engine/geo/geodesy.hpp"

namespace stride::engine {
namespace {

// A point `north_m` north and `east_m` east of 42.5 N, 1.5 E (flat-earth offsets, exact
// enough over a few hundred metres).
PointE7 At(double north_m, double east_m) {
  const double lat = 42.5 + north_m / 111132.95;
  const double lon = 1.5 + east_m / (111319.49 * std::cos(42.5 * 3.14159265358979 / 180));
  return {static_cast<int32_t>(std::lround(lat * 1e7)),
          static_cast<int32_t>(std::lround(lon * 1e7))};
}

TEST(SimplifyLine, DropsWhatIsWithinTheToleranceAndKeepsWhatIsNot) {
  // 1 km north in 100 m steps, 2 m east and west of the line: noise under 5 m.
  std::vector<PointE7> noisy;
  for (int i = 0; i <= 10; ++i) noisy.push_back(At(100.0 * i, i % 10 == 0 ? 0 : (i % 2 ? 2 : -2)));
  EXPECT_EQ(SimplifyLine(noisy, 5), (std::vector<PointE7>{noisy.front(), noisy.back()}));
  EXPECT_EQ(SimplifyLine(noisy, 1).size(), noisy.size());
  // A 30 m spike at 200 m: its neighbours are 14.8 m from the line to its tip
  // (100 * 30 / hypot(200, 30)), so they go at 20 m and stay at 10 m.
  const std::vector<PointE7> spike = {At(0, 0), At(100, 0), At(200, 30), At(300, 0), At(400, 0)};
  EXPECT_EQ(SimplifyLine(spike, 20), (std::vector<PointE7>{spike[0], spike[2], spike[4]}));
  EXPECT_EQ(SimplifyLine(spike, 10), spike);
  EXPECT_EQ(SimplifyLine(spike, 40), (std::vector<PointE7>{spike[0], spike[4]}));
}

TEST(SimplifyLine, EveryDroppedPointIsWithinTheToleranceOfTheResult) {
  // A zig-zag climbing path.
  std::vector<PointE7> line;
  for (int i = 0; i < 200; ++i)
    line.push_back(At(7.0 * i + (i % 3) * 4, 25.0 * ((i / 10) % 2 ? i % 10 : 10 - i % 10)));
  for (double tol : {3.0, 10.0, 50.0}) {
    const std::vector<PointE7> kept = SimplifyLine(line, tol);
    ASSERT_GE(kept.size(), 2u);
    EXPECT_LT(kept.size(), line.size());
    // The kept points are a subsequence of the line: each dropped point must be within the
    // tolerance of the kept segment that spans it (measured by geodesy, not in the plane).
    size_t seg = 0;
    for (const PointE7& p : line) {
      if (seg + 1 < kept.size() && p == kept[seg + 1]) ++seg;
      const PointE7 a = kept[seg], b = kept[std::min(seg + 1, kept.size() - 1)];
      double best = 1e18;
      for (int t = 0; t <= 400; ++t) {
        const double f = t / 400.0;
        const double lat = (a.lat + f * (b.lat - a.lat)) * 1e-7;
        const double lon = (a.lon + f * (b.lon - a.lon)) * 1e-7;
        best = std::min(best, VincentyDistanceM(p.lat * 1e-7, p.lon * 1e-7, lat, lon));
      }
      EXPECT_LE(best, tol * 1.02 + 0.5) << "tolerance " << tol;
    }
  }
}

TEST(SimplifyLine, ShortLinesAndNoToleranceComeBackUnchanged) {
  const std::vector<PointE7> two = {At(0, 0), At(10, 10)};
  EXPECT_EQ(SimplifyLine(two, 5), two);
  const std::vector<PointE7> three = {At(0, 0), At(5, 1), At(10, 0)};
  EXPECT_EQ(SimplifyLine(three, 0), three);
  EXPECT_TRUE(SimplifyLine({}, 5).empty());
}

}  // namespace
}  // namespace stride::engine
