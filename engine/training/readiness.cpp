// SPDX-License-Identifier: Apache-2.0
#include "engine/training/readiness.hpp"

#include <algorithm>
#include <cmath>
#include <string_view>

#include "engine/text/printf.hpp"

namespace stride::engine {
namespace {

struct Signal {
  double sub = 100;  // 0..100
  double weight = 0;
  bool red = false;
  std::string reason;
};

double Clamp(double x) {
  return std::clamp(x, 0.0, 100.0);
}

}  // namespace

std::string_view ReadinessBand(double score) {
  if (score >= 70) return "high";
  if (score >= 50) return "moderate";
  if (score >= 30) return "low";
  return "poor";
}

Readiness AssessReadiness(const CheckIn& today, const std::vector<CheckIn>& history,
                          const ReadinessOptions& o) {
  std::vector<double> ln_hrv, rest;
  for (const CheckIn& c : history) {
    if (c.day >= today.day || c.day < today.day - o.baseline_days) continue;
    if (c.hrv_rmssd_ms && *c.hrv_rmssd_ms > 0) ln_hrv.push_back(std::log(*c.hrv_rmssd_ms));
    if (c.rest_hr_bpm) rest.push_back(*c.rest_hr_bpm);
  }
  std::vector<Signal> signals;
  std::vector<std::string> skipped;
  if (today.hrv_rmssd_ms) {
    if (static_cast<int>(ln_hrv.size()) < o.min_baseline) {
      skipped.push_back(StringPrintf("HRV not scored: %zu of %d earlier mornings for a baseline",
                                     ln_hrv.size(), o.min_baseline));
    } else {
      double mean = 0, var = 0;
      for (double x : ln_hrv) mean += x;
      mean /= static_cast<double>(ln_hrv.size());
      for (double x : ln_hrv) var += (x - mean) * (x - mean);
      const double sd = std::sqrt(var / static_cast<double>(ln_hrv.size() - 1));
      const double x = std::log(*today.hrv_rmssd_ms);
      const double lo = mean - o.hrv_swc_sd * sd, hi = mean + o.hrv_swc_sd * sd;
      Signal s{100, 0.30, false, ""};
      if (sd > 0 && x < lo) {
        const double z = (x - mean) / sd;
        s.sub = Clamp(100 + 50 * (z + o.hrv_swc_sd));
        s.red = true;
        s.reason = StringPrintf("HRV %.0f ms (ln %.2f) below your normal range ln %.2f-%.2f",
                                *today.hrv_rmssd_ms, x, lo, hi);
      } else {
        s.reason =
            StringPrintf("HRV %.0f ms (ln %.2f) within or above your normal range ln %.2f-%.2f",
                         *today.hrv_rmssd_ms, x, lo, hi);
      }
      signals.push_back(s);
    }
  }
  if (today.rest_hr_bpm) {
    std::optional<double> base;
    const char* from = "your 60-day mean";
    if (static_cast<int>(rest.size()) >= o.min_baseline) {
      double m = 0;
      for (double x : rest) m += x;
      base = m / static_cast<double>(rest.size());
    } else if (o.profile_rest_hr_bpm) {
      base = o.profile_rest_hr_bpm;
      from = "your profile";
    }
    if (!base) {
      skipped.push_back(
          StringPrintf("resting HR not scored: %zu of %d earlier mornings and none in the profile",
                       rest.size(), o.min_baseline));
    } else {
      const double delta = *today.rest_hr_bpm - *base;
      Signal s{Clamp(100 - 12 * std::max(0.0, delta - 2)), 0.20, delta > 5, ""};
      s.reason = StringPrintf("resting HR %.0f bpm, %+.1f against %.1f", *today.rest_hr_bpm, delta,
                              *base) +
                 " (" + from + ")";
      signals.push_back(s);
    }
  }
  if (today.sleep_h) {
    const double h = *today.sleep_h;
    signals.push_back(
        {Clamp(100 - 20 * std::max(0.0, 7 - h)), 0.20, h < 6,
         StringPrintf("slept %.1f h", h) + (h < 7 ? " (7 h or more scores full)" : "")});
  }
  if (today.soreness) {
    const double s = *today.soreness;
    signals.push_back({Clamp(100 - 10 * s), 0.20, s >= 6, StringPrintf("soreness %.0f of 10", s)});
  }
  if (today.rpe) {
    const double r = *today.rpe;
    signals.push_back({Clamp(100 - 15 * std::max(0.0, r - 6)), 0.10, r >= 9,
                       StringPrintf("the last run felt %.0f of 10", r)});
  }
  Readiness out;
  double weighted = 0, weights = 0;
  for (const Signal& s : signals) {
    weighted += s.sub * s.weight;
    weights += s.weight;
    out.red += s.red;
  }
  out.signals = static_cast<int>(signals.size());
  double score = weights > 0 ? weighted / weights : 100;
  std::stable_sort(signals.begin(), signals.end(),
                   [](const Signal& a, const Signal& b) { return a.sub < b.sub; });
  if (out.red >= 2 && score > 45) {
    score = 45;
    out.reasons.push_back(StringPrintf("%d signals red: capped at 45", out.red));
  }
  if (today.ill && score > 20) {
    score = 20;
    out.reasons.push_back("feeling ill: capped at 20");
  }
  for (const Signal& s : signals) {
    out.reasons.push_back(s.reason + (s.sub < 100 ? StringPrintf(": %.0f", s.sub) : ": 100") +
                          (s.red ? " (red)" : ""));
  }
  if (signals.empty() && !today.ill) {
    out.reasons.push_back(skipped.empty() ? "nothing to go on: no signal given"
                                          : "nothing scored yet: 100 until there is a baseline");
  }
  for (std::string& s : skipped) out.reasons.push_back(std::move(s));
  out.score = std::round(score);
  out.band = std::string(ReadinessBand(out.score));
  return out;
}

}  // namespace stride::engine
