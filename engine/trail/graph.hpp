// SPDX-License-Identifier: Apache-2.0
//
// The routable trail graph: the import's trail edges (every walkable way split at junctions)
// in a compact form that foot routing searches without touching the database.
//
//   nodes    junctions and way ends, as dense indices with their coordinates;
//   CSR      first_arc[n] .. first_arc[n+1] are the arcs leaving node n; each undirected
//            edge appears twice (once per direction), so the graph is symmetric in topology
//            while times and ascent differ by direction;
//   edges    length, ascent and descent along from -> to, the walking time each way by
//            Tobler's hiking function (below), surface class, sac_scale level, flags (steps,
//            foot=designated, a path-like highway, a car road), the way's name, and the named
//            routes the way belongs to (the route relations and named trails of the import);
//   shapes   every edge's points (and DEM elevations when the import had a DEM), from -> to.
//
// Walking time: Tobler (1993), v = 6 exp(-3.5 |g + 0.05|) km/h, fastest (6 km/h) on a gentle
// 5 % descent. An edge's grade comes from its stored ascent and descent (the import's
// hysteresis-filtered climb, so DEM noise does not slow every edge): with mean absolute grade
// G = (ascent + descent) / length, the share ascent / (ascent + descent) of the length is
// walked at +G and the rest at -G. Reversing an edge swaps ascent and descent.
//
// Build it with GraphBuilder (from TrailEdge records and routes, as the import writes them);
// Serialize() writes the binary layout of index/store/FORMAT.md ("trail.graph"), Parse() reads
// it back checking every index, so a corrupt file is an error, never an out-of-bounds read.
//
// Thread-safety: a built or parsed TrailGraph is immutable and safe to share.
//
//   GraphBuilder b;  for (auto& e : edges) b.AddEdge(e);  b.AddRoute(route);
//   TrailGraph g = std::move(b).Build();
//   Result<TrailGraph> again = TrailGraph::Parse(g.Serialize());
//   Result<Snap> s = g.Nearest({425070000, 15210000}, 500);
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/route/route_record.hpp"
#include "engine/status.hpp"

namespace stride::engine::trail {

// Tobler's hiking function: walking speed in m/s at grade `g` (rise over run).
double ToblerSpeedMps(double grade);
// Seconds to walk `length_m` that climbs `ascent_m` and descends `descent_m` on the way (the
// split described above).
double WalkSeconds(double length_m, double ascent_m, double descent_m);
inline constexpr double kToblerMaxSpeedMps = 6.0 / 3.6;

enum EdgeFlag : uint8_t {
  kSteps = 1,       // highway=steps
  kDesignated = 2,  // foot=designated
  kPathLike = 4,    // path, footway, track, bridleway, pedestrian, steps
  kCarRoad = 8,     // a road cars use (primary ... unclassified, residential, service)
};

struct GraphEdge {
  uint32_t from = 0, to = 0;                  // node indices
  uint32_t shape_first = 0, shape_count = 0;  // into TrailGraph::shape, from -> to
  float length_m = 0;
  float ascent_m = 0, descent_m = 0;  // along from -> to
  float time_fwd_s = 0, time_bwd_s = 0;
  uint32_t name = 0;          // into TrailGraph::strings (0 = "")
  uint32_t surface = 0;       // into TrailGraph::strings: the OSM value, "" when untagged
  uint32_t highway = 0;       // into TrailGraph::strings
  uint8_t surface_class = 0;  // engine::Surface
  uint8_t sac = 0;            // 0..6
  uint8_t flags = 0;          // EdgeFlag bits
  uint8_t reserved = 0;
};

// An arc leaves a node along an edge: `to` is the node it reaches; `edge << 1 | backward`.
struct Arc {
  uint32_t to = 0;
  uint32_t edge_dir = 0;
  uint32_t edge() const { return edge_dir >> 1; }
  bool backward() const { return (edge_dir & 1u) != 0; }
};

// A contraction hierarchy of the graph for the default foot cost model (engine/trail/
// hierarchy.hpp builds and searches it). Nodes are ranked; a node's upward arcs reach nodes of
// higher rank: `up` arcs are walked from the node (cost of node -> to), `down` arcs are walked
// into it (cost of to -> node). An arc is an original graph arc (via = kViaArc | arc index) or
// a shortcut over the lower-ranked node `via`. A node has at most one arc per neighbour in
// each list (the cheapest), which is how shortcuts are unpacked.
struct HierarchyArc {
  uint32_t to = 0;
  uint32_t via = 0;
  double cost = 0;
};
struct Hierarchy {
  static constexpr uint32_t kViaArc = 0x80000000u;
  std::vector<uint32_t> rank;      // per node
  std::vector<uint32_t> up_first;  // nodes + 1
  std::vector<HierarchyArc> up;
  std::vector<uint32_t> down_first;  // nodes + 1
  std::vector<HierarchyArc> down;
  // The top `core` ranks were left uncontracted (HierarchyOptions::core_mean_degree): each
  // core node's up list holds its arcs to every other core node, its down list those from
  // them, whatever their ranks; searches run a plain bidirectional Dijkstra among them. 0: every
  // node was contracted.
  uint32_t core = 0;
  // Derived, not stored (IndexByRank, run by BuildHierarchy and a full Parse): the lists indexed
  // by rank, each arc's `to` a rank (`via` unchanged). Queries run in rank space: the nodes
  // every query visits are the top ranks, so their lists and search state sit together in
  // memory and stay cached (on the 527,000-junction map: p50 1.27 -> 0.99 ms for 120 MB).
  struct ByRank {
    std::vector<uint32_t> node;  // node of each rank
    std::vector<uint32_t> up_first, down_first;
    std::vector<HierarchyArc> up, down;
  } by_rank;
};

// What TrailGraph::Parse reads: everything (to serve), or what contraction needs.
// What TrailGraph::Parse reads (below): everything; what contraction reads and the hierarchy;
// or what engine::trail::InheritedOrder reads (the order an update inherits).
enum class GraphParse { kAll, kContraction, kOrder };

struct GraphRoute {
  uint64_t id = 0;        // the route database's id
  uint32_t name = 0;      // into strings
  uint32_t reserved = 0;  // explicit padding: the file bytes are all defined
};

// A point snapped onto the graph: the nearest point of the nearest edge.
struct Snap {
  uint32_t edge = 0;
  double offset_m = 0;    // along the edge from its `from` node
  PointE7 point;          // on the edge
  double distance_m = 0;  // from the asked point
};

class TrailGraph {
 public:
  size_t nodes() const { return node_point.size(); }
  size_t edge_count() const { return edges.size(); }
  const std::string& str(uint32_t i) const { return strings[i]; }

  // The arcs leaving `node`.
  const Arc* arcs_begin(uint32_t node) const { return arcs.data() + first_arc[node]; }
  const Arc* arcs_end(uint32_t node) const { return arcs.data() + first_arc[node + 1]; }
  // Route indices (into routes) of edge e.
  const uint32_t* routes_begin(uint32_t e) const { return edge_routes.data() + route_first[e]; }
  const uint32_t* routes_end(uint32_t e) const { return edge_routes.data() + route_first[e + 1]; }
  bool has_elevation() const { return !shape_elevation.empty(); }
  // The largest |latitude| of any node, degrees (A* scales longitudes by its cosine, so that
  // its straight-line bound is one metric over the whole graph).
  double max_abs_lat_deg() const { return max_abs_lat_deg_; }

  // The nearest point, within `max_m` metres, of an edge that `usable` accepts (every edge
  // when null); NotFound (whose message gives the distance to the nearest edge, however far)
  // when none is that close or the graph is empty.
  Result<Snap> Nearest(PointE7 p, double max_m,
                       const std::function<bool(const GraphEdge&)>& usable = nullptr) const;
  // Every edge within `radius_m` of `p`, each at its nearest point, nearest first, at most
  // `max` (map-matching candidates).
  std::vector<Snap> Within(PointE7 p, double radius_m, size_t max) const;
  // The edges with a point or segment in `box` (from the snap grid: an edge whose segment
  // only passes a corner cell may be included), each once, in edge order. Cost: the grid
  // cells the box covers (0.002 degrees square), so meant for boxes of a few kilometres.
  std::vector<uint32_t> EdgesInBox(const BoxE7& box) const;
  // The edges of the largest connected part (where random starts and pairs are drawn: a car
  // park's isolated footway has no loop or far destination to offer).
  std::vector<uint32_t> LargestComponentEdges() const;
  // The point `offset_m` metres along edge `e` from its from node (clamped to the edge).
  PointE7 PointAt(uint32_t e, double offset_m) const;
  // Metres from its edge's first point to shape point i (computed when built or parsed).
  double shape_offset_m(size_t i) const { return shape_at_[i]; }

  // The binary form of FORMAT.md; Parse checks magic, version, sizes and every index.
  std::string Serialize() const;
  // The same bytes handed to `out` piece by piece, in order: large arrays in one piece each,
  // straight from the graph's memory, so a file can be written without a second copy of the
  // graph (which at 10^7 nodes is 350 MB).
  void SerializeTo(const std::function<void(std::string_view)>& out) const;
  // SerializeTo in two parts, whose bytes in this order are SerializeTo's: the network (every
  // section up to edge_way) and the hierarchy (its flag and sections). An import writes the
  // network before contracting, then keeps only what contraction reads.
  void SerializeNetworkTo(const std::function<void(std::string_view)>& out) const;
  void SerializeHierarchyTo(const std::function<void(std::string_view)>& out) const;
  // Frees what GraphParse::kContraction does not read (shapes, elevations, strings, routes,
  // edge_way, the snap index): the graph is then fit to contract and to have its hierarchy
  // serialized, nothing else. On the generated 10^8-node map, 1.4 GiB of the 2.1 GiB the
  // network takes.
  void KeepOnlyWhatContractionReads();
  // `consumed`, when given, is called with the offset below which every byte has been copied
  // into the graph, after each array: a caller parsing a mapped file lets those pages go, so
  // the file and the graph are not both resident.
  // `what` kContraction reads only what a contraction hierarchy is built from (nodes'
  // count, first_arc, arcs, edges) and the hierarchy, not indexed by rank; shapes, strings and
  // routes are stepped over and no snap index is built: enough for ContractionInput and to
  // keep the hierarchy in a new file, not for routing. An import that keeps a hierarchy reads
  // the old graph so (engine/trail/hierarchy.hpp). kOrder reads node_point, edges, edge_way and
  // the hierarchy's rank (checked to be a permutation), nothing else: only for InheritedOrder.
  static Result<TrailGraph> Parse(std::string_view bytes,
                                  const std::function<void(size_t)>& consumed = nullptr,
                                  GraphParse what = GraphParse::kAll);

  std::vector<PointE7> node_point;
  std::vector<uint32_t> first_arc;  // nodes() + 1
  std::vector<Arc> arcs;            // 2 per edge
  std::vector<GraphEdge> edges;
  std::vector<PointE7> shape;
  std::vector<float> shape_elevation;  // parallel to shape, or empty (no DEM)
  std::vector<std::string> strings;    // strings[0] == ""
  std::vector<GraphRoute> routes;
  std::vector<uint32_t> route_first;  // edge_count() + 1
  std::vector<uint32_t> edge_routes;
  std::vector<uint64_t> edge_way;  // the OSM way of each edge
  // The hierarchy for the default foot options, when the import built one (ShortestPath uses
  // it for those options; else A*). Stored in trail.graph.
  std::shared_ptr<const Hierarchy> hierarchy;
  // Metres of graph edges on each route (computed when built or parsed, not stored).
  std::vector<double> route_length_m;

 private:
  friend class GraphBuilder;
  void BuildSnapIndex();
  // The snap at fraction t of segment k (points k, k + 1) of edge e.
  Snap SnapOnSegment(uint32_t e, uint32_t k, double t) const;
  double max_abs_lat_deg_ = 0;
  std::vector<double> shape_at_;  // metres from its edge's first point, per shape point
  // Snap grid: cells of kSnapCellE7 square; cell key -> segments (edge, first point index).
  std::unordered_map<uint64_t, std::vector<std::pair<uint32_t, uint32_t>>> cells_;
};

class GraphBuilder {
 public:
  // Edges in any order; an edge with fewer than two points or a zero node id is skipped.
  void AddEdge(const TrailEdge& e);
  // Records which ways belong to a named route (relation or named trail).
  void AddRoute(const Route& r);
  // snap_index false: a graph to contract and write, not to search (an import): without the
  // snap index and the points' offsets along their edges, which Parse builds when the file is
  // read (on a 10^8-node map, GB that the import held through its contraction). Snap,
  // EdgesInBox and shape_offset_m must not be called on it.
  TrailGraph Build(bool snap_index = true) &&;
  size_t edges() const { return pending_.size(); }
  // Room for `edges` edges of `points` points in all (engine::MapSink::ExpectEdges); the
  // elevations get theirs when the first comes.
  void Reserve(size_t edges, size_t points);

 private:
  struct Pending {
    uint64_t from_node = 0, to_node = 0, way_id = 0;
    GraphEdge edge;
  };
  uint32_t Intern(const std::string& s);
  std::vector<Pending> pending_;
  std::vector<PointE7> shape_;
  std::vector<float> shape_elevation_;
  size_t expected_points_ = 0;  // Reserve's
  bool all_elevation_ = true;
  std::vector<std::string> strings_{""};
  std::unordered_map<std::string, uint32_t> string_index_{{"", 0}};
  std::vector<GraphRoute> routes_;
  std::vector<std::pair<uint64_t, uint32_t>> way_routes_;  // (way id, route index)
};

}  // namespace stride::engine::trail
