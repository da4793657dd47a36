// SPDX-License-Identifier: Apache-2.0
//
// Contraction hierarchy (Geisberger et al. 2008) of the trail graph for the default foot
// options: what makes directions fast on a country-sized map.
//
// Build: nodes are contracted one by one in the order of a priority (edge difference, twice,
// plus the number of neighbours already contracted), re-evaluated lazily when a node comes to
// the top of the queue. On the generated 10^7-node map (a jittered grid, the hard case for
// hierarchies) the alternatives tried were slower to build and no faster to search: updating
// the neighbours of each contracted node, a level term (both several times slower), and
// estimating dense nodes without witness searches (281 s instead of 160 s, more shortcuts).
// Contracting v adds a shortcut u -> w for every pair of its neighbours whose cheapest walk
// runs through v: a witness search from u (Dijkstra over the nodes not yet contracted, v
// excluded, at most `witness_settled` nodes) looks for a walk at most as costly; when it gives
// up, the shortcut is added anyway (never wrong, only larger). Costs are the default
// FootOptions' edge costs in each direction (Tobler time with the surface, difficulty and road
// factors), so the hierarchy answers exactly what A* answers for those options; other options
// (avoid steps, prefer unpaved, ...) use A*, since a hierarchy is built for one metric (a
// customisable hierarchy would lift that; not built).
//
// Query: a bidirectional Dijkstra that only goes up in rank, forward from the start edge's
// two ends and backward from the target edge's, with stall-on-demand; the best meeting node
// gives the path, whose shortcuts are unpacked through their middle nodes.
//
// The core: the densest top of a big map costs most of a build (on the 10^7-node map the last
// 0.5 % of the nodes took 35 of 132 s; on a 10^8-node map the last 1 % had not finished after
// 35 minutes), so contraction stops once the nodes left are too dense
// (HierarchyOptions::core_mean_degree) and leaves them as a core, which keeps every arc among
// its nodes. A search goes up the hierarchy into the core as before, then through the core as
// a plain bidirectional Dijkstra: once neither search can reach a node below the core, they
// stop when their two tops together reach the best meeting, not each on its own.
//
// Trade-offs: building costs time at import (seconds for 10^6 junctions) and memory (the
// upward arcs, 16 bytes each, about twice the original arcs); searches settle hundreds of
// nodes instead of hundreds of thousands (thousands to tens of thousands on the generated 10^7-
// and 10^8-node maps, most of them in the core).
//
// Thread-safety: BuildHierarchy is a plain function; HierarchyPath is reentrant (per-thread
// scratch space) over an immutable graph.
//
//   TrailGraph g = std::move(builder).Build();
//   g.hierarchy = std::make_shared<Hierarchy>(BuildHierarchy(g));
//   Result<Path> p = ShortestPath(g, a, b, FootOptions{});  // uses it
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "engine/status.hpp"
#include "engine/trail/graph.hpp"
#include "engine/trail/router.hpp"

namespace stride::engine::trail {

struct HierarchyOptions {
  // Nodes a witness search may settle when contracting (more: fewer shortcuts, slower build).
  // Default: 500.
  size_t witness_settled = 500;
  // ... when estimating a node's priority. Default: 40.
  size_t estimate_settled = 40;
  // Leave the rest uncontracted, as the hierarchy's core (Hierarchy::core), once the nodes
  // not yet contracted have more than this many arcs out each on average; 0: contract all.
  // It bounds what contracting one node costs (witness searches from each neighbour, a
  // shortcut per pair), so a build's time grows with the nodes, not with how dense the top
  // of the hierarchy gets. On the generated 10^7-node map (527,000 junctions; bench/README):
  // 0: 132 s, searches p50 1.0 ms; 32: 67-79 s, a core of 9,900, p50 2.6 ms, p99 6.3 ms;
  // 16: 37 s, a core of 42,000. Default: 32.
  double core_mean_degree = 32;
  // A memory budget: asked every 4,096 contractions (and every 2^20 shortcuts) with the bytes the
  // finished hierarchy's arrays will add (its arcs so far and the core's, 16 bytes each); true
  // leaves the nodes not yet contracted as the core, as core_mean_degree does, so that the build
  // ends within the budget, with a larger core (slower searches: a plain bidirectional Dijkstra
  // inside it). An import with --memory-mb passes one that compares the process's resident memory
  // plus those bytes with its budget. Default: null (no budget).
  std::function<bool(size_t output_bytes)> out_of_memory;
  // Threads contracting: with 2 (more are not used), the first priorities are computed by
  // both, and a node's witness searches are shared with the second thread when they are
  // enough to pay for the handover (both threads spin a little before they sleep; what the
  // second has not started when the first is done, the first does, so a busy machine does
  // not make it slower than one thread). The hierarchy is the same whatever the count; a
  // second thread costs a second set of search labels (20 bytes a node). Measured on the
  // generated 10^7-node map: 68 s on one thread, 40-44 s on two (bench/README). Default: 1.
  int threads = 1;
  // Contract in a given order instead of the priorities': node v goes at its key, order[v]
  // (the lowest first; equal keys in node order); the core rule and the memory budget apply as
  // before. Empty (the default): the priority order above. An update whose network changed
  // passes the ranks of the hierarchy it replaces (InheritedOrder), which skips every priority
  // estimate, most of a build's time on the generated maps. Any order gives a hierarchy that
  // answers the same costs; one that is not the priorities' is not the hierarchy a fresh
  // build gives, and has more shortcuts (slower searches) the more the network left it behind.
  std::vector<uint32_t> order;
  // Called now and then with (nodes contracted, nodes); may be null.
  std::function<void(size_t, size_t)> progress;
  // Fill Hierarchy::by_rank, which searches need: an import, which only writes the hierarchy,
  // leaves it out (a second copy of the arcs, ~120 MB at 10^7 nodes). Default: true.
  bool index_by_rank = true;
};

struct HierarchyStats {
  bool ordered = false;  // contracted in HierarchyOptions::order, not by priority
  size_t shortcuts = 0;
  size_t up_arcs = 0, down_arcs = 0;
  size_t max_degree = 0;       // the most arcs a node had when it was contracted (or in the core)
  size_t core = 0;             // nodes left uncontracted
  bool out_of_memory = false;  // the core is what was left when out_of_memory said so
  size_t shared = 0;           // nodes the second thread (threads = 2) did searches of
  double seconds = 0;
  // The hierarchy was taken from the database being replaced (same ContractionInput), not
  // built: the counts above are zero.
  bool reused = false;
};

Hierarchy BuildHierarchy(const TrailGraph& g, const HierarchyOptions& options = {},
                         HierarchyStats* stats = nullptr);

// An estimate of the seconds a contraction has left, for progress lines: `done` of `total`
// nodes contracted, the last `step_nodes` of them in `step_s` seconds. Contraction slows as
// it goes (the nodes left have more neighbours, and longer witness searches): on the generated
// maps of 10^7 and 10^8 nodes, past a third of the way, the rate fell about as the share of
// nodes left to the power 1.3, and contraction stopped with ~2 % of them left as the core. This
// integrates that from the last step's rate. Against those two runs, past half-way, it said
// 0.64-1.21 times the time that was left; elapsed * left / done, which it replaces, said a
// tenth of it. Maps whose contraction ends otherwise (a smaller core, none) may take longer.
// NaN when there is no step to go by; 0 when done.
double ContractionSecondsLeft(size_t done, size_t total, size_t step_nodes, double step_s);

// An order for contracting `g` (HierarchyOptions::order) from the hierarchy of `old`, the
// graph it replaces: a node of `g` with a counterpart in `old` takes that node's rank (plus
// one), a node without one (a new junction) key 0, so the new nodes go first. OSM node ids are
// not stored, so counterparts are found by way, then by position: the ends of the k-th edge of
// a way that has as many edges in both graphs are the ends of its k-th edge in `old` (a moved
// junction keeps its place); a node no such way gives is matched by its position. A heuristic
// (a junction replaced in a way of unchanged length takes the rank of the one it replaced; two
// nodes at one position keep the first's rank): any order answers the same. `matched`, when
// given, gets the count of nodes that found a counterpart. Reads of `old` node_point, edges,
// edge_way and hierarchy->rank (GraphParse::kOrder). REQUIRES: old.hierarchy.
std::vector<uint32_t> InheritedOrder(const TrailGraph& g, const TrailGraph& old,
                                     size_t* matched = nullptr);

// What BuildHierarchy reads from `g`, as bytes: the node count, first_arc, and each arc's
// head, direction and default cost (bit for bit), handed to `sink` in order, in pieces of about
// 1 MiB (the whole would be hundreds of MiB at 10^7 nodes). Two graphs giving the same bytes
// give the same hierarchy, byte for byte, whatever else differs (names, shapes, elevations of
// the points, routes): a database keeps a digest of them, and an update whose changes leave the
// walkable network as it was (renamed ways, route relations, objects that are not trails) keeps
// the hierarchy instead of contracting again, which on a 10^7-node map is 90 % of the update.
void ContractionInput(const TrailGraph& g, const std::function<void(std::string_view)>& sink);

// Fills h->by_rank from the node-indexed lists. REQUIRES: h->rank is a permutation and the
// lists are consistent (what TrailGraph::Parse checks).
void IndexByRank(Hierarchy* h);

// True when `o` are the options the hierarchy was built for (the defaults).
bool HierarchyAnswers(const FootOptions& o);
// True when ShortestPath(g, ..., o) goes through g's hierarchy: it has one, and `o` are the
// options it was built for.
inline bool UsesHierarchy(const TrailGraph& g, const FootOptions& o) {
  return g.hierarchy && HierarchyAnswers(o);
}

// The cheapest path under the default options through g.hierarchy (which must be set): the
// same cost as ShortestPath's A* (ties may pick another path of equal cost). NotFound as
// ShortestPath.
Result<Path> HierarchyPath(const TrailGraph& g, const Snap& from, const Snap& to);

// Nodes the last HierarchyPath on this thread settled, both directions (for benchmarks).
size_t HierarchySettledLastQuery();

}  // namespace stride::engine::trail
