// SPDX-License-Identifier: Apache-2.0
//
// What the engine needs from wherever routes are stored: a route's full record by id, and
// every summary once (to build the spatial index); and what a map import writes into (a
// MapSink). index/store implements both with RocksDB; tests may use in-memory ones.
//
// Thread-safety: implementations are safe for concurrent reads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "engine/route/route_record.hpp"
#include "engine/status.hpp"

namespace stride::engine {

class RouteStore {
 public:
  virtual ~RouteStore() = default;
  // NotFound when no route has this id; Corruption when its record cannot be decoded.
  virtual Result<Route> GetRoute(uint64_t id) const = 0;
  // Calls `fn` for every route summary, in storage order; stops at the first error.
  virtual Status ForEachSummary(const std::function<void(const RouteSummary&)>& fn) const = 0;
};

// Receives a map import's results.
class MapSink {
 public:
  virtual ~MapSink() = default;
  // Called with strictly increasing route ids.
  virtual Status AddRoute(const Route& route) = 0;
  // Called with strictly increasing edge ids.
  virtual Status AddEdge(const TrailEdge& edge) = 0;
  // A hint before the edges: at most `edges` edges of `points` points in all will come, so a
  // sink may size its lists once instead of growing them (grown by doubling, a 10^8-node
  // map's graph held up to twice its size while it was copied). Default: ignored.
  virtual void ExpectEdges(size_t edges, size_t points) { (void)edges, (void)points; }
};

}  // namespace stride::engine
