// SPDX-License-Identifier: Apache-2.0
#include "engine/track/clean.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "engine/geo/geodesy.hpp"
#include "tests/support/tracks.hpp"

namespace stride::engine {
namespace {

// A straight run north at `speed` m/s, one point a second, at 140 bpm and 200 m.
Track Straight(int n, double speed = 3.0) {
  return testing::StraightRun(n - 1, speed, 140);
}

TEST(Clean, KeepsAGoodTrackUntouched) {
  Track t = Straight(100);
  const Track before = t;
  const CleanReport r = Clean(t);
  EXPECT_EQ(r.raw, 100u);
  EXPECT_EQ(r.kept, 100u);
  EXPECT_EQ(r.kept_with_position, 100u);
  EXPECT_EQ(r.speed_outlier + r.duplicate_time + r.non_increasing_time + r.invalid_fix, 0u);
  EXPECT_EQ(t.lat_deg, before.lat_deg);
  EXPECT_DOUBLE_EQ(r.max_speed_mps, 12.5);
}

TEST(Clean, MergesSamplesWrittenTwiceAtOneTime) {
  Track t = Straight(10);
  // Point 5 written again with heart rate only, the way COROS writes two trackpoints a second.
  TrackPoint hr_only;
  hr_only.time_s = t.time_s[5];
  hr_only.hr_bpm = 171;
  hr_only.cadence_rpm = 88;
  Track u;
  u.sport = Sport::kRun;
  for (size_t i = 0; i < t.size(); ++i) {
    u.Append(t.PointAt(i));
    if (i == 5) u.Append(hr_only);
  }
  const CleanReport r = Clean(u);
  EXPECT_EQ(r.duplicate_time, 1u);
  EXPECT_EQ(u.size(), 10u);
  EXPECT_DOUBLE_EQ(u.cadence_rpm[5], 88.0);  // merged into the sample with the position
  EXPECT_DOUBLE_EQ(u.hr_bpm[5], 140.0);      // what the first sample had is kept
}

TEST(Clean, BadFirstTimestampCostsOnePointNotTheTrack) {
  Track t = Straight(50);
  t.time_s[0] = 5000;  // a clock that jumped at the start
  const CleanReport r = Clean(t);
  EXPECT_EQ(r.non_increasing_time, 1u);
  EXPECT_EQ(t.size(), 49u);
  EXPECT_DOUBLE_EQ(t.time_s[0], 1001.0);
}

TEST(Clean, RetimesAFixWithAJitteryTimeAlongThePath) {
  Track t = Straight(20);
  t.time_s[10] = 1002.5;  // written in the right place with a time that runs back
  const CleanReport r = Clean(t);
  EXPECT_EQ(r.retimed, 1u);
  EXPECT_EQ(t.size(), 20u);
  // Equal spacing along the path between 1009 and 1011 puts it at 1010.
  EXPECT_NEAR(t.time_s[10], 1010.0, 1e-3);
}

TEST(Clean, DropsASpeedOutlier) {
  Track t = Straight(30);
  const LocalPlane plane(45.0, 6.0);
  plane.ToDegrees(400, 45, &t.lat_deg[15], &t.lon_deg[15]);  // 400 m sideways for one second
  const CleanReport r = Clean(t);
  EXPECT_EQ(r.speed_outlier, 1u);
  EXPECT_TRUE(std::isnan(t.lat_deg[15]));
  EXPECT_EQ(t.size(), 30u);  // the point keeps its time and heart rate
  EXPECT_DOUBLE_EQ(t.hr_bpm[15], 140.0);
}

TEST(Clean, RecoversItsAnchorAfterAGenuineJump) {
  // The watch lost signal for 10 s and re-acquired 500 m further (a tunnel): the points after
  // the gap agree with one another, so they are kept though the jump from the last fix before
  // the gap is too fast.
  Track t = Straight(20);
  const LocalPlane plane(45.0, 6.0);
  for (size_t i = 10; i < 20; ++i)
    plane.ToDegrees(0, 500 + 3.0 * static_cast<double>(i), &t.lat_deg[i], &t.lon_deg[i]);
  const CleanReport r = Clean(t);
  EXPECT_EQ(r.speed_outlier, 0u);
  EXPECT_EQ(r.anchor_recoveries, 1u);
  EXPECT_EQ(r.kept_with_position, 20u);
}

TEST(Clean, DropsABadFirstFix) {
  Track t = Straight(20);
  const LocalPlane plane(45.0, 6.0);
  plane.ToDegrees(3000, 0, &t.lat_deg[0], &t.lon_deg[0]);  // cold-start fix 3 km away
  const CleanReport r = Clean(t);
  EXPECT_EQ(r.speed_outlier, 1u);
  EXPECT_TRUE(std::isnan(t.lat_deg[0]));
  EXPECT_FALSE(std::isnan(t.lat_deg[1]));
}

TEST(Clean, RemovesInvalidAndStaleFixesAndUnsetElevation) {
  Track t = Straight(100);
  t.lat_deg[3] = 0;
  t.lon_deg[3] = 0;   // null island
  t.lat_deg[7] = 95;  // out of range
  t.lat_deg[20] = t.lat_deg[19];
  t.lon_deg[20] = t.lon_deg[19];  // stale repeat
  t.ele_m[0] = t.ele_m[1] = 0.0;  // unset altitude in a track at 200 m
  const CleanReport r = Clean(t);
  EXPECT_EQ(r.invalid_fix, 2u);
  EXPECT_EQ(r.repeated_fix, 1u);
  EXPECT_EQ(r.invalid_elevation, 2u);
  EXPECT_TRUE(std::isnan(t.ele_m[0]));
  EXPECT_TRUE(std::isnan(t.lat_deg[20]));
}

TEST(Clean, RemovesElevationsNoGroundHas) {
  // Fuzzing stored <ele>1e300 as absent (the run codec cannot hold it); cleaning drops it, and
  // its kin, before the analysis climbs them.
  Track t = Straight(20);
  for (double& x : t.time_s) x = std::nan("");  // untimed: no vertical-speed gate
  t.ele_m[2] = 1e300;
  t.ele_m[3] = -1e300;
  t.ele_m[4] = std::numeric_limits<double>::infinity();
  t.ele_m[5] = -501;  // below FIT's lowest altitude
  t.ele_m[6] = 9001;  // above Everest
  t.ele_m[7] = -430;  // the Dead Sea shore
  t.ele_m[8] = 8849;  // Everest
  t.ele_m[9] = -500;  // the bounds are kept
  t.ele_m[10] = 9000;
  const CleanReport r = Clean(t);
  EXPECT_EQ(r.invalid_elevation, 5u);
  for (size_t i = 2; i <= 6; ++i) EXPECT_TRUE(std::isnan(t.ele_m[i])) << i;
  EXPECT_DOUBLE_EQ(t.ele_m[7], -430.0);
  EXPECT_DOUBLE_EQ(t.ele_m[8], 8849.0);
  EXPECT_DOUBLE_EQ(t.ele_m[9], -500.0);
  EXPECT_DOUBLE_EQ(t.ele_m[10], 9000.0);
  EXPECT_DOUBLE_EQ(t.ele_m[11], 200.0);
  EXPECT_EQ(t.size(), 20u);  // the points stay
}

TEST(Clean, GatesElevationJumpsAndFollowsARealStep) {
  // A straight run at 200 m, one point a second (the gate allows 10 m/s + 50 m).
  Track t = Straight(300);
  t.ele_m[0] = 5000;  // a bad first elevation: the consistent run after it wins
  t.ele_m[50] = 800;  // a lone spike
  for (size_t i = 100; i < 120; ++i) t.ele_m[i] = i % 2 ? 3000 : 6000;  // a failing altimeter
  for (size_t i = 150; i < 170; ++i) t.ele_m[i] = 1500;  // consistent, but only 20 s of it
  for (size_t i = 200; i < 300; ++i) t.ele_m[i] = 300;   // recalibrated: +100 m, and it stays
  for (size_t i = 240; i < 280; ++i) t.ele_m[i] = 2000;  // stuck for 40 s, then back
  for (size_t i = 180; i < 190; ++i) t.ele_m[i] = 200 + 5.0 * static_cast<double>(i - 179);
  t.ele_m[190] = 200;  // back down 50 m in a second: within the noise allowance
  const CleanReport r = Clean(t);
  EXPECT_EQ(r.invalid_elevation, 1u + 1u + 20u + 20u + 40u);
  EXPECT_EQ(r.elevation_jumps, r.invalid_elevation);  // all by the gate, none by the range
  EXPECT_DOUBLE_EQ(r.max_vertical_speed_mps, 10.0);   // the gate applied, reported
  EXPECT_DOUBLE_EQ(r.elevation_noise_m, 50.0);
  EXPECT_DOUBLE_EQ(r.elevation_recovery_s, 30.0);
  EXPECT_TRUE(std::isnan(t.ele_m[0]));
  EXPECT_DOUBLE_EQ(t.ele_m[1], 200.0);
  EXPECT_TRUE(std::isnan(t.ele_m[50]));
  for (size_t i = 100; i < 120; ++i) EXPECT_TRUE(std::isnan(t.ele_m[i])) << i;
  for (size_t i = 150; i < 170; ++i) EXPECT_TRUE(std::isnan(t.ele_m[i])) << i;
  EXPECT_DOUBLE_EQ(t.ele_m[189], 250.0);  // a 5 m/s climb passes
  EXPECT_DOUBLE_EQ(t.ele_m[190], 200.0);
  EXPECT_DOUBLE_EQ(t.ele_m[200], 300.0);  // the step is the new level from its first second
  for (size_t i = 240; i < 280; ++i) EXPECT_TRUE(std::isnan(t.ele_m[i])) << i;
  EXPECT_DOUBLE_EQ(t.ele_m[299], 300.0);

  // Without times there is no speed to judge: nothing goes.
  Track untimed = Straight(30);
  for (double& x : untimed.time_s) x = std::nan("");
  untimed.ele_m[10] = 800;
  const CleanReport u = Clean(untimed);
  EXPECT_EQ(u.invalid_elevation, 0u);
  EXPECT_EQ(u.max_vertical_speed_mps, 0.0);  // not applied, and the report says so
  EXPECT_DOUBLE_EQ(untimed.ele_m[10], 800.0);
}

TEST(Clean, DropsImplausibleSensorValues) {
  Track t = Straight(10);
  t.hr_bpm[2] = 255;  // the FIT "no sensor" marker, as converters write it
  t.hr_bpm[3] = 5;
  t.cadence_rpm[4] = 255;
  t.power_w[5] = 65535;
  t.cadence_rpm[6] = 180;  // a sprint cadence is fine
  const CleanReport r = Clean(t);
  EXPECT_EQ(r.invalid_sensor, 4u);
  EXPECT_TRUE(std::isnan(t.hr_bpm[2]));
  EXPECT_TRUE(std::isnan(t.hr_bpm[3]));
  EXPECT_DOUBLE_EQ(t.hr_bpm[4], 140.0);
  EXPECT_DOUBLE_EQ(t.cadence_rpm[6], 180.0);
  EXPECT_EQ(t.size(), 10u);  // the points stay
}

TEST(Clean, IgnoresTimesThatSayNothing) {
  Track t = Straight(30);
  for (double& x : t.time_s) x = 1000.0;  // every point stamped with the same second
  const CleanReport r = Clean(t);
  EXPECT_TRUE(r.times_ignored);
  EXPECT_EQ(t.size(), 30u);
  EXPECT_FALSE(t.HasTimes());
}

TEST(Clean, GateFollowsTheSport) {
  Track ride = Straight(30, 14.0);  // 50 km/h downhill on a bike
  ride.sport = Sport::kRide;
  EXPECT_EQ(Clean(ride).speed_outlier, 0u);
  Track run = Straight(30, 14.0);  // the same speed is impossible on foot
  EXPECT_GT(Clean(run).speed_outlier, 0u);
}

TEST(Clean, UntimedFixesBetweenTimedOnesAreTimedAlongThePath) {
  // 3 m/s north; points 10-19 lost their times, and the runner sped up there: 10 steps of 6 m
  // where the neighbours took 30 s for 60 m, so time follows distance, not the point count.
  Track t = Straight(31);
  const LocalPlane plane(45.0, 6.0);
  for (size_t i = 10; i < 20; ++i) t.time_s[i] = kNaN;
  t.time_s[9] = 1009, t.time_s[20] = 1039;
  for (size_t i = 20; i < t.size(); ++i) t.time_s[i] = 1039 + static_cast<double>(i - 20);
  for (size_t i = 10; i < 20; ++i)
    plane.ToDegrees(0, 27 + 6.0 * static_cast<double>(i - 9), &t.lat_deg[i], &t.lon_deg[i]);
  for (size_t i = 20; i < t.size(); ++i)
    plane.ToDegrees(0, 87 + 3.0 * static_cast<double>(i - 20), &t.lat_deg[i], &t.lon_deg[i]);
  t.hr_bpm[12] = 151;
  const CleanReport r = Clean(t);
  EXPECT_EQ(r.interpolated_time, 10u);
  EXPECT_EQ(r.extrapolated_time + r.no_time, 0u);
  ASSERT_EQ(t.size(), 31u);
  // 60 m from point 9 to 20 in 30 s: point 12 is 18 m along, 9 s after point 9.
  EXPECT_NEAR(t.time_s[12], 1018.0, 1e-3);
  EXPECT_DOUBLE_EQ(t.hr_bpm[12], 151.0);  // the rest of the sample stays
  for (size_t i = 1; i < t.size(); ++i) EXPECT_GT(t.time_s[i], t.time_s[i - 1]) << i;
}

TEST(Clean, UntimedStretchesOutsideTheTimedSpanArePlacedAtTheMedianSpeed) {
  // A GPS unit's saved track (no times) before the active log (times): the saved part keeps
  // its points, placed at the active log's median moving speed, and the jump between the two
  // recorded segments is not walked.
  Track saved = Straight(20, 2.0);
  Track log = testing::StraightRun(39, 1.5, 140, 0.0, 5000.0);
  const LocalPlane plane(45.0, 6.0);
  for (size_t i = 0; i < log.size(); ++i) {
    plane.ToDegrees(3000, 1.5 * static_cast<double>(i), &log.lat_deg[i], &log.lon_deg[i]);
  }
  Track t;
  t.sport = Sport::kHike;
  for (size_t i = 0; i < saved.size(); ++i) {
    TrackPoint p = saved.PointAt(i);
    p.time_s = kNaN;
    t.Append(p);
  }
  for (size_t i = 0; i < log.size(); ++i) t.Append(log.PointAt(i));
  t.segment_starts = {0, 20};
  // And one untimed point without a position: nothing to place it by.
  TrackPoint hr_only;
  hr_only.hr_bpm = 120;
  t.Append(hr_only);
  const CleanReport r = Clean(t);
  EXPECT_EQ(r.extrapolated_time, 20u);
  EXPECT_EQ(r.extrapolated_before, 20u);
  EXPECT_EQ(r.no_time, 1u);
  EXPECT_NEAR(r.extrapolation_speed_mps, 1.5, 1e-6);
  ASSERT_EQ(t.size(), 60u);
  // 2 m steps at 1.5 m/s: 1.333 s apart, ending one second (the segment jump) before 5000.
  EXPECT_NEAR(t.time_s[19], 5000.0 - 1.0, 1e-2);
  EXPECT_NEAR(t.time_s[19] - t.time_s[18], 2.0 / 1.5, 1e-3);
  EXPECT_EQ(r.speed_outlier, 0u);  // the jump starts a segment and re-anchors the gate
  for (size_t i = 1; i < t.size(); ++i) EXPECT_GT(t.time_s[i], t.time_s[i - 1]) << i;
}

TEST(Clean, UntimedFixesBeyondAStepNoBodyMakesAreDropped) {
  // A run (gate 12.5 m/s: steps up to 7.5 km join) timed for 60 s. Before it, untimed, a
  // saved track with 2 km between vertices (all joined) and, beyond a 40 km step, two fixes of
  // another place; after it, 300 m on, one untimed fix that joins, then a step of 8 km.
  const LocalPlane plane(45.0, 6.0);
  auto fix = [&](double north_m, double time_s) {
    TrackPoint p;
    plane.ToDegrees(0, north_m, &p.lat_deg, &p.lon_deg);
    p.time_s = time_s;
    return p;
  };
  Track t;
  t.sport = Sport::kRun;
  for (double north : {-48000.0, -47900.0, -8000.0, -6000.0, -4000.0, -2000.0}) {
    t.Append(fix(north, kNaN));
  }
  for (int i = 0; i < 60; ++i) t.Append(fix(3.0 * i, 1000.0 + i));
  t.Append(fix(177 + 300, kNaN));
  t.Append(fix(177 + 300 + 8000, kNaN));
  const CleanReport r = Clean(t);
  EXPECT_EQ(r.untimed_beyond_jump, 3u);
  EXPECT_EQ(r.no_time, 3u);
  EXPECT_EQ(r.extrapolated_time, 5u);
  EXPECT_EQ(r.extrapolated_before, 4u);
  ASSERT_EQ(t.size(), 65u);
  // The joined saved track starts 8 km before the log: 2,667 s at the median 3 m/s.
  EXPECT_NEAR(t.time_s[0], 1000.0 - 8000.0 / 3.0, 1.0);
  EXPECT_NEAR(t.time_s[64], 1059.0 + 300.0 / 3.0, 1.0);

  // The same step is joined at a ride's top speed (35 m/s: 21 km).
  Track again;
  again.sport = Sport::kRide;
  for (double north : {-30000.0, -8000.0}) again.Append(fix(north, kNaN));
  for (int i = 0; i < 60; ++i) again.Append(fix(3.0 * i, 1000.0 + i));
  const CleanReport rr = Clean(again);
  EXPECT_EQ(rr.untimed_beyond_jump, 1u);  // 22 km > 21 km
  EXPECT_EQ(rr.extrapolated_time, 1u);    // 8 km < 21 km

  // Every untimed fix beyond a jump: nothing placed, and no speed reported for it.
  Track none;
  none.sport = Sport::kRun;
  none.Append(fix(-20000, kNaN));
  for (int i = 0; i < 60; ++i) none.Append(fix(3.0 * i, 1000.0 + i));
  const CleanReport rn = Clean(none);
  EXPECT_EQ(rn.untimed_beyond_jump, 1u);
  EXPECT_EQ(rn.extrapolated_time, 0u);
  EXPECT_EQ(rn.extrapolation_speed_mps, 0.0);
}

TEST(Clean, UntimedFixesAreDroppedWhenNothingTimedMoves) {
  Track t = Straight(10, 0.0);  // timed points that stand still
  for (size_t i = 0; i < t.size(); ++i) t.lat_deg[i] += 1e-7 * static_cast<double>(i % 2);
  Track u = Straight(5, 2.0);
  for (size_t i = 0; i < u.size(); ++i) {
    TrackPoint p = u.PointAt(i);
    p.time_s = kNaN;
    t.Append(p);
  }
  const CleanReport r = Clean(t);
  EXPECT_EQ(r.no_time, 5u);
  EXPECT_EQ(r.extrapolated_time, 0u);
}

}  // namespace
}  // namespace stride::engine
