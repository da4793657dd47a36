// SPDX-License-Identifier: Apache-2.0
//
// Small hand-made tracks with obvious answers for the engine's unit tests.
#pragma once

#include <cmath>

#include "engine/geo/geodesy.hpp"
#include "engine/track/track.hpp"

namespace stride::testing {

// `seconds + 1` points, one a second from `t0`, due north at `speed_mps` from 45N 6E, at a
// constant heart rate, climbing at `grade` from 200 m.
inline engine::Track StraightRun(int seconds, double speed_mps, double hr_bpm = 150,
                                 double grade = 0.0, double t0 = 1000.0) {
  engine::Track t;
  t.sport = engine::Sport::kRun;
  const engine::LocalPlane plane(45.0, 6.0);
  for (int i = 0; i <= seconds; ++i) {
    engine::TrackPoint p;
    p.time_s = t0 + i;
    plane.ToDegrees(0, speed_mps * i, &p.lat_deg, &p.lon_deg);
    p.ele_m = 200 + grade * speed_mps * i;
    p.hr_bpm = hr_bpm;
    t.Append(p);
  }
  return t;
}

// Due north from 45N 6E, a fix a second for `seconds` s, at `speed(second)` m/s.
template <typename Speed>
engine::Track North(engine::Sport sport, int seconds, Speed speed) {
  engine::Track t;
  t.sport = sport;
  const engine::LocalPlane plane(45.0, 6.0);
  double y = 0;
  for (int i = 0; i <= seconds; ++i) {
    engine::TrackPoint p;
    p.time_s = i;
    plane.ToDegrees(0, y, &p.lat_deg, &p.lon_deg);
    t.Append(p);
    y += speed(i);
  }
  return t;
}

// A run with a car ride in it, a fix a second: 3 km at 4:10 /km (750 s), 1.5 km at 30 km/h
// (180 s), 2 km at 4:10 /km (500 s).
inline engine::Track RunCarRun() {
  return North(engine::Sport::kRun, 1430,
               [](int i) { return (i >= 750 && i < 930) ? 1500.0 / 180.0 : 1000.0 / 250.0; });
}

// A run with a bus ride in it, a fix a second, the watch counting steps: 3 km at 4:10 /km at
// 88 steps a minute (750 s), 20 km/h on the bus for 10 min with a 30 s stop halfway, cadence
// 0 (3,333 m), 2 km at 4:10 /km at 88 (500 s). `ride_cadence` is what the watch wrote on the
// bus; `run_cadence`, while running.
inline engine::Track RunBusRun(double ride_cadence = 0, double run_cadence = 88) {
  engine::Track t = North(engine::Sport::kRun, 1880, [](int i) {
    if (i >= 750 && i < 1380) return (i >= 1050 && i < 1080) ? 0.0 : 20 / 3.6;
    return 1000.0 / 250.0;
  });
  for (size_t i = 0; i < t.size(); ++i) {
    t.cadence_rpm[i] = (i > 750 && i <= 1380) ? ride_cadence : run_cadence;
  }
  return t;
}

// RunBusRun(ride_cadence, run_cadence) with a chest strap: 158 bpm while running; on the bus
// the heart falls towards 88 (time constant 40 s), and back on foot it climbs back (30 s).
inline engine::Track RunBusRunWithHeart(double ride_cadence = engine::kNaN,
                                        double run_cadence = engine::kNaN) {
  engine::Track t = RunBusRun(ride_cadence, run_cadence);
  double hr = 158;
  for (size_t i = 0; i < t.size(); ++i) {
    const bool riding = i > 750 && i <= 1380;
    hr += ((riding ? 88.0 : 158.0) - hr) / (riding ? 40.0 : 30.0);
    t.hr_bpm[i] = std::round(hr);
  }
  return t;
}

}  // namespace stride::testing
