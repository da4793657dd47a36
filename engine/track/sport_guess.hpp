// SPDX-License-Identifier: Apache-2.0
//
// The sport of a recording whose file does not say it, from how it moved: the speed while
// moving (median and 90th percentile, over windows of at least 10 s within recorded segments:
// white GPS noise at 1 s would read as sprints), the cadence when the device recorded one,
// and, between walking and hiking, the climbing and the duration. The rules, in order:
//
//   swim   a stroke rate (cadence 10-42 /min on at least 5 % of points) at under 2.5 m/s
//   ride   median moving speed over 4.0 m/s (14.4 km/h), or a 90th percentile over 5.4 m/s
//          (19.4 km/h) with a median over 2.0 m/s: runners spend almost no time that fast,
//          riders most of theirs (a walk with a few fast stretches, or GPS jumps, is no ride)
//   walk / hike   a walking pace throughout: median under 1.5 m/s (5.4 km/h), 90th
//          percentile under 2.2 m/s (no running bouts) and, when recorded, a cadence under
//          60 steps a minute per leg (a cadence over 100 is read as both legs' and halved).
//          Hike when it climbs 40 m or more per km or lasts over 2 hours, walk otherwise
//          (DecideWalkOrHike: GuessSport counts the climbing on the raw altitude in 5 m steps,
//          which GPS altitude noise inflates; Analyze decides again on the smoothed profile);
//          but a run when it climbs faster than hikers do (Analyze, on the moving time)
//   run    everything else, and a recording with fewer than 5 moving windows with times
//
// A recording without positions is judged the same way on its device's cumulative distance
// (a trainer, a treadmill, a watch with its GPS off), and its reason says so.
//
// Thresholds come from the shared recordings that name their sport (their labels removed,
// tests/integration/sport_inference_test.cpp), which also shows where they cannot work: a run
// logged at walking pace with walking cadence reads as a walk.
//
// Thread-safety: pure function.
#pragma once

#include <string>

#include "engine/track/track.hpp"

namespace stride::engine {

// Over 10 s or more, faster than anyone walks (19.8 km/h): a bus, a car, a lift. A walk's
// stretches at this speed are left out of its sport (GuessSport) and of its best efforts.
inline constexpr double kVehicleSpeedMps = 5.5;

struct SportGuess {
  Sport sport = Sport::kRun;
  // Why, for the analysis to report: "inferred: walking pace (median 4.6 km/h, 90 % under
  // 6.8 km/h), climbing 85 m/km".
  std::string why;
  // At walking pace throughout: walk or hike then depends on the climbing and the duration,
  // and `walking_detail` is the reason's speeds and cadence, for DecideWalkOrHike.
  bool walking_pace = false;
  std::string walking_detail;
};

SportGuess GuessSport(const Track& track);

// For a guess at walking pace: hike when `climb_m` over `distance_m` is 40 m/km or more or
// `duration_s` is over 2 hours, walk otherwise; sets `sport` and `why` (which gives the
// figures). A NaN climb counts as none. Does nothing to a guess not at walking pace.
// But a run when it climbs kRunnersClimbM or more at kRunnersClimbMPerHour or more over the
// hours of `moving_s` (NaN: not judged): faster, over a whole outing, than Naismith's rule has
// hikers climb when they do nothing else (600 m an hour). A mountain run or a vertical-kilometre
// race is at walking pace on the map (3.1 km/h at 223 m/km, 3.4 km/h at 343 m/km: the two shared
// "runs" the speeds alone called hikes); a hiker as fast as that for 300 m and more of
// climbing reads as a runner.
inline constexpr double kRunnersClimbM = 300;
inline constexpr double kRunnersClimbMPerHour = 600;
void DecideWalkOrHike(SportGuess* guess, double climb_m, double distance_m, double duration_s,
                      double moving_s = kNaN);

}  // namespace stride::engine
