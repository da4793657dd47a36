// SPDX-License-Identifier: Apache-2.0
//
// Segmentation: which parts of a cleaned, smoothed track count, and how it divides.
//
// Interval i is the step from point i-1 to point i (interval 0 is empty). For each interval
// the axes hold its horizontal length, the share of it during which the device timer ran and
// the recording was inside one segment ("active"), and whether the athlete was moving: the
// speed over a window of +-`window_s` around it is at least the sport's threshold. Distance
// counts while active and moving (a runner standing still adds no GPS wander); timer time
// while active; moving time while active and moving. Splits, laps, climbs and best efforts
// read the cumulative arrays. A track without times (a planned route) counts every step.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/track/track.hpp"

namespace stride::engine {

struct SegmentOptions {
  // Half-width of the window over which moving speed is measured, seconds. Default: 5.
  double window_s = 5.0;
  // Speed below which the athlete is stopped, m/s. Default: 0 (by sport: StopSpeedForSport()).
  double stop_speed_mps = 0.0;
  // Shorter stops count as moving, seconds. Default: 10.
  double min_stop_s = 10.0;
  // Within what the window calls a stop, a fix this far (metres) from the last counted one is
  // slow progress, not wander: the straight line to it counts and the steps between are
  // moving. 0 turns it off. Default: 15.
  double stop_radius_m = 15.0;
  // Hysteresis for ascent and climbs, metres. Default: 0 (by elevation source: 2 m for
  // barometric and DEM, 5 m for GPS altitude).
  double ascent_threshold_m = 0.0;
  // A climb: a hysteresis trough-to-peak rise of at least this gain and average grade.
  // Default: 20 m and 3 %.
  double climb_min_gain_m = 20.0;
  double climb_min_grade = 0.03;
  // Most splits listed per unit (km, mile); a longer activity lists the first ones and
  // Analysis::warnings says so. Default: 10,000 (ten times the longest single-stage races).
  size_t max_splits = 10'000;
};

double StopSpeedForSport(Sport sport);

// The device timer by its start/stop events (in time order). Running at `t`: the state of
// the last event at or before t; before any event it runs, unless the first event is a start
// (recording began before the timer was started).
bool TimerRunningAt(const std::vector<TimerEvent>& events, double t);
// Seconds the timer ran within [t0, t1]; 0 for an empty or NaN span.
double TimerRunningSeconds(const std::vector<TimerEvent>& events, double t0, double t1);

struct TrackAxes {
  std::vector<double> step_m;         // horizontal length of interval i
  std::vector<double> active;         // in [0, 1]
  std::vector<char> moving;           // 1 when moving (and active)
  std::vector<double> cum_m;          // active, moving distance from the start to point i
  std::vector<double> cum_timer_s;    // active time to point i
  std::vector<double> cum_moving_s;   // moving time to point i
  bool distance_from_device = false;  // no positions: the device's distance stream was used
  bool has_timer_events = false;
};

// REQUIRES: times strictly increasing where present (Clean() first).
TrackAxes ComputeAxes(const Track& track, const SegmentOptions& options);
// Only the horizontal steps (step_m, distance_from_device): the expensive, ellipsoidal part.
TrackAxes ComputeSteps(const Track& track);
// ComputeAxes reusing the steps of ComputeSteps() or an earlier call on the same positions
// (only the elevations may have changed since).
TrackAxes ComputeAxes(const Track& track, const SegmentOptions& options, const TrackAxes& steps);

// Ascent and descent of an elevation profile with a hysteresis threshold: a rise or fall
// counts once the profile has moved `threshold_m` away from the last turning point, and then
// counts in full. NaN entries are skipped.
struct AscentDescent {
  double ascent_m = 0;
  double descent_m = 0;
};
AscentDescent HysteresisAscent(const std::vector<double>& elevation_m, double threshold_m,
                               size_t begin = 0, size_t end = static_cast<size_t>(-1));

struct Split {
  int index = 0;              // 1-based
  double distance_m = 0;      // the unit, or less for the last partial split
  double elapsed_time_s = 0;  // active (timer) time
  double moving_time_s = 0;
  double ascent_m = 0;
  double descent_m = 0;
  double avg_hr_bpm = kNaN;
  double gap_s_per_km = kNaN;
};

// Splits every `unit_m` of active distance, boundaries interpolated at the exact distance.
// Elevation comes from track.ele_m (smoothed); `cum_adjusted_m` is the cumulative
// grade-adjusted distance per point (see stats.hpp), or empty for no GAP. At most
// `max_splits` (the first ones): the count follows the distance, not the points, and a few
// fixes days apart on opposite sides of the globe pass the speed gate. `*cut` (when given)
// says whether a split was left out for that cap.
std::vector<Split> ComputeSplits(const Track& track, const TrackAxes& axes, double unit_m,
                                 const std::vector<double>& cum_adjusted_m,
                                 size_t max_splits = SIZE_MAX, bool* cut = nullptr);

struct Climb {
  double start_distance_m = 0;
  double end_distance_m = 0;
  double gain_m = 0;
  double avg_grade = 0;  // fraction
  double max_grade = 0;  // fraction, steepest 100 m (or the whole climb when shorter)
  double start_ele_m = 0;
  double end_ele_m = 0;
  std::string category;  // "hc", "1".."4" or "uncategorized", from length x grade
};

std::vector<Climb> FindClimbs(const Track& track, const TrackAxes& axes, double threshold_m,
                              const SegmentOptions& options);

// "hc", "1", "2", "3", "4" or "uncategorized" for a climb of `length_m` at `grade` (fraction):
// the score length_m * grade_percent against 80000 / 64000 / 32000 / 16000 / 8000.
std::string ClimbCategory(double length_m, double grade);

}  // namespace stride::engine
