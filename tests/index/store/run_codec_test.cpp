// SPDX-License-Identifier: Apache-2.0
#include "index/store/run_codec.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "engine/track/analysis_json.hpp"
#include "importers/activity/activity_reader.hpp"
#include "tests/support/datasets.hpp"
#include "tests/support/tracks.hpp"

namespace stride::index {
namespace {
namespace fs = std::filesystem;

// Encodes and decodes every session (through bytes, as the database does).
std::vector<engine::Analysis> RoundTrip(const std::vector<engine::Analysis>& sessions) {
  std::vector<engine::Analysis> out;
  for (const engine::Analysis& a : sessions) {
    run::SessionAnalysis p;
    AnalysisToProto(a, &p);
    run::SessionAnalysis q;
    EXPECT_TRUE(q.ParseFromString(p.SerializeAsString()));
    Result<engine::Analysis> back = AnalysisFromProto(q);
    EXPECT_TRUE(back.ok()) << back.status().message();
    if (back.ok()) out.push_back(std::move(back).value());
  }
  return out;
}

// The analysis JSON shows nearly every field; these it does not, so they are compared alone.
void ExpectHiddenFieldsEqual(const engine::Analysis& a, const engine::Analysis& b) {
  EXPECT_EQ(a.smoothing.sigma_from_data, b.smoothing.sigma_from_data);
  EXPECT_EQ(a.smoothing.elevation_source, b.smoothing.elevation_source);
  EXPECT_EQ(a.smoothing.elevation_over_time, b.smoothing.elevation_over_time);
  EXPECT_EQ(a.sport, b.sport);
  EXPECT_EQ(a.points.kept_with_position, b.points.kept_with_position);
  EXPECT_EQ(a.points.extrapolated_before, b.points.extrapolated_before);
  EXPECT_EQ(a.points.elevation_jumps, b.points.elevation_jumps);
  ASSERT_EQ(a.climbs.size(), b.climbs.size());
  for (size_t i = 0; i < a.climbs.size(); ++i) {
    EXPECT_EQ(a.climbs[i].end_ele_m, b.climbs[i].end_ele_m);
  }
  ASSERT_EQ(a.laps.size(), b.laps.size());
  for (size_t i = 0; i < a.laps.size(); ++i) {
    EXPECT_EQ(std::isnan(a.laps[i].device.max_hr_bpm), std::isnan(b.laps[i].device.max_hr_bpm));
    if (!std::isnan(a.laps[i].device.max_hr_bpm)) {
      EXPECT_EQ(a.laps[i].device.max_hr_bpm, b.laps[i].device.max_hr_bpm);
    }
  }
}

TEST(RunCodec, AnalysisOfASyntheticRunRoundTripsExactly) {
  engine::Track t = testing::StraightRun(1800, 3.2, 150, 0.02);
  engine::Lap lap;
  lap.start_time_s = 1000;
  lap.elapsed_time_s = 900;
  lap.timer_time_s = 899.5;
  lap.max_hr_bpm = 171;
  lap.trigger = "distance";
  t.laps.push_back(lap);
  t.device_totals.calories_kcal = 412;
  t.developer_fields = {"Stryd power"};
  t.ele_m[900] = 5000;  // a failing altimeter's spike, for the elevation gate's report
  const engine::Analysis a = engine::Analyze(t);
  ASSERT_GT(a.splits_km.size(), 4u);
  ASSERT_EQ(a.points.elevation_jumps, 1u);
  const std::vector<engine::Analysis> back = RoundTrip({a});
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(engine::AnalysisJson("x", back), engine::AnalysisJson("x", {a}));
  ExpectHiddenFieldsEqual(a, back[0]);
  EXPECT_EQ(back[0].device_totals.calories_kcal, std::optional<double>(412));
  EXPECT_FALSE(back[0].device_totals.distance_m.has_value());
  EXPECT_EQ(back[0].laps.at(0).device.trigger, "distance");
  EXPECT_EQ(back[0].distance_m, a.distance_m);  // exact, not rounded
}

TEST(RunCodec, AnalysesOfTheSharedFilesRoundTrip) {
  STRIDE_REQUIRE_DATASETS();
  size_t files = 0, sessions = 0;
  for (const char* dir : {"fit", "gpx", "tcx"}) {
    for (const auto& entry : fs::directory_iterator(testing::DatasetsDir() + "/" + dir)) {
      if (!entry.is_regular_file() || entry.file_size() > (4u << 20)) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::stringstream bytes;
      bytes << in.rdbuf();
      Result<engine::Activity> act = importers::ReadActivity(bytes.str());
      if (!act.ok() || act->sessions.empty()) continue;
      std::vector<engine::Analysis> analysed;
      for (engine::Track& t : act->sessions) analysed.push_back(engine::Analyze(std::move(t)));
      const std::vector<engine::Analysis> back = RoundTrip(analysed);
      ASSERT_EQ(back.size(), analysed.size()) << entry.path();
      EXPECT_EQ(engine::AnalysisJson("f", back), engine::AnalysisJson("f", analysed))
          << entry.path();
      for (size_t k = 0; k < back.size(); ++k) ExpectHiddenFieldsEqual(analysed[k], back[k]);
      ++files;
      sessions += back.size();
    }
  }
  EXPECT_GT(files, 40u);
  EXPECT_GT(sessions, files);  // a multisport file among them
}

TEST(RunCodec, AValueItsScaleCannotHoldIsStoredAsAbsent) {
  // Found by fuzzing uploads: <ele>1e300</ele> overflowed the delta coding (UBSan: signed
  // overflow); now it is absent and its neighbours keep their values.
  engine::Track t = testing::StraightRun(4, 3.0);
  t.ele_m = {200.0, 1e300, -1e300, std::numeric_limits<double>::infinity(), 204.5};
  run::TrackStreams p;
  TrackToProto(t, &p);
  const engine::Track back = TrackFromProto(p);
  ASSERT_EQ(back.ele_m.size(), 5u);
  EXPECT_DOUBLE_EQ(back.ele_m[0], 200.0);
  EXPECT_TRUE(std::isnan(back.ele_m[1]));
  EXPECT_TRUE(std::isnan(back.ele_m[2]));
  EXPECT_TRUE(std::isnan(back.ele_m[3]));
  EXPECT_NEAR(back.ele_m[4], 204.5, 1e-9);
  EXPECT_NEAR(back.lat_deg[4], t.lat_deg[4], 1e-7);
}

TEST(RunCodec, RefusesASessionWithAnUnknownSport) {
  run::SessionAnalysis p;
  AnalysisToProto(engine::Analyze(testing::StraightRun(60, 3)), &p);
  p.set_sport("curling");
  Result<engine::Analysis> a = AnalysisFromProto(p);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), StatusCode::kCorruption);
  EXPECT_NE(a.status().message().find("curling"), std::string::npos);
}

TEST(RunCodec, ReadsSchemaOneRecordsAsTheirStoredJson) {
  run::RunData old;  // as schema 1 wrote it
  old.set_original("<gpx/>");
  old.set_analysis_json(R"({"file":"a.gpx","distance_m":1234.5})");
  old.set_coverage_json("[]");
  engine::Run r;
  ASSERT_TRUE(RunDataFromProto(old, {true, true}, "run 1", &r).ok());
  EXPECT_TRUE(r.sessions.empty());
  EXPECT_EQ(r.schema1_analysis_json, R"({"file":"a.gpx","distance_m":1234.5})");
  EXPECT_EQ(r.original, "<gpx/>");

  engine::Run typed;
  typed.sessions.push_back(engine::Analyze(testing::StraightRun(60, 3)));
  run::RunData now;
  RunDataToProto(typed, &now);
  EXPECT_TRUE(now.analysis_json().empty());  // schema 2 writes no JSON
  engine::Run back;
  ASSERT_TRUE(RunDataFromProto(now, {false, false}, "run 2", &back).ok());
  EXPECT_EQ(back.sessions.size(), 1u);
  EXPECT_TRUE(back.schema1_analysis_json.empty());
}

}  // namespace
}  // namespace stride::index
