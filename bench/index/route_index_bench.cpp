// SPDX-License-Identifier: Apache-2.0
//
// The route index at scale: 10^6 synthetic routes over 36-60 N, 10 W-30 E (datasets/
// synthetic_routes), against Boost.Geometry's R-tree (packed build) doing the same work: the
// same filters, the same exact-geometry answers.
//   BM_Build*            build time; tree bytes as a counter
//   BM_Bbox*             a 10 x 10 km map view, 50 results sorted by length
//   BM_Nearest*          k = 10 with "5-12 km, under 300 m of climb"
// Per-query latency percentiles are reported as counters (p50_us, p99_us).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <boost/geometry.hpp>
#include <boost/geometry/geometries/box.hpp>
#include <boost/geometry/geometries/point.hpp>
#include <boost/geometry/index/rtree.hpp>
#include <chrono>
#include <cmath>
#include <memory>
#include <random>
#include <utility>
#include <vector>

#include "datasets/synthetic_routes.hpp"
#include "index/spatial/route_index.hpp"

namespace {

using namespace stride;
namespace bg = boost::geometry;
namespace bgi = boost::geometry::index;
using BPoint = bg::model::point<double, 2, bg::cs::cartesian>;  // (lon e7, lat e7)
using BBox = bg::model::box<BPoint>;
using BValue = std::pair<BBox, uint32_t>;
using BTree = bgi::rtree<BValue, bgi::rstar<16>>;

constexpr size_t kRoutes = 1'000'000;

const datasets::SyntheticRoutes& Routes() {
  static const datasets::SyntheticRoutes routes = [] {
    datasets::SyntheticRoutesOptions o;
    o.count = kRoutes;
    o.min_lat = 36, o.max_lat = 60, o.min_lon = -10, o.max_lon = 30;
    return datasets::MakeSyntheticRoutes(o);
  }();
  return routes;
}

const index::RouteIndex& Index() {
  static const index::RouteIndex idx = [] {
    datasets::SyntheticRoutes copy = Routes();
    return index::RouteIndex::Build(std::move(copy.summaries), std::move(copy.geometries));
  }();
  return idx;
}

BBox ToBoost(const engine::BoxE7& b) {
  return BBox(BPoint(b.min_lon, b.min_lat), BPoint(b.max_lon, b.max_lat));
}

const BTree& Boost() {
  static const BTree tree = [] {
    std::vector<BValue> v;
    const auto& r = Routes();
    for (uint32_t i = 0; i < r.summaries.size(); ++i)
      v.push_back({ToBoost(r.summaries[i].bbox), i});
    return BTree(v.begin(), v.end());  // packing constructor
  }();
  return tree;
}

// Query points where routes are: the starts of random routes, shifted a little.
std::vector<engine::PointE7> QueryPoints(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<engine::PointE7> out;
  const auto& r = Routes();
  for (size_t i = 0; i < n; ++i) {
    engine::PointE7 p = r.summaries[rng() % r.summaries.size()].start;
    p.lat += static_cast<int32_t>(rng() % 200000) - 100000;  // +-1 km
    p.lon += static_cast<int32_t>(rng() % 200000) - 100000;
    out.push_back(p);
  }
  return out;
}

engine::BoxE7 MapView(engine::PointE7 c) {  // about 10 x 10 km
  engine::BoxE7 b;
  b.Extend(engine::PointE7{c.lat - 450000, c.lon - 650000});
  b.Extend(engine::PointE7{c.lat + 450000, c.lon + 650000});
  return b;
}

engine::RouteFilter TypicalFilter() {
  engine::RouteFilter f;
  f.min_length_m = 5000;
  f.max_length_m = 12000;
  f.max_ascent_m = 300;
  return f;
}

template <typename Query>
void Latencies(benchmark::State& state, Query query) {
  const std::vector<engine::PointE7> points = QueryPoints(20000, 7);
  std::vector<double> us;
  us.reserve(points.size());
  size_t i = 0, results = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    results += query(points[i % points.size()]);
    us.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    ++i;
  }
  std::sort(us.begin(), us.end());
  state.counters["p50_us"] = us[us.size() / 2];
  state.counters["p99_us"] = us[us.size() * 99 / 100];
  state.counters["results_per_query"] = static_cast<double>(results) / static_cast<double>(i);
  state.SetItemsProcessed(static_cast<int64_t>(i));
}

void BM_BuildStride(benchmark::State& state) {
  const auto& r = Routes();
  for (auto _ : state) {
    state.PauseTiming();
    datasets::SyntheticRoutes copy = r;
    state.ResumeTiming();
    auto idx = index::RouteIndex::Build(std::move(copy.summaries), std::move(copy.geometries));
    state.counters["tree_MB"] = static_cast<double>(idx.tree_bytes()) / 1e6;
    benchmark::DoNotOptimize(idx.size());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * r.summaries.size()));
}
BENCHMARK(BM_BuildStride)->Unit(benchmark::kMillisecond)->Iterations(2);

void BM_BuildBoost(benchmark::State& state) {
  const auto& r = Routes();
  std::vector<BValue> v;
  for (uint32_t i = 0; i < r.summaries.size(); ++i) v.push_back({ToBoost(r.summaries[i].bbox), i});
  for (auto _ : state) {
    BTree tree(v.begin(), v.end());
    benchmark::DoNotOptimize(tree.size());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * r.summaries.size()));
}
BENCHMARK(BM_BuildBoost)->Unit(benchmark::kMillisecond)->Iterations(2);

void BM_BboxStride(benchmark::State& state) {
  const auto& idx = Index();
  const engine::RouteFilter f = state.range(0) ? TypicalFilter() : engine::RouteFilter{};
  Latencies(state, [&](engine::PointE7 p) {
    return idx.Bbox(MapView(p), f, index::RouteIndex::SortKey::kLength, 50).size();
  });
}
BENCHMARK(BM_BboxStride)->Arg(0)->Arg(1)->Iterations(20000);

void BM_BboxBoost(benchmark::State& state) {
  const auto& r = Routes();
  const auto& tree = Boost();
  const engine::RouteFilter f = state.range(0) ? TypicalFilter() : engine::RouteFilter{};
  std::vector<BValue> found;
  Latencies(state, [&](engine::PointE7 p) {
    const engine::BoxE7 view = MapView(p);
    found.clear();
    tree.query(bgi::intersects(ToBoost(view)) && bgi::satisfies([&](const BValue& v) {
                 return f.Matches(r.summaries[v.second]);
               }),
               std::back_inserter(found));
    std::vector<std::pair<float, uint64_t>> hits;
    for (const auto& v : found) {
      if (engine::GeometryIntersectsBox(r.geometries[v.second], view)) {
        hits.push_back({r.summaries[v.second].length_m, r.summaries[v.second].id});
      }
    }
    const size_t n = std::min<size_t>(50, hits.size());
    std::partial_sort(hits.begin(), hits.begin() + static_cast<long>(n), hits.end());
    return n;
  });
}
BENCHMARK(BM_BboxBoost)->Arg(0)->Arg(1)->Iterations(20000);

void BM_NearestStride(benchmark::State& state) {
  const auto& idx = Index();
  const engine::RouteFilter f = state.range(0) ? TypicalFilter() : engine::RouteFilter{};
  Latencies(state, [&](engine::PointE7 p) { return idx.Nearest(p, 10, 1e9, f).size(); });
}
BENCHMARK(BM_NearestStride)->Arg(0)->Arg(1)->Iterations(20000);

// Boost: the k' nearest boxes (k' = 32, doubling), refined by exact geometry distance; done
// when the farthest box fetched is farther than the 10th best route (the standard way to get
// exact k-NN from a box tree).
void BM_NearestBoost(benchmark::State& state) {
  const auto& r = Routes();
  const auto& tree = Boost();
  const engine::RouteFilter f = state.range(0) ? TypicalFilter() : engine::RouteFilter{};
  std::vector<BValue> found;
  Latencies(state, [&](engine::PointE7 p) {
    const engine::QueryPlane plane(p);
    std::vector<std::pair<double, uint64_t>> best;
    for (unsigned kk = 32;; kk *= 2) {
      found.clear();
      tree.query(bgi::nearest(BPoint(p.lon, p.lat), kk) && bgi::satisfies([&](const BValue& v) {
                   return f.Matches(r.summaries[v.second]);
                 }),
                 std::back_inserter(found));
      best.clear();
      double farthest_box = 0;
      for (const auto& v : found) {
        farthest_box = std::max(farthest_box, plane.DistanceToBox(r.summaries[v.second].bbox));
        best.push_back(
            {plane.DistanceToGeometry(r.geometries[v.second]), r.summaries[v.second].id});
      }
      std::sort(best.begin(), best.end());
      if (best.size() > 10) best.resize(10);
      if (found.size() < kk || (best.size() == 10 && best.back().first <= farthest_box)) break;
    }
    return best.size();
  });
}
BENCHMARK(BM_NearestBoost)->Arg(0)->Arg(1)->Iterations(20000);

}  // namespace

BENCHMARK_MAIN();
