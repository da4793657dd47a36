// SPDX-License-Identifier: Apache-2.0
//
// What a search server holds for one database: the opened RouteDb, the spatial index built
// from it (summaries from route_summaries, geometries from routes: two sequential scans) and
// each route's name for list responses. Immutable once loaded; a server swaps in a new
// snapshot when an import replaces the database.
//
// Thread-safety: immutable; share it with std::shared_ptr<const RouteSnapshot>.
//
//   Result<std::shared_ptr<const RouteSnapshot>> s = LoadRouteSnapshot("/srv/stride/db");
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/trail/graph.hpp"
#include "index/spatial/route_index.hpp"
#include "index/store/route_db.hpp"

namespace stride::index {

struct RouteSnapshot {
  std::unique_ptr<RouteDb> db;
  RouteIndex index;
  // The name of the route at index position i (empty when it has none).
  std::string_view name(size_t i) const {
    return std::string_view(name_chars)
        .substr(name_offsets[i], name_offsets[i + 1] - name_offsets[i]);
  }
  std::string name_chars;              // all names, in index order
  std::vector<uint32_t> name_offsets;  // index.size() + 1 offsets into name_chars
  // The routable trail graph; null for a database imported before it existed, or when the
  // file cannot be read (graph_error says why: routes are served, foot routing answers 503).
  std::shared_ptr<const engine::trail::TrailGraph> graph;
  std::string graph_error;
  std::string path;
  std::string import_finished_at;  // from meta "import"; empty when absent
  uint64_t dir_inode = 0;          // of `path` when loaded (an import exchanges directories)
  double load_seconds = 0;
};

Result<std::shared_ptr<const RouteSnapshot>> LoadRouteSnapshot(const std::string& path);

// The inode of `path` now, or 0 when it cannot be read.
uint64_t DirectoryInode(const std::string& path);

}  // namespace stride::index
