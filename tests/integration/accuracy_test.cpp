// SPDX-License-Identifier: Apache-2.0
//
// Accuracy of the track pipeline on real recordings, against what the devices measured
// themselves. Prints the per-file table (the figures reported in the issue note).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/geo/geodesy.hpp"
#include "engine/track/analysis.hpp"
#include "importers/activity/activity_reader.hpp"
#include "tests/support/datasets.hpp"
#include "tests/support/shared_sessions.hpp"

namespace stride {
namespace {

namespace fs = std::filesystem;

double MedianInterval(const engine::Track& t) {
  std::vector<double> dt;
  for (size_t i = 1; i < t.size(); ++i) dt.push_back(t.time_s[i] - t.time_s[i - 1]);
  if (dt.empty()) return 0;
  std::nth_element(dt.begin(), dt.begin() + static_cast<long>(dt.size() / 2), dt.end());
  return dt[dt.size() / 2];
}

TEST(Accuracy, RunsAndWalksAgainstDeviceTotals) {
  STRIDE_REQUIRE_DATASETS();
  std::vector<double> dist_err;
  int timer_files = 0;
  std::printf("%-52s %4s %9s %9s %7s %9s %9s %7s %7s\n", "file (session)", "dt", "ours_m",
              "device_m", "err_%", "moving_s", "timer_s", "err_%", "stops_s");
  for (const auto& e : fs::directory_iterator(testing::DatasetsDir() + "/fit")) {
    if (!e.is_regular_file()) continue;
    Result<std::string> bytes = importers::ReadFileBytes(e.path().string());
    ASSERT_TRUE(bytes.ok());
    Result<engine::Activity> act = importers::ReadActivity(*bytes);
    if (!act.ok()) continue;  // the reference decoder rejects these too (see shared_files_test)
    for (size_t k = 0; k < act->sessions.size(); ++k) {
      const engine::Track& s = act->sessions[k];
      if (s.sport != engine::Sport::kRun && s.sport != engine::Sport::kWalk) continue;
      if (!s.device_totals.distance_m || *s.device_totals.distance_m <= 0) continue;
      const engine::Analysis a = engine::Analyze(s);
      if (a.points.kept_with_position < 100 || MedianInterval(a.track) > 1.5) continue;
      const std::string label = e.path().filename().string() + " (" + std::to_string(k) + ")";
      SCOPED_TRACE(label);
      const double dev = *s.device_totals.distance_m;
      const double derr = (a.distance_m - dev) / dev * 100;
      dist_err.push_back(std::fabs(derr));
      EXPECT_LE(std::fabs(derr), 4.0);
      double merr = NAN, stopped = 0;
      if (a.used_timer_events && s.device_totals.timer_time_s) {
        const double timer = *s.device_totals.timer_time_s;
        for (const engine::Stop& st : a.stops) stopped += st.timer_running ? st.duration_s : 0.0;
        merr = (a.moving_time_s - timer) / timer * 100;
        // Moving time follows the device timer; where it is shorter, the difference is stops
        // the athlete made with the timer running, which the analysis lists.
        EXPECT_LE(std::fabs(a.moving_time_s + stopped - timer) / timer * 100, 3.0);
        EXPECT_NEAR(a.timer_time_s, timer, 0.005 * timer);
        ++timer_files;
      }
      std::printf("%-52.52s %4.1f %9.1f %9.1f %+7.2f %9.0f %9.0f %+7.2f %7.0f\n", label.c_str(),
                  MedianInterval(a.track), a.distance_m, dev, derr, a.moving_time_s,
                  s.device_totals.timer_time_s.value_or(NAN), merr, stopped);
    }
  }
  ASSERT_GE(dist_err.size(), 12u);
  std::sort(dist_err.begin(), dist_err.end());
  const double median = dist_err[dist_err.size() / 2];
  std::printf("sessions %zu, median |distance error| %.2f %%, max %.2f %%; %d with timer events\n",
              dist_err.size(), median, dist_err.back(), timer_files);
  EXPECT_LE(median, 1.5);
  EXPECT_GE(timer_files, 10);
}

TEST(Accuracy, SameActivityFromTwoAppsAgrees) {
  STRIDE_REQUIRE_DATASETS();
  auto analyse = [](const std::string& name) {
    Result<std::string> bytes = importers::ReadFileBytes(testing::DatasetsDir() + "/gpx/" + name);
    EXPECT_TRUE(bytes.ok());
    Result<engine::Activity> act = importers::ReadActivity(*bytes);
    EXPECT_TRUE(act.ok());
    return engine::Analyze(act->sessions[0]);
  };
  const engine::Analysis movescount = analyse("sportslib_movescount_2018-05-13.gpx");
  const engine::Analysis tracker = analyse("sportslib_sports-tracker_2018-05-13.gpx");
  EXPECT_EQ(movescount.points.raw, 1592u);
  EXPECT_EQ(tracker.points.raw, 7785u);
  const double ddist =
      std::fabs(movescount.distance_m - tracker.distance_m) / movescount.distance_m;
  const double dasc = std::fabs(movescount.ascent_m - tracker.ascent_m) / movescount.ascent_m;
  std::printf(
      "movescount %.0f m +%.0f m, sports-tracker %.0f m +%.0f m: distance %.2f %%, ascent %.2f %% "
      "apart\n",
      movescount.distance_m, movescount.ascent_m, tracker.distance_m, tracker.ascent_m, ddist * 100,
      dasc * 100);
  EXPECT_LE(ddist, 0.02);
  EXPECT_LE(dasc, 0.10);
  // Both near gpxpy's 2D length of the Movescount file (12,278 m): sanity, not a target.
  EXPECT_NEAR(movescount.distance_m, 12278, 0.03 * 12278);
}

}  // namespace
}  // namespace stride

namespace stride {
namespace {

engine::Activity ReadShared(const std::string& rel) {
  Result<std::string> bytes = importers::ReadFileBytes(testing::DatasetsDir() + "/" + rel);
  EXPECT_TRUE(bytes.ok()) << rel;
  Result<engine::Activity> a = importers::ReadActivity(*bytes);
  EXPECT_TRUE(a.ok()) << rel;
  return std::move(a).value();
}

TEST(Accuracy, FailingAltimetersDoNotClimb) {
  // Two shared files whose altimeters wrote garbage. The Garmin SDK's 33-minute indoor ride at
  // ~1,100 m reads 28.8, 6,707 and 12,136 m among its records: it climbed 65,018 m before the
  // vertical-speed gate, and its records go from 1,028.8 m to ~1,162 m. The fenix 2 run starts
  // with 55 -> 142.4 -> 56 m in three seconds; the watch itself says +64 m / -61 m.
  STRIDE_REQUIRE_DATASETS();
  const engine::Analysis ride =
      engine::Analyze(ReadShared("fit/garminsdk__WithGearChangeData.fit").sessions[0]);
  EXPECT_LT(ride.ascent_m, 400.0);
  EXPECT_NEAR(ride.ascent_m - ride.descent_m, 1162 - 1028.8, 20.0);
  const engine::Activity fenix = ReadShared("fit/fitparse__activity-small-fenix2-run.fit");
  ASSERT_EQ(*fenix.sessions[0].device_totals.descent_m, 61.0);
  const engine::Analysis run = engine::Analyze(fenix.sessions[0]);
  std::printf(
      "garmin sdk ride +%.0f m / -%.0f m; fenix 2 run +%.0f m / -%.0f m (device +64 / -61)\n",
      ride.ascent_m, ride.descent_m, run.ascent_m, run.descent_m);
  EXPECT_NEAR(run.descent_m, 61.0, 0.15 * 61.0);  // 120.6 m with the spike
  EXPECT_NEAR(run.ascent_m, 64.0, 0.15 * 64.0);
}

TEST(Accuracy, MultiSportSessionsKeepTheirTimerState) {
  // The ride's own timer events begin with a restart after a pause; the start before it
  // fell to the transition session. The ride must still count from its first record.
  STRIDE_REQUIRE_DATASETS();
  engine::Activity a = ReadShared("fit/bench__gc_MultiSport-2019-11-24_fenix5x.fit");
  ASSERT_EQ(a.sessions.size(), 5u);
  for (size_t k : {2u, 4u}) {  // ride, run
    const double dev = *a.sessions[k].device_totals.distance_m;
    const engine::Analysis an = engine::Analyze(a.sessions[k]);
    EXPECT_NEAR(an.distance_m, dev, 0.04 * dev) << "session " << k;
    EXPECT_NEAR(an.timer_time_s, *a.sessions[k].device_totals.timer_time_s,
                0.01 * *a.sessions[k].device_totals.timer_time_s)
        << "session " << k;
  }
}

TEST(Accuracy, TimerEventsThatContradictTheDeviceAreSetAside) {
  // Start, stop at 38 min, never a restart, records to the end: the session's own timer
  // total (69 min) says the events are incomplete.
  STRIDE_REQUIRE_DATASETS();
  engine::Activity a = ReadShared("fit/gpsbabel__garmin-oregon-700.fit");
  ASSERT_EQ(a.sessions.size(), 1u);
  EXPECT_TRUE(a.sessions[0].timer_events_dropped);
  const engine::Analysis an = engine::Analyze(a.sessions[0]);
  EXPECT_NEAR(an.distance_m, 22288.51, 0.02 * 22288.51);
  EXPECT_FALSE(an.used_timer_events);
}

// Mean interval between consecutive timed points of the track as read, seconds (gaps
// included: the "sampling" column).
double MeanTimedInterval(const engine::Track& t) {
  double sum = 0, last = NAN;
  size_t n = 0;
  for (double x : t.time_s) {
    if (std::isnan(x)) continue;
    if (!std::isnan(last) && x > last) sum += x - last, ++n;
    last = x;
  }
  return n > 0 ? sum / static_cast<double>(n) : 0.0;
}

// The file's fixes thinned with a hysteresis of `radius` metres, per recorded segment: a fix
// counts once it is that far from the last counted one, which removes the wander of stops and
// keeps the path. Every fix, timed or not, as the file holds it.
double HysteresisPolyline(const engine::Track& t, double radius) {
  double total = 0;
  for (size_t s = 0; s < t.segment_starts.size(); ++s) {
    const size_t begin = t.segment_starts[s];
    const size_t end = s + 1 < t.segment_starts.size() ? t.segment_starts[s + 1] : t.size();
    long last = -1;
    for (size_t i = begin; i < end; ++i) {
      if (!t.has_position(i)) continue;
      if (last < 0) {
        last = static_cast<long>(i);
        continue;
      }
      const auto l = static_cast<size_t>(last);
      const double d =
          engine::SegmentDistanceM(t.lat_deg[l], t.lon_deg[l], t.lat_deg[i], t.lon_deg[i]);
      if (d >= radius) {
        total += d;
        last = static_cast<long>(i);
      }
    }
  }
  return total;
}

TEST(Accuracy, SparseRecordingsKeepTheirPath) {
  // Every shared recording sampled every 9 s or more (on average): its analysed distance is no more
  // than 2 % below its fixes thinned with a 15 m hysteresis (the yardstick: at those
  // intervals the straight line between fixes is already shorter than the path walked).
  STRIDE_REQUIRE_DATASETS();
  std::printf("%-52s %5s %9s %9s %7s\n", "file (session)", "dt", "hyst15_m", "ours_m", "diff_%");
  int files = 0;
  testing::ForEachSharedSession([&](const std::string& file, size_t k, const engine::Track& s) {
    const double dt = MeanTimedInterval(s);
    if (dt < 8.5 || s.CountWithPosition() < 50) return;  // 9 s, rounded
    const double ref = HysteresisPolyline(s, 15.0);
    const engine::Analysis a = engine::Analyze(s);
    const double diff = (a.distance_m - ref) / ref * 100;
    const std::string label = file + " (" + std::to_string(k) + ")";
    std::printf("%-52.52s %5.0f %9.0f %9.0f %+7.2f\n", label.c_str(), dt, ref, a.distance_m, diff);
    EXPECT_GE(diff, -2.0) << label;
    ++files;
  });
  EXPECT_GE(files, 6);
}

}  // namespace
}  // namespace stride
