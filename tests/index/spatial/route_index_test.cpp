// SPDX-License-Identifier: Apache-2.0
//
// The index against a brute-force scan: for thousands of random boxes, points and filters,
// the same ids (and, for nearest, the same order).
#include "index/spatial/route_index.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <tuple>

#include "datasets/synthetic_routes.hpp"

namespace stride::index {
namespace {

using engine::BoxE7;
using engine::PointE7;
using engine::RouteFilter;

class RouteIndexTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    datasets::SyntheticRoutesOptions o;
    o.count = 4000;
    o.min_lat = 45.0, o.max_lat = 47.0, o.min_lon = 6.0, o.max_lon = 10.0;
    routes_ = new datasets::SyntheticRoutes(datasets::MakeSyntheticRoutes(o));
    datasets::SyntheticRoutes copy = *routes_;
    index_ =
        new RouteIndex(RouteIndex::Build(std::move(copy.summaries), std::move(copy.geometries)));
  }
  static void TearDownTestSuite() {
    delete index_;
    delete routes_;
  }

  static RouteFilter RandomFilter(std::mt19937& rng) {
    std::uniform_real_distribution<double> u(0, 1);
    RouteFilter f;
    if (u(rng) < 0.5) f.min_length_m = static_cast<float>(u(rng) * 10000);
    if (u(rng) < 0.5) f.max_length_m = f.min_length_m + static_cast<float>(u(rng) * 20000);
    if (u(rng) < 0.4) f.max_ascent_m = static_cast<float>(u(rng) * 600);
    if (u(rng) < 0.3) f.max_grade = static_cast<float>(u(rng) * 0.2);
    if (u(rng) < 0.3) f.type_mask = engine::TypeBit(static_cast<engine::RouteType>(rng() % 8));
    if (u(rng) < 0.2) f.loop = u(rng) < 0.5;
    if (u(rng) < 0.2) f.max_difficulty = static_cast<uint8_t>(rng() % 4);
    if (u(rng) < 0.2) f.network_mask = (1u << (rng() % 5)) | (1u << (rng() % 5));
    if (u(rng) < 0.2) f.surface_mask = engine::SurfaceBit(static_cast<engine::Surface>(rng() % 4));
    return f;
  }

  static inline datasets::SyntheticRoutes* routes_ = nullptr;
  static inline RouteIndex* index_ = nullptr;
};

TEST_F(RouteIndexTest, BboxEqualsBruteForce) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> lat(44.9, 47.1), lon(5.9, 10.1), size(0.005, 0.5);
  size_t nonempty = 0;
  for (int q = 0; q < 2000; ++q) {
    const double la = lat(rng), lo = lon(rng), s = size(rng);
    BoxE7 box;
    box.Extend(PointE7{static_cast<int32_t>(la * 1e7), static_cast<int32_t>(lo * 1e7)});
    box.Extend(
        PointE7{static_cast<int32_t>((la + s) * 1e7), static_cast<int32_t>((lo + s * 1.4) * 1e7)});
    const RouteFilter f = RandomFilter(rng);
    std::vector<uint64_t> want;
    for (size_t i = 0; i < routes_->summaries.size(); ++i) {
      if (f.Matches(routes_->summaries[i]) &&
          engine::GeometryIntersectsBox(routes_->geometries[i], box)) {
        want.push_back(routes_->summaries[i].id);
      }
    }
    std::vector<uint64_t> got;
    for (const auto& h : index_->Bbox(box, f, RouteIndex::SortKey::kLength, 1'000'000))
      got.push_back(h.id);
    std::sort(want.begin(), want.end());
    std::sort(got.begin(), got.end());
    ASSERT_EQ(got, want) << "query " << q;
    nonempty += want.empty() ? 0 : 1;
  }
  EXPECT_GT(nonempty, 800u);  // the queries do find routes
}

TEST_F(RouteIndexTest, NearestEqualsBruteForceInOrder) {
  std::mt19937 rng(2);
  std::uniform_real_distribution<double> lat(44.8, 47.2), lon(5.8, 10.2);
  for (int q = 0; q < 1500; ++q) {
    const PointE7 p{static_cast<int32_t>(lat(rng) * 1e7), static_cast<int32_t>(lon(rng) * 1e7)};
    const RouteFilter f = RandomFilter(rng);
    const size_t k = 1 + rng() % 20;
    const double max_d = (q % 3 == 0) ? 5000.0 : 1e9;
    const engine::QueryPlane plane(p);
    std::vector<std::pair<double, uint64_t>> all;
    for (size_t i = 0; i < routes_->summaries.size(); ++i) {
      if (!f.Matches(routes_->summaries[i])) continue;
      const double d = plane.DistanceToGeometry(routes_->geometries[i]);
      if (d <= max_d) all.push_back({d, routes_->summaries[i].id});
    }
    std::sort(all.begin(), all.end());
    if (all.size() > k) all.resize(k);
    const auto hits = index_->Nearest(p, k, max_d, f);
    ASSERT_EQ(hits.size(), all.size()) << "query " << q;
    for (size_t j = 0; j < hits.size(); ++j) {
      ASSERT_EQ(hits[j].id, all[j].second) << "query " << q << " rank " << j;
      ASSERT_DOUBLE_EQ(hits[j].distance_m, all[j].first);
    }
  }
}

TEST_F(RouteIndexTest, CursorPagesAddUpToOneQuery) {
  BoxE7 box;
  box.Extend(PointE7{static_cast<int32_t>(45.5e7), static_cast<int32_t>(7.0e7)});
  box.Extend(PointE7{static_cast<int32_t>(46.5e7), static_cast<int32_t>(9.0e7)});
  const RouteFilter f;
  for (auto key : {RouteIndex::SortKey::kDistance, RouteIndex::SortKey::kLength,
                   RouteIndex::SortKey::kAscent}) {
    const auto all = index_->Bbox(box, f, key, 1'000'000);
    ASSERT_GT(all.size(), 200u);
    std::vector<uint64_t> paged;
    RouteIndex::Cursor cursor;
    const RouteIndex::Cursor* after = nullptr;
    while (true) {
      const auto page = index_->Bbox(box, f, key, 50, after);
      if (page.empty()) break;
      for (const auto& h : page) paged.push_back(h.id);
      cursor = {page.back().key, page.back().id};
      after = &cursor;
    }
    std::vector<uint64_t> want;
    for (const auto& h : all) want.push_back(h.id);
    EXPECT_EQ(paged, want);
  }
  // Nearest pages too.
  const PointE7 p{static_cast<int32_t>(46.0e7), static_cast<int32_t>(8.0e7)};
  const auto top = index_->Nearest(p, 60, 1e9, f);
  const auto first = index_->Nearest(p, 30, 1e9, f);
  const RouteIndex::Cursor c{first.back().key, first.back().id};
  const auto second = index_->Nearest(p, 30, 1e9, f, &c);
  ASSERT_EQ(first.size() + second.size(), top.size());
  for (size_t j = 0; j < 30; ++j) EXPECT_EQ(second[j].id, top[30 + j].id);
}

TEST_F(RouteIndexTest, FiltersPruneWholeSubtrees) {
  // A filter nothing matches must not need to look at a single route.
  RouteFilter f;
  f.min_length_m = 1e9;
  BoxE7 world;
  world.Extend(PointE7{static_cast<int32_t>(-90e7), static_cast<int32_t>(-180e7)});
  world.Extend(PointE7{static_cast<int32_t>(90e7), static_cast<int32_t>(180e7)});
  EXPECT_TRUE(index_->Bbox(world, f, RouteIndex::SortKey::kLength, 10).empty());
  EXPECT_TRUE(index_->Nearest({460000000, 80000000}, 10, 1e9, f).empty());
  EXPECT_GT(index_->node_count(), index_->size() / 16);
}

}  // namespace
}  // namespace stride::index
