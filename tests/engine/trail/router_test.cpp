// SPDX-License-Identifier: Apache-2.0
#include "engine/trail/router.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <numeric>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <string_view>

#include "datasets/synthetic_walk.hpp"
#include "engine/geo/geodesy.hpp"
#include "engine/route/profile.hpp"
#include "engine/trail/hierarchy.hpp"
#include "engine/trail/match.hpp"

namespace stride::engine::trail {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// An edge between OSM nodes a and b along a straight line of `n` points.
TrailEdge Line(uint64_t id, uint64_t a, uint64_t b, PointE7 pa, PointE7 pb, int n = 3) {
  TrailEdge e;
  e.id = id;
  e.way_id = id;
  e.from_node = a;
  e.to_node = b;
  for (int i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / (n - 1);
    e.points.push_back(LerpE7(pa, pb, t));
  }
  e.length_m = LineLengthM(e.points.data(), e.points.size());
  e.highway = "path";
  return e;
}

PointE7 At(double lat, double lon) {
  return {static_cast<int32_t>(std::lround(lat * 1e7)),
          static_cast<int32_t>(std::lround(lon * 1e7))};
}

// A jittered grid of rows x cols junctions ~300 m apart; some links missing, some steps,
// some difficult, some climbing; node ids 1 + r * cols + c.
TrailGraph Grid(int rows, int cols, uint64_t seed, std::vector<TrailEdge>* edges_out = nullptr) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> jitter(-0.0006, 0.0006), u(0, 1);
  std::vector<PointE7> node(static_cast<size_t>(rows * cols));
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      // One draw per statement: argument order differs between compilers.
      const double dlat = jitter(rng);
      const double dlon = jitter(rng);
      node[static_cast<size_t>(r * cols + c)] =
          At(45.0 + r * 0.0027 + dlat, 6.0 + c * 0.0038 + dlon);
    }
  }
  GraphBuilder b;
  uint64_t id = 1;
  auto link = [&](int i, int j) {
    if (u(rng) < 0.12) return;  // missing link
    TrailEdge e = Line(id++, static_cast<uint64_t>(i + 1), static_cast<uint64_t>(j + 1),
                       node[static_cast<size_t>(i)], node[static_cast<size_t>(j)], 4);
    const double kind = u(rng);
    if (kind < 0.05)
      e.highway = "steps";
    else if (kind < 0.25)
      e.highway = "residential";
    e.sac = u(rng) < 0.1 ? 4 : 1;
    e.surface_class = u(rng) < 0.3 ? Surface::kPaved : Surface::kUnpaved;
    e.ascent_m = static_cast<float>(u(rng) * 40);
    e.descent_m = static_cast<float>(u(rng) * 40);
    if (edges_out) edges_out->push_back(e);
    b.AddEdge(e);
  };
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      const int i = r * cols + c;
      if (c + 1 < cols) link(i, i + 1);
      if (r + 1 < rows) link(i, i + cols);
      if (r + 1 < rows && c + 1 < cols && u(rng) < 0.2) link(i, i + cols + 1);
    }
  }
  return std::move(b).Build();
}

// An independent reference: plain Dijkstra from a node over the CSR, no heuristic.
std::vector<double> Dijkstra(const TrailGraph& g,
                             const std::vector<std::pair<uint32_t, double>>& seeds,
                             const FootOptions& o) {
  std::vector<double> d(g.nodes(), kInf);
  using E = std::pair<double, uint32_t>;
  std::priority_queue<E, std::vector<E>, std::greater<>> q;
  for (auto [v, c] : seeds) {
    if (c < d[v]) d[v] = c, q.push({c, v});
  }
  while (!q.empty()) {
    auto [c, v] = q.top();
    q.pop();
    if (c > d[v]) continue;
    for (const Arc* a = g.arcs_begin(v); a != g.arcs_end(v); ++a) {
      const double w = EdgeCost(g.edges[a->edge()], a->backward(), o);
      if (std::isfinite(w) && c + w < d[a->to]) {
        d[a->to] = c + w;
        q.push({d[a->to], a->to});
      }
    }
  }
  return d;
}

double Part(const TrailGraph& g, uint32_t e, double a, double b, const FootOptions& o) {
  const GraphEdge& ge = g.edges[e];
  return ge.length_m > 0 ? EdgeCost(ge, b < a, o, true) * std::abs(b - a) / ge.length_m : 0;
}

double ReferenceCost(const TrailGraph& g, const Snap& s, const Snap& t, const FootOptions& o) {
  const GraphEdge& se = g.edges[s.edge];
  const GraphEdge& te = g.edges[t.edge];
  const std::vector<double> d = Dijkstra(g,
                                         {{se.from, Part(g, s.edge, s.offset_m, 0, o)},
                                          {se.to, Part(g, s.edge, s.offset_m, se.length_m, o)}},
                                         o);
  double best = std::min(d[te.from] + Part(g, t.edge, 0, t.offset_m, o),
                         d[te.to] + Part(g, t.edge, te.length_m, t.offset_m, o));
  if (s.edge == t.edge) best = std::min(best, Part(g, s.edge, s.offset_m, t.offset_m, o));
  return best;
}

Snap RandomSnap(const TrailGraph& g, std::mt19937_64& rng) {
  std::uniform_int_distribution<uint32_t> pick(0, static_cast<uint32_t>(g.edge_count() - 1));
  std::uniform_real_distribution<double> u(0, 1);
  Snap s;
  s.edge = pick(rng);
  s.offset_m = u(rng) * g.edges[s.edge].length_m;
  s.point = g.PointAt(s.edge, s.offset_m);
  return s;
}

TEST(Tobler, AnchorSpeeds) {
  // 6 km/h at a 5 % descent, 5.04 km/h on the flat, 2.98 km/h at 15 % up (Tobler 1993).
  EXPECT_NEAR(ToblerSpeedMps(-0.05) * 3.6, 6.0, 1e-12);
  EXPECT_NEAR(ToblerSpeedMps(0) * 3.6, 5.036, 0.001);
  EXPECT_NEAR(ToblerSpeedMps(0.15) * 3.6, 2.980, 0.001);
  // A flat kilometre takes 714.8 s; the same with 100 m up and 100 m down takes longer both ways.
  EXPECT_NEAR(WalkSeconds(1000, 0, 0), 714.8, 0.1);
  EXPECT_GT(WalkSeconds(1000, 100, 100), WalkSeconds(1000, 0, 0));
  // Climbing 150 m over a kilometre is slower than descending it.
  EXPECT_GT(WalkSeconds(1000, 150, 0), WalkSeconds(1000, 0, 150));
  EXPECT_NEAR(WalkSeconds(1000, 150, 0), 1000 / ToblerSpeedMps(0.15), 1e-9);
}

TEST(TrailGraph, BuildsCsrAndSnaps) {
  // a - b - c in a line, with a steps shortcut a - c that is longer but direct.
  GraphBuilder b;
  b.AddEdge(Line(1, 10, 20, At(45.0, 6.0), At(45.0, 6.01)));
  b.AddEdge(Line(2, 20, 30, At(45.0, 6.01), At(45.0, 6.02)));
  TrailEdge steps = Line(3, 10, 30, At(45.0, 6.0), At(45.0, 6.02));
  steps.highway = "steps";
  b.AddEdge(steps);
  TrailEdge broken = Line(4, 0, 30, At(45.0, 6.0), At(45.1, 6.0));  // no from node: skipped
  b.AddEdge(broken);
  const TrailGraph g = std::move(b).Build();
  ASSERT_EQ(g.nodes(), 3u);
  ASSERT_EQ(g.edge_count(), 3u);
  EXPECT_EQ(g.arcs.size(), 6u);
  EXPECT_EQ(g.first_arc.back(), 6u);
  EXPECT_TRUE(g.edges[2].flags & kSteps);
  // Degree of the middle node is 2.
  EXPECT_EQ(g.arcs_end(1) - g.arcs_begin(1), 2);
  // A point 50 m north of the first edge's middle snaps onto it, 50 m away.
  Result<Snap> s = g.Nearest(At(45.00045, 6.005), 500);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_NEAR(s->distance_m, 50.0, 1.0);
  EXPECT_NEAR(s->offset_m, g.edges[s->edge].length_m / 2, 2.0);
  // Far away: NotFound with the distance.
  Result<Snap> far = g.Nearest(At(45.1, 6.0), 500);
  ASSERT_FALSE(far.ok());
  EXPECT_EQ(far.status().code(), StatusCode::kNotFound);
  EXPECT_NE(far.status().message().find("the nearest is 1111"), std::string::npos)
      << far.status().message();
}

// A point at a pole spans every longitude within a metre, and the snap grid's cells were
// looked up one by one: /v1/directions?from=90,180&to=-90,-180, with no token, held a worker
// at full CPU for good (and the server's shutdown with it). Near a pole, and for a box of the
// whole world, the search now goes through the grid once.
TEST(TrailGraph, SnapsNearAPoleAndOverTheWholeWorld) {
  const TrailGraph g = Grid(6, 7, 3);
  for (const double lat : {90.0, -90.0, 89.9999}) {
    Result<Snap> pole = g.Nearest(At(lat, 180.0), 500);
    ASSERT_FALSE(pole.ok()) << lat;
    EXPECT_EQ(pole.status().code(), StatusCode::kNotFound);
    EXPECT_NE(pole.status().message().find("the nearest is"), std::string::npos)
        << pole.status().message();
    EXPECT_TRUE(g.Within(At(lat, 6.0), 5000, 10).empty()) << lat;
  }
  BoxE7 world;
  world.min_lat = -900000000, world.max_lat = 900000000;
  world.min_lon = -1800000000, world.max_lon = 1800000000;
  const std::vector<uint32_t> all = g.EdgesInBox(world);
  ASSERT_EQ(all.size(), g.edge_count());
  for (uint32_t e = 0; e < all.size(); ++e) EXPECT_EQ(all[e], e);
}

// A way with a node misplaced at a pole or at 0,0 (vandalism, a broken edit) has a segment
// thousands of kilometres long. Its bounding box was indexed cell by cell: 10^9 cells for one
// such way, which held the import (and every server start) for minutes and gigabytes. Only
// the cells on its line are indexed now, and points along it still snap onto it.
TEST(TrailGraph, ALongSegmentIsIndexedAlongItsLine) {
  GraphBuilder b;
  b.AddEdge(Line(1, 10, 20, At(45.0, 6.0), At(45.0, 6.01)));
  b.AddEdge(Line(2, 20, 30, At(45.0, 6.01), At(89.9, 179.9), 2));     // to near the pole
  b.AddEdge(Line(3, 30, 40, At(89.9, 179.9), At(-89.9, -179.9), 2));  // corner to corner
  const TrailGraph g = std::move(b).Build();
  ASSERT_EQ(g.edge_count(), 3u);
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(0.02, 0.98), off(-0.004, 0.004);
  for (int i = 0; i < 60; ++i) {
    const bool second = i % 2 == 0;
    const PointE7 a = second ? At(45.0, 6.01) : At(89.9, 179.9);
    const PointE7 z = second ? At(89.9, 179.9) : At(-89.9, -179.9);
    const double t = u(rng);
    const PointE7 on = LerpE7(a, z, t);
    const PointE7 p = {on.lat + static_cast<int32_t>(off(rng) * 1e7), on.lon};
    // Near the pole a degree of longitude is a few metres; elsewhere 0.004 degrees of
    // latitude is at most 450 m.
    const double to_line =
        SegmentDistanceM(p.lat * 1e-7, p.lon * 1e-7, on.lat * 1e-7, on.lon * 1e-7);
    Result<Snap> s = g.Nearest(p, 5000);
    ASSERT_TRUE(s.ok()) << i << ": " << s.status().message();
    EXPECT_LE(s->distance_m, to_line + 1.0) << i << " at t " << t;
  }
}

// The two ways Nearest searches (ring by ring for a small radius, one pass over the grid for
// a large one) find the nearest edge a brute force over every edge finds.
TEST(TrailGraph, NearestAgreesWithABruteForceAtAnyRadius) {
  const TrailGraph g = Grid(6, 7, 5);
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> lat(44.995, 45.02), lon(5.995, 6.03);
  for (int i = 0; i < 200; ++i) {
    const PointE7 p = At(lat(rng), lon(rng));
    double brute = std::numeric_limits<double>::infinity();
    for (uint32_t e = 0; e < g.edge_count(); ++e) {
      for (int k = 0; k <= 400; ++k) {
        const PointE7 q = g.PointAt(e, g.edges[e].length_m * k / 400);
        brute = std::min(brute,
                         SegmentDistanceM(p.lat * 1e-7, p.lon * 1e-7, q.lat * 1e-7, q.lon * 1e-7));
      }
    }
    Result<Snap> wide = g.Nearest(p, 5000);
    ASSERT_TRUE(wide.ok()) << wide.status().message();
    EXPECT_NEAR(wide->distance_m, brute, 1.0) << i;
    Result<Snap> near = g.Nearest(p, 300);
    if (brute < 299) {
      ASSERT_TRUE(near.ok()) << i << ": " << near.status().message();
      EXPECT_NEAR(near->distance_m, wide->distance_m, 1e-6) << i;
    } else if (brute > 301) {
      EXPECT_FALSE(near.ok()) << i;
    }
  }
}

TEST(TrailGraph, SerializesAndRejectsCorruption) {
  std::vector<TrailEdge> edges;
  const TrailGraph g = Grid(6, 7, 3, &edges);
  const std::string bytes = g.Serialize();
  Result<TrailGraph> back = TrailGraph::Parse(bytes);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->Serialize(), bytes);
  EXPECT_EQ(back->nodes(), g.nodes());
  EXPECT_EQ(back->edge_count(), edges.size());
  // Every truncation is refused, not read past.
  for (size_t n : {size_t{0}, size_t{7}, size_t{16}, bytes.size() / 2, bytes.size() - 1}) {
    Result<TrailGraph> t = TrailGraph::Parse(std::string_view(bytes).substr(0, n));
    EXPECT_FALSE(t.ok()) << n;
  }
  // An arc pointing past the nodes is refused.
  TrailGraph bad = *back;
  bad.arcs[3].to = 1u << 30;
  Result<TrailGraph> r = TrailGraph::Parse(bad.Serialize());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("arc 3 out of range"), std::string::npos);
  TrailGraph bad_shape = *back;
  bad_shape.edges[5].shape_count = 1u << 30;
  EXPECT_FALSE(TrailGraph::Parse(bad_shape.Serialize()).ok());
  std::string wrong_version = bytes;
  wrong_version[8] = 9;
  Result<TrailGraph> v = TrailGraph::Parse(wrong_version);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("version 9"), std::string::npos);
}

TEST(ShortestPath, OptionsChangeTheWay) {
  // a - b - c on a path; a - c directly by steps (shorter); c - d difficult (sac 5) or the
  // long way c - e - d.
  GraphBuilder b;
  b.AddEdge(Line(1, 1, 2, At(45.0, 6.0), At(45.004, 6.005)));
  b.AddEdge(Line(2, 2, 3, At(45.004, 6.005), At(45.0, 6.01)));
  TrailEdge steps = Line(3, 1, 3, At(45.0, 6.0), At(45.0, 6.01));
  steps.highway = "steps";
  b.AddEdge(steps);
  TrailEdge hard = Line(4, 3, 4, At(45.0, 6.01), At(45.0, 6.02));
  hard.sac = 5;
  b.AddEdge(hard);
  b.AddEdge(Line(5, 3, 5, At(45.0, 6.01), At(44.99, 6.015)));
  b.AddEdge(Line(6, 5, 4, At(44.99, 6.015), At(45.0, 6.02)));
  const TrailGraph g = std::move(b).Build();
  const Snap a = *g.Nearest(At(45.0, 6.0), 10), c = *g.Nearest(At(45.0, 6.01), 10);
  FootOptions o;
  Result<Path> direct = ShortestPath(g, a, c, o);
  ASSERT_TRUE(direct.ok());
  EXPECT_NEAR(direct->distance_m, g.edges[2].length_m, 1.0);
  o.avoid_steps = true;
  Result<Path> around = ShortestPath(g, a, c, o);
  ASSERT_TRUE(around.ok());
  EXPECT_NEAR(around->distance_m, g.edges[0].length_m + g.edges[1].length_m, 1.0);
  const Snap d = *g.Nearest(At(45.0, 6.02), 10);
  o = FootOptions{};
  EXPECT_NEAR(ShortestPath(g, c, d, o)->distance_m, g.edges[3].length_m, 1.0);
  o.max_difficulty = 3;
  // Snapped for these options, d lies on the detour's last edge, not on the difficult one.
  const Snap c3 = *g.Nearest(At(45.0, 6.01), 10, Usable(o));
  const Snap d3 = *g.Nearest(At(45.0, 6.02), 10, Usable(o));
  EXPECT_NE(g.edges[d3.edge].sac, 5);
  EXPECT_NEAR(ShortestPath(g, c3, d3, o)->distance_m, g.edges[4].length_m + g.edges[5].length_m,
              1.0);
  // Without the detour, nothing joins c and d at difficulty 3: NotFound saying why.
  GraphBuilder b2;
  b2.AddEdge(Line(1, 1, 2, At(45.0, 6.0), At(45.0, 6.01)));
  TrailEdge hard2 = Line(2, 2, 3, At(45.0, 6.01), At(45.0, 6.02));
  hard2.sac = 6;
  b2.AddEdge(hard2);
  b2.AddEdge(Line(3, 3, 4, At(45.0, 6.02), At(45.0, 6.03)));
  const TrailGraph g2 = std::move(b2).Build();
  o.max_difficulty = 3;
  Result<Path> none = ShortestPath(g2, *g2.Nearest(At(45.0, 6.0), 10, Usable(o)),
                                   *g2.Nearest(At(45.0, 6.03), 10, Usable(o)), o);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_NE(none.status().message().find("no walkable path"), std::string::npos);
}

TEST(ShortestPath, PartialEdgesAndSameEdge) {
  GraphBuilder b;
  b.AddEdge(Line(1, 1, 2, At(45.0, 6.0), At(45.0, 6.02), 9));
  const TrailGraph g = std::move(b).Build();
  const Snap s = *g.Nearest(At(45.0, 6.005), 10), t = *g.Nearest(At(45.0, 6.015), 10);
  Result<Path> p = ShortestPath(g, s, t, FootOptions{});
  ASSERT_TRUE(p.ok());
  EXPECT_NEAR(p->distance_m, SegmentDistanceM(45.0, 6.005, 45.0, 6.015), 0.5);
  ASSERT_EQ(p->steps.size(), 1u);
  EXPECT_FALSE(p->steps[0].backward());
  Result<Path> back = ShortestPath(g, t, s, FootOptions{});
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->steps[0].backward());
  std::vector<PointE7> pts;
  std::vector<float> z;
  PathGeometry(g, *back, &pts, &z);
  ASSERT_GE(pts.size(), 2u);
  EXPECT_NEAR(pts.front().lon, 60150000, 2);
  EXPECT_NEAR(pts.back().lon, 60050000, 2);
  EXPECT_NEAR(LineLengthM(pts.data(), pts.size()), back->distance_m, 0.5);
}

// The line of a walk of many steps, forwards and backwards along edges and cut mid-edge at
// both ends: the metres to each point follow the line itself and end at the path's distance.
TEST(PathGeometry, MetresAlongFollowTheLineAndEndAtTheDistance) {
  const TrailGraph g = Grid(12, 12, 3);
  std::mt19937_64 rng(5);
  int multi_step = 0;
  for (int i = 0; i < 300; ++i) {
    const Snap s = RandomSnap(g, rng);
    const Snap t = RandomSnap(g, rng);
    Result<Path> p = ShortestPath(g, s, t, FootOptions{});
    if (!p.ok()) continue;
    multi_step += p->steps.size() > 2;
    std::vector<PointE7> pts;
    std::vector<double> along;
    PathGeometry(g, *p, &pts, nullptr, &along);
    ASSERT_EQ(along.size(), pts.size());
    if (pts.empty()) continue;
    EXPECT_EQ(along.front(), 0);
    EXPECT_NEAR(along.back(), p->distance_m, 1e-6 * (1 + p->distance_m));
    for (size_t k = 1; k < pts.size(); ++k) {
      ASSERT_NE(pts[k], pts[k - 1]) << "repeated point " << k;
      const double seg = SegmentDistanceM(pts[k - 1].lat * 1e-7, pts[k - 1].lon * 1e-7,
                                          pts[k].lat * 1e-7, pts[k].lon * 1e-7);
      ASSERT_NEAR(along[k] - along[k - 1], seg, 0.05 + 1e-3 * seg) << "point " << k;
    }
  }
  EXPECT_GT(multi_step, 100);
}

// The path's pieces join up: each step starts where the previous one ended.
void ExpectJoined(const TrailGraph& g, const Path& p, const std::string& what) {
  for (size_t k = 1; k < p.steps.size(); ++k) {
    const Step& a = p.steps[k - 1];
    const Step& b = p.steps[k];
    const GraphEdge& ea = g.edges[a.edge];
    const GraphEdge& eb = g.edges[b.edge];
    const uint32_t end = a.to_m == 0 ? ea.from : ea.to;
    const uint32_t begin = b.from_m == 0 ? eb.from : eb.to;
    EXPECT_EQ(end, begin) << what << " step " << k;
  }
}

// Routes s -> t on `g` (through its hierarchy when it has one and `o` are the defaults) and
// checks the answer against ReferenceCost, a plain Dijkstra over the same arcs: refused where
// that finds no path, else the same cost within `rel` (relative, and as much in seconds) along
// a path whose pieces join up. True when the pair is reachable; `what` names it in failures.
bool ExpectAsDijkstra(const TrailGraph& g, const Snap& s, const Snap& t, const FootOptions& o,
                      double rel, const std::string& what) {
  const double want = ReferenceCost(g, s, t, o);
  Result<Path> got = ShortestPath(g, s, t, o);
  if (!std::isfinite(want)) {
    EXPECT_FALSE(got.ok()) << what;
    return false;
  }
  if (!got.ok()) {
    ADD_FAILURE() << what << ": " << got.status().message();
    return true;
  }
  EXPECT_NEAR(got->cost, want, rel * want + rel) << what;
  ExpectJoined(g, *got, what);
  return true;
}

// A* equals a plain Dijkstra on thousands of random pairs, under several option sets.
TEST(ShortestPath, EqualsDijkstraOnRandomPairs) {
  const TrailGraph g = Grid(30, 30, 7);
  std::mt19937_64 rng(99);
  std::vector<FootOptions> options(4);
  options[1].avoid_steps = true;
  options[1].max_difficulty = 3;
  options[2].prefer_unpaved = true;
  options[3].minimise_climb = true;
  int reachable = 0, unreachable = 0;
  for (int i = 0; i < 2000; ++i) {
    const FootOptions& o = options[static_cast<size_t>(i) % options.size()];
    const Snap s = RandomSnap(g, rng), t = RandomSnap(g, rng);
    ++(ExpectAsDijkstra(g, s, t, o, 1e-6, "pair " + std::to_string(i)) ? reachable : unreachable);
  }
  EXPECT_GT(reachable, 1900);
  EXPECT_EQ(reachable + unreachable, 2000);
}

// A grid with parallel edges (a second, climbing way between some junctions: cheaper one
// way, dearer the other) and loops (a way from a junction back to itself).
TrailGraph GridWithParallels(int rows, int cols, uint64_t seed) {
  std::vector<TrailEdge> edges;
  Grid(rows, cols, seed, &edges);
  std::mt19937_64 rng(seed + 1);
  std::uniform_real_distribution<double> u(0, 1);
  GraphBuilder b;
  uint64_t id = 1'000'000;
  for (const TrailEdge& e : edges) {
    b.AddEdge(e);
    if (u(rng) < 0.15) {
      TrailEdge p = e;
      p.id = p.way_id = id++;
      p.ascent_m = static_cast<float>(u(rng) * 5);
      p.descent_m = static_cast<float>(30 + u(rng) * 30);
      p.highway = "track";
      b.AddEdge(p);
    }
    if (u(rng) < 0.03) {
      TrailEdge loop = Line(id++, e.from_node, e.from_node, e.points.front(), e.points[1], 3);
      loop.points.push_back(e.points.front());
      loop.length_m = LineLengthM(loop.points.data(), loop.points.size());
      b.AddEdge(loop);
    }
  }
  return std::move(b).Build();
}

// The contraction hierarchy answers what a plain Dijkstra answers for the default options,
// including with witness searches so short that it adds every shortcut it can; other options
// still go to A* on a graph that has a hierarchy.
TEST(Hierarchy, EqualsDijkstraOnRandomPairs) {
  for (const size_t witness : {size_t{500}, size_t{1}}) {
    TrailGraph g = GridWithParallels(28, 31, 11);
    HierarchyOptions ho;
    ho.witness_settled = witness;
    ho.estimate_settled = std::min<size_t>(witness, 40);
    HierarchyStats stats;
    g.hierarchy = std::make_shared<const Hierarchy>(BuildHierarchy(g, ho, &stats));
    EXPECT_EQ(g.hierarchy->rank.size(), g.nodes());
    EXPECT_GT(stats.shortcuts, 0u);
    std::mt19937_64 rng(123 + witness);
    std::vector<FootOptions> options(3);
    options[1].avoid_steps = true;
    options[2].minimise_climb = true;
    int reachable = 0;
    size_t settled = 0, queries = 0;
    for (int i = 0; i < 1500; ++i) {
      const FootOptions& o = options[i % 5 == 0 ? 1 + (i / 5) % 2 : 0];
      const Snap s = RandomSnap(g, rng);
      const Snap t = RandomSnap(g, rng);
      const std::string what = "witness " + std::to_string(witness) + " pair " + std::to_string(i);
      if (!ExpectAsDijkstra(g, s, t, o, 1e-9, what)) continue;
      if (HierarchyAnswers(o)) {
        settled += HierarchySettledLastQuery();
        ++queries;
      }
      ++reachable;
    }
    EXPECT_GT(reachable, 1400);
    // Searches go up the hierarchy only: they settle a small part of the graph.
    ASSERT_GT(queries, 1000u);
    EXPECT_LT(static_cast<double>(settled) / static_cast<double>(queries),
              0.25 * static_cast<double>(g.nodes()))
        << witness;
  }
}

// A hierarchy whose top is left uncontracted (the core, searched by a plain bidirectional
// Dijkstra) answers what Dijkstra answers: with a core of part of the graph, and with one of
// all of it (a mean degree the graph already exceeds); and it survives a round trip through
// the file, whose core size is checked.
TEST(Hierarchy, ACoreLeftUncontractedAnswersTheSame) {
  TrailGraph g = GridWithParallels(28, 31, 11);
  for (const double degree : {6.0, 0.5}) {
    HierarchyOptions ho;
    ho.core_mean_degree = degree;
    HierarchyStats stats;
    Hierarchy built = BuildHierarchy(g, ho, &stats);
    EXPECT_EQ(built.core, stats.core);
    if (degree < 1) {
      EXPECT_EQ(stats.core, g.nodes());
    } else {
      EXPECT_GT(stats.core, 20u);
      EXPECT_LT(stats.core, g.nodes() / 4);
    }
    TrailGraph with_core = g;
    with_core.hierarchy = std::make_shared<const Hierarchy>(std::move(built));
    const std::string bytes = with_core.Serialize();
    Result<TrailGraph> back = TrailGraph::Parse(bytes);
    ASSERT_TRUE(back.ok()) << back.status().message();
    ASSERT_TRUE(back->hierarchy);
    EXPECT_EQ(back->hierarchy->core, stats.core);
    EXPECT_EQ(back->Serialize(), bytes);
    std::mt19937_64 rng(77);
    int reachable = 0;
    for (int i = 0; i < 600; ++i) {
      const Snap s = RandomSnap(g, rng);
      const Snap t = RandomSnap(g, rng);
      const std::string what = "degree " + std::to_string(degree) + " pair " + std::to_string(i);
      reachable += ExpectAsDijkstra(*back, s, t, FootOptions{}, 1e-9, what);
    }
    EXPECT_GT(reachable, 550);
    // A core arc may go down in rank; the same arc out of the core may not.
    Hierarchy h = *back->hierarchy;
    const size_t n = g.nodes();
    bool downward = false;
    for (uint32_t v = 0; v < n && !downward; ++v) {
      for (uint32_t i = h.up_first[v]; i < h.up_first[v + 1]; ++i) {
        if (h.rank[h.up[i].to] < h.rank[v]) downward = true;
      }
    }
    EXPECT_TRUE(downward) << "no core arc goes down in rank";
    h.core = 0;
    TrailGraph bad = g;
    bad.hierarchy = std::make_shared<const Hierarchy>(h);
    Result<TrailGraph> r = TrailGraph::Parse(bad.Serialize());
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("does not go up"), std::string::npos)
        << r.status().message();
    h.core = static_cast<uint32_t>(n + 1);
    bad.hierarchy = std::make_shared<const Hierarchy>(h);
    r = TrailGraph::Parse(bad.Serialize());
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("core of " + std::to_string(n + 1)), std::string::npos)
        << r.status().message();
  }
}

// A memory budget (HierarchyOptions::out_of_memory) stops contraction where it says so and
// leaves the rest as the core, which answers as before; the bytes it is told the finished
// arrays will add are what they take. Asked at 0 and every 4,096 contractions: a grid of
// ~5,000 junctions stops at 4,096 when the second answer is "out of memory", at 0 when the
// first is.
TEST(Hierarchy, AMemoryBudgetLeavesTheRestAsTheCore) {
  TrailGraph g = GridWithParallels(70, 72, 5);
  const size_t n = g.nodes();
  ASSERT_GT(n, 4096u + 500u);
  for (const int stop_at_call : {2, 1}) {
    HierarchyOptions ho;
    ho.core_mean_degree = 0;  // only the budget stops it
    std::vector<size_t> told;
    ho.out_of_memory = [&](size_t bytes) {
      told.push_back(bytes);
      return static_cast<int>(told.size()) == stop_at_call;
    };
    HierarchyStats stats;
    Hierarchy built = BuildHierarchy(g, ho, &stats);
    ASSERT_EQ(told.size(), static_cast<size_t>(stop_at_call));
    EXPECT_TRUE(stats.out_of_memory);
    EXPECT_EQ(stats.core, stop_at_call == 2 ? n - 4096 : n);
    EXPECT_EQ(told.back(), (built.up.size() + built.down.size()) * sizeof(HierarchyArc) +
                               2 * (n + 1) * sizeof(uint32_t));
    TrailGraph with_core = g;
    with_core.hierarchy = std::make_shared<const Hierarchy>(std::move(built));
    Result<TrailGraph> back = TrailGraph::Parse(with_core.Serialize());
    ASSERT_TRUE(back.ok()) << back.status().message();
    std::mt19937_64 rng(91);
    int reachable = 0;
    for (int i = 0; i < 300; ++i) {
      const Snap s = RandomSnap(g, rng), t = RandomSnap(g, rng);
      reachable +=
          ExpectAsDijkstra(*back, s, t, FootOptions{}, 1e-9,
                           "stop " + std::to_string(stop_at_call) + " pair " + std::to_string(i));
    }
    EXPECT_GT(reachable, 280);
  }
  // Never out of memory: contracted to the end, as without a budget.
  HierarchyOptions ho;
  ho.core_mean_degree = 0;
  size_t calls = 0;
  ho.out_of_memory = [&](size_t) { return ++calls, false; };
  HierarchyStats stats;
  const Hierarchy all = BuildHierarchy(g, ho, &stats);
  EXPECT_FALSE(stats.out_of_memory);
  EXPECT_EQ(stats.core, 0u);
  ASSERT_LT(stats.shortcuts, size_t{1} << 20);  // so only every 4,096 nodes
  EXPECT_EQ(calls, 1 + (n - 1) / 4096);
  HierarchyOptions plain;
  plain.core_mean_degree = 0;
  const Hierarchy reference = BuildHierarchy(g, plain);
  EXPECT_EQ(all.rank, reference.rank);
  EXPECT_EQ(all.up.size(), reference.up.size());
}

// Two threads build the hierarchy one builds, byte for byte (the node order, every arc and
// its cost), with and without a core. A grid's junctions have four in-neighbours (4 x 40 and
// 4 x 500 are enough to share); whether the second thread gets to do some of a node's
// searches depends on the machine (what it has not started, the first takes back), so the
// build is repeated until it did for a few nodes, each build checked.
TEST(Hierarchy, TwoThreadsBuildWhatOneBuilds) {
  TrailGraph g = GridWithParallels(40, 44, 7);
  for (const double core : {0.0, 8.0}) {
    HierarchyOptions one, two;
    one.core_mean_degree = two.core_mean_degree = core;
    two.threads = 2;
    HierarchyStats one_stats;
    TrailGraph a = g;
    a.hierarchy = std::make_shared<const Hierarchy>(BuildHierarchy(g, one, &one_stats));
    EXPECT_EQ(one_stats.shared, 0u);
    if (core > 0) {
      EXPECT_GT(one_stats.core, 0u);
      EXPECT_LT(one_stats.core, g.nodes() / 4);
    }
    std::string a_bytes;
    a.SerializeHierarchyTo([&](std::string_view s) { a_bytes.append(s); });
    EXPECT_GT(a_bytes.size(), 16 * g.nodes());
    size_t shared = 0;
    for (int attempt = 0; attempt < 20 && shared < 10; ++attempt) {
      HierarchyStats two_stats;
      TrailGraph b = g;
      b.hierarchy = std::make_shared<const Hierarchy>(BuildHierarchy(g, two, &two_stats));
      shared = two_stats.shared;
      EXPECT_EQ(two_stats.shortcuts, one_stats.shortcuts);
      EXPECT_EQ(two_stats.core, one_stats.core);
      std::string b_bytes;
      b.SerializeHierarchyTo([&](std::string_view s) { b_bytes.append(s); });
      ASSERT_TRUE(a_bytes == b_bytes) << "core " << core << ", attempt " << attempt;
    }
    EXPECT_GE(shared, 10u) << "core " << core;
  }
}

// ExpectAsDijkstra under the default options on `pairs` random pairs of `g`; the number of
// them that were reachable.
int PairsAsDijkstra(const TrailGraph& g, int pairs, std::mt19937_64& rng) {
  int reachable = 0;
  for (int i = 0; i < pairs; ++i) {
    const Snap s = RandomSnap(g, rng), t = RandomSnap(g, rng);
    reachable += ExpectAsDijkstra(g, s, t, FootOptions{}, 1e-9, "pair " + std::to_string(i));
  }
  return reachable;
}

// Contracting in a given order (HierarchyOptions::order, what an update does with the order
// of the hierarchy it replaces): in the order a build by priority chose, that build's
// hierarchy byte for byte (with and without a core, on one thread and on two); in a random
// order, each node ranked at its key, answering what Dijkstra answers.
TEST(Hierarchy, AGivenOrderIsFollowed) {
  TrailGraph g = GridWithParallels(40, 44, 7);
  for (const double core : {0.0, 8.0}) {
    HierarchyOptions by_priority;
    by_priority.core_mean_degree = core;
    HierarchyStats priority_stats;
    TrailGraph a = g;
    a.hierarchy =
        std::make_shared<const Hierarchy>(BuildHierarchy(g, by_priority, &priority_stats));
    EXPECT_FALSE(priority_stats.ordered);
    std::string a_bytes;
    a.SerializeHierarchyTo([&](std::string_view s) { a_bytes.append(s); });
    for (const int threads : {1, 2}) {
      HierarchyOptions ordered = by_priority;
      ordered.threads = threads;
      size_t matched = 0;
      ordered.order = InheritedOrder(g, a, &matched);
      EXPECT_EQ(matched, g.nodes());
      HierarchyStats stats;
      TrailGraph b = g;
      b.hierarchy = std::make_shared<const Hierarchy>(BuildHierarchy(g, ordered, &stats));
      EXPECT_TRUE(stats.ordered);
      EXPECT_EQ(stats.shortcuts, priority_stats.shortcuts);
      EXPECT_EQ(stats.core, priority_stats.core);
      std::string b_bytes;
      b.SerializeHierarchyTo([&](std::string_view s) { b_bytes.append(s); });
      EXPECT_TRUE(a_bytes == b_bytes) << "core " << core << ", " << threads << " thread(s)";
    }
  }
  std::vector<uint32_t> order(g.nodes());
  std::iota(order.begin(), order.end(), 0u);
  std::mt19937_64 rng(5);
  std::shuffle(order.begin(), order.end(), rng);
  HierarchyOptions ho;
  ho.core_mean_degree = 0;
  ho.order = order;
  HierarchyStats stats;
  TrailGraph c = g;
  c.hierarchy = std::make_shared<const Hierarchy>(BuildHierarchy(g, ho, &stats));
  EXPECT_EQ(c.hierarchy->rank, order);
  EXPECT_EQ(stats.core, 0u);
  EXPECT_GT(PairsAsDijkstra(c, 500, rng), 450);
}

// InheritedOrder matches the nodes of a changed graph to the old one's: by way (a junction
// that moved but whose ways kept their pieces keeps its rank), else by position (a moved
// junction whose ways changed has none, as a new one); a node that found its counterpart takes
// its old rank plus one, the others key 0; the hierarchy contracted in that order answers what
// Dijkstra answers on the changed graph.
TEST(Hierarchy, AnOrderInheritedByAChangedGraph) {
  std::vector<TrailEdge> edges;
  TrailGraph old = Grid(25, 27, 3, &edges);
  old.hierarchy = std::make_shared<const Hierarchy>(BuildHierarchy(old));
  // The change: node 1 (a corner) moved 50 m north, its ways as they were; node 50 moved as
  // far, its ways replaced by new ones (new ids); and a path from node 100 to a new node.
  GraphBuilder b;
  PointE7 one_was{}, one_now{}, fifty_now{}, at100{};
  for (TrailEdge e : edges) {
    for (const auto& [node, moved_ways] : {std::pair<uint64_t, bool>{1, false}, {50, true}}) {
      PointE7* end = e.from_node == node ? &e.points.front()
                     : e.to_node == node ? &e.points.back()
                                         : nullptr;
      if (!end) continue;
      if (node == 1) one_was = *end;
      end->lat += 4500;
      (node == 1 ? one_now : fifty_now) = *end;
      if (moved_ways) e.id = e.way_id = e.way_id + 500'000;
    }
    if (e.from_node == 100) at100 = e.points.front();
    if (e.to_node == 100) at100 = e.points.back();
    b.AddEdge(e);
  }
  ASSERT_NE(one_now, PointE7{}) << "node 1 has no edge";
  ASSERT_NE(fifty_now, PointE7{}) << "node 50 has no edge";
  ASSERT_NE(at100, PointE7{});
  const PointE7 fresh{at100.lat + 20000, at100.lon + 20000};
  b.AddEdge(Line(90'000, 100, 900'000, at100, fresh, 3));
  TrailGraph g = std::move(b).Build();
  ASSERT_EQ(g.nodes(), old.nodes() + 1);
  size_t matched = 0;
  const std::vector<uint32_t> order = InheritedOrder(g, old, &matched);
  EXPECT_EQ(matched, old.nodes() - 1);  // all but node 50
  std::map<std::pair<int32_t, int32_t>, uint32_t> old_rank;
  for (uint32_t v = 0; v < old.nodes(); ++v) {
    old_rank[{old.node_point[v].lat, old.node_point[v].lon}] = old.hierarchy->rank[v];
  }
  size_t zeros = 0;
  for (uint32_t v = 0; v < g.nodes(); ++v) {
    const PointE7 p = g.node_point[v];
    if (p == fifty_now || p == fresh) {
      EXPECT_EQ(order[v], 0u);
      ++zeros;
    } else {
      auto it = old_rank.find(p == one_now ? std::pair{one_was.lat, one_was.lon}
                                           : std::pair{p.lat, p.lon});
      ASSERT_NE(it, old_rank.end());
      EXPECT_EQ(order[v], it->second + 1);
    }
  }
  EXPECT_EQ(zeros, 2u);
  HierarchyOptions ho;
  ho.order = order;
  HierarchyStats stats;
  g.hierarchy = std::make_shared<const Hierarchy>(BuildHierarchy(g, ho, &stats));
  EXPECT_TRUE(stats.ordered);
  std::mt19937_64 rng(8);
  EXPECT_GT(PairsAsDijkstra(g, 400, rng), 350);
}

// A graph built without its snap index (what an import contracts and writes) is the same
// file, and the graph read back from it snaps as the one built with it.
TEST(TrailGraph, BuiltWithoutTheSnapIndexWritesTheSameFile) {
  std::vector<TrailEdge> edges;
  const TrailGraph full = Grid(12, 14, 3, &edges);
  GraphBuilder b;
  for (const TrailEdge& e : edges) b.AddEdge(e);
  const TrailGraph bare = std::move(b).Build(/*snap_index=*/false);
  const std::string bytes = bare.Serialize();
  EXPECT_EQ(bytes, full.Serialize());
  Result<TrailGraph> back = TrailGraph::Parse(bytes);
  ASSERT_TRUE(back.ok()) << back.status().message();
  for (const PointE7 p : {At(45.001, 6.002), At(45.02, 6.03), At(45.013, 6.041)}) {
    Result<Snap> want = full.Nearest(p, 1000), got = back->Nearest(p, 1000);
    ASSERT_TRUE(want.ok() && got.ok());
    EXPECT_EQ(got->edge, want->edge);
    EXPECT_DOUBLE_EQ(got->offset_m, want->offset_m);
  }
}

TEST(Hierarchy, AnswersOnlyTheDefaultOptions) {
  FootOptions o;
  EXPECT_TRUE(HierarchyAnswers(o));
  o.max_difficulty = 3;
  EXPECT_FALSE(HierarchyAnswers(o));
  o = {};
  o.prefer_unpaved = true;
  EXPECT_FALSE(HierarchyAnswers(o));
  o = {};
  o.road_penalty = 2;
  EXPECT_FALSE(HierarchyAnswers(o));
  o = {};
  o.shortest = true;
  EXPECT_FALSE(HierarchyAnswers(o));
  o = {};
  o.climb_s_per_m = 99;  // ignored without minimise_climb
  EXPECT_TRUE(HierarchyAnswers(o));
}

// ContractionInput names what the hierarchy is built from: a graph differing in names only
// gives the same bytes and the same hierarchy; one whose arc costs differ does not. The grid is
// large enough (over 1 MiB of input) that the bytes come in more than one piece.
TEST(Hierarchy, ContractionInputIsWhatTheHierarchyIsBuiltFrom) {
  std::vector<TrailEdge> edges;
  TrailGraph g = Grid(150, 150, 11, &edges);
  auto bytes_of = [](const TrailGraph& graph, size_t* pieces) {
    std::string all;
    *pieces = 0;
    ContractionInput(graph, [&](std::string_view piece) {
      EXPECT_FALSE(piece.empty());
      EXPECT_LE(piece.size(), (1u << 20) + 64);
      all.append(piece);
      ++*pieces;
    });
    return all;
  };
  auto rebuild = [&](const std::function<void(TrailEdge&)>& change) {
    GraphBuilder b;
    for (TrailEdge e : edges) {
      change(e);
      b.AddEdge(e);
    }
    return std::move(b).Build();
  };
  size_t pieces = 0;
  const std::string base = bytes_of(g, &pieces);
  EXPECT_EQ(base.size(), 8 + 4 * g.first_arc.size() + 16 * g.arcs.size());
  EXPECT_GT(pieces, 1u);

  TrailGraph renamed = rebuild([](TrailEdge& e) { e.name = "renamed " + std::to_string(e.id); });
  size_t unused = 0;
  EXPECT_EQ(bytes_of(renamed, &unused), base);
  g.hierarchy = std::make_shared<const Hierarchy>(BuildHierarchy(g));
  renamed.hierarchy = std::make_shared<const Hierarchy>(BuildHierarchy(renamed));
  auto arcs = [](const std::vector<HierarchyArc>& list) {
    std::string out;
    for (const HierarchyArc& a : list) {
      out.append(reinterpret_cast<const char*>(&a.to), sizeof a.to);
      out.append(reinterpret_cast<const char*>(&a.via), sizeof a.via);
      out.append(reinterpret_cast<const char*>(&a.cost), sizeof a.cost);
    }
    return out;
  };
  const Hierarchy& x = *g.hierarchy;
  const Hierarchy& y = *renamed.hierarchy;
  EXPECT_EQ(x.rank, y.rank);
  EXPECT_EQ(x.up_first, y.up_first);
  EXPECT_EQ(x.down_first, y.down_first);
  EXPECT_GT(x.up.size(), g.arcs.size() / 2);
  EXPECT_TRUE(arcs(x.up) == arcs(y.up));
  EXPECT_TRUE(arcs(x.down) == arcs(y.down));

  // One edge climbing more: its arcs cost more, the bytes differ.
  const uint64_t steeper = edges[edges.size() / 2].id;
  TrailGraph climbs = rebuild([&](TrailEdge& e) {
    if (e.id == steeper) e.ascent_m += 100;
  });
  EXPECT_NE(bytes_of(climbs, &unused), base);
}

// GraphParse::kContraction reads what contraction reads and the hierarchy, and nothing else:
// the same ContractionInput and hierarchy lists as a full parse, no shapes, names, routes or
// ranks; a damaged file is refused all the same.
TEST(Hierarchy, AContractionParseReadsWhatContractionNeeds) {
  TrailGraph g = GridWithParallels(9, 8, 5);
  g.hierarchy = std::make_shared<const Hierarchy>(BuildHierarchy(g));
  const std::string bytes = g.Serialize();
  auto input = [](const TrailGraph& graph) {
    std::string all;
    ContractionInput(graph, [&](std::string_view piece) { all.append(piece); });
    return all;
  };
  Result<TrailGraph> part = TrailGraph::Parse(bytes, nullptr, GraphParse::kContraction);
  ASSERT_TRUE(part.ok()) << part.status().message();
  EXPECT_EQ(input(*part), input(g));
  ASSERT_TRUE(part->hierarchy);
  EXPECT_EQ(part->hierarchy->rank, g.hierarchy->rank);
  EXPECT_EQ(part->hierarchy->up_first, g.hierarchy->up_first);
  EXPECT_EQ(part->hierarchy->up.size(), g.hierarchy->up.size());
  EXPECT_EQ(part->hierarchy->down.size(), g.hierarchy->down.size());
  EXPECT_TRUE(part->hierarchy->by_rank.node.empty());
  EXPECT_TRUE(part->shape.empty() && part->strings.empty() && part->routes.empty() &&
              part->edge_way.empty());
  EXPECT_FALSE(g.shape.empty() || g.strings.empty());
  // Kept in a new graph, it is written as the one it came from.
  TrailGraph full = *TrailGraph::Parse(bytes);
  full.hierarchy = part->hierarchy;
  EXPECT_EQ(full.Serialize(), bytes);
  // Damage is found in the sections it steps over too.
  EXPECT_FALSE(
      TrailGraph::Parse(bytes.substr(0, bytes.size() / 2), nullptr, GraphParse::kContraction).ok());
  std::string bad_arc = bytes;
  const size_t arcs_at = 16 + 8 + 8 * g.nodes() + 8 + 4 * (g.nodes() + 1) + 8;
  bad_arc[arcs_at] = '\xff', bad_arc[arcs_at + 1] = '\xff', bad_arc[arcs_at + 2] = '\xff';
  bad_arc[arcs_at + 3] = '\x7f';  // the first arc's head far beyond the nodes
  Result<TrailGraph> refused = TrailGraph::Parse(bad_arc, nullptr, GraphParse::kContraction);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("arc 0 out of range"), std::string::npos)
      << refused.status().message();
}

// A parse for an inherited order reads the nodes' positions, the edges and their ways, and the
// ranks, nothing else, and refuses ranks that are not a permutation of the nodes, or a
// truncated file.
TEST(Hierarchy, AnOrderParseReadsPositionsAndRanks) {
  TrailGraph g = GridWithParallels(9, 8, 5);
  g.hierarchy = std::make_shared<const Hierarchy>(BuildHierarchy(g));
  const std::string bytes = g.Serialize();
  Result<TrailGraph> part = TrailGraph::Parse(bytes, nullptr, GraphParse::kOrder);
  ASSERT_TRUE(part.ok()) << part.status().message();
  EXPECT_EQ(part->node_point, g.node_point);
  ASSERT_TRUE(part->hierarchy);
  EXPECT_EQ(part->hierarchy->rank, g.hierarchy->rank);
  EXPECT_EQ(part->edge_way, g.edge_way);
  ASSERT_EQ(part->edges.size(), g.edges.size());
  EXPECT_EQ(part->edges[3].to, g.edges[3].to);
  EXPECT_TRUE(part->arcs.empty() && part->first_arc.empty() && part->shape.empty() &&
              part->hierarchy->up.empty() && part->hierarchy->down.empty());
  size_t matched = 0;
  EXPECT_EQ(InheritedOrder(g, *part, &matched), InheritedOrder(g, g));
  EXPECT_EQ(matched, g.nodes());
  EXPECT_FALSE(
      TrailGraph::Parse(bytes.substr(0, bytes.size() - 3), nullptr, GraphParse::kOrder).ok());
  // Two nodes of one rank.
  Hierarchy h = *g.hierarchy;
  h.rank[1] = h.rank[0];
  TrailGraph bad = g;
  bad.hierarchy = std::make_shared<const Hierarchy>(h);
  Result<TrailGraph> refused = TrailGraph::Parse(bad.Serialize(), nullptr, GraphParse::kOrder);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("hierarchy rank " + std::to_string(h.rank[0]) +
                                            " repeated or out of range"),
            std::string::npos)
      << refused.status().message();
}

// An import writes the network, keeps only what contraction reads, contracts, then writes the
// hierarchy: the two parts are SerializeTo's bytes, and the trimmed graph gives the same
// ContractionInput, the same hierarchy and the same hierarchy bytes as the whole one.
TEST(Hierarchy, ContractingAGraphKeptOnlyForContractionGivesTheSameFile) {
  TrailGraph whole = GridWithParallels(12, 10, 3);
  ASSERT_FALSE(whole.shape.empty() || whole.strings.size() < 2 || whole.edge_way.empty());
  auto input = [](const TrailGraph& graph) {
    std::string all;
    ContractionInput(graph, [&](std::string_view piece) { all.append(piece); });
    return all;
  };
  TrailGraph trimmed = whole;
  std::string network;
  trimmed.SerializeNetworkTo([&](std::string_view piece) { network.append(piece); });
  trimmed.KeepOnlyWhatContractionReads();
  EXPECT_TRUE(trimmed.shape.empty() && trimmed.shape_elevation.empty() && trimmed.strings.empty() &&
              trimmed.routes.empty() && trimmed.edge_way.empty() && trimmed.route_first.empty());
  EXPECT_EQ(trimmed.nodes(), whole.nodes());
  EXPECT_EQ(input(trimmed), input(whole));
  HierarchyStats whole_stats, trimmed_stats;
  whole.hierarchy = std::make_shared<const Hierarchy>(BuildHierarchy(whole, {}, &whole_stats));
  trimmed.hierarchy =
      std::make_shared<const Hierarchy>(BuildHierarchy(trimmed, {}, &trimmed_stats));
  EXPECT_EQ(trimmed_stats.shortcuts, whole_stats.shortcuts);
  EXPECT_EQ(trimmed.hierarchy->rank, whole.hierarchy->rank);
  std::string hierarchy;
  trimmed.SerializeHierarchyTo([&](std::string_view piece) { hierarchy.append(piece); });
  const std::string bytes = whole.Serialize();
  EXPECT_EQ(network + hierarchy, bytes);
  Result<TrailGraph> back = TrailGraph::Parse(network + hierarchy);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->shape.size(), whole.shape.size());
}

// The contraction's time left, against a measured run: the import of the generated 10^8-node
// map (2026-12-07, bench/README), whose progress lines gave nodes contracted and seconds at
// each step; the hierarchy was done at 676.3 s. Past half-way the estimate from each step's
// rate must be within half and one and a half times what was left (elapsed * left / done
// said a tenth of it).
TEST(Hierarchy, TheTimeLeftFollowsAMeasuredContraction) {
  const size_t total = 5'266'991;
  const double done_at_s = 676.3;
  const std::vector<std::pair<double, double>> steps = {
      // millions of nodes, seconds
      {2.36, 59.7},  {2.62, 67.0},  {2.75, 72.6},  {2.88, 77.7},  {3.01, 82.9},  {3.15, 91.8},
      {3.28, 100.7}, {3.41, 109.5}, {3.54, 118.2}, {3.60, 123.8}, {3.67, 129.4}, {3.74, 134.7},
      {3.80, 140.4}, {3.87, 147.7}, {3.93, 155.1}, {4.00, 162.3}, {4.06, 169.8}, {4.13, 177.7},
      {4.19, 186.7}, {4.26, 196.4}, {4.33, 207.7}, {4.39, 218.6}, {4.46, 232.6}, {4.52, 246.8},
      {4.59, 262.6}, {4.65, 280.5}, {4.72, 300.9}, {4.78, 324.5}, {4.85, 352.5}, {4.92, 386.7},
      {4.98, 430.5}, {5.05, 488.9}, {5.11, 574.3}};
  for (size_t i = 1; i < steps.size(); ++i) {
    const auto done = static_cast<size_t>(steps[i].first * 1e6);
    const auto step = static_cast<size_t>((steps[i].first - steps[i - 1].first) * 1e6);
    const double left =
        ContractionSecondsLeft(done, total, step, steps[i].second - steps[i - 1].second);
    const double actual = done_at_s - steps[i].second;
    EXPECT_GT(left, 0.5 * actual) << steps[i].first << " M nodes";
    EXPECT_LT(left, 1.5 * actual) << steps[i].first << " M nodes";
  }
  EXPECT_EQ(ContractionSecondsLeft(total, total, 100, 1.0), 0.0);
  EXPECT_TRUE(std::isnan(ContractionSecondsLeft(10, total, 0, 1.0)));
  EXPECT_TRUE(std::isnan(ContractionSecondsLeft(10, total, 10, 0.0)));
  // At one rate: fewer nodes left, less time; inside the core's share, at that rate.
  EXPECT_GT(ContractionSecondsLeft(total / 2, total, 1000, 1.0),
            ContractionSecondsLeft(total * 3 / 4, total, 1000, 1.0));
  EXPECT_DOUBLE_EQ(ContractionSecondsLeft(total - 1000, total, 500, 1.0), 2.0);
}

TEST(Hierarchy, SerializesAndRejectsCorruption) {
  TrailGraph g = GridWithParallels(9, 8, 5);
  g.hierarchy = std::make_shared<const Hierarchy>(BuildHierarchy(g));
  const std::string bytes = g.Serialize();
  Result<TrailGraph> back = TrailGraph::Parse(bytes);
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_TRUE(back->hierarchy);
  EXPECT_EQ(back->Serialize(), bytes);
  std::mt19937_64 rng(3);
  for (int i = 0; i < 200; ++i) {
    const Snap s = RandomSnap(g, rng);
    const Snap t = RandomSnap(g, rng);
    Result<Path> a = ShortestPath(g, s, t, {});
    Result<Path> b = ShortestPath(*back, s, t, {});
    ASSERT_EQ(a.ok(), b.ok()) << i;
    if (a.ok()) {
      EXPECT_EQ(a->cost, b->cost) << i;
    }
  }
  // A version 2 file (no hierarchy section) is still read, and routed by A*.
  TrailGraph plain = *back;
  plain.hierarchy.reset();
  std::string v2 = plain.Serialize();
  v2.resize(v2.size() - 4);  // the version 3 hierarchy flag
  v2[8] = 2;
  Result<TrailGraph> old = TrailGraph::Parse(v2);
  ASSERT_TRUE(old.ok()) << old.status().message();
  EXPECT_FALSE(old->hierarchy);
  // Truncations inside the hierarchy are refused.
  for (size_t cut : {size_t{1}, size_t{17}, bytes.size() - plain.Serialize().size()}) {
    EXPECT_FALSE(TrailGraph::Parse(std::string_view(bytes).substr(0, bytes.size() - cut)).ok())
        << cut;
  }
  auto refused = [&](const std::function<void(Hierarchy&)>& corrupt, const std::string& says) {
    TrailGraph bad = *back;
    Hierarchy h = *back->hierarchy;
    corrupt(h);
    bad.hierarchy = std::make_shared<const Hierarchy>(std::move(h));
    Result<TrailGraph> r = TrailGraph::Parse(bad.Serialize());
    ASSERT_FALSE(r.ok()) << says;
    EXPECT_NE(r.status().message().find(says), std::string::npos) << r.status().message();
  };
  refused([](Hierarchy& h) { h.rank[1] = h.rank[0]; }, "repeated or out of range");
  refused([](Hierarchy& h) { h.up_first.back() += 1; }, "up offsets do not match");
  refused(
      [](Hierarchy& h) {
        for (uint32_t v = 0; v + 1 < h.up_first.size(); ++v) {
          if (h.up_first[v] < h.up_first[v + 1]) {
            h.up[h.up_first[v]].to = v;  // an arc to itself does not go up
            return;
          }
        }
      },
      "does not go up");
  refused([](Hierarchy& h) { h.down[0].cost = -1; }, "bad cost");
  refused(
      [](Hierarchy& h) {
        for (HierarchyArc& a : h.up) {
          if (a.via & Hierarchy::kViaArc) {
            a.via = Hierarchy::kViaArc | 0x7fffffffu;
            return;
          }
        }
      },
      "does not join its nodes");
  refused(
      [](Hierarchy& h) {
        for (uint32_t v = 0; v + 1 < h.up_first.size(); ++v) {
          for (uint32_t i = h.up_first[v]; i < h.up_first[v + 1]; ++i) {
            if (!(h.up[i].via & Hierarchy::kViaArc)) {
              h.up[i].via = h.up[i].to;  // over a node above it
              return;
            }
          }
        }
      },
      "not below it");
}

TEST(Loops, WithinToleranceAndDeterministic) {
  const TrailGraph g = Grid(40, 40, 5);
  std::mt19937_64 rng(1);
  int within = 0, asked = 0;
  double repeated = 0, length = 0;
  for (int i = 0; i < 60; ++i) {
    // Starts away from the border so that a loop fits.
    Snap s = RandomSnap(g, rng);
    const PointE7 p = g.shape[g.edges[s.edge].shape_first];
    if (p.lat < At(45.02, 0).lat || p.lat > At(45.085, 0).lat || p.lon < At(0, 6.03).lon ||
        p.lon > At(0, 6.12).lon) {
      continue;
    }
    LoopOptions o;
    o.distance_m = 3000 + 1000 * (i % 6);
    o.seed = static_cast<uint64_t>(i);
    Result<std::vector<Loop>> loops = Loops(g, s, o);
    ASSERT_TRUE(loops.ok()) << loops.status().message();
    ASSERT_FALSE(loops->empty());
    ++asked;
    const Loop& best = loops->front();
    within += best.within_tolerance;
    EXPECT_EQ(best.within_tolerance,
              std::abs(best.path.distance_m - o.distance_m) <= 0.05 * o.distance_m);
    repeated += best.repeated_m;
    length += best.path.distance_m;
    // A loop: its line ends where it starts.
    std::vector<PointE7> pts;
    PathGeometry(g, best.path, &pts, nullptr);
    EXPECT_LT(SegmentDistanceM(pts.front().lat * 1e-7, pts.front().lon * 1e-7,
                               pts.back().lat * 1e-7, pts.back().lon * 1e-7),
              1.0);
    if (i == 0) {
      Result<std::vector<Loop>> again = Loops(g, s, o);
      ASSERT_TRUE(again.ok());
      ASSERT_EQ(again->size(), loops->size());
      EXPECT_EQ(again->front().path.distance_m, best.path.distance_m);
      o.seed = 12345;
      Result<std::vector<Loop>> other = Loops(g, s, o);
      ASSERT_TRUE(other.ok());
    }
  }
  ASSERT_GT(asked, 20);
  EXPECT_GE(within, asked * 95 / 100) << within << " of " << asked;
  EXPECT_LT(repeated / length, 0.15);
}

TEST(Loops, BadLengthsAndTinyNetworks) {
  GraphBuilder b;
  b.AddEdge(Line(1, 1, 2, At(45.0, 6.0), At(45.0, 6.002)));
  const TrailGraph g = std::move(b).Build();
  const Snap s = *g.Nearest(At(45.0, 6.001), 10);
  LoopOptions o;
  o.distance_m = 50;
  EXPECT_EQ(Loops(g, s, o).status().code(), StatusCode::kInvalidArgument);
  o.distance_m = 10000;
  Result<std::vector<Loop>> r = Loops(g, s, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("reaches only"), std::string::npos);
}

// Route coverage and segment efforts from a match: a stretch walked twice counts once, routes
// come in the order the walk reached them, an effort needs min_share of the route in one
// piece.
TEST(Match, RoutesWalkedAndEfforts) {
  GraphBuilder b;
  const PointE7 p1 = At(45.0, 6.0), p2 = At(45.0, 6.01), p3 = At(45.0, 6.02), p4 = At(45.0, 6.03);
  b.AddEdge(Line(11, 1, 2, p1, p2));
  b.AddEdge(Line(12, 2, 3, p2, p3));
  b.AddEdge(Line(13, 3, 4, p3, p4));
  Route a;
  a.summary.id = 100;
  a.name = "A";
  a.member_ways = {11, 12};
  Route r2;
  r2.summary.id = 200;
  r2.name = "B";
  r2.member_ways = {13};
  b.AddRoute(a);
  b.AddRoute(r2);
  const TrailGraph g = std::move(b).Build();
  auto edge_of = [&](uint64_t way) {
    for (uint32_t e = 0; e < g.edge_count(); ++e) {
      if (g.edge_way[e] == way) return e;
    }
    return UINT32_MAX;
  };
  const uint32_t e11 = edge_of(11), e12 = edge_of(12), e13 = edge_of(13);
  ASSERT_NE(e13, UINT32_MAX);
  const double l11 = g.edges[e11].length_m, l12 = g.edges[e12].length_m,
               l13 = g.edges[e13].length_m;
  MatchResult m;
  // Along way 12, half way along way 11 and back (the same stretch twice), then a piece
  // later a quarter of way 13.
  m.edges = {{e12, 0, l12, 100, 200, 0},
             {e11, l11, l11 / 2, 200, 250, 0},
             {e11, l11 / 2, l11, 250, 300, 0},
             {e13, 0, l13 / 4, 400, 450, 1}};
  const std::vector<RouteCovered> walked = RoutesWalked(g, m);
  ASSERT_EQ(walked.size(), 2u);
  EXPECT_EQ(g.routes[walked[0].route].id, 100u);
  EXPECT_NEAR(walked[0].covered_m, l12 + l11 / 2, 1e-6);
  EXPECT_NEAR(walked[0].share, (l12 + l11 / 2) / (l11 + l12), 1e-9);
  EXPECT_EQ(walked[0].first_reached_s, 100);
  EXPECT_EQ(g.routes[walked[1].route].id, 200u);
  EXPECT_NEAR(walked[1].covered_m, l13 / 4, 1e-6);
  EXPECT_NEAR(walked[1].share, 0.25, 1e-6);
  EXPECT_EQ(walked[1].first_reached_s, 400);
  // Three quarters of A is no effort at 90 %; at 70 % it is, timed from entry to last exit.
  EXPECT_TRUE(RouteEfforts(g, m).empty());
  const std::vector<RouteEffort> efforts = RouteEfforts(g, m, 0.7);
  ASSERT_EQ(efforts.size(), 1u);
  EXPECT_EQ(g.routes[efforts[0].route].id, 100u);
  EXPECT_NEAR(efforts[0].covered_m, l12 + l11 / 2, 1e-6);
  EXPECT_EQ(efforts[0].start_s, 100);
  EXPECT_EQ(efforts[0].end_s, 300);
}

TEST(Match, FollowsTheWalkAndBreaksOffTheNetwork) {
  const TrailGraph g = Grid(20, 20, 9);
  std::mt19937_64 rng(4);
  FootOptions o;
  Path truth;
  for (;;) {
    Result<Path> p = ShortestPath(g, RandomSnap(g, rng), RandomSnap(g, rng), o);
    if (p.ok() && p->distance_m > 3000) {
      truth = *p;
      break;
    }
  }
  std::vector<PointE7> line;
  PathGeometry(g, truth, &line, nullptr);
  datasets::WalkRecording rec;
  rec.interval_s = 2;
  std::vector<MatchPoint> fixes = datasets::RecordWalk(line, rec);
  Result<MatchResult> m = Match(g, fixes);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->pieces.size(), 1u);
  EXPECT_GT(datasets::RightMetres(truth, *m), 0.97 * truth.distance_m);
  EXPECT_EQ(m->off_network_m, 0);
  // Entry times rise along the walk and lie within the recording.
  for (size_t i = 1; i < m->edges.size(); ++i) {
    EXPECT_GE(m->edges[i].entry_time_s, m->edges[i - 1].entry_time_s - 1e-6);
  }
  EXPECT_GE(m->edges.front().entry_time_s, fixes.front().time_s);
  EXPECT_LE(m->edges.back().exit_time_s, fixes.back().time_s + 1e-6);
  // A stretch far from any trail (a track the map does not have): two pieces around it.
  std::vector<MatchPoint> away = fixes;
  const size_t a = away.size() / 3, b = away.size() / 2;
  for (size_t i = a; i < b; ++i) away[i].p.lat += 1000000;  // 11 km north: off the map
  Result<MatchResult> broken = Match(g, away);
  ASSERT_TRUE(broken.ok());
  ASSERT_EQ(broken->pieces.size(), 2u);
  EXPECT_GT(broken->off_network_m, 0);
  EXPECT_LT(broken->pieces[0].last_point, a);
  EXPECT_GE(broken->pieces[1].first_point, b);
  for (size_t i = a; i < b; ++i) EXPECT_EQ(broken->point_piece[i], -1) << i;
  EXPECT_EQ(broken->point_piece[0], 0);
  EXPECT_EQ(broken->point_piece.back(), 1);
  EXPECT_EQ(Match(g, {fixes[0]}).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace stride::engine::trail
