// SPDX-License-Identifier: Apache-2.0
//
// Following what really happened: which planned day each run fulfilled, and how the coming
// days change when the runner is not ready for them.
//
// MatchRuns. A run fulfils a planned run on the same local day when its distance is at least
// `min_share` of the plan's (0.7 for a long run, 0.9 for a race); of several, the one closest
// to the plan's distance. A planned run before `today` with no such run is missed; today's is
// still planned. Every run not matched is extra (a run on a rest day, a second run, one far
// too short).
//
// AdjustPlan only lowers: a day becomes easier (quality or long -> easy, a shorter run, rest),
// never longer or harder than the generator made it. The rules, in order, each with its reason:
//   ill       a check-in said ill: that day and the next rest; then as many days as the
//             illness lasted (2..7) easy only, at most 70 % of the plan (a check-in that says
//             well again does not cut the return short)
//   readiness today's check-in (unless ill): poor (< 30): today rest, tomorrow easy; low
//             (30-49): today easy at 80 %
//   form      TSB below `tsb_floor` (-30): quality in the next 3 days -> easy at 80 %
//   ACWR      EWMA acute:chronic above `acwr_ceiling` (1.5): the next 7 days at 80 %, one
//             quality session at most
//   spike     a run today or yesterday over 1.30 x the longest of the 30 days before it
//             ("high" band): the 2 days after it easy at 80 %; 1.10-1.30 ("elevated"): the day
//             after it easy
//   missed    two or more planned runs missed in the last 7 days: the next 3 days easy (same
//             distance), and no cramming: while any run of the last 7 days was missed, no day
//             of the next 7 is longer than the plan had it before (`previous`), and a day the
//             plan had as rest stays rest
// Easy days are run at the easy pace; race days are never changed.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/training/plan.hpp"
#include "engine/training/readiness.hpp"

namespace stride::engine {

struct DoneRun {
  std::string run_id;
  int64_t day = 0;  // local
  double distance_m = 0;
};

enum class DayState { kRest, kPlanned, kDone, kMissed };
std::string_view DayStateName(DayState state);

struct RunMatch {
  std::vector<DayState> state;       // per planned day
  std::vector<std::string> run_ids;  // per planned day: the run that fulfilled it
  std::vector<size_t> extra;         // indexes of the runs that fulfilled nothing
};

struct MatchOptions {
  double min_share = 0.5;
  double min_share_long = 0.7;
  double min_share_race = 0.9;
};

RunMatch MatchRuns(const std::vector<PlannedDay>& days, const std::vector<DoneRun>& runs,
                   int64_t today, const MatchOptions& options = {});

struct AdaptSignals {
  int64_t today = 0;
  std::optional<Readiness> readiness;  // today's check-in, when there is one
  // The last day a check-in said ill (within the last 2 weeks) and how many days running
  // the check-ins said so up to it.
  std::optional<int64_t> last_ill_day;
  int ill_days = 0;
  double tsb = 0;        // today's form (Coggan PMC)
  double acwr_ewma = 0;  // NaN or 0 when unknown
  // The last run within a day of today and its spike band (SpikeOf): "ok", "elevated", "high".
  std::optional<int64_t> spike_day;
  std::string spike_band;
  double spike_ratio = 0;
  int missed_last_7 = 0;  // planned runs of the 7 days before today that were missed
};

struct AdaptOptions {
  double tsb_floor = -30;
  double acwr_ceiling = 1.5;
  int missed_threshold = 2;
  double reduce = 0.8;
  double ill_share = 0.7;
};

struct Adjustment {
  int64_t day = 0;
  PlannedDay before;  // as the generator made it
  PlannedDay after;
  std::vector<std::string> reasons;   // every rule that changed it, in order
  std::vector<std::string> triggers;  // "ill", "readiness", "form", "acwr", "spike", "missed"
};

// Adjusts `days` (the generator's plan from today on) in place; returns one Adjustment per day
// changed. `previous`: the days the plan had before this recalculation (any range; those from
// today on are the no-cramming reference).
std::vector<Adjustment> AdjustPlan(std::vector<PlannedDay>* days, const AdaptSignals& signals,
                                   const std::vector<PlannedDay>& previous,
                                   const TrainingPaces& paces, const AdaptOptions& options = {});

}  // namespace stride::engine
