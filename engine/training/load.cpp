// SPDX-License-Identifier: Apache-2.0
#include "engine/training/load.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace stride::engine {
namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

double SumLast(const std::vector<double>& v, size_t from_end, size_t count) {
  double s = 0;
  for (size_t k = 0; k < count; ++k) {
    if (from_end + k >= v.size()) break;
    s += v[v.size() - 1 - from_end - k];
  }
  return s;
}
}  // namespace

double BanisterTrimp(double minutes, double avg, double rest, double max, AthleteSex sex) {
  if (!(minutes >= 0) || std::isnan(avg) || std::isnan(rest) || std::isnan(max) || max <= rest) {
    return kNaN;
  }
  double a = 0.725215, b = 1.795;
  if (sex == AthleteSex::kMale) a = 0.64, b = 1.92;
  if (sex == AthleteSex::kFemale) a = 0.86, b = 1.67;
  const double x = std::clamp((avg - rest) / (max - rest), 0.0, 1.0);
  return minutes * x * a * std::exp(b * x);
}

double PaceLoad(double moving_time_s, double gap, double threshold) {
  if (!(moving_time_s >= 0) || !(gap > 0) || !(threshold > 0)) return kNaN;
  const double intensity = threshold / gap;  // speeds: (1/gap) / (1/threshold)
  return 100 * moving_time_s / 3600 * intensity * intensity;
}

double PmcLambda(double days, PmcConvention c) {
  switch (c) {
    case PmcConvention::kCoggan:
      return 1 / days;
    case PmcConvention::kGoldenCheetah:
      return 1 - std::exp(-1 / days);
    case PmcConvention::kEwma:
      return 2 / (days + 1);
  }
  return kNaN;
}

std::vector<PmcDay> Pmc(const std::vector<double>& daily_load, int64_t first_day,
                        const PmcOptions& o) {
  const double lc = PmcLambda(o.ctl_days, o.convention);
  const double la = PmcLambda(o.atl_days, o.convention);
  std::vector<PmcDay> out;
  out.reserve(daily_load.size());
  double ctl = o.start_ctl, atl = o.start_atl;
  for (size_t i = 0; i < daily_load.size(); ++i) {
    PmcDay d;
    d.day = first_day + static_cast<int64_t>(i);
    d.load = daily_load[i];
    d.tsb = ctl - atl;
    ctl += lc * (d.load - ctl);
    atl += la * (d.load - atl);
    d.ctl = ctl;
    d.atl = atl;
    out.push_back(d);
  }
  return out;
}

double AcwrEwma(const std::vector<double>& daily_load, double acute_days, double chronic_days) {
  const double la = 2 / (acute_days + 1), lc = 2 / (chronic_days + 1);
  double acute = 0, chronic = 0;
  for (double load : daily_load) {
    acute += la * (load - acute);
    chronic += lc * (load - chronic);
  }
  return chronic > 0 ? acute / chronic : kNaN;
}

double AcwrRolling(const std::vector<double>& daily_load, bool coupled) {
  const double acute = SumLast(daily_load, 0, 7);
  const double chronic = coupled ? SumLast(daily_load, 0, 28) / 4 : SumLast(daily_load, 7, 21) / 3;
  return chronic > 0 ? acute / chronic : kNaN;
}

Monotony WeeklyMonotony(const std::vector<double>& daily_load) {
  Monotony m;
  double sum = 0, sq = 0;
  for (size_t k = 0; k < 7; ++k) {
    const double x = k < daily_load.size() ? daily_load[daily_load.size() - 1 - k] : 0.0;
    sum += x;
    sq += x * x;
  }
  m.weekly_load = sum;
  const double mean = sum / 7;
  const double sd = std::sqrt(std::max(0.0, sq / 7 - mean * mean));
  if (sum <= 0) {
    m.monotony = kNaN;
    m.strain = 0;
    return m;
  }
  m.monotony = sd > 0 ? std::min(10.0, mean / sd) : 10.0;
  m.strain = sum * m.monotony;
  return m;
}

Spike SpikeOf(double distance_m, double longest) {
  Spike s;
  if (!(longest > 0)) {
    s.ratio = kNaN;
    s.band = "no recent run";
    return s;
  }
  s.ratio = distance_m / longest;
  s.band = s.ratio <= 1.10   ? "ok"
           : s.ratio <= 1.30 ? "elevated"
           : s.ratio <= 2.0  ? "high"
                             : "very high";
  return s;
}

double MaxLoadForTsb(double ctl, double atl, double min_tsb, double lc, double la) {
  // Tomorrow's TSB = CTL' - ATL' with X' = X + λ(L - X).
  return ((1 - lc) * ctl - (1 - la) * atl - min_tsb) / (la - lc);
}

double MaxLoadForRatio(double ctl, double atl, double r, double lc, double la) {
  if (la <= r * lc) return kInf;
  return (r * (1 - lc) * ctl - (1 - la) * atl) / (la - r * lc);
}

double RestDaysToFresh(double ctl, double atl, double lc, double la) {
  if (atl <= ctl) return 0;
  if (ctl <= 0) return kInf;
  return std::log(ctl / atl) / std::log((1 - la) / (1 - lc));
}

}  // namespace stride::engine
