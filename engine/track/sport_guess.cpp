// SPDX-License-Identifier: Apache-2.0
#include "engine/track/sport_guess.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <utility>
#include <vector>

#include "engine/geo/geodesy.hpp"

namespace stride::engine {
namespace {

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return kNaN;
  const size_t k = static_cast<size_t>(q * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

// Climbing counted in 5 m steps, so GPS altitude noise adds little.
struct StepClimb {
  double climb_m = 0;
  double last_m = kNaN;
  void Add(double ele_m) {
    if (std::isnan(ele_m)) return;
    if (std::isnan(last_m)) {
      last_m = ele_m;
    } else if (std::abs(ele_m - last_m) >= 5) {
      if (ele_m > last_m) climb_m += ele_m - last_m;
      last_m = ele_m;
    }
  }
};

std::string Kmh(double mps) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f km/h", mps * 3.6);
  return b;
}

}  // namespace

SportGuess GuessSport(const Track& t) {
  // m/s over windows of at least 10 s (consecutive, one fix to the first 10 s later), while
  // moving: at 1 s, white GPS noise of a few metres would otherwise read as sprints.
  std::vector<double> moving;
  std::vector<double> cadence;
  double dist_m = 0;
  StepClimb climb;
  double first_time = kNaN, last_time = kNaN;
  size_t prev = SIZE_MAX, anchor = SIZE_MAX;
  size_t seg = 0;
  // Per-step distances without a sine and cosine each (two thirds of the guess's time on the
  // shared GPX files went to SegmentDistanceM).
  std::optional<TrackGeodesy> geo;
  for (size_t i = 0; i < t.size(); ++i) {
    if (seg + 1 < t.segment_starts.size() && t.segment_starts[seg + 1] == i) {
      ++seg;
      prev = anchor = SIZE_MAX;  // no step across a gap between recorded segments
    }
    if (!std::isnan(t.time_s[i])) {
      if (std::isnan(first_time)) first_time = t.time_s[i];
      last_time = t.time_s[i];
    }
    if (t.cadence_rpm[i] > 0) cadence.push_back(t.cadence_rpm[i]);
    if (!t.has_position(i)) continue;
    climb.Add(t.ele_m[i]);
    if (!geo) geo.emplace(t.lat_deg[i]);
    if (prev != SIZE_MAX) {
      const double d = geo->DistanceM(t.lat_deg[prev], t.lon_deg[prev], t.lat_deg[i], t.lon_deg[i]);
      const double dt = t.time_s[i] - t.time_s[prev];
      if (dt > 0 && dt <= 300 && d / dt < 60) dist_m += d;
    }
    prev = i;
    if (std::isnan(t.time_s[i])) continue;
    if (anchor == SIZE_MAX) {
      anchor = i;
    } else if (const double dt = t.time_s[i] - t.time_s[anchor]; dt >= 10) {
      const double v = dt <= 300 ? geo->DistanceM(t.lat_deg[anchor], t.lon_deg[anchor],
                                                  t.lat_deg[i], t.lon_deg[i]) /
                                       dt
                                 : 0;
      if (v > 0.5 && v < 60) moving.push_back(v);
      anchor = i;
    }
  }
  // A recording without positions (a trainer, a treadmill, a watch with its GPS off) moves
  // by its device's distance: the same windows over that axis, and climbing counted on its
  // altitude alone. (WithGearChangeData.fit of the shared data, 12.5 km at 22.7 km/h with
  // gear changes, was "too little timed motion to tell, run assumed".)
  std::string axis;
  if (moving.size() < 5) {
    std::vector<double> device;
    double device_m = 0;
    StepClimb device_climb;
    size_t from = SIZE_MAX;
    for (size_t i = 0; i < t.size(); ++i) {
      device_climb.Add(t.ele_m[i]);
      if (std::isnan(t.time_s[i]) || !std::isfinite(t.distance_m[i])) continue;
      if (from == SIZE_MAX) {
        from = i;
        continue;
      }
      const double dt = t.time_s[i] - t.time_s[from];
      if (dt < 10) continue;
      const double d = t.distance_m[i] - t.distance_m[from];
      if (dt <= 300 && d >= 0 && d / dt < 60) {
        device_m += d;
        if (d / dt > 0.5) device.push_back(d / dt);
      }
      from = i;
    }
    if (device.size() >= 5) {
      moving = std::move(device);
      dist_m = device_m;
      climb = device_climb;
      axis = "; by the device's distance: no positions";
    }
  }
  SportGuess g;
  if (moving.size() < 5) {
    g.why = "inferred: too little timed motion to tell, run assumed";
    return g;
  }
  double med = Quantile(moving, 0.5), p90 = Quantile(moving, 0.9);
  const bool has_cadence = cadence.size() * 20 >= t.size();  // on 5 % of points or more
  double cad = has_cadence ? Quantile(cadence, 0.5) : kNaN;
  // A walk with a ride in it (a bus, a car or a lift between two walks): stretches at walking
  // pace and at vehicle speed, and next to none at running pace between them. Judged on the
  // walking ones alone, when those are a walk; the reason says how many were left out.
  // (A cerknicko-jezero.gpx of the shared data: 59 min walking, 7 at 24-28 km/h, "a run".)
  std::string carried;
  {
    constexpr double kWalkingTop = 2.2, kVehicle = kVehicleSpeedMps;  // m/s: 7.9, 19.8 km/h
    std::vector<double> walking;
    size_t vehicle = 0;
    for (double v : moving) {
      if (v < kWalkingTop) walking.push_back(v);
      vehicle += v >= kVehicle;
    }
    const size_t running = moving.size() - walking.size() - vehicle;
    if (vehicle > 0 && walking.size() >= 2 * vehicle && running * 10 < moving.size() &&
        walking.size() >= 5) {
      const double wmed = Quantile(walking, 0.5), wp90 = Quantile(walking, 0.9);
      const double wcad = has_cadence && cad > 100 ? cad / 2 : cad;
      if (wmed < 1.5 && wp90 < kWalkingTop && (!has_cadence || wcad < 60)) {
        char note[128];
        std::snprintf(note, sizeof note,
                      "; %zu of %zu moving stretches at vehicle speed (%s or more) left out",
                      vehicle, moving.size(), Kmh(kVehicle).c_str());
        carried = note;
        med = wmed;
        p90 = wp90;
      }
    }
  }
  const std::string speeds = "median " + Kmh(med) + ", 90 % under " + Kmh(p90) + carried + axis;
  char buf[96];
  if (has_cadence && cad >= 10 && cad <= 42 && med < 2.5) {
    std::snprintf(buf, sizeof buf, ", a stroke rate of %.0f/min", cad);
    g.sport = Sport::kSwim;
    g.why = "inferred: swimming (" + speeds + buf + ")";
    return g;
  }
  if (med > 4.0 || (p90 > 5.4 && med > 2.0)) {
    g.sport = Sport::kRide;
    g.why = "inferred: riding speed (" + speeds + ")";
    return g;
  }
  // Steps a minute per leg: some devices write both legs' count.
  if (has_cadence && cad > 100) cad /= 2;
  const bool walking_cadence = !has_cadence || cad < 60;
  if (med < 1.5 && p90 < 2.2 && walking_cadence) {
    g.walking_pace = true;
    g.walking_detail = "walking pace (" + speeds;
    if (has_cadence) {
      std::snprintf(buf, sizeof buf, ", cadence %.0f/min", cad);
      g.walking_detail += buf;
    }
    DecideWalkOrHike(&g, climb.climb_m, dist_m, last_time - first_time);
    return g;
  }
  g.why = "inferred: running pace (" + speeds;
  if (has_cadence) {
    std::snprintf(buf, sizeof buf, ", cadence %.0f/min", cad);
    g.why += buf;
  }
  g.why += ")";
  return g;
}

void DecideWalkOrHike(SportGuess* g, double climb_m, double distance_m, double duration_s,
                      double moving_s) {
  if (!g->walking_pace) return;
  const double hours = std::isnan(duration_s) ? 0 : duration_s / 3600;
  const double climb_per_km =
      distance_m > 0 && !std::isnan(climb_m) ? climb_m / (distance_m / 1000) : 0;
  char buf[200];
  if (moving_s > 0 && climb_m >= kRunnersClimbM &&
      climb_m / (moving_s / 3600) >= kRunnersClimbMPerHour) {
    std::snprintf(buf, sizeof buf,
                  "), climbing %.0f m in %.1f h moving: %.0f m an hour, faster than hikers climb "
                  "(Naismith: %.0f), a mountain runner's",
                  climb_m, moving_s / 3600, climb_m / (moving_s / 3600), kRunnersClimbMPerHour);
    g->sport = Sport::kRun;
    g->why = "inferred: " + g->walking_detail + buf;
    return;
  }
  std::snprintf(buf, sizeof buf, "), climbing %.0f m/km over %.1f h", climb_per_km, hours);
  g->sport = climb_per_km >= 40 || hours > 2 ? Sport::kHike : Sport::kWalk;
  g->why = "inferred: " + g->walking_detail + buf;
}

}  // namespace stride::engine
