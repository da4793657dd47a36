// SPDX-License-Identifier: Apache-2.0
//
// GeneratePlan: a training plan from today to a goal race (phases base, build, peak, taper) or,
// without a goal, a rolling 14 days at the runner's current volume, within the limits of
// ../shared/research/plugins.md §1.1, §1.6-1.7. What always holds (checked over thousands of
// random inputs by the tests):
//   - runs only on available days, none longer than the minutes available that day;
//   - a week under way when the plan starts gets the share of its target that its remaining
//     available days hold, less what the runner ran since its Monday (`done_this_week_km`);
//     its long run stays that of a whole week when the volume left holds it;
//   - weekly volume rises at most `max_weekly_ramp` over the highest week before it (or the
//     runner's current volume); every `block_weeks`-th week of a build is a recovery week
//     (x `recovery_factor`);
//   - a long run is at most `long_share` of its week (25 % above 64 km a week) when the week
//     has three runs or more, and at most `max_long_min`;
//   - no run (the race aside) is longer than `spike` x the longest run before its week: the
//     runner's longest of the last 30 days, or any run planned in an earlier week (volume that
//     would need a longer run is not planned);
//   - threshold work <= 10 % of the week, interval work <= min(10 km, 8 %), repetition work
//     <= min(8 km, 5 %); at most 3 quality days a week, never two days running, none in the two
//     days before the race;
//   - taper: the last 2 weeks before a half marathon or longer (1 week before shorter races)
//     at <= 75 % of the peak week (the highest before the taper, or start_km); in the race week the
//     runs besides the race add up to at most 40 % of the peak week.
// Workouts are structured (warm-up, repeats at a pace with recoveries, cool-down) at the
// runner's Daniels paces.
//
// Thread-safety: pure function.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/training/vdot.hpp"

namespace stride::engine {

enum class WorkoutType { kRest, kEasy, kLong, kThreshold, kIntervals, kRepetition, kRace };
std::string_view WorkoutTypeName(WorkoutType type);
bool IsQuality(WorkoutType type);  // threshold, intervals, repetition

struct WorkoutStep {
  std::string kind;          // "warmup", "work", "recovery", "cooldown", "steady"
  double distance_m = 0;     // of one repeat
  double pace_s_per_km = 0;  // target
  int repeat = 1;
};

struct PlannedDay {
  int64_t day = 0;  // local days since 1970-01-01
  WorkoutType type = WorkoutType::kRest;
  double distance_m = 0;  // all steps
  double duration_s = 0;  // at the target paces
  std::vector<WorkoutStep> steps;
  std::string phase;  // base, build, peak, taper, race, maintain
};

struct PlanGoal {
  double distance_m = 0;
  int64_t race_day = 0;
  double race_pace_s_per_km = 0;  // the target (or predicted) pace
};

struct PlanInput {
  int64_t today = 0;
  std::array<bool, 7> available{};  // Monday first
  double minutes_per_day = 60;
  double weekly_km = 0;          // what the runner runs now (recent weeks, or the profile)
  double longest_recent_m = 0;   // the longest run of the last 30 days; 0 = none
  double done_this_week_km = 0;  // run since this week's Monday (local), before the plan
  TrainingPaces paces;           // PacesFromVdot of the runner's VDOT
  std::optional<PlanGoal> goal;
  int rolling_days = 14;  // without a goal
};

struct PlanLimits {
  double max_weekly_ramp = 0.10;
  int block_weeks = 4;
  double recovery_factor = 0.85;
  double long_share = 0.30;
  double long_share_high_volume = 0.25;  // above 64 km a week
  double max_long_min = 150;
  double spike = 1.10;
  double threshold_share = 0.10;
  double interval_share = 0.08, max_interval_m = 10000;
  double repetition_share = 0.05, max_repetition_m = 8000;
  int max_quality_days = 3;
  double min_run_m = 3000;  // an easy run shorter than this is not worth planning
};

struct PlanWeek {
  int64_t start_day = 0;  // its Monday
  std::string phase;
  double target_km = 0;   // what the week was given
  double planned_km = 0;  // what its days add up to (the days before today not counted)
};

struct TrainingPlan {
  std::vector<PlannedDay> days;  // today .. the race (or today + rolling_days - 1)
  std::vector<PlanWeek> weeks;
  // Where the plan starts: the runner's weekly volume, or three 20-minute runs for a beginner;
  // the first reference of the ramp and of the taper.
  double start_km = 0;
  // What a coach would say before the first step: a goal the limits cannot prepare for in the
  // time left (the longest planned run far short of the race), no available day, ...
  std::vector<std::string> warnings;
};

// Monday = 0 .. Sunday = 6 of a local day.
int Weekday(int64_t day);

TrainingPlan GeneratePlan(const PlanInput& input, const PlanLimits& limits = {});

}  // namespace stride::engine
