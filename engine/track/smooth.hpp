// SPDX-License-Identifier: Apache-2.0
//
// Smoothing: a constant-velocity Kalman filter with a Rauch-Tung-Striebel backward pass over
// the fixes of each recorded segment, in a local metric plane; then elevation on its own.
//
// Position model: state [p, v] per axis (east, north), white-noise acceleration with spectral
// density q (m²/s³), so the process noise of a step grows as dt³: a sparse (5 s) recording
// lets the filter follow the fixes more closely and does not cut corners; beyond 5 s q itself
// grows with the interval (x h/5), as a walker sampled every 30 s may have turned any way in
// between. A length guard checks that: smoothing may shorten a recorded segment by what
// jitter adds to a polyline (at most sqrt(d² + 4 sigma²) - d per step of length d) and no
// more; a segment that lost more is smoothed again with less assumed noise, or left as
// recorded (guarded_runs). Measurement noise is the jitter measured from the track itself
// (robust second differences), so fixes a device already filtered are not smoothed twice; the
// device's gps_accuracy, when present, weighs fixes against each other around that level.
// Both axes share one covariance (the noise is isotropic), so the 2x2 covariance recursion
// runs once per fix.
//
// Walkers and hikers: one q cannot serve both a slow walker's straight, where 0.6 m of jitter
// on 0.8 m steps passes for path unless q is low, and a hairpin, which a low q cuts. Their
// fixes are smoothed twice: first with a quarter of the sport's q (for steps under 8 s; from
// 10 s on the sport's q, as sparse fixes carry little jitter length and a low q cuts), then,
// where that smoothed path turns by more than 45 degrees within +-5 s (at least three fixes
// each side), again from the recorded fixes with 20 times the sport's q over the turn. On the
// ground-truth paths (tests/integration/ground_truth_test.cpp) that takes a hiker at 1 s
// from +1.09 % to +0.76 % on a real trail while switchbacks stay within 0.4 %. Runners keep
// one q: their turns are gentle at their speed, and their 1 s FIT totals match the devices'
// as they are.
//
// Elevation: a Hampel filter removes spikes, then a Gaussian kernel over horizontal distance
// (over time when the track has no positions). Barometric altitude is smooth and gets a narrow
// kernel; GPS altitude is noisy and gets a wide one. Which one a track has is taken from the
// file when it says, else from the roughness of the stream (median |second difference|).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "engine/track/track.hpp"

namespace stride::engine {

struct SmoothOptions {
  // Measurement noise (1 sigma, metres) when the track is too short or too sparse to measure
  // its own jitter. Default: 3.
  double sigma_m = 3.0;
  // Bounds on the jitter measured from the track, metres. Default: 0.2 and 10.
  double min_sigma_m = 0.2;
  double max_sigma_m = 10.0;
  // Acceleration spectral density q, m²/s³. Default: 0 (by sport: ProcessNoiseForSport()).
  double accel_density = 0.0;
  // The length guard (see above). Default: on.
  bool length_guard = true;
  // Walkers' and hikers' two passes that follow turns (see above). Default: on.
  bool follow_turns = true;
  // Gaussian sigma over distance for barometric and GPS altitude, metres. Default: 10 and 40.
  double baro_elevation_sigma_m = 10.0;
  double gps_elevation_sigma_m = 40.0;
  // Roughness (median |second difference|, metres) above which altitude is treated as GPS.
  // Default: 0.35.
  double gps_roughness_threshold_m = 0.35;
};

struct SmoothReport {
  bool position_smoothed = false;
  double sigma_m = 0;            // measurement noise used (1 sigma, metres)
  bool sigma_from_data = false;  // measured from the track's jitter
  bool used_device_accuracy = false;
  // Recorded segments whose smoothing removed more length than the jitter explains, and was
  // relaxed (or undone) by the length guard.
  size_t guarded_runs = 0;
  // Fixes smoothed with the turn q (walkers and hikers, see above).
  size_t turn_fixes = 0;
  double accel_density = 0;  // q used
  bool elevation_smoothed = false;
  AltitudeSource elevation_source = AltitudeSource::kUnknown;  // after classification
  std::string elevation_source_reason;                         // "file", "roughness 0.12 m"
  double elevation_sigma_m = 0;  // kernel used (metres, or seconds when over time)
  bool elevation_over_time = false;
};

// q by sport, m²/s³: run 0.6, walk and hike 0.1, ride 2, swim 0.1, other 1.
double ProcessNoiseForSport(Sport sport);

// Smooths the positions of `track` in place (fixes only; points without a position stay so).
// REQUIRES: times strictly increasing where present (run Clean() first).
SmoothReport SmoothPositions(Track& track, const SmoothOptions& options);

// Which altitude the track carries: what the file says when it says, else barometric or GPS by
// the roughness of the stream (median |second difference| against
// options.gps_roughness_threshold_m); kUnknown with fewer than 5 altitudes. `reason` (may be
// null) receives "file", "no altitude" or "roughness 0.12 m".
AltitudeSource ClassifyAltitude(const Track& track, const SmoothOptions& options,
                                std::string* reason);

// Smooths track.ele_m in place. `cum_distance_m` (same length as the track, may be empty)
// gives the horizontal distance axis; without it the kernel runs over time.
void SmoothElevation(Track& track, const std::vector<double>& cum_distance_m,
                     const SmoothOptions& options, SmoothReport& report);

// Gaussian smoothing (standard deviation `sigma` in axis units) of values sampled at
// non-decreasing positions `axis`: the samples are binned onto a regular grid (step sigma/4;
// empty bins interpolated), blurred by three box passes (a close Gaussian approximation,
// O(n)) and read back by linear interpolation. Returns `v` unchanged when it cannot apply.
std::vector<double> GaussianOnAxis(const std::vector<double>& axis, const std::vector<double>& v,
                                   double sigma);

}  // namespace stride::engine
