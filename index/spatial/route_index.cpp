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

// Sort-Tile-Recursive order of boxes for nodes of `cap` entries: sorted by centre longitude
// into vertical slices of about sqrt(n / cap) nodes' worth, each slice sorted by centre
// latitude. Consecutive runs of `cap` then make compact, little-overlapping nodes, which
// matters for long routes whose boxes overlap a lot.
template <typename GetBox>
void StrOrder(std::vector<size_t>& order, size_t cap, GetBox box_of) {
  // Centres computed once (x2, to stay in integers), sorted by index into this table.
  struct Centre {
    int64_t x, y;
    size_t item;
  };
  std::vector<Centre> c(order.size());
  for (size_t k = 0; k < order.size(); ++k) {
    const BoxE7& b = box_of(order[k]);
    c[k] = {static_cast<int64_t>(b.min_lon) + b.max_lon,
            static_cast<int64_t>(b.min_lat) + b.max_lat, order[k]};
  }
  std::sort(c.begin(), c.end(), [](const Centre& a, const Centre& b) { return a.x < b.x; });
  const size_t nodes = (c.size() + cap - 1) / cap;
  const auto slices = static_cast<size_t>(std::ceil(std::sqrt(static_cast<double>(nodes))));
  const size_t per_slice = slices * cap;
  for (size_t first = 0; first < c.size(); first += per_slice) {
    const auto end = c.begin() + static_cast<long>(std::min(c.size(), first + per_slice));
    std::sort(c.begin() + static_cast<long>(first), end,
              [](const Centre& a, const Centre& b) { return a.y < b.y; });
  }
  for (size_t k = 0; k < c.size(); ++k) order[k] = c[k].item;
}

}  // namespace

RouteIndex RouteIndex::Build(std::vector<RouteSummary> summaries,
                             std::vector<engine::RouteGeometry> geometries,
                             const RouteIndexOptions& options) {
  RouteIndex idx;
  const size_t n = summaries.size();
  const size_t leaf = std::max<size_t>(2, options.leaf_size);
  const size_t fanout = std::max<size_t>(2, options.fanout);
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  StrOrder(order, leaf, [&](size_t i) -> const BoxE7& { return summaries[i].bbox; });
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
  auto absorb = [](Node& node, const Node& ch) {
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
  };
  // Leaves.
  for (size_t first = 0; first < n; first += leaf) {
    Node node = empty_node();
    node.leaf = true;
    node.first = static_cast<uint32_t>(first);
    node.count = static_cast<uint32_t>(std::min(leaf, n - first));
    for (size_t i = first; i < first + node.count; ++i) {
      const RouteSummary& r = idx.summaries_[i];
      Node one = empty_node();
      one.box = r.bbox;
      one.min_length = one.max_length = r.length_m;
      one.min_ascent = one.max_ascent = r.ascent_m;
      one.min_grade = r.max_grade;
      one.type_mask = engine::TypeBit(r.type);
      one.surface_mask = engine::SurfaceBit(r.surface);
      one.network_mask = 1u << r.network;
      one.min_difficulty = r.difficulty;
      one.has_loop = r.loop;
      one.has_open = !r.loop;
      absorb(node, one);
    }
    idx.nodes_.push_back(node);
  }
  // Upper levels, until one root: each level is put in STR order before it is grouped.
  size_t level_begin = 0, level_end = idx.nodes_.size();
  while (level_end - level_begin > 1) {
    std::vector<size_t> lorder(level_end - level_begin);
    std::iota(lorder.begin(), lorder.end(), level_begin);
    StrOrder(lorder, fanout, [&](size_t i) -> const BoxE7& { return idx.nodes_[i].box; });
    std::vector<Node> level;
    level.reserve(lorder.size());
    for (size_t i : lorder) level.push_back(idx.nodes_[i]);
    std::copy(level.begin(), level.end(), idx.nodes_.begin() + static_cast<long>(level_begin));
    for (size_t first = level_begin; first < level_end; first += fanout) {
      Node node = empty_node();
      node.leaf = false;
      node.first = static_cast<uint32_t>(first);
      node.count = static_cast<uint32_t>(std::min(fanout, level_end - first));
      for (size_t c = first; c < first + node.count; ++c) absorb(node, idx.nodes_[c]);
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
      h.distance_m =
          key == SortKey::kDistance ? plane.DistanceToGeometry(geometries_[i]) : kNoDistance;
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
  // Best-first over three kinds of items: nodes and unrefined routes keyed by the distance to
  // their box (a lower bound), refined routes by their exact distance. A route's geometry is
  // measured only when its box reaches the front, so far routes are never measured. At equal
  // keys lower bounds come first, so a refined route is reported only when nothing pending
  // could hold a nearer one (or an equally near one with a smaller id).
  enum Kind : uint8_t { kNode = 0, kBound = 1, kExact = 2 };
  struct Item {
    double dist;
    Kind kind;
    uint64_t id;
    uint32_t index;
  };
  auto later = [](const Item& a, const Item& b) {
    return std::tie(a.dist, a.kind, a.id) > std::tie(b.dist, b.kind, b.id);
  };
  std::priority_queue<Item, std::vector<Item>, decltype(later)> queue(later);
  queue.push({0.0, kNode, 0, static_cast<uint32_t>(nodes_.size() - 1)});
  while (!queue.empty() && hits.size() < k) {
    const Item item = queue.top();
    queue.pop();
    if (item.dist > max_distance_m) break;
    if (item.kind == kExact) {
      if (after && std::tie(item.dist, item.id) <= std::tie(after->key, after->id)) continue;
      hits.push_back({item.index, item.id, item.dist, item.dist});
      continue;
    }
    if (item.kind == kBound) {
      const double d = plane.DistanceToGeometry(geometries_[item.index]);
      if (d <= max_distance_m) queue.push({d, kExact, item.id, item.index});
      continue;
    }
    const Node& node = nodes_[item.index];
    if (node.leaf) {
      for (uint32_t i = node.first; i < node.first + node.count; ++i) {
        const RouteSummary& r = summaries_[i];
        if (!filter.Matches(r)) continue;
        const double d = plane.DistanceToBox(r.bbox);
        if (d <= max_distance_m) queue.push({d, kBound, r.id, i});
      }
      continue;
    }
    for (uint32_t c = node.first; c < node.first + node.count; ++c) {
      const Node& ch = nodes_[c];
      if (!MayMatch(ch, filter)) continue;
      const double d = plane.DistanceToBox(ch.box);
      if (d <= max_distance_m) queue.push({d, kNode, 0, c});
    }
  }
  return hits;
}

}  // namespace stride::index
