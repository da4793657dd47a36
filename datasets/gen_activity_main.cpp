// SPDX-License-Identifier: Apache-2.0
//
// gen_activity: writes synthetic recordings (GPX, TCX, FIT) with known answers, so the demo
// and benchmarks need no downloaded or personal data.
//
//   gen_activity --out DIR [--laps N] [--noise M] [--interval S] [--seed N] [--days-ago N]
//                [--hike] [--untimed SHARE]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <random>
#include <string>

#include "datasets/synthetic_activity.hpp"
#include "engine/geo/geodesy.hpp"

namespace {

bool Write(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(f);
}

}  // namespace

const char* const kUsage =
    "usage: gen_activity --out DIR [--laps N] [--noise M] [--interval S] [--seed N] "
    "[--days-ago N] [--hike] [--untimed SHARE]\n"
    "  --hike         switchbacks at a walking pace with a rest (synthetic_hike.*)\n"
    "  --untimed F    the share of points (0-1) whose time is lost\n";

int main(int argc, char** argv) {
  std::string out;
  std::string name = "synthetic_run";
  bool hike = false;
  double untimed_share = 0;
  int days_ago = -1;  // default: the fixed start of SyntheticRunOptions
  stride::datasets::SyntheticRunOptions o;
  o.noise_m = 3.0;
  o.ele_noise_m = 1.0;
  o.stop_at_m = 2000;
  o.stop_s = 90;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "--out" && (v = next()))
      out = v;
    else if (a == "--laps" && (v = next()))
      o.laps = std::atoi(v);
    else if (a == "--noise" && (v = next()))
      o.noise_m = std::atof(v);
    else if (a == "--interval" && (v = next()))
      o.interval_s = std::atof(v);
    else if (a == "--seed" && (v = next()))
      o.seed = static_cast<uint32_t>(std::atoi(v));
    else if (a == "--days-ago" && (v = next()))
      days_ago = std::atoi(v);
    else if (a == "--hike")
      hike = true;
    else if (a == "--untimed" && (v = next()))
      untimed_share = std::atof(v);
    else {
      std::fprintf(stderr, "%s", kUsage);
      return 2;
    }
  }
  if (hike) {
    // A hike up 30 switchbacks of 120 m at 0.9 m/s with a 10-minute rest, as a hiking unit
    // records it: smooth wander rather than jitter, and the sampling the caller chose.
    name = "synthetic_hike";
    o.sport = stride::engine::Sport::kHike;
    o.speed_mps = 0.9;
    o.hill_m = 250;
    o.noise_m = 0.6;
    o.wander_m = 4.0;
    o.stop_at_m = 1800;
    o.stop_s = 600;
    o.hr_bpm = 125;
    o.path_m = stride::datasets::SwitchbackPath(30, 120);
  }
  if (out.empty() || o.laps < 1 || o.laps > 1000 || !(o.interval_s > 0) || o.noise_m < 0 ||
      !(untimed_share >= 0 && untimed_share <= 1)) {
    std::fprintf(stderr,
                 "gen_activity: --out DIR is required; laps 1-1000, interval > 0, noise >= 0, "
                 "untimed 0-1\n");
    return 2;
  }
  if (days_ago >= 0) {  // 07:00 UTC that many days before today
    const double now = static_cast<double>(std::time(nullptr));
    o.start_time_s = (std::floor(now / 86400) - days_ago) * 86400 + 7 * 3600;
  }
  const stride::datasets::SyntheticRun run = stride::datasets::MakeSyntheticRun(o);
  const std::string base = out + "/" + name;
  // Times lost at random, in the GPX only (TCX and FIT records always carry one); never the
  // first or the last point.
  stride::engine::Track gpx = run.recorded;
  std::mt19937 rng(o.seed);
  stride::datasets::DropTimes(gpx, untimed_share, rng);
  const bool ok = Write(base + ".gpx", stride::datasets::WriteGpx(gpx)) &&
                  Write(base + ".tcx", stride::datasets::WriteTcx(run.recorded)) &&
                  Write(base + ".fit", stride::datasets::WriteFit(run.recorded));
  if (!ok) {
    std::fprintf(stderr, "gen_activity: cannot write into %s\n", out.c_str());
    return 1;
  }
  double polyline = 0;
  size_t untimed = 0;
  for (size_t i = 0; i < run.recorded.size(); ++i) {
    untimed += std::isnan(gpx.time_s[i]) ? 1 : 0;
    if (i > 0) {
      polyline +=
          stride::engine::SegmentDistanceM(run.recorded.lat_deg[i - 1], run.recorded.lon_deg[i - 1],
                                           run.recorded.lat_deg[i], run.recorded.lon_deg[i]);
    }
  }
  std::printf(
      "wrote %s.{gpx,tcx,fit}: %zu points every %.0f s (%zu without a time in the GPX); truth: "
      "%.1f m, ascent %.1f m, moving %.0f s; the recorded points' polyline: %.1f m\n",
      base.c_str(), run.recorded.size(), o.interval_s, untimed, run.length_m, run.ascent_m,
      run.moving_time_s, polyline);
  return 0;
}
