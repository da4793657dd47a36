// SPDX-License-Identifier: Apache-2.0
//
// Readiness: a morning check-in (HRV, resting heart rate, sleep, soreness, how hard the last run
// felt, feeling ill) scored 0-100 against the runner's own recent check-ins, with the reason for
// every point taken off (../shared/research/plugins.md §1.8).
//
// Each signal the check-in has gives a sub-score 0-100 and is "red" past a threshold:
//   HRV      ln rMSSD against the normal range of the 60 days before (mean +- 0.5 SD, the
//            smallest worthwhile change; at least 5 earlier mornings, else not scored):
//            100 inside or above the range, 100 + 50 (z + 0.5) below it; red below the range
//   rest HR  against the mean of the 60 days before (at least 5 mornings; else the profile's
//            resting HR): 100 up to +2 bpm, then -12 a bpm; red above +5 bpm
//   sleep    hours: 100 from 7 h, -20 an hour below; red under 6 h
//   soreness 0 (none) .. 10: 100 - 10 x soreness; red from 6
//   RPE      of the last run, 0 .. 10 (Borg CR10): 100 up to 6, -15 a point above; red from 9
// The score is the weighted mean of the sub-scores present (weights 0.30, 0.20, 0.20, 0.20,
// 0.10); two red signals or more cap it at 45 (research §1.8: downgrade quality when two
// signals are red); feeling ill caps it at 20. Bands: high >= 70, moderate >= 50, low >= 30,
// poor below. A check-in with no signal at all is 100 with the reason "nothing to go on" and
// `signals` 0, so callers can tell.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace stride::engine {

struct CheckIn {
  int64_t day = 0;  // local days since 1970-01-01
  std::optional<double> hrv_rmssd_ms;
  std::optional<double> rest_hr_bpm;
  std::optional<double> sleep_h;
  std::optional<double> soreness;  // 0..10
  std::optional<double> rpe;       // of the last run, 0..10
  bool ill = false;
};

struct Readiness {
  double score = 100;                // 0..100, rounded to a whole number
  std::string band;                  // "high", "moderate", "low", "poor"
  int signals = 0;                   // how many sub-scores went in
  int red = 0;                       // how many were red
  std::vector<std::string> reasons;  // one per signal scored or skipped, worst first
};

struct ReadinessOptions {
  int baseline_days = 60;
  int min_baseline = 5;
  double hrv_swc_sd = 0.5;
  std::optional<double> profile_rest_hr_bpm;  // when the check-ins give no baseline
};

// `history`: earlier check-ins, any order; those outside [today.day - baseline_days, today.day)
// are ignored.
Readiness AssessReadiness(const CheckIn& today, const std::vector<CheckIn>& history,
                          const ReadinessOptions& options = {});

std::string_view ReadinessBand(double score);

}  // namespace stride::engine
