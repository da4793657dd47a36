// SPDX-License-Identifier: Apache-2.0
//
// Cleaning: the first pipeline stage. Removes what a device recorded wrongly and counts it.
//
//  - times that span under a second, or repeat so much that fewer than a tenth are distinct,
//    carry nothing: they are all cleared and the track is treated as untimed (times_ignored);
//  - a point without a time in a track that has times keeps its position: between two timed
//    points it gets a time interpolated along the path (interpolated_time); before the first
//    or after the last it is placed at the median moving speed of the timed part
//    (extrapolated_time, extrapolation_speed_mps), so a GPS unit's saved (untimed) track
//    still counts for distance, climbing and shape. Without a position it is dropped
//    (no_time), as are untimed fixes when nothing of the timed part moves, and those beyond a
//    step longer than max_untimed_step_s at the sport's top speed (untimed_beyond_jump);
//  - a point with the same time as the previous one is the same sample written twice: it is
//    merged into it (duplicate_time), unless both hold different positions;
//  - times that run backwards: the longest strictly increasing run of timestamps is the
//    skeleton. A point off it stays where the file puts it (merged location sources write
//    fixes in order with jittery times) and is re-timed along the path between its skeleton
//    neighbours (retimed); one that cannot be placed is dropped (non_increasing_time). A bad
//    first timestamp thus costs one point, not the whole track;
//  - elevation outside kLowestElevationM..kHighestElevationM (-500..9,000 m: no ground a person
//    stands on) is garbage, as is one the body could not have reached from the last accepted
//    one in the time (vertical-speed gate; a new level that lasts is kept); elevation
//    exactly 0.0 in a track whose median elevation is over 50 m is unset, not sea level: all
//    become absent (invalid_elevation);
//  - heart rate outside 20-250 bpm, cadence over 254, power over 3,000 W, temperature outside
//    -60..70 C become absent (invalid_sensor): 255 is the "no sensor" marker of FIT that
//    converters carry into GPX and TCX;
//  - a fix outside lat/lon range, at (0,0) or flagged invalid loses its position (invalid_fix);
//  - a fix identical to the previous fix is a stale re-report and loses its position
//    (repeated_fix);
//  - implied-speed gate: a fix reached from the last accepted fix faster than the sport's
//    maximum speed loses its position (speed_outlier). When several fixes in a row are
//    rejected but agree with one another, the accepted fix was the outlier (or the device
//    jumped after a signal loss): the gate re-anchors on them (anchor recovery).
// Points without a position keep their time, heart rate and device distance, so an indoor run
// still gets time, HR and distance.
//
// Thread-safety: pure function.
#pragma once

#include <cstddef>

#include "engine/track/track.hpp"

namespace stride::engine {

// The elevations cleaning keeps, m: FIT's lowest altitude (below the Dead Sea shore, -430 m) to
// above Everest (8,849 m).
inline constexpr double kLowestElevationM = -500.0;
inline constexpr double kHighestElevationM = 9000.0;

struct CleanOptions {
  // Fastest plausible speed for the sport, m/s. Default: 0 (derive from the sport with
  // MaxSpeedForSport()).
  double max_speed_mps = 0.0;
  // Rejected fixes in a row that, when they agree with one another, replace the anchor.
  // Default: 3.
  int anchor_recovery_points = 3;
  // Vertical-speed gate: an elevation must be reachable from the last accepted one at this
  // speed, m/s, plus `elevation_noise_m`. Default: 10 (a fast cable car; runners, hikers and
  // riders stay under 2).
  double max_vertical_speed_mps = 10.0;
  // Allowance for altitude noise between two samples, m. Default: 50 (GPS altitude wanders by
  // tens of metres; a barometer by less than one).
  double elevation_noise_m = 50.0;
  // Elevations between two jumps that last this long, s, are a level of their own (the
  // altimeter was recalibrated), kept whether or not they agree with what came before.
  // Default: 30.
  double elevation_recovery_s = 30.0;
  // An untimed fix before or after the timed part joins it only when it is within this long at
  // `max_speed_mps` of the fix on the timed side of it, s; it and every fix beyond are dropped
  // otherwise (a step to another recording, or garbage). Default: 600 (10 minutes: 7.5 km for
  // a run; a saved track's vertices lie tens to hundreds of metres apart).
  double max_untimed_step_s = 600.0;
};

struct CleanReport {
  size_t raw = 0;
  size_t kept = 0;                // points left in the track
  size_t kept_with_position = 0;  // of those, with a position
  size_t no_time = 0;
  size_t untimed_beyond_jump = 0;  // of no_time: untimed fixes beyond a step no body makes
  size_t duplicate_time = 0;
  size_t non_increasing_time = 0;
  bool times_ignored = false;
  size_t retimed = 0;                    // kept, with a time interpolated along the path
  size_t interpolated_time = 0;          // untimed, kept, timed between timed neighbours
  size_t extrapolated_time = 0;          // untimed, kept, placed at the median moving speed
  size_t extrapolated_before = 0;        // of those, the first rows (the others are the last)
  double extrapolation_speed_mps = 0.0;  // that speed (0 when nothing was extrapolated)
  size_t invalid_elevation = 0;          // elevations removed (range, gate, unset zeros)
  size_t invalid_sensor = 0;             // HR, cadence, power, temperature values out of range
  size_t invalid_fix = 0;                // positions removed: out of range or null island
  size_t repeated_fix = 0;               // positions removed: stale repeats of the previous fix
  size_t speed_outlier = 0;              // positions removed by the speed gate
  size_t no_position = 0;                // points kept without a position (indoor, HR-only records)
  size_t anchor_recoveries = 0;
  double max_speed_mps = 0.0;  // the gate that was applied
  // The vertical-speed gate that was applied (all 0 when it was not: a track without times),
  // and how many of `invalid_elevation` it removed.
  double max_vertical_speed_mps = 0.0;
  double elevation_noise_m = 0.0;
  double elevation_recovery_s = 0.0;
  size_t elevation_jumps = 0;
};

// Fastest plausible speed (m/s) for a sport: run 12.5, walk 7, hike 7, ride 35, swim 5,
// unknown/other 50.
double MaxSpeedForSport(Sport sport);

// Cleans `track` in place and reports what it removed.
CleanReport Clean(Track& track, const CleanOptions& options = {});

}  // namespace stride::engine
