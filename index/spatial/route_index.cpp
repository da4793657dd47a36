// SPDX-License-Identifier: Apache-2.0
#include "index/spatial/route_index.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <queue>
#include <tuple>

namespace stride::index {
namespace {

using engine::BoxE7;
using engine::PointE7;
using engine::RouteFilter;
using engine::RouteSummary;

// Position of (x, y) along a Hilbert curve over a 2^16 x 2^16 grid.
uint64_t Hilbert(uint32_t x, uint32_t y) {
  uint64_t d = 0;
  for (uint32_t s = 1u << 15; s > 0; s >>= 1) {
    const uint32_t rx = (x & s) ? 1 : 0;
    const uint32_t ry = (y & s) ? 1 : 0;
    d += static_cast<uint64_t>(s) * s * ((3 * rx) ^ ry);
    if (ry == 0) {  // rotate the quadrant
      if (rx == 1) {
        x = 0xFFFF - x;
        y = 0xFFFF - y;
      }
      std::swap(x, y);
    }
  }
  return d;
}

uint64_t HilbertOfBox(const BoxE7& b) {
  const double lat = (static_cast<double>(b.min_lat) + b.max_lat) / 2;
  const double lon = (static_cast<double>(b.min_lon) + b.max_lon) / 2;
  const auto x = static_cast<uint32_t>((lon + 1.8e9) / 3.6e9 * 65535.0);
  const auto y = static_cast<uint32_t>((lat + 0.9e9) / 1.8e9 * 65535.0);
  return Hilbert(std::min(x, 65535u), std::min(y, 65535u));
}

}  // namespace

RouteIndex RouteIndex::Build(std::vector<RouteSummary> summaries,
                             std::vector<engine::RouteGeometry> geometries,
                             const RouteIndexOptions& options) {
  RouteIndex idx;
  const size_t n = summaries.size();
  // Hilbert order.
  std::vector<uint64_t> key(n);
  for (size_t i = 0; i < n; ++i) key[i] = HilbertOfBox(summaries[i].bbox);
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::tie(key[a], summaries[a].id) < std::tie(key[b], summaries[b].id);
  });
  idx.summaries_.reserve(n);
  idx.geometries_.reserve(n);
  for (size_t i : order) {
    idx.summaries_.push_back(summaries[i]);
    idx.geometries_.push_back(std::move(geometries[i]));
  }
  if (n == 0) return idx;

  auto empty_node = [] {
    Node node{};
    node.min_length = node.min_ascent = node.min_grade = std::numeric_limits<float>::infinity();
    node.max_length = node.max_ascent = -std::numeric_limits<float>::infinity();
    node.min_difficulty = 255;
    return node;
  };
  // Leaves.
  const size_t leaf = std::max<size_t>(2, options.leaf_size);
  for (size_t first = 0; first < n; first += leaf) {
    Node node = empty_node();
    node.leaf = true;
    node.first = static_cast<uint32_t>(first);
    node.count = static_cast<uint32_t>(std::min(leaf, n - first));
    for (size_t i = first; i < first + node.count; ++i) {
      const RouteSummary& r = idx.summaries_[i];
      node.box.Extend(r.bbox);
      node.min_length = std::min(node.min_length, r.length_m);
      node.max_length = std::max(node.max_length, r.length_m);
      node.min_ascent = std::min(node.min_ascent, r.ascent_m);
      node.max_ascent = std::max(node.max_ascent, r.ascent_m);
      node.min_grade = std::min(node.min_grade, r.max_grade);
      node.type_mask |= engine::TypeBit(r.type);
      node.surface_mask |= engine::SurfaceBit(r.surface);
      node.network_mask |= 1u << r.network;
      node.min_difficulty = std::min(node.min_difficulty, r.difficulty);
      node.has_loop |= r.loop;
      node.has_open |= !r.loop;
    }
    idx.nodes_.push_back(node);
  }
  // Upper levels, until one root.
  const size_t fanout = std::max<size_t>(2, options.fanout);
  size_t level_begin = 0, level_end = idx.nodes_.size();
  while (level_end - level_begin > 1) {
    for (size_t first = level_begin; first < level_end; first += fanout) {
      Node node = empty_node();
      node.leaf = false;
      node.first = static_cast<uint32_t>(first);
      node.count = static_cast<uint32_t>(std::min(fanout, level_end - first));
      for (size_t c = first; c < first + node.count; ++c) {
        const Node& ch = idx.nodes_[c];
        node.box.Extend(ch.box);
        node.min_length = std::min(node.min_length, ch.min_length);
        node.max_length = std::max(node.max_length, ch.max_length);
        node.min_ascent = std::min(node.min_ascent, ch.min_ascent);
        node.max_ascent = std::max(node.max_ascent, ch.max_ascent);
        node.min_grade = std::min(node.min_grade, ch.min_grade);
        node.type_mask |= ch.type_mask;
        node.surface_mask |= ch.surface_mask;
        node.network_mask |= ch.network_mask;
        node.min_difficulty = std::min(node.min_difficulty, ch.min_difficulty);
        node.has_loop |= ch.has_loop;
        node.has_open |= ch.has_open;
      }
      idx.nodes_.push_back(node);
    }
    level_begin = level_end;
    level_end = idx.nodes_.size();
  }
  return idx;
}

size_t RouteIndex::tree_bytes() const {
  return nodes_.size() * sizeof(Node) + summaries_.size() * sizeof(RouteSummary);
}

bool RouteIndex::MayMatch(const Node& n, const RouteFilter& f) const {
  return n.max_length >= f.min_length_m && n.min_length <= f.max_length_m &&
         n.max_ascent >= f.min_ascent_m && n.min_ascent <= f.max_ascent_m &&
         n.min_grade <= f.max_grade && (n.type_mask & f.type_mask) != 0 &&
         (n.surface_mask & f.surface_mask) != 0 && (n.network_mask & f.network_mask) != 0 &&
         n.min_difficulty <= f.max_difficulty && (!f.loop || (*f.loop ? n.has_loop : n.has_open));
}

std::vector<RouteIndex::Hit> RouteIndex::Bbox(const BoxE7& box, const RouteFilter& filter,
                                              SortKey key, size_t limit,
                                              const Cursor* after) const {
  std::vector<Hit> hits;
  if (nodes_.empty() || limit == 0) return hits;
  const PointE7 centre{static_cast<int32_t>((static_cast<int64_t>(box.min_lat) + box.max_lat) / 2),
                       static_cast<int32_t>((static_cast<int64_t>(box.min_lon) + box.max_lon) / 2)};
  const engine::QueryPlane plane(centre);
  std::vector<uint32_t> stack{static_cast<uint32_t>(nodes_.size() - 1)};
  while (!stack.empty()) {
    const Node& node = nodes_[stack.back()];
    stack.pop_back();
    if (!node.box.Intersects(box) || !MayMatch(node, filter)) continue;
    if (!node.leaf) {
      for (uint32_t c = node.first; c < node.first + node.count; ++c) stack.push_back(c);
      continue;
    }
    for (uint32_t i = node.first; i < node.first + node.count; ++i) {
      const RouteSummary& r = summaries_[i];
      if (!r.bbox.Intersects(box) || !filter.Matches(r)) continue;
      if (!engine::GeometryIntersectsBox(geometries_[i], box)) continue;
      Hit h;
      h.index = i;
      h.id = r.id;
      h.distance_m = plane.DistanceToGeometry(geometries_[i]);
      h.key = key == SortKey::kDistance ? h.distance_m
                                        : (key == SortKey::kLength ? r.length_m : r.ascent_m);
      if (after && std::tie(h.key, h.id) <= std::tie(after->key, after->id)) continue;
      hits.push_back(h);
    }
  }
  auto less = [](const Hit& a, const Hit& b) {
    return std::tie(a.key, a.id) < std::tie(b.key, b.id);
  };
  if (hits.size() > limit) {
    std::partial_sort(hits.begin(), hits.begin() + static_cast<long>(limit), hits.end(), less);
    hits.resize(limit);
  } else {
    std::sort(hits.begin(), hits.end(), less);
  }
  return hits;
}

std::vector<RouteIndex::Hit> RouteIndex::Nearest(PointE7 point, size_t k, double max_distance_m,
                                                 const RouteFilter& filter,
                                                 const Cursor* after) const {
  std::vector<Hit> hits;
  if (nodes_.empty() || k == 0) return hits;
  const engine::QueryPlane plane(point);
  // Best-first: nodes keyed by the distance to their box (a lower bound), routes by their
  // exact distance. At equal keys nodes come first, so a route is reported only when nothing
  // unexpanded could hold a nearer (or equally near, smaller id) one.
  struct Item {
    double dist;
    bool route;
    uint64_t id;
    uint32_t index;
  };
  auto later = [](const Item& a, const Item& b) {
    return std::tie(a.dist, a.route, a.id) > std::tie(b.dist, b.route, b.id);
  };
  std::priority_queue<Item, std::vector<Item>, decltype(later)> queue(later);
  queue.push({0.0, false, 0, static_cast<uint32_t>(nodes_.size() - 1)});
  while (!queue.empty() && hits.size() < k) {
    const Item item = queue.top();
    queue.pop();
    if (item.dist > max_distance_m) break;
    if (item.route) {
      if (after && std::tie(item.dist, item.id) <= std::tie(after->key, after->id)) continue;
      hits.push_back({item.index, item.id, item.dist, item.dist});
      continue;
    }
    const Node& node = nodes_[item.index];
    if (node.leaf) {
      for (uint32_t i = node.first; i < node.first + node.count; ++i) {
        const RouteSummary& r = summaries_[i];
        if (!filter.Matches(r) || plane.DistanceToBox(r.bbox) > max_distance_m) continue;
        queue.push({plane.DistanceToGeometry(geometries_[i]), true, r.id, i});
      }
      continue;
    }
    for (uint32_t c = node.first; c < node.first + node.count; ++c) {
      const Node& ch = nodes_[c];
      if (!MayMatch(ch, filter)) continue;
      const double d = plane.DistanceToBox(ch.box);
      if (d <= max_distance_m) queue.push({d, false, 0, c});
    }
  }
  return hits;
}

}  // namespace stride::index
