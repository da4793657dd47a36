// SPDX-License-Identifier: Apache-2.0
#include "engine/route/route_json.hpp"

#include <gtest/gtest.h>

namespace stride::engine {
namespace {

TEST(ParseRouteRef, ReadsEveryFormPeopleAndUrlsUse) {
  EXPECT_EQ(ParseRouteRef("relation/5511920"), RouteIdForRelation(5511920));
  EXPECT_EQ(ParseRouteRef("r5511920"), RouteIdForRelation(5511920));
  EXPECT_EQ(ParseRouteRef("R7"), RouteIdForRelation(7));
  EXPECT_EQ(ParseRouteRef("trail/42"), RouteIdForNamedTrail(42));
  EXPECT_EQ(ParseRouteRef("w42"), RouteIdForNamedTrail(42));
  EXPECT_EQ(ParseRouteRef("72057594043439856"), RouteIdForRelation(5511920));
  for (const char* bad :
       {"", "r", "relation/", "banana", "r-1", "12x", "w 3", "99999999999999999999"}) {
    EXPECT_FALSE(ParseRouteRef(bad).has_value()) << bad;
  }
  EXPECT_EQ(OsmRefOf(*ParseRouteRef("w42")), "trail/42");
}

TEST(EncodePolyline6, EncodesDeltasAtMicrodegrees) {
  // The points of Google's documented polyline example; at 1e-6 degree the encoded values are
  // the first point and then the deltas.
  const std::vector<PointE7> pts = {
      {385'000'000, -1'202'000'000}, {407'000'000, -1'209'500'000}, {432'520'000, -1'264'530'000}};
  const std::string s = EncodePolyline6(pts, 0, pts.size());
  // Decode independently.
  std::vector<int64_t> values;
  int64_t result = 0;
  int shift = 0;
  for (char c : s) {
    const int b = c - 63;
    result |= static_cast<int64_t>(b & 0x1f) << shift;
    shift += 5;
    if (b < 0x20) {
      values.push_back((result & 1) ? ~(result >> 1) : (result >> 1));
      result = 0, shift = 0;
    }
  }
  ASSERT_EQ(values.size(), 6u);
  EXPECT_EQ(values[0], 38'500'000);
  EXPECT_EQ(values[1], -120'200'000);
  EXPECT_EQ(values[2], 2'200'000);
  EXPECT_EQ(values[3], -750'000);
  EXPECT_EQ(values[4], 2'552'000);
  EXPECT_EQ(values[5], -5'503'000);
  EXPECT_EQ(EncodePolyline6(pts, 1, 1), "");
}

}  // namespace
}  // namespace stride::engine
