// SPDX-License-Identifier: Apache-2.0
//
// Synthetic route sets of any size, for the spatial index's tests and benchmarks and for
// continent-sized route databases without downloaded data. Route i of a set depends only on
// the options and i (its own seeded generator), so sets can be made in parallel and a test can
// regenerate any route.
//
// Each route is a random walk (a vertex every ~80 m, heading drifting; loops bend round to
// their start) placed uniformly over the region, with lengths log-normal around
// `mean_length_m` (1-60 km). Its elevation profile is sampled every <= 30 m from
// ContinentElevation() (plains, hills and mountain ranges) and its ascent, descent and grades
// come from it by the same method as imported routes (engine/route/profile.hpp), so climbs
// are those of the ground it crosses: a few metres per km on plains, 50-100 m/km in mountains.
// Types, surfaces, difficulties and networks follow the mix of OSM walking routes; 20 % are
// named trails (their ids have the named-trail origin), the rest relations.
//
// Thread-safety: pure functions (seeded); WriteSyntheticRouteDb uses `threads` threads.
//
//   datasets::SyntheticRoutesOptions o;
//   o.count = 1'000'000;
//   o.SetRegion(36, -10, 60, 30);            // Europe-sized
//   Result<SyntheticDbStats> s = WriteSyntheticRouteDb(o, "/tmp/routes.db");
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/route/route.hpp"
#include "engine/route/route_record.hpp"
#include "engine/status.hpp"

namespace stride::datasets {

struct SyntheticRoutesOptions {
  size_t count = 1000;
  // Region, degrees. Default: the Alps and around.
  double min_lat = 44.0, max_lat = 48.0, min_lon = 5.0, max_lon = 15.0;
  double mean_length_m = 8000;
  uint32_t seed = 1;
  // The database's import time (meta "import".finished_at, as `stride import` writes it; the
  // moment replicas roll a new database out from). Default: when it is written.
  std::string finished_at;

  void SetRegion(double lat0, double lon0, double lat1, double lon1) {
    min_lat = lat0, min_lon = lon0, max_lat = lat1, max_lon = lon1;
  }
};

// Metres: SyntheticElevation()'s hills and valleys scaled by a slowly varying relief (ranges
// a few hundred km across, plains between them).
double ContinentElevation(double lat_deg, double lon_deg);

// Whether route i is a named trail (decided before anything else, so that a database writer
// can emit relations first and trails after, in id order).
bool SyntheticRouteIsTrail(const SyntheticRoutesOptions& o, size_t i);
// Route i of the set: a full record (name, ref, network, geometry, profile, climb, surfaces).
engine::Route MakeSyntheticRoute(const SyntheticRoutesOptions& o, size_t i);

struct SyntheticRoutes {
  std::vector<engine::RouteSummary> summaries;
  std::vector<engine::RouteGeometry> geometries;
};
// Summaries and geometries of the whole set in index order (i), made on every core.
SyntheticRoutes MakeSyntheticRoutes(const SyntheticRoutesOptions& options);

struct SyntheticDbStats {
  uint64_t routes = 0;
  uint64_t bytes = 0;  // of the committed database
  double seconds = 0;
};
// Writes the set into a route database at `db_path` (index/store, as `stride import` does,
// replacing one that is there). `progress`, when set, is called every 2^16 routes.
Result<SyntheticDbStats> WriteSyntheticRouteDb(
    const SyntheticRoutesOptions& options, const std::string& db_path, int threads = 0,
    const std::function<void(uint64_t done, uint64_t total)>& progress = {});

}  // namespace stride::datasets
