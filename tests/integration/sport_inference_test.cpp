// SPDX-License-Identifier: Apache-2.0
//
// Sport inference against the files' own labels: every shared recording whose file names its
// sport is analysed with the label removed, and the inferred sport must be the label's family
// (walk and hike are one family: a file's "walking" is often a hike and the other way round).
#include <gtest/gtest.h>

#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "engine/track/analysis.hpp"
#include "engine/track/sport_guess.hpp"
#include "importers/activity/activity_reader.hpp"
#include "tests/support/datasets.hpp"
#include "tests/support/shared_sessions.hpp"

namespace stride {
namespace {

int Family(engine::Sport s) {
  return s == engine::Sport::kHike ? static_cast<int>(engine::Sport::kWalk) : static_cast<int>(s);
}

// The first session of a shared recording (`dir`/`name` under ../shared/datasets), analysed.
engine::Analysis AnalyzeShared(const std::string& path) {
  Result<std::string> bytes = importers::ReadFileBytes(testing::DatasetsDir() + "/" + path);
  if (!bytes.ok()) {
    ADD_FAILURE() << path << ": " << bytes.status().ToString();
    return {};
  }
  Result<engine::Activity> act = importers::ReadActivity(*bytes);
  if (!act.ok() || act->sessions.empty()) {
    ADD_FAILURE() << path << ": does not read";
    return {};
  }
  return engine::Analyze(act->sessions.front());
}

TEST(SportInference, EverySharedLabelledRecordingIsInferredInItsFamily) {
  if (!testing::HaveDatasets()) GTEST_SKIP() << "../shared/datasets is absent";
  size_t labelled = 0, right = 0;
  std::set<std::string> misses;
  std::string table;
  testing::ForEachSharedSession([&](const std::string& file, size_t k, engine::Track t) {
    const engine::Sport label = t.sport;
    if (label == engine::Sport::kUnknown || label == engine::Sport::kOther ||
        t.CountWithPosition() < 20) {
      return;
    }
    t.sport = engine::Sport::kUnknown;
    t.sport_name.clear();
    t.sub_sport.clear();
    const engine::Analysis a = engine::Analyze(std::move(t));
    ++labelled;
    const bool ok = Family(a.sport) == Family(label);
    right += ok;
    if (!ok) misses.insert(file + " #" + std::to_string(k));
    char line[700];
    std::snprintf(line, sizeof line, "%-4s %-52s #%zu  file %-5s inferred %-5s (%s)\n",
                  ok ? "ok" : "MISS", file.c_str(), k,
                  std::string(engine::SportName(label)).c_str(),
                  std::string(engine::SportName(a.sport)).c_str(), a.sport_source.c_str());
    table += line;
  });
  std::printf("%s%zu of %zu labelled sessions inferred in their family\n", table.c_str(), right,
              labelled);
  EXPECT_GT(labelled, 80u);
  // The sessions the rules cannot place, each for a reason in the data itself; any other miss
  // (or one of these fixed) fails here, so the list stays true.
  const std::set<std::string> expected = {
      "gh_andorra_for_map_matching.gpx #0",     // no times at all: nothing to infer from
      "gpsbabel__garmin-forerunner-10.fit #0",  // "run" at 26 km/h median: not on foot
  };
  EXPECT_EQ(misses, expected) << table;
}

// Two "runs" at walking pace and cadence (3 km/h, 44 and 53 steps a minute) climb 223 and 343
// m a km: mountain runs, which the speeds alone called hikes. They climb 703 and 1,167 m an
// hour of moving; hikers, even on Naismith's rule, 600 at most, and the shared hikes 90-182.
TEST(SportInference, MountainRunsAtWalkingPaceAreRuns) {
  if (!testing::HaveDatasets()) GTEST_SKIP() << "../shared/datasets is absent";
  size_t seen = 0;
  testing::ForEachSharedSession([&](const std::string& file, size_t k, engine::Track t) {
    const bool uphill = file == "sportslib__suunto-uphill.fit" && k == 0;
    const bool vertical = file == "fitparse__activity-large-fenxi2-multisport.fit" && k == 2;
    if (!uphill && !vertical) return;
    ++seen;
    t.sport = engine::Sport::kUnknown;
    const engine::Analysis a = engine::Analyze(std::move(t));
    EXPECT_EQ(a.sport, engine::Sport::kRun) << file << ": " << a.sport_source;
    EXPECT_NE(a.sport_source.find(uphill ? "703 m an hour" : "1167 m an hour"), std::string::npos)
        << a.sport_source;
    EXPECT_NE(a.sport_source.find("walking pace"), std::string::npos) << a.sport_source;
  });
  EXPECT_EQ(seen, 2u);
}

// A run's best efforts leave out only what no runner has done (FasterThanRunningSteps): on
// the shared sessions their files call runs, that is nothing but in two, each for a reason
// in the data. Any other run losing a stretch (a real runner's sprint read as a car) fails.
TEST(SportInference, ARunsBestEffortsLeaveOutOnlyWhatNoRunnerDid) {
  if (!testing::HaveDatasets()) GTEST_SKIP() << "../shared/datasets is absent";
  size_t runs = 0;
  std::set<std::string> barred;
  std::string table;
  testing::ForEachSharedSession([&](const std::string& file, size_t k, engine::Track t) {
    if (t.sport != engine::Sport::kRun || t.CountWithPosition() < 20) return;
    const engine::Analysis a = engine::Analyze(std::move(t));
    ++runs;
    if (a.best_efforts_vehicle_m == 0) return;
    barred.insert(file + " #" + std::to_string(k));
    char line[400];
    std::snprintf(line, sizeof line, "%s #%zu: %.0f of %.0f m left out, %zu best efforts\n",
                  file.c_str(), k, a.best_efforts_vehicle_m, a.distance_m, a.best_efforts.size());
    table += line;
    if (file == "gpsbabel__garmin-forerunner-10.fit") {
      // Nothing of it is running, so it has no best effort at all.
      EXPECT_TRUE(a.best_efforts.empty());
      EXPECT_GT(a.best_efforts_vehicle_m, 0.95 * a.distance_m);
    }
  });
  EXPECT_GT(runs, 30u);  // 38
  const std::set<std::string> expected = {
      // a "run" at 3.4 km/h whose cleaned path jumps 100 m in 4 s (156 m left out)
      "fitparse__activity-large-fenxi2-multisport.fit #2",
      // a "run" at 26 km/h median: not on foot
      "gpsbabel__garmin-forerunner-10.fit #0",
  };
  EXPECT_EQ(barred, expected) << table;
}

// WithGearChangeData.fit (Garmin's FIT SDK: a ride with gear changes and power, no
// positions, no sport in the file): told by its device's distance, 12.5 km in 33 min.
TEST(SportInference, ARideWithoutPositionsIsARide) {
  if (!testing::HaveDatasets()) GTEST_SKIP() << "../shared/datasets is absent";
  const engine::Analysis a = AnalyzeShared("fit/garminsdk__WithGearChangeData.fit");
  EXPECT_EQ(a.sport, engine::Sport::kRide) << a.sport_source;
  EXPECT_NE(a.sport_source.find("by the device's distance"), std::string::npos) << a.sport_source;
  EXPECT_TRUE(a.best_efforts.empty());  // running distances mean nothing for a ride
}

// The recorded hikes of the shared data (no sport in their files; MANIFEST.md says what they
// are) are inferred as hikes, and say why.
TEST(SportInference, RecordedHikesAreHikes) {
  if (!testing::HaveDatasets()) GTEST_SKIP() << "../shared/datasets is absent";
  for (const char* name :
       {"andorra_hike_2016-09-13_adrutas_170708_b.gpx",
        "andorra_hike_2015-08-16_adrutas_170708_a.gpx",
        "andorra_hike_2006-05-01_adrutas_180429_a1.gpx", "gpxpy_korita-zbevnica.gpx"}) {
    const engine::Analysis a = AnalyzeShared(std::string("gpx/") + name);
    EXPECT_EQ(a.sport, engine::Sport::kHike) << name << ": " << a.sport_source;
    EXPECT_NE(a.sport_source.find("walking pace"), std::string::npos) << a.sport_source;
    EXPECT_EQ(a.sport_source.find("nan"), std::string::npos) << a.sport_source;
  }
}

// cerknicko-jezero.gpx: a walk around Lake Cerknica (MANIFEST.md: "recorded hike/walk") with
// two stretches at 24-28 km/h between its walks (a car or a bus). It was "a run": 90 % of its
// speeds were under 23 km/h, none of them at running pace.
TEST(SportInference, AWalkWithARideInItIsAWalk) {
  if (!testing::HaveDatasets()) GTEST_SKIP() << "../shared/datasets is absent";
  const engine::Analysis a = AnalyzeShared("gpx/gpxpy_cerknicko-jezero.gpx");
  EXPECT_TRUE(a.sport == engine::Sport::kWalk || a.sport == engine::Sport::kHike) << a.sport_source;
  EXPECT_NE(a.sport_source.find("at vehicle speed (19.8 km/h or more) left out"), std::string::npos)
      << a.sport_source;
  // Nor are its best efforts the bus's: "a best 400 m" was 39 s (37 km/h). Each effort is at
  // a pace someone on foot keeps, and the rides' kilometres are reported as left out.
  ASSERT_FALSE(a.best_efforts.empty());
  for (const engine::BestEffort& e : a.best_efforts) {
    EXPECT_LT(e.distance_m / e.time_s, engine::kVehicleSpeedMps) << e.name << " " << e.time_s;
  }
  EXPECT_GT(a.best_efforts_vehicle_m, 1000);
  EXPECT_LT(a.best_efforts_vehicle_m, a.distance_m / 2);
}

}  // namespace
}  // namespace stride
