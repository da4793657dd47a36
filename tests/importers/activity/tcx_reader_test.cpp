// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "importers/activity/activity_reader.hpp"

namespace stride::importers {
namespace {

constexpr const char* kTwoSports = R"(<?xml version="1.0"?>
<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"
  xmlns:ns3="http://www.garmin.com/xmlschemas/ActivityExtension/v2">
 <Activities><MultiSportSession><FirstSport>
  <Activity Sport="Biking"><Id>2013-04-18T16:14:21Z</Id>
   <Lap StartTime="2013-04-18T16:14:21Z"><TotalTimeSeconds>60.5</TotalTimeSeconds>
    <DistanceMeters>400.25</DistanceMeters><Calories>10</Calories>
    <AverageHeartRateBpm><Value>120</Value></AverageHeartRateBpm>
    <MaximumHeartRateBpm><Value>131</Value></MaximumHeartRateBpm>
    <TriggerMethod>Manual</TriggerMethod>
    <Track>
     <Trackpoint><Time>2013-04-18T16:14:21Z</Time>
      <Position><LatitudeDegrees>48.2</LatitudeDegrees><LongitudeDegrees>16.4</LongitudeDegrees></Position>
      <AltitudeMeters>162.5</AltitudeMeters><DistanceMeters>0.5</DistanceMeters>
      <HeartRateBpm><Value>118</Value></HeartRateBpm><Cadence>80</Cadence>
      <Extensions><ns3:TPX><ns3:Speed>6.5</ns3:Speed><ns3:Watts>210</ns3:Watts></ns3:TPX></Extensions>
     </Trackpoint>
     <Trackpoint><Time>2013-04-18T16:14:22Z</Time><HeartRateBpm><Value>119</Value></HeartRateBpm></Trackpoint>
    </Track>
   </Lap>
   <Creator><Name>Forerunner305</Name></Creator>
  </Activity></FirstSport>
  <NextSport><Activity Sport="Running"><Id>2013-04-18T17:00:00Z</Id>
   <Lap StartTime="2013-04-18T17:00:00Z"><TotalTimeSeconds>30</TotalTimeSeconds><DistanceMeters>100</DistanceMeters>
    <Track><Trackpoint><Time>2013-04-18T17:00:00Z</Time><Extensions><ns3:TPX><ns3:RunCadence>90</ns3:RunCadence></ns3:TPX></Extensions></Trackpoint></Track></Lap>
   <Lap StartTime="2013-04-18T17:00:30Z"><TotalTimeSeconds>40</TotalTimeSeconds><DistanceMeters>120</DistanceMeters></Lap>
  </Activity></NextSport>
 </MultiSportSession></Activities>
 <Author><Name>Garmin Training Center</Name></Author>
</TrainingCenterDatabase>)";

TEST(TcxReader, KeepsSessionsLapsAndTrackpointFields) {
  Result<engine::Activity> a = ReadActivity(kTwoSports);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_EQ(a->sessions.size(), 2u);
  const engine::Track& bike = a->sessions[0];
  EXPECT_EQ(bike.sport, engine::Sport::kRide);
  EXPECT_EQ(bike.device, "Forerunner305");
  ASSERT_EQ(bike.size(), 2u);
  EXPECT_DOUBLE_EQ(bike.lat_deg[0], 48.2);
  EXPECT_DOUBLE_EQ(bike.ele_m[0], 162.5);
  EXPECT_DOUBLE_EQ(bike.distance_m[0], 0.5);
  EXPECT_DOUBLE_EQ(bike.hr_bpm[0], 118);
  EXPECT_DOUBLE_EQ(bike.cadence_rpm[0], 80);
  EXPECT_DOUBLE_EQ(bike.speed_mps[0], 6.5);
  EXPECT_DOUBLE_EQ(bike.power_w[0], 210);
  EXPECT_TRUE(std::isnan(bike.lat_deg[1]));  // an HR-only trackpoint
  EXPECT_DOUBLE_EQ(bike.hr_bpm[1], 119);
  ASSERT_EQ(bike.laps.size(), 1u);
  EXPECT_DOUBLE_EQ(bike.laps[0].timer_time_s, 60.5);
  EXPECT_DOUBLE_EQ(bike.laps[0].avg_hr_bpm, 120);
  EXPECT_DOUBLE_EQ(bike.laps[0].max_hr_bpm, 131);
  EXPECT_EQ(bike.laps[0].trigger, "Manual");
  EXPECT_DOUBLE_EQ(*bike.device_totals.distance_m, 400.25);
  EXPECT_DOUBLE_EQ(*bike.device_totals.calories_kcal, 10);
  const engine::Track& run = a->sessions[1];
  EXPECT_EQ(run.sport, engine::Sport::kRun);
  EXPECT_DOUBLE_EQ(run.cadence_rpm[0], 90);
  EXPECT_DOUBLE_EQ(*run.device_totals.timer_time_s, 70);
  EXPECT_DOUBLE_EQ(*run.device_totals.distance_m, 220);
  // A TCX lap ends where the next begins; the last at the last trackpoint.
  ASSERT_EQ(run.laps.size(), 2u);
  EXPECT_DOUBLE_EQ(run.laps[0].elapsed_time_s, 30);
  EXPECT_DOUBLE_EQ(bike.laps[0].elapsed_time_s, 1);
}

TEST(TcxReader, SaysWhereAndWhatWasExpected) {
  Result<engine::Activity> a = ReadTcx(
      "<TrainingCenterDatabase><Activities><Activity Sport=\"Running\">\n<Lap StartTime=\"x\">"
      "</Lap></Activity></Activities></TrainingCenterDatabase>");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().message(),
            "line 2: <Lap StartTime> expected an ISO 8601 date-time, found 'x'");
  Result<engine::Activity> b = ReadTcx(
      "<TrainingCenterDatabase><Activities><Activity Sport=\"Running\"><Lap "
      "StartTime=\"2013-04-18T17:00:00Z\">"
      "<Track><Trackpoint><Time>2013-04-18T17:00:00Z</Time><AltitudeMeters>1e</AltitudeMeters>");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("<AltitudeMeters> expected a number"), std::string::npos);
}

}  // namespace
}  // namespace stride::importers

#include <random>

#include "datasets/synthetic_activity.hpp"

namespace stride::importers {
namespace {

// Random damage to real-looking documents: flipped bytes, cuts, inserted markup characters.
// Every result must be a track or a clear "line N: ..." error; nothing may crash (this runs
// under ASan/UBSan in CI too).
TEST(XmlReaders, NeverCrashOnDamagedDocuments) {
  datasets::SyntheticRunOptions o;
  o.laps = 1;
  const engine::Track t = datasets::MakeSyntheticRun(o).recorded;
  const std::string docs[] = {datasets::WriteGpx(t), datasets::WriteTcx(t)};
  std::mt19937 rng(9);
  const char alphabet[] = "<>/=\"'&;!?[]-:x0. \n";
  int errors = 0, total = 0;
  for (const std::string& good : docs) {
    std::uniform_int_distribution<size_t> pos(0, good.size() - 1);
    std::uniform_int_distribution<size_t> pick(0, sizeof(alphabet) - 2);
    for (int trial = 0; trial < 300; ++trial) {
      std::string d = good;
      switch (trial % 3) {
        case 0:
          for (int k = 0; k < 4; ++k) d[pos(rng)] = alphabet[pick(rng)];
          break;
        case 1:
          d.resize(pos(rng));
          break;
        default:
          d.insert(pos(rng), 1, alphabet[pick(rng)]);
          break;
      }
      Result<engine::Activity> a = ReadActivity(d);
      ++total;
      if (!a.ok()) {
        ++errors;
        const std::string& m = a.status().message();
        EXPECT_TRUE(m.rfind("line ", 0) == 0 || m.rfind("byte 0", 0) == 0) << m;
      }
    }
  }
  EXPECT_GT(errors, total / 4);  // most damage is detected, not silently read
}

}  // namespace
}  // namespace stride::importers
