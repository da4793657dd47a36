// SPDX-License-Identifier: Apache-2.0
//
// Foot routing on the trail graph: the cost model, point-to-point paths and loops of a chosen
// length.
//
// Cost of walking an edge (seconds, the unit A* needs): Tobler time in that direction
//   x (1 + 0.15 sac) for difficult ground, x road_penalty on car roads (runners prefer paths),
//   x 1.5 on paved edges when prefer_unpaved, x 1.2 on steps,
//   + climb_s_per_m x ascent when minimise_climb;
// edges excluded by the options (steps when avoid_steps, sac_scale above max_difficulty; no
// foot access is never in the graph) cost infinity. Snap endpoints with Usable(options), so
// that they lie on edges the options allow.
// Every factor is >= 1, so straight distance / Tobler's top speed (6 km/h) is an admissible
// A* heuristic and ShortestPath is exact under the model (tests: equal to a plain Dijkstra).
//
// Endpoints lie anywhere on an edge (TrailGraph::Nearest): a search starts from both ends of
// the start edge, charged for the part walked to reach them, and ends at the target edge the
// same way (or along the edge itself when both lie on it).
//
// Loops: a triangle start -> P -> Q -> start. P and Q come from two bounded searches (from the
// start, and towards it), about a third of the asked length away on the graph, at bearings
// 60 degrees apart drawn from the seed; the middle leg P -> Q is routed with the first and last
// legs' edges made 4x as costly, so the loop comes back another way where the map allows;
// immediate reversals (an out-and-back spur) are cut, and the legs' lengths are rescaled (up
// to five times per bearing) until the loop is within the tolerance. Every other bearing
// tries a two-point shape instead (start -> P, back another way), which fits valleys. When no
// candidate is within the tolerance, an out-and-back to the point half the length away (on
// the edge that leads farthest from the start) is offered too (flagged out_and_back). Candidates
// within it are ranked by how much of themselves they repeat, then by the share on paths;
// alternatives must differ by at least half their edges. Deterministic for a given seed.
//
// Thread-safety: functions are reentrant (per-thread scratch space); the graph is read only.
//
//   Result<Snap> a = g.Nearest(from, 500), b = g.Nearest(to, 500);
//   Result<Path> p = ShortestPath(g, *a, *b, FootOptions{});
//   Result<std::vector<Loop>> loops = Loops(g, *a, LoopOptions{.distance_m = 10000});
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "engine/status.hpp"
#include "engine/trail/graph.hpp"

namespace stride::engine::trail {

struct FootOptions {
  bool avoid_steps = false;
  int max_difficulty = 6;       // sac_scale level (0 untagged ... 6 difficult alpine)
  bool prefer_unpaved = false;  // paved edges cost 1.5x
  bool minimise_climb = false;  // adds climb_s_per_m per metre of ascent
  double climb_s_per_m = 30.0;  // with minimise_climb
  double road_penalty = 1.25;   // car roads cost this much more than paths
  bool shortest = false;  // cost = metres, every edge allowed (map matching); the rest ignored
};

// Cost of walking edge `e` in a direction; infinity when the options exclude it (unless
// `force`).
double EdgeCost(const GraphEdge& e, bool backward, const FootOptions& o, bool force = false);
// Cost of the part [a, b] of edge e walked from offset a to offset b (never infinity).
double PartCost(const TrailGraph& g, uint32_t e, double a, double b, const FootOptions& o);
// The snapping filter for these options: edges they do not exclude.
std::function<bool(const GraphEdge&)> Usable(const FootOptions& o);

// A piece of one edge walked from offset from_m to offset to_m (metres from the edge's `from`
// node; from_m > to_m when walked backwards).
struct Step {
  uint32_t edge = 0;
  double from_m = 0, to_m = 0;
  bool backward() const { return to_m < from_m; }
};

struct Path {
  std::vector<Step> steps;
  double cost = 0;
  double distance_m = 0, ascent_m = 0, descent_m = 0, time_s = 0;  // Tobler time, no penalties
};

// The cheapest path under the cost model (A*). NotFound when the target cannot be reached
// with these options (the message says so).
Result<Path> ShortestPath(const TrailGraph& g, const Snap& from, const Snap& to,
                          const FootOptions& o);
// Optional, after loading a graph: makes the search state for its size resident ahead of the
// first searches (two workspaces of 24 bytes a node: one hierarchy query, or an A* and a loop
// tree), so that a server's first requests do not each pay thousands of page faults (on the
// 527,000-junction map its first 100 directions took 1.6 x the time of the next ones).
void PrepareSearches(const TrailGraph& g);
// Totals (distance, ascent, descent, time, cost) of `steps`, recomputed from the graph.
Path Measure(const TrailGraph& g, std::vector<Step> steps, const FootOptions& o);
// Appends `b` to `a` (legs of one walk) and re-measures.
Path Concatenate(const TrailGraph& g, const Path& a, const Path& b, const FootOptions& o);

// Metres covered by the union of [lo, hi] intervals (sorts them).
double UnionLength(std::vector<std::pair<double, double>>& intervals);

// The walked line (and elevations when the graph has them; else empty), without repeated
// points where steps meet; `along` (optional): the metres walked to each point, from the
// steps' offsets, so that the last is the path's distance.
void PathGeometry(const TrailGraph& g, const Path& p, std::vector<PointE7>* points,
                  std::vector<float>* elevations, std::vector<double>* along = nullptr);

struct LoopOptions {
  double distance_m = 5000;
  double tolerance = 0.05;  // accepted relative length error
  int alternatives = 3;
  uint64_t seed = 1;
  FootOptions foot;
};

struct Loop {
  Path path;
  double repeated_m = 0;    // metres of edges walked more than once (counted once per repeat)
  double path_like_m = 0;   // metres on paths, tracks, footways (not car roads)
  double length_error = 0;  // (distance - asked) / asked
  bool within_tolerance = false;
  bool out_and_back = false;  // no loop within the tolerance exists here: there and back
};

// Up to `alternatives` loops from `start`, best first; those within the tolerance when there
// are any, else the closest ones found (within_tolerance false). InvalidArgument for a length
// out of [200 m, 200 km]; NotFound when the start's component is too small for any loop.
Result<std::vector<Loop>> Loops(const TrailGraph& g, const Snap& start, const LoopOptions& o);

}  // namespace stride::engine::trail
