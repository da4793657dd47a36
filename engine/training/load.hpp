// SPDX-License-Identifier: Apache-2.0
//
// Training load: what one session costs (Banister TRIMP from heart rate; a pace load, rTSS,
// from grade-adjusted pace when there is no heart rate), and what the days add up to: the
// Performance Management Chart (CTL fitness, ATL fatigue, TSB form), the acute:chronic
// workload ratio, Foster's monotony and strain, and the single-run spike rule. Each is a guard
// a plan respects, never a prediction of injury (../shared/research/plugins.md §1.3-1.6).
//
// Conventions, because values are not comparable across products:
//   PMC: CTL and ATL are exponentially weighted averages of the daily load, updated
//     x += lambda * (load - x) each day; lambda per convention (PmcLambda): kCoggan 1/N
//     (TrainingPeaks), kGoldenCheetah 1 - e^(-1/N), kEwma 2/(N+1) (Williams 2017, Runalyze).
//     TSB of a day is the form on its morning: CTL - ATL of the day before (GoldenCheetah's and
//     TrainingPeaks' display), so today's run does not lower today's form.
//   ACWR: EWMA acute (7 d) over chronic (28 d) with lambda 2/(N+1) (Williams 2017); the rolling
//     forms are weekly sums: acute = last 7 days, chronic = mean week of the last 28 (coupled)
//     or of the 21 days before the acute week (uncoupled).
//   Monotony: mean / standard deviation (population) of the last 7 daily loads, capped at 10;
//     strain = weekly load x monotony (Foster 1998).
//   Spike: a run's distance over the longest run of the 30 days before it (Frandsen 2025).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace stride::engine {

enum class AthleteSex { kUnknown, kMale, kFemale };

// Banister's TRIMP: minutes * x * a * e^(b x), x = (avg - rest) / (max - rest) clamped to
// [0, 1]; a, b = 0.64, 1.92 (male), 0.86, 1.67 (female), 0.725215, 1.795 (unknown, Runalyze).
// NaN when a heart rate is missing or max <= rest.
double BanisterTrimp(double minutes, double avg_hr_bpm, double rest_hr_bpm, double max_hr_bpm,
                     AthleteSex sex);
// rTSS: 100 * hours * IF^2 with IF = threshold pace / grade-adjusted pace (as speeds). NaN
// without both paces.
double PaceLoad(double moving_time_s, double gap_s_per_km, double threshold_s_per_km);

enum class PmcConvention { kCoggan, kGoldenCheetah, kEwma };
// The daily update factor of an N-day average under a convention.
double PmcLambda(double days, PmcConvention convention);

struct PmcOptions {
  double ctl_days = 42;  // Default: 42 (fitness)
  double atl_days = 7;   // Default: 7 (fatigue)
  PmcConvention convention = PmcConvention::kCoggan;
  double start_ctl = 0;  // before the first day. Default: 0 (no history)
  double start_atl = 0;
};
struct PmcDay {
  int64_t day = 0;          // days since 1970-01-01 (local)
  double load = 0;          // that day's load
  double ctl = 0, atl = 0;  // after the day's load
  double tsb = 0;           // form on the day's morning: CTL - ATL of the day before
};
// One row per day from `first_day`, `daily_load[i]` being day first_day + i's load.
std::vector<PmcDay> Pmc(const std::vector<double>& daily_load, int64_t first_day,
                        const PmcOptions& options = {});

// EWMA acute:chronic ratio after the last day of `daily_load` (oldest first); NaN while the
// chronic load is 0.
double AcwrEwma(const std::vector<double>& daily_load, double acute_days = 7,
                double chronic_days = 28);
// Rolling-average ratio over the last 28 days; NaN without chronic load.
double AcwrRolling(const std::vector<double>& daily_load, bool coupled);

struct Monotony {
  double monotony = 0;  // mean / SD of the last 7 days, capped at 10 (NaN with no load)
  double strain = 0;    // weekly load x monotony
  double weekly_load = 0;
};
Monotony WeeklyMonotony(const std::vector<double>& daily_load);

// The single-run spike rule: `distance_m` over the longest run of the 30 days before it.
struct Spike {
  double ratio = 0;  // NaN when there was no run in those 30 days
  std::string band;  // "ok" (<= 1.10), "elevated" (<= 1.30), "high" (<= 2.0), "very high"
};
Spike SpikeOf(double distance_m, double longest_last_30d_m);

// Closed forms a load manager plans with (λc, λa: the daily factors of CTL and ATL).
// The largest load today that keeps tomorrow's TSB >= `min_tsb`; may be negative (rest).
double MaxLoadForTsb(double ctl, double atl, double min_tsb, double lambda_c, double lambda_a);
// The largest load today that keeps the EWMA ratio ATL/CTL <= `max_ratio` after it; +inf when
// λa <= max_ratio * λc (no load can break it).
double MaxLoadForRatio(double ctl, double atl, double max_ratio, double lambda_c, double lambda_a);
// Rest days until TSB >= 0 again (0 when it already is).
double RestDaysToFresh(double ctl, double atl, double lambda_c, double lambda_a);

}  // namespace stride::engine
