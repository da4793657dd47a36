// SPDX-License-Identifier: Apache-2.0
//
// Synthetic route databases of any size, for the spatial index's tests and benchmarks without
// downloaded data: routes are random walks (a vertex every ~80 m, heading drifting) placed
// uniformly over a region, with lengths log-normal around 8 km (1-60 km), climbs of 0-80 m/km,
// a third of them loops, and the type, surface, difficulty and network mix of OSM walking
// routes.
//
// Thread-safety: pure function (seeded).
#pragma once

#include <cstdint>
#include <vector>

#include "engine/route/route.hpp"

namespace stride::datasets {

struct SyntheticRoutesOptions {
  size_t count = 1000;
  // Region, degrees. Default: the Alps and around (a continent-sized area for 10^6 routes
  // calls for a larger one, e.g. 36..60 N, -10..30 E).
  double min_lat = 44.0, max_lat = 48.0, min_lon = 5.0, max_lon = 15.0;
  double mean_length_m = 8000;
  uint32_t seed = 1;
};

struct SyntheticRoutes {
  std::vector<engine::RouteSummary> summaries;
  std::vector<engine::RouteGeometry> geometries;
};

SyntheticRoutes MakeSyntheticRoutes(const SyntheticRoutesOptions& options);

}  // namespace stride::datasets
