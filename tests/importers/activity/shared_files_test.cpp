// SPDX-License-Identifier: Apache-2.0
//
// Every shared recording against an independent reader: FIT against python-fitparse's record
// counts and session totals (reference/fit_sessions.json), GPX against gpxpy's point counts
// (reference/gpxpy_gpx.json), TCX against a plain count of <Trackpoint> tags.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "importers/activity/activity_reader.hpp"
#include "tests/support/datasets.hpp"

namespace stride::importers {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json LoadJson(const std::string& path) {
  std::ifstream f(path);
  return json::parse(f);
}

std::string FitPath(const std::string& name) {
  const std::string top = testing::DatasetsDir() + "/fit/" + name;
  return fs::exists(top) ? top : testing::DatasetsDir() + "/fit/edge_cases/" + name;
}

TEST(SharedFit, MatchesTheReferenceDecoder) {
  STRIDE_REQUIRE_DATASETS();
  const json ref = LoadJson(testing::DatasetsDir() + "/reference/fit_sessions.json")["files"];
  int decoded = 0, compared_sessions = 0, not_activities = 0;
  for (const auto& [name, r] : ref.items()) {
    SCOPED_TRACE(name);
    Result<std::string> bytes = ReadFileBytes(FitPath(name));
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    Result<engine::Activity> a = ReadActivity(*bytes);
    if (!r["ok"].get<bool>()) {
      // The reference decoder failed; we must either read it or fail with a clear error.
      if (!a.ok()) {
        EXPECT_EQ(a.status().message().rfind("byte ", 0), 0u) << a.status().message();
      }
      continue;
    }
    if (r["records"].get<size_t>() == 0 && r["sessions"].empty()) {
      // Settings, monitoring, weight and workout files: decoded, but not activities, which is
      // what ReadActivity says (with the file's type) instead of a run of 0 m.
      ASSERT_FALSE(a.ok()) << name;
      EXPECT_EQ(a.status().message().rfind("not an activity: a FIT ", 0), 0u)
          << a.status().message();
      ++not_activities;
      continue;
    }
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    ++decoded;
    size_t records = 0;
    for (const auto& s : a->sessions) records += s.size();
    EXPECT_EQ(records, r["records"].get<size_t>());
    const auto& sessions = r["sessions"];
    if (sessions.empty()) continue;
    ASSERT_EQ(a->sessions.size(), sessions.size());
    for (size_t k = 0; k < sessions.size(); ++k) {
      const auto& want = sessions[k];
      const engine::DeviceTotals& got = a->sessions[k].device_totals;
      ++compared_sessions;
      auto same = [&](const char* key, const std::optional<double>& v, double tol) {
        if (!want.contains(key)) return;  // the reference says nothing
        if (want[key].is_null()) {
          EXPECT_FALSE(v.has_value()) << key;
        } else {
          ASSERT_TRUE(v.has_value()) << key;
          EXPECT_NEAR(*v, want[key].get<double>(), tol) << key;
        }
      };
      same("total_distance", got.distance_m, 0.006);
      same("total_timer_time", got.timer_time_s, 0.0006);
      same("total_elapsed_time", got.elapsed_time_s, 0.0006);
      same("total_ascent", got.ascent_m, 0);
      same("avg_heart_rate", got.avg_hr_bpm, 0);
      same("total_calories", got.calories_kcal, 0);
      if (want.contains("sport") && !want["sport"].is_null()) {
        EXPECT_EQ(a->sessions[k].sport_name, want["sport"].get<std::string>());
      }
    }
  }
  EXPECT_GE(decoded, 60);
  EXPECT_GE(compared_sessions, 70);
  EXPECT_EQ(not_activities, 4);  // fitsdk's Settings, MonitoringFile, WeightScale, Workout
}

TEST(SharedFit, EdgeCasesDecodeOrFailCleanly) {
  STRIDE_REQUIRE_DATASETS();
  int files = 0, failures = 0, not_activities = 0;
  for (const auto& e : fs::directory_iterator(testing::DatasetsDir() + "/fit/edge_cases")) {
    SCOPED_TRACE(e.path().filename().string());
    Result<std::string> bytes = ReadFileBytes(e.path().string());
    ASSERT_TRUE(bytes.ok());
    Result<engine::Activity> a = ReadActivity(*bytes);
    ++files;
    if (!a.ok()) {
      EXPECT_EQ(a.status().code(), StatusCode::kInvalidArgument);
      const std::string& m = a.status().message();
      if (m.rfind("not an activity: a FIT ", 0) == 0) {
        ++not_activities;
      } else {
        ++failures;
        EXPECT_EQ(m.rfind("byte ", 0), 0u) << m;
      }
    }
  }
  EXPECT_EQ(files, 14);
  EXPECT_EQ(failures, 6);        // bad CRC x3, corrupt header, unexpected EOF, lezyne's CRC
  EXPECT_EQ(not_activities, 4);  // settings, monitoring, weight scale, workout
}

TEST(SharedGpx, PointCountsMatchGpxpy) {
  STRIDE_REQUIRE_DATASETS();
  const json ref = LoadJson(testing::DatasetsDir() + "/reference/gpxpy_gpx.json")["files"];
  int checked = 0;
  for (const auto& [name, r] : ref.items()) {
    SCOPED_TRACE(name);
    if (!r["ok"].get<bool>()) continue;
    Result<std::string> bytes = ReadFileBytes(testing::DatasetsDir() + "/gpx/" + name);
    ASSERT_TRUE(bytes.ok());
    Result<engine::Activity> a = ReadActivity(*bytes);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    EXPECT_EQ(a->sessions[0].size(), r["points"].get<size_t>());
    ++checked;
  }
  EXPECT_EQ(checked, 29);
}

TEST(SharedTcx, TrackpointCountsMatchTheFile) {
  STRIDE_REQUIRE_DATASETS();
  int checked = 0;
  for (const auto& e : fs::directory_iterator(testing::DatasetsDir() + "/tcx")) {
    SCOPED_TRACE(e.path().filename().string());
    Result<std::string> bytes = ReadFileBytes(e.path().string());
    ASSERT_TRUE(bytes.ok());
    Result<engine::Activity> a = ReadActivity(*bytes);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    size_t tags = 0;
    for (size_t p = bytes->find("<Trackpoint>"); p != std::string::npos;
         p = bytes->find("<Trackpoint>", p + 1))
      ++tags;
    size_t points = 0;
    for (const auto& s : a->sessions) points += s.size();
    EXPECT_EQ(points, tags);
    ++checked;
  }
  EXPECT_EQ(checked, 20);
}

}  // namespace
}  // namespace stride::importers
