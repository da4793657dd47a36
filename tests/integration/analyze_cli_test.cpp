// SPDX-License-Identifier: Apache-2.0
//
// `stride analyze` as a user runs it: the real binary, real files, exit codes and output.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "datasets/synthetic_activity.hpp"
#include "tests/support/cli.hpp"
#include "tests/support/datasets.hpp"
#include "tests/support/tracks.hpp"

namespace stride {
namespace {

namespace fs = std::filesystem;
using testing::CliRun;
using testing::Stride;

class AnalyzeCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("stride_cli_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    datasets::SyntheticRunOptions o;
    o.noise_m = 2;
    run_ = datasets::MakeSyntheticRun(o);
    Write("run.fit", datasets::WriteFit(run_.recorded));
    Write("run.gpx", datasets::WriteGpx(run_.recorded));
    Write("run.tcx", datasets::WriteTcx(run_.recorded));
    Write("broken.gpx", "<gpx>\n<trk><trkseg>\n<trkpt lat=\"x\" lon=\"1\"/></trkseg></trk></gpx>");
    Write("photo.jpg.gpx", "\xFF\xD8\xFF\xE0 not xml");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& name, const std::string& bytes) {
    std::ofstream(dir_ / name, std::ios::binary) << bytes;
  }
  std::string P(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
  datasets::SyntheticRun run_;
};

TEST_F(AnalyzeCli, PrintsOneJsonObjectPerFileWithTheSameAnswerForEveryFormat) {
  const CliRun r =
      Stride("analyze --json " + P("run.fit") + " " + P("run.gpx") + " " + P("run.tcx"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  std::vector<nlohmann::json> objs;
  while (std::getline(lines, line)) objs.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(objs.size(), 3u);
  EXPECT_EQ(objs[0]["source"]["format"], "fit");
  EXPECT_EQ(objs[1]["source"]["format"], "gpx");
  EXPECT_EQ(objs[2]["source"]["format"], "tcx");
  for (const auto& j : objs) {
    EXPECT_NEAR(j["distance_m"].get<double>(), run_.length_m, 0.01 * run_.length_m);
    EXPECT_EQ(j["points"]["raw"], run_.recorded.size());
    EXPECT_EQ(j["heart_rate"]["avg"], 150.0);
    EXPECT_FALSE(j["splits"].empty());
  }
  // The FIT file carries device totals, the GPX none.
  EXPECT_FALSE(objs[0]["device_totals"].is_null());
  EXPECT_TRUE(objs[1]["device_totals"].is_null());
}

// A run with a vehicle in it, analysed by the CLI: its best line runs at the run's own 4:10
// /km (the vehicle's would be faster) and says what it left out.
void ExpectBestLineLeavesOutTheVehicle(const CliRun& r) {
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const size_t best = r.out.find("  best       400m ");
  ASSERT_NE(best, std::string::npos) << r.out;
  const std::string line = r.out.substr(best, r.out.find('\n', best) - best);
  EXPECT_NE(line.find(" 1k 4:1"), std::string::npos) << line;
  EXPECT_NE(line.find(" km in a vehicle left out)"), std::string::npos) << line;
}

// A car ride (faster than the runners' records for as long; its "best 1 km" was 2:00).
TEST_F(AnalyzeCli, SaysWhatARunsBestEffortsLeftOut) {
  Write("car.gpx", datasets::WriteGpx(testing::RunCarRun()));
  ExpectBestLineLeavesOutTheVehicle(Stride("analyze --sport run " + P("car.gpx")));
}

// A bus in a run recorded with a chest strap and no step count: the heart, near rest on the
// seat, keeps it out of the best efforts (it had made "a best 1 km" of 3:00).
TEST_F(AnalyzeCli, ABusInARunWithTheHeartAtRestIsLeftOut) {
  Write("bus.gpx", datasets::WriteGpx(testing::RunBusRunWithHeart()));
  ExpectBestLineLeavesOutTheVehicle(Stride("analyze --sport run " + P("bus.gpx")));
}

TEST_F(AnalyzeCli, HumanSummaryByDefault) {
  const CliRun r = Stride("analyze --max-hr 180 " + P("run.gpx"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("distance   5.4"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("heart rate avg 150"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("splits"), std::string::npos);
}

TEST_F(AnalyzeCli, BadFilesGiveOneLineEachAndTheRestIsStillAnalysed) {
  const CliRun r = Stride("analyze --json " + P("broken.gpx") + " " + P("run.gpx") + " " +
                          P("missing.fit") + " " + P("photo.jpg.gpx"));
  EXPECT_EQ(r.exit_code, 1);
  std::istringstream lines(r.err);
  std::string line;
  std::vector<std::string> errs;
  while (std::getline(lines, line)) errs.push_back(line);
  ASSERT_EQ(errs.size(), 3u) << r.err;
  EXPECT_EQ(errs[0], "stride analyze: error: " + P("broken.gpx") +
                         ": line 3: <trkpt> expected a numeric lat attribute");
  EXPECT_EQ(errs[1], "stride analyze: error: " + P("missing.fit") + ": no such file");
  EXPECT_NE(errs[2].find("byte 0: not an activity file"), std::string::npos);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1);  // run.gpx was analysed
}

TEST_F(AnalyzeCli, DashReadsStandardInput) {
  // The same analysis as from the file, named '-'.
  const CliRun from_file = Stride("analyze --json " + P("run.fit"));
  const CliRun from_stdin = Stride("analyze --json - < " + P("run.fit"));
  ASSERT_EQ(from_file.exit_code, 0) << from_file.err;
  ASSERT_EQ(from_stdin.exit_code, 0) << from_stdin.err;
  nlohmann::json a = nlohmann::json::parse(from_file.out);
  nlohmann::json b = nlohmann::json::parse(from_stdin.out);
  EXPECT_EQ(b["file"], "-");
  a.erase("file");
  b.erase("file");
  EXPECT_EQ(a, b);
  EXPECT_GT(b["distance_m"].get<double>(), 1000);

  const CliRun empty = Stride("analyze - < /dev/null");
  EXPECT_EQ(empty.exit_code, 1);
  EXPECT_NE(empty.err.find("stride analyze: error: -: byte 0: empty file"), std::string::npos)
      << empty.err;
  const CliRun twice = Stride("analyze - - < " + P("run.fit"));
  EXPECT_EQ(twice.exit_code, 2);
  EXPECT_NE(twice.err.find("'-' (standard input) can be given once"), std::string::npos)
      << twice.err;
}

TEST_F(AnalyzeCli, FilesAnalysedAtOncePrintAsInTurn) {
  // Runs of different lengths (so that workers finish out of order), in three formats, with
  // unreadable files among them: --jobs 4 prints byte for byte what --jobs 1 prints.
  std::vector<std::string> files;
  for (int k = 0; k < 8; ++k) {
    datasets::SyntheticRunOptions o;
    o.laps = 1 + (k * 5) % 7;
    o.noise_m = 1 + k;
    const datasets::SyntheticRun run = datasets::MakeSyntheticRun(o);
    const std::string base = "run" + std::to_string(k);
    Write(base + ".fit", datasets::WriteFit(run.recorded));
    Write(base + ".gpx", datasets::WriteGpx(run.recorded));
    Write(base + ".tcx", datasets::WriteTcx(run.recorded));
    for (const char* ext : {".fit", ".gpx", ".tcx"}) files.push_back(P(base + ext));
    if (k % 3 == 0) files.push_back(P(k == 0 ? "broken.gpx" : "missing.fit"));
  }
  std::string args;
  for (const std::string& f : files) args += " " + f;
  for (const char* mode : {"--json", ""}) {
    const CliRun one = Stride(std::string("analyze ") + mode + " --jobs 1" + args);
    const CliRun four = Stride(std::string("analyze ") + mode + " --jobs 4" + args);
    EXPECT_EQ(one.exit_code, 1);
    EXPECT_EQ(four.exit_code, 1);
    EXPECT_EQ(four.out, one.out) << mode;
    EXPECT_EQ(four.err, one.err) << mode;
    if (std::string(mode) == "--json") {
      std::istringstream lines(four.out);
      std::string line;
      size_t i = 0;
      while (std::getline(lines, line)) {
        while (files[i].find("broken") != std::string::npos ||
               files[i].find("missing") != std::string::npos) {
          ++i;
        }
        EXPECT_EQ(nlohmann::json::parse(line)["file"], files[i]) << i;
        ++i;
      }
      EXPECT_EQ(i, files.size());
    }
  }
  EXPECT_EQ(Stride("analyze --jobs 0 " + P("run.gpx")).exit_code, 2);
  EXPECT_EQ(Stride("analyze --jobs 1.5 " + P("run.gpx")).exit_code, 2);
}

TEST_F(AnalyzeCli, UsageErrorsExitWithTwo) {
  EXPECT_EQ(Stride("analyze").exit_code, 2);
  EXPECT_EQ(Stride("analyze --sport swimming " + P("run.gpx")).exit_code, 2);
  EXPECT_EQ(Stride("analyze --max-hr 20 " + P("run.gpx")).exit_code, 2);
  EXPECT_EQ(Stride("analyze --hr-zones 150,140,160,170 " + P("run.gpx")).exit_code, 2);
  EXPECT_EQ(Stride("analyze --frobnicate " + P("run.gpx")).exit_code, 2);
  const CliRun empty = Stride("analyze --sport '' " + P("run.gpx"));
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_NE(empty.err.find("stride analyze: an empty argument after --sport"), std::string::npos)
      << empty.err;
  EXPECT_EQ(Stride("nonsense").exit_code, 2);
  // Each value in range, but not together: refused with both named, in either order.
  for (const std::string& options :
       {std::string("--max-hr 110 --rest-hr 115"), std::string("--rest-hr 110 --max-hr 110")}) {
    const CliRun r = Stride("analyze " + options + " " + P("run.gpx"));
    EXPECT_EQ(r.exit_code, 2) << options;
    EXPECT_NE(r.err.find("rate 1"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(" bpm: must be below the maximum, 110 bpm"), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "") << options;
  }
  const CliRun zones = Stride("analyze --hr-zones 120,140,155,170 --max-hr 165 " + P("run.gpx"));
  EXPECT_EQ(zones.exit_code, 2);
  EXPECT_NE(zones.err.find("zone 5 starts at 170 bpm: must be below the maximum, 165 bpm"),
            std::string::npos)
      << zones.err;
  EXPECT_EQ(Stride("analyze --hr-zones 120,140,155,170 --max-hr 171 " + P("run.gpx")).exit_code, 0);
  EXPECT_EQ(Stride("analyze --help").exit_code, 0);
}

TEST_F(AnalyzeCli, SportOverrideAndZoneTable) {
  const CliRun r = Stride("analyze --json --sport hike --hr-zones 100,120,140,160 " + P("run.gpx"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["source"]["sport"], "hike");
  EXPECT_EQ(j["source"]["sport_source"], "command line");
  EXPECT_EQ(j["heart_rate"]["zone_lower_bounds_bpm"][0], 100.0);
  EXPECT_GT(j["heart_rate"]["zones_s"][3].get<double>(), 0.0);
}

TEST_F(AnalyzeCli, DropsUntimedFixesBeyondAStepNoBodyMakes) {
  // A timed run of 60 fixes; before it, untimed, one fix 1 km back and one 50 km back (the
  // fuzzer's year-0 file put 55 km steps at the median speed: hours of running).
  std::string gpx =
      "<?xml version=\"1.0\"?>\n<gpx version=\"1.1\" creator=\"t\"><trk><type>running</type>"
      "<trkseg>\n<trkpt lat=\"44.55\" lon=\"6\"/>\n<trkpt lat=\"44.991\" lon=\"6\"/>\n";
  for (int i = 0; i < 60; ++i) {
    char pt[160];
    std::snprintf(pt, sizeof pt,
                  "<trkpt lat=\"%.6f\" lon=\"6\"><time>2026-05-01T08:00:%02dZ</time></trkpt>\n",
                  45.0 + 3e-5 * i, i);
    gpx += pt;
  }
  Write("far.gpx", gpx + "</trkseg></trk></gpx>\n");
  const CliRun text = Stride("analyze " + P("far.gpx"));
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("untimed    2 points without a time: 0 timed between their "
                          "neighbours, 1 placed at"),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find(", 1 dropped (1 beyond a step no body makes)\n"), std::string::npos)
      << text.out;
  const CliRun json = Stride("analyze --json " + P("far.gpx"));
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["points"]["dropped"]["untimed_beyond_jump"], 1);
  EXPECT_EQ(j["points"]["extrapolated_time"], 1);
  // 1 km placed before 177 m of running: not the 50 km the far fix would add.
  EXPECT_NEAR(j["distance_m"].get<double>(), 1000 + 177, 30);
}

TEST(AnalyzeCliShared, ReadsEverySharedFileOrSaysWhy) {
  STRIDE_REQUIRE_DATASETS();
  const CliRun r = Stride("analyze --json " + testing::DatasetsDir() + "/fit/edge_cases/*.fit " +
                          testing::DatasetsDir() + "/fit/fitparse__nick.fit");
  EXPECT_EQ(r.exit_code, 1);
  // 6 damaged edge cases, 4 that are not activities (settings, monitoring, weight, workout)
  // and nick's
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 11);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 4);
  EXPECT_NE(r.err.find("fitsdk__Settings.fit: not an activity: a FIT settings file (file_id "
                       "type 2, an activity is 4)"),
            std::string::npos)
      << r.err;
}

TEST(AnalyzeCliShared, SaysHowManyElevationsItRemoved) {
  // The Garmin SDK's ride sample: its altimeter writes 6,707 m and 12,136 m among ~1,100 m.
  STRIDE_REQUIRE_DATASETS();
  const std::string file = testing::DatasetsDir() + "/fit/garminsdk__WithGearChangeData.fit";
  const CliRun json = Stride("analyze --json " + file);
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto j = nlohmann::json::parse(json.out);
  const size_t removed = j["points"]["invalid_elevation"];
  const size_t jumps = j["methods"]["clean"]["elevation_gate"]["removed"];
  ASSERT_GT(jumps, 0u);
  ASSERT_GE(removed, jumps);
  EXPECT_LT(j["ascent_m"].get<double>(), 300);
  const CliRun text = Stride("analyze " + file);
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(
      text.out.find("climbs; " + std::to_string(removed) + " implausible elevations removed (" +
                    std::to_string(jumps) + " out of reach at 10 m/s)\n"),
      std::string::npos)
      << text.out;
}

TEST(AnalyzeCliShared, ADemThatCannotBeReadIsAnErrorAfterTheAnalyses) {
  // A GeoTIFF cut short: its header reads, its pixels do not. Before, the hike was analysed
  // with its GPS elevation and exit 0, as if the DEM had been used.
  STRIDE_REQUIRE_DATASETS();
  const fs::path dir = fs::temp_directory_path() / ("stride_cli_dem_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string tif = (dir / "andorra.tif").string();
  testing::WriteCutAndorraDem(tif);
  const std::string hike =
      testing::DatasetsDir() + "/gpx/andorra_hike_2015-08-16_adrutas_170708_a.gpx";
  const CliRun r = Stride("analyze --json --dem " + tif + " " + hike);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("stride analyze: error: --dem " + tif + ": cannot read its pixels: "),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("(elevation came from the recordings)"), std::string::npos) << r.err;
  EXPECT_TRUE(nlohmann::json::accept(r.out)) << r.out.substr(0, 200);  // the analysis, still
  const CliRun whole = Stride("analyze --json --dem " + testing::DatasetsDir() +
                              "/dem/andorra_srtm3_crop.tif " + hike);
  EXPECT_EQ(whole.exit_code, 0) << whole.err;
  EXPECT_EQ(whole.err, "");
  fs::remove_all(dir);
}

TEST(AnalyzeCliShared, SaysHowManyPointsHadNoTime) {
  // korita: a GPS unit's saved track (358 points, no times) before two timed active logs.
  STRIDE_REQUIRE_DATASETS();
  const std::string file = testing::DatasetsDir() + "/gpx/gpxpy_korita-zbevnica.gpx";
  const CliRun text = Stride("analyze " + file);
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("untimed    358 points without a time: 0 timed between their "
                          "neighbours, 358 placed at 3.5 km/h (estimated times)\n"),
            std::string::npos)
      << text.out;
  const CliRun json = Stride("analyze --json " + file);
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["points"]["extrapolated_time"], 358);
  EXPECT_EQ(j["points"]["kept"], 871);
  // The saved track's 8.6 km count: 14.9 km in all, against 14.7 km for the fixes thinned
  // with a 15 m hysteresis (5.9 km when the untimed points were dropped).
  EXPECT_NEAR(j["distance_m"].get<double>(), 14900, 300);
}

}  // namespace
}  // namespace stride
