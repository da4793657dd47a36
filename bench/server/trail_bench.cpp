// SPDX-License-Identifier: Apache-2.0
//
// Foot routing over a route database's trail graph: graph load, directions and loops
// in-process (and over HTTP with --url), with the figures issue 16 asks for: directions
// p50/p99, loops p50/p99, the share of loops within +-5 % of the asked length, their median
// self-overlap and share on paths. Starts and pairs are drawn on the largest connected part
// of the network (a start on a car park's isolated footway has no loop to offer).
//
//   trail_bench --db DIR [--pairs 1000] [--starts 1000] [--seed 1] [--url http://127.0.0.1:P]
//               [--rebuild-hierarchy 1 [--core-mean-degree D] [--threads N] [--inherit-order 1]]
//               [--astar 0]
//
// --rebuild-hierarchy also says whether the hierarchy built is byte for byte the one the
// database holds (it is when the options are the import's: a check that a faster contraction
// still builds the same hierarchy).
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "bench/server/bench_util.hpp"
#include "datasets/synthetic_walk.hpp"
#include "engine/geo/geodesy.hpp"
#include "engine/sha256.hpp"
#include "engine/trail/hierarchy.hpp"
#include "engine/trail/match.hpp"
#include "engine/trail/router.hpp"
#include "index/store/route_snapshot.hpp"

namespace {

using namespace stride;
using engine::trail::Snap;
using engine::trail::TrailGraph;

Snap Draw(const TrailGraph& g, const std::vector<uint32_t>& edges, std::mt19937_64& rng) {
  std::uniform_int_distribution<size_t> pick(0, edges.size() - 1);
  std::uniform_real_distribution<double> u(0, 1);
  Snap s;
  s.edge = edges[pick(rng)];
  s.offset_m = u(rng) * g.edges[s.edge].length_m;
  s.point = g.PointAt(s.edge, s.offset_m);
  return s;
}

std::string LatLon(engine::PointE7 p) {
  char b[64];
  std::snprintf(b, sizeof b, "%.7f,%.7f", p.lat * 1e-7, p.lon * 1e-7);
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string db = bench::Arg(argc, argv, "--db");
  if (db.empty()) {
    std::fprintf(stderr,
                 "usage: trail_bench --db DIR [--pairs N] [--starts N] [--seed S] [--url U]\n");
    return 2;
  }
  const int pairs = std::stoi(bench::Arg(argc, argv, "--pairs", "1000"));
  const int starts = std::stoi(bench::Arg(argc, argv, "--starts", "1000"));
  const uint64_t seed = std::stoull(bench::Arg(argc, argv, "--seed", "1"));
  const std::string url = bench::Arg(argc, argv, "--url");
  double t0 = bench::SteadySeconds();
  Result<std::shared_ptr<const index::RouteSnapshot>> snap = index::LoadRouteSnapshot(db);
  if (!snap.ok() || !(*snap)->graph) {
    std::fprintf(stderr, "trail_bench: %s\n",
                 snap.ok() ? "no trail graph in this database" : snap.status().message().c_str());
    return 1;
  }
  const TrailGraph* loaded = (*snap)->graph.get();
  // --rebuild-hierarchy: time the contraction on this graph (as stride import does) and
  // use the new hierarchy below.
  TrailGraph rebuilt;
  if (!bench::Arg(argc, argv, "--rebuild-hierarchy").empty()) {
    rebuilt = *loaded;
    engine::trail::HierarchyStats hs;
    engine::trail::HierarchyOptions ho;
    const std::string core = bench::Arg(argc, argv, "--core-mean-degree");
    if (!core.empty()) ho.core_mean_degree = std::stod(core);
    const std::string threads = bench::Arg(argc, argv, "--threads");
    if (!threads.empty()) ho.threads = std::stoi(threads);
    // --inherit-order 1: contract in the order of the database's hierarchy (as an update whose
    // network changed does), not by priority: the contraction alone, without the estimates.
    if (!bench::Arg(argc, argv, "--inherit-order").empty() && loaded->hierarchy) {
      size_t matched = 0;
      ho.order = engine::trail::InheritedOrder(rebuilt, *loaded, &matched);
      std::printf("order inherited from the database's hierarchy: %zu of %zu nodes matched\n",
                  matched, rebuilt.nodes());
    }
    rebuilt.hierarchy = std::make_shared<const engine::trail::Hierarchy>(
        engine::trail::BuildHierarchy(rebuilt, ho, &hs));
    // Digests, not copies: at 10^8 nodes the hierarchy's bytes are GBs.
    auto hierarchy_digest = [](const TrailGraph& graph) {
      engine::Sha256Stream digest;
      graph.SerializeHierarchyTo([&](std::string_view b) { digest.Update(b); });
      return digest.Finish();
    };
    const bool same = hierarchy_digest(rebuilt) == hierarchy_digest(*loaded);
    std::printf(
        "hierarchy rebuilt: %zu shortcuts in %.1f s on %d thread(s) (max degree %zu), core %zu "
        "nodes; %s\n",
        hs.shortcuts, hs.seconds, ho.threads, hs.max_degree, hs.core,
        same ? "the same as the database's" : "not the database's");
    std::fflush(stdout);
    loaded = &rebuilt;
  }
  const TrailGraph& g = *loaded;
  const std::vector<uint32_t> main_edges = g.LargestComponentEdges();
  std::printf(
      "graph: %zu nodes, %zu edges (largest connected part %zu edges); snapshot load %.2f s\n",
      g.nodes(), g.edge_count(), main_edges.size(), bench::SteadySeconds() - t0);

  std::mt19937_64 rng(seed);
  // Directions with the default options (the contraction hierarchy when the import built
  // one), then the same pairs by A* (a copy of the graph without it): both costs must agree.
  std::vector<Snap> from, to;
  for (int i = 0; i < pairs; ++i) {
    from.push_back(Draw(g, main_edges, rng));
    to.push_back(Draw(g, main_edges, rng));
  }
  // --astar 0 skips the A* comparison and the copy of the graph it needs (10 GB at 10^8 nodes).
  const bool astar = bench::Arg(argc, argv, "--astar", "1") != "0";
  TrailGraph plain;
  if (astar) {
    plain = g;
    plain.hierarchy.reset();
  }
  std::vector<double> costs(static_cast<size_t>(pairs), -1);
  std::vector<double> settled;
  int disagree = 0;
  for (const TrailGraph* graph : {&g, static_cast<const TrailGraph*>(&plain)}) {
    std::vector<double> dir_ms;
    int found = 0;
    double metres = 0;
    for (int i = 0; i < pairs; ++i) {
      const double t = bench::SteadySeconds();
      Result<engine::trail::Path> p = engine::trail::ShortestPath(*graph, from[i], to[i], {});
      dir_ms.push_back((bench::SteadySeconds() - t) * 1e3);
      if (graph->hierarchy) {
        settled.push_back(static_cast<double>(engine::trail::HierarchySettledLastQuery()));
      }
      if (!p.ok()) continue;
      ++found, metres += p->distance_m;
      double& c = costs[static_cast<size_t>(i)];
      if (c < 0) {
        c = p->cost;
      } else if (std::abs(c - p->cost) > 1e-6 * c) {
        ++disagree;
      }
    }
    std::printf(
        "directions (in-process, %s): %d pairs, %d found, mean %.0f m; p50 %.2f ms, p99 %.2f "
        "ms\n",
        graph->hierarchy ? "contraction hierarchy" : "A*", pairs, found,
        found ? metres / found : 0.0, bench::Percentile(dir_ms, 0.5),
        bench::Percentile(dir_ms, 0.99));
    if (graph->hierarchy) {
      std::printf(
          "  hierarchy: %zu up + %zu down arcs; nodes settled per query p50 %.0f p99 %.0f\n",
          graph->hierarchy->up.size(), graph->hierarchy->down.size(),
          bench::Percentile(settled, 0.5), bench::Percentile(settled, 0.99));
    }
    if (pairs > 200 && !graph->hierarchy && g.hierarchy) {
      std::printf("  hierarchy and A* disagree on %d of %d costs\n", disagree, pairs);
    }
    if (!g.hierarchy || !astar) break;
  }

  const double asks[] = {2000, 5000, 10000, 20000};
  std::vector<double> loop_ms, overlap, path_share;
  int within = 0, answered = 0, out_and_back = 0;
  for (int i = 0; i < starts; ++i) {
    const Snap s = Draw(g, main_edges, rng);
    engine::trail::LoopOptions o;
    o.distance_m = asks[i % 4];
    o.seed = static_cast<uint64_t>(i);
    const double t = bench::SteadySeconds();
    Result<std::vector<engine::trail::Loop>> loops = engine::trail::Loops(g, s, o);
    loop_ms.push_back((bench::SteadySeconds() - t) * 1e3);
    if (!loops.ok() || loops->empty()) {
      if (std::getenv("TRAIL_BENCH_VERBOSE"))
        std::fprintf(stderr, "loop %d (%.0f m): %s\n", i, o.distance_m,
                     loops.status().message().c_str());
      continue;
    }
    ++answered;
    const engine::trail::Loop& l = loops->front();
    if ((!l.within_tolerance || l.out_and_back) && std::getenv("TRAIL_BENCH_VERBOSE"))
      std::fprintf(stderr, "loop %d (%.0f m): best %.0f m (%+.1f %%), %zu found\n", i, o.distance_m,
                   l.path.distance_m, 100 * l.length_error, loops->size());
    within += l.within_tolerance;
    out_and_back += l.out_and_back;
    overlap.push_back(l.repeated_m / l.path.distance_m);
    path_share.push_back(l.path_like_m / l.path.distance_m);
  }
  if (starts > 0) {
    std::printf(
        "loops (in-process): %d starts (2, 5, 10, 20 km), %d answered, %.1f %% within +-5 %% (%.1f "
        "%% of them out-and-back: no loop there); "
        "median self-overlap %.1f %%, median path share %.1f %%; p50 %.1f ms, p99 %.1f ms\n",
        starts, answered, 100.0 * within / std::max(1, starts),
        100.0 * out_and_back / std::max(1, within), 100 * bench::Percentile(overlap, 0.5),
        100 * bench::Percentile(path_share, 0.5), bench::Percentile(loop_ms, 0.5),
        bench::Percentile(loop_ms, 0.99));
  }

  // Map matching: share of true walks matched to the right edges, by sampling and noise, and
  // throughput (fixes matched per second, one core).
  const int walks = std::stoi(bench::Arg(argc, argv, "--walks", "40"));
  struct Row {
    double interval, white, wander, dropout;
  };
  const Row rows[] = {{1, 3, 3, 0}, {1, 5, 5, 0},  {1, 8, 8, 0},   {5, 3, 3, 0},  {5, 5, 5, 0},
                      {5, 8, 8, 0}, {10, 5, 5, 0}, {1, 5, 5, 0.3}, {5, 5, 5, 0.3}};
  if (walks > 0) {
    std::printf("map matching (%d walks of 1.5-8 km per row, 3 m/s):\n", walks);
    std::printf("  interval  white  wander  dropout   right edges   fixes/s\n");
  }
  for (const Row& row : rows) {
    if (walks == 0) break;
    double truth_m = 0, right_m = 0, fixes = 0, secs = 0;
    std::mt19937_64 wrng(seed + 77);
    for (int i = 0; i < walks;) {
      // The walk's end within 5 km of its start (pairs drawn over a country are too far).
      const Snap a = Draw(g, main_edges, wrng);
      const std::vector<Snap> near = g.Within(a.point, 5000, 400);
      if (near.empty()) continue;
      Snap b = near[std::uniform_int_distribution<size_t>(0, near.size() - 1)(wrng)];
      b.offset_m = std::uniform_real_distribution<double>(0, g.edges[b.edge].length_m)(wrng);
      b.point = g.PointAt(b.edge, b.offset_m);
      Result<engine::trail::Path> truth = engine::trail::ShortestPath(g, a, b, {});
      if (!truth.ok() || truth->distance_m < 1500 || truth->distance_m > 8000) continue;
      std::vector<engine::PointE7> line;
      engine::trail::PathGeometry(g, *truth, &line, nullptr);
      datasets::WalkRecording rec;
      rec.interval_s = row.interval;
      rec.white_m = row.white;
      rec.wander_m = row.wander;
      rec.dropout = row.dropout;
      rec.seed = static_cast<uint64_t>(i) + 1;
      const std::vector<engine::trail::MatchPoint> pts = datasets::RecordWalk(line, rec);
      const double t = bench::SteadySeconds();
      Result<engine::trail::MatchResult> m = engine::trail::Match(g, pts);
      secs += bench::SteadySeconds() - t;
      if (!m.ok()) continue;
      fixes += static_cast<double>(pts.size());
      truth_m += truth->distance_m;
      right_m += datasets::RightMetres(*truth, *m);
      ++i;
    }
    std::printf("  %6.0f s  %3.0f m  %4.0f m  %5.0f %%  %10.2f %%  %8.0f\n", row.interval,
                row.white, row.wander, 100 * row.dropout, 100 * right_m / truth_m, fixes / secs);
  }

  if (!url.empty()) {
    // The targets first, then this process lets go of its graphs before any request: with
    // 1.4 GB held by the client on the same 2-core machine, the server's p99 rose by a third.
    std::vector<std::string> any, near, loop_targets;
    auto directions = [](const Snap& a, const Snap& b) {
      return "/v1/directions?from=" + LatLon(a.point) + "&to=" + LatLon(b.point);
    };
    for (int i = 0; i < pairs; ++i) {
      const Snap a = Draw(g, main_edges, rng);
      const Snap b = Draw(g, main_edges, rng);
      any.push_back(directions(a, b));
    }
    // Walking distances: pairs at most 30 km apart as the crow flies.
    for (long tries = 0; static_cast<int>(near.size()) < pairs && tries < 1000L * pairs; ++tries) {
      const Snap a = Draw(g, main_edges, rng);
      const Snap b = Draw(g, main_edges, rng);
      if (engine::SegmentDistanceM(a.point.lat * 1e-7, a.point.lon * 1e-7, b.point.lat * 1e-7,
                                   b.point.lon * 1e-7) <= 30000) {
        near.push_back(directions(a, b));
      }
    }
    for (int i = 0; i < std::min(starts, 400); ++i) {
      const Snap s = Draw(g, main_edges, rng);
      std::string at = LatLon(s.point);
      at.replace(at.find(','), 1, "&lon=");
      loop_targets.push_back("/v1/loops?lat=" + at +
                             "&distance_m=" + std::to_string(static_cast<int>(asks[i % 4])));
    }
    plain = TrailGraph();
    rebuilt = TrailGraph();
    snap = Status::Unavailable("released before the HTTP requests");
    malloc_trim(0);

    // One keep-alive connection, as an app holds it; loopback only.
    bench::LoopbackClient c(std::atoi(url.substr(url.rfind(':') + 1).c_str()));
    auto run = [&](const std::vector<std::string>& targets, const char* what) {
      std::string body;
      std::vector<double> ms;
      int ok = 0;
      for (const std::string& target : targets) {
        const double t = bench::SteadySeconds();
        const int status = c.Get(target, &body);
        ms.push_back((bench::SteadySeconds() - t) * 1e3);
        ok += status == 200;
        if (status != 200 && ok + 5 > static_cast<int>(ms.size())) {
          std::fprintf(stderr, "%s -> %d %s\n", target.c_str(), status, body.c_str());
        }
      }
      std::printf("%s (HTTP, one connection): %zu requests, %d 200; p50 %.2f ms, p99 %.2f ms\n",
                  what, targets.size(), ok, bench::Percentile(ms, 0.5),
                  bench::Percentile(ms, 0.99));
    };
    run(any, "directions, any two points");
    run(near, "directions, points under 30 km apart");
    if (!loop_targets.empty()) run(loop_targets, "loops");
  }
  return 0;
}
