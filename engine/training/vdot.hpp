// SPDX-License-Identifier: Apache-2.0
//
// Running fitness from race efforts: Daniels and Gilbert's VDOT (Oxygen Power, 1979; Daniels'
// Running Formula), race-time predictions by VDOT equivalence and by Riegel's power law, and
// Daniels' training paces. Formulas and test vectors: ../shared/research/plugins.md §1.1-1.2.
//
//   oxygen cost      VO2(v) = -4.60 + 0.182258 v + 0.000104 v^2         (v in m/min)
//   sustainable      F(t)   = 0.8 + 0.1894393 e^(-0.012778 t) + 0.2989558 e^(-0.1932605 t)
//   VDOT of a race   VO2(d / t) / F(t)                                   (t in min)
//
// A prediction solves VO2(d/t)/F(t) = VDOT for t (bisection: the ratio falls as t grows over
// every distance a runner races). Paces are the speed whose oxygen cost is a fraction of VDOT:
// E 0.6304-0.7346, T 0.8799, I 0.9743 (fractions fitted to Daniels' tables by tlgs/vdot, within
// ±2 s/km of the VDOT 50 table), M the predicted marathon pace, R = I - 15 s/km at VDOT 50 and
// above, I - 20 s/km below (Daniels' "6-second rule" per 400 m, as adapted there).
//
// Thread-safety: pure functions.
//
//   double v = VdotFromRace(5000, 19 * 60 + 57);   // 49.95
//   double t = PredictRaceTimeS(v, 42195);         // 3:10:40
#pragma once

#include <string>
#include <vector>

namespace stride::engine {

double OxygenCostMlKgMin(double speed_m_per_min);
double SustainableFraction(double minutes);
// The speed (m/min) whose oxygen cost is `vo2` ml/kg/min (the quadratic's positive root).
double SpeedForOxygenCost(double vo2);

// NaN unless 0 < distance and 0 < time and the race is in the model's domain (a speed with a
// positive oxygen cost: faster than about 25 m/min).
double VdotFromRace(double distance_m, double time_s);
// The time a runner of `vdot` needs for `distance_m`; NaN when vdot <= 0 or the distance is
// not positive. Races from 1 minute to 24 hours.
double PredictRaceTimeS(double vdot, double distance_m);

// Riegel (1981): t2 = t1 * (d2 / d1)^exponent; the classic exponent is 1.06.
double RiegelTimeS(double time_s, double distance_m, double to_distance_m, double exponent = 1.06);
// A runner's own exponent from two results, ln(t2/t1) / ln(d2/d1), clamped to [1, 2]
// (Runalyze's "Bock"); NaN when the distances are equal.
double PersonalRiegelExponent(double d1_m, double t1_s, double d2_m, double t2_s);

struct TrainingPaces {  // seconds per km
  double easy_fast = 0, easy_slow = 0;
  double marathon = 0, threshold = 0, interval = 0, repetition = 0;
};
TrainingPaces PacesFromVdot(double vdot);

// One best effort inside a run (Analysis::best_efforts), with when it was run.
struct Effort {
  double distance_m = 0;
  double time_s = 0;
  double when_s = 0;  // Unix time of the run
  std::string run_id;
};

struct VdotEstimateOptions {
  double window_days = 90;        // efforts older than this are not used. Default: 90
  double min_distance_m = 1500;   // shorter efforts are mostly anaerobic. Default: 1500 m
  double decay_per_week = 0.005;  // detraining: 0.5 % of VDOT per week of age. Default
};
struct VdotEstimate {
  double vdot = 0;         // NaN without a usable effort
  Effort from;             // the effort it came from
  double effort_vdot = 0;  // that effort's own VDOT, before the age discount
};
// The best recency-discounted VDOT among the efforts: a training run's best effort is seldom
// all-out, so the highest (not the mean) is the closest to what the runner can race; an
// effort loses `decay_per_week` of its VDOT per week of age before `now_s`.
VdotEstimate EstimateVdot(const std::vector<Effort>& efforts, double now_s,
                          const VdotEstimateOptions& options = {});

}  // namespace stride::engine
