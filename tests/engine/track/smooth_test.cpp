// SPDX-License-Identifier: Apache-2.0
#include "engine/track/smooth.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <utility>
#include <vector>

#include "datasets/synthetic_activity.hpp"
#include "engine/geo/geodesy.hpp"
#include "engine/track/clean.hpp"

namespace stride::engine {
namespace {

double Length(const Track& t) {
  double d = 0;
  long prev = -1;
  for (size_t i = 0; i < t.size(); ++i) {
    if (!t.has_position(i)) continue;
    if (prev >= 0) {
      const auto p = static_cast<size_t>(prev);
      d += SegmentDistanceM(t.lat_deg[p], t.lon_deg[p], t.lat_deg[i], t.lon_deg[i]);
    }
    prev = static_cast<long>(i);
  }
  return d;
}

// Closest approach (metres) of the track to a point.
double ClosestTo(const Track& t, double lat, double lon) {
  double best = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < t.size(); ++i) {
    if (t.has_position(i))
      best = std::min(best, SegmentDistanceM(t.lat_deg[i], t.lon_deg[i], lat, lon));
  }
  return best;
}

struct Case {
  double interval_s;
  double noise_m;
};

class SmootherTest : public ::testing::TestWithParam<Case> {};

TEST_P(SmootherTest, RemovesJitterWithoutCuttingCorners) {
  datasets::SyntheticRunOptions o;
  o.interval_s = GetParam().interval_s;
  o.noise_m = GetParam().noise_m;
  o.laps = 2;
  o.seed = 11;
  const datasets::SyntheticRun run = datasets::MakeSyntheticRun(o);
  Track t = run.recorded;
  Clean(t);
  const double raw_error = std::fabs(Length(t) - run.length_m);
  const SmoothReport rep = SmoothPositions(t, {});
  ASSERT_TRUE(rep.position_smoothed);
  const double smooth_error = std::fabs(Length(t) - run.length_m);
  // The smoother must cut the noise-added length error at least in half.
  EXPECT_LT(smooth_error, 0.5 * raw_error)
      << "raw " << raw_error << " m, smoothed " << smooth_error << " m";
  // And follow the 90-degree corners: the far corner of the loop (600 m east, 300 m north)
  // must be passed within a few metres, not cut across.
  double clat, clon;
  LocalPlane(o.start_lat_deg, o.start_lon_deg).ToDegrees(o.leg_a_m, o.leg_b_m, &clat, &clon);
  EXPECT_LT(ClosestTo(t, clat, clon), 0.8 * o.noise_m + 3.0);
}

INSTANTIATE_TEST_SUITE_P(OneAndFiveSeconds, SmootherTest,
                         ::testing::Values(Case{1.0, 3.0}, Case{1.0, 5.0}, Case{5.0, 3.0}));

TEST(Smoother, MeasuresTheJitterOfTheTrack) {
  datasets::SyntheticRunOptions o;
  o.noise_m = 2.0;
  const datasets::SyntheticRun noisy = datasets::MakeSyntheticRun(o);
  Track t = noisy.recorded;
  const SmoothReport rep = SmoothPositions(t, {});
  EXPECT_TRUE(rep.sigma_from_data);
  EXPECT_NEAR(rep.sigma_m, 2.0, 0.3);
  // A clean track (a device that filtered on board) is barely touched.
  o.noise_m = 0.0;
  const datasets::SyntheticRun clean = datasets::MakeSyntheticRun(o);
  Track c = clean.recorded;
  SmoothPositions(c, {});
  EXPECT_NEAR(Length(c), clean.length_m, 0.002 * clean.length_m);
}

TEST(Smoother, MeasuresJitterOnLongTracksToo) {
  // Long tracks sample the jitter in blocks; every block size must still see triplets.
  for (int laps : {3, 4, 12, 30}) {
    datasets::SyntheticRunOptions o;
    o.noise_m = 1.0;
    o.laps = laps;
    Track t = datasets::MakeSyntheticRun(o).recorded;
    const SmoothReport rep = SmoothPositions(t, {});
    EXPECT_TRUE(rep.sigma_from_data) << laps << " laps";
    EXPECT_NEAR(rep.sigma_m, 1.0, 0.15) << laps << " laps";
  }
}

TEST(Smoother, MeasuresTheJitterOfSparseTracks) {
  // Fixes every 10 s: no triplet within 4 s, so the lower quartile of wider triplets speaks.
  datasets::SyntheticRunOptions o;
  o.noise_m = 1.0;
  o.interval_s = 10;
  Track t = datasets::MakeSyntheticRun(o).recorded;
  const SmoothReport rep = SmoothPositions(t, {});
  EXPECT_TRUE(rep.sigma_from_data);
  EXPECT_NEAR(rep.sigma_m, 1.0, 0.25);
}

TEST(Smoother, LengthGuardKeepsThePathAFilterWouldCut) {
  // Hairpins every 100 m sampled every 15 s, smoothed as if the walker could hardly turn
  // (a tiny q): the filter would cut every hairpin. The guard sees the segment lose more than
  // jitter explains and smooths it again with less assumed noise.
  datasets::SyntheticRunOptions o;
  o.path_m = {{0, 0}};
  for (int k = 0; k < 20; ++k) {
    o.path_m.push_back({o.path_m.back()[0] + (k % 2 ? -97.0 : 97.0), o.path_m.back()[1] + 25.0});
  }
  o.speed_mps = 1.0;
  o.interval_s = 15;
  o.noise_m = 0.5;
  o.sport = Sport::kHike;
  const datasets::SyntheticRun run = datasets::MakeSyntheticRun(o);
  SmoothOptions stiff;
  stiff.accel_density = 1e-5;
  stiff.follow_turns = false;  // (which would raise q at the hairpins)
  Track t = run.recorded;
  const double raw = Length(t);
  const SmoothReport rep = SmoothPositions(t, stiff);
  EXPECT_EQ(rep.guarded_runs, 1u);
  EXPECT_GE(Length(t), raw - 0.02 * raw);
  // The same filter without the guard cuts the hairpins.
  stiff.length_guard = false;
  Track cut = run.recorded;
  EXPECT_EQ(SmoothPositions(cut, stiff).guarded_runs, 0u);
  EXPECT_LT(Length(cut), 0.9 * raw);
}

// A hiker at 0.8-0.9 m/s recorded every second with 0.6 m of white jitter: on `path`.
datasets::SyntheticRun SlowHike(std::vector<std::array<double, 2>> path, uint32_t seed) {
  datasets::SyntheticRunOptions o;
  o.path_m = std::move(path);
  o.speed_mps = 0.85;
  o.noise_m = 0.6;
  o.sport = Sport::kHike;
  o.seed = seed;
  return datasets::MakeSyntheticRun(o);
}

// Error of the smoothed length against the truth, percent.
double SmoothedErrorPct(const datasets::SyntheticRun& run, const SmoothOptions& options,
                        SmoothReport* report = nullptr) {
  Track t = run.recorded;
  const SmoothReport rep = SmoothPositions(t, options);
  if (report) *report = rep;
  return (Length(t) - run.length_m) / run.length_m * 100;
}

TEST(Smoother, HikersGentleCurvesGetTheStraightQ) {
  // A winding trail, no bend sharper than 45 degrees in 5 s: one q for all (the sport's)
  // lets jitter through as path; the straight q (a quarter) keeps it out.
  std::vector<std::array<double, 2>> path{{0, 0}};
  for (double s = 20; s <= 3000; s += 20) path.push_back({s, 60.0 * std::sin(s / 150.0)});
  const datasets::SyntheticRun run = SlowHike(path, 3);
  SmoothReport rep;
  const double followed = SmoothedErrorPct(run, {}, &rep);
  SmoothOptions one_q;
  one_q.follow_turns = false;
  const double uniform = SmoothedErrorPct(run, one_q);
  std::printf("gentle: followed %+.2f %%, one q %+.2f %%\n", followed, uniform);
  EXPECT_EQ(rep.turn_fixes, 0u);
  EXPECT_LT(std::fabs(followed), 0.5);
  EXPECT_LT(std::fabs(followed), 0.6 * std::fabs(uniform));
}

TEST(Smoother, HikersHairpinsAreFollowed) {
  // Switchbacks: 150-degree hairpins every 120 m. The straight q alone would cut each one;
  // the second pass raises q over the hairpins and keeps them.
  const datasets::SyntheticRun run = SlowHike(datasets::SwitchbackPath(30, 120), 5);
  SmoothReport rep;
  const double followed = SmoothedErrorPct(run, {}, &rep);
  EXPECT_GT(rep.turn_fixes, 29u * 5);  // every hairpin, and some fixes each side
  EXPECT_LT(rep.turn_fixes, run.recorded.size() / 2);
  SmoothOptions straight_only;
  straight_only.follow_turns = false;
  straight_only.accel_density = ProcessNoiseForSport(Sport::kHike) / 4;
  const double cut = SmoothedErrorPct(run, straight_only);
  std::printf("hairpins: followed %+.2f %% (%zu turn fixes of %zu), straight q %+.2f %%\n",
              followed, rep.turn_fixes, run.recorded.size(), cut);
  EXPECT_LT(std::fabs(followed), 0.6);
  EXPECT_LT(cut, -1.0);
}

TEST(Smoother, RunnersKeepOneQ) {
  datasets::SyntheticRunOptions o;
  o.path_m = datasets::SwitchbackPath(10, 120);
  o.noise_m = 0.6;
  Track t = datasets::MakeSyntheticRun(o).recorded;
  EXPECT_EQ(SmoothPositions(t, {}).turn_fixes, 0u);
}

TEST(Smoother, UsesDeviceAccuracyToWeighFixes) {
  datasets::SyntheticRunOptions o;
  o.noise_m = 1.0;
  datasets::SyntheticRun run = datasets::MakeSyntheticRun(o);
  Track t = run.recorded;
  for (double& a : t.gps_accuracy_m) a = 4.0;
  const SmoothReport rep = SmoothPositions(t, {});
  EXPECT_TRUE(rep.used_device_accuracy);
}

TEST(ElevationSmoother, ClassifiesAndSmoothsNoisyAltitude) {
  datasets::SyntheticRunOptions o;
  o.ele_noise_m = 3.0;
  o.hill_m = 40;
  const datasets::SyntheticRun run = datasets::MakeSyntheticRun(o);
  Track t = run.recorded;
  std::vector<double> cum(t.size(), 0.0);
  for (size_t i = 1; i < t.size(); ++i) {
    cum[i] = cum[i - 1] +
             SegmentDistanceM(t.lat_deg[i - 1], t.lon_deg[i - 1], t.lat_deg[i], t.lon_deg[i]);
  }
  SmoothReport rep;
  SmoothElevation(t, cum, {}, rep);
  EXPECT_EQ(rep.elevation_source, AltitudeSource::kGps);
  // Residual against the truth at the same times: well under the 3 m of noise.
  double sq = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    const double truth = run.truth.ele_m[std::min(run.truth.size() - 1, i * 10)];
    sq += (t.ele_m[i] - truth) * (t.ele_m[i] - truth);
  }
  EXPECT_LT(std::sqrt(sq / static_cast<double>(t.size())), 1.0);
}

// GaussianOnAxis by its definition: one grid over the whole axis (step sigma/4, bins averaged,
// empty bins interpolated, three box passes of width 9 clamped at the ends), read back by
// linear interpolation. Memory grows with the span: for short axes only.
std::vector<double> OneGridGaussian(const std::vector<double>& axis, const std::vector<double>& v,
                                    double sigma) {
  const double step = sigma / 4;
  const size_t bins = static_cast<size_t>((axis.back() - axis.front()) / step) + 1;
  std::vector<double> sum(bins), cnt(bins), g(bins);
  for (size_t k = 0; k < v.size(); ++k) {
    const size_t b = std::min(bins - 1, static_cast<size_t>((axis[k] - axis.front()) / step));
    sum[b] += v[k];
    cnt[b] += 1;
  }
  std::vector<size_t> full;
  for (size_t b = 0; b < bins; ++b) {
    if (cnt[b] > 0) full.push_back(b);
  }
  for (size_t b = 0; b < bins; ++b) {
    const auto it = std::lower_bound(full.begin(), full.end(), b);
    if (it != full.end() && *it == b) {
      g[b] = sum[b] / cnt[b];
    } else if (it == full.begin() || it == full.end()) {
      const size_t e = it == full.end() ? full.back() : full.front();
      g[b] = sum[e] / cnt[e];
    } else {
      const size_t a = *(it - 1), c = *it;
      const double ga = sum[a] / cnt[a], gc = sum[c] / cnt[c];
      g[b] = ga + (gc - ga) * static_cast<double>(b - a) / static_cast<double>(c - a);
    }
  }
  const long nb = static_cast<long>(bins);
  for (int pass = 0; pass < 3; ++pass) {
    std::vector<double> next(bins);
    for (long b = 0; b < nb; ++b) {
      double acc = 0;
      for (long j = b - 4; j <= b + 4; ++j)
        acc += g[static_cast<size_t>(std::clamp(j, 0L, nb - 1))];
      next[static_cast<size_t>(b)] = acc / 9;
    }
    g.swap(next);
  }
  std::vector<double> out(v.size());
  for (size_t k = 0; k < v.size(); ++k) {
    const double x = (axis[k] - axis.front()) / step - 0.5;
    const long b0 = std::clamp(static_cast<long>(std::floor(x)), 0L, nb - 1);
    const long b1 = std::min(b0 + 1, nb - 1);
    const double f = std::clamp(x - std::floor(x), 0.0, 1.0);
    out[k] = g[static_cast<size_t>(b0)] * (1 - f) + g[static_cast<size_t>(b1)] * f;
  }
  return out;
}

// Clusters of samples with gaps of every length between them: short ones, ones just under and
// over the length at which the grid is split, and long ones.
void ClusteredAxis(std::mt19937& rng, double sigma, double long_gap, std::vector<double>* axis,
                   std::vector<double>* v) {
  std::uniform_real_distribution<double> u(0, 1);
  const double step = sigma / 4;
  const double gaps[] = {0.3, 2, 40, 63, 64, 65, 66, 70, 200, long_gap};
  double x = 0, level = 500;
  axis->clear();
  v->clear();
  for (int cluster = 0; cluster < 12; ++cluster) {
    const int m = 1 + static_cast<int>(u(rng) * 30);
    for (int i = 0; i < m; ++i) {
      x += u(rng) * 1.5 * step;
      level += (u(rng) - 0.5) * 8;
      axis->push_back(x);
      v->push_back(level + (u(rng) - 0.5) * 3);
    }
    x += gaps[static_cast<size_t>(u(rng) * 10)] * step;
  }
}

TEST(GaussianOnAxis, MatchesOneGridAcrossGapsOfEveryLength) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    const double sigma = trial % 2 ? 40.0 : 8.0;
    std::vector<double> axis, v;
    ClusteredAxis(rng, sigma, 5000, &axis, &v);
    const std::vector<double> want = OneGridGaussian(axis, v, sigma);
    const std::vector<double> got = GaussianOnAxis(axis, v, sigma);
    ASSERT_EQ(got.size(), v.size());
    for (size_t k = 0; k < v.size(); ++k) {
      ASSERT_NEAR(got[k], want[k], 1e-9) << "trial " << trial << ", sample " << k;
    }
  }
}

// Defect: the grid spanned the axis, so 5 fixes around the globe (a 344-byte GPX without
// times, 60,000 km on a 2.5 m grid) took 1.1 GB and 3.4 s. The cost now follows the samples:
// a gap of 10^11 bins gives what a gap of 10^5 bins gives, to within the slope of the
// interpolation across it.
TEST(GaussianOnAxis, CostFollowsTheSamplesNotTheSpan) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<double> axis, v;
    ClusteredAxis(rng, 10.0, 1e5, &axis, &v);
    const std::vector<double> near = GaussianOnAxis(axis, v, 10.0);
    const std::vector<double> want = OneGridGaussian(axis, v, 10.0);
    for (size_t k = 0; k < v.size(); ++k) ASSERT_NEAR(near[k], want[k], 1e-9) << trial;
    // Stretch every gap of 10^5 bins to 10^11.
    std::vector<double> far_axis(axis);
    double shift = 0;
    for (size_t k = 1; k < axis.size(); ++k) {
      if (axis[k] - axis[k - 1] > 1e4) shift += (1e11 - 1e5) * 2.5;
      far_axis[k] = axis[k] + shift;
    }
    const std::vector<double> far = GaussianOnAxis(far_axis, v, 10.0);
    ASSERT_EQ(far.size(), v.size());
    for (size_t k = 0; k < v.size(); ++k) EXPECT_NEAR(far[k], near[k], 0.05) << k;
  }
}

}  // namespace
}  // namespace stride::engine
