// SPDX-License-Identifier: Apache-2.0
//
// A recording of a known walk, for map-matching ground truth: fixes along a line at a steady
// speed every `interval_s`, with GPS error as white noise plus a slowly wandering offset (a
// first-order Gauss-Markov process, correlation time `wander_tau_s`), and optional dropouts.
// Seeded: the same inputs give the same fixes.
//
// Thread-safety: a pure function.
//
//   std::vector<MatchPoint> fixes = datasets::RecordWalk(line, WalkRecording{.interval_s = 5});
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <vector>

#include "engine/geo/geodesy.hpp"
#include "engine/route/route.hpp"
#include "engine/trail/match.hpp"

namespace stride::datasets {

struct WalkRecording {
  double speed_mps = 3.0;
  double interval_s = 1.0;
  double white_m = 3.0;   // standard deviation per axis
  double wander_m = 3.0;  // stationary standard deviation per axis
  double wander_tau_s = 60.0;
  double dropout = 0.0;  // share of fixes lost
  uint64_t seed = 1;
};

inline std::vector<engine::trail::MatchPoint> RecordWalk(const std::vector<engine::PointE7>& line,
                                                         const WalkRecording& w) {
  std::vector<engine::trail::MatchPoint> out;
  if (line.size() < 2) return out;
  std::mt19937_64 rng(w.seed);
  std::normal_distribution<double> n01(0, 1);
  std::uniform_real_distribution<double> u(0, 1);
  const double a = std::exp(-w.interval_s / w.wander_tau_s);
  const double drive = w.wander_m * std::sqrt(1 - a * a);
  double ex = w.wander_m * n01(rng), ey = w.wander_m * n01(rng);
  size_t seg = 0;
  double seg_start = 0;  // metres along the line where `seg` begins
  auto seg_len = [&](size_t k) {
    return engine::SegmentDistanceM(line[k].lat * 1e-7, line[k].lon * 1e-7, line[k + 1].lat * 1e-7,
                                    line[k + 1].lon * 1e-7);
  };
  double len = seg_len(0);
  const double m_per_e7_lat = 0.011132;
  for (double t = 0;; t += w.interval_s) {
    const double at = w.speed_mps * t;
    while (seg + 1 < line.size() - 1 && at > seg_start + len) {
      seg_start += len;
      ++seg;
      len = seg_len(seg);
    }
    const bool end = at >= seg_start + len && seg + 2 >= line.size();
    const double f = end ? 1.0 : (len > 0 ? std::clamp((at - seg_start) / len, 0.0, 1.0) : 0.0);
    const engine::PointE7 p0 = line[seg], p1 = line[seg + 1];
    ex = a * ex + drive * n01(rng);
    ey = a * ey + drive * n01(rng);
    const double dx = ex + w.white_m * n01(rng), dy = ey + w.white_m * n01(rng);
    const double lat = p0.lat + f * (p1.lat - p0.lat) + dy / m_per_e7_lat;
    const double cos_lat = std::cos(p0.lat * 1e-7 * engine::kDegToRad);
    const double lon = p0.lon + f * (p1.lon - p0.lon) + dx / (m_per_e7_lat * cos_lat);
    if (out.empty() || end || u(rng) >= w.dropout) {
      out.push_back(
          {t, {static_cast<int32_t>(std::lround(lat)), static_cast<int32_t>(std::lround(lon))}});
    }
    if (end) break;
  }
  return out;
}

// Metres of the true walk that the match put on the right edges (the same edge, overlapping
// offsets), against the true walk's length.
inline double RightMetres(const engine::trail::Path& truth, const engine::trail::MatchResult& m) {
  std::map<uint32_t, std::vector<std::pair<double, double>>> got;
  for (const engine::trail::MatchedEdge& e : m.edges) {
    got[e.edge].emplace_back(std::min(e.from_m, e.to_m), std::max(e.from_m, e.to_m));
  }
  double right = 0;
  for (const engine::trail::Step& s : truth.steps) {
    auto it = got.find(s.edge);
    if (it == got.end()) continue;
    const double lo = std::min(s.from_m, s.to_m), hi = std::max(s.from_m, s.to_m);
    // Union of the matched intervals, clipped to the true one.
    std::vector<std::pair<double, double>> iv = it->second;
    std::sort(iv.begin(), iv.end());
    double cur_lo = -1, cur_hi = -1;
    for (const auto& [a, b] : iv) {
      if (a > cur_hi) {
        if (cur_hi > cur_lo) right += std::max(0.0, std::min(hi, cur_hi) - std::max(lo, cur_lo));
        cur_lo = a;
        cur_hi = b;
      } else {
        cur_hi = std::max(cur_hi, b);
      }
    }
    if (cur_hi > cur_lo) right += std::max(0.0, std::min(hi, cur_hi) - std::max(lo, cur_lo));
  }
  return right;
}

}  // namespace stride::datasets
