// SPDX-License-Identifier: Apache-2.0
#include "engine/track/track.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

namespace stride::engine {

std::string_view SportName(Sport sport) {
  switch (sport) {
    case Sport::kUnknown:
      return "unknown";
    case Sport::kRun:
      return "run";
    case Sport::kWalk:
      return "walk";
    case Sport::kHike:
      return "hike";
    case Sport::kRide:
      return "ride";
    case Sport::kSwim:
      return "swim";
    case Sport::kOther:
      return "other";
  }
  return "unknown";
}

Sport ParseSport(std::string_view word) {
  std::string w;
  for (char c : word) {
    if (!std::isspace(static_cast<unsigned char>(c)))
      w.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  static const std::array<std::pair<std::string_view, Sport>, 24> kWords = {{
      {"run", Sport::kRun},
      {"running", Sport::kRun},
      {"trailrunning", Sport::kRun},
      {"trail_running", Sport::kRun},
      {"treadmill", Sport::kRun},
      {"jogging", Sport::kRun},
      {"walk", Sport::kWalk},
      {"walking", Sport::kWalk},
      {"hike", Sport::kHike},
      {"hiking", Sport::kHike},
      {"mountaineering", Sport::kHike},
      {"trekking", Sport::kHike},
      {"ride", Sport::kRide},
      {"cycling", Sport::kRide},
      {"biking", Sport::kRide},
      {"bike", Sport::kRide},
      {"mountainbiking", Sport::kRide},
      {"roadcycling", Sport::kRide},
      {"swim", Sport::kSwim},
      {"swimming", Sport::kSwim},
      {"transition", Sport::kOther},
      {"other", Sport::kOther},
      {"fitness_equipment", Sport::kOther},
      {"rowing", Sport::kOther},
  }};
  for (const auto& [name, sport] : kWords) {
    if (w == name) return sport;
  }
  return Sport::kUnknown;
}

std::string_view AltitudeSourceName(AltitudeSource s) {
  switch (s) {
    case AltitudeSource::kUnknown:
      return "unknown";
    case AltitudeSource::kBarometric:
      return "barometric";
    case AltitudeSource::kGps:
      return "gps";
    case AltitudeSource::kDem:
      return "dem";
  }
  return "unknown";
}

void Track::Append(const TrackPoint& p) {
  if (time_s.empty() && segment_starts.empty()) segment_starts.push_back(0);
  time_s.push_back(p.time_s);
  lat_deg.push_back(p.lat_deg);
  lon_deg.push_back(p.lon_deg);
  ele_m.push_back(p.ele_m);
  hr_bpm.push_back(p.hr_bpm);
  cadence_rpm.push_back(p.cadence_rpm);
  speed_mps.push_back(p.speed_mps);
  power_w.push_back(p.power_w);
  distance_m.push_back(p.distance_m);
  temperature_c.push_back(p.temperature_c);
  gps_accuracy_m.push_back(p.gps_accuracy_m);
}

void Track::Reserve(size_t n) {
  for (auto* v : {&time_s, &lat_deg, &lon_deg, &ele_m, &hr_bpm, &cadence_rpm, &speed_mps, &power_w,
                  &distance_m, &temperature_c, &gps_accuracy_m}) {
    v->reserve(n);
  }
}

void Track::StartSegment() {
  const auto next = static_cast<uint32_t>(size());
  if (segment_starts.empty() || segment_starts.back() != next) segment_starts.push_back(next);
}

TrackPoint Track::PointAt(size_t i) const {
  TrackPoint p;
  p.time_s = time_s[i];
  p.lat_deg = lat_deg[i];
  p.lon_deg = lon_deg[i];
  p.ele_m = ele_m[i];
  p.hr_bpm = hr_bpm[i];
  p.cadence_rpm = cadence_rpm[i];
  p.speed_mps = speed_mps[i];
  p.power_w = power_w[i];
  p.distance_m = distance_m[i];
  p.temperature_c = temperature_c[i];
  p.gps_accuracy_m = gps_accuracy_m[i];
  return p;
}

size_t Track::CountWithPosition() const {
  size_t n = 0;
  for (size_t i = 0; i < size(); ++i) n += has_position(i) ? 1 : 0;
  return n;
}

std::optional<TrackBounds> PositionBounds(const Track& t) {
  std::optional<TrackBounds> box;
  for (size_t i = 0; i < t.size(); ++i) {
    if (!t.has_position(i)) continue;
    const double lat = t.lat_deg[i], lon = t.lon_deg[i];
    if (!box) {
      box = TrackBounds{lat, lon, lat, lon};
      continue;
    }
    box->min_lat = std::min(box->min_lat, lat);
    box->max_lat = std::max(box->max_lat, lat);
    box->min_lon = std::min(box->min_lon, lon);
    box->max_lon = std::max(box->max_lon, lon);
  }
  return box;
}

bool Track::HasTimes() const {
  return std::any_of(time_s.begin(), time_s.end(), [](double t) { return !std::isnan(t); });
}

}  // namespace stride::engine
