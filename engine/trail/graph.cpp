// SPDX-License-Identifier: Apache-2.0
#include "engine/trail/graph.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <string_view>
#include <type_traits>

#include "engine/geo/geodesy.hpp"
#include "engine/route/profile.hpp"
#include "engine/trail/hierarchy.hpp"

namespace stride::engine::trail {
namespace {

static_assert(std::endian::native == std::endian::little,
              "trail.graph is little-endian; a big-endian build needs byte swapping");

constexpr char kMagic[8] = {'S', 'T', 'R', 'I', 'D', 'E', 'T', 'G'};
constexpr uint32_t kVersion = 3;        // 2: edge_way; 3: the hierarchy (2 still read)
constexpr int32_t kSnapCellE7 = 20000;  // 0.002 degrees: ~220 m of latitude

uint64_t CellKey(int64_t cy, int64_t cx) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(cy)) << 32) |
         static_cast<uint32_t>(static_cast<int32_t>(cx));
}
int64_t CellOf(int32_t e7) {
  return e7 >= 0 ? e7 / kSnapCellE7
                 : -((-static_cast<int64_t>(e7) + kSnapCellE7 - 1) / kSnapCellE7);
}

// Calls fn(segments) for each non-empty snap cell in rows y0..y1 and columns x0..x1: by
// looking each cell up, or, when the rectangle has more cells than the grid has non-empty
// ones, by going through the grid once. Either way the cost is the smaller of the two: a
// search around a point near a pole spans every longitude, a tile of the whole world every
// cell, and looking up each of their 10^10 cells would hold a request for hours.
template <class Cells, class Fn>
void ForEachCell(const Cells& cells, int64_t y0, int64_t y1, int64_t x0, int64_t x1, Fn&& fn) {
  if (y1 < y0 || x1 < x0) return;
  const double area = (static_cast<double>(y1 - y0) + 1) * (static_cast<double>(x1 - x0) + 1);
  if (area > static_cast<double>(cells.size())) {
    for (const auto& [key, segments] : cells) {
      const int64_t y = static_cast<int32_t>(static_cast<uint32_t>(key >> 32));
      const int64_t x = static_cast<int32_t>(static_cast<uint32_t>(key));
      if (y >= y0 && y <= y1 && x >= x0 && x <= x1) fn(segments);
    }
    return;
  }
  for (int64_t y = y0; y <= y1; ++y) {
    for (int64_t x = x0; x <= x1; ++x) {
      auto it = cells.find(CellKey(y, x));
      if (it != cells.end()) fn(it->second);
    }
  }
}

bool PathLike(const std::string& h) {
  return h == "path" || h == "footway" || h == "track" || h == "bridleway" || h == "pedestrian" ||
         h == "steps" || h == "cycleway";
}
bool CarRoad(const std::string& h) {
  return h == "primary" || h == "secondary" || h == "tertiary" || h == "trunk" ||
         h == "unclassified" || h == "residential" || h == "service" || h == "primary_link" ||
         h == "secondary_link" || h == "tertiary_link" || h == "trunk_link" || h == "road";
}

template <typename T>
void PutRaw(const std::function<void(std::string_view)>& out, const T& v) {
  static_assert(std::is_trivially_copyable_v<T>);
  out(std::string_view(reinterpret_cast<const char*>(&v), sizeof v));
}

// A count, then the elements as they lie in memory (one piece: no copy of a large vector).
template <typename T>
void PutVector(const std::function<void(std::string_view)>& out, const std::vector<T>& v) {
  static_assert(std::is_trivially_copyable_v<T>);
  PutRaw(out, static_cast<uint64_t>(v.size()));
  if (!v.empty())
    out(std::string_view(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T)));
}

class Reader {
 public:
  Reader(std::string_view b, const std::function<void(size_t)>& consumed)
      : b_(b), consumed_(consumed) {}
  // The section into *v; with keep false, checked and stepped over (*v left empty).
  template <typename T>
  Status Vector(const char* what, std::vector<T>* v, bool keep = true) {
    uint64_t n = 0;
    STRIDE_RETURN_IF_ERROR(Raw(what, &n, sizeof n));
    if (n > (b_.size() - pos_) / sizeof(T)) {
      return Status::Corruption(std::string("trail.graph: ") + what + ": " + std::to_string(n) +
                                " entries do not fit in the " + std::to_string(b_.size() - pos_) +
                                " bytes left at offset " + std::to_string(pos_));
    }
    if (keep) {
      v->resize(n);
      if (n != 0) std::memcpy(v->data(), b_.data() + pos_, n * sizeof(T));
    }
    pos_ += n * sizeof(T);
    if (consumed_ && n != 0) consumed_(pos_);
    return Status::Ok();
  }
  Status Raw(const char* what, void* out, size_t n) {
    if (b_.size() - pos_ < n) {
      return Status::Corruption(std::string("trail.graph: truncated at offset ") +
                                std::to_string(pos_) + " reading " + what);
    }
    std::memcpy(out, b_.data() + pos_, n);
    pos_ += n;
    return Status::Ok();
  }
  size_t pos() const { return pos_; }
  size_t size() const { return b_.size(); }

 private:
  std::string_view b_;
  const std::function<void(size_t)>& consumed_;
  size_t pos_ = 0;
};

Status Bad(const std::string& what) {
  return Status::Corruption("trail.graph: " + what);
}

// Metres per 1e-7 degree around a latitude (a local plane for snapping).
struct Plane {
  explicit Plane(PointE7 o)
      : lat0(o.lat),
        lon0(o.lon),
        my(kWgs84A * kDegToRad * 1e-7),
        mx(my * std::cos(o.lat * 1e-7 * kDegToRad)) {}
  double X(PointE7 p) const { return (static_cast<double>(p.lon) - lon0) * mx; }
  double Y(PointE7 p) const { return (static_cast<double>(p.lat) - lat0) * my; }
  // The nearest point of segment a-b to the origin: its fraction along the segment and its
  // squared distance in metres.
  std::pair<double, double> Project(PointE7 a, PointE7 b) const {
    const double ax = X(a), ay = Y(a), dx = X(b) - ax, dy = Y(b) - ay, len2 = dx * dx + dy * dy;
    const double t = std::clamp(len2 > 0 ? -(ax * dx + ay * dy) / len2 : 0.0, 0.0, 1.0);
    const double px = ax + t * dx, py = ay + t * dy;
    return {t, px * px + py * py};
  }
  double lat0, lon0, my, mx;
};

// Calls fn(y, x) for each snap cell segment a-b passes through. A short segment (the usual
// one: a few cells' box) takes every cell of its box; a long one, only the cells on its line
// (walked cell by cell, Amanatides & Woo): a way with one node misplaced at a pole or at
// 0,0 has a segment whose box is 10^9 cells, which filled memory for minutes at import and
// at every server start.
template <class Fn>
void ForEachCellOnSegment(PointE7 a, PointE7 b, Fn&& fn) {
  int64_t cx = CellOf(a.lon), cy = CellOf(a.lat);
  const int64_t ex = CellOf(b.lon), ey = CellOf(b.lat);
  const int64_t wide = std::abs(ex - cx) + 1, high = std::abs(ey - cy) + 1;
  if (wide * high <= 16) {
    for (int64_t y = std::min(cy, ey); y <= std::max(cy, ey); ++y) {
      for (int64_t x = std::min(cx, ex); x <= std::max(cx, ex); ++x) fn(y, x);
    }
    return;
  }
  const double x0 = static_cast<double>(a.lon) / kSnapCellE7;
  const double y0 = static_cast<double>(a.lat) / kSnapCellE7;
  const double dx = static_cast<double>(b.lon) / kSnapCellE7 - x0;
  const double dy = static_cast<double>(b.lat) / kSnapCellE7 - y0;
  const int64_t sx = dx > 0 ? 1 : -1, sy = dy > 0 ? 1 : -1;
  constexpr double kNever = std::numeric_limits<double>::infinity();
  // The fraction of the segment at which it leaves the current column / row, and the
  // fraction one whole column / row takes.
  double tx = dx != 0 ? (static_cast<double>(sx > 0 ? cx + 1 : cx) - x0) / dx : kNever;
  double ty = dy != 0 ? (static_cast<double>(sy > 0 ? cy + 1 : cy) - y0) / dy : kNever;
  const double step_x = dx != 0 ? 1 / std::fabs(dx) : kNever;
  const double step_y = dy != 0 ? 1 / std::fabs(dy) : kNever;
  fn(cy, cx);
  // Exactly one column or row per step, so the walk ends in b's cell whatever the rounding.
  for (int64_t left = wide - 1 + high - 1; left > 0; --left) {
    if (cy == ey || (cx != ex && tx < ty)) {
      cx += sx, tx += step_x;
    } else {
      cy += sy, ty += step_y;
    }
    fn(cy, cx);
  }
}

// Snap cells a search of radius_m around the plane's origin spans on each side, in latitude
// and in longitude: at most the whole globe (near a pole a metre is many degrees of
// longitude, and at a pole every longitude is at distance zero).
struct Reach {
  int64_t y, x;
};
Reach ReachOf(const Plane& plane, double radius_m) {
  constexpr double kGlobe = 3'600'000'000.0 / kSnapCellE7;
  const double y = radius_m / (kSnapCellE7 * plane.my) + 1;
  const double x = plane.mx > 0 ? radius_m / (kSnapCellE7 * plane.mx) + 1 : kGlobe;
  return {static_cast<int64_t>(std::min(y, kGlobe)), static_cast<int64_t>(std::min(x, kGlobe))};
}

// Every index of a parsed hierarchy in range and every arc going up in rank but those between
// two core nodes (so searches terminate and shortcuts unpack through ever lower nodes).
// The ranks are a permutation of the n nodes.
Status CheckRanks(size_t n, const Hierarchy& h) {
  if (h.rank.size() != n) return Bad("hierarchy ranks do not match the nodes");
  std::vector<bool> seen(n, false);
  for (uint32_t r : h.rank) {
    if (r >= n || seen[r])
      return Bad("hierarchy rank " + std::to_string(r) + " repeated or out of range");
    seen[r] = true;
  }
  return Status::Ok();
}

Status CheckHierarchy(const TrailGraph& g, const Hierarchy& h) {
  const size_t n = g.nodes();
  STRIDE_RETURN_IF_ERROR(CheckRanks(n, h));
  if (h.core > n)
    return Bad("hierarchy core of " + std::to_string(h.core) + " nodes in " + std::to_string(n));
  const size_t core_rank = n - h.core;  // ranks from here up are the core
  for (const bool up : {true, false}) {
    const auto& first = up ? h.up_first : h.down_first;
    const auto& arcs = up ? h.up : h.down;
    const char* which = up ? "up" : "down";
    if (first.size() != n + 1 || first[0] != 0 || first[n] != arcs.size()) {
      return Bad(std::string("hierarchy ") + which + " offsets do not match its arcs");
    }
    for (uint32_t v = 0; v < n; ++v) {
      if (first[v] > first[v + 1])
        return Bad(std::string("hierarchy ") + which + " offsets decrease");
      for (uint32_t i = first[v]; i < first[v + 1]; ++i) {
        const HierarchyArc& a = arcs[i];
        const std::string where = std::string("hierarchy ") + which + " arc " + std::to_string(i);
        if (a.to >= n || a.to == v) return Bad(where + " does not go up");
        const bool in_core = h.rank[v] >= core_rank && h.rank[a.to] >= core_rank;
        if (!in_core && h.rank[a.to] <= h.rank[v]) return Bad(where + " does not go up");
        if (!std::isfinite(a.cost) || a.cost < 0) return Bad(where + " has a bad cost");
        if (a.via & Hierarchy::kViaArc) {
          // An original arc: from v to a.to (up), or from a.to to v (down).
          const uint32_t ai = a.via & ~Hierarchy::kViaArc;
          const uint32_t tail = up ? v : a.to, head = up ? a.to : v;
          if (ai < g.first_arc[tail] || ai >= g.first_arc[tail + 1] || g.arcs[ai].to != head) {
            return Bad(where + " names a graph arc that does not join its nodes");
          }
        } else if (a.via >= n || h.rank[a.via] >= std::min(h.rank[v], h.rank[a.to]) ||
                   h.rank[a.via] >= core_rank) {
          return Bad(where + " is a shortcut over a node that is not below it");
        }
      }
    }
  }
  return Status::Ok();
}

}  // namespace

double ToblerSpeedMps(double grade) {
  return 6.0 * std::exp(-3.5 * std::abs(grade + 0.05)) / 3.6;
}

double WalkSeconds(double length_m, double ascent_m, double descent_m) {
  if (length_m <= 0) return 0;
  const double vertical = ascent_m + descent_m;
  if (vertical <= 0) return length_m / ToblerSpeedMps(0);
  const double g = std::min(vertical / length_m, 1.0);
  const double up = length_m * ascent_m / vertical;
  return up / ToblerSpeedMps(g) + (length_m - up) / ToblerSpeedMps(-g);
}

// ---- GraphBuilder ----

uint32_t GraphBuilder::Intern(const std::string& s) {
  auto [it, inserted] = string_index_.emplace(s, static_cast<uint32_t>(strings_.size()));
  if (inserted) strings_.push_back(s);
  return it->second;
}

void GraphBuilder::Reserve(size_t edges, size_t points) {
  pending_.reserve(edges);
  shape_.reserve(points);
  expected_points_ = points;
}

void GraphBuilder::AddEdge(const TrailEdge& e) {
  if (e.points.size() < 2 || e.from_node == 0 || e.to_node == 0) return;
  Pending p;
  p.from_node = e.from_node;
  p.to_node = e.to_node;
  p.way_id = e.way_id;
  GraphEdge& g = p.edge;
  g.shape_first = static_cast<uint32_t>(shape_.size());
  g.shape_count = static_cast<uint32_t>(e.points.size());
  shape_.insert(shape_.end(), e.points.begin(), e.points.end());
  if (e.elevations.size() == e.points.size()) {
    if (shape_elevation_.capacity() == 0) shape_elevation_.reserve(expected_points_);
    shape_elevation_.insert(shape_elevation_.end(), e.elevations.begin(), e.elevations.end());
  } else {
    all_elevation_ = false;
  }
  g.length_m = static_cast<float>(e.length_m);
  g.ascent_m = e.ascent_m;
  g.descent_m = e.descent_m;
  g.time_fwd_s = static_cast<float>(WalkSeconds(e.length_m, e.ascent_m, e.descent_m));
  g.time_bwd_s = static_cast<float>(WalkSeconds(e.length_m, e.descent_m, e.ascent_m));
  g.name = Intern(e.name);
  g.surface = Intern(e.surface);
  g.highway = Intern(e.highway);
  g.surface_class = static_cast<uint8_t>(e.surface_class);
  g.sac = std::min<uint8_t>(e.sac, 6);
  if (e.highway == "steps") g.flags |= kSteps;
  if (e.foot == 2) g.flags |= kDesignated;
  if (PathLike(e.highway)) g.flags |= kPathLike;
  if (CarRoad(e.highway)) g.flags |= kCarRoad;
  pending_.push_back(std::move(p));
}

void GraphBuilder::AddRoute(const Route& r) {
  if (r.member_ways.empty()) return;
  const auto idx = static_cast<uint32_t>(routes_.size());
  routes_.push_back({r.summary.id, Intern(r.name.empty() ? r.ref : r.name)});
  for (uint64_t w : r.member_ways) way_routes_.emplace_back(w, idx);
}

TrailGraph GraphBuilder::Build(bool snap_index) && {
  TrailGraph g;
  std::vector<uint64_t> ids;
  ids.reserve(pending_.size() * 2);
  g.edge_way.reserve(pending_.size());
  for (const Pending& p : pending_) g.edge_way.push_back(p.way_id);
  for (const Pending& p : pending_) {
    ids.push_back(p.from_node);
    ids.push_back(p.to_node);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  auto index_of = [&](uint64_t id) {
    return static_cast<uint32_t>(std::lower_bound(ids.begin(), ids.end(), id) - ids.begin());
  };
  g.node_point.resize(ids.size());
  g.edges.reserve(pending_.size());
  for (Pending& p : pending_) {
    p.edge.from = index_of(p.from_node);
    p.edge.to = index_of(p.to_node);
    g.node_point[p.edge.from] = shape_[p.edge.shape_first];
    g.node_point[p.edge.to] = shape_[p.edge.shape_first + p.edge.shape_count - 1];
    g.edges.push_back(p.edge);
  }
  g.first_arc.assign(ids.size() + 1, 0);
  for (const GraphEdge& e : g.edges) {
    ++g.first_arc[e.from + 1];
    ++g.first_arc[e.to + 1];
  }
  for (size_t i = 1; i < g.first_arc.size(); ++i) g.first_arc[i] += g.first_arc[i - 1];
  g.arcs.resize(g.edges.size() * 2);
  std::vector<uint32_t> fill(g.first_arc.begin(), g.first_arc.end() - 1);
  for (uint32_t i = 0; i < g.edges.size(); ++i) {
    const GraphEdge& e = g.edges[i];
    g.arcs[fill[e.from]++] = {e.to, i << 1};
    g.arcs[fill[e.to]++] = {e.from, (i << 1) | 1u};
  }
  std::sort(way_routes_.begin(), way_routes_.end());
  way_routes_.erase(std::unique(way_routes_.begin(), way_routes_.end()), way_routes_.end());
  g.route_first.reserve(g.edges.size() + 1);
  g.route_first.push_back(0);
  for (const Pending& p : pending_) {
    auto it = std::lower_bound(way_routes_.begin(), way_routes_.end(),
                               std::pair<uint64_t, uint32_t>{p.way_id, 0});
    for (; it != way_routes_.end() && it->first == p.way_id; ++it) {
      g.edge_routes.push_back(it->second);
    }
    g.route_first.push_back(static_cast<uint32_t>(g.edge_routes.size()));
  }
  g.shape = std::move(shape_);
  if (all_elevation_ && !pending_.empty()) g.shape_elevation = std::move(shape_elevation_);
  g.strings = std::move(strings_);
  g.routes = std::move(routes_);
  if (snap_index) g.BuildSnapIndex();
  return g;
}

// ---- TrailGraph ----

void TrailGraph::BuildSnapIndex() {
  cells_.clear();
  max_abs_lat_deg_ = 0;
  for (const PointE7& p : shape) {
    max_abs_lat_deg_ = std::max(max_abs_lat_deg_, std::abs(p.lat * 1e-7));
  }
  route_length_m.assign(routes.size(), 0);
  for (size_t e = 0; e + 1 < route_first.size(); ++e) {
    for (uint32_t k = route_first[e]; k < route_first[e + 1]; ++k) {
      route_length_m[edge_routes[k]] += edges[e].length_m;
    }
  }
  shape_at_.assign(shape.size(), 0);
  for (const GraphEdge& ge : edges) {
    for (uint32_t k = 1; k < ge.shape_count; ++k) {
      const PointE7 u = shape[ge.shape_first + k - 1], v = shape[ge.shape_first + k];
      shape_at_[ge.shape_first + k] =
          shape_at_[ge.shape_first + k - 1] +
          SegmentDistanceM(u.lat * 1e-7, u.lon * 1e-7, v.lat * 1e-7, v.lon * 1e-7);
    }
  }
  for (uint32_t e = 0; e < edges.size(); ++e) {
    const GraphEdge& ge = edges[e];
    for (uint32_t k = 0; k + 1 < ge.shape_count; ++k) {
      ForEachCellOnSegment(shape[ge.shape_first + k], shape[ge.shape_first + k + 1],
                           [&](int64_t y, int64_t x) { cells_[CellKey(y, x)].emplace_back(e, k); });
    }
  }
}

std::vector<uint32_t> TrailGraph::EdgesInBox(const BoxE7& box) const {
  std::vector<uint32_t> out;
  ForEachCell(cells_, CellOf(box.min_lat), CellOf(box.max_lat), CellOf(box.min_lon),
              CellOf(box.max_lon), [&](const auto& segments) {
                for (const auto& [e, k] : segments) out.push_back(e);
              });
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<uint32_t> TrailGraph::LargestComponentEdges() const {
  std::vector<uint32_t> parent(nodes());
  for (uint32_t i = 0; i < parent.size(); ++i) parent[i] = i;
  auto find = [&](uint32_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  for (const GraphEdge& e : edges) parent[find(e.from)] = find(e.to);
  std::vector<uint32_t> size(nodes(), 0);
  uint32_t best = 0;
  for (uint32_t i = 0; i < nodes(); ++i) {
    const uint32_t root = find(i);
    if (++size[root] > size[best]) best = root;
  }
  std::vector<uint32_t> out;
  for (uint32_t i = 0; i < edges.size(); ++i) {
    if (find(edges[i].from) == best) out.push_back(i);
  }
  return out;
}

PointE7 TrailGraph::PointAt(uint32_t e, double offset_m) const {
  const GraphEdge& ge = edges[e];
  for (uint32_t k = 0; k + 1 < ge.shape_count; ++k) {
    const uint32_t i = ge.shape_first + k;
    const double at = shape_at_[i], d = shape_at_[i + 1] - at;
    if (at + d >= offset_m && d > 0) {
      return LerpE7(shape[i], shape[i + 1], std::clamp((offset_m - at) / d, 0.0, 1.0));
    }
  }
  return shape[ge.shape_first + (offset_m <= 0 ? 0 : ge.shape_count - 1)];
}

Snap TrailGraph::SnapOnSegment(uint32_t e, uint32_t k, double t) const {
  const GraphEdge& ge = edges[e];
  const PointE7 a = shape[ge.shape_first + k], b = shape[ge.shape_first + k + 1];
  Snap s;
  s.edge = e;
  s.point = LerpE7(a, b, t);
  s.offset_m = std::min<double>(
      shape_at_[ge.shape_first + k] +
          SegmentDistanceM(a.lat * 1e-7, a.lon * 1e-7, s.point.lat * 1e-7, s.point.lon * 1e-7),
      ge.length_m);
  return s;
}

std::vector<Snap> TrailGraph::Within(PointE7 p, double radius_m, size_t max) const {
  const Plane plane(p);
  struct Best {
    double d2, t;
    uint32_t segment;
  };
  std::unordered_map<uint32_t, Best> best;  // per edge
  const int64_t cy = CellOf(p.lat), cx = CellOf(p.lon);
  const Reach reach = ReachOf(plane, radius_m);
  const double r2 = radius_m * radius_m;
  ForEachCell(cells_, cy - reach.y, cy + reach.y, cx - reach.x, cx + reach.x,
              [&](const auto& segments) {
                for (const auto& [e, k] : segments) {
                  const GraphEdge& ge = edges[e];
                  const auto [t, d2] =
                      plane.Project(shape[ge.shape_first + k], shape[ge.shape_first + k + 1]);
                  if (d2 > r2) continue;
                  auto [pos, inserted] = best.try_emplace(e, Best{d2, t, k});
                  if (!inserted && d2 < pos->second.d2) pos->second = {d2, t, k};
                }
              });
  std::vector<std::pair<double, uint32_t>> order;
  order.reserve(best.size());
  for (const auto& [e, v] : best) order.emplace_back(v.d2, e);
  std::sort(order.begin(), order.end());
  if (order.size() > max) order.resize(max);
  std::vector<Snap> out;
  out.reserve(order.size());
  for (const auto& [d2, e] : order) {
    const Best& b = best.at(e);
    Snap s = SnapOnSegment(e, b.segment, b.t);
    s.distance_m = std::sqrt(d2);
    out.push_back(s);
  }
  return out;
}

Result<Snap> TrailGraph::Nearest(PointE7 p, double max_m,
                                 const std::function<bool(const GraphEdge&)>& usable) const {
  const Plane plane(p);
  double best_d2 = std::numeric_limits<double>::infinity(), best_t = 0;
  uint32_t best_e = 0, best_k = 0;
  auto consider = [&](uint32_t e, uint32_t k) {
    const GraphEdge& ge = edges[e];
    if (usable && !usable(ge)) return;
    const auto [t, d2] = plane.Project(shape[ge.shape_first + k], shape[ge.shape_first + k + 1]);
    if (d2 < best_d2) best_d2 = d2, best_t = t, best_e = e, best_k = k;
  };
  const int64_t cy = CellOf(p.lat), cx = CellOf(p.lon);
  const Reach reach = ReachOf(plane, std::isfinite(max_m) ? max_m : 1e9);
  const auto consider_all = [&](const auto& segments) {
    for (const auto& [e, k] : segments) consider(e, k);
  };
  if ((2.0 * static_cast<double>(reach.y) + 1) * (2.0 * static_cast<double>(reach.x) + 1) >
      static_cast<double>(cells_.size())) {
    // More cells in reach than the grid holds: one pass over the grid is the cheaper search.
    ForEachCell(cells_, cy - reach.y, cy + reach.y, cx - reach.x, cx + reach.x, consider_all);
  } else {
    // Ring by ring outwards (only the ring's own cells), stopping once nothing farther can be
    // nearer than what was found.
    const double cell_m = kSnapCellE7 * std::min(plane.mx, plane.my);
    for (int64_t r = 0; r <= std::max(reach.y, reach.x); ++r) {
      const int64_t ry = std::min(r, reach.y), rx = std::min(r, reach.x);
      for (int64_t y = cy - ry; y <= cy + ry; ++y) {
        if (std::abs(y - cy) == r) {
          ForEachCell(cells_, y, y, cx - rx, cx + rx, consider_all);
        } else if (r <= reach.x) {
          ForEachCell(cells_, y, y, cx - r, cx - r, consider_all);
          if (r > 0) ForEachCell(cells_, y, y, cx + r, cx + r, consider_all);
        }
      }
      // Every cell of ring r + 1 is at least r cells away from p.
      if (best_d2 <= std::pow(static_cast<double>(r) * cell_m, 2)) break;
    }
  }
  if (std::isfinite(best_d2) && std::sqrt(best_d2) <= max_m) {
    Snap best = SnapOnSegment(best_e, best_k, best_t);
    best.distance_m =
        SegmentDistanceM(p.lat * 1e-7, p.lon * 1e-7, best.point.lat * 1e-7, best.point.lon * 1e-7);
    return best;
  }
  if (shape.empty()) return Status::NotFound("the trail graph is empty");
  double nearest = std::numeric_limits<double>::infinity();
  for (const PointE7& q : shape) {
    nearest =
        std::min(nearest, SegmentDistanceM(p.lat * 1e-7, p.lon * 1e-7, q.lat * 1e-7, q.lon * 1e-7));
  }
  if (std::isfinite(best_d2)) nearest = std::min(nearest, std::sqrt(best_d2));
  return Status::NotFound("no trail " + std::string(usable ? "these options allow " : "") +
                          "within " + std::to_string(static_cast<int64_t>(max_m)) + " m of " +
                          std::to_string(p.lat * 1e-7) + "," + std::to_string(p.lon * 1e-7) +
                          ": the nearest is " +
                          std::to_string(static_cast<int64_t>(std::lround(nearest))) + " m away");
}

void TrailGraph::SerializeTo(const std::function<void(std::string_view)>& out) const {
  SerializeNetworkTo(out);
  SerializeHierarchyTo(out);
}

void TrailGraph::SerializeNetworkTo(const std::function<void(std::string_view)>& out) const {
  out(std::string_view(kMagic, sizeof kMagic));
  const uint32_t header[2] = {kVersion, 0};
  PutRaw(out, header);
  PutVector(out, node_point);
  PutVector(out, first_arc);
  PutVector(out, arcs);
  PutVector(out, edges);
  PutVector(out, shape);
  PutVector(out, shape_elevation);
  PutRaw(out, static_cast<uint64_t>(strings.size()));
  for (const std::string& s : strings) {
    PutRaw(out, static_cast<uint32_t>(s.size()));
    out(s);
  }
  PutVector(out, routes);
  PutVector(out, route_first);
  PutVector(out, edge_routes);
  PutVector(out, edge_way);
}

void TrailGraph::SerializeHierarchyTo(const std::function<void(std::string_view)>& out) const {
  // 0: none; 1: a hierarchy; 2: one with an uncontracted core, its node count next.
  PutRaw(out, static_cast<uint32_t>(!hierarchy ? 0 : hierarchy->core == 0 ? 1 : 2));
  if (hierarchy && hierarchy->core != 0) PutRaw(out, hierarchy->core);
  if (hierarchy) {
    PutVector(out, hierarchy->rank);
    PutVector(out, hierarchy->up_first);
    PutVector(out, hierarchy->up);
    PutVector(out, hierarchy->down_first);
    PutVector(out, hierarchy->down);
  }
}

void TrailGraph::KeepOnlyWhatContractionReads() {
  std::vector<PointE7>().swap(shape);
  std::vector<float>().swap(shape_elevation);
  std::vector<std::string>().swap(strings);
  std::vector<GraphRoute>().swap(routes);
  std::vector<uint32_t>().swap(route_first);
  std::vector<uint32_t>().swap(edge_routes);
  std::vector<uint64_t>().swap(edge_way);
  std::vector<double>().swap(route_length_m);
  std::vector<double>().swap(shape_at_);
  cells_ = {};
}

std::string TrailGraph::Serialize() const {
  std::string out;
  SerializeTo([&](std::string_view piece) { out += piece; });
  return out;
}

Result<TrailGraph> TrailGraph::Parse(std::string_view bytes,
                                     const std::function<void(size_t)>& consumed, GraphParse what) {
  const bool all = what == GraphParse::kAll;
  Reader r(bytes, consumed);
  char magic[sizeof kMagic];
  STRIDE_RETURN_IF_ERROR(r.Raw("magic", magic, sizeof magic));
  if (std::memcmp(magic, kMagic, sizeof kMagic) != 0) {
    return Bad("not a Stride trail graph (bad magic)");
  }
  uint32_t header[2];
  STRIDE_RETURN_IF_ERROR(r.Raw("version", header, sizeof header));
  if (header[0] != kVersion && header[0] != 2) {
    return Bad("version " + std::to_string(header[0]) + "; this build reads versions 2 to " +
               std::to_string(kVersion) + " (re-import the database)");
  }
  TrailGraph g;
  STRIDE_RETURN_IF_ERROR(r.Vector("nodes", &g.node_point));
  const bool network = what != GraphParse::kOrder;
  STRIDE_RETURN_IF_ERROR(r.Vector("first_arc", &g.first_arc, network));
  STRIDE_RETURN_IF_ERROR(r.Vector("arcs", &g.arcs, network));
  STRIDE_RETURN_IF_ERROR(r.Vector("edges", &g.edges));
  STRIDE_RETURN_IF_ERROR(r.Vector("shape", &g.shape, all));
  STRIDE_RETURN_IF_ERROR(r.Vector("shape_elevation", &g.shape_elevation, all));
  uint64_t ns = 0;
  STRIDE_RETURN_IF_ERROR(r.Raw("string count", &ns, sizeof ns));
  if (ns == 0 || ns > r.size() - r.pos()) return Bad(std::to_string(ns) + " strings");
  std::string skipped;
  for (uint64_t i = 0; i < ns; ++i) {
    uint32_t n = 0;
    STRIDE_RETURN_IF_ERROR(r.Raw("string length", &n, sizeof n));
    if (n > r.size() - r.pos()) return Bad("string of " + std::to_string(n) + " bytes truncated");
    std::string& s = all ? g.strings.emplace_back() : skipped;
    s.resize(n);
    STRIDE_RETURN_IF_ERROR(r.Raw("string", s.data(), n));
  }
  STRIDE_RETURN_IF_ERROR(r.Vector("routes", &g.routes, all));
  STRIDE_RETURN_IF_ERROR(r.Vector("route_first", &g.route_first, all));
  STRIDE_RETURN_IF_ERROR(r.Vector("edge_routes", &g.edge_routes, all));
  STRIDE_RETURN_IF_ERROR(r.Vector("edge_way", &g.edge_way, all || !network));
  uint32_t with_hierarchy = 0;
  if (header[0] >= 3) STRIDE_RETURN_IF_ERROR(r.Raw("hierarchy flag", &with_hierarchy, 4));
  if (with_hierarchy > 2) return Bad("hierarchy flag " + std::to_string(with_hierarchy));
  auto h = std::make_shared<Hierarchy>();
  if (with_hierarchy == 2) {
    STRIDE_RETURN_IF_ERROR(r.Raw("hierarchy core size", &h->core, sizeof h->core));
    if (h->core == 0) return Bad("hierarchy core of 0 nodes behind flag 2");
  }
  if (with_hierarchy) {
    STRIDE_RETURN_IF_ERROR(r.Vector("hierarchy ranks", &h->rank));
    STRIDE_RETURN_IF_ERROR(r.Vector("hierarchy up offsets", &h->up_first, network));
    STRIDE_RETURN_IF_ERROR(r.Vector("hierarchy up arcs", &h->up, network));
    STRIDE_RETURN_IF_ERROR(r.Vector("hierarchy down offsets", &h->down_first, network));
    STRIDE_RETURN_IF_ERROR(r.Vector("hierarchy down arcs", &h->down, network));
  }
  if (r.pos() != r.size()) {
    return Bad(std::to_string(r.size() - r.pos()) + " bytes after the last section");
  }
  if (!network) {
    // The positions, the edges' ends and ways, and the ranks checked to be a permutation of
    // the nodes.
    const size_t n = g.node_point.size();
    for (size_t i = 0; i < g.edges.size(); ++i) {
      if (g.edges[i].from >= n || g.edges[i].to >= n) {
        return Bad("edge " + std::to_string(i) + " out of range");
      }
    }
    if (!g.edge_way.empty() && g.edge_way.size() != g.edges.size()) {
      return Bad("way ids do not match the edges");
    }
    if (with_hierarchy) {
      STRIDE_RETURN_IF_ERROR(CheckRanks(n, *h));
      g.hierarchy = std::move(h);
    }
    return g;
  }
  // Every index in range, so that searches never read out of bounds.
  const size_t n = g.node_point.size(), m = g.edges.size();
  if (all && !g.strings[0].empty()) return Bad("string 0 is not empty");
  if (g.first_arc.size() != n + 1 || g.first_arc[0] != 0 || g.first_arc[n] != g.arcs.size() ||
      g.arcs.size() != 2 * m) {
    return Bad("adjacency does not match " + std::to_string(n) + " nodes and " + std::to_string(m) +
               " edges");
  }
  for (size_t i = 0; i < n; ++i) {
    if (g.first_arc[i] > g.first_arc[i + 1])
      return Bad("adjacency offsets decrease at node " + std::to_string(i));
  }
  for (size_t i = 0; i < g.arcs.size(); ++i) {
    const Arc& a = g.arcs[i];
    if (a.to >= n || a.edge() >= m) return Bad("arc " + std::to_string(i) + " out of range");
  }
  if (!g.shape_elevation.empty() && g.shape_elevation.size() != g.shape.size()) {
    return Bad("elevations do not match the shape points");
  }
  for (size_t i = 0; i < m; ++i) {
    const GraphEdge& e = g.edges[i];
    const bool ok = e.from < n && e.to < n && e.surface_class <= 3 && e.sac <= 6 &&
                    std::isfinite(e.length_m) && e.length_m >= 0 && std::isfinite(e.time_fwd_s) &&
                    std::isfinite(e.time_bwd_s) && e.time_fwd_s >= 0 && e.time_bwd_s >= 0 &&
                    std::isfinite(e.ascent_m) && std::isfinite(e.descent_m);
    const bool refs_ok =
        !all || (e.shape_count >= 2 && e.shape_first <= g.shape.size() &&
                 e.shape_count <= g.shape.size() - e.shape_first && e.name < g.strings.size() &&
                 e.surface < g.strings.size() && e.highway < g.strings.size());
    if (!ok || !refs_ok) return Bad("edge " + std::to_string(i) + " out of range");
  }
  if (!all) {
    // What contraction reads, and the hierarchy, checked; nothing else was kept.
    if (with_hierarchy) {
      STRIDE_RETURN_IF_ERROR(CheckHierarchy(g, *h));
      g.hierarchy = std::move(h);
    }
    return g;
  }
  for (const GraphRoute& rt : g.routes) {
    if (rt.name >= g.strings.size()) return Bad("route name out of range");
  }
  if (g.route_first.size() != m + 1 || g.route_first[0] != 0 ||
      g.route_first[m] != g.edge_routes.size()) {
    return Bad("route membership does not match the edges");
  }
  for (size_t i = 0; i < m; ++i) {
    if (g.route_first[i] > g.route_first[i + 1]) return Bad("route offsets decrease");
  }
  for (uint32_t ri : g.edge_routes) {
    if (ri >= g.routes.size()) return Bad("edge route out of range");
  }
  if (g.edge_way.size() != m) return Bad("way ids do not match the edges");
  if (with_hierarchy) {
    STRIDE_RETURN_IF_ERROR(CheckHierarchy(g, *h));
    IndexByRank(h.get());
    g.hierarchy = std::move(h);
  }
  g.BuildSnapIndex();
  return g;
}

}  // namespace stride::engine::trail
