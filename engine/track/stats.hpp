// SPDX-License-Identifier: Apache-2.0
//
// Stats: numbers computed over a segmented track (see segment.hpp for the axes).
//
//  - grade-adjusted distance: each interval's distance times Minetti et al. (2002)'s energy
//    cost of running at its grade over the cost on the flat; GAP = moving time / that distance;
//  - heart rate: time-weighted average, maximum, time in five zones;
//  - TRIMP: Banister's training impulse, sum of minutes x HRr x 0.64 e^(1.92 HRr);
//  - best efforts: the least active time over any stretch of each standard distance, with both
//    ends interpolated at the exact distance.
//
// Thread-safety: pure functions.
#pragma once

#include <array>
#include <span>
#include <string>
#include <vector>

#include "engine/track/segment.hpp"
#include "engine/track/track.hpp"

namespace stride::engine {

// Minetti's cost of running, J/(kg m), at `grade` (fraction, clamped to +-0.45).
double MinettiCost(double grade);

// Per point: the grade of the interval ending there, from the smoothed profile over a window
// of +-`half_window_m` of distance (NaN without elevation); then the cumulative grade-adjusted
// distance. Both have track.size() entries.
struct GradeAxes {
  std::vector<double> grade;
  std::vector<double> cum_adjusted_m;
  double max_grade = kNaN;  // steepest 100 m uphill, fraction
  double avg_grade = kNaN;  // (ascent - descent) / distance would hide climbs: mean |grade|
};
GradeAxes ComputeGrades(const Track& track, const TrackAxes& axes, double half_window_m = 25.0);

// Heart-rate zone boundaries in bpm: zone k (0-based) is [bounds[k-1], bounds[k]) with
// bounds[-1] = 0 and the last zone open-ended. So four numbers make five zones.
struct HrZones {
  std::array<double, 4> lower_bounds_bpm{};  // lower bounds of zones 2..5
  std::string method;                        // how the boundaries were found
  double max_hr_bpm = kNaN;
};
// Zones at 60/70/80/90 % of `max_hr_bpm`.
HrZones ZonesFromMaxHr(double max_hr_bpm, std::string method);

struct HeartRateStats {
  double avg_bpm = kNaN;
  double max_bpm = kNaN;
  std::array<double, 5> zones_s{};
  double trimp = kNaN;
};
// Over active time. `rest_hr_bpm` enters TRIMP.
HeartRateStats ComputeHeartRate(const Track& track, const TrackAxes& axes, const HrZones& zones,
                                double rest_hr_bpm);

struct BestEffort {
  std::string name;  // "400m", "1k", "1mile", "5k", "10k", "half", "marathon"
  double distance_m = 0;
  double time_s = 0;  // active time
  double start_distance_m = 0;
};
// The fastest active time over each distance the track is long enough for, from any point
// (to an interpolated end). No effort crosses a step i (from point i-1 to i) that `barred`
// marks; an empty `barred` bars none.
std::vector<BestEffort> ComputeBestEfforts(const TrackAxes& axes,
                                           const std::vector<char>& barred = {});

// A speed no one on foot keeps up: `ceiling_mps` or more on average over a window of at least
// `window_s` active seconds.
struct SpeedBar {
  double ceiling_mps;
  double window_s = 10;
};
// The steps i (from point i-1 to i) inside a window that breaks any of `bars`, for best efforts
// on foot to leave out: a bus, a car, a lift. Over a window, not a step: one step's GPS error
// can read as a sprint. One pass per bar into one mask, so a list of bars costs no more
// memory than one.
std::vector<char> FastSteps(const TrackAxes& axes, std::span<const SpeedBar> bars);
inline std::vector<char> FastSteps(const TrackAxes& axes, double ceiling_mps,
                                   double window_s = 10) {
  const SpeedBar bar{ceiling_mps, window_s};
  return FastSteps(axes, std::span<const SpeedBar>(&bar, 1));
}

// The fastest anyone has run for a given time: the men's world records from 100 m to the
// marathon as average speeds over their times (100 m 9.58 s, 400 m 43.03 s, 800 m 1:40.91,
// 1500 m 3:26.00, 5000 m 12:35.36, 10,000 m 26:11.00, half marathon 56:42, marathon 2:00:35).
// Over any window at least a record's time, no runner has averaged more than its speed: each
// record is a SpeedBar (its speed over its time).
inline constexpr std::array<SpeedBar, 8> kRunningRecords{{{100 / 9.58, 9.58},
                                                          {400 / 43.03, 43.03},
                                                          {800 / 100.91, 100.91},
                                                          {1500 / 206.0, 206.0},
                                                          {5000 / 755.36, 755.36},
                                                          {10000 / 1571.0, 1571.0},
                                                          {21097.5 / 3402.0, 3402.0},
                                                          {42195 / 7235.0, 7235.0}}};
// The steps inside a window faster than kRunningRecords allows for its length (FastSteps with
// kRunningRecords): not running but a car, a bus or a bike, for a run's best efforts to leave
// out. A 30 km/h car ride is caught once it lasts 101 s (800 m's record is 28.5 km/h); a
// sprint at 8 m/s over 400 m, or a 2:20 kilometre, is a runner's.
std::vector<char> FasterThanRunningSteps(const TrackAxes& axes);

// Motion without steps: a window of at least `window_s` active seconds at `min_speed_mps` or
// more on average in which the device counted no step (cadence 0) at `zero_share` or more of
// its points, and at `min_points` or more. A bus or a car at 20 km/h is slower than the
// runners' records for any time (FasterThanRunningSteps lets it through), but a watch that
// counts steps counts none on a seat, while no one runs 9 km/h without a stride.
// Trade-offs:
//  - only a recording that shows steps elsewhere (cadence of `stepping_rpm` or more on at
//    least `stepping_share` of its points) is judged: a device that writes 0 for "no sensor"
//    all along says nothing about the ride;
//  - a missing cadence (NaN) is not a zero: a dropped sensor does not make a vehicle, so a
//    window needs its zeros among the points that have a cadence, and those `min_points`;
//  - a minute is the default window: a cadence sensor reads 0 for a few seconds at a start
//    or after a dropout while the runner is already moving.
struct StridelessOptions {
  double window_s = 60;
  double min_speed_mps = 2.5;  // 9 km/h: a runner's jog; walkers are barred at vehicle speed
  double zero_share = 0.9;
  size_t min_points = 5;
  double stepping_rpm = 40;  // per leg or both legs: a walk reads 50-60, a run 75-95 or double
  double stepping_share = 0.25;
};
std::vector<char> StridelessSteps(const Track& track, const TrackAxes& axes,
                                  const StridelessOptions& options = {});

// Speed without effort: a window of at least `window_s` active seconds, at `min_speed_mps` or
// more and at `over_median` times the recording's median moving speed (over `window_s`
// windows, those at 1 m/s or more), in which the heart averaged `hr_drop_bpm` or more below
// the recording's median heart rate. A bus at 20 km/h in a run whose device counts no steps
// (a phone app with a chest strap) passes the records and StridelessSteps, but a heart on a
// seat falls towards rest within a minute, while one running faster than its own usual pace
// for two minutes climbs.
// Trade-offs:
//  - two minutes, not one: a heart lags an interval's start by 30-60 s, so a rep begun from a
//    standstill reads low for its first minute, not for its second;
//  - faster than the recording's own pace, not a fixed speed: an elite's easy 14.4 km/h with
//    a heart 25 below its workout's median is slower than its median and stays a run;
//  - a strap that reads low at the start (dry electrodes) is only a problem if the start is
//    a quarter faster than the rest, which warm-ups are not;
//  - a recording is judged only with a heart rate on `hr_share` of its points or more, and a
//    window only with one on `hr_share` of its points and on `min_points` (a dropout is no
//    rest).
struct RestingHeartOptions {
  double window_s = 120;
  double min_speed_mps = 4.0;  // 14.4 km/h: slower, a vehicle is no faster than a runner
  double over_median = 1.25;
  double hr_drop_bpm = 25;
  double hr_share = 0.5;
  size_t min_points = 5;
};
std::vector<char> RestingHeartSteps(const Track& track, const TrackAxes& axes,
                                    const RestingHeartOptions& options = {});

}  // namespace stride::engine
