// SPDX-License-Identifier: Apache-2.0
//
// Sport inference on synthetic recordings whose sport is known by construction (speed,
// cadence, climbing); the shared recordings are in tests/integration/sport_inference_test.cpp.
#include "engine/track/sport_guess.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "datasets/synthetic_activity.hpp"
#include "engine/geo/geodesy.hpp"
#include "engine/track/analysis.hpp"

namespace stride::engine {
namespace {

Track Recorded(double speed_mps, double hill_m, double interval_s, double cadence, int laps = 3) {
  datasets::SyntheticRunOptions o;
  o.speed_mps = speed_mps;
  o.hill_m = hill_m;
  o.interval_s = interval_s;
  o.noise_m = 2;
  o.laps = laps;
  Track t = datasets::MakeSyntheticRun(o).recorded;
  for (double& c : t.cadence_rpm) c = cadence;
  return t;
}

TEST(GuessSport, TellsEachSportFromHowItMoved) {
  EXPECT_EQ(GuessSport(Recorded(3.0, 30, 1, kNaN)).sport, Sport::kRun);
  EXPECT_EQ(GuessSport(Recorded(3.0, 30, 1, 85)).sport, Sport::kRun);
  EXPECT_EQ(GuessSport(Recorded(8.0, 30, 1, 85, 10)).sport, Sport::kRide);
  // Walking pace on the flat, under two hours: a walk; the same pace climbing: a hike.
  const SportGuess walk = GuessSport(Recorded(1.3, 0, 5, kNaN));
  EXPECT_EQ(walk.sport, Sport::kWalk) << walk.why;
  const SportGuess hike = GuessSport(Recorded(1.1, 150, 20, kNaN));
  EXPECT_EQ(hike.sport, Sport::kHike) << hike.why;
  EXPECT_NE(hike.why.find("walking pace"), std::string::npos) << hike.why;
  EXPECT_NE(hike.why.find("m/km"), std::string::npos) << hike.why;
  // A slow run with a running cadence stays a run; walking cadence given as both legs' count
  // (110 a minute) makes it a walk.
  EXPECT_EQ(GuessSport(Recorded(1.3, 0, 1, 80)).sport, Sport::kRun);
  EXPECT_EQ(GuessSport(Recorded(1.3, 0, 1, 110)).sport, Sport::kWalk);
  // Strokes at swimming speed.
  const SportGuess swim = GuessSport(Recorded(0.9, 0, 1, 28));
  EXPECT_EQ(swim.sport, Sport::kSwim) << swim.why;
  EXPECT_NE(swim.why.find("stroke rate of 28/min"), std::string::npos) << swim.why;
}

// At walking pace, a climb faster than hikers make (600 m an hour of moving, over 300 m or
// more) is a mountain runner's; anything slower, or shorter, or without a moving time, stays a
// walk or a hike.
TEST(GuessSport, ClimbingFasterThanHikersIsRunning) {
  auto decide = [](double climb_m, double distance_m, double moving_s) {
    SportGuess g;
    g.walking_pace = true;
    g.walking_detail = "walking pace (median 3.0 km/h";
    DecideWalkOrHike(&g, climb_m, distance_m, 1.1 * moving_s, moving_s);
    return g;
  };
  const SportGuess vk = decide(1000, 4000, 3600);  // a vertical kilometre in an hour
  EXPECT_EQ(vk.sport, Sport::kRun) << vk.why;
  EXPECT_NE(vk.why.find("climbing 1000 m in 1.0 h moving: 1000 m an hour"), std::string::npos)
      << vk.why;
  EXPECT_EQ(decide(1000, 4000, 2 * 3600).sport, Sport::kHike);  // 500 m an hour: a good hiker
  EXPECT_EQ(decide(599, 4000, 3600).sport, Sport::kHike);       // just under Naismith's rule
  EXPECT_EQ(decide(600, 4000, 3600).sport, Sport::kRun);        // at it
  EXPECT_EQ(decide(250, 2000, 1200).sport, Sport::kHike);       // 750 m an hour for 250 m
  SportGuess unknown_moving;
  unknown_moving.walking_pace = true;
  DecideWalkOrHike(&unknown_moving, 1000, 4000, 3600);  // GuessSport's call: no moving time
  EXPECT_EQ(unknown_moving.sport, Sport::kHike) << unknown_moving.why;
  // A guess not at walking pace is left alone.
  SportGuess run;
  DecideWalkOrHike(&run, 1000, 4000, 3600, 3600);
  EXPECT_EQ(run.sport, Sport::kRun);
  EXPECT_TRUE(run.why.empty());
}

// Due north from 45N 6E, a fix every `interval_s`, at each leg's speed for its seconds.
Track Legs(const std::vector<std::pair<double, int>>& legs, double interval_s = 5) {
  Track t;
  t.sport = Sport::kUnknown;
  const LocalPlane plane(45.0, 6.0);
  double time = 0, north = 0;
  for (const auto& [speed, seconds] : legs) {
    for (double s = 0; s < seconds; s += interval_s) {
      TrackPoint p;
      p.time_s = time;
      plane.ToDegrees(0, north, &p.lat_deg, &p.lon_deg);
      p.ele_m = 300;
      t.Append(p);
      time += interval_s;
      north += speed * interval_s;
    }
  }
  return t;
}

TEST(GuessSport, AWalkWithARideInItIsAWalkThatSaysSo) {
  // 30 min walking, 10 min on a bus at 30 km/h, then 10 more walking.
  // Before, the bus put 90 % of the speeds under 23 km/h and the walk was "a run".
  const SportGuess walk = GuessSport(Legs({{1.2, 1800}, {8.3, 600}, {1.3, 600}}));
  EXPECT_EQ(walk.sport, Sport::kWalk) << walk.why;
  EXPECT_NE(walk.why.find("moving stretches at vehicle speed (19.8 km/h or more) left out"),
            std::string::npos)
      << walk.why;
  // Running pace between the walking and the ride: not a walk with a ride.
  EXPECT_EQ(GuessSport(Legs({{1.2, 600}, {3.2, 2400}, {8.3, 300}})).sport, Sport::kRun);
  // A ride with slow climbs stays a ride: most of it at riding speed.
  EXPECT_EQ(GuessSport(Legs({{1.9, 900}, {7.0, 2400}})).sport, Sport::kRide);
}

// Walk or hike is decided on the smoothed altitude: a flat walk whose GPS altitude wanders
// (3 m of white noise, as a phone's does) counts dozens of 5 m steps of raw "climbing" a km.
TEST(GuessSport, ANoisyAltitudeOnTheFlatIsAWalkNotAHike) {
  Track t = Legs({{1.3, 2400}}, 1);
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0, 3);
  for (double& e : t.ele_m) e = 300 + noise(rng);
  const SportGuess raw = GuessSport(t);
  ASSERT_TRUE(raw.walking_pace) << raw.why;
  ASSERT_EQ(raw.sport, Sport::kHike) << "the premise: raw altitude reads as a climb; " << raw.why;
  const Analysis a = Analyze(t);
  EXPECT_EQ(a.sport, Sport::kWalk) << a.sport_source;
  // The reason gives the smoothed figure, the analysis' own ascent over its distance.
  char climbing[64];
  std::snprintf(climbing, sizeof climbing, "climbing %.0f m/km over 0.7 h",
                a.ascent_m / (a.distance_m / 1000));
  EXPECT_NE(a.sport_source.find(climbing), std::string::npos) << a.sport_source;
  EXPECT_LT(a.ascent_m / (a.distance_m / 1000), 40) << a.sport_source;

  // The same walk up a steady 6 % grade is a hike either way.
  for (size_t i = 0; i < t.size(); ++i) t.ele_m[i] = 300 + 0.06 * 1.3 * t.time_s[i];
  const Analysis up = Analyze(t);
  EXPECT_EQ(up.sport, Sport::kHike) << up.sport_source;
  EXPECT_NE(up.sport_source.find("climbing 6"), std::string::npos) << up.sport_source;
}

TEST(GuessSport, TooLittleTimedMotionAssumesARunAndSaysSo) {
  Track t = Recorded(3.0, 0, 1, kNaN, 1);
  for (double& time : t.time_s) time = kNaN;
  const SportGuess g = GuessSport(t);
  EXPECT_EQ(g.sport, Sport::kRun);
  EXPECT_NE(g.why.find("too little timed motion"), std::string::npos);
}

// No positions, a fix a second with the device's cumulative distance at `speed_mps`.
Track DeviceDistanceOnly(double speed_mps, int seconds) {
  Track t;
  for (int i = 0; i <= seconds; ++i) {
    TrackPoint p;
    p.time_s = 1000 + i;
    p.distance_m = speed_mps * i;
    p.ele_m = 300;
    t.Append(p);
  }
  return t;
}

TEST(GuessSport, WithoutPositionsTheDevicesDistanceTells) {
  const SportGuess trainer = GuessSport(DeviceDistanceOnly(6.3, 1800));  // 22.7 km/h
  EXPECT_EQ(trainer.sport, Sport::kRide) << trainer.why;
  EXPECT_NE(trainer.why.find("median 22.7 km/h"), std::string::npos) << trainer.why;
  EXPECT_NE(trainer.why.find("by the device's distance: no positions"), std::string::npos)
      << trainer.why;
  const SportGuess treadmill = GuessSport(DeviceDistanceOnly(3.0, 1800));
  EXPECT_EQ(treadmill.sport, Sport::kRun) << treadmill.why;
  EXPECT_NE(treadmill.why.find("running pace (median 10.8 km/h"), std::string::npos)
      << treadmill.why;
  SportGuess walk = GuessSport(DeviceDistanceOnly(1.2, 1800));
  ASSERT_TRUE(walk.walking_pace) << walk.why;
  DecideWalkOrHike(&walk, 0, 1.2 * 1800, 1800);
  EXPECT_EQ(walk.sport, Sport::kWalk) << walk.why;
  // Without distance either, there is still nothing to tell from.
  Track bare = DeviceDistanceOnly(6.3, 1800);
  for (double& d : bare.distance_m) d = kNaN;
  EXPECT_NE(GuessSport(bare).why.find("too little timed motion"), std::string::npos);
}

}  // namespace
}  // namespace stride::engine
