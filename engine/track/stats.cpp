// SPDX-License-Identifier: Apache-2.0
#include "engine/track/stats.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace stride::engine {

double MinettiCost(double grade) {
  const double i = std::clamp(grade, -0.45, 0.45);
  return (((((155.4 * i - 30.4) * i - 43.3) * i + 46.3) * i + 19.5) * i) + 3.6;
}

GradeAxes ComputeGrades(const Track& t, const TrackAxes& a, double half_window_m) {
  const size_t n = t.size();
  GradeAxes g;
  g.grade.assign(n, kNaN);
  g.cum_adjusted_m.assign(n, 0.0);
  // Profile of points with elevation, over active distance.
  std::vector<size_t> idx;
  for (size_t i = 0; i < n; ++i) {
    if (!std::isnan(t.ele_m[i])) idx.push_back(i);
  }
  auto ele_at = [&](double d, size_t& cursor) {
    // Linear interpolation of elevation at distance d; cursor moves forward only.
    while (cursor + 1 < idx.size() && a.cum_m[idx[cursor + 1]] < d) ++cursor;
    if (cursor + 1 >= idx.size()) return t.ele_m[idx.back()];
    const size_t i0 = idx[cursor], i1 = idx[cursor + 1];
    const double d0 = a.cum_m[i0], d1 = a.cum_m[i1];
    if (d <= d0) return t.ele_m[i0];
    const double f = d1 > d0 ? (d - d0) / (d1 - d0) : 1.0;
    return t.ele_m[i0] + f * (t.ele_m[i1] - t.ele_m[i0]);
  };
  const double cost0 = MinettiCost(0);
  if (idx.size() >= 2) {
    const double total = a.cum_m.back();
    size_t c_lo = 0, c_hi = 0;
    double abs_sum = 0, abs_w = 0;
    for (size_t i = 1; i < n; ++i) {
      const double mid = 0.5 * (a.cum_m[i - 1] + a.cum_m[i]);
      const double lo = std::max(0.0, mid - half_window_m);
      const double hi = std::min(total, mid + half_window_m);
      if (hi - lo > 1.0) {
        g.grade[i] = (ele_at(hi, c_hi) - ele_at(lo, c_lo)) / (hi - lo);
        const double step = a.cum_m[i] - a.cum_m[i - 1];
        abs_sum += std::fabs(g.grade[i]) * step;
        abs_w += step;
      }
    }
    if (abs_w > 0) g.avg_grade = abs_sum / abs_w;
    // Steepest 100 m.
    size_t c0 = 0, c1 = 0;
    double best = -1;
    for (double d = 0; d + 100.0 <= total; d += 10.0) {
      best = std::max(best, (ele_at(d + 100.0, c1) - ele_at(d, c0)) / 100.0);
    }
    if (best >= 0) g.max_grade = best;
  }
  for (size_t i = 1; i < n; ++i) {
    const double step = a.cum_m[i] - a.cum_m[i - 1];
    const double factor = std::isnan(g.grade[i]) ? 1.0 : MinettiCost(g.grade[i]) / cost0;
    g.cum_adjusted_m[i] = g.cum_adjusted_m[i - 1] + (a.moving[i] ? step * factor : 0.0);
  }
  return g;
}

HrZones ZonesFromMaxHr(double max_hr_bpm, std::string method) {
  HrZones z;
  z.max_hr_bpm = max_hr_bpm;
  z.lower_bounds_bpm = {0.6 * max_hr_bpm, 0.7 * max_hr_bpm, 0.8 * max_hr_bpm, 0.9 * max_hr_bpm};
  z.method = std::move(method);
  return z;
}

HeartRateStats ComputeHeartRate(const Track& t, const TrackAxes& a, const HrZones& zones,
                                double rest_hr) {
  HeartRateStats s;
  double sum = 0, w = 0, trimp = 0;
  const double hrmax = zones.max_hr_bpm;
  for (size_t i = 1; i < t.size(); ++i) {
    const double hr = t.hr_bpm[i];
    if (std::isnan(hr) || hr <= 0) continue;
    s.max_bpm = std::isnan(s.max_bpm) ? hr : std::max(s.max_bpm, hr);
    const double dt = a.cum_timer_s[i] - a.cum_timer_s[i - 1];
    if (!(dt > 0)) continue;
    sum += hr * dt;
    w += dt;
    int zone = 0;
    while (zone < 4 && hr >= zones.lower_bounds_bpm[static_cast<size_t>(zone)]) ++zone;
    s.zones_s[static_cast<size_t>(zone)] += dt;
    if (hrmax > rest_hr) {
      const double hrr = std::clamp((hr - rest_hr) / (hrmax - rest_hr), 0.0, 1.0);
      trimp += dt / 60.0 * hrr * 0.64 * std::exp(1.92 * hrr);
    }
  }
  if (w > 0) {
    s.avg_bpm = sum / w;
    s.trimp = trimp;
  }
  return s;
}

std::vector<BestEffort> ComputeBestEfforts(const TrackAxes& a) {
  static const std::pair<const char*, double> kDistances[] = {
      {"400m", 400.0},   {"1k", 1000.0},     {"1mile", 1609.344}, {"5k", 5000.0},
      {"10k", 10000.0},  {"half", 21097.5},  {"marathon", 42195.0}};
  std::vector<BestEffort> out;
  const size_t n = a.cum_m.size();
  if (n < 2) return out;
  const auto& D = a.cum_m;
  const auto& T = a.cum_timer_s;
  for (const auto& [name, dist] : kDistances) {
    if (D.back() < dist) break;
    double best = -1, best_start = 0;
    size_t j = 0;
    for (size_t i = 0; i < n; ++i) {
      // Starting later at the same distance is never slower: skip points that did not move.
      if (i + 1 < n && D[i + 1] == D[i]) continue;
      const double target = D[i] + dist;
      if (target > D.back()) break;
      if (j < i) j = i;
      while (j < n && D[j] < target) ++j;
      if (j >= n) break;
      // The target lies past point j-1, so the effort takes at least T[j-1] - T[i]: most starts
      // are rejected here, without the division below.
      if (best > 0 && T[j - 1] - T[i] >= best) continue;
      // Time at the exact target distance, inside interval j.
      const double d0 = D[j - 1], d1 = D[j];
      const double f = d1 > d0 ? (target - d0) / (d1 - d0) : 1.0;
      const double tt = T[j - 1] + f * (T[j] - T[j - 1]);
      const double effort = tt - T[i];
      if (effort > 0 && (best < 0 || effort < best)) {
        best = effort;
        best_start = D[i];
      }
    }
    if (best > 0) out.push_back({name, dist, best, best_start});
  }
  return out;
}

}  // namespace stride::engine
