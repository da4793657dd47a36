// SPDX-License-Identifier: Apache-2.0
#include "engine/trail/router.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "engine/geo/geodesy.hpp"
#include "engine/trail/hierarchy.hpp"
#include "engine/trail/workspace.hpp"

namespace stride::engine::trail {

namespace internal {

std::vector<Step> WalkSteps(const TrailGraph& g, const Snap& from, bool start_at_from,
                            const std::vector<uint32_t>& arcs, const Snap& to, bool end_at_from) {
  std::vector<Step> steps;
  steps.push_back(start_at_from ? Step{from.edge, from.offset_m, 0}
                                : Step{from.edge, from.offset_m, g.edges[from.edge].length_m});
  for (uint32_t ai : arcs) {
    const Arc& a = g.arcs[ai];
    const GraphEdge& e = g.edges[a.edge()];
    steps.push_back(a.backward() ? Step{a.edge(), e.length_m, 0} : Step{a.edge(), 0, e.length_m});
  }
  steps.push_back(end_at_from ? Step{to.edge, 0, to.offset_m}
                              : Step{to.edge, g.edges[to.edge].length_m, to.offset_m});
  std::erase_if(steps, [](const Step& s) { return s.from_m == s.to_m; });
  return steps;
}

std::vector<Step> AlongEdge(const Snap& from, const Snap& to) {
  if (from.offset_m == to.offset_m) return {};
  return {Step{from.edge, from.offset_m, to.offset_m}};
}

Status NoWalkablePath() {
  return Status::NotFound(
      "no walkable path between the points with these options (they lie on parts of the "
      "trail network that do not connect, or the options exclude every way between them)");
}

}  // namespace internal

namespace {

using namespace internal;             // the shared search state (workspace.hpp)
constexpr double kReuseFactor = 4.0;  // loops: the middle leg avoids the other legs

// Straight distance in metres, a slight underestimate (A* needs a lower bound, and a
// consistent one: a plain Euclidean metric on (lat, lon x cos of the graph's largest
// latitude), with the ellipsoid's smallest radius, less 1 %).
class Heuristic {
 public:
  // `metres`: the cost is metres (FootOptions::shortest), else seconds.
  Heuristic(const TrailGraph& g, PointE7 target, bool metres)
      : target_(target),
        my_(0.99 * 6356752.0 * kDegToRad * 1e-7),
        mx_(my_ * std::cos(std::min(89.9, g.max_abs_lat_deg()) * kDegToRad)),
        per_m_(metres ? 1.0 : 1.0 / kToblerMaxSpeedMps) {}
  double Seconds(PointE7 p) const {
    const double dy = (static_cast<double>(p.lat) - target_.lat) * my_;
    const double dx = (static_cast<double>(p.lon) - target_.lon) * mx_;
    return std::sqrt(dx * dx + dy * dy) * per_m_;
  }

 private:
  PointE7 target_;
  double my_, mx_, per_m_;
};

using Penalised = std::unordered_set<uint32_t>;

Result<Path> Search(const TrailGraph& g, const Snap& from, const Snap& to, const FootOptions& o,
                    const Penalised* penalised) {
  if (from.edge >= g.edges.size() || to.edge >= g.edges.size()) {
    return Status::InvalidArgument("snap outside the graph");
  }
  Lease lease;
  Workspace& ws = *lease;
  ws.Reset(g.nodes());
  const GraphEdge& fe = g.edges[from.edge];
  const GraphEdge& te = g.edges[to.edge];
  const Heuristic h(g, to.point, o.shortest);
  MinQueue q;
  auto seed = [&](uint32_t v, double c, uint32_t how) {
    if (c < ws.G(v)) {
      ws.Set(v, c, how);
      q.push({c + h.Seconds(g.node_point[v]), c, v});
    }
  };
  seed(fe.from, PartCost(g, from.edge, from.offset_m, 0, o), kSeedFrom);
  seed(fe.to, PartCost(g, from.edge, from.offset_m, fe.length_m, o), kSeedTo);
  double best = kInf;
  int kind = 0;  // 1 direct along the edge, 2 via te.from, 3 via te.to
  if (from.edge == to.edge) {
    best = PartCost(g, from.edge, from.offset_m, to.offset_m, o);
    kind = 1;
  }
  while (!q.empty()) {
    const QueueEntry top = q.top();
    q.pop();
    if (top.g > ws.G(top.v)) continue;
    if (top.f >= best) break;
    const uint32_t v = top.v;
    if (v == te.from) {
      const double c = top.g + PartCost(g, to.edge, 0, to.offset_m, o);
      if (c < best) best = c, kind = 2;
    }
    if (v == te.to) {
      const double c = top.g + PartCost(g, to.edge, te.length_m, to.offset_m, o);
      if (c < best) best = c, kind = 3;
    }
    for (uint32_t ai = g.first_arc[v]; ai < g.first_arc[v + 1]; ++ai) {
      const Arc& a = g.arcs[ai];
      double c = EdgeCost(g.edges[a.edge()], a.backward(), o);
      if (!std::isfinite(c)) continue;
      if (penalised && penalised->count(a.edge())) c *= kReuseFactor;
      const double ng = top.g + c;
      if (ng < ws.G(a.to)) {
        ws.Set(a.to, ng, ai);
        q.push({ng + h.Seconds(g.node_point[a.to]), ng, a.to});
      }
    }
  }
  if (kind == 0) return NoWalkablePath();
  if (kind == 1) return Measure(g, AlongEdge(from, to), o);
  std::vector<uint32_t> arcs;  // walked backwards from the target, reversed below
  uint32_t v = kind == 2 ? te.from : te.to;
  while (ws.Parent(v) != kSeedFrom && ws.Parent(v) != kSeedTo) {
    const Arc& a = g.arcs[ws.Parent(v)];
    arcs.push_back(ws.Parent(v));
    v = a.backward() ? g.edges[a.edge()].to : g.edges[a.edge()].from;
  }
  std::reverse(arcs.begin(), arcs.end());
  return Measure(g, WalkSteps(g, from, ws.Parent(v) == kSeedFrom, arcs, to, kind == 2), o);
}

// Appends the points of edge e between offsets a and b (in walking order), with their
// elevations and the metres walked to each (`walked` at offset a); drops points equal to the
// one before (where steps meet, or where a cut falls on a shape point).
void EdgeSlice(const TrailGraph& g, uint32_t e, double a, double b, double walked,
               std::vector<PointE7>* pts, std::vector<float>* elev, std::vector<double>* along) {
  const GraphEdge& ge = g.edges[e];
  const bool with_z = g.has_elevation() && elev != nullptr;
  const double lo = std::min(a, b), hi = std::max(a, b);
  const size_t start = pts->size();
  auto add = [&](PointE7 p, float z, double at) {
    pts->push_back(p);
    if (with_z) elev->push_back(z);
    if (along) along->push_back(walked + std::abs(at - a));
  };
  bool begun = false;
  for (uint32_t k = 0; k + 1 < ge.shape_count; ++k) {
    const uint32_t i = ge.shape_first + k;
    const double at = g.shape_offset_m(i), next = g.shape_offset_m(i + 1), d = next - at;
    if (next < lo || at > hi) continue;
    const PointE7 u = g.shape[i], v = g.shape[i + 1];
    const float zu = with_z ? g.shape_elevation[i] : 0, zv = with_z ? g.shape_elevation[i + 1] : 0;
    if (!begun) {
      const double t = d > 0 ? std::clamp((lo - at) / d, 0.0, 1.0) : 0;
      add(LerpE7(u, v, t), static_cast<float>(zu + t * (zv - zu)), std::max(lo, at));
      begun = true;
    }
    if (next <= hi) {
      add(v, zv, next);
    } else {
      const double t = d > 0 ? std::clamp((hi - at) / d, 0.0, 1.0) : 1;
      add(LerpE7(u, v, t), static_cast<float>(zu + t * (zv - zu)), hi);
      break;
    }
  }
  if (b < a) {
    std::reverse(pts->begin() + static_cast<ptrdiff_t>(start), pts->end());
    if (with_z) std::reverse(elev->begin() + static_cast<ptrdiff_t>(start), elev->end());
    if (along) std::reverse(along->begin() + static_cast<ptrdiff_t>(start), along->end());
  }
  size_t out = start;
  for (size_t k = start; k < pts->size(); ++k) {
    if (out > 0 && (*pts)[out - 1] == (*pts)[k]) continue;
    (*pts)[out] = (*pts)[k];
    if (with_z) (*elev)[out] = (*elev)[k];
    if (along) (*along)[out] = (*along)[k];
    ++out;
  }
  pts->resize(out);
  if (with_z) elev->resize(out);
  if (along) along->resize(out);
}

// Merges consecutive steps on one edge and cuts immediate reversals (out-and-back spurs).
std::vector<Step> Tidy(std::vector<Step> in) {
  std::vector<Step> out;
  for (const Step& s : in) {
    if (s.from_m == s.to_m) continue;
    if (!out.empty() && out.back().edge == s.edge && std::abs(out.back().to_m - s.from_m) < 1e-6) {
      out.back().to_m = s.to_m;
      if (std::abs(out.back().from_m - out.back().to_m) < 1e-6) out.pop_back();
      continue;
    }
    out.push_back(s);
  }
  return out;
}

// A bounded Dijkstra tree from (outbound) or towards (inbound) the start snap.
struct Tree {
  std::vector<uint32_t> nodes;                   // settled, in order
  std::unordered_map<uint32_t, uint32_t> index;  // node -> position
  std::vector<double> dist;                      // path metres
  std::vector<uint32_t> parent;                  // arc index, kSeedFrom, kSeedTo
};

Tree GrowTree(const TrailGraph& g, const Snap& s, const FootOptions& o, bool inbound,
              double max_dist_m) {
  Lease lease;
  Workspace& ws = *lease;
  ws.Reset(g.nodes());
  const GraphEdge& se = g.edges[s.edge];
  MinQueue q;
  auto seed = [&](uint32_t v, double c, double d, uint32_t how) {
    if (c < ws.G(v)) {
      ws.Set(v, c, how);
      ws.SetDist(v, d);
      q.push({c, c, v});
    }
  };
  if (inbound) {
    seed(se.from, PartCost(g, s.edge, 0, s.offset_m, o), s.offset_m, kSeedFrom);
    seed(se.to, PartCost(g, s.edge, se.length_m, s.offset_m, o), se.length_m - s.offset_m, kSeedTo);
  } else {
    seed(se.from, PartCost(g, s.edge, s.offset_m, 0, o), s.offset_m, kSeedFrom);
    seed(se.to, PartCost(g, s.edge, s.offset_m, se.length_m, o), se.length_m - s.offset_m, kSeedTo);
  }
  Tree t;
  while (!q.empty()) {
    const QueueEntry top = q.top();
    q.pop();
    if (top.g > ws.G(top.v)) continue;
    const uint32_t v = top.v;
    t.index.emplace(v, static_cast<uint32_t>(t.nodes.size()));
    t.nodes.push_back(v);
    t.dist.push_back(ws.Dist(v));
    t.parent.push_back(ws.Parent(v));
    if (ws.Dist(v) > max_dist_m) continue;
    for (uint32_t ai = g.first_arc[v]; ai < g.first_arc[v + 1]; ++ai) {
      const Arc& a = g.arcs[ai];
      const GraphEdge& e = g.edges[a.edge()];
      // Inbound: the walk goes a.to -> v, the arc's edge the other way round.
      const double c = EdgeCost(e, inbound ? !a.backward() : a.backward(), o);
      if (!std::isfinite(c)) continue;
      const double ng = top.g + c;
      if (ng < ws.G(a.to)) {
        ws.Set(a.to, ng, ai);
        ws.SetDist(a.to, ws.Dist(v) + e.length_m);
        q.push({ng, ng, a.to});
      }
    }
  }
  return t;
}

// The walk from the start to tree node v (outbound) or from v to the start (inbound).
std::vector<Step> TreePath(const TrailGraph& g, const Snap& s, const Tree& t, uint32_t v,
                           bool inbound) {
  const GraphEdge& se = g.edges[s.edge];
  std::vector<Step> steps;
  for (;;) {
    const uint32_t p = t.parent[t.index.at(v)];
    if (p == kSeedFrom || p == kSeedTo) {
      const double end = p == kSeedFrom ? 0.0 : static_cast<double>(se.length_m);
      steps.push_back(inbound ? Step{s.edge, end, s.offset_m} : Step{s.edge, s.offset_m, end});
      break;
    }
    const Arc& a = g.arcs[p];
    const GraphEdge& e = g.edges[a.edge()];
    // The arc runs from its source u to v (outbound: walked so; inbound: walked v -> u).
    const bool walked_backward = inbound ? !a.backward() : a.backward();
    steps.push_back(walked_backward ? Step{a.edge(), e.length_m, 0}
                                    : Step{a.edge(), 0, e.length_m});
    v = a.backward() ? e.to : e.from;
  }
  if (!inbound) std::reverse(steps.begin(), steps.end());
  return steps;
}

Snap SnapAtNode(const TrailGraph& g, uint32_t v) {
  const Arc& a = g.arcs[g.first_arc[v]];
  const GraphEdge& e = g.edges[a.edge()];
  Snap s;
  s.edge = a.edge();
  s.offset_m = a.backward() ? e.length_m : 0;
  s.point = g.node_point[v];
  return s;
}

double RepeatedMetres(const std::vector<Step>& steps) {
  std::map<uint32_t, std::vector<std::pair<double, double>>> by_edge;
  double total = 0;
  for (const Step& s : steps) {
    by_edge[s.edge].emplace_back(std::min(s.from_m, s.to_m), std::max(s.from_m, s.to_m));
    total += std::abs(s.to_m - s.from_m);
  }
  double covered = 0;
  for (auto& [e, iv] : by_edge) covered += UnionLength(iv);
  return std::max(0.0, total - covered);
}

double Bearing(PointE7 from, PointE7 to) {
  const double dy = to.lat - from.lat;
  const double dx = (to.lon - from.lon) * std::cos(from.lat * 1e-7 * kDegToRad);
  return std::atan2(dx, dy);
}

double AngleBetween(double a, double b) {
  double d = std::fmod(std::abs(a - b), 2 * kPi);
  return d > kPi ? 2 * kPi - d : d;
}

// Metres between two points on a local plane (for length estimates only).
double Crow(PointE7 a, PointE7 b) {
  const double dy = (b.lat - a.lat) * 0.011132;
  const double dx = (b.lon - a.lon) * 0.011132 * std::cos(a.lat * 1e-7 * kDegToRad);
  return std::hypot(dx, dy);
}

struct Candidate {
  uint32_t node;
  double dist;
};

// Tree nodes at path length [lo, hi] nearest `bearing` (within 40 degrees, else 100), at most
// 24, nearest first.
std::vector<Candidate> Around(const TrailGraph& g, const Tree& t, PointE7 start, double lo,
                              double hi, double bearing) {
  std::vector<std::pair<double, Candidate>> c;
  for (size_t i = 0; i < t.nodes.size(); ++i) {
    if (t.dist[i] < lo || t.dist[i] > hi) continue;
    c.push_back(
        {AngleBetween(Bearing(start, g.node_point[t.nodes[i]]), bearing), {t.nodes[i], t.dist[i]}});
  }
  std::sort(c.begin(), c.end(), [](const auto& a, const auto& b) {
    return a.first < b.first || (a.first == b.first && a.second.node < b.second.node);
  });
  const double limit =
      !c.empty() && c.front().first <= 40 * kDegToRad ? 40 * kDegToRad : 100 * kDegToRad;
  std::vector<Candidate> out;
  for (const auto& [a, cand] : c) {
    if (a > limit || out.size() >= 24) break;
    out.push_back(cand);
  }
  return out;
}

}  // namespace

double EdgeCost(const GraphEdge& e, bool backward, const FootOptions& o, bool force) {
  if (o.shortest) return e.length_m;
  if (!force) {
    if (o.avoid_steps && (e.flags & kSteps)) return kInf;
    if (e.sac > o.max_difficulty) return kInf;
  }
  double mult = 1.0 + 0.15 * e.sac;
  if (e.flags & kCarRoad) mult *= std::max(1.0, o.road_penalty);
  if (e.flags & kSteps) mult *= 1.2;
  if (o.prefer_unpaved && e.surface_class == static_cast<uint8_t>(Surface::kPaved)) mult *= 1.5;
  double c = (backward ? e.time_bwd_s : e.time_fwd_s) * mult;
  if (o.minimise_climb) c += std::max(0.0, o.climb_s_per_m) * (backward ? e.descent_m : e.ascent_m);
  return c;
}

double PartCost(const TrailGraph& g, uint32_t e, double a, double b, const FootOptions& o) {
  const GraphEdge& ge = g.edges[e];
  if (ge.length_m <= 0 || a == b) return 0;
  return EdgeCost(ge, b < a, o, true) * std::abs(b - a) / ge.length_m;
}

double UnionLength(std::vector<std::pair<double, double>>& iv) {
  if (iv.empty()) return 0;
  std::sort(iv.begin(), iv.end());
  double covered = 0, lo = iv[0].first, hi = iv[0].second;
  for (size_t i = 1; i < iv.size(); ++i) {
    if (iv[i].first > hi) {
      covered += hi - lo;
      lo = iv[i].first;
      hi = iv[i].second;
    } else {
      hi = std::max(hi, iv[i].second);
    }
  }
  return covered + (hi - lo);
}

std::function<bool(const GraphEdge&)> Usable(const FootOptions& o) {
  return [o](const GraphEdge& e) { return std::isfinite(EdgeCost(e, false, o)); };
}

Path Measure(const TrailGraph& g, std::vector<Step> steps, const FootOptions& o) {
  Path p;
  p.steps = std::move(steps);
  for (const Step& s : p.steps) {
    const GraphEdge& e = g.edges[s.edge];
    const double len = std::abs(s.to_m - s.from_m);
    const double frac = e.length_m > 0 ? len / e.length_m : 0;
    const bool back = s.backward();
    p.distance_m += len;
    p.ascent_m += frac * (back ? e.descent_m : e.ascent_m);
    p.descent_m += frac * (back ? e.ascent_m : e.descent_m);
    p.time_s += frac * (back ? e.time_bwd_s : e.time_fwd_s);
    p.cost += frac * EdgeCost(e, back, o, true);
  }
  return p;
}

Path Concatenate(const TrailGraph& g, const Path& a, const Path& b, const FootOptions& o) {
  std::vector<Step> steps = a.steps;
  steps.insert(steps.end(), b.steps.begin(), b.steps.end());
  return Measure(g, std::move(steps), o);
}

Result<Path> ShortestPath(const TrailGraph& g, const Snap& from, const Snap& to,
                          const FootOptions& o) {
  if (UsesHierarchy(g, o)) return HierarchyPath(g, from, to);
  return Search(g, from, to, o, nullptr);
}

void PathGeometry(const TrailGraph& g, const Path& p, std::vector<PointE7>* points,
                  std::vector<float>* elevations, std::vector<double>* along) {
  points->clear();
  if (elevations) elevations->clear();
  if (along) along->clear();
  size_t most = 1;  // every shape point of every step's edge, plus the cut ends
  for (const Step& s : p.steps) most += g.edges[s.edge].shape_count + 1;
  points->reserve(most);
  if (elevations && g.has_elevation()) elevations->reserve(most);
  if (along) along->reserve(most);
  double walked = 0;
  for (const Step& s : p.steps) {
    EdgeSlice(g, s.edge, s.from_m, s.to_m, walked, points, elevations, along);
    walked += std::abs(s.to_m - s.from_m);
  }
}

Result<std::vector<Loop>> Loops(const TrailGraph& g, const Snap& start, const LoopOptions& o) {
  if (!(o.distance_m >= 200 && o.distance_m <= 200000)) {
    return Status::InvalidArgument("distance_m: " + std::to_string(o.distance_m) +
                                   " is out of range [200, 200000]");
  }
  if (start.edge >= g.edges.size()) return Status::InvalidArgument("snap outside the graph");
  const double L = o.distance_m;
  const Tree out = GrowTree(g, start, o.foot, false, 0.6 * L);
  const Tree in = GrowTree(g, start, o.foot, true, 0.6 * L);
  double reach = 0;
  for (double d : out.dist) reach = std::max(reach, d);
  if (reach < 0.12 * L) {
    return Status::NotFound("the trail network around the start reaches only " +
                            std::to_string(static_cast<int64_t>(reach)) + " m: too small for a " +
                            std::to_string(static_cast<int64_t>(L)) + " m loop");
  }
  std::mt19937_64 rng(o.seed);
  std::uniform_real_distribution<double> angle(0, 2 * kPi);
  std::vector<Loop> found;
  constexpr int kBearings = 16, kTries = 5;
  int within = 0;
  auto record = [&](std::vector<Step> steps, bool out_and_back) {
    Loop loop;
    loop.path = Measure(g, out_and_back ? std::move(steps) : Tidy(std::move(steps)), o.foot);
    loop.out_and_back = out_and_back;
    loop.length_error = (loop.path.distance_m - L) / L;
    loop.within_tolerance = loop.path.distance_m > 0 && std::abs(loop.length_error) <= o.tolerance;
    loop.repeated_m = RepeatedMetres(loop.path.steps);
    for (const Step& st : loop.path.steps) {
      if (!(g.edges[st.edge].flags & kCarRoad)) loop.path_like_m += std::abs(st.to_m - st.from_m);
    }
    within += loop.within_tolerance;
    found.push_back(std::move(loop));
    return found.back().path.distance_m;
  };
  // Cycles closed by one edge: the out-tree's path to u, an edge u -> v off both trees, the
  // in-tree's path from v home. One pass over the trees finds every such loop of the asked
  // length without a search; the best-spread few become candidates (a shared stem near the
  // start shows as repeated metres and ranks them down).
  {
    struct Closing {
      double gap;
      uint32_t u, arc;
    };
    std::vector<Closing> closings;
    for (size_t i = 0; i < out.nodes.size(); ++i) {
      const uint32_t u = out.nodes[i];
      for (uint32_t ai = g.first_arc[u]; ai < g.first_arc[u + 1]; ++ai) {
        const Arc& a = g.arcs[ai];
        auto vi = in.index.find(a.to);
        if (vi == in.index.end() || a.to == u) continue;
        const uint32_t via_out = out.parent[i], via_in = in.parent[vi->second];
        if ((via_out < g.arcs.size() && g.arcs[via_out].edge() == a.edge()) ||
            (via_in < g.arcs.size() && g.arcs[via_in].edge() == a.edge())) {
          continue;  // the trees' own edge: no loop
        }
        const GraphEdge& e = g.edges[a.edge()];
        if (!std::isfinite(EdgeCost(e, a.backward(), o.foot))) continue;
        const double len = out.dist[i] + e.length_m + in.dist[vi->second];
        if (std::abs(len - L) <= o.tolerance * L) closings.push_back({std::abs(len - L), u, ai});
      }
    }
    std::sort(closings.begin(), closings.end(), [](const Closing& a, const Closing& b) {
      return a.gap < b.gap || (a.gap == b.gap && a.arc < b.arc);
    });
    // Spread: keep at most 12, no two closing within 150 m of each other.
    std::vector<PointE7> used;
    int kept = 0;
    for (const Closing& c : closings) {
      if (kept >= 12) break;
      const PointE7 at = g.node_point[c.u];
      bool near = false;
      for (const PointE7& x : used) near = near || Crow(x, at) < 150;
      if (near) continue;
      used.push_back(at);
      ++kept;
      const Arc& a = g.arcs[c.arc];
      const GraphEdge& e = g.edges[a.edge()];
      std::vector<Step> steps = TreePath(g, start, out, c.u, false);
      steps.push_back(a.backward() ? Step{a.edge(), e.length_m, 0} : Step{a.edge(), 0, e.length_m});
      std::vector<Step> last = TreePath(g, start, in, a.to, true);
      steps.insert(steps.end(), last.begin(), last.end());
      record(std::move(steps), false);
      // A loop that mostly repeats itself does not end the search for better ones.
      const Loop& l = found.back();
      if (l.within_tolerance && l.repeated_m > 0.2 * l.path.distance_m) --within;
    }
  }
  // Even bearings: a triangle start -> P -> Q -> start. Odd ones: start -> P and back another
  // way (valleys often leave no room for a triangle). P and Q are chosen among the tree nodes
  // near the bearing so that the estimated length (tree distances plus the straight distance
  // of the unrouted leg times a detour factor, learned from each routed candidate) is nearest
  // the asked one; pairs already tried are skipped.
  double detour_mid = 1.3, detour_back = 1.4;
  std::set<std::pair<uint32_t, uint32_t>> tried;
  for (int b = 0; b < kBearings && within < o.alternatives + 2; ++b) {
    const double theta = angle(rng);
    const double side = (rng() & 1u) ? 1.0 : -1.0;
    const bool triangle = b % 2 == 0;
    for (int t = 0; t < kTries; ++t) {
      uint32_t p = UINT32_MAX, q = UINT32_MAX;
      double dp = 0, dq = 0, best = kInf;
      if (triangle) {
        const std::vector<Candidate> ps = Around(g, out, start.point, 0.15 * L, 0.5 * L, theta);
        const std::vector<Candidate> qs =
            Around(g, in, start.point, 0.15 * L, 0.5 * L, theta + side * kPi / 3);
        for (const Candidate& cp : ps) {
          for (const Candidate& cq : qs) {
            if (cp.node == cq.node || tried.count({cp.node, cq.node})) continue;
            const double est =
                cp.dist + cq.dist + detour_mid * Crow(g.node_point[cp.node], g.node_point[cq.node]);
            const double score =
                std::abs(est - L) + 0.1 * (std::abs(cp.dist - L / 3) + std::abs(cq.dist - L / 3));
            if (score < best) best = score, p = cp.node, q = cq.node, dp = cp.dist, dq = cq.dist;
          }
        }
      } else {
        for (const Candidate& cp : Around(g, out, start.point, 0.2 * L, 0.7 * L, theta)) {
          if (tried.count({cp.node, UINT32_MAX})) continue;
          const double est = cp.dist + detour_back * Crow(g.node_point[cp.node], start.point);
          if (std::abs(est - L) < best) best = std::abs(est - L), p = cp.node, dp = cp.dist;
        }
      }
      if (p == UINT32_MAX) break;
      tried.insert({p, q});
      std::vector<Step> steps = TreePath(g, start, out, p, false);
      Penalised pen;
      for (const Step& st : steps) pen.insert(st.edge);
      double unrouted_crow = 0;
      if (triangle) {
        std::vector<Step> last = TreePath(g, start, in, q, true);
        for (const Step& st : last) pen.insert(st.edge);
        Result<Path> middle = Search(g, SnapAtNode(g, p), SnapAtNode(g, q), o.foot, &pen);
        if (!middle.ok()) break;
        steps.insert(steps.end(), middle->steps.begin(), middle->steps.end());
        steps.insert(steps.end(), last.begin(), last.end());
        unrouted_crow = Crow(g.node_point[p], g.node_point[q]);
      } else {
        Result<Path> back = Search(g, SnapAtNode(g, p), start, o.foot, &pen);
        if (!back.ok()) break;
        steps.insert(steps.end(), back->steps.begin(), back->steps.end());
        unrouted_crow = Crow(g.node_point[p], start.point);
      }
      const double got = record(std::move(steps), false);
      if (found.back().within_tolerance) break;
      if (unrouted_crow > 20) {
        const double k = std::clamp((got - dp - dq) / unrouted_crow, 0.3, 5.0);
        (triangle ? detour_mid : detour_back) = k;
      }
    }
  }
  // Where the map leaves no choice: out to the point half the length away (on the edge that
  // goes farthest from the start), and back the same way.
  if (within == 0) {
    const double half = L / 2;
    double far = -1;
    uint32_t via = UINT32_MAX, arc = 0;
    for (size_t i = 0; i < out.nodes.size(); ++i) {
      const uint32_t u = out.nodes[i];
      if (out.dist[i] >= half) continue;
      for (uint32_t ai = g.first_arc[u]; ai < g.first_arc[u + 1]; ++ai) {
        const Arc& a = g.arcs[ai];
        const GraphEdge& e = g.edges[a.edge()];
        if (out.dist[i] + e.length_m < half || !std::isfinite(EdgeCost(e, a.backward(), o.foot))) {
          continue;
        }
        const double x = half - out.dist[i];
        const PointE7 turn = g.PointAt(a.edge(), a.backward() ? e.length_m - x : x);
        const double d = Crow(start.point, turn);
        if (d > far) far = d, via = u, arc = ai;
      }
    }
    if (via != UINT32_MAX) {
      std::vector<Step> steps = TreePath(g, start, out, via, false);
      const Arc& a = g.arcs[arc];
      const GraphEdge& e = g.edges[a.edge()];
      const double x = half - out.dist[out.index.at(via)];
      steps.push_back(a.backward() ? Step{a.edge(), e.length_m, e.length_m - x}
                                   : Step{a.edge(), 0, x});
      for (size_t k = steps.size(); k-- > 0;) {
        steps.push_back({steps[k].edge, steps[k].to_m, steps[k].from_m});
      }
      record(std::move(steps), true);
    }
  }
  if (found.empty()) {
    return Status::NotFound("no loop found from this start with these options");
  }
  auto score = [](const Loop& l) {
    const double d = std::max(l.path.distance_m, 1.0);
    return l.repeated_m / d + 0.3 * (1.0 - l.path_like_m / d) + std::abs(l.length_error);
  };
  const bool any_within =
      std::any_of(found.begin(), found.end(), [](const Loop& l) { return l.within_tolerance; });
  std::vector<size_t> order(found.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (found[a].within_tolerance != found[b].within_tolerance) return found[a].within_tolerance;
    return any_within ? score(found[a]) < score(found[b])
                      : std::abs(found[a].length_error) < std::abs(found[b].length_error);
  });
  std::vector<Loop> chosen;
  std::vector<std::unordered_set<uint32_t>> chosen_edges;
  for (size_t i : order) {
    if (static_cast<int>(chosen.size()) >= std::max(1, o.alternatives)) break;
    if (any_within && !found[i].within_tolerance) break;
    std::unordered_set<uint32_t> edges;
    for (const Step& s : found[i].path.steps) edges.insert(s.edge);
    bool distinct = true;
    for (const auto& other : chosen_edges) {
      size_t common = 0;
      for (uint32_t e : edges) common += other.count(e);
      const size_t uni = edges.size() + other.size() - common;
      if (uni > 0 && static_cast<double>(common) / static_cast<double>(uni) > 0.5) {
        distinct = false;
        break;
      }
    }
    if (!distinct) continue;
    chosen_edges.push_back(std::move(edges));
    chosen.push_back(found[i]);
  }
  return chosen;
}

}  // namespace stride::engine::trail
