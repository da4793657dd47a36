// SPDX-License-Identifier: Apache-2.0
//
// RouteIndex: the in-memory spatial index over route summaries that answers "routes in this
// map view" and "the k nearest routes", with filters.
//
// A packed R-tree: routes in Sort-Tile-Recursive order of their bounding boxes, 16 to a
// leaf, nodes 16 to a parent (each level in STR order too), built bottom-up in one pass (no
// insertion, no splits). Every
// node also carries the ranges of the filter attributes below it (length, ascent, grade,
// difficulty) and masks of their types, surfaces, networks and loop flags, so a filter skips
// whole subtrees rather than testing routes one by one. The tree prunes; answers come from
// the route geometry (intersection with the box, exact distance to the point).
//
// Thread-safety: immutable after Build(); any number of threads may query at once.
//
//   RouteIndex idx = RouteIndex::Build(std::move(summaries), std::move(geometries));
//   auto near = idx.Nearest({lat_e7, lon_e7}, 10, 50'000, filter, nullptr);
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/route/route.hpp"

namespace stride::index {

struct RouteIndexOptions {
  // Routes per leaf and children per node. Default: 16 and 16.
  size_t leaf_size = 16;
  size_t fanout = 16;
};

class RouteIndex {
 public:
  enum class SortKey { kDistance, kLength, kAscent };
  static constexpr double kNoDistance = -1.0;

  struct Hit {
    size_t index = 0;  // into summary() / geometry()
    uint64_t id = 0;
    double key = 0;         // what the results are ordered by
    double distance_m = 0;  // to the query point (nearest) or the box centre (bbox)
  };

  // Resume after the last hit of a previous page: results ordered after (key, id).
  struct Cursor {
    double key = 0;
    uint64_t id = 0;
  };

  // REQUIRES: summaries.size() == geometries.size(); ids unique.
  static RouteIndex Build(std::vector<engine::RouteSummary> summaries,
                          std::vector<engine::RouteGeometry> geometries,
                          const RouteIndexOptions& options = {});

  size_t size() const { return summaries_.size(); }
  const engine::RouteSummary& summary(size_t i) const { return summaries_[i]; }
  const engine::RouteGeometry& geometry(size_t i) const { return geometries_[i]; }
  size_t node_count() const { return nodes_.size(); }
  // The box around every route (the root's); an empty box (min > max) when there is none.
  engine::BoxE7 bounds() const { return nodes_.empty() ? engine::BoxE7{} : nodes_.back().box; }
  // Bytes held by the tree and the summaries (not the geometries).
  size_t tree_bytes() const;

  // Routes whose geometry intersects `box` and that pass `filter`, ordered by `key` (ascending;
  // kDistance: from the box centre) then id, after `after` when given, at most `limit`.
  std::vector<Hit> Bbox(const engine::BoxE7& box, const engine::RouteFilter& filter, SortKey key,
                        size_t limit, const Cursor* after = nullptr) const;

  // The `k` routes nearest to `point` by geometry (ties by id) within `max_distance_m` that
  // pass `filter`, after `after` when given.
  std::vector<Hit> Nearest(engine::PointE7 point, size_t k, double max_distance_m,
                           const engine::RouteFilter& filter, const Cursor* after = nullptr) const;

 private:
  struct Node {
    engine::BoxE7 box;
    float min_length, max_length, min_ascent, max_ascent, min_grade;
    uint32_t type_mask, surface_mask, network_mask;
    uint8_t min_difficulty;
    bool has_loop, has_open;
    bool leaf;
    uint32_t first;  // first child node, or first route for a leaf
    uint32_t count;
  };

  bool MayMatch(const Node& n, const engine::RouteFilter& f) const;

  std::vector<engine::RouteSummary> summaries_;  // in STR order
  std::vector<engine::RouteGeometry> geometries_;
  std::vector<Node> nodes_;  // leaves first, root last
};

}  // namespace stride::index
