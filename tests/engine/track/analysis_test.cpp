// SPDX-License-Identifier: Apache-2.0
#include "engine/track/analysis.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "datasets/synthetic_activity.hpp"
#include "engine/run/run.hpp"
#include "engine/text/round.hpp"
#include "engine/track/analysis_json.hpp"
#include "tests/support/tracks.hpp"

namespace stride::engine {
namespace {

TEST(Analyze, MeasuresASyntheticRunAgainstItsTruth) {
  datasets::SyntheticRunOptions o;
  // 1.5 m of white jitter a second: the noisiest of the shared devices shows about 1 m.
  o.noise_m = 1.5;
  o.ele_noise_m = 1.0;
  o.laps = 4;  // 7.2 km, 120 m of climbing
  o.stop_at_m = 3000;
  o.stop_s = 120;
  const datasets::SyntheticRun run = datasets::MakeSyntheticRun(o);
  const Analysis a = Analyze(run.recorded);
  EXPECT_EQ(a.sport, Sport::kRun);
  EXPECT_NEAR(a.distance_m, run.length_m, 0.005 * run.length_m);
  EXPECT_NEAR(a.elapsed_time_s, run.moving_time_s + 120, 1.0);
  EXPECT_NEAR(a.moving_time_s, run.moving_time_s, 30.0);
  EXPECT_NEAR(a.ascent_m, run.ascent_m, 0.15 * run.ascent_m);
  EXPECT_NEAR(a.heart_rate.avg_bpm, 150.0, 1e-9);
  ASSERT_EQ(a.splits_km.size(), 8u);  // 7 full km and a partial one
  EXPECT_NEAR(a.splits_km[0].distance_m, 1000.0, 1e-6);
  ASSERT_FALSE(a.best_efforts.empty());
  EXPECT_NEAR(a.best_efforts[1].time_s, 1000.0 / 3.0, 10.0);  // 1 km at 3 m/s
  ASSERT_EQ(a.stops.size(), 1u);
  EXPECT_NEAR(a.stops[0].duration_s, 120.0, 15.0);
  EXPECT_TRUE(a.stops[0].timer_running);
}

// A run across the 180th meridian (Fiji's Taveuni has a path over it) measures what the same
// run measures anywhere else: its smoothing plane took the crossing as a trip round the world.
TEST(Analyze, ARunAcrossTheAntimeridianMeasuresWhatItDoesElsewhere) {
  datasets::SyntheticRunOptions o;
  o.noise_m = 1.5;
  o.laps = 2;
  o.start_lat_deg = -16.8;
  o.start_lon_deg = 170.0;
  const datasets::SyntheticRun elsewhere = datasets::MakeSyntheticRun(o);
  Track across = elsewhere.recorded;
  const auto [lo, hi] = std::minmax_element(across.lon_deg.begin(), across.lon_deg.end());
  const double shift = 180.0 - (*lo + *hi) / 2;  // the same shape, its middle on 180
  double min_lon = 180, max_lon = -180;
  for (double& lon : across.lon_deg) {
    lon += shift;
    if (lon > 180.0) lon -= 360.0;
    min_lon = std::min(min_lon, lon), max_lon = std::max(max_lon, lon);
  }
  ASSERT_LT(min_lon, -179.0);  // the premise: it does cross
  ASSERT_GT(max_lon, 179.0);
  const Analysis a = Analyze(elsewhere.recorded), b = Analyze(across);
  EXPECT_NEAR(a.distance_m, elsewhere.length_m, 0.005 * elsewhere.length_m);
  EXPECT_NEAR(b.distance_m, a.distance_m, 1e-6 * a.distance_m);
  EXPECT_NEAR(b.moving_time_s, a.moving_time_s, 1.0);
  ASSERT_EQ(b.splits_km.size(), a.splits_km.size());
  for (size_t i = 0; i < a.splits_km.size(); ++i) {
    EXPECT_NEAR(b.splits_km[i].moving_time_s, a.splits_km[i].moving_time_s, 0.5) << i;
  }
}

TEST(Analyze, WarnsOfCappedSplitsOnlyWhenOneWasLeftOut) {
  auto warned = [](const Analysis& a) {
    for (const std::string& w : a.warnings) {
      if (w.rfind("splits: only the first", 0) == 0) return w;
    }
    return std::string();
  };
  AnalyzeOptions opt;
  opt.segment.max_splits = 3;
  // 4.5 km: 5 km splits (the last a partial one), 3 mile splits.
  const Track run = testing::StraightRun(1500, 3.0);
  const Analysis cut = Analyze(run, opt);
  EXPECT_EQ(cut.splits_km.size(), 3u);
  EXPECT_EQ(cut.splits_mile.size(), 3u);
  EXPECT_EQ(warned(cut), "splits: only the first 3 splits of each unit are listed (4 km in all)");
  opt.segment.max_splits = 5;
  const Analysis whole = Analyze(run, opt);
  EXPECT_EQ(whole.splits_km.size(), 5u);
  EXPECT_EQ(warned(whole), "");
  // Half a metre past the fourth km: four splits, all of them listed under a cap of four.
  opt.segment.max_splits = 4;
  const Analysis four = Analyze(testing::StraightRun(1600, 2.5003), opt);
  ASSERT_GE(four.distance_m, 4000.0);
  ASSERT_LT(four.distance_m, 4001.0);
  EXPECT_EQ(four.splits_km.size(), 4u);
  EXPECT_EQ(warned(four), "");
}

TEST(Analyze, SaysHowFarAnyDistanceGoesWhenItCapsTheSplits) {
  // Fuzzing (fit target, UBSan) sent a device distance of 4.7e25 m: the warning cast its km to
  // a long long, out of range, and printed "-9223372036854775808 km in all".
  Track t = testing::StraightRun(9, 3.0);
  for (size_t i = 0; i < t.size(); ++i) {
    t.lat_deg[i] = t.lon_deg[i] = kNaN;  // an indoor record: the device's distance only
    t.distance_m[i] = static_cast<double>(i) * 5e24;
  }
  AnalyzeOptions opt;
  opt.segment.max_splits = 3;
  const Analysis a = Analyze(t, opt);
  ASSERT_GT(a.distance_m, 1e25);
  std::string warning;
  for (const std::string& w : a.warnings) {
    if (w.rfind("splits: only the first 3 splits", 0) == 0) warning = w;
  }
  const std::string prefix = "splits: only the first 3 splits of each unit are listed (";
  ASSERT_EQ(warning.rfind(prefix, 0), 0u) << warning;
  const std::string km =
      warning.substr(prefix.size(), warning.find(' ', prefix.size()) - prefix.size());
  ASSERT_EQ(km.find_first_not_of("0123456789"), std::string::npos) << warning;
  EXPECT_NEAR(std::stod(km), a.distance_m / 1000, 1e-9 * a.distance_m / 1000) << warning;
}

TEST(Analyze, AFileWithoutTimesStillGetsDistanceAscentAndClimbs) {
  // A GPS unit's saved track: positions and altitude, no time at all.
  datasets::SyntheticRunOptions o;
  o.hill_m = 60;
  o.noise_m = 0.5;
  o.interval_s = 5;
  datasets::SyntheticRun run = datasets::MakeSyntheticRun(o);
  for (double& t : run.recorded.time_s) t = kNaN;
  const Analysis a = Analyze(run.recorded);
  EXPECT_NEAR(a.distance_m, run.length_m, 0.01 * run.length_m);
  EXPECT_NEAR(a.ascent_m, run.ascent_m, 0.1 * run.ascent_m);
  EXPECT_EQ(a.climbs.size(), 3u);  // one per lap
  EXPECT_TRUE(std::isnan(a.moving_time_s));
  EXPECT_TRUE(a.splits_km.empty());  // no time, no pace
}

TEST(Analyze, EstimatedTimesMakeNoBestEffort) {
  // 3.6 km saved without times, then a timed 2.7 km at 3 m/s: distance counts both, but the
  // best efforts come from the timed part alone (no 5k, which only the estimate would give).
  datasets::SyntheticRunOptions o;
  o.laps = 2;  // 3.6 km
  o.hill_m = 0;
  datasets::SyntheticRun saved = datasets::MakeSyntheticRun(o);
  o.laps = 1;
  o.leg_a_m = 1000;
  o.leg_b_m = 350;
  o.start_lat_deg = 42.52;  // elsewhere, another recorded segment
  const datasets::SyntheticRun timed = datasets::MakeSyntheticRun(o);
  Track t = saved.recorded;
  for (double& x : t.time_s) x = kNaN;
  t.segment_starts = {0, static_cast<uint32_t>(t.size())};
  for (size_t i = 0; i < timed.recorded.size(); ++i) t.Append(timed.recorded.PointAt(i));
  const Analysis a = Analyze(t);
  EXPECT_EQ(a.points.extrapolated_time, saved.recorded.size());
  EXPECT_NEAR(a.distance_m, saved.length_m + timed.length_m,
              0.01 * (saved.length_m + timed.length_m));
  ASSERT_EQ(a.best_efforts.size(), 3u);  // 400 m, 1 km, 1 mile
  EXPECT_EQ(a.best_efforts.back().name, "1mile");
  EXPECT_NEAR(a.best_efforts[1].time_s, 1000.0 / 3.0, 5.0);
  EXPECT_GE(a.best_efforts[1].start_distance_m, saved.length_m - 50);
}

TEST(Analyze, IndoorRunUsesDeviceDistance) {
  Track t;
  t.sport = Sport::kRun;
  for (int i = 0; i <= 600; ++i) {
    TrackPoint p;
    p.time_s = 1e9 + i;
    p.distance_m = 2.5 * i;
    p.hr_bpm = 140;
    t.Append(p);
  }
  const Analysis a = Analyze(t);
  EXPECT_TRUE(a.distance_from_device);
  EXPECT_NEAR(a.distance_m, 1500.0, 1e-6);
  EXPECT_NEAR(a.moving_time_s, 600.0, 1e-6);
  EXPECT_DOUBLE_EQ(a.heart_rate.avg_bpm, 140.0);
  EXPECT_EQ(a.points.no_position, 601u);
}

TEST(Analyze, CommandLineSportAndZonesWin) {
  datasets::SyntheticRunOptions o;
  const datasets::SyntheticRun run = datasets::MakeSyntheticRun(o);
  AnalyzeOptions opt;
  opt.sport = Sport::kHike;
  opt.hr_zone_bounds_bpm = {100, 120, 140, 160};
  const Analysis a = Analyze(run.recorded, opt);
  EXPECT_EQ(a.sport, Sport::kHike);
  EXPECT_EQ(a.sport_source, "command line");
  EXPECT_NEAR(a.heart_rate.zones_s[3], a.timer_time_s, 1e-6);  // 150 bpm is in zone 4
}

TEST(Analyze, RunningBestEffortsAreForFootSportsOnly) {
  datasets::SyntheticRunOptions o;
  o.speed_mps = 8.0;  // a ride
  o.sport = Sport::kRide;
  const Analysis ride = Analyze(datasets::MakeSyntheticRun(o).recorded);
  EXPECT_TRUE(ride.best_efforts.empty());
  EXPECT_FALSE(ride.splits_km.empty());
}

// A run with a 30 km/h car ride in it: the ride made "a best 1 km" of 2:00, faster than the
// world record. No best effort crosses it, and the JSON says how far it went and why.
TEST(Analyze, NoBestEffortOfARunCrossesACarRide) {
  const Analysis a = Analyze(testing::RunCarRun());
  EXPECT_EQ(a.sport, Sport::kRun);
  EXPECT_NEAR(a.distance_m, 6500, 30);   // the distance is still what was recorded
  ASSERT_EQ(a.best_efforts.size(), 3u);  // 400 m, 1 km, 1 mile: the first run's 3 km
  EXPECT_NEAR(a.best_efforts[1].time_s, 250.0, 5.0);
  EXPECT_GE(a.best_efforts_vehicle_m, 1500.0 - 10);
  EXPECT_LE(a.best_efforts_vehicle_m, 1500.0 + 2 * 101 * 4.0);
  const auto j = nlohmann::json::parse(AnalysisJson("run.gpx", {a}));
  const auto& m = j["methods"]["best_efforts"];
  EXPECT_NEAR(m["vehicle_m"].get<double>(), a.best_efforts_vehicle_m, 0.06);
  EXPECT_NE(m["excludes"].get<std::string>().find("faster than the world record for as long"),
            std::string::npos)
      << m.dump();
  // Without the ride, nothing is left out.
  EXPECT_EQ(Analyze(testing::StraightRun(1800, 1000.0 / 250.0)).best_efforts_vehicle_m, 0.0);
}

// A run with a 20 km/h bus ride in it, the watch counting no step on the bus: the bus is
// slower than the runners' records, so only the step count keeps it out of the best efforts.
TEST(Analyze, NoBestEffortOfARunCrossesABusRideWithoutSteps) {
  const Analysis a = Analyze(testing::RunBusRun());
  EXPECT_EQ(a.sport, Sport::kRun);
  ASSERT_GE(a.best_efforts.size(), 2u);
  EXPECT_NEAR(a.best_efforts[1].time_s, 250.0, 5.0);  // not the bus's 180 s
  EXPECT_GE(a.best_efforts_vehicle_m, 20 / 3.6 * 600 - 10);
  EXPECT_LE(a.best_efforts_vehicle_m, 20 / 3.6 * 600 + 60);
  const auto j = nlohmann::json::parse(AnalysisJson("run.fit", {a}));
  EXPECT_NE(
      j["methods"]["best_efforts"]["excludes"].get<std::string>().find("without a step counted"),
      std::string::npos);
  // The same ride with no cadence recorded on it keeps its 180 s: nothing tells it apart.
  EXPECT_NEAR(Analyze(testing::RunBusRun(kNaN)).best_efforts[1].time_s, 180.0, 5.0);
}

// The same bus in a run recorded by a phone with a chest strap (no cadence): the heart, near
// rest on the seat, keeps it out.
TEST(Analyze, NoBestEffortOfARunCrossesABusRideWithTheHeartAtRest) {
  const Analysis a = Analyze(testing::RunBusRunWithHeart());
  EXPECT_EQ(a.sport, Sport::kRun);
  ASSERT_GE(a.best_efforts.size(), 2u);
  EXPECT_NEAR(a.best_efforts[1].time_s, 250.0, 5.0);
  // The ride, and at most 43 s of running at each of its ends (RestingHeartSteps' window).
  EXPECT_GE(a.best_efforts_vehicle_m, 20 / 3.6 * 600 - 30);
  EXPECT_LE(a.best_efforts_vehicle_m, 20 / 3.6 * 600 + 2 * 43 * 4.0 + 30);
  const auto j = nlohmann::json::parse(AnalysisJson("run.gpx", {a}));
  EXPECT_NE(j["methods"]["best_efforts"]["excludes"].get<std::string>().find("with the heart"),
            std::string::npos);
}

// The best efforts' exclusions are said from the settings Analyze uses: a walk's vehicle bar
// (kVehicleSpeedMps over SpeedBar's 10 s), the step count's and the heart's windows.
TEST(AnalysisJson, SaysWhatTheBestEffortsLeaveOutFromTheirSettings) {
  Analysis walk;
  walk.sport = Sport::kWalk;
  const auto w = nlohmann::json::parse(AnalysisJson("walk.gpx", {walk}));
  EXPECT_EQ(w["methods"]["best_efforts"]["excludes"].get<std::string>(),
            "estimated times; 10 s or more at 19.8 km/h or faster (a vehicle); a minute at "
            "9 km/h or faster without a step counted (a vehicle); two minutes at 14.4 km/h or "
            "more and 25 % over the recording's median pace with the heart 25 bpm or more under "
            "its median (a vehicle)");
  Analysis run;
  run.sport = Sport::kRun;
  const auto r = nlohmann::json::parse(AnalysisJson("run.gpx", {run}));
  EXPECT_EQ(r["methods"]["best_efforts"]["excludes"].get<std::string>().rfind(
                "estimated times; faster than the world record for as long (a vehicle); a "
                "minute at 9 km/h",
                0),
            0u);
}

TEST(AnalysisJson, HasTheDocumentedFields) {
  datasets::SyntheticRunOptions o;
  const datasets::SyntheticRun run = datasets::MakeSyntheticRun(o);
  const Analysis a = Analyze(run.recorded);
  const auto j = nlohmann::json::parse(AnalysisJson("run.fit", {a}));
  for (const char* key :
       {"source", "points", "distance_m", "elapsed_time_s", "moving_time_s", "ascent_m",
        "descent_m", "avg_pace_s_per_km", "gap_s_per_km", "heart_rate", "trimp", "splits", "laps",
        "climbs", "best_efforts", "device_totals", "methods"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["file"], "run.fit");
  EXPECT_EQ(j["heart_rate"]["zones_s"].size(), 5u);
  EXPECT_EQ(j["source"]["sport"], "run");
  EXPECT_EQ(j["methods"]["smoothing"]["name"], "kalman_cv_rts");
  const auto& clean = j["methods"]["clean"];
  EXPECT_EQ(clean["elevation_range_m"], nlohmann::json::array({-500.0, 9000.0}));
  EXPECT_EQ(clean["elevation_gate"]["max_vertical_speed_mps"], 10.0);
  EXPECT_EQ(clean["elevation_gate"]["noise_m"], 50.0);
  EXPECT_EQ(clean["elevation_gate"]["recovery_s"], 30.0);
  EXPECT_EQ(clean["elevation_gate"]["removed"], a.points.elevation_jumps);
  EXPECT_NEAR(j["distance_m"].get<double>(), a.distance_m, 0.06);
  // Two sessions: totals at the top, each session below.
  const auto m = nlohmann::json::parse(AnalysisJson("multi.fit", {a, a}));
  EXPECT_EQ(m["sessions"].size(), 2u);
  EXPECT_NEAR(m["distance_m"].get<double>(), 2 * a.distance_m, 0.2);
}

// A DEM that rises 20,000 m per degree northward (18 m per 100 m): each northward leg of
// the synthetic loop (300 m) climbs 54 m.
class SlopeDem : public ElevationSource {
 public:
  explicit SlopeDem(bool covers = true) : covers_(covers) {}
  bool ElevationAt(double lat, double, double* h) const override {
    if (!covers_) return false;
    *h = 500 + 20'000 * (lat - 42.5);
    return true;
  }

 private:
  bool covers_;
};

TEST(AnalyzeDem, ReplacesGpsAltitudeAndSaysSo) {
  datasets::SyntheticRunOptions o;
  o.noise_m = 2;
  o.ele_noise_m = 4;  // GPS altitude
  const datasets::SyntheticRun run = MakeSyntheticRun(o);
  const SlopeDem dem;
  AnalyzeOptions opt;
  opt.dem = &dem;
  const Analysis a = Analyze(run.recorded, opt);
  EXPECT_EQ(a.smoothing.elevation_source, AltitudeSource::kDem);
  EXPECT_EQ(a.smoothing.elevation_source_reason.rfind("dem, replacing gps altitude (roughness", 0),
            0u)
      << a.smoothing.elevation_source_reason;
  // Three laps, one 300 m northward leg each.
  const double expected = 3 * 300.0 / 111'132.0 * 20'000;
  EXPECT_NEAR(a.ascent_m, expected, 0.05 * expected);
  EXPECT_NEAR(a.descent_m, expected, 0.05 * expected);
  // The stored track carries the DEM's elevations at its positions (smoothed, so near).
  double worst = 0;
  for (size_t i = 0; i < a.track.size(); i += 10) {
    double h = 0;
    dem.ElevationAt(a.track.lat_deg[i], a.track.lon_deg[i], &h);
    worst = std::max(worst, std::fabs(a.track.ele_m[i] - h));
  }
  EXPECT_LT(worst, 6.0);
  const nlohmann::json j = nlohmann::json::parse(AnalysisJson("x", {a}));
  EXPECT_EQ(j["methods"]["elevation"]["source"], "dem");
}

TEST(AnalyzeDem, KeepsBarometricAltitudeAndIgnoresAnUncoveringDem) {
  datasets::SyntheticRunOptions o;
  o.noise_m = 2;  // smooth altitude: classified barometric
  const datasets::SyntheticRun run = MakeSyntheticRun(o);
  const SlopeDem dem;
  AnalyzeOptions opt;
  opt.dem = &dem;
  const Analysis baro = Analyze(run.recorded, opt);
  EXPECT_EQ(baro.smoothing.elevation_source, AltitudeSource::kBarometric);
  EXPECT_NEAR(baro.ascent_m, run.ascent_m, 0.1 * run.ascent_m);

  o.ele_noise_m = 4;
  const datasets::SyntheticRun gps = MakeSyntheticRun(o);
  const SlopeDem nowhere(false);
  opt.dem = &nowhere;
  const Analysis kept = Analyze(gps.recorded, opt);
  EXPECT_EQ(kept.smoothing.elevation_source, AltitudeSource::kGps);
}

TEST(PositionBounds, CoverOnlyPositionedPoints) {
  Track t;
  EXPECT_FALSE(PositionBounds(t).has_value());
  TrackPoint p;
  p.time_s = 1;
  t.Append(p);  // no position
  EXPECT_FALSE(PositionBounds(t).has_value());
  p.lat_deg = 42.5, p.lon_deg = 1.5;
  t.Append(p);
  p.lat_deg = 42.4, p.lon_deg = 1.7;
  t.Append(p);
  const std::optional<TrackBounds> b = PositionBounds(t);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->min_lat, 42.4);
  EXPECT_EQ(b->max_lat, 42.5);
  EXPECT_EQ(b->min_lon, 1.5);
  EXPECT_EQ(b->max_lon, 1.7);
}

TEST(SummarizeSessions, TotalsTheSessionsOfAMultisportFile) {
  datasets::SyntheticRunOptions o;
  o.start_time_s = 1.7e9;
  Analysis a = Analyze(datasets::MakeSyntheticRun(o).recorded);
  o.seed = 2;
  o.start_time_s = 1.7e9 + 7200;
  Analysis b = Analyze(datasets::MakeSyntheticRun(o).recorded);
  const RunSummary one = SummarizeSessions({a});
  EXPECT_EQ(one.sport, "run");
  EXPECT_EQ(one.sessions, 1u);
  EXPECT_EQ(one.distance_m, a.distance_m);
  EXPECT_EQ(one.points, a.points.kept);
  const RunSummary two = SummarizeSessions({a, b});
  EXPECT_EQ(two.sport, "multisport");
  EXPECT_EQ(two.sessions, 2u);
  EXPECT_EQ(two.start_time_s, a.start_time_s);
  EXPECT_DOUBLE_EQ(two.distance_m, a.distance_m + b.distance_m);
  EXPECT_DOUBLE_EQ(two.moving_time_s, a.moving_time_s + b.moving_time_s);
  EXPECT_EQ(two.points, a.points.kept + b.points.kept);
}

TEST(RoundTo, PrintsTheDecimalNotItsNeighbour) {
  EXPECT_EQ(RoundTo(7497.94999, 0.1), 7497.9);
  EXPECT_EQ(RoundTo(1.23456789012, 1e-7), 1.2345679);
  EXPECT_EQ(RoundTo(-2.5, 1), -3);  // half away from zero, as std::round
  EXPECT_TRUE(std::isnan(RoundTo(kNaN, 0.1)));
}

}  // namespace
}  // namespace stride::engine
