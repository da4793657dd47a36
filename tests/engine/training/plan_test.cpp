// SPDX-License-Identifier: Apache-2.0
// The plan generator's invariants over thousands of random runners and goals, and the shape of
// a few plans a coach would recognise.
#include "engine/training/plan.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace stride::engine {
namespace {

constexpr double kEps = 1e-6;

// Checks every invariant the header promises; returns the number of failures it reported.
void ExpectInvariants(const PlanInput& in, const TrainingPlan& p, const PlanLimits& lim,
                      const std::string& what) {
  ASSERT_FALSE(p.days.empty()) << what;
  EXPECT_EQ(p.days.front().day, in.today) << what;
  const int64_t last = in.goal ? in.goal->race_day : in.today + in.rolling_days - 1;
  EXPECT_EQ(p.days.back().day, last) << what;
  // The runner's start (their volume, or the beginner's three short runs) is the first
  // reference of the ramp and of the taper.
  EXPECT_GE(p.start_km, in.weekly_km) << what;
  double ramp_ref = p.start_km, peak = p.start_km;
  double run_ref = in.longest_recent_m;  // 0: no reference before the plan's first runs
  for (size_t w = 0; w < p.weeks.size(); ++w) {
    const PlanWeek& week = p.weeks[w];
    std::vector<const PlannedDay*> days;
    for (const PlannedDay& d : p.days) {
      if (d.day >= week.start_day && d.day < week.start_day + 7) days.push_back(&d);
    }
    const bool race_week = in.goal && w + 1 == p.weeks.size();
    // Ramp: over the highest week target before it (or the runner's start).
    if (w > 0 && !race_week) {
      EXPECT_LE(week.target_km, ramp_ref * (1 + lim.max_weekly_ramp) + kEps) << what << " w" << w;
    }
    EXPECT_LE(week.planned_km, week.target_km + kEps + (race_week ? in.goal->distance_m / 1000 : 0))
        << what << " w" << w;
    // A week under way: what is left of it, less what the runner ran since Monday.
    if (w == 0 && week.start_day < in.today && !race_week) {
      EXPECT_LE(week.planned_km, std::max(0.0, week.target_km - in.done_this_week_km) + kEps)
          << what << " the week under way";
    }
    if (!race_week) {
      ramp_ref = std::max(ramp_ref, week.target_km);
    }
    int quality = 0, runs = 0;
    double threshold_m = 0, interval_m = 0, repetition_m = 0, long_m = 0, race_m = 0;
    double longest_quality_m = 0;
    int64_t prev_quality = -10;
    for (const PlannedDay* d : days) {
      const bool available = in.available[static_cast<size_t>(Weekday(d->day))];
      if (d->type == WorkoutType::kRest) {
        EXPECT_EQ(d->distance_m, 0) << what;
        continue;
      }
      ++runs;
      if (d->type != WorkoutType::kRace) {
        EXPECT_TRUE(available) << what << " a run on an unavailable day " << d->day;
        EXPECT_LE(d->duration_s, in.minutes_per_day * 60 + 1) << what << " day " << d->day;
      }
      if (d->type == WorkoutType::kRace) race_m += d->distance_m;
      if (d->type != WorkoutType::kRace && run_ref > 0) {
        EXPECT_LE(d->distance_m, lim.spike * run_ref + kEps) << what << " spike on " << d->day;
      }
      if (d->type == WorkoutType::kLong) {
        long_m = d->distance_m;
        EXPECT_LE(d->duration_s, lim.max_long_min * 60 + 1) << what;
      }
      if (IsQuality(d->type)) {
        ++quality;
        longest_quality_m = std::max(longest_quality_m, d->distance_m);
        EXPECT_GT(d->day - prev_quality, 1) << what << " two quality days running";
        prev_quality = d->day;
        if (in.goal) {
          EXPECT_FALSE(d->day < in.goal->race_day && d->day >= in.goal->race_day - 2) << what;
        }
        for (const WorkoutStep& s : d->steps) {
          if (s.kind != "work") continue;
          const double work = s.distance_m * s.repeat;
          if (d->type == WorkoutType::kThreshold) threshold_m += work;
          if (d->type == WorkoutType::kIntervals) interval_m += work;
          if (d->type == WorkoutType::kRepetition) repetition_m += work;
        }
      }
    }
    // This week's runs are the spike reference of the next weeks' (checked per day above).
    for (const PlannedDay* d : days) {
      if (d->type != WorkoutType::kRace) run_ref = std::max(run_ref, d->distance_m);
    }
    const double week_m = week.target_km * 1000;
    EXPECT_LE(quality, lim.max_quality_days) << what;
    EXPECT_LE(threshold_m, lim.threshold_share * week_m + kEps) << what;
    EXPECT_LE(interval_m, std::min(lim.interval_share * week_m, lim.max_interval_m) + kEps) << what;
    EXPECT_LE(repetition_m, std::min(lim.repetition_share * week_m, lim.max_repetition_m) + kEps)
        << what;
    // The long run is the week's longest: no quality session outgrows it.
    if (long_m > 0) {
      EXPECT_LE(longest_quality_m, long_m + kEps)
          << what << " a quality day over the long run w" << w;
    }
    if (runs >= 3 && long_m > 0) {
      const double share = week.target_km > 64 ? lim.long_share_high_volume : lim.long_share;
      EXPECT_LE(long_m, share * week_m + kEps) << what << " long share w" << w;
    }
    if (week.phase != "taper" && week.phase != "race") peak = std::max(peak, week.target_km);
    if (week.phase == "taper") {
      EXPECT_LE(week.target_km, 0.75 * peak + kEps) << what;
    }
    if (race_week) {
      EXPECT_NEAR(race_m, in.goal->distance_m, kEps) << what;
      EXPECT_LE(week.planned_km - race_m / 1000, 0.40 * peak + kEps) << what;
    }
  }
}

TEST(PlanGenerator, InvariantsHoldForThousandsOfRandomRunners) {
  std::mt19937 rng(20261201);
  std::uniform_real_distribution<double> u(0, 1);
  const PlanLimits lim;
  for (int i = 0; i < 3000; ++i) {
    PlanInput in;
    in.today = 20400 + static_cast<int64_t>(u(rng) * 700);
    for (bool& a : in.available) a = u(rng) < 0.6;
    in.minutes_per_day = 20 + u(rng) * 160;
    in.weekly_km = u(rng) < 0.2 ? 0 : u(rng) * 90;
    in.longest_recent_m = u(rng) < 0.3 ? 0 : 3000 + u(rng) * 30000;
    in.done_this_week_km = u(rng) < 0.5 ? 0 : u(rng) * in.weekly_km;
    in.paces = PacesFromVdot(28 + u(rng) * 45);
    if (u(rng) < 0.7) {
      const double distances[] = {5000, 10000, 21097.5, 42195};
      PlanGoal g;
      g.distance_m = distances[static_cast<int>(u(rng) * 4)];
      g.race_day = in.today + static_cast<int64_t>(u(rng) * 200);
      g.race_pace_s_per_km = in.paces.threshold;
      in.goal = g;
    } else {
      in.rolling_days = 7 + static_cast<int>(u(rng) * 21);
    }
    const TrainingPlan p = GeneratePlan(in, lim);
    ExpectInvariants(in, p, lim, "runner " + std::to_string(i));
    if (HasFailure()) break;  // one runner's report is enough to debug
  }
}

TEST(PlanGenerator, A16WeekMarathonBuildHasPhasesLongRunsAndATaper) {
  PlanInput in;
  in.today = 20458;  // Monday 2026-01-05
  ASSERT_EQ(Weekday(in.today), 0);
  in.available = {true, true, false, true, false, true, true};  // 5 days
  in.minutes_per_day = 150;
  in.weekly_km = 50;
  in.longest_recent_m = 18000;
  in.paces = PacesFromVdot(50);
  in.goal = PlanGoal{42195, in.today + 16 * 7 - 1, in.paces.marathon};  // Sunday of week 16
  const TrainingPlan p = GeneratePlan(in);
  ASSERT_EQ(p.weeks.size(), 16u);
  EXPECT_EQ(p.weeks[0].phase, "base");
  EXPECT_EQ(p.weeks[14].phase, "taper");
  EXPECT_EQ(p.weeks[15].phase, "race");
  double peak = 0;
  for (const PlanWeek& w : p.weeks) peak = std::max(peak, w.target_km);
  EXPECT_GT(peak, 60);  // rises from 50 km
  EXPECT_LE(peak, 95);  // the marathon ceiling
  EXPECT_EQ(p.days.back().type, WorkoutType::kRace);
  int quality_in_build = 0;
  for (const PlannedDay& d : p.days) {
    if (d.phase == "build" && IsQuality(d.type)) ++quality_in_build;
  }
  EXPECT_GT(quality_in_build, 0);
  ExpectInvariants(in, p, {}, "marathon");
}

TEST(PlanGenerator, AMarathonTooSoonForTheRunnerIsPlannedSafelyAndFlagged) {
  PlanInput in;
  in.today = 20458;
  in.available = {false, true, false, true, false, true, true};
  in.minutes_per_day = 90;
  in.weekly_km = 10;  // back from a break
  in.longest_recent_m = 5000;
  in.paces = PacesFromVdot(45);
  in.goal = PlanGoal{42195, in.today + 16 * 7 - 1, in.paces.marathon};
  const TrainingPlan p = GeneratePlan(in);
  ExpectInvariants(in, p, {}, "returning");
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_NE(p.warnings[0].find("consider a later or shorter race"), std::string::npos);
  in.goal = std::nullopt;
  EXPECT_TRUE(GeneratePlan(in).warnings.empty());
}

TEST(PlanGenerator, WithoutAGoalItKeepsTheCurrentVolumeForTwoWeeks) {
  PlanInput in;
  in.today = 20460;  // Wednesday 2026-01-07
  in.available = {true, false, true, false, true, false, true};
  in.minutes_per_day = 60;
  in.weekly_km = 25;
  in.paces = PacesFromVdot(42);
  const TrainingPlan p = GeneratePlan(in);
  EXPECT_EQ(p.days.size(), 14u);
  for (const PlanWeek& w : p.weeks) {
    EXPECT_EQ(w.phase, "maintain");
    EXPECT_LE(w.target_km, 25 + kEps);
  }
  ExpectInvariants(in, p, {}, "rolling");
}

}  // namespace
}  // namespace stride::engine
