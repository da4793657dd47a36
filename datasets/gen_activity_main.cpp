// SPDX-License-Identifier: Apache-2.0
//
// gen_activity: writes synthetic recordings (GPX, TCX, FIT) with known answers, so the demo
// and benchmarks need no downloaded or personal data.
//
//   gen_activity --out DIR [--laps N] [--noise M] [--interval S] [--seed N] [--days-ago N]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <string>

#include "datasets/synthetic_activity.hpp"

namespace {

bool Write(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(f);
}

}  // namespace

int main(int argc, char** argv) {
  std::string out;
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
    else {
      std::fprintf(stderr,
                   "usage: gen_activity --out DIR [--laps N] [--noise M] [--interval S] [--seed N] "
                   "[--days-ago N]\n");
      return 2;
    }
  }
  if (out.empty() || o.laps < 1 || o.laps > 1000 || !(o.interval_s > 0) || o.noise_m < 0) {
    std::fprintf(stderr,
                 "gen_activity: --out DIR is required; laps 1-1000, interval > 0, noise >= 0\n");
    return 2;
  }
  if (days_ago >= 0) {  // 07:00 UTC that many days before today
    const double now = static_cast<double>(std::time(nullptr));
    o.start_time_s = (std::floor(now / 86400) - days_ago) * 86400 + 7 * 3600;
  }
  const stride::datasets::SyntheticRun run = stride::datasets::MakeSyntheticRun(o);
  const bool ok = Write(out + "/synthetic_run.gpx", stride::datasets::WriteGpx(run.recorded)) &&
                  Write(out + "/synthetic_run.tcx", stride::datasets::WriteTcx(run.recorded)) &&
                  Write(out + "/synthetic_run.fit", stride::datasets::WriteFit(run.recorded));
  if (!ok) {
    std::fprintf(stderr, "gen_activity: cannot write into %s\n", out.c_str());
    return 1;
  }
  std::printf(
      "wrote %s/synthetic_run.{gpx,tcx,fit}: %zu points; truth: %.1f m, ascent %.1f m, moving %.0f "
      "s\n",
      out.c_str(), run.recorded.size(), run.length_m, run.ascent_m, run.moving_time_s);
  return 0;
}
