// SPDX-License-Identifier: Apache-2.0
#include "engine/training/plan.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace stride::engine {
namespace {

struct WeekPlan {
  std::vector<int64_t> days;  // the week's days inside [today, last day]
  std::vector<int64_t> runs;  // of those, the available ones
};

// Ceiling of weekly volume by goal distance (km): enough for the race, not a pro's load.
double GoalCeilingKm(double distance_m) {
  if (distance_m <= 5000) return 50;
  if (distance_m <= 10000) return 60;
  if (distance_m <= 21097.5) return 75;
  return 95;
}

double DurationS(const std::vector<WorkoutStep>& steps) {
  double s = 0;
  for (const WorkoutStep& w : steps) s += w.repeat * w.distance_m / 1000 * w.pace_s_per_km;
  return s;
}

double DistanceM(const std::vector<WorkoutStep>& steps) {
  double d = 0;
  for (const WorkoutStep& w : steps) d += w.repeat * w.distance_m;
  return d;
}

PlannedDay Steady(int64_t day, WorkoutType type, double distance_m, double pace) {
  PlannedDay d;
  d.day = day;
  d.type = type;
  d.steps = {{"steady", distance_m, pace, 1}};
  d.distance_m = distance_m;
  d.duration_s = DurationS(d.steps);
  return d;
}

// A quality session: warm-up, `work_m` at `pace` in repeats of `rep_m` with `recovery_m` jogs,
// cool-down; shortened to fit `max_s` (warm-up and cool-down first, then repeats).
PlannedDay Quality(int64_t day, WorkoutType type, double work_m, double rep_m, double pace,
                   double recovery_m, const TrainingPaces& paces, double max_s) {
  const int n = std::max(1, static_cast<int>(std::floor(work_m / rep_m + 1e-9)));
  const double rep = work_m < rep_m ? work_m : rep_m;
  double warm = 2000, cool = 1500;
  int reps = n;
  auto build = [&] {
    std::vector<WorkoutStep> s = {{"warmup", warm, paces.easy_slow, 1}, {"work", rep, pace, reps}};
    if (reps > 1) s.push_back({"recovery", recovery_m, paces.easy_slow, reps - 1});
    s.push_back({"cooldown", cool, paces.easy_slow, 1});
    return s;
  };
  std::vector<WorkoutStep> steps = build();
  while (DurationS(steps) > max_s && (warm > 1000 || cool > 1000)) {
    warm = std::max(1000.0, warm - 500);
    cool = std::max(1000.0, cool - 500);
    steps = build();
  }
  while (DurationS(steps) > max_s && reps > 1) {
    --reps;
    steps = build();
  }
  PlannedDay d;
  d.day = day;
  d.type = type;
  d.steps = std::move(steps);
  d.distance_m = DistanceM(d.steps);
  d.duration_s = DurationS(d.steps);
  return d;
}

}  // namespace

std::string_view WorkoutTypeName(WorkoutType t) {
  switch (t) {
    case WorkoutType::kRest:
      return "rest";
    case WorkoutType::kEasy:
      return "easy";
    case WorkoutType::kLong:
      return "long";
    case WorkoutType::kThreshold:
      return "threshold";
    case WorkoutType::kIntervals:
      return "intervals";
    case WorkoutType::kRepetition:
      return "repetition";
    case WorkoutType::kRace:
      return "race";
  }
  return "rest";
}

bool IsQuality(WorkoutType t) {
  return t == WorkoutType::kThreshold || t == WorkoutType::kIntervals ||
         t == WorkoutType::kRepetition;
}

int Weekday(int64_t day) {
  return static_cast<int>(((day + 3) % 7 + 7) % 7);  // 1970-01-01 was a Thursday
}

TrainingPlan GeneratePlan(const PlanInput& in, const PlanLimits& lim) {
  TrainingPlan plan;
  const bool has_goal = in.goal && in.goal->race_day >= in.today;
  const int64_t last = has_goal ? in.goal->race_day : in.today + std::max(1, in.rolling_days) - 1;
  const int64_t first_monday = in.today - Weekday(in.today);
  const int n_weeks = static_cast<int>((last - Weekday(last) - first_monday) / 7) + 1;
  const double easy = in.paces.easy_slow;        // easy runs and jogs
  const double max_s = in.minutes_per_day * 60;  // per day
  const double max_run_m = max_s / easy * 1000;  // an easy run that fills the day
  int available_per_week = 0;
  for (bool a : in.available) available_per_week += a;

  // Phases: taper (race week included) at the end, the rest split base 25 : build 35 :
  // peak 25 (the split of the research page without its 15 % taper).
  const int taper_weeks = has_goal ? (in.goal->distance_m >= 21000 ? 2 : 1) : 0;
  const int remaining = std::max(0, n_weeks - taper_weeks);
  const int peak_weeks = static_cast<int>(std::lround(remaining * 25.0 / 85));
  const int build_weeks = static_cast<int>(std::lround(remaining * 35.0 / 85));
  const int base_weeks = std::max(0, remaining - peak_weeks - build_weeks);
  auto phase_of = [&](int w) -> std::string {
    if (!has_goal) return "maintain";
    if (w == n_weeks - 1) return "race";
    if (w >= n_weeks - taper_weeks) return "taper";
    if (w < base_weeks) return "base";
    if (w < base_weeks + build_weeks) return "build";
    return "peak";
  };

  // Where the runner starts: their volume, or three 20-minute runs for a beginner.
  const double floor_km = std::min(available_per_week, 3) * 20 * 60 / easy;
  const double start_km = std::max(in.weekly_km, floor_km);
  plan.start_km = start_km;
  const double ceiling_km =
      has_goal ? std::max(start_km, GoalCeilingKm(in.goal->distance_m)) : start_km;
  double ramp_ref = start_km;  // the highest week target so far
  double last_target = start_km, peak_target = start_km;
  // The spike rule's reference: the longest run before the week (the runner's recent longest,
  // then the plan's own runs). A runner with no recent run starts from what one run of their
  // current week would be.
  double run_ref_m = in.longest_recent_m;
  const double first_ref_m = start_km * 1000 / std::max(1, available_per_week);
  int build_index = 0;  // weeks of base/build/peak so far (recovery every block_weeks-th)

  for (int w = 0; w < n_weeks; ++w) {
    const int64_t monday = first_monday + 7 * w;
    const std::string phase = phase_of(w);
    WeekPlan wp;
    for (int64_t d = monday; d < monday + 7; ++d) {
      if (d < in.today || d > last) continue;
      wp.days.push_back(d);
      if (in.available[static_cast<size_t>(Weekday(d))]) wp.runs.push_back(d);
    }
    const bool race_week = has_goal && w == n_weeks - 1;
    // The week's target volume.
    double target = start_km;
    if (phase == "maintain") {
      target = start_km;
    } else if (phase == "taper" || phase == "race") {
      target = (race_week ? 0.40 : 0.75) * peak_target;
    } else {
      ++build_index;
      if (w == 0) {
        target = start_km;
      } else if (build_index % lim.block_weeks == 0) {
        target = last_target * lim.recovery_factor;
      } else if (phase == "peak") {
        target = std::min(ramp_ref, ceiling_km);
      } else {
        target = std::min(
            {ramp_ref * (1 + lim.max_weekly_ramp), ceiling_km, std::max(ramp_ref, ceiling_km)});
      }
      target = std::min(target, ramp_ref * (1 + lim.max_weekly_ramp));
    }
    // No single run may spike: every run of the week stays under spike x the reference.
    const double run_cap_m =
        std::min(max_run_m, lim.spike * (run_ref_m > 0 ? run_ref_m : first_ref_m));
    // (A week under way is a whole week's target; what is left of it is cut below.)
    const size_t cap_runs = w == 0 && wp.days.size() < 7 && !race_week
                                ? static_cast<size_t>(available_per_week)
                                : wp.runs.size();
    const double capacity_km = static_cast<double>(cap_runs) * run_cap_m / 1000;
    target = std::min(target, capacity_km);
    if (!race_week) {
      ramp_ref = std::max(ramp_ref, target);
      peak_target = std::max(peak_target, target);
    }
    last_target = target;

    // The days: long run, quality days, easy runs, rest.
    std::vector<PlannedDay> days;
    for (int64_t d : wp.days) {
      PlannedDay rest;
      rest.day = d;
      days.push_back(rest);
    }
    auto at = [&](int64_t d) -> PlannedDay& { return days[static_cast<size_t>(d - wp.days[0])]; };
    double volume_m = target * 1000;
    // A week already under way when the plan starts gets the share of its target that its
    // remaining available days hold, less what the runner ran since its Monday.
    if (wp.days.size() < 7 && w == 0 && available_per_week > 0) {
      volume_m = std::min(
          volume_m * std::min(1.0, static_cast<double>(wp.runs.size()) / available_per_week),
          std::max(0.0, volume_m - in.done_this_week_km * 1000));
    }
    std::vector<int64_t> free = wp.runs;
    if (race_week) {
      PlannedDay race =
          Steady(last, WorkoutType::kRace, in.goal->distance_m,
                 in.goal->race_pace_s_per_km > 0 ? in.goal->race_pace_s_per_km : in.paces.marathon);
      at(last) = race;
      free.erase(std::remove(free.begin(), free.end(), last), free.end());
      // Nothing but easy running in the two days before the race.
    }
    const size_t runs = free.size() + (race_week ? 1 : 0);
    int64_t long_day = -1;
    if (!race_week && !free.empty()) {
      long_day = free.back();
      // The share of a whole week's runs (a week under way has fewer left).
      const size_t week_runs = std::max<size_t>(free.size(), available_per_week);
      const double share = week_runs >= 3
                               ? (target > 64 ? lim.long_share_high_volume : lim.long_share)
                               : 1.0 / static_cast<double>(week_runs);
      double long_m = std::min(
          {share * target * 1000, volume_m, lim.max_long_min * 60 / easy * 1000, run_cap_m});
      long_m = std::floor(long_m / 100) * 100;
      if (long_m >= lim.min_run_m) {
        at(long_day) = Steady(long_day, WorkoutType::kLong, long_m, easy);
        volume_m -= long_m;
        free.pop_back();
      } else {
        long_day = -1;
      }
    }
    // Quality sessions, by phase.
    std::vector<WorkoutType> kinds;
    if (phase == "maintain" || phase == "base") {
      if (wp.runs.size() >= 4) kinds = {WorkoutType::kThreshold};
    } else if (phase == "build") {
      kinds = {WorkoutType::kThreshold, WorkoutType::kIntervals};
    } else if (phase == "peak") {
      kinds = in.goal->distance_m <= 10000
                  ? std::vector<WorkoutType>{WorkoutType::kIntervals, WorkoutType::kRepetition}
                  : std::vector<WorkoutType>{WorkoutType::kThreshold, WorkoutType::kIntervals};
    } else if (phase == "taper") {
      kinds = {WorkoutType::kThreshold};
    }
    const size_t max_q =
        std::min<size_t>(static_cast<size_t>(lim.max_quality_days), runs >= 2 ? runs - 2 : 0);
    if (kinds.size() > max_q) kinds.resize(max_q);
    std::vector<int64_t> quality_days;
    auto blocked = [&](int64_t d) {
      if (long_day >= 0 && std::abs(d - long_day) <= 1) return true;
      for (int64_t q : quality_days) {
        if (std::abs(d - q) <= 1) return true;
      }
      return has_goal && d < in.goal->race_day && d >= in.goal->race_day - 2;
    };
    const double week_m = target * 1000;
    for (WorkoutType k : kinds) {
      auto slot = std::find_if(free.begin(), free.end(), [&](int64_t d) { return !blocked(d); });
      if (slot == free.end()) break;
      PlannedDay q;
      if (k == WorkoutType::kThreshold) {
        q = Quality(*slot, k, lim.threshold_share * week_m, 1600, in.paces.threshold, 200, in.paces,
                    max_s);
      } else if (k == WorkoutType::kIntervals) {
        q = Quality(*slot, k, std::min(lim.interval_share * week_m, lim.max_interval_m), 1000,
                    in.paces.interval, 400, in.paces, max_s);
      } else {
        q = Quality(*slot, k, std::min(lim.repetition_share * week_m, lim.max_repetition_m), 400,
                    in.paces.repetition, 400, in.paces, max_s);
      }
      if (q.duration_s > max_s || q.distance_m > run_cap_m) break;  // does not fit the day
      if (q.distance_m > volume_m) break;  // the week has no room left for it
      // Never longer than the week's long run: in a low-volume week the long run stays the
      // longest, and the week's quality waits for volume (easy running meanwhile).
      if (long_day >= 0 && q.distance_m > at(long_day).distance_m) break;
      volume_m -= q.distance_m;
      quality_days.push_back(*slot);
      at(*slot) = std::move(q);
      free.erase(slot);
    }
    // Easy runs share what is left; fewer of them when each would be too short.
    size_t n_easy = free.size();
    while (n_easy > 0 && volume_m / static_cast<double>(n_easy) < lim.min_run_m) --n_easy;
    if (n_easy > 0) {
      const double each =
          std::floor(std::min(volume_m / static_cast<double>(n_easy), run_cap_m) / 100) * 100;
      // Spread over the week: every k-th free day.
      for (size_t i = 0; i < n_easy; ++i) {
        const size_t idx = i * free.size() / n_easy;
        at(free[idx]) = Steady(free[idx], WorkoutType::kEasy, each, easy);
      }
    }
    PlanWeek week;
    week.start_day = monday;
    week.phase = phase;
    week.target_km = target;
    for (PlannedDay& d : days) {
      d.phase = phase;
      week.planned_km += d.distance_m / 1000;
      if (d.type != WorkoutType::kRace) run_ref_m = std::max(run_ref_m, d.distance_m);
      plan.days.push_back(std::move(d));
    }
    plan.weeks.push_back(week);
  }
  if (available_per_week == 0) plan.warnings.push_back("no available day: nothing planned");
  if (has_goal) {
    double longest = 0;
    for (const PlannedDay& d : plan.days) {
      if (d.type != WorkoutType::kRace) longest = std::max(longest, d.distance_m);
    }
    // Half and full marathons want long runs of about 60 % and more of the race; shorter
    // races, runs as long as the race.
    const double want =
        in.goal->distance_m >= 21000 ? 0.6 * in.goal->distance_m : in.goal->distance_m;
    if (longest < want) {
      char buf[200];
      std::snprintf(buf, sizeof buf,
                    "the longest run the limits allow before the race is %.1f km, short of the "
                    "%.1f km this race asks for: consider a later or shorter race",
                    longest / 1000, want / 1000);
      plan.warnings.push_back(buf);
    }
  }
  return plan;
}

}  // namespace stride::engine
