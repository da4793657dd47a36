// SPDX-License-Identifier: Apache-2.0
//
// A synthetic but realistic OpenStreetMap file: a trail network on a jittered grid of
// junctions about 400 m apart, each link a wiggly way of ~40 m segments (paths, tracks,
// footways, some residential streets, a few motorways and foot=no ways that walkers may not
// use), named trails along grid rows, and route relations: random walks over the grid
// (members in walk order, so many run against their way's direction), rectangular loops,
// routes with alternative and approach members, shuffled member lists, gaps, and
// super-routes. Elevation comes from a smooth synthetic terrain that WriteSyntheticDem()
// writes as SRTM3 tiles, so imports and the demo need no downloaded data.
//
// The same options always give the same file (seeded generator, fixed header timestamp).
//
// Thread-safety: plain functions.
//
//   SyntheticOsmOptions o; o.target_nodes = 1'000'000;
//   Result<SyntheticOsmStats> s = WriteSyntheticOsm("trails.osm.pbf", o);
//   WriteSyntheticDem("dem/", s->bbox);
#pragma once

#include <cstdint>
#include <string>

#include "engine/route/route.hpp"
#include "engine/status.hpp"

namespace stride::datasets {

struct SyntheticOsmOptions {
  uint64_t target_nodes = 100'000;  // Default: 1e5; the file has this many nodes within ~2 %
  double origin_lat = 45.60;        // south-west corner. Default: 45.60 N 6.30 E (fictitious)
  double origin_lon = 6.30;
  uint64_t seed = 1;
};

struct SyntheticOsmStats {
  uint64_t nodes = 0, ways = 0, relations = 0;
  uint64_t route_relations = 0, super_routes = 0, loops = 0;
  engine::BoxE7 bbox;
};

// Writes .osm.pbf (or .osm / .osm.gz / .osm.bz2, by the file name's extension).
Result<SyntheticOsmStats> WriteSyntheticOsm(const std::string& path,
                                            const SyntheticOsmOptions& options);

// The synthetic terrain, metres (smooth hills and valleys, 500-2300 m).
double SyntheticElevation(double lat_deg, double lon_deg);

// Writes SRTM3 tiles (.hgt) of SyntheticElevation() covering `bbox` into `dir`.
Status WriteSyntheticDem(const std::string& dir, const engine::BoxE7& bbox);

}  // namespace stride::datasets
