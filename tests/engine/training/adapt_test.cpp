// SPDX-License-Identifier: Apache-2.0
//
// Readiness against hand-computed scores, run-to-day matching, and the workout adjuster's rules,
// each rule alone and the "only lowers / never crams" property over random plans and signals.
#include "engine/training/adapt.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>

#include "engine/text/iso_time.hpp"
#include "engine/time/time_zone.hpp"
#include "engine/training/readiness.hpp"

namespace stride::engine {
namespace {

int64_t Day(int y, unsigned m, unsigned d) {
  return DaysFromCivil(y, m, d);
}

std::vector<CheckIn> TenMornings(int64_t today) {
  std::vector<CheckIn> h;
  for (int i = 1; i <= 10; ++i) {
    CheckIn c;
    c.day = today - i;
    c.hrv_rmssd_ms = i % 2 ? 50 : 60;
    c.rest_hr_bpm = 52;
    h.push_back(c);
  }
  return h;
}

TEST(Readiness, ScoresEachSignalAgainstTheRunnersOwnBaseline) {
  const int64_t today = Day(2026, 12, 1);
  // ln 50, ln 60 five times each: mean 4.00318, SD 0.09609; ln 45 = 3.80666, z = -2.0451,
  // HRV 100 + 50 (z + 0.5) = 22.74 (red); rest HR +6 bpm: 100 - 12 x 4 = 52 (red); 5.5 h of
  // sleep: 70 (red); soreness 3: 70; RPE 7: 85. Weighted: 53.72; three red: capped at 45.
  CheckIn c;
  c.day = today;
  c.hrv_rmssd_ms = 45;
  c.rest_hr_bpm = 58;
  c.sleep_h = 5.5;
  c.soreness = 3;
  c.rpe = 7;
  const Readiness r = AssessReadiness(c, TenMornings(today));
  EXPECT_EQ(r.score, 45);
  EXPECT_EQ(r.band, "low");
  EXPECT_EQ(r.signals, 5);
  EXPECT_EQ(r.red, 3);
  ASSERT_GE(r.reasons.size(), 6u);
  EXPECT_EQ(r.reasons[0], "3 signals red: capped at 45");
  EXPECT_NE(r.reasons[1].find("HRV 45 ms"), std::string::npos) << r.reasons[1];  // worst first
  EXPECT_NE(r.reasons[1].find(": 23 (red)"), std::string::npos) << r.reasons[1];

  // Within range: HRV 55 (z +0.04) 100, rest HR +1 100, 6.5 h 90, soreness 2 80, RPE 7 85:
  // 30 + 20 + 18 + 16 + 8.5 = 92.5 -> 93.
  c.hrv_rmssd_ms = 55;
  c.rest_hr_bpm = 53;
  c.sleep_h = 6.5;
  c.soreness = 2;
  const Readiness fine = AssessReadiness(c, TenMornings(today));
  EXPECT_EQ(fine.score, 93);
  EXPECT_EQ(fine.band, "high");
  EXPECT_EQ(fine.red, 0);

  // Only what is given counts: sleep 8 h (100) and soreness 1 (90) -> 95.
  CheckIn few;
  few.day = today;
  few.sleep_h = 8;
  few.soreness = 1;
  EXPECT_EQ(AssessReadiness(few, {}).score, 95);
  few.ill = true;
  const Readiness ill = AssessReadiness(few, {});
  EXPECT_EQ(ill.score, 20);
  EXPECT_EQ(ill.band, "poor");
}

TEST(Readiness, WithoutABaselineHrvWaitsAndRestingHeartRateUsesTheProfile) {
  const int64_t today = Day(2026, 12, 1);
  const std::vector<CheckIn> ten = TenMornings(today);
  const std::vector<CheckIn> three(ten.begin(), ten.begin() + 3);
  CheckIn c;
  c.day = today;
  c.hrv_rmssd_ms = 30;  // would be far below: not scored without 5 mornings
  c.rest_hr_bpm = 54;
  ReadinessOptions o;
  o.profile_rest_hr_bpm = 50;  // 3 mornings are no baseline either: +4 bpm -> 76
  const Readiness r = AssessReadiness(c, three, o);
  EXPECT_EQ(r.signals, 1);
  EXPECT_EQ(r.score, 76);
  bool waits = false;
  for (const std::string& s : r.reasons)
    waits |= s == "HRV not scored: 3 of 5 earlier mornings for a baseline";
  EXPECT_TRUE(waits);
  // Mornings older than 60 days or from today on are no baseline.
  std::vector<CheckIn> old = TenMornings(today - 61);
  EXPECT_EQ(AssessReadiness(c, old).signals, 0);
  EXPECT_EQ(AssessReadiness(c, old).reasons.front(),
            "nothing scored yet: 100 until there is a baseline");
  EXPECT_EQ(AssessReadiness(c, old).reasons.back(),
            "resting HR not scored: 0 of 5 earlier mornings and none in the profile");
}

PlannedDay Planned(int64_t day, WorkoutType type, double m) {
  PlannedDay d;
  d.day = day;
  d.type = type;
  d.distance_m = m;
  d.steps = {{"steady", m, 330, 1}};
  return d;
}

TEST(MatchRuns, SameDayAndEnoughOfTheDistance) {
  const int64_t t = Day(2026, 12, 10);
  const std::vector<PlannedDay> days = {
      Planned(t - 4, WorkoutType::kEasy, 8000),   Planned(t - 3, WorkoutType::kRest, 0),
      Planned(t - 2, WorkoutType::kLong, 16000),  Planned(t - 1, WorkoutType::kEasy, 6000),
      Planned(t, WorkoutType::kThreshold, 10000), Planned(t + 1, WorkoutType::kEasy, 8000)};
  const std::vector<DoneRun> runs = {
      {"a", t - 4, 3000},   // too short for 8 km (a second run that day)
      {"b", t - 4, 7000},   // the one closest: done
      {"c", t - 3, 5000},   // on a rest day: extra
      {"d", t - 2, 11000},  // < 70 % of a 16 km long run: the day is missed, the run extra
      {"e", t, 9000}};      // today: done
  const RunMatch m = MatchRuns(days, runs, t);
  EXPECT_EQ(m.state[0], DayState::kDone);
  EXPECT_EQ(m.run_ids[0], "b");
  EXPECT_EQ(m.state[1], DayState::kRest);
  EXPECT_EQ(m.state[2], DayState::kMissed);
  EXPECT_EQ(m.state[3], DayState::kMissed);
  EXPECT_EQ(m.state[4], DayState::kDone);
  EXPECT_EQ(m.state[5], DayState::kPlanned);
  EXPECT_EQ(m.extra, (std::vector<size_t>{0, 2, 3}));
  // 11.2 km makes the long run.
  EXPECT_EQ(MatchRuns(days, {{"d", t - 2, 11200}}, t).state[2], DayState::kDone);
}

// The generator's two weeks for a 40 km runner with a 10 K goal 8 weeks out.
std::vector<PlannedDay> PlanFor(int64_t today, TrainingPaces* paces) {
  PlanInput in;
  in.today = today;
  in.available = {true, true, false, true, false, true, true};
  in.minutes_per_day = 120;
  in.weekly_km = 40;
  in.longest_recent_m = 14000;
  in.paces = PacesFromVdot(48);
  in.goal = PlanGoal{10000, today + 56, 270};
  *paces = in.paces;
  return GeneratePlan(in).days;
}

const PlannedDay* At(const std::vector<PlannedDay>& days, int64_t day) {
  for (const PlannedDay& d : days) {
    if (d.day == day) return &d;
  }
  return nullptr;
}

TEST(AdjustPlan, EachRuleChangesTheDaysItNamesAndSaysWhy) {
  const int64_t t = Day(2026, 12, 8);  // a Tuesday
  TrainingPaces paces;
  const std::vector<PlannedDay> plan = PlanFor(t, &paces);
  ASSERT_EQ(At(plan, t)->type, WorkoutType::kThreshold) << "the test expects quality today";

  {  // Poor readiness: today rest; tomorrow not hard.
    std::vector<PlannedDay> days = plan;
    AdaptSignals s;
    s.today = t;
    Readiness r;
    r.score = 25;
    r.band = "poor";
    r.reasons = {"slept 4.0 h: 40 (red)"};
    s.readiness = r;
    const std::vector<Adjustment> a = AdjustPlan(&days, s, {}, paces);
    ASSERT_FALSE(a.empty());
    EXPECT_EQ(a[0].day, t);
    EXPECT_EQ(At(days, t)->type, WorkoutType::kRest);
    EXPECT_EQ(a[0].reasons[0], "readiness 25 (poor): slept 4.0 h: 40 (red)");
    EXPECT_EQ(a[0].before.type, WorkoutType::kThreshold);
  }
  {  // Low readiness: today's session becomes an easy run of 80 %.
    std::vector<PlannedDay> days = plan;
    AdaptSignals s;
    s.today = t;
    Readiness r;
    r.score = 45;
    r.band = "low";
    s.readiness = r;
    AdjustPlan(&days, s, {}, paces);
    EXPECT_EQ(At(days, t)->type, WorkoutType::kEasy);
    EXPECT_NEAR(At(days, t)->distance_m, std::floor(0.8 * At(plan, t)->distance_m / 100) * 100, 1);
    EXPECT_NEAR(At(days, t)->steps[0].pace_s_per_km, paces.easy_slow, 1e-9);
  }
  {  // Form: TSB -35 takes out hard sessions of 3 days only.
    std::vector<PlannedDay> days = plan;
    AdaptSignals s;
    s.today = t;
    s.tsb = -35;
    const std::vector<Adjustment> a = AdjustPlan(&days, s, {}, paces);
    for (const PlannedDay& d : days) {
      if (d.day <= t + 2) {
        EXPECT_FALSE(IsQuality(d.type)) << FormatDate(d.day);
      }
    }
    bool later_quality = false;
    for (const PlannedDay& d : days) later_quality |= d.day > t + 2 && IsQuality(d.type);
    EXPECT_TRUE(later_quality);
    ASSERT_FALSE(a.empty());
    EXPECT_EQ(a[0].triggers[0], "form");
    EXPECT_EQ(a[0].reasons[0], "form (TSB) -35.0 is below -30: no hard session for 3 days");
  }
  {  // ACWR 1.7: 7 days at 80 %, the first session kept.
    std::vector<PlannedDay> days = plan;
    AdaptSignals s;
    s.today = t;
    s.acwr_ewma = 1.7;
    AdjustPlan(&days, s, {}, paces);
    int quality = 0;
    double before = 0, after = 0;
    for (size_t i = 0; i < days.size(); ++i) {
      if (days[i].day > t + 6) continue;
      quality += IsQuality(days[i].type);
      before += plan[i].distance_m;
      after += days[i].distance_m;
    }
    EXPECT_EQ(quality, 1);
    EXPECT_EQ(At(days, t)->type, WorkoutType::kThreshold);  // the first one stays
    EXPECT_LT(after, 0.85 * before);
  }
  {  // A high spike yesterday: today and tomorrow easy.
    std::vector<PlannedDay> days = plan;
    AdaptSignals s;
    s.today = t;
    s.spike_day = t - 1;
    s.spike_band = "high";
    s.spike_ratio = 1.6;
    const std::vector<Adjustment> a = AdjustPlan(&days, s, {}, paces);
    EXPECT_EQ(At(days, t)->type, WorkoutType::kEasy);
    EXPECT_NE(At(days, t + 1)->type, WorkoutType::kThreshold);
    ASSERT_FALSE(a.empty());
    EXPECT_EQ(a[0].reasons[0],
              "the run yesterday was 1.60 x your longest of the 30 days before it: 2 easy days "
              "after it");
  }
  {  // Ill: rest today and tomorrow, then easy at 70 % for 3 days.
    std::vector<PlannedDay> days = plan;
    AdaptSignals s;
    s.today = t;
    s.last_ill_day = t;
    s.ill_days = 3;
    AdjustPlan(&days, s, {}, paces);
    EXPECT_EQ(At(days, t)->type, WorkoutType::kRest);
    EXPECT_EQ(At(days, t + 1)->type, WorkoutType::kRest);
    for (int64_t d = t + 2; d <= t + 4; ++d) {
      const PlannedDay* was = At(plan, d);
      if (was->type == WorkoutType::kRest) continue;
      EXPECT_EQ(At(days, d)->type, WorkoutType::kEasy);
      EXPECT_LE(At(days, d)->distance_m, 0.7 * was->distance_m + 1);
    }
  }
}

TEST(AdjustPlan, OnlyLowersAndNeverCramsMissedRuns) {
  std::mt19937 rng(13);
  std::uniform_real_distribution<double> u(0, 1);
  for (int trial = 0; trial < 2000; ++trial) {
    const int64_t t = Day(2026, 12, 1) + static_cast<int64_t>(u(rng) * 7);
    PlanInput in;
    in.today = t;
    for (bool& a : in.available) a = u(rng) < 0.6;
    in.minutes_per_day = 30 + 150 * u(rng);
    in.weekly_km = 80 * u(rng);
    in.longest_recent_m = 25000 * u(rng);
    in.paces = PacesFromVdot(30 + 40 * u(rng));
    if (u(rng) < 0.7)
      in.goal = PlanGoal{u(rng) < 0.5 ? 10000.0 : 42195.0,
                         t + 20 + static_cast<int64_t>(u(rng) * 100), 300};
    const std::vector<PlannedDay> generated = GeneratePlan(in).days;
    // What the plan had before: the same days, some longer, some shorter, some rest.
    std::vector<PlannedDay> previous = generated;
    for (PlannedDay& d : previous) {
      const double r = u(rng);
      if (r < 0.2)
        d = Planned(d.day, WorkoutType::kRest, 0);
      else if (r < 0.6)
        d.distance_m *= 0.5 + u(rng);
    }
    AdaptSignals s;
    s.today = t;
    if (u(rng) < 0.3) {
      Readiness r;
      r.score = std::round(100 * u(rng));
      r.band = std::string(ReadinessBand(r.score));
      s.readiness = r;
    }
    if (u(rng) < 0.1) s.last_ill_day = t - static_cast<int64_t>(u(rng) * 5);
    s.ill_days = static_cast<int>(u(rng) * 9);
    s.tsb = -50 + 70 * u(rng);
    s.acwr_ewma = 2 * u(rng);
    if (u(rng) < 0.3) {
      s.spike_day = t - (u(rng) < 0.5);
      s.spike_band = u(rng) < 0.5 ? "high" : "elevated";
      s.spike_ratio = 1.5;
    }
    s.missed_last_7 = static_cast<int>(u(rng) * 4);
    std::vector<PlannedDay> days = generated;
    const std::vector<Adjustment> a = AdjustPlan(&days, s, previous, in.paces);
    std::map<int64_t, const Adjustment*> by_day;
    for (const Adjustment& x : a) by_day[x.day] = &x;
    ASSERT_EQ(days.size(), generated.size());
    for (size_t i = 0; i < days.size(); ++i) {
      const PlannedDay &was = generated[i], &now = days[i];
      SCOPED_TRACE("trial " + std::to_string(trial) + " " + FormatDate(now.day));
      EXPECT_LE(now.distance_m, was.distance_m + 1);
      if (!IsQuality(was.type)) {
        EXPECT_FALSE(IsQuality(now.type));
      }
      if (was.type == WorkoutType::kRace) {
        EXPECT_EQ(now.type, WorkoutType::kRace);
      }
      const bool changed = now.type != was.type || std::abs(now.distance_m - was.distance_m) >= 1;
      EXPECT_EQ(changed, by_day.count(now.day) == 1);
      if (changed) {
        EXPECT_FALSE(by_day[now.day]->reasons.empty());
        EXPECT_EQ(by_day[now.day]->reasons.size(), by_day[now.day]->triggers.size());
      }
      if (s.missed_last_7 >= 1 && now.day <= t + 6 && now.type != WorkoutType::kRace) {
        EXPECT_LE(now.distance_m, previous[i].distance_m + 1) << "crammed";
        if (previous[i].type == WorkoutType::kRest) {
          EXPECT_EQ(now.type, WorkoutType::kRest);
        }
      }
    }
  }
}

}  // namespace
}  // namespace stride::engine
