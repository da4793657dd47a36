// SPDX-License-Identifier: Apache-2.0
#include "engine/training/vdot.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace stride::engine {
namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}  // namespace

double OxygenCostMlKgMin(double v) {
  return -4.60 + 0.182258 * v + 0.000104 * v * v;
}

double SustainableFraction(double t) {
  return 0.8 + 0.1894393 * std::exp(-0.012778 * t) + 0.2989558 * std::exp(-0.1932605 * t);
}

double SpeedForOxygenCost(double vo2) {
  const double a = 0.000104, b = 0.182258, c = -4.60 - vo2;
  return (-b + std::sqrt(b * b - 4 * a * c)) / (2 * a);
}

double VdotFromRace(double distance_m, double time_s) {
  if (!(distance_m > 0) || !(time_s > 0) || !std::isfinite(distance_m) || !std::isfinite(time_s)) {
    return kNaN;
  }
  const double t = time_s / 60;
  const double vo2 = OxygenCostMlKgMin(distance_m / t);
  if (!(vo2 > 0)) return kNaN;
  return vo2 / SustainableFraction(t);
}

double PredictRaceTimeS(double vdot, double distance_m) {
  if (!(vdot > 0) || !(distance_m > 0) || !std::isfinite(vdot) || !std::isfinite(distance_m)) {
    return kNaN;
  }
  // VDOT of racing the distance in t minutes falls as t grows: bisection on [1 min, 24 h].
  double lo = 1, hi = 1440;
  auto implied = [&](double t) {
    return OxygenCostMlKgMin(distance_m / t) / SustainableFraction(t);
  };
  if (implied(lo) < vdot) return lo * 60;  // faster than a minute: outside the model
  if (implied(hi) > vdot) return kNaN;     // slower than a day
  for (int i = 0; i < 100 && hi - lo > 1e-9; ++i) {
    const double mid = (lo + hi) / 2;
    (implied(mid) > vdot ? lo : hi) = mid;
  }
  return (lo + hi) / 2 * 60;
}

double RiegelTimeS(double time_s, double distance_m, double to_distance_m, double exponent) {
  if (!(time_s > 0) || !(distance_m > 0) || !(to_distance_m > 0)) return kNaN;
  return time_s * std::pow(to_distance_m / distance_m, exponent);
}

double PersonalRiegelExponent(double d1, double t1, double d2, double t2) {
  if (!(d1 > 0) || !(d2 > 0) || !(t1 > 0) || !(t2 > 0) || d1 == d2) return kNaN;
  return std::clamp(std::log(t2 / t1) / std::log(d2 / d1), 1.0, 2.0);
}

TrainingPaces PacesFromVdot(double vdot) {
  auto pace = [vdot](double fraction) { return 60000.0 / SpeedForOxygenCost(fraction * vdot); };
  TrainingPaces p;
  p.easy_fast = pace(0.7346);
  p.easy_slow = pace(0.6304);
  p.threshold = pace(0.8799);
  p.interval = pace(0.9743);
  p.repetition = p.interval - (vdot >= 50 ? 15 : 20);
  p.marathon = PredictRaceTimeS(vdot, 42195) / 42.195;
  return p;
}

VdotEstimate EstimateVdot(const std::vector<Effort>& efforts, double now_s,
                          const VdotEstimateOptions& o) {
  VdotEstimate best;
  best.vdot = kNaN;
  best.effort_vdot = kNaN;
  for (const Effort& e : efforts) {
    const double age_days = (now_s - e.when_s) / 86400;
    if (e.distance_m < o.min_distance_m || age_days > o.window_days) continue;
    const double v = VdotFromRace(e.distance_m, e.time_s);
    if (std::isnan(v)) continue;
    const double discounted = v * (1 - o.decay_per_week * std::max(0.0, age_days) / 7);
    if (std::isnan(best.vdot) || discounted > best.vdot) {
      best.vdot = discounted;
      best.from = e;
      best.effort_vdot = v;
    }
  }
  return best;
}

}  // namespace stride::engine
