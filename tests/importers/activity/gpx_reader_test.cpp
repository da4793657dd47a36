// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <string>

#include "datasets/synthetic_activity.hpp"
#include "importers/activity/activity_reader.hpp"

namespace stride::importers {
namespace {

TEST(GpxReader, ReadsGpx11WithExtensionsOfSeveralVendors) {
  const std::string doc = R"(<?xml version="1.0"?>
<gpx version="1.1" creator="Garmin Connect" xmlns="http://www.topografix.com/GPX/1/1"
     xmlns:ns3="http://www.garmin.com/xmlschemas/TrackPointExtension/v1"
     xmlns:gpxpx="http://www.garmin.com/xmlschemas/PowerExtension/v1"
     xmlns:gpxdata="http://www.cluetrust.com/XML/GPXDATA/1/0">
 <metadata><time>2017-10-08T14:54:11.000Z</time></metadata>
 <wpt lat="1" lon="2"><time>2000-01-01T00:00:00Z</time></wpt>
 <trk><name>Morning Run</name><type>running</type>
  <trkseg>
   <trkpt lat="45.5" lon="5.5"><ele>212.4</ele><time>2017-10-08T14:54:11.500Z</time>
    <extensions><ns3:TrackPointExtension><ns3:hr>121</ns3:hr><ns3:cad>84</ns3:cad>
    <ns3:atemp>21.5</ns3:atemp></ns3:TrackPointExtension>
    <gpxpx:PowerInWatts>312</gpxpx:PowerInWatts></extensions></trkpt>
   <trkpt lat="45.50001" lon="5.50002"><ele>213</ele><time>2017-10-08T16:54:12+02:00</time>
    <extensions><gpxdata:hr>122</gpxdata:hr><gpxdata:cadence>85</gpxdata:cadence><power>250</power></extensions></trkpt>
  </trkseg>
  <trkseg><trkpt lat="45.6" lon="5.6"/></trkseg>
 </trk>
</gpx>)";
  Result<engine::Activity> a = ReadActivity(doc);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_EQ(a->sessions.size(), 1u);
  const engine::Track& t = a->sessions[0];
  EXPECT_EQ(a->format, "gpx");
  EXPECT_EQ(t.device, "Garmin Connect");
  EXPECT_EQ(t.sport, engine::Sport::kRun);
  ASSERT_EQ(t.size(), 3u);
  EXPECT_DOUBLE_EQ(t.lat_deg[0], 45.5);
  EXPECT_DOUBLE_EQ(t.ele_m[0], 212.4);
  EXPECT_DOUBLE_EQ(t.time_s[0], 1507474451.5);
  EXPECT_DOUBLE_EQ(t.time_s[1], 1507474452.0);  // +02:00 converted to UTC
  EXPECT_DOUBLE_EQ(t.hr_bpm[0], 121);
  EXPECT_DOUBLE_EQ(t.cadence_rpm[0], 84);
  EXPECT_DOUBLE_EQ(t.temperature_c[0], 21.5);
  EXPECT_DOUBLE_EQ(t.power_w[0], 312);  // Garmin's PowerExtension (gc_UrbanBiker2019-04-18.gpx)
  EXPECT_DOUBLE_EQ(t.hr_bpm[1], 122);
  EXPECT_DOUBLE_EQ(t.cadence_rpm[1], 85);
  EXPECT_DOUBLE_EQ(t.power_w[1], 250);
  EXPECT_TRUE(std::isnan(t.time_s[2]));
  ASSERT_EQ(t.segment_starts.size(), 2u);
  EXPECT_EQ(t.segment_starts[1], 2u);
}

TEST(GpxReader, ReadsGpx10SpeedAndFallsBackToRoutes) {
  const std::string doc = R"(<gpx version="1.0" xmlns="http://www.topografix.com/GPX/1/0">
<rte><rtept lat="1.0" lon="2.0"><ele>5</ele></rtept><rtept lat="1.001" lon="2.0"/></rte></gpx>)";
  Result<engine::Activity> a = ReadGpx(doc);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->sessions[0].size(), 2u);
  const std::string v10 =
      R"(<gpx version="1.0"><trk><trkseg><trkpt lat="1" lon="2"><speed>3.5</speed></trkpt></trkseg></trk></gpx>)";
  Result<engine::Activity> b = ReadGpx(v10);
  ASSERT_TRUE(b.ok());
  EXPECT_DOUBLE_EQ(b->sessions[0].speed_mps[0], 3.5);
}

TEST(GpxReader, SaysWhereAndWhatWasExpected) {
  Result<engine::Activity> a = ReadGpx(
      "<gpx>\n<trk><trkseg>\n<trkpt lat=\"45\" "
      "lon=\"5\"><ele>high</ele></trkpt></trkseg></trk></gpx>");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(a.status().message(), "line 3: <ele> expected a number, found 'high'");
  Result<engine::Activity> b = ReadGpx("<gpx><trk><trkseg><trkpt lon=\"5\"/></trkseg></trk></gpx>");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("expected a numeric lat attribute"), std::string::npos);
  Result<engine::Activity> c = ReadGpx(
      "<gpx><trk><trkseg><trkpt lat=\"1\" "
      "lon=\"2\"><time>yesterday</time></trkpt></trkseg></trk></gpx>");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("<time> expected an ISO 8601 date-time"), std::string::npos);
  Result<engine::Activity> d = ReadGpx("<kml></kml>");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().message(), "line 1: expected root element <gpx>, found <kml>");
}

TEST(GpxReader, EnforcesThePointLimit) {
  datasets::SyntheticRunOptions o;
  const std::string doc = datasets::WriteGpx(datasets::MakeSyntheticRun(o).recorded);
  ReadLimits limits;
  limits.max_points = 100;
  Result<engine::Activity> a = ReadActivity(doc, limits);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), StatusCode::kResourceExhausted);
}

// A file that parses but records nothing is refused by name, not analysed as a run of 0 m
// without a start time (which a server stored until then).
TEST(ActivityFormat, AFileThatRecordsNothingIsRefused) {
  for (const char* doc : {"<gpx></gpx>", "<gpx><trk><trkseg></trkseg></trk></gpx>",
                          "<gpx><wpt lat=\"45\" lon=\"6\"/></gpx>",
                          "<TrainingCenterDatabase><Activities/></TrainingCenterDatabase>"}) {
    Result<engine::Activity> a = ReadActivity(doc);
    ASSERT_FALSE(a.ok()) << doc;
    EXPECT_EQ(a.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(a.status().message().find(" file without a track point, lap or session total"),
              std::string::npos)
        << a.status().message();
  }
  Result<engine::Activity> one =
      ReadActivity("<gpx><trk><trkseg><trkpt lat=\"45\" lon=\"6\"/></trkseg></trk></gpx>");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(one->sessions.at(0).size(), 1u);
}

TEST(ActivityFormat, IsDetectedFromContentNotName) {
  EXPECT_EQ(DetectFormat("<?xml version='1.0'?><!-- c --><gpx/>"), ActivityFormat::kGpx);
  EXPECT_EQ(DetectFormat("<TrainingCenterDatabase/>"), ActivityFormat::kTcx);
  datasets::SyntheticRunOptions o;
  o.laps = 1;
  EXPECT_EQ(DetectFormat(datasets::WriteFit(datasets::MakeSyntheticRun(o).recorded)),
            ActivityFormat::kFit);
  EXPECT_EQ(DetectFormat("{\"json\": true}"), ActivityFormat::kUnknown);
  Result<engine::Activity> a = ReadActivity("PK\x03\x04 zip bytes");
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("not an activity file"), std::string::npos);
  EXPECT_FALSE(ReadActivity("").ok());
}

}  // namespace
}  // namespace stride::importers

#include "engine/text/iso_time.hpp"
#include "importers/activity/detail/text.hpp"

namespace stride::importers::detail {
namespace {

TEST(ParseDouble, FastPathIsCorrectlyRounded) {
  for (const char* s :
       {"45.20987707190215587615966796875", "0.9630066666666667", "-12.5", "1e3", "42.9410420",
        "0.0000001", "123456789012345", "1234567890123456.5", "7", "1234.5678", "12345678.1234567",
        "-0.12345678901234", "9999.9999", "1000", "0.1230", "12a4.5"}) {
    if (std::string(s) == "12a4.5") {
      double v;
      EXPECT_FALSE(ParseDouble(s, &v));
      continue;
    }
    double fast = 0;
    ASSERT_TRUE(ParseDouble(s, &fast)) << s;
    EXPECT_EQ(fast, std::strtod(s, nullptr)) << s;
  }
  double v;
  for (const char* bad : {"", "-", ".", "1.2.3", "12a", "--1", "1e", " 1"}) {
    EXPECT_FALSE(ParseDouble(bad, &v)) << bad;
  }
}

}  // namespace
}  // namespace stride::importers::detail

namespace stride::importers::detail {
namespace {

TEST(IsoTimeParser, AgreesWithParseIsoTimeAcrossDates) {
  IsoTimeParser cached;
  for (const char* s :
       {"2018-05-13T23:59:58Z", "2018-05-13T23:59:59Z", "2018-05-14T00:00:00Z",
        "2018-05-14T00:00:01.5Z", "2018-05-14T02:00:01+02:00", "2018-05-14T00:00:02Z",
        "2018-05-13T12:00:00Z", "2018-05-13T24:00:00Z", "2018-05-13T12:00:00.250Z",
        "2018-05-13T12:00:01.5Z", "2018-05-13T12:00:02.Z", "2018-05-13T12:00:02.1xZ",
        "2017-10-08T14:54:11.000Z", "2017-10-08T14:54:12.000Z"}) {
    double a = -1, b = -2;
    const bool ok_a = cached.Parse(s, &a);
    const bool ok_b = engine::ParseIsoTime(s, &b);
    EXPECT_EQ(ok_a, ok_b) << s;
    if (ok_a) {
      EXPECT_EQ(a, b) << s;
    }
  }
  double t;
  EXPECT_FALSE(cached.Parse("2018-05-13T2x:00:00Z", &t));
}

}  // namespace
}  // namespace stride::importers::detail
