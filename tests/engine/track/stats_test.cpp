// SPDX-License-Identifier: Apache-2.0
#include "engine/track/stats.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "engine/geo/geodesy.hpp"
#include "tests/support/tracks.hpp"

namespace stride::engine {
namespace {

Track Steady(int seconds, double speed, double hr, double grade = 0.0) {
  return testing::StraightRun(seconds, speed, hr, grade, 100);
}

TEST(Minetti, CostOfRunningMatchesThePaper) {
  EXPECT_NEAR(MinettiCost(0.0), 3.6, 1e-12);
  // Minetti et al. 2002: about 8.3 J/(kg m) at +20 % and about 1.7 at -20 % (their fit).
  EXPECT_NEAR(MinettiCost(0.2),
              155.4 * 0.00032 - 30.4 * 0.0016 - 43.3 * 0.008 + 46.3 * 0.04 + 19.5 * 0.2 + 3.6,
              1e-9);
  EXPECT_GT(MinettiCost(0.2), 8.0);
  EXPECT_LT(MinettiCost(-0.1), 3.6);
  EXPECT_EQ(MinettiCost(0.9), MinettiCost(0.45));  // clamped
}

TEST(Stats, GradeAdjustedDistanceIsLongerUphill) {
  const Track flat = Steady(600, 3.0, 150);
  const TrackAxes af = ComputeAxes(flat, {});
  EXPECT_NEAR(ComputeGrades(flat, af).cum_adjusted_m.back(), af.cum_m.back(), 1e-6);
  const Track up = Steady(600, 3.0, 150, 0.10);
  const TrackAxes au = ComputeAxes(up, {});
  const GradeAxes g = ComputeGrades(up, au);
  EXPECT_NEAR(g.cum_adjusted_m.back() / au.cum_m.back(), MinettiCost(0.10) / 3.6, 0.01);
  EXPECT_NEAR(g.max_grade, 0.10, 1e-3);
}

TEST(Stats, HeartRateZonesAndTrimp) {
  const Track t = Steady(1200, 3.0, 171);  // 20 min at 90 % of 190
  const TrackAxes a = ComputeAxes(t, {});
  const HrZones z = ZonesFromMaxHr(190, "test");
  EXPECT_DOUBLE_EQ(z.lower_bounds_bpm[3], 171.0);
  const HeartRateStats s = ComputeHeartRate(t, a, z, 60);
  EXPECT_DOUBLE_EQ(s.avg_bpm, 171.0);
  EXPECT_NEAR(s.zones_s[4], 1200.0, 1e-9);  // 171 is the lower bound of zone 5
  EXPECT_NEAR(s.zones_s[0] + s.zones_s[1] + s.zones_s[2] + s.zones_s[3], 0.0, 1e-9);
  const double hrr = (171.0 - 60.0) / (190.0 - 60.0);
  EXPECT_NEAR(s.trimp, 20.0 * hrr * 0.64 * std::exp(1.92 * hrr), 1e-6);
}

TEST(Stats, BestEffortsOnAnEvenPace) {
  const Track t = Steady(1800, 1000.0 / 300.0, 150);  // 6 km at 5:00 /km
  const TrackAxes a = ComputeAxes(t, {});
  const std::vector<BestEffort> e = ComputeBestEfforts(a);
  ASSERT_EQ(e.size(), 4u);  // 400 m, 1 km, 1 mile, 5 km
  EXPECT_EQ(e[1].name, "1k");
  EXPECT_NEAR(e[1].time_s, 300.0, 0.01);
  EXPECT_NEAR(e[2].time_s, 482.8, 0.01);
  EXPECT_NEAR(e[3].time_s, 1500.0, 0.01);
}

using testing::North;

TEST(Stats, BestEffortFindsTheFastStretch) {
  // 2 km at 5:00 /km, 1 km at 4:00 /km, 2 km at 5:00 /km.
  const Track t = North(Sport::kRun, 1440, [](int i) {
    return (i >= 600 && i < 840) ? 1000.0 / 240.0 : 1000.0 / 300.0;
  });
  const std::vector<BestEffort> e = ComputeBestEfforts(ComputeAxes(t, {}));
  ASSERT_GE(e.size(), 2u);
  EXPECT_NEAR(e[1].time_s, 240.0, 1.0);
  EXPECT_NEAR(e[1].start_distance_m, 2000.0, 5.0);
}

// 1.2 km at 5:00 /km, 1.2 km at 8.3 m/s (a bus), 1.2 km at 5:00 /km, a fix a second.
Track WalkBusWalk() {
  return North(Sport::kWalk, 865,
               [](int i) { return (i >= 360 && i < 505) ? 1200.0 / 145.0 : 1000.0 / 300.0; });
}

TEST(Stats, FastStepsAreTheStretchesAtVehicleSpeed) {
  const TrackAxes a = ComputeAxes(WalkBusWalk(), {});
  const std::vector<char> fast = FastSteps(a, 5.5);
  ASSERT_EQ(fast.size(), a.cum_m.size());
  double fast_m = 0;
  for (size_t i = 1; i < fast.size(); ++i) fast_m += fast[i] ? a.cum_m[i] - a.cum_m[i - 1] : 0;
  // The bus and at most a window's worth of walking on each side of it.
  EXPECT_GE(fast_m, 1200.0 - 1);
  EXPECT_LE(fast_m, 1200.0 + 2 * 10 * 1000.0 / 300.0);
  EXPECT_FALSE(fast[250]);
  EXPECT_TRUE(fast[430]);
  EXPECT_FALSE(fast[600]);
  // Walking pace alone has none.
  const TrackAxes walk = ComputeAxes(Steady(600, 1.4, 100), {});
  for (char f : FastSteps(walk, 5.5)) EXPECT_FALSE(f);
}

TEST(Stats, FastStepsUnderSeveralBarsAreTheStepsAnyOfThemMarks) {
  // 3 m/s, then 60 s at 9 m/s (a short fast stretch), 3 m/s, then 200 s at 6 m/s (a long
  // moderate one), then 3 m/s.
  const Track t = North(Sport::kRun, 1160, [](int i) {
    if (i >= 300 && i < 360) return 9.0;
    if (i >= 660 && i < 860) return 6.0;
    return 3.0;
  });
  const TrackAxes a = ComputeAxes(t, {});
  const SpeedBar short_fast{8.0, 30}, long_moderate{5.5, 120};
  const std::vector<char> s = FastSteps(a, short_fast.ceiling_mps, short_fast.window_s);
  const std::vector<char> l = FastSteps(a, long_moderate.ceiling_mps, long_moderate.window_s);
  const std::vector<SpeedBar> both{short_fast, long_moderate};
  const std::vector<char> u = FastSteps(a, both);
  ASSERT_EQ(u.size(), a.cum_m.size());
  // Each bar alone catches what it should and not the other stretch ...
  EXPECT_TRUE(s[330]);
  EXPECT_FALSE(s[760]);
  EXPECT_TRUE(l[760]);
  EXPECT_FALSE(l[200]);
  // ... and together they mark exactly the steps either marks.
  for (size_t i = 0; i < u.size(); ++i) ASSERT_EQ(u[i] != 0, s[i] || l[i]) << "step " << i;
  EXPECT_TRUE(u[330] && u[760]);
  EXPECT_FALSE(u[200] || u[1000]);
  // No bar marks nothing.
  for (char f : FastSteps(a, std::vector<SpeedBar>{})) ASSERT_FALSE(f);
}

TEST(Stats, NoBestEffortCrossesABarredStep) {
  const TrackAxes a = ComputeAxes(WalkBusWalk(), {});
  // Unbarred, the bus makes the best 1 km: 1.2 km in 145 s.
  const std::vector<BestEffort> all = ComputeBestEfforts(a);
  ASSERT_GE(all.size(), 2u);
  EXPECT_LT(all[1].time_s, 150.0);
  // Barred, each walk is searched on its own: 1 km in 300 s, 400 m in 120 s, and no mile
  // (no walk is that long).
  const std::vector<BestEffort> foot = ComputeBestEfforts(a, FastSteps(a, 5.5));
  ASSERT_EQ(foot.size(), 2u);
  EXPECT_EQ(foot[0].name, "400m");
  EXPECT_NEAR(foot[0].time_s, 120.0, 0.5);
  EXPECT_EQ(foot[1].name, "1k");
  EXPECT_NEAR(foot[1].time_s, 300.0, 0.5);
  // An empty mask bars nothing; a mask barring every step leaves no effort.
  EXPECT_EQ(ComputeBestEfforts(a, {}).size(), all.size());
  EXPECT_TRUE(ComputeBestEfforts(a, std::vector<char>(a.cum_m.size(), 1)).empty());
}

TEST(Stats, AStretchFasterThanAnyRunnerIsNotRunning) {
  const TrackAxes a = ComputeAxes(testing::RunCarRun(), {});
  // Unbarred, the car makes the best 1 km: 120 s.
  const std::vector<BestEffort> all = ComputeBestEfforts(a);
  ASSERT_GE(all.size(), 2u);
  EXPECT_NEAR(all[1].time_s, 120.0, 0.5);
  const std::vector<char> fast = FasterThanRunningSteps(a);
  ASSERT_EQ(fast.size(), a.cum_m.size());
  double fast_m = 0;
  for (size_t i = 1; i < fast.size(); ++i) fast_m += fast[i] ? a.cum_m[i] - a.cum_m[i - 1] : 0;
  // The ride, and at most the longest caught window's worth of running on each side of it
  // (101 s: 800 m's record, the first that 30 km/h beats).
  EXPECT_GE(fast_m, 1500.0 - 1);
  EXPECT_LE(fast_m, 1500.0 + 2 * 101 * 4.0);
  EXPECT_FALSE(fast[500]);
  EXPECT_TRUE(fast[840]);
  EXPECT_FALSE(fast[1200]);
  // Barred, each run is searched on its own: 1 km in 250 s, 5 km nowhere (no run is that long).
  const std::vector<BestEffort> foot = ComputeBestEfforts(a, fast);
  ASSERT_EQ(foot.size(), 3u);
  EXPECT_NEAR(foot[1].time_s, 250.0, 0.5);
  EXPECT_EQ(foot[2].name, "1mile");
}

TEST(Stats, AWorldClassRunIsStillRunning) {
  // 2 km at 5:00 /km, 400 m in 50 s, 2 km at 5:00 /km, 1 km in 2:20, 1 km at 5:00 /km.
  const Track t = North(Sport::kRun, 1790, [](int i) {
    if (i >= 600 && i < 650) return 8.0;
    if (i >= 1250 && i < 1390) return 1000.0 / 140.0;
    return 1000.0 / 300.0;
  });
  const TrackAxes a = ComputeAxes(t, {});
  for (char f : FasterThanRunningSteps(a)) ASSERT_FALSE(f);
  const std::vector<BestEffort> e = ComputeBestEfforts(a, FasterThanRunningSteps(a));
  ASSERT_GE(e.size(), 2u);
  EXPECT_NEAR(e[0].time_s, 50.0, 0.5);
  EXPECT_NEAR(e[1].time_s, 140.0, 0.5);
  // The records themselves: each slower than the one before it, each at most 100 m's pace.
  for (size_t k = 1; k < kRunningRecords.size(); ++k) {
    EXPECT_LT(kRunningRecords[k].ceiling_mps, kRunningRecords[k - 1].ceiling_mps);
    EXPECT_GT(kRunningRecords[k].window_s, kRunningRecords[k - 1].window_s);
  }
}

double Metres(const TrackAxes& a, const std::vector<char>& marked) {
  double m = 0;
  for (size_t i = 1; i < marked.size(); ++i) m += marked[i] ? a.cum_m[i] - a.cum_m[i - 1] : 0;
  return m;
}

// A 20 km/h bus is slower than the runners' records for any time: only the watch's step count
// tells it from a 3:00 /km run.
TEST(Stats, ARideWithoutAStepCountedIsNotRunning) {
  const Track bus = testing::RunBusRun();
  const TrackAxes a = ComputeAxes(bus, {});
  EXPECT_EQ(Metres(a, FasterThanRunningSteps(a)), 0.0);
  // Unbarred, the bus makes the best 1 km: 180 s.
  const std::vector<BestEffort> all = ComputeBestEfforts(a);
  ASSERT_GE(all.size(), 2u);
  EXPECT_NEAR(all[1].time_s, 180.0, 0.5);
  const std::vector<char> ride = StridelessSteps(bus, a);
  ASSERT_EQ(ride.size(), a.cum_m.size());
  // The ride (its 30 s stop too: a minute around it still averages 10 km/h) and at most the
  // tenth of a window of running on each side that the 90 % share lets in.
  const double ride_m = 20 / 3.6 * 600;
  EXPECT_GE(Metres(a, ride), ride_m - 1);
  EXPECT_LE(Metres(a, ride), ride_m + 2 * 6 * 4.0 + 1);
  EXPECT_FALSE(ride[740]);
  EXPECT_TRUE(ride[760]);
  EXPECT_TRUE(ride[1065]);
  EXPECT_FALSE(ride[1390]);
  const std::vector<BestEffort> foot = ComputeBestEfforts(a, ride);
  ASSERT_GE(foot.size(), 3u);
  EXPECT_NEAR(foot[1].time_s, 250.0, 0.5);  // the run's own kilometre
  EXPECT_EQ(foot.back().name, "1mile");     // 5 km nowhere: neither run is that long
}

TEST(Stats, NoStepCountIsNotARide) {
  // A sensor that dropped out on the bus (no cadence) says nothing: not a vehicle.
  const Track dropped = testing::RunBusRun(kNaN);
  EXPECT_EQ(Metres(ComputeAxes(dropped, {}), StridelessSteps(dropped, ComputeAxes(dropped, {}))),
            0.0);
  // A device that writes 0 all along for "no sensor" says nothing either.
  const Track zeros = testing::RunBusRun(0, 0);
  EXPECT_EQ(Metres(ComputeAxes(zeros, {}), StridelessSteps(zeros, ComputeAxes(zeros, {}))), 0.0);
  // A steady run whose sensor reads 0 for 20 s is a run.
  Track run = Steady(1200, 1000.0 / 250.0, 150);
  for (size_t i = 0; i < run.size(); ++i) run.cadence_rpm[i] = (i >= 500 && i < 520) ? 0 : 88;
  const TrackAxes a = ComputeAxes(run, {});
  EXPECT_EQ(Metres(a, StridelessSteps(run, a)), 0.0);
  // Sitting in a parked car is no ride: slower than a jog.
  Track parked = testing::North(Sport::kRun, 1880, [](int i) {
    return i >= 750 && i < 1380 ? 0.3 : 1000.0 / 250.0;  // GPS wander while parked
  });
  for (size_t i = 0; i < parked.size(); ++i) parked.cadence_rpm[i] = i > 750 && i <= 1380 ? 0 : 88;
  const TrackAxes p = ComputeAxes(parked, {});
  EXPECT_EQ(Metres(p, StridelessSteps(parked, p)), 0.0);
}

// A phone app with a chest strap counts no steps: the bus of RunBusRun is told by the heart,
// which falls towards rest on the seat.
TEST(Stats, ARideWithTheHeartAtRestIsNotRunning) {
  const Track bus = testing::RunBusRunWithHeart();
  const TrackAxes a = ComputeAxes(bus, {});
  EXPECT_EQ(Metres(a, StridelessSteps(bus, a)), 0.0);  // no cadence: nothing to judge
  const std::vector<char> ride = RestingHeartSteps(bus, a);
  ASSERT_EQ(ride.size(), a.cum_m.size());
  // Both halves of the ride (300 s each at 20 km/h), and of the running beside them what a
  // two-minute window lets in while it still averages a quarter over the run's 4 m/s: up to
  // 43 s at each of the ride's two ends (5.56 m/s for 77 s and 4 m/s for 43 s make 5.0).
  const double half_m = 20 / 3.6 * 300;
  EXPECT_GE(Metres(a, ride), 2 * half_m - 1);
  EXPECT_LE(Metres(a, ride), 2 * half_m + 2 * 43 * 4.0);
  EXPECT_FALSE(ride[700]);
  EXPECT_TRUE(ride[752]);  // from the ride's first second: its first two minutes average 114
  EXPECT_TRUE(ride[1040]);
  EXPECT_FALSE(ride[1066]);  // the middle of the stop: 12 s or more of it slows any window
  EXPECT_TRUE(ride[1370]);
  EXPECT_FALSE(ride[1430]);
  const std::vector<BestEffort> foot = ComputeBestEfforts(a, ride);
  ASSERT_GE(foot.size(), 2u);
  EXPECT_NEAR(foot[1].time_s, 250.0, 0.5);  // the run's own kilometre, not the bus's 180 s
  // Without the strap, or with one that reads 0 all along, nothing tells the bus apart.
  Track strapless = bus;
  for (double& hr : strapless.hr_bpm) hr = kNaN;
  EXPECT_EQ(Metres(a, RestingHeartSteps(strapless, a)), 0.0);
  for (double& hr : strapless.hr_bpm) hr = 0;
  EXPECT_EQ(Metres(a, RestingHeartSteps(strapless, a)), 0.0);
}

// Intervals from a standstill: each 3 min rep at 19.8 km/h starts with the heart low (it lags
// the rep by half a minute), and the warm-up's strap reads a dry 75 bpm for five minutes. None
// of it is a vehicle.
TEST(Stats, IntervalsAndAColdStrapAreRunning) {
  // 10 min jog at 3 m/s, 6 x (3 min at 5.5 m/s, 2 min standing), 10 min jog.
  auto phase = [](int i) { return i < 600 || i >= 2100 ? -1 : (i - 600) % 300; };
  Track t = testing::North(Sport::kRun, 2700, [&](int i) {
    const int p = phase(i);
    return p < 0 ? 3.0 : p < 180 ? 5.5 : 0.0;
  });
  double hr = 140;
  for (size_t i = 0; i < t.size(); ++i) {
    const int p = phase(static_cast<int>(i));
    const double target = p < 0 ? 140.0 : p < 180 ? 178.0 : 120.0;
    hr += (target - hr) / (p >= 180 ? 40.0 : 30.0);
    t.hr_bpm[i] = i < 300 ? 75 : std::round(hr);  // the strap is dry for 5 min
  }
  const TrackAxes a = ComputeAxes(t, {});
  EXPECT_EQ(Metres(a, RestingHeartSteps(t, a)), 0.0);
  // Two of the reps with the heart at 90 (a bus between two stops) are a vehicle, and nothing
  // else is (the stops beside them add no metres).
  for (int i = 600; i < 2100; ++i) {
    if (const int rep = (i - 600) / 300; (rep == 2 || rep == 3) && phase(i) < 180) t.hr_bpm[i] = 90;
  }
  EXPECT_GE(Metres(a, RestingHeartSteps(t, a)), 2 * 178 * 5.5);
  EXPECT_LE(Metres(a, RestingHeartSteps(t, a)), 2 * 180 * 5.5 + 1);
}

}  // namespace
}  // namespace stride::engine
