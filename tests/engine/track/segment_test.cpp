// SPDX-License-Identifier: Apache-2.0
#include "engine/track/segment.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "datasets/synthetic_activity.hpp"
#include "engine/geo/geodesy.hpp"
#include "engine/track/stats.hpp"
#include "tests/support/tracks.hpp"

namespace stride::engine {
namespace {

// Clean, noise-free run of `km` at `pace_s_per_km`, one point a second, heading north.
Track Steady(double km, double pace_s_per_km) {
  return testing::StraightRun(static_cast<int>(km * pace_s_per_km), 1000.0 / pace_s_per_km, 150, 0,
                              2000);
}

TEST(HysteresisAscent, CountsFullSwingsOnly) {
  // 0 -> 100 -> 50 -> 80 with 1 m wiggles: 130 up, 50 down; wiggles below the threshold vanish.
  std::vector<double> e;
  for (int i = 0; i <= 100; ++i) e.push_back(i + (i % 2) * 0.8);
  for (int i = 100; i >= 50; --i) e.push_back(i);
  for (int i = 50; i <= 80; ++i) e.push_back(i);
  const AscentDescent ad = HysteresisAscent(e, 3.0);
  EXPECT_NEAR(ad.ascent_m, 130.0, 1.0);
  EXPECT_NEAR(ad.descent_m, 50.0, 1.0);
  // A profile that only wiggles inside the band climbs nothing.
  EXPECT_DOUBLE_EQ(HysteresisAscent({10, 11, 10, 11.5, 10}, 2.0).ascent_m, 0.0);
}

TEST(Segment, SplitsAreInterpolatedAtTheExactDistance) {
  const Track t = Steady(5.5, 300);  // 5:00 /km, 5.5 km
  const TrackAxes a = ComputeAxes(t, {});
  EXPECT_NEAR(a.cum_m.back(), 5500.0, 1.0);
  const std::vector<Split> s = ComputeSplits(t, a, 1000.0, {});
  ASSERT_EQ(s.size(), 6u);
  for (int k = 0; k < 5; ++k) {
    EXPECT_NEAR(s[static_cast<size_t>(k)].distance_m, 1000.0, 1e-6);
    EXPECT_NEAR(s[static_cast<size_t>(k)].elapsed_time_s, 300.0, 0.01);
    EXPECT_NEAR(s[static_cast<size_t>(k)].avg_hr_bpm, 150.0, 1e-9);
  }
  EXPECT_NEAR(s[5].distance_m, 500.0, 1.0);
  EXPECT_NEAR(s[5].elapsed_time_s, 150.0, 0.5);
  const std::vector<Split> miles = ComputeSplits(t, a, 1609.344, {});
  ASSERT_EQ(miles.size(), 4u);
  EXPECT_NEAR(miles[0].elapsed_time_s, 482.8, 0.1);  // 1.609344 km at 5:00 /km
}

TEST(Segment, SplitsStopAtTheCapAndSayWhetherOneWasLeftOut) {
  const Track t = Steady(5.5, 300);  // 5 full km and a partial one
  const TrackAxes a = ComputeAxes(t, {});
  bool cut = false;
  EXPECT_EQ(ComputeSplits(t, a, 1000.0, {}, 5, &cut).size(), 5u);
  EXPECT_TRUE(cut);  // the partial sixth is left out
  EXPECT_EQ(ComputeSplits(t, a, 1000.0, {}, 6, &cut).size(), 6u);
  EXPECT_FALSE(cut);
  EXPECT_EQ(ComputeSplits(t, a, 1000.0, {}, 3, &cut).size(), 3u);
  EXPECT_TRUE(cut);
  EXPECT_TRUE(ComputeSplits(t, a, 1000.0, {}, 0, &cut).empty());
  EXPECT_TRUE(cut);
  // Half a metre past the fifth km is no split (the last one counts from a metre), so a cap
  // of five leaves nothing out though the distance reaches five caps' worth.
  const Track five = Steady(5.0005, 300);
  const TrackAxes a5 = ComputeAxes(five, {});
  ASSERT_GE(a5.cum_m.back(), 5000.0);
  EXPECT_EQ(ComputeSplits(five, a5, 1000.0, {}, 5, &cut).size(), 5u);
  EXPECT_FALSE(cut);
}

TEST(Segment, TheWayToAFixAfterPointsWithoutPositionIsSpreadOverTheirTime) {
  // 5:00 /km, one point a second; 40 s in the middle lose their positions (a speed gate's
  // outliers, records without GPS). The 133 m to the next fix went by in those 40 s, not in
  // the last second of them: given to it alone, a best 400 m took 268 s instead of 120.
  Track t = Steady(2.0, 300);
  for (size_t i = 300; i < 340; ++i) t.lat_deg[i] = t.lon_deg[i] = kNaN;
  const TrackAxes a = ComputeAxes(t, {});
  EXPECT_NEAR(a.cum_m.back(), 2000.0, 1.0);
  for (size_t i = 301; i <= 340; ++i) {
    EXPECT_NEAR(a.cum_m[i] - a.cum_m[i - 1], 1000.0 / 300, 1e-3) << i;
  }
  const std::vector<BestEffort> best = ComputeBestEfforts(a);
  ASSERT_FALSE(best.empty());
  EXPECT_EQ(best[0].name, "400m");
  EXPECT_NEAR(best[0].time_s, 120.0, 0.5);
  // Without times there is nothing to spread by: the step stays with the fix.
  Track untimed = t;
  for (double& time : untimed.time_s) time = kNaN;
  const TrackAxes u = ComputeAxes(untimed, {});
  EXPECT_NEAR(u.cum_m.back(), 2000.0, 1.0);
  EXPECT_NEAR(u.cum_m[340] - u.cum_m[339], 41 * 1000.0 / 300, 0.05);
}

TEST(Segment, AStopIsNotMovingTimeAndAddsNoDistance) {
  datasets::SyntheticRunOptions o;
  o.laps = 2;
  o.stop_at_m = 1000;
  o.stop_s = 120;
  o.noise_m = 0.5;
  const datasets::SyntheticRun run = datasets::MakeSyntheticRun(o);
  const TrackAxes a = ComputeAxes(run.recorded, {});
  EXPECT_NEAR(a.cum_moving_s.back(), run.moving_time_s, 15.0);
  EXPECT_NEAR(a.cum_timer_s.back(), run.moving_time_s + 120.0, 1.0);
}

// `n` fixes every `dt` s heading north at `speed`, each pushed up to `jitter_m` east or west.
Track Sparse(int n, double dt, double speed, double jitter_m) {
  Track t;
  t.sport = Sport::kHike;
  const LocalPlane plane(42.5, 1.5);
  for (int i = 0; i < n; ++i) {
    TrackPoint p;
    p.time_s = 1000 + dt * i;
    const double wobble = jitter_m * std::sin(i * 2.3) * std::cos(i * 0.7);
    plane.ToDegrees(wobble, speed * dt * i + 0.5 * wobble, &p.lat_deg, &p.lon_deg);
    t.Append(p);
  }
  return t;
}

TEST(Segment, SlowProgressBetweenSparseFixesCounts) {
  // A steep climb at 0.25 m/s sampled every 20 s: every window looks stopped (under 0.3 m/s),
  // but the walker leaves any 15 m circle within a minute: the path counts and it is moving.
  const Track t = Sparse(61, 20, 0.25, 0.0);
  const TrackAxes a = ComputeAxes(t, {});
  EXPECT_NEAR(a.cum_m.back(), 300.0, 15.0);  // all but the last partial 15 m
  EXPECT_GT(a.cum_moving_s.back(), 0.9 * 1200);
  SegmentOptions window_only;
  window_only.stop_radius_m = 0;
  EXPECT_LT(ComputeAxes(t, window_only).cum_m.back(), 1.0);  // what the window alone says
}

TEST(Segment, SlowProgressCountsFromTheFirstFix) {
  // Three 5.2 m steps at 0.26 m/s from the start: 15.6 m from the first fix, outside the 15 m
  // circle, though only 10.4 m from the second.
  const Track t = Sparse(4, 20, 0.26, 0.0);
  const TrackAxes a = ComputeAxes(t, {});
  EXPECT_NEAR(a.cum_m.back(), 15.6, 0.3);
}

TEST(Segment, WanderWhileStandingAddsNothingAtSparseSampling) {
  // Half an hour standing, fixes every 20 s wandering up to 6 m: no distance, no motion.
  const Track t = Sparse(91, 20, 0.0, 6.0);
  const TrackAxes a = ComputeAxes(t, {});
  EXPECT_LT(a.cum_m.back(), 1.0);
  EXPECT_LT(a.cum_moving_s.back(), 60.0);
}

TEST(Segment, AStopAtASummitCountsThroughTheSpot) {
  // Up 100 m at 0.25 m/s (every window looks stopped: slow progress), ten minutes on the
  // summit, and down the same way as slowly, a fix every 30 s: the anchor is left at 90 m
  // on the way up, and the first fix 15 m from it is at 72.5 m on the way down. The way
  // counts through the summit (10 + 27.5 m; the mean of the fixes between lies 2 m below
  // it), not straight across (17.5 m, 167.5 m in all).
  datasets::SyntheticRunOptions o;
  o.path_m = {{0, 0}, {0, 100}, {0, 0}};
  o.speed_mps = 0.25;
  o.interval_s = 30;
  o.stop_at_m = 100;
  o.stop_s = 600;
  o.hill_m = 0;  // (a climb would count in the window's chord)
  o.sport = Sport::kHike;
  const datasets::SyntheticRun run = datasets::MakeSyntheticRun(o);
  ASSERT_NEAR(run.length_m, 200.0, 0.5);
  const TrackAxes a = ComputeAxes(run.recorded, {});
  // Less the last partial 15 m (the last fix, 5 m from the end, is 10.8 m from the anchor).
  EXPECT_GT(a.cum_m.back(), 180.0);
  EXPECT_LT(a.cum_m.back(), 200.0 - 10.8);
}

TEST(Segment, TimerEventsPauseTimeAndDistance) {
  Track t = Steady(3.0, 300);  // 900 s
  // Timer stopped from 2300 to 2400 (100 s): auto-pause, though the fixes move on.
  t.timer_events = {{2000.0, true}, {2300.0, false}, {2400.0, true}};
  const TrackAxes a = ComputeAxes(t, {});
  EXPECT_TRUE(a.has_timer_events);
  EXPECT_NEAR(a.cum_timer_s.back(), 800.0, 1e-6);
  EXPECT_NEAR(a.cum_m.back(), 2666.7, 1.0);  // 100 s at 3.33 m/s not counted
}

TEST(Timer, StateAndSecondsFromEvents) {
  const std::vector<TimerEvent> ev = {{100, true}, {200, false}, {300, true}};
  EXPECT_FALSE(TimerRunningAt(ev, 50));  // the first event is a start: off before it
  EXPECT_TRUE(TimerRunningAt(ev, 100));
  EXPECT_FALSE(TimerRunningAt(ev, 250));
  EXPECT_TRUE(TimerRunningAt(ev, 400));
  EXPECT_DOUBLE_EQ(TimerRunningSeconds(ev, 0, 400), 200.0);  // 100-200 and 300-400
  EXPECT_DOUBLE_EQ(TimerRunningSeconds(ev, 150, 350), 100.0);
  EXPECT_DOUBLE_EQ(TimerRunningSeconds(ev, 350, 350), 0.0);
  const std::vector<TimerEvent> stop_first = {{100, false}};
  EXPECT_TRUE(TimerRunningAt(stop_first, 50));  // running until the first stop
  EXPECT_DOUBLE_EQ(TimerRunningSeconds(stop_first, 0, 300), 100.0);
  EXPECT_TRUE(TimerRunningAt({}, 0));
}

TEST(Segment, GapsBetweenRecordedSegmentsAreNotCounted) {
  Track t = Steady(2.0, 300);
  t.segment_starts = {0, 300};
  t.time_s[300] += 0;  // the segment starts where the last one stopped, but the gap is a pause
  const TrackAxes a = ComputeAxes(t, {});
  EXPECT_NEAR(a.cum_m.back(), 2000.0 - 1000.0 / 300.0, 0.5);
}

TEST(Segment, FindsAndCategorisesClimbs) {
  Track t = Steady(4.0, 300);
  // 1 km flat, 1.5 km at 8 %, then flat.
  for (size_t i = 0; i < t.size(); ++i) {
    const double d = static_cast<double>(i) * 1000.0 / 300.0;
    t.ele_m[i] = 100 + 0.08 * std::clamp(d - 1000.0, 0.0, 1500.0);
  }
  const TrackAxes a = ComputeAxes(t, {});
  const std::vector<Climb> c = FindClimbs(t, a, 5.0, {});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_NEAR(c[0].gain_m, 120.0, 0.5);
  EXPECT_NEAR(c[0].start_distance_m, 1000.0, 5.0);
  EXPECT_NEAR(c[0].avg_grade, 0.08, 0.002);
  EXPECT_NEAR(c[0].max_grade, 0.08, 0.003);
  EXPECT_EQ(c[0].category, "4");  // 1500 m x 8 % = 12000
}

TEST(Segment, ClimbCategoryFollowsLengthTimesGrade) {
  EXPECT_EQ(ClimbCategory(1500, 0.08), "4");    // 12000
  EXPECT_EQ(ClimbCategory(2500, 0.07), "3");    // 17500
  EXPECT_EQ(ClimbCategory(5000, 0.07), "2");    // 35000
  EXPECT_EQ(ClimbCategory(10000, 0.065), "1");  // 65000
  EXPECT_EQ(ClimbCategory(12000, 0.08), "hc");  // 96000
  EXPECT_EQ(ClimbCategory(300, 0.05), "uncategorized");
}

}  // namespace
}  // namespace stride::engine
