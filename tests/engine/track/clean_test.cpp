// SPDX-License-Identifier: Apache-2.0
#include "engine/track/clean.hpp"

#include <gtest/gtest.h>

#include <cmath>

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

}  // namespace
}  // namespace stride::engine
