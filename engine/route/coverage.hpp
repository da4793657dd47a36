// SPDX-License-Identifier: Apache-2.0
//
// Route coverage: which routes a recorded track followed, and how much of each. A route's
// geometry is cut into pieces of at most `step_m`; a piece counts as covered when its middle
// lies within `tolerance_m` of the track (any segment of it, found through a grid of track
// segments with cells of the tolerance's size). The share is covered length over route length,
// both measured in the same local plane (an equirectangular projection at the track's mean
// latitude: under 0.1 % off over the extent of a run), so GPS and mapping error up to the
// tolerance do not count against the runner.
//
// Routes are reported in the order the track first reached them, when at least
// `min_covered_m` of the route (or `min_share` of a short one) was covered: a track that only
// crosses a route covers about twice the tolerance of it, and is not "following" it.
//
// Thread-safety: pure function.
//
//   std::vector<CoverageCandidate> c = {{id, &geometry}};
//   for (const RouteCoverage& r : MeasureCoverage(track, c, {})) ... r.share ...
#pragma once

#include <cstdint>
#include <vector>

#include "engine/route/route.hpp"
#include "engine/track/track.hpp"

namespace stride::engine {

struct CoverageOptions {
  double tolerance_m = 30.0;     // Default: 30 m (GPS error plus mapping error)
  double step_m = 10.0;          // route pieces. Default: 10 m
  double min_covered_m = 200.0;  // Default: 200 m ...
  double min_share = 0.5;        // ... or half of a shorter route
};

struct CoverageCandidate {
  uint64_t id = 0;
  const RouteGeometry* geometry = nullptr;  // must outlive the call
};

struct RouteCoverage {
  uint64_t id = 0;
  size_t candidate = 0;    // index into the candidates
  double length_m = 0;     // of the route, in the local plane
  double covered_m = 0;    // of the route, within the tolerance of the track
  double share = 0;        // covered_m / length_m, 0..1
  size_t first_point = 0;  // the track point where the route was first reached
};

std::vector<RouteCoverage> MeasureCoverage(const Track& track,
                                           const std::vector<CoverageCandidate>& candidates,
                                           const CoverageOptions& options = {});

}  // namespace stride::engine
