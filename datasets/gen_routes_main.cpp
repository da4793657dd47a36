// SPDX-License-Identifier: Apache-2.0
//
// gen_routes: writes a synthetic route database of any size (datasets/synthetic_routes.hpp)
// straight into the format `stride import` produces, so `stride serve`, the benchmarks and
// the tests can run on 10^6 routes over a continent without downloaded data.
//
//   gen_routes --db DIR [--routes N] [--region MINLAT,MINLON,MAXLAT,MAXLON] [--seed N]
//              [--threads N]
// Default: 10^6 routes over 36..60 N, 10 W..30 E (Europe-sized).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "datasets/synthetic_routes.hpp"

int main(int argc, char** argv) {
  std::string db;
  int threads = 0;
  stride::datasets::SyntheticRoutesOptions o;
  o.count = 1'000'000;
  o.SetRegion(36, -10, 60, 30);
  const char* usage =
      "usage: gen_routes --db DIR [--routes N] [--region MINLAT,MINLON,MAXLAT,MAXLON] [--seed N] "
      "[--threads N]\n";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    char* end = nullptr;
    if (a == "--db" && has_value) {
      db = argv[++i];
    } else if (a == "--routes" && has_value) {
      o.count = std::strtoull(argv[++i], &end, 10);
      if (*end != '\0' || o.count == 0) {
        std::fprintf(stderr, "gen_routes: --routes expects a positive count, got '%s'\n", argv[i]);
        return 2;
      }
    } else if (a == "--seed" && has_value) {
      o.seed = static_cast<uint32_t>(std::strtoul(argv[++i], nullptr, 10));
    } else if (a == "--threads" && has_value) {
      threads = std::atoi(argv[++i]);
    } else if (a == "--region" && has_value) {
      double a0, b0, a1, b1;
      if (std::sscanf(argv[++i], "%lf,%lf,%lf,%lf", &a0, &b0, &a1, &b1) != 4 || a0 >= a1 ||
          b0 >= b1 || a0 < -80 || a1 > 80 || b0 < -180 || b1 > 180) {
        std::fprintf(stderr,
                     "gen_routes: --region expects MINLAT,MINLON,MAXLAT,MAXLON within +-80, "
                     "+-180, min < max; got '%s'\n",
                     argv[i]);
        return 2;
      }
      o.SetRegion(a0, b0, a1, b1);
    } else {
      std::fputs(usage, stderr);
      return 2;
    }
  }
  if (db.empty()) {
    std::fprintf(stderr, "gen_routes: --db is required\n%s", usage);
    return 2;
  }
  stride::Result<stride::datasets::SyntheticDbStats> s =
      stride::datasets::WriteSyntheticRouteDb(o, db, threads, [](uint64_t done, uint64_t total) {
        std::fprintf(stderr, "gen_routes: %llu / %llu routes\n",
                     static_cast<unsigned long long>(done), static_cast<unsigned long long>(total));
      });
  if (!s.ok()) {
    std::fprintf(stderr, "gen_routes: %s\n", s.status().message().c_str());
    return 1;
  }
  std::printf("%s: %llu routes, %.1f MiB, %.1f s\n", db.c_str(),
              static_cast<unsigned long long>(s->routes), static_cast<double>(s->bytes) / (1 << 20),
              s->seconds);
  return 0;
}
