// SPDX-License-Identifier: Apache-2.0
#include "engine/track/track_writers.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace stride::engine {
namespace {

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Two recorded segments of 3 points, the second with one point that lost its position.
Track TwoSegments() {
  Track t;
  t.sport = Sport::kHike;
  for (int i = 0; i < 6; ++i) {
    if (i == 3) t.StartSegment();
    TrackPoint p;
    p.time_s = 1.7e9 + i + (i == 5 ? 0.25 : 0);
    p.lat_deg = 42.5 + i * 1e-4;
    p.lon_deg = i == 4 ? kNaN : 1.5;
    p.ele_m = 2000.123;
    p.hr_bpm = i == 0 ? kNaN : 120;
    t.Append(p);
  }
  return t;
}

TEST(TrackWriters, GpxKeepsSegmentsAndEscapesTheName) {
  const std::string gpx = TracksGpx({TwoSegments()}, "a<b & \"c\"\x01");
  EXPECT_EQ(Count(gpx, "<trkseg>"), 2u);
  EXPECT_EQ(Count(gpx, "<trkpt "), 5u);  // the point without a position is left out
  EXPECT_NE(gpx.find("<name>a&lt;b &amp; &quot;c&quot;\xEF\xBF\xBD</name>"), std::string::npos);
  EXPECT_NE(gpx.find("<type>hike</type>"), std::string::npos);
  EXPECT_NE(gpx.find("<ele>2000.12</ele>"), std::string::npos);
  EXPECT_NE(gpx.find("<time>2023-11-14T22:13:25.250Z</time>"), std::string::npos);
  EXPECT_NE(gpx.find("<time>2023-11-14T22:13:20Z</time>"), std::string::npos);
  EXPECT_EQ(Count(gpx, "<gpxtpx:hr>120</gpxtpx:hr>"), 4u);
}

TEST(TrackWriters, GeoJsonHasALinePerSegmentWithTimesAndHeartRate) {
  const nlohmann::json j = nlohmann::json::parse(TracksGeoJson({TwoSegments()}, "r1", "hike"));
  EXPECT_EQ(j["properties"]["id"], "r1");
  const nlohmann::json& lines = j["geometry"]["coordinates"];
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].size(), 3u);
  EXPECT_EQ(lines[1].size(), 2u);
  EXPECT_EQ(lines[1][1][1], 42.5005);
  EXPECT_EQ(lines[1][1][2], 2000.12);
  EXPECT_EQ(j["properties"]["times"][1][1], 1.7e9 + 5.25);
  EXPECT_TRUE(j["properties"]["heart_rate"][0][0].is_null());
}

TEST(TrackWriters, Polyline6PerSegmentOfTwoPointsOrMore) {
  const nlohmann::json j = nlohmann::json::parse(TracksPolyline6Json({TwoSegments()}, "r1"));
  ASSERT_EQ(j["lines"].size(), 2u);
  EXPECT_EQ(j["lines"][0]["points"], 3);
  EXPECT_EQ(j["lines"][1]["points"], 2);
  EXPECT_EQ(j["lines"][1]["start_time"], "2023-11-14T22:13:23Z");
  EXPECT_FALSE(j["lines"][0]["polyline6"].get<std::string>().empty());
}

}  // namespace
}  // namespace stride::engine
