// SPDX-License-Identifier: Apache-2.0
#include "engine/track/stats.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "engine/track/detail/median.hpp"

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
  // Profile: the points with elevation, over active distance.
  std::vector<size_t> idx;
  idx.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (!std::isnan(t.ele_m[i])) idx.push_back(i);
  }
  const double cost0 = MinettiCost(0);
  if (idx.size() >= 2) {
    // Grade of interval i: over the profile points that bracket its midpoint +- the half
    // window (two forward pointers, one division).
    size_t lo = 0, hi = 0;
    double abs_sum = 0, abs_w = 0;
    for (size_t i = 1; i < n; ++i) {
      const double mid = 0.5 * (a.cum_m[i - 1] + a.cum_m[i]);
      while (lo + 1 < idx.size() && a.cum_m[idx[lo + 1]] <= mid - half_window_m) ++lo;
      if (hi < lo) hi = lo;
      while (hi + 1 < idx.size() && a.cum_m[idx[hi]] < mid + half_window_m) ++hi;
      const double dd = a.cum_m[idx[hi]] - a.cum_m[idx[lo]];
      if (dd > 1.0) {
        g.grade[i] = (t.ele_m[idx[hi]] - t.ele_m[idx[lo]]) / dd;
        const double step = a.cum_m[i] - a.cum_m[i - 1];
        abs_sum += std::fabs(g.grade[i]) * step;
        abs_w += step;
      }
    }
    if (abs_w > 0) g.avg_grade = abs_sum / abs_w;
    // Steepest 100 m uphill: from each profile point to the first at least 100 m further.
    double best = -1;
    for (size_t p = 0, q = 0; p < idx.size(); ++p) {
      if (q < p) q = p;
      while (q + 1 < idx.size() && a.cum_m[idx[q]] - a.cum_m[idx[p]] < 100.0) ++q;
      const double dd = a.cum_m[idx[q]] - a.cum_m[idx[p]];
      if (dd < 100.0) break;
      best = std::max(best, (t.ele_m[idx[q]] - t.ele_m[idx[p]]) / dd);
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

namespace {

constexpr std::pair<const char*, double> kDistances[] = {
    {"400m", 400.0},  {"1k", 1000.0},    {"1mile", 1609.344},  {"5k", 5000.0},
    {"10k", 10000.0}, {"half", 21097.5}, {"marathon", 42195.0}};
constexpr size_t kCount = sizeof(kDistances) / sizeof(kDistances[0]);

// The fastest time of each distance over points [lo, hi) of D (metres) and T (seconds),
// where it beats `best` (-1: none yet); `best_start` gets where it starts.
void BestEffortsIn(const std::vector<double>& D, const std::vector<double>& T, size_t lo, size_t hi,
                   std::array<double, kCount>& best, std::array<double, kCount>& best_start) {
  if (hi < lo + 2) return;
  const double end = D[hi - 1];
  size_t m = 0;  // distances the stretch is long enough for
  while (m < kCount && end - D[lo] >= kDistances[m].second) ++m;
  // One pass over the starts with a forward pointer per distance.
  std::array<size_t, kCount> j{};
  for (size_t i = lo; i < hi && m > 0; ++i) {
    // Starting later at the same distance is never slower: skip points that did not move.
    if (i + 1 < hi && D[i + 1] == D[i]) continue;
    for (size_t k = 0; k < m; ++k) {
      const double target = D[i] + kDistances[k].second;
      if (target > end) {
        m = k;  // longer distances cannot fit either, now or later
        break;
      }
      size_t& jk = j[k];
      if (jk < i) jk = i;
      while (D[jk] < target) ++jk;  // stops by D[hi - 1] >= target
      // The target lies past point jk-1, so the effort takes at least T[jk-1] - T[i]: most
      // starts are rejected here, without the division below.
      if (best[k] > 0 && T[jk - 1] - T[i] >= best[k]) continue;
      const double d0 = D[jk - 1], d1 = D[jk];
      const double f = d1 > d0 ? (target - d0) / (d1 - d0) : 1.0;
      const double effort = T[jk - 1] + f * (T[jk] - T[jk - 1]) - T[i];
      if (effort > 0 && (best[k] < 0 || effort < best[k])) {
        best[k] = effort;
        best_start[k] = D[i];
      }
    }
  }
}

// For each point i, with j the latest point at least `window_s` active seconds (`T`) before
// it: `visit(j, i, T[i] - T[j])`. One pass, however many windows.
template <typename Visit>
void ForEachWindow(const std::vector<double>& T, size_t n, double window_s, Visit visit) {
  size_t j = 0;
  for (size_t i = 1; i < n; ++i) {
    while (j + 1 < i && T[i] - T[j + 1] >= window_s) ++j;
    if (const double dt = T[i] - T[j]; dt >= window_s) visit(j, i, dt);
  }
}

// ForEachWindow, and when `breaks(j, i, dt)`, the window's steps j+1 .. i are marked in
// `marks` (+1 where they begin, -1 past their end; n + 1 entries).
template <typename Breaks>
void MarkWindows(const std::vector<double>& T, size_t n, double window_s, std::vector<int>* marks,
                 Breaks breaks) {
  ForEachWindow(T, n, window_s, [&](size_t j, size_t i, double dt) {
    if (breaks(j, i, dt)) {
      ++(*marks)[j + 1];
      --(*marks)[i + 1];
    }
  });
}

// The steps inside any window MarkWindows marked, as `size` flags (none past the marks).
std::vector<char> MarkedSteps(const std::vector<int>& marks, size_t size) {
  std::vector<char> out(size, 0);
  int open = 0;
  for (size_t i = 0; i + 1 < marks.size() && i < size; ++i) {
    open += marks[i];
    out[i] = open > 0;
  }
  return out;
}

}  // namespace

std::vector<char> FastSteps(const TrackAxes& a, std::span<const SpeedBar> bars) {
  const std::vector<double>& D = a.cum_m;
  const size_t n = D.size();
  std::vector<int> marks(n + 1, 0);
  for (const SpeedBar& bar : bars) {
    MarkWindows(a.cum_timer_s, n, bar.window_s, &marks,
                [&](size_t j, size_t i, double dt) { return D[i] - D[j] >= bar.ceiling_mps * dt; });
  }
  return MarkedSteps(marks, n);
}

std::vector<char> FasterThanRunningSteps(const TrackAxes& a) {
  return FastSteps(a, kRunningRecords);
}

std::vector<char> StridelessSteps(const Track& t, const TrackAxes& a, const StridelessOptions& o) {
  const std::vector<double>& D = a.cum_m;
  const size_t n = std::min(D.size(), t.cadence_rpm.size());
  // Prefix counts over points: with a cadence, and with a cadence of zero.
  std::vector<uint32_t> known(n + 1, 0), zero(n + 1, 0);
  size_t stepping = 0;
  for (size_t i = 0; i < n; ++i) {
    const double c = t.cadence_rpm[i];
    known[i + 1] = known[i] + !std::isnan(c);
    zero[i + 1] = zero[i] + (c == 0);
    stepping += c >= o.stepping_rpm;
  }
  std::vector<int> marks(n + 1, 0);
  if (n > 0 && static_cast<double>(stepping) >= o.stepping_share * static_cast<double>(n)) {
    MarkWindows(a.cum_timer_s, n, o.window_s, &marks, [&](size_t j, size_t i, double dt) {
      // The window's points are j+1 .. i.
      const uint32_t with = known[i + 1] - known[j + 1], zeros = zero[i + 1] - zero[j + 1];
      return D[i] - D[j] >= o.min_speed_mps * dt && with >= o.min_points &&
             zeros >= o.zero_share * with;
    });
  }
  return MarkedSteps(marks, D.size());
}

std::vector<char> RestingHeartSteps(const Track& t, const TrackAxes& a,
                                    const RestingHeartOptions& o) {
  const std::vector<double>& D = a.cum_m;
  const std::vector<double>& T = a.cum_timer_s;
  const size_t n = std::min({D.size(), T.size(), t.hr_bpm.size()});
  // Prefix sums over points: how many have a heart rate, and its total.
  std::vector<uint32_t> known(n + 1, 0);
  std::vector<double> sum(n + 1, 0);
  std::vector<double> hearts;
  hearts.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const double hr = t.hr_bpm[i];
    const bool ok = hr > 0;  // NaN and 0 (no strap) are no reading
    known[i + 1] = known[i] + ok;
    sum[i + 1] = sum[i] + (ok ? hr : 0);
    if (ok) hearts.push_back(hr);
  }
  std::vector<int> marks(n + 1, 0);
  if (n < 2 || static_cast<double>(hearts.size()) < o.hr_share * static_cast<double>(n)) {
    return MarkedSteps(marks, D.size());
  }
  const double median_hr = detail::Median(std::move(hearts));
  std::vector<double> speeds;
  ForEachWindow(T, n, o.window_s, [&](size_t j, size_t i, double dt) {
    if (const double v = (D[i] - D[j]) / dt; v >= 1.0) speeds.push_back(v);
  });
  if (speeds.empty()) return MarkedSteps(marks, D.size());
  const double fast = std::max(o.min_speed_mps, o.over_median * detail::Median(std::move(speeds)));
  const double resting = median_hr - o.hr_drop_bpm;
  MarkWindows(T, n, o.window_s, &marks, [&](size_t j, size_t i, double dt) {
    // The window's points are j+1 .. i.
    const uint32_t with = known[i + 1] - known[j + 1];
    const size_t points = i - j;
    return D[i] - D[j] >= fast * dt && with >= o.min_points &&
           static_cast<double>(with) >= o.hr_share * static_cast<double>(points) &&
           sum[i + 1] - sum[j + 1] <= resting * with;
  });
  return MarkedSteps(marks, D.size());
}

std::vector<BestEffort> ComputeBestEfforts(const TrackAxes& a, const std::vector<char>& barred) {
  std::vector<BestEffort> out;
  const size_t n = a.cum_m.size();
  std::array<double, kCount> best, best_start{};
  best.fill(-1);
  // Each stretch between barred steps on its own: no effort crosses a barred step.
  size_t lo = 0;
  for (size_t i = 1; i <= n; ++i) {
    if (i == n || (i < barred.size() && barred[i])) {
      BestEffortsIn(a.cum_m, a.cum_timer_s, lo, i, best, best_start);
      lo = i;
    }
  }
  for (size_t k = 0; k < kCount; ++k) {
    if (best[k] > 0)
      out.push_back({kDistances[k].first, kDistances[k].second, best[k], best_start[k]});
  }
  return out;
}

}  // namespace stride::engine
