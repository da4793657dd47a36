// SPDX-License-Identifier: Apache-2.0
//
// Map matching: which trails a recorded track walked, by the hidden Markov model of Newson &
// Krumm (2009) and the Viterbi algorithm.
//
//   candidates   every edge within radius_m of a fix (at most max_candidates, nearest first);
//                a fix with none is off the network;
//   emission     log p = -0.5 (d / sigma)^2, d the fix's distance to the candidate point;
//   transition   log p = -|route - straight| / beta: the shortest walk on the graph between
//                two candidates against the straight distance between the fixes (one bounded
//                Dijkstra per candidate reaches all the next fix's candidates; a walk longer
//                than max_detour x straight + 100 m is no transition);
//   breaks       when no candidate of a fix can be reached from any of the previous fix's,
//                or the fix has no candidate at all, the current piece ends and a new one
//                starts at the next fix that has candidates: runners cross fields and tracks
//                that are not mapped, and come back.
// Fixes closer than min_spacing_m to the last one used are skipped (jitter while standing
// would otherwise ask for back-and-forth walks); they belong to the piece around them.
//
// The result: the pieces (matched walks, Path steps), the edges walked in order with entry and
// exit times (interpolated along the walk between the fixes' times), and the share of the
// track on and off the network (straight distance between consecutive fixes, on when both
// lie in the same piece).
//
// Thread-safety: reentrant; the graph is read only.
//
//   std::vector<MatchPoint> pts = ...;  // time (NaN when unknown) and position per fix
//   Result<MatchResult> m = Match(graph, pts, MatchOptions{});
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "engine/status.hpp"
#include "engine/track/track.hpp"
#include "engine/trail/graph.hpp"
#include "engine/trail/router.hpp"

namespace stride::engine::trail {

struct MatchPoint {
  double time_s = std::numeric_limits<double>::quiet_NaN();
  PointE7 p;
};

struct MatchOptions {
  double sigma_m = 5.0;    // GPS noise (OSRM 5, Valhalla 4.07)
  double beta_m = 5.0;     // transition scale, metres
  double radius_m = 40.0;  // candidate search radius; none within: off the network
  size_t max_candidates = 6;
  double max_detour = 4.0;     // route > max_detour x straight + 100 m: no transition
  double min_spacing_m = 8.0;  // fixes closer than this to the last one used are skipped
};

struct MatchedEdge {
  uint32_t edge = 0;
  double from_m = 0, to_m = 0;  // offsets walked along the edge (to < from: backwards)
  double entry_time_s = std::numeric_limits<double>::quiet_NaN();
  double exit_time_s = std::numeric_limits<double>::quiet_NaN();
  int piece = 0;
};

struct MatchPiece {
  size_t first_point = 0, last_point = 0;  // input indices
  Path path;
};

struct MatchResult {
  std::vector<MatchPiece> pieces;
  std::vector<MatchedEdge> edges;
  std::vector<int32_t> point_piece;  // per input fix: its piece, or -1 off the network
  double on_network_m = 0, off_network_m = 0;
};

// The positioned points of a track, with their times (NaN where a point has none).
std::vector<MatchPoint> MatchPointsOf(const Track& track);

// InvalidArgument for fewer than two fixes.
Result<MatchResult> Match(const TrailGraph& g, const std::vector<MatchPoint>& points,
                          const MatchOptions& o = {});

// A named route walked end to end within one piece: at least `min_share` of the route's
// graph length matched, timed from the first entry onto its edges to the last exit.
struct RouteEffort {
  uint32_t route = 0;  // into TrailGraph::routes
  int piece = 0;
  double covered_m = 0;
  double start_s = std::numeric_limits<double>::quiet_NaN();
  double end_s = std::numeric_limits<double>::quiet_NaN();
};
std::vector<RouteEffort> RouteEfforts(const TrailGraph& g, const MatchResult& m,
                                      double min_share = 0.9);

// Every named route the match walked on, over all pieces, in the order the walk reached them:
// the metres of the route's graph edges matched (a stretch walked twice counts once), their
// share of the route's graph length, and the time of the first entry (NaN without times).
// Route coverage of an upload comes from this when the run was matched.
struct RouteCovered {
  uint32_t route = 0;  // into TrailGraph::routes
  double covered_m = 0;
  double share = 0;
  double first_reached_s = std::numeric_limits<double>::quiet_NaN();
};
std::vector<RouteCovered> RoutesWalked(const TrailGraph& g, const MatchResult& m);

}  // namespace stride::engine::trail
