// SPDX-License-Identifier: Apache-2.0
//
// gen_osm: writes a synthetic trail network as OpenStreetMap data, and SRTM3 tiles of its
// terrain, so imports, the demo and benchmarks need no downloaded data.
//
//   gen_osm --out FILE.osm.pbf [--nodes N] [--dem DIR] [--seed N] [--origin LAT,LON]
#include <cstdio>
#include <cstdlib>
#include <string>

#include "datasets/synthetic_osm.hpp"

int main(int argc, char** argv) {
  std::string out, dem;
  stride::datasets::SyntheticOsmOptions o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--out" && has_value) {
      out = argv[++i];
    } else if (a == "--dem" && has_value) {
      dem = argv[++i];
    } else if (a == "--nodes" && has_value) {
      o.target_nodes = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--seed" && has_value) {
      o.seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--origin" && has_value) {
      if (std::sscanf(argv[++i], "%lf,%lf", &o.origin_lat, &o.origin_lon) != 2) {
        std::fprintf(stderr, "gen_osm: --origin expects LAT,LON\n");
        return 2;
      }
    } else {
      std::fprintf(stderr,
                   "usage: gen_osm --out FILE.osm.pbf [--nodes N] [--dem DIR] [--seed N] "
                   "[--origin LAT,LON]\n");
      return 2;
    }
  }
  if (out.empty()) {
    std::fprintf(stderr, "gen_osm: --out is required\n");
    return 2;
  }
  stride::Result<stride::datasets::SyntheticOsmStats> s =
      stride::datasets::WriteSyntheticOsm(out, o);
  if (!s.ok()) {
    std::fprintf(stderr, "gen_osm: %s\n", s.status().message().c_str());
    return 1;
  }
  std::printf(
      "%s: %llu nodes, %llu ways, %llu relations (%llu routes, %llu loops, %llu super-routes)\n",
      out.c_str(), static_cast<unsigned long long>(s->nodes),
      static_cast<unsigned long long>(s->ways), static_cast<unsigned long long>(s->relations),
      static_cast<unsigned long long>(s->route_relations),
      static_cast<unsigned long long>(s->loops), static_cast<unsigned long long>(s->super_routes));
  if (!dem.empty()) {
    const stride::Status d = stride::datasets::WriteSyntheticDem(dem, s->bbox);
    if (!d.ok()) {
      std::fprintf(stderr, "gen_osm: %s\n", d.message().c_str());
      return 1;
    }
    std::printf("%s: SRTM3 tiles of the synthetic terrain\n", dem.c_str());
  }
  return 0;
}
