// SPDX-License-Identifier: Apache-2.0
#include "engine/track/analysis.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <utility>

#include "engine/geo/geodesy.hpp"
#include "engine/text/printf.hpp"
#include "engine/track/detail/median.hpp"
#include "engine/track/sport_guess.hpp"

namespace stride::engine {
namespace {

// Measured distance, moving time and heart rate over [t0, t1) of the track.
LapResult MeasureLap(const Track& t, const TrackAxes& a, const Lap& lap) {
  LapResult r;
  r.device = lap;
  const double t0 = lap.start_time_s;
  const double t1 = t0 + (std::isnan(lap.elapsed_time_s) ? 0.0 : lap.elapsed_time_s);
  if (std::isnan(t0) || t.empty()) return r;
  auto interp = [&](const std::vector<double>& cum, double time) {
    const auto it = std::lower_bound(t.time_s.begin(), t.time_s.end(), time);
    if (it == t.time_s.begin()) return cum.front();
    if (it == t.time_s.end()) return cum.back();
    const size_t i = static_cast<size_t>(it - t.time_s.begin());
    const double f = (time - t.time_s[i - 1]) / (t.time_s[i] - t.time_s[i - 1]);
    return cum[i - 1] + f * (cum[i] - cum[i - 1]);
  };
  r.distance_m = interp(a.cum_m, t1) - interp(a.cum_m, t0);
  r.moving_time_s = interp(a.cum_moving_s, t1) - interp(a.cum_moving_s, t0);
  double sum = 0, w = 0;
  const auto first = std::upper_bound(t.time_s.begin(), t.time_s.end(), t0);
  const auto last = std::upper_bound(first, t.time_s.end(), t1);
  const auto begin = static_cast<size_t>(std::max<long>(1, first - t.time_s.begin()));
  const auto end = static_cast<size_t>(last - t.time_s.begin());
  for (size_t i = begin; i < end; ++i) {
    if (std::isnan(t.hr_bpm[i])) continue;
    const double dt = a.cum_timer_s[i] - a.cum_timer_s[i - 1];
    sum += t.hr_bpm[i] * dt;
    w += dt;
  }
  if (w > 0) r.avg_hr_bpm = sum / w;
  return r;
}

// Runs of intervals that are not moving, at least `min_s` long.
std::vector<Stop> FindStops(const Track& t, const TrackAxes& a, double min_s) {
  std::vector<Stop> out;
  size_t i = 1;
  while (i < t.size()) {
    if (a.moving[i]) {
      ++i;
      continue;
    }
    const bool running = a.active[i] > 0;
    size_t j = i;
    while (j < t.size() && !a.moving[j] && (a.active[j] > 0) == running) ++j;
    const double duration = t.time_s[j - 1] - t.time_s[i - 1];
    if (duration >= min_s) out.push_back({t.time_s[i - 1], duration, running, a.cum_m[i - 1]});
    i = j;
  }
  return out;
}

// Replaces GPS (or missing) altitude by the DEM's at every positioned point, when the DEM
// covers at least 95 % of them; returns what it did, for the analysis' method notes, or an
// empty string when the track keeps its own altitude.
std::string ApplyDem(Track& t, const ElevationSource& dem, const SmoothOptions& options) {
  std::string why;
  const AltitudeSource own = ClassifyAltitude(t, options, &why);
  if (own == AltitudeSource::kBarometric || own == AltitudeSource::kDem) return {};
  std::vector<double> ele(t.size(), kNaN);
  size_t positioned = 0, covered = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    if (!t.has_position(i)) continue;
    ++positioned;
    double h = 0;
    if (dem.ElevationAt(t.lat_deg[i], t.lon_deg[i], &h)) {
      ele[i] = h;
      ++covered;
    }
  }
  if (positioned < 5 || covered * 100 < positioned * 95) return {};
  t.ele_m.swap(ele);
  t.altitude_source = AltitudeSource::kDem;
  return own == AltitudeSource::kGps ? "dem, replacing gps altitude (" + why + ")"
                                     : "dem, the file has no altitude";
}

}  // namespace

Analysis Analyze(Track input, const AnalyzeOptions& options) {
  Analysis an;
  an.track = std::move(input);
  Track& t = an.track;
  an.format = t.format;
  an.device = t.device;
  an.sport_name = t.sport_name;
  an.sub_sport = t.sub_sport;
  an.device_totals = t.device_totals;
  an.developer_fields = t.developer_fields;
  an.warnings = t.warnings;
  std::optional<SportGuess> guessed;  // when neither the options nor the file name the sport
  if (options.sport != Sport::kUnknown) {
    t.sport = options.sport;
    an.sport_source = "command line";
  } else if (t.sport != Sport::kUnknown) {
    an.sport_source = "file";
  } else {
    guessed = GuessSport(t);
    t.sport = guessed->sport;
    an.sport_source = guessed->why;
  }
  an.sport = t.sport;

  // 1. Clean.
  an.points = Clean(t, options.clean);
  if (t.empty()) return an;

  // 2. Smooth positions; the elevation needs the smoothed distance axis first.
  an.smoothing = SmoothPositions(t, options.smooth);
  const TrackAxes steps = ComputeSteps(t);
  std::vector<double> along(t.size(), 0.0);
  for (size_t i = 1; i < t.size(); ++i) along[i] = along[i - 1] + steps.step_m[i];
  const std::string dem_note = options.dem ? ApplyDem(t, *options.dem, options.smooth) : "";
  SmoothElevation(t, along, options.smooth, an.smoothing);
  if (!dem_note.empty()) an.smoothing.elevation_source_reason = dem_note;
  // Segmentation sees the smoothed profile: moving detection counts climbing as motion.
  const TrackAxes axes = ComputeAxes(t, options.segment, steps);

  // 3. Segment and measure.
  const bool times = t.HasTimes();
  an.distance_from_device = axes.distance_from_device;
  an.used_timer_events = axes.has_timer_events;
  an.timer_events_dropped = t.timer_events_dropped;
  an.stop_speed_mps = options.segment.stop_speed_mps > 0 ? options.segment.stop_speed_mps
                                                         : StopSpeedForSport(t.sport);
  an.moving_window_s = options.segment.window_s;
  an.distance_m = axes.cum_m.back();
  an.along_m = axes.cum_m;
  if (times) {
    an.start_time_s = t.time_s.front();
    an.elapsed_time_s = t.time_s.back() - t.time_s.front();
    an.timer_time_s = axes.cum_timer_s.back();
    an.moving_time_s = axes.cum_moving_s.back();
    if (an.distance_m > 0) {
      an.avg_pace_s_per_km = an.elapsed_time_s / (an.distance_m / 1000.0);
      an.moving_pace_s_per_km = an.moving_time_s / (an.distance_m / 1000.0);
    }
  }

  const AltitudeSource src = an.smoothing.elevation_source;
  an.ascent_threshold_m = options.segment.ascent_threshold_m > 0
                              ? options.segment.ascent_threshold_m
                              : (src == AltitudeSource::kGps ? 5.0 : 2.0);
  bool has_ele = false;
  for (size_t i = 0; i < t.size(); ++i) {
    const double e = t.ele_m[i];
    if (std::isnan(e)) continue;
    has_ele = true;
    an.min_ele_m = std::isnan(an.min_ele_m) ? e : std::min(an.min_ele_m, e);
    an.max_ele_m = std::isnan(an.max_ele_m) ? e : std::max(an.max_ele_m, e);
  }
  GradeAxes grades = ComputeGrades(t, axes);
  if (has_ele) {
    const AscentDescent ad = HysteresisAscent(t.ele_m, an.ascent_threshold_m);
    an.ascent_m = ad.ascent_m;
    an.descent_m = ad.descent_m;
    an.max_grade = grades.max_grade;
    an.avg_grade = grades.avg_grade;
    an.climbs = FindClimbs(t, axes, std::max(an.ascent_threshold_m, 5.0), options.segment);
  }
  // Walk or hike, decided again on the smoothed profile (or the DEM's): the guess counted the
  // raw altitude, whose noise can read a lakeside walk as 40 m of climbing a km. Both sports
  // clean, smooth and segment alike, so nothing above depends on which. A run climbing faster
  // than hikers do (DecideWalkOrHike) was cleaned and smoothed at walking pace too, which is
  // the pace it moved at; what follows (best efforts) treats it as a run.
  if (guessed && guessed->walking_pace) {
    DecideWalkOrHike(&*guessed, an.ascent_m, an.distance_m, an.elapsed_time_s, an.moving_time_s);
    t.sport = an.sport = guessed->sport;
    an.sport_source = guessed->why;
  }
  if (times && grades.cum_adjusted_m.back() > 0 && an.moving_time_s > 0) {
    an.gap_s_per_km = an.moving_time_s / (grades.cum_adjusted_m.back() / 1000.0);
  }

  // Heart rate.
  double recorded_max = kNaN;
  for (double hr : t.hr_bpm) {
    if (!std::isnan(hr) && hr > 0)
      recorded_max = std::isnan(recorded_max) ? hr : std::max(recorded_max, hr);
  }
  if (options.hr_zone_bounds_bpm.size() == 4) {
    an.hr_zones.method = "zone table from the command line";
    for (size_t k = 0; k < 4; ++k) an.hr_zones.lower_bounds_bpm[k] = options.hr_zone_bounds_bpm[k];
    an.hr_zones.max_hr_bpm = !std::isnan(options.max_hr_bpm)
                                 ? options.max_hr_bpm
                                 : std::max(190.0, std::isnan(recorded_max) ? 0.0 : recorded_max);
  } else if (!std::isnan(options.max_hr_bpm)) {
    an.hr_zones =
        ZonesFromMaxHr(options.max_hr_bpm, "60/70/80/90 % of max HR from the command line");
  } else {
    const double est = std::max(190.0, std::isnan(recorded_max) ? 0.0 : recorded_max);
    an.hr_zones =
        ZonesFromMaxHr(est, "60/70/80/90 % of an estimated max HR (max of recorded and 190)");
  }
  if (times) an.heart_rate = ComputeHeartRate(t, axes, an.hr_zones, options.rest_hr_bpm);

  // Splits, laps, best efforts.
  if (times) {
    const size_t max_splits = options.segment.max_splits;
    bool cut_km = false, cut_mile = false;
    an.splits_km = ComputeSplits(t, axes, 1000.0, grades.cum_adjusted_m, max_splits, &cut_km);
    an.splits_mile = ComputeSplits(t, axes, 1609.344, grades.cum_adjusted_m, max_splits, &cut_mile);
    if (cut_km || cut_mile) {
      // "%.0f", not a cast to an integer: a device distance can hold any double (fuzzing sent
      // 4.7e25 m, out of a long long's range).
      char km[400];
      std::snprintf(km, sizeof km, "%.0f", std::floor(axes.cum_m.back() / 1000));
      an.warnings.push_back("splits: only the first " + std::to_string(max_splits) +
                            " splits of each unit are listed (" + km + " km in all)");
    }
    for (const Lap& lap : t.laps) {
      LapResult r = MeasureLap(t, axes, lap);
      r.index = static_cast<int>(an.laps.size()) + 1;
      an.laps.push_back(std::move(r));
    }
    // Running distances (400 m ... marathon) mean nothing for a ride.
    if (t.sport != Sport::kRide && t.sport != Sport::kSwim) {
      // A stretch faster than anyone has run for as long is a car, a bus or a bike, and on a
      // walk or a hike so is one at vehicle speed (a walk of the shared data had "a best
      // 400 m" of 39 s): no effort crosses it.
      std::vector<SpeedBar> bars(kRunningRecords.begin(), kRunningRecords.end());
      if (BarsVehicleSpeed(t.sport)) bars.push_back({kVehicleSpeedMps});
      std::vector<char> barred = FastSteps(axes, bars);
      // And so is a stretch at a jog or faster in which a watch that counts steps counted none,
      // or one well over the recording's own pace with a heart near rest.
      const std::vector<char> strideless = StridelessSteps(t, axes);
      const std::vector<char> resting = RestingHeartSteps(t, axes);
      for (size_t i = 0; i < barred.size(); ++i) {
        barred[i] |= (i < strideless.size() && strideless[i]) || (i < resting.size() && resting[i]);
      }
      for (size_t i = 1; i < barred.size(); ++i) {
        if (barred[i]) an.best_efforts_vehicle_m += axes.cum_m[i] - axes.cum_m[i - 1];
      }
      // Estimated times (untimed stretches placed at the median speed, the first and last
      // rows) make no best effort: only the timed span [lo, hi) is searched.
      const size_t lo = an.points.extrapolated_before;
      const size_t hi = t.size() - (an.points.extrapolated_time - lo);
      if (lo > 0 || hi < t.size()) {
        barred.resize(t.size(), 0);
        for (size_t i = 1; i < t.size(); ++i) barred[i] |= i <= lo || i >= hi;
      }
      an.best_efforts = ComputeBestEfforts(axes, barred);
    }
    an.stops = FindStops(t, axes, options.min_stop_s);
  }
  return an;
}

SessionTotals Totals(const std::vector<Analysis>& sessions) {
  SessionTotals t;
  auto add = [](double* sum, double x) {
    if (!std::isnan(x)) *sum = std::isnan(*sum) ? x : *sum + x;
  };
  for (const Analysis& a : sessions) {
    t.distance_m += a.distance_m;
    add(&t.moving_time_s, a.moving_time_s);
    add(&t.timer_time_s, a.timer_time_s);
    if (!std::isnan(a.ascent_m)) {
      add(&t.ascent_m, a.ascent_m);
      add(&t.descent_m, a.descent_m);
    }
    t.raw_points += a.points.raw;
    t.kept_points += a.points.kept;
  }
  if (!sessions.empty()) {
    const Analysis& first = sessions.front();
    const Analysis& last = sessions.back();
    if (!std::isnan(first.start_time_s) && !std::isnan(last.start_time_s)) {
      t.elapsed_time_s = last.start_time_s + last.elapsed_time_s - first.start_time_s;
    }
  }
  return t;
}

Status CheckHeartRateOptions(const AnalyzeOptions& o) {
  if (o.rest_hr_bpm >= o.max_hr_bpm) {
    return Status::InvalidArgument(
        StringPrintf("resting heart rate %g bpm: must be below the maximum, %g bpm", o.rest_hr_bpm,
                     o.max_hr_bpm));
  }
  if (!o.hr_zone_bounds_bpm.empty() && o.hr_zone_bounds_bpm.back() >= o.max_hr_bpm) {
    return Status::InvalidArgument(
        StringPrintf("heart-rate zone 5 starts at %g bpm: must be below the maximum, %g bpm",
                     o.hr_zone_bounds_bpm.back(), o.max_hr_bpm));
  }
  return Status::Ok();
}

}  // namespace stride::engine
