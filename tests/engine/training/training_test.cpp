// SPDX-License-Identifier: Apache-2.0
// VDOT, predictions, paces and loads against the published vectors and hand computations of
// ../shared/research/plugins.md §1.1-1.6.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/training/load.hpp"
#include "engine/training/vdot.hpp"

namespace stride::engine {
namespace {

double Hms(int h, int m, double s) {
  return h * 3600 + m * 60 + s;
}

TEST(Vdot, RacesOfDanielsTables) {
  EXPECT_NEAR(VdotFromRace(5000, Hms(0, 24, 34)), 39.11, 0.01);
  EXPECT_NEAR(VdotFromRace(5000, Hms(0, 19, 57)), 49.95, 0.01);
  EXPECT_NEAR(VdotFromRace(10000, Hms(0, 41, 21)), 49.97, 0.01);
  EXPECT_NEAR(VdotFromRace(21097.5, Hms(1, 31, 35)), 49.96, 0.01);
  EXPECT_NEAR(VdotFromRace(42195, Hms(3, 10, 49)), 49.95, 0.01);
  EXPECT_TRUE(std::isnan(VdotFromRace(0, 100)));
  EXPECT_TRUE(std::isnan(VdotFromRace(5000, 0)));
  EXPECT_TRUE(std::isnan(VdotFromRace(100, Hms(10, 0, 0))));  // 0.17 m/min: no oxygen cost
}

TEST(Vdot, PredictionsAtVdot50) {
  EXPECT_NEAR(PredictRaceTimeS(50, 5000), Hms(0, 19, 56), 1.0);
  EXPECT_NEAR(PredictRaceTimeS(50, 10000), Hms(0, 41, 20), 1.0);
  EXPECT_NEAR(PredictRaceTimeS(50, 21097.5), Hms(1, 31, 31), 1.0);
  EXPECT_NEAR(PredictRaceTimeS(50, 42195), Hms(3, 10, 40), 1.0);
  // The prediction inverts the VDOT of the race it predicts.
  for (double v : {30.0, 45.0, 60.0, 80.0}) {
    for (double d : {1500.0, 5000.0, 42195.0}) {
      EXPECT_NEAR(VdotFromRace(d, PredictRaceTimeS(v, d)), v, 1e-6) << v << " " << d;
    }
  }
  EXPECT_TRUE(std::isnan(PredictRaceTimeS(0, 5000)));
  EXPECT_TRUE(std::isnan(PredictRaceTimeS(50, -1)));
}

TEST(Vdot, Riegel) {
  EXPECT_NEAR(RiegelTimeS(Hms(0, 20, 0), 5000, 10000), Hms(0, 41, 42), 1.0);
  EXPECT_NEAR(RiegelTimeS(Hms(1, 30, 0), 21097.5, 42195), Hms(3, 7, 39), 1.0);
  // Two results on Riegel's curve give back its exponent; wild ones are clamped.
  EXPECT_NEAR(PersonalRiegelExponent(5000, 1200, 10000, RiegelTimeS(1200, 5000, 10000)), 1.06,
              1e-9);
  EXPECT_EQ(PersonalRiegelExponent(5000, 1200, 10000, 1300), 1.0);
  EXPECT_TRUE(std::isnan(PersonalRiegelExponent(5000, 1200, 5000, 1300)));
}

TEST(Vdot, TrainingPacesAtVdot50MatchTheTable) {
  const TrainingPaces p = PacesFromVdot(50);
  EXPECT_NEAR(p.easy_fast, 4 * 60 + 55, 2);  // table: E 4:56-5:34 per km
  EXPECT_NEAR(p.easy_slow, 5 * 60 + 34, 2);
  EXPECT_NEAR(p.marathon, 4 * 60 + 31, 1);
  EXPECT_NEAR(p.threshold, 4 * 60 + 15, 2);
  EXPECT_NEAR(p.interval, 3 * 60 + 55, 2);
  EXPECT_NEAR(p.repetition, 87 / 0.4, 5);  // 87 s per 400 m
  // Fitter runners run every pace faster.
  const TrainingPaces q = PacesFromVdot(60);
  EXPECT_LT(q.threshold, p.threshold);
  EXPECT_LT(q.easy_slow, p.easy_slow);
}

TEST(Vdot, EstimateTakesTheBestRecentEffortDiscountedByAge) {
  const double now = 1.8e9;
  std::vector<Effort> e = {
      {5000, Hms(0, 19, 57), now - 7 * 86400, "a"},    // VDOT 49.95, a week old
      {10000, Hms(0, 40, 0), now - 120 * 86400, "b"},  // faster, but outside the window
      {1000, 200, now - 86400, "c"},                   // too short to count
      {10000, Hms(0, 44, 0), now - 14 * 86400, "d"},   // slower
  };
  const VdotEstimate est = EstimateVdot(e, now);
  EXPECT_EQ(est.from.run_id, "a");
  EXPECT_NEAR(est.effort_vdot, 49.95, 0.01);
  EXPECT_NEAR(est.vdot, 49.95 * (1 - 0.005), 0.01);
  EXPECT_TRUE(std::isnan(EstimateVdot({}, now).vdot));
}

TEST(Load, BanisterTrimpWorkedExample) {
  // HRmax 200, rest 40, 30 min at 130, male: 30 * 0.5625 * 0.64 * e^1.08 = 31.8.
  EXPECT_NEAR(BanisterTrimp(30, 130, 40, 200, AthleteSex::kMale), 31.8025, 1e-3);
  EXPECT_NEAR(BanisterTrimp(30, 130, 40, 200, AthleteSex::kFemale),
              30 * 0.5625 * 0.86 * std::exp(1.67 * 0.5625), 1e-9);
  EXPECT_TRUE(std::isnan(BanisterTrimp(30, NAN, 40, 200, AthleteSex::kMale)));
  EXPECT_TRUE(std::isnan(BanisterTrimp(30, 130, 200, 200, AthleteSex::kMale)));
}

TEST(Load, PaceLoadIsRtss) {
  // An hour at threshold is 100; 5:00/km against a 4:30 threshold is IF 0.9.
  EXPECT_NEAR(PaceLoad(3600, 270, 270), 100, 1e-9);
  EXPECT_NEAR(PaceLoad(3600, 300, 270), 81, 1e-9);
  EXPECT_TRUE(std::isnan(PaceLoad(3600, NAN, 270)));
}

TEST(Load, PmcUnderEachConvention) {
  EXPECT_NEAR(PmcLambda(42, PmcConvention::kCoggan), 0.02381, 1e-5);
  EXPECT_NEAR(PmcLambda(42, PmcConvention::kGoldenCheetah), 0.02353, 1e-5);
  EXPECT_NEAR(PmcLambda(42, PmcConvention::kEwma), 0.0465, 1e-4);
  EXPECT_NEAR(PmcLambda(7, PmcConvention::kCoggan), 0.1429, 1e-4);
  EXPECT_NEAR(PmcLambda(7, PmcConvention::kGoldenCheetah), 0.1331, 1e-4);
  EXPECT_NEAR(PmcLambda(7, PmcConvention::kEwma), 0.25, 1e-12);
  // Loads 100, 0, 50 from nothing, by hand (Coggan): CTL += (w - CTL)/42, ATL += (w - ATL)/7.
  const std::vector<PmcDay> d = Pmc({100, 0, 50}, 20000);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[2].day, 20002);
  EXPECT_NEAR(d[0].tsb, 0, 1e-9);
  EXPECT_NEAR(d[0].ctl, 2.380952, 1e-6);
  EXPECT_NEAR(d[0].atl, 14.285714, 1e-6);
  EXPECT_NEAR(d[1].tsb, -11.904762, 1e-6);
  EXPECT_NEAR(d[1].ctl, 2.324263, 1e-6);
  EXPECT_NEAR(d[2].tsb, -9.920635, 1e-6);
  EXPECT_NEAR(d[2].ctl, 3.459400, 1e-6);
  EXPECT_NEAR(d[2].atl, 17.638484, 1e-6);
  // A seeded start decays toward the loads.
  PmcOptions seeded;
  seeded.start_ctl = 50;
  seeded.start_atl = 50;
  seeded.convention = PmcConvention::kGoldenCheetah;
  const std::vector<PmcDay> s = Pmc({0}, 0, seeded);
  EXPECT_NEAR(s[0].ctl, 50 * std::exp(-1.0 / 42), 1e-9);
  EXPECT_NEAR(s[0].atl, 50 * std::exp(-1.0 / 7), 1e-9);
}

TEST(Load, AcuteChronicRatiosMonotonyAndSpikes) {
  std::vector<double> loads;
  for (int w = 0; w < 4; ++w) {
    for (double x : {50, 0, 60, 0, 0, 80, 30}) loads.push_back(x);
  }
  for (double x : {120, 0, 0, 100, 0, 0, 90}) loads.push_back(x);
  EXPECT_NEAR(AcwrEwma(loads), 1.2662836523, 1e-9);  // by hand, λ = 2/(N+1)
  EXPECT_NEAR(AcwrRolling(loads, true), 310.0 / (970.0 / 4), 1e-12);
  EXPECT_NEAR(AcwrRolling(loads, false), 310.0 / (660.0 / 3), 1e-12);
  EXPECT_TRUE(std::isnan(AcwrEwma({0, 0, 0})));
  const Monotony m = WeeklyMonotony(loads);
  EXPECT_NEAR(m.weekly_load, 310, 1e-12);
  EXPECT_NEAR(m.monotony, 0.85519275, 1e-7);
  EXPECT_NEAR(m.strain, 265.10975298, 1e-6);
  EXPECT_EQ(WeeklyMonotony(std::vector<double>(7, 40)).monotony, 10);  // the same every day
  EXPECT_EQ(SpikeOf(10.5, 10).band, "ok");
  EXPECT_EQ(SpikeOf(12, 10).band, "elevated");
  EXPECT_EQ(SpikeOf(25, 10).band, "very high");
  EXPECT_TRUE(std::isnan(SpikeOf(5, 0).ratio));
}

TEST(Load, ClosedFormsHoldOnTheNextDay) {
  const double lc = PmcLambda(42, PmcConvention::kCoggan),
               la = PmcLambda(7, PmcConvention::kCoggan);
  const double ctl = 60, atl = 75;
  const double l = MaxLoadForTsb(ctl, atl, -20, lc, la);
  const std::vector<PmcDay> d = Pmc({l, 0}, 0, {42, 7, PmcConvention::kCoggan, ctl, atl});
  EXPECT_NEAR(d[1].tsb, -20, 1e-9);  // tomorrow's form exactly at the bound
  const double r = MaxLoadForRatio(ctl, atl, 1.3, lc, la);
  const double c1 = ctl + lc * (r - ctl), a1 = atl + la * (r - atl);
  EXPECT_NEAR(a1 / c1, 1.3, 1e-9);
  // Rest until fresh: the TSB of the morning after that many rest days is 0.
  const double n = RestDaysToFresh(ctl, atl, lc, la);
  EXPECT_NEAR(ctl * std::pow(1 - lc, n) - atl * std::pow(1 - la, n), 0, 1e-9);
  EXPECT_EQ(RestDaysToFresh(80, 60, lc, la), 0);
}

}  // namespace
}  // namespace stride::engine
