// SPDX-License-Identifier: Apache-2.0
#include "engine/track/smooth.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "engine/geo/geodesy.hpp"
#include "engine/track/detail/median.hpp"

namespace stride::engine {
namespace {

struct Cov {
  double a, b, d;  // symmetric 2x2 [[a, b], [b, d]]
};

// One fix's worth of filter state: the step from the previous fix, the filtered state (later
// smoothed in place) and its covariance. Predictions are recomputed from the previous step
// when the backward pass needs them, so a step is 64 bytes, not 160: the pass is bound by
// memory traffic, not arithmetic.
struct Step {
  double dt;
  double x, vx, y, vy;
  Cov pf;
};

// P' = F P F' + Q for F = [[1, h], [0, 1]], Q = q [[h^3/3, h^2/2], [h^2/2, h]].
inline Cov Predict(const Cov& P, double h, double q) {
  return {P.a + 2 * h * P.b + h * h * P.d + q * h * h * h / 3.0, P.b + h * P.d + q * h * h / 2.0,
          P.d + q * h};
}

// q for a step of h seconds: beyond 5 s it grows with the interval, on top of the model's
// h^3, as a walker sampled every 30 s may have turned any way in between (a hairpin every
// 130 s on switchbacks): the filter then follows the fixes and cuts no corner.
inline double SparseQ(double q, double h) {
  return q * std::max(1.0, h / 5.0);
}

// Runs the filter and the RTS pass over fixes idx[lo..hi) of the track.
void SmoothRun(Track& t, const std::vector<size_t>& idx, size_t lo, size_t hi, double sigma_m,
               double accuracy_scale, const std::vector<double>& q, bool* used_accuracy) {
  const size_t n = hi - lo;
  if (n < 3) return;
  const LocalPlane plane(t.lat_deg[idx[lo]], t.lon_deg[idx[lo]]);
  auto noise = [&](size_t i) {
    const double acc = t.gps_accuracy_m[i];
    double s = sigma_m;
    if (accuracy_scale > 0 && !std::isnan(acc) && acc > 0) {
      s = std::clamp(acc * accuracy_scale, 0.3, 50.0);
      *used_accuracy = true;
    }
    return s * s;
  };
  std::vector<Step> st(n);
  // Forward pass.
  {
    Step& s0 = st[0];
    const size_t i0 = idx[lo];
    plane.ToMetres(t.lat_deg[i0], t.lon_deg[i0], &s0.x, &s0.y);
    s0.dt = 0;
    s0.vx = s0.vy = 0;
    s0.pf = {noise(i0), 0, 25.0};  // initial velocity variance (5 m/s)^2
  }
  for (size_t k = 1; k < n; ++k) {
    const Step& a = st[k - 1];
    Step& b = st[k];
    const size_t i = idx[lo + k];
    double zx, zy;
    plane.ToMetres(t.lat_deg[i], t.lon_deg[i], &zx, &zy);
    const double h = t.time_s[i] - t.time_s[idx[lo + k - 1]];
    b.dt = h;
    const Cov Pp = Predict(a.pf, h, SparseQ(q[k], h));
    const double px = a.x + h * a.vx, py = a.y + h * a.vy;
    const double inv_s = 1.0 / (Pp.a + noise(i));
    const double k0 = Pp.a * inv_s, k1 = Pp.b * inv_s;
    const double ex = zx - px, ey = zy - py;
    b.x = px + k0 * ex, b.vx = a.vx + k1 * ex;
    b.y = py + k0 * ey, b.vy = a.vy + k1 * ey;
    b.pf = {(1 - k0) * Pp.a, (1 - k0) * Pp.b, Pp.d - k1 * Pp.b};
  }
  // Backward (RTS) pass, in place: xs[k] = xf[k] + C (xs[k+1] - xp[k+1]), C = Pf F' Pp^-1,
  // with xp[k+1] and Pp[k+1] recomputed from the filtered step k (not yet overwritten).
  for (size_t kk = n - 1; kk-- > 0;) {
    Step& a = st[kk];
    const Step& b = st[kk + 1];
    const double h = b.dt;
    const Cov& P = a.pf;
    const Cov Q = Predict(P, h, SparseQ(q[kk + 1], h));
    const double m00 = P.a + h * P.b, m01 = P.b, m10 = P.b + h * P.d, m11 = P.d;  // Pf F'
    const double det = Q.a * Q.d - Q.b * Q.b;
    if (!(det > 1e-18)) continue;
    const double inv_det = 1.0 / det;
    const double i00 = Q.d * inv_det, i01 = -Q.b * inv_det, i11 = Q.a * inv_det;
    const double c00 = m00 * i00 + m01 * i01, c01 = m00 * i01 + m01 * i11;
    const double c10 = m10 * i00 + m11 * i01, c11 = m10 * i01 + m11 * i11;
    const double dxp = b.x - (a.x + h * a.vx), dxv = b.vx - a.vx;
    const double dyp = b.y - (a.y + h * a.vy), dyv = b.vy - a.vy;
    a.x += c00 * dxp + c01 * dxv;
    a.vx += c10 * dxp + c11 * dxv;
    a.y += c00 * dyp + c01 * dyv;
    a.vy += c10 * dyp + c11 * dyv;
  }
  for (size_t k = 0; k < n; ++k) {
    const size_t i = idx[lo + k];
    plane.ToDegrees(st[k].x, st[k].y, &t.lat_deg[i], &t.lon_deg[i]);
  }
}

using detail::Median;

// How much lower and higher than the sport's q the turn-following smoother goes (see the
// header); {1, 1} turns it off.
struct TurnFactors {
  double straight = 1.0;
  double turn = 1.0;
};

TurnFactors TurnFactorsForSport(Sport sport) {
  switch (sport) {
    case Sport::kWalk:
    case Sport::kHike:
      return {0.25, 20.0};
    default:
      return {};
  }
}

// Smooths fixes idx[lo..hi) following turns: a first pass with the straight q finds where
// the smoothed path turns by more than kTurnDeg within +-kTurnWindowS (at least
// kTurnWindowFixes fixes each side, both arms longer than the jitter explains), and a second
// pass, from the recorded fixes, raises q to the turn q over those fixes. Returns the number
// of fixes smoothed as turns.
size_t SmoothRunFollowingTurns(Track& t, const std::vector<size_t>& idx, size_t lo, size_t hi,
                               double sigma_m, double accuracy_scale, double q, TurnFactors f,
                               bool* used_accuracy) {
  constexpr double kTurnDeg = 45.0;
  constexpr double kTurnWindowS = 5.0;
  constexpr size_t kTurnWindowFixes = 3;
  // Steps of kDenseS or less get the straight q; from kSparseS on, the sport's q (a fix every
  // 10 s is far enough from the last that jitter adds little length, and a low q cuts).
  constexpr double kDenseS = 8.0, kSparseS = 10.0;
  const size_t n = hi - lo;
  std::vector<double> qs(n, q * f.straight);
  for (size_t k = 1; k < n; ++k) {
    const double h = t.time_s[idx[lo + k]] - t.time_s[idx[lo + k - 1]];
    const double w = std::clamp((h - kDenseS) / (kSparseS - kDenseS), 0.0, 1.0);
    qs[k] = q * (f.straight + (1 - f.straight) * w);
  }
  if (f.straight == 1.0 && f.turn == 1.0) {
    SmoothRun(t, idx, lo, hi, sigma_m, accuracy_scale, qs, used_accuracy);
    return 0;
  }
  std::vector<double> lat(n), lon(n);
  for (size_t k = 0; k < n; ++k) lat[k] = t.lat_deg[idx[lo + k]], lon[k] = t.lon_deg[idx[lo + k]];
  SmoothRun(t, idx, lo, hi, sigma_m, accuracy_scale, qs, used_accuracy);
  const LocalPlane plane(lat[0], lon[0]);
  std::vector<double> sx(n), sy(n);
  for (size_t k = 0; k < n; ++k) {
    plane.ToMetres(t.lat_deg[idx[lo + k]], t.lon_deg[idx[lo + k]], &sx[k], &sy[k]);
  }
  const double min_arm = std::max(2.0, 3 * sigma_m);
  const double cos_turn = std::cos(kTurnDeg * kPi / 180.0);
  std::vector<char> turn(n, 0);
  size_t turns = 0;
  size_t ta = 0, tb = 0;  // the time window: ta the last fix before it, tb the first after
  for (size_t k = 1; k + 1 < n; ++k) {
    const double tk = t.time_s[idx[lo + k]];
    while (ta + 1 < k && tk - t.time_s[idx[lo + ta + 1]] >= kTurnWindowS) ++ta;
    if (tb <= k) tb = k + 1;
    while (tb + 1 < n && t.time_s[idx[lo + tb]] - tk < kTurnWindowS) ++tb;
    const size_t a = k >= kTurnWindowFixes ? std::min(ta, k - kTurnWindowFixes) : 0;
    const size_t b = std::min(n - 1, std::max(tb, k + kTurnWindowFixes));
    const double ux = sx[k] - sx[a], uy = sy[k] - sy[a];
    const double vx = sx[b] - sx[k], vy = sy[b] - sy[k];
    // sqrt, not std::hypot: metre-scale arms cannot overflow, and hypot's care costs a
    // tenth of the smoother's time.
    const double lu = std::sqrt(ux * ux + uy * uy), lv = std::sqrt(vx * vx + vy * vy);
    if (lu < min_arm || lv < min_arm || ux * vx + uy * vy >= cos_turn * lu * lv) continue;
    for (size_t j = a; j <= b; ++j) {
      turns += turn[j] ? 0 : 1;
      turn[j] = 1;
    }
  }
  if (turns == 0) return 0;
  for (size_t k = 0; k < n; ++k) {
    t.lat_deg[idx[lo + k]] = lat[k], t.lon_deg[idx[lo + k]] = lon[k];
    // The step into a turn fix and the step out of it.
    if (turn[k]) qs[k] = std::max(qs[k], q * f.turn);
    if (k > 0 && turn[k - 1]) qs[k] = std::max(qs[k], q * f.turn);
  }
  SmoothRun(t, idx, lo, hi, sigma_m, accuracy_scale, qs, used_accuracy);
  return turns;
}

// Median of at most a handful of values, in place: insertion sort beats introselect there,
// and for the full window of 7 a branchless sorting network beats both.
double SmallMedian(double* v, size_t m) {
  if (m == 7) {
    auto cx = [v](int i, int j) {
      const double a = v[i], b = v[j];
      v[i] = std::min(a, b);
      v[j] = std::max(a, b);
    };
    cx(0, 6), cx(2, 3), cx(4, 5);
    cx(0, 2), cx(1, 4), cx(3, 6);
    cx(0, 1), cx(2, 5), cx(3, 4);
    cx(1, 2), cx(4, 6);
    cx(2, 3), cx(4, 5);
    cx(1, 2), cx(3, 4), cx(5, 6);
    return v[3];
  }
  for (size_t i = 1; i < m; ++i) {
    const double x = v[i];
    size_t j = i;
    for (; j > 0 && v[j - 1] > x; --j) v[j] = v[j - 1];
    v[j] = x;
  }
  return v[m / 2];
}

// Jitter of the fixes, metres (1 sigma per axis). Each fix is compared with the chord of its
// neighbours interpolated at its time; for white noise that deviation has variance
// sigma^2 (1 + a^2 + b^2), a and b being the interpolation weights (1.5 sigma^2 on an even
// 1 s grid, where it equals the classic second difference over sqrt(6)). Triplets spanning
// more than 4 s are skipped (real turns dominate there) and the median ignores the turns that
// remain. A sparse recording has too few such triplets: its triplets up to 120 s are used,
// and the lower quartile of the deviations (0.3186 sigma for pure noise) stands in for the
// median, as turns only ever add to a deviation. Returns NaN when fewer than 30 triplets
// qualify.
double EstimateJitter(const Track& t, const std::vector<size_t>& idx) {
  if (idx.size() < 32) return kNaN;
  const LocalPlane plane(t.lat_deg[idx[0]], t.lon_deg[idx[0]]);
  std::vector<double> dev, sparse;
  // A median of ~5,000 deviations is as good as one of a million: sample evenly.
  // Sample blocks of `stride` fixes and use the first three of each (one triplet); a stride
  // of 1 uses every triplet. A block shorter than three would hold no triplet.
  size_t stride = idx.size() / 2500 + 1;  // ~5,000 deviations
  if (stride > 1 && stride < 3) stride = 3;
  dev.reserve(2 * (idx.size() / stride + 1));
  double x[3], y[3], tm[3];
  for (size_t k = 0; k < idx.size(); ++k) {
    if (stride > 1 && k % stride > 2) continue;  // keep runs of three consecutive fixes

    x[0] = x[1], y[0] = y[1], tm[0] = tm[1];
    x[1] = x[2], y[1] = y[2], tm[1] = tm[2];
    plane.ToMetres(t.lat_deg[idx[k]], t.lon_deg[idx[k]], &x[2], &y[2]);
    tm[2] = t.time_s[idx[k]];
    if (k < 2 || (stride > 1 && k % stride != 2)) continue;  // only consecutive triplets
    const double span = tm[2] - tm[0];
    if (!(span > 0) || span > 120.0) continue;
    const double a = (tm[2] - tm[1]) / span, b = (tm[1] - tm[0]) / span;
    const double norm = std::sqrt(1 + a * a + b * b);
    auto& out = span <= 4.0 ? dev : sparse;
    out.push_back(std::fabs(x[1] - (a * x[0] + b * x[2])) / norm);
    out.push_back(std::fabs(y[1] - (a * y[0] + b * y[2])) / norm);
  }
  if (dev.size() >= 60) return 1.4826 * Median(std::move(dev));
  sparse.insert(sparse.end(), dev.begin(), dev.end());
  if (sparse.size() < 60) return kNaN;
  const auto q = sparse.begin() + static_cast<long>(sparse.size() / 4);
  std::nth_element(sparse.begin(), q, sparse.end());
  return *q / 0.3186;
}

}  // namespace

std::vector<double> GaussianOnAxis(const std::vector<double>& axis, const std::vector<double>& v,
                                   double sigma) {
  const size_t n = v.size();
  const double step = sigma / 4.0;
  if (n < 2 || !(step > 0)) return v;
  const double inv_step = 1.0 / step;
  const double span_bins = (axis.back() - axis.front()) / step;
  if (!(span_bins >= 0 && span_bins < 1e15)) return v;
  const size_t bins = static_cast<size_t>(span_bins) + 1;
  std::vector<size_t> bin(n);
  for (size_t k = 0; k < n; ++k) {
    const double b = (axis[k] - axis.front()) * inv_step;
    bin[k] = b > 0 ? std::min(bins - 1, static_cast<size_t>(b)) : 0;
  }
  // Box width w with 3 passes: variance 3 (w^2 - 1) / 12 = (sigma/step)^2 = 16. The value read
  // at a bin depends on the grid within 3 * kHalf bins of it, so a stretch of more than
  // kLongGap empty bins splits the samples into pieces, each blurred on its own grid with
  // kPad bins of the interpolation on either side: the cost is O(n), not O(span).
  constexpr long kHalf = 4;  // w = 9
  constexpr size_t kPad = 16, kLongGap = 4 * kPad;
  std::vector<double> out(n), sum, cnt, g, tmp;
  double prev_value = 0;  // mean of the last non-empty bin of the previous piece
  size_t prev_bin = 0;
  for (size_t k0 = 0; k0 < n;) {
    size_t k1 = k0;
    while (k1 + 1 < n && bin[k1 + 1] - bin[k1] <= kLongGap) ++k1;
    const size_t lo = bin[k0] - std::min(bin[k0], kPad);
    const size_t hi = std::min(bins - 1, bin[k1] + kPad);
    const size_t nb = hi - lo + 1;
    sum.assign(nb, 0.0);
    cnt.assign(nb, 0.0);
    for (size_t k = k0; k <= k1; ++k) {
      sum[bin[k] - lo] += v[k];
      cnt[bin[k] - lo] += 1;
    }
    // The next piece's first bin: the far end of the interpolation past this piece.
    double next_value = 0;
    const size_t next_bin = k1 + 1 < n ? bin[k1 + 1] : 0;
    if (k1 + 1 < n) {
      double s = 0, c = 0;
      for (size_t k = k1 + 1; k < n && bin[k] == next_bin; ++k, c += 1) s += v[k];
      next_value = s / c;
    }
    // Bins are global: an interpolation between two bins gives what one grid would.
    auto between = [](double ga, size_t a, double gb, size_t b, size_t j) {
      return ga + (gb - ga) * static_cast<double>(j - a) / static_cast<double>(b - a);
    };
    g.assign(nb, 0.0);
    long last = -1;
    for (size_t b = 0; b < nb; ++b) {
      if (cnt[b] == 0) continue;
      g[b] = sum[b] / cnt[b];
      if (last < 0) {  // empty only past the first piece: the first sample is in bin 0
        for (size_t j = 0; j < b; ++j) g[j] = between(prev_value, prev_bin, g[b], b + lo, j + lo);
      } else {
        const auto lb = static_cast<size_t>(last);
        for (size_t j = lb + 1; j < b; ++j) g[j] = between(g[lb], lb, g[b], b, j);
      }
      last = static_cast<long>(b);
    }
    const auto lb = static_cast<size_t>(last);
    for (size_t j = lb + 1; j < nb; ++j) {
      g[j] = k1 + 1 < n ? between(g[lb], lb + lo, next_value, next_bin, j + lo) : g[lb];
    }
    prev_value = g[lb];
    prev_bin = lb + lo;
    tmp.resize(nb);
    const long snb = static_cast<long>(nb);
    for (int pass = 0; pass < 3; ++pass) {
      double acc = 0;
      auto at = [&](long j) { return g[static_cast<size_t>(std::clamp(j, 0L, snb - 1))]; };
      for (long j = -kHalf; j <= kHalf; ++j) acc += at(j);
      for (long b = 0; b < snb; ++b) {
        tmp[static_cast<size_t>(b)] = acc / static_cast<double>(2 * kHalf + 1);
        acc += at(b + kHalf + 1) - at(b - kHalf);
      }
      g.swap(tmp);
    }
    for (size_t k = k0; k <= k1; ++k) {
      const double x = (axis[k] - axis.front()) * inv_step - 0.5;
      const double fl = std::floor(x);
      const long b0 = std::clamp(static_cast<long>(fl), 0L, static_cast<long>(bins) - 1);
      const long b1 = std::min(b0 + 1, static_cast<long>(bins) - 1);
      const double f = std::clamp(x - fl, 0.0, 1.0);
      const size_t i0 = std::clamp(static_cast<size_t>(b0), lo, hi) - lo;
      const size_t i1 = std::clamp(static_cast<size_t>(b1), lo, hi) - lo;
      out[k] = g[i0] * (1 - f) + g[i1] * f;
    }
    k0 = k1 + 1;
  }
  return out;
}

double ProcessNoiseForSport(Sport sport) {
  switch (sport) {
    case Sport::kRun:
      return 0.6;
    case Sport::kWalk:
    case Sport::kHike:
      // Walkers change speed and heading gently; at 0.8 m/s a larger q lets 0.6 m of jitter
      // through as path (+2 % at 1 s on the ground-truth trail, tests/integration).
      return 0.1;
    case Sport::kRide:
      return 2.0;
    case Sport::kSwim:
      return 0.1;
    case Sport::kUnknown:
    case Sport::kOther:
      return 1.0;
  }
  return 1.0;
}

SmoothReport SmoothPositions(Track& t, const SmoothOptions& options) {
  SmoothReport report;
  report.sigma_m = options.sigma_m;
  report.accel_density =
      options.accel_density > 0 ? options.accel_density : ProcessNoiseForSport(t.sport);
  if (!t.HasTimes()) return report;  // planned routes: nothing to filter in time
  // Fixes with times, split at segment starts.
  std::vector<size_t> idx;
  std::vector<size_t> run_starts;
  size_t seg = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    while (seg < t.segment_starts.size() && t.segment_starts[seg] <= i) {
      run_starts.push_back(idx.size());
      ++seg;
    }
    if (t.has_position(i) && !std::isnan(t.time_s[i])) idx.push_back(i);
  }
  run_starts.push_back(idx.size());
  if (run_starts.front() != 0) run_starts.insert(run_starts.begin(), 0);

  // Measurement noise: the jitter the fixes really show, when it can be measured (devices that
  // filter on board record smooth fixes, and smoothing them again would cut corners), else the
  // default. The device's gps_accuracy, when present, weighs fixes against each other around
  // that level.
  double sigma = options.sigma_m;
  const double jitter = EstimateJitter(t, idx);
  if (!std::isnan(jitter)) {
    sigma = std::clamp(jitter, options.min_sigma_m, options.max_sigma_m);
    report.sigma_from_data = true;
  }
  report.sigma_m = sigma;
  std::vector<double> acc;
  for (size_t i : idx) {
    if (!std::isnan(t.gps_accuracy_m[i]) && t.gps_accuracy_m[i] > 0)
      acc.push_back(t.gps_accuracy_m[i]);
  }
  const double accuracy_scale = acc.size() * 2 > idx.size() ? sigma / Median(acc) : 0.0;
  const TurnFactors turns = options.follow_turns ? TurnFactorsForSport(t.sport) : TurnFactors{};
  // The length guard: smoothing removes the length jitter adds to a polyline, about
  // sqrt(d^2 + 4 sigma^2) - d per step of length d (the difference of two fixes has
  // 2 sigma^2 per axis), and no more. A run whose smoothed length falls further below its raw
  // length lost real path (corners cut at sparse sampling): it is smoothed again assuming a
  // third of the noise, up to three times, and left as recorded if that still cuts.
  for (size_t r = 0; r + 1 < run_starts.size(); ++r) {
    const size_t lo = run_starts[r], hi = run_starts[r + 1];
    if (hi - lo < 3) continue;
    report.position_smoothed = true;
    if (!options.length_guard) {
      report.turn_fixes +=
          SmoothRunFollowingTurns(t, idx, lo, hi, sigma, accuracy_scale, report.accel_density,
                                  turns, &report.used_device_accuracy);
      continue;
    }
    std::vector<double> lat(hi - lo), lon(hi - lo);
    for (size_t k = lo; k < hi; ++k)
      lat[k - lo] = t.lat_deg[idx[k]], lon[k - lo] = t.lon_deg[idx[k]];
    const LocalPlane plane(lat[0], lon[0]);
    auto length = [&](double* allowance) {
      double sum = 0, px = 0, py = 0;
      for (size_t k = lo; k < hi; ++k) {
        double x, y;
        plane.ToMetres(t.lat_deg[idx[k]], t.lon_deg[idx[k]], &x, &y);
        if (k > lo) {
          const double d = std::sqrt((x - px) * (x - px) + (y - py) * (y - py));
          sum += d;
          if (allowance) *allowance += std::sqrt(d * d + 4 * sigma * sigma) - d;
        }
        px = x, py = y;
      }
      return sum;
    };
    const double raw = length(nullptr);
    double noise = sigma;
    for (int attempt = 0;; ++attempt) {
      const size_t turn_fixes =
          SmoothRunFollowingTurns(t, idx, lo, hi, noise, accuracy_scale * noise / sigma,
                                  report.accel_density, turns, &report.used_device_accuracy);
      double allowance = 0;
      const double smoothed = length(&allowance);
      if (smoothed >= raw - allowance) {
        report.turn_fixes += turn_fixes;
        break;
      }
      for (size_t k = lo; k < hi; ++k)
        t.lat_deg[idx[k]] = lat[k - lo], t.lon_deg[idx[k]] = lon[k - lo];
      if (attempt == 0) ++report.guarded_runs;
      if (attempt == 3) break;  // left as recorded
      noise /= 3;
    }
  }
  return report;
}

AltitudeSource ClassifyAltitude(const Track& t, const SmoothOptions& options, std::string* reason) {
  std::vector<size_t> idx;
  for (size_t i = 0; i < t.size(); ++i) {
    if (!std::isnan(t.ele_m[i])) idx.push_back(i);
  }
  if (idx.size() < 5) {
    if (reason) *reason = "no altitude";
    return AltitudeSource::kUnknown;
  }
  const AltitudeSource said = t.altitude_source;
  if (said == AltitudeSource::kBarometric || said == AltitudeSource::kGps ||
      said == AltitudeSource::kDem) {
    if (reason) *reason = "file";
    return said;
  }
  std::vector<double> d2;
  d2.reserve(idx.size());
  const size_t stride = idx.size() / 5000 + 1;  // a median of 5,000 is plenty
  for (size_t k = 1; k + 1 < idx.size(); k += stride) {
    d2.push_back(std::fabs(t.ele_m[idx[k + 1]] - 2 * t.ele_m[idx[k]] + t.ele_m[idx[k - 1]]));
  }
  const double roughness = Median(d2);
  if (reason) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "roughness %.2f m", roughness);
    *reason = buf;
  }
  return roughness > options.gps_roughness_threshold_m ? AltitudeSource::kGps
                                                       : AltitudeSource::kBarometric;
}

void SmoothElevation(Track& t, const std::vector<double>& cum, const SmoothOptions& options,
                     SmoothReport& report) {
  std::vector<size_t> idx;
  for (size_t i = 0; i < t.size(); ++i) {
    if (!std::isnan(t.ele_m[i])) idx.push_back(i);
  }
  if (idx.size() < 5) return;
  std::string reason;
  const AltitudeSource src = ClassifyAltitude(t, options, &reason);
  report.elevation_source_reason = reason;
  report.elevation_source = src;

  // Hampel filter (window 7): replace values more than 3 scaled MADs from the local median.
  std::vector<double> e(idx.size());
  for (size_t k = 0; k < idx.size(); ++k) e[k] = t.ele_m[idx[k]];
  {
    std::vector<double> out(e);
    std::array<double, 7> w;
    const size_t half = 3;
    for (size_t k = 0; k < e.size(); ++k) {
      const size_t a = k >= half ? k - half : 0, b = std::min(e.size(), k + half + 1);
      const size_t m = b - a;
      std::copy(e.begin() + static_cast<long>(a), e.begin() + static_cast<long>(b), w.begin());
      const double med = SmallMedian(w.data(), m);
      // The threshold is at least 3 x 0.5 m: nearer the median, no need for the MAD.
      if (std::fabs(e[k] - med) <= 1.5) continue;
      for (size_t j = 0; j < m; ++j) w[j] = std::fabs(w[j] - med);
      const double mad = 1.4826 * SmallMedian(w.data(), m);
      if (std::fabs(e[k] - med) > 3 * std::max(mad, 0.5)) out[k] = med;
    }
    e.swap(out);
  }

  // Gaussian kernel over distance (or time).
  std::vector<double> axis(idx.size());
  bool over_time = cum.empty();
  if (!over_time) {
    for (size_t k = 0; k < idx.size(); ++k) axis[k] = cum[idx[k]];
    if (!(axis.back() - axis.front() > 50.0)) over_time = true;  // no real horizontal motion
  }
  double sigma =
      src == AltitudeSource::kGps ? options.gps_elevation_sigma_m : options.baro_elevation_sigma_m;
  if (src == AltitudeSource::kDem) sigma = options.baro_elevation_sigma_m;
  if (over_time) {
    if (!t.HasTimes()) {
      for (size_t k = 0; k < idx.size(); ++k) axis[k] = static_cast<double>(k);
      sigma = src == AltitudeSource::kGps ? 10.0 : 3.0;  // points
    } else {
      for (size_t k = 0; k < idx.size(); ++k) axis[k] = t.time_s[idx[k]];
      sigma = src == AltitudeSource::kGps ? 30.0 : 8.0;  // seconds
    }
  }
  const std::vector<double> s = GaussianOnAxis(axis, e, sigma);
  for (size_t k = 0; k < idx.size(); ++k) t.ele_m[idx[k]] = s[k];
  report.elevation_smoothed = true;
  report.elevation_sigma_m = sigma;
  report.elevation_over_time = over_time;
}

}  // namespace stride::engine
