// SPDX-License-Identifier: Apache-2.0
//
// Analyze(): the track pipeline as one call — clean, smooth, segment, measure — over one
// session of an activity. Each stage is its own function (clean.hpp, smooth.hpp, segment.hpp,
// stats.hpp) and can be run and tested alone; this file only composes them and records which
// method and parameters produced each number.
//
// Thread-safety: pure function; distinct tracks may be analysed concurrently.
//
//   AnalyzeOptions opt;
//   opt.max_hr_bpm = 190;
//   Analysis a = Analyze(activity.sessions[0], opt);
//   double km = a.distance_m / 1000;
#pragma once

#include <string>
#include <vector>

#include "engine/route/profile.hpp"
#include "engine/status.hpp"
#include "engine/track/clean.hpp"
#include "engine/track/segment.hpp"
#include "engine/track/smooth.hpp"
#include "engine/track/stats.hpp"
#include "engine/track/track.hpp"

namespace stride::engine {

struct AnalyzeOptions {
  // Overrides the sport the file names. Default: kUnknown (use the file's; when it names none,
  // infer ride from a median speed over 5.5 m/s, else run).
  Sport sport = Sport::kUnknown;
  // Maximum heart rate for zones and TRIMP. Default: NaN (estimated: the larger of the
  // recorded maximum and 190 bpm).
  double max_hr_bpm = kNaN;
  // Lower bounds of zones 2..5 in bpm; when set, used instead of max_hr_bpm. Default: none.
  std::vector<double> hr_zone_bounds_bpm;
  // Resting heart rate for TRIMP. Default: 60.
  double rest_hr_bpm = 60.0;
  // Shortest stop or pause listed in Analysis::stops, seconds. Default: 30.
  double min_stop_s = 30.0;
  // Elevation model for tracks without barometric altitude: GPS altitude (or none) is replaced
  // by the model's elevation at the smoothed positions, then smoothed as DEM data, and the
  // analysis names "dem" as its source. Not used when the model covers less than 95 % of the
  // positioned points. Must outlive the call. Default: none.
  const ElevationSource* dem = nullptr;
  CleanOptions clean;
  SmoothOptions smooth;
  SegmentOptions segment;
};

// InvalidArgument when the heart-rate options disagree with each other: a resting rate at or
// above the given maximum (TRIMP weighs the rate between the two), or zone 5 starting at or
// above it. Each value's own range is for whoever reads it to check (the CLI, the C API).
Status CheckHeartRateOptions(const AnalyzeOptions& o);

struct LapResult {
  int index = 0;          // 1-based
  Lap device;             // as recorded
  double distance_m = 0;  // measured over the lap's time span
  double moving_time_s = 0;
  double avg_hr_bpm = kNaN;
};

// A stretch of at least AnalyzeOptions::min_stop_s without motion: either the athlete stood
// still with the timer running ("stopped") or the timer was off / recording interrupted
// ("paused").
struct Stop {
  double start_time_s = kNaN;
  double duration_s = 0;
  bool timer_running = false;
  double distance_into_m = 0;  // where along the route it happened
};

// Whether a sport's best efforts also leave out vehicle speed (kVehicleSpeedMps over 10 s):
// walks and hikes, whose fastest real stretch is far below it. A run's sprints are not.
inline bool BarsVehicleSpeed(Sport sport) {
  return sport == Sport::kWalk || sport == Sport::kHike;
}

struct Analysis {
  std::string format;
  std::string device;
  Sport sport = Sport::kUnknown;
  // "file", "command line", or "inferred: ..." with the reasons (engine/track/sport_guess.hpp)
  std::string sport_source;
  std::string sport_name;  // as the file spelled it
  std::string sub_sport;
  std::vector<std::string> developer_fields;
  std::vector<std::string> warnings;  // the reader's repairs (Track::warnings)

  CleanReport points;
  double start_time_s = kNaN;
  double distance_m = 0;
  double elapsed_time_s = kNaN;
  double timer_time_s = kNaN;  // active time (timer running, inside segments)
  double moving_time_s = kNaN;
  double avg_pace_s_per_km = kNaN;     // elapsed / distance
  double moving_pace_s_per_km = kNaN;  // moving / distance
  double gap_s_per_km = kNaN;
  double ascent_m = kNaN;
  double descent_m = kNaN;
  double min_ele_m = kNaN;
  double max_ele_m = kNaN;
  double max_grade = kNaN;
  double avg_grade = kNaN;
  HrZones hr_zones;
  HeartRateStats heart_rate;
  std::vector<Split> splits_km;
  std::vector<Split> splits_mile;
  std::vector<LapResult> laps;
  std::vector<Climb> climbs;
  std::vector<BestEffort> best_efforts;  // foot sports only: running distances
  // Metres no best effort crosses: faster than anyone has run for as long
  // (FasterThanRunningSteps), where BarsVehicleSpeed at vehicle speed (FastSteps), and at a
  // jog or faster without a step counted (StridelessSteps), and well over the recording's own
  // pace with a heart near rest (RestingHeartSteps).
  double best_efforts_vehicle_m = 0;
  std::vector<Stop> stops;
  DeviceTotals device_totals;

  // Methods and parameters.
  SmoothReport smoothing;
  bool distance_from_device = false;
  bool used_timer_events = false;
  bool timer_events_dropped = false;  // contradicted the device's own timer total
  double stop_speed_mps = 0;
  double moving_window_s = 0;
  double ascent_threshold_m = 0;

  // The cleaned and smoothed track the numbers were measured on.
  Track track;
  // Metres from the start to each point of `track` as distance_m measured them (moving and
  // active stretches only: stops and pauses add nothing); ends at distance_m. Empty when the
  // track is.
  std::vector<double> along_m;
};

// Takes the track by value: callers that are done with it can move it in.
Analysis Analyze(Track track, const AnalyzeOptions& options = {});

// Totals over the sessions of one file (a multi-sport file has several). Times and climb are
// summed over the sessions that have them, NaN when none has; elapsed time runs from the first
// session's start to the last one's end (NaN without times).
struct SessionTotals {
  double distance_m = 0;
  double moving_time_s = kNaN;
  double timer_time_s = kNaN;
  double elapsed_time_s = kNaN;
  double ascent_m = kNaN;
  double descent_m = kNaN;
  size_t raw_points = 0;
  size_t kept_points = 0;
};
SessionTotals Totals(const std::vector<Analysis>& sessions);

}  // namespace stride::engine
