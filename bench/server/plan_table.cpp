// SPDX-License-Identifier: Apache-2.0
//
// A coach's sanity table for the plan generator (issue 13): five runner types, the plan the
// generator makes for each (a 10-week 10 K or a 16-week marathon build), week by week: phase,
// planned km, the long run and the quality sessions (T threshold, I intervals, R repetitions).
// Prints Markdown; read beside Daniels' plan structure (bench/README.md).
//
//   build/bench/plan_table
#include <array>
#include <cstdio>
#include <string>
#include <vector>

#include "engine/text/iso_time.hpp"
#include "engine/training/plan.hpp"
#include "engine/training/vdot.hpp"

using namespace stride::engine;

namespace {

struct Runner {
  const char* name;
  double vdot;
  std::array<bool, 7> days;  // Monday first
  double minutes;
  double weekly_km, longest_m;
  double race_m;
  int weeks;
};

}  // namespace

int main() {
  const int64_t today = DaysFromCivil(2027, 1, 4);  // a Monday
  const Runner runners[] = {
      {"beginner, 3 runs a week, 10 K",
       30,
       {false, true, false, true, false, true, false},
       45,
       0,
       0,
       10000,
       10},
      {"10 K in 45:00, 10 K",
       VdotFromRace(10000, 45 * 60),
       {false, true, false, true, false, true, true},
       75,
       30,
       10000,
       10000,
       10},
      {"half in 1:35, marathon",
       VdotFromRace(21097.5, 95 * 60),
       {true, true, false, true, false, true, true},
       120,
       45,
       16000,
       42195,
       16},
      {"marathon in 3:10, marathon",
       VdotFromRace(42195, 190 * 60),
       {true, true, true, true, false, true, true},
       150,
       65,
       24000,
       42195,
       16},
      {"returning from a break, 10 K",
       45,
       {false, true, false, true, false, true, true},
       60,
       10,
       5000,
       10000,
       10},
  };
  for (const Runner& r : runners) {
    PlanInput in;
    in.today = today;
    in.available = r.days;
    in.minutes_per_day = r.minutes;
    in.weekly_km = r.weekly_km;
    in.longest_recent_m = r.longest_m;
    in.paces = PacesFromVdot(r.vdot);
    in.goal = PlanGoal{r.race_m, today + 7 * r.weeks - 1,
                       PredictRaceTimeS(r.vdot, r.race_m) / (r.race_m / 1000)};
    const TrainingPlan p = GeneratePlan(in);
    std::printf("\n### %s (VDOT %.1f, %d weeks, start %.0f km)\n\n", r.name, r.vdot, r.weeks,
                p.start_km);
    std::printf("| week | phase | km | long run km | quality |\n|---|---|---|---|---|\n");
    for (size_t w = 0; w < p.weeks.size(); ++w) {
      const PlanWeek& week = p.weeks[w];
      double long_km = 0;
      std::string quality;
      for (const PlannedDay& d : p.days) {
        if (d.day < week.start_day || d.day >= week.start_day + 7) continue;
        if (d.type == WorkoutType::kLong) long_km = d.distance_m / 1000;
        if (IsQuality(d.type) || d.type == WorkoutType::kRace) {
          double work = 0;
          for (const WorkoutStep& s : d.steps) {
            if (s.kind == "work" || d.type == WorkoutType::kRace) work += s.repeat * s.distance_m;
          }
          char buf[64];
          std::snprintf(buf, sizeof buf, "%s%s %.1f", quality.empty() ? "" : ", ",
                        d.type == WorkoutType::kThreshold    ? "T"
                        : d.type == WorkoutType::kIntervals  ? "I"
                        : d.type == WorkoutType::kRepetition ? "R"
                                                             : "race",
                        work / 1000);
          quality += buf;
        }
      }
      std::printf("| %zu | %s | %.1f | %s | %s |\n", w + 1, week.phase.c_str(), week.planned_km,
                  long_km > 0 ? std::to_string(long_km).substr(0, 4).c_str() : "-",
                  quality.empty() ? "-" : quality.c_str());
    }
    for (const std::string& warning : p.warnings) std::printf("\nwarning: %s\n", warning.c_str());
  }
  return 0;
}
