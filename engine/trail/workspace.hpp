// SPDX-License-Identifier: Apache-2.0
//
// Internal to engine/trail: what the graph searches (A*, the loop trees, the contraction
// hierarchy's two searches) share: per-thread search state, reset in O(1) by a generation
// stamp so that a search costs what it visits, not the size of the graph; and how a found
// path is spelled out as steps.
//
// Thread-safety: Scratch(i) is thread_local; a search uses distinct slots for its parts.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <new>
#include <queue>
#include <vector>

#include "engine/status.hpp"
#include "engine/trail/graph.hpp"
#include "engine/trail/router.hpp"

namespace stride::engine::trail::internal {

inline constexpr double kInf = std::numeric_limits<double>::infinity();
// Parent markers of a search's seeds: reached by walking from the snap to its edge's from
// node, or to its to node.
inline constexpr uint32_t kSeedFrom = UINT32_MAX;
inline constexpr uint32_t kSeedTo = UINT32_MAX - 1;

// The arrays come from calloc: for a large graph that is fresh zero pages from the kernel,
// so a thread's first search touches (and makes resident) only the pages of the nodes it
// visits, not 24 bytes per node of the whole graph (about 13 MB per workspace at 527,000
// junctions, four workspaces per server thread).
struct Workspace {
  struct Free {
    void operator()(void* p) const { std::free(p); }
  };
  template <typename T>
  using Array = std::unique_ptr<T[], Free>;
  template <typename T>
  static Array<T> Zeroed(size_t n) {
    void* p = std::calloc(n, sizeof(T));
    if (p == nullptr) throw std::bad_alloc();
    return Array<T>(static_cast<T*>(p));
  }

  Array<double> g, dist;
  Array<uint32_t> parent, stamp;
  size_t capacity = 0;
  uint32_t gen = 0;
  void Reset(size_t n) {
    if (capacity < n) {
      g = Zeroed<double>(n);
      dist = Zeroed<double>(n);
      parent = Zeroed<uint32_t>(n);
      stamp = Zeroed<uint32_t>(n);
      capacity = n;
      gen = 0;
    }
    if (++gen == 0) {
      std::fill(stamp.get(), stamp.get() + capacity, 0u);
      gen = 1;
    }
  }
  double G(uint32_t v) const { return stamp[v] == gen ? g[v] : kInf; }
  void Set(uint32_t v, double cost, uint32_t p) {
    stamp[v] = gen;
    g[v] = cost;
    parent[v] = p;
  }
};

// Slots: 0 A*, 1 loop trees, 2 and 3 the hierarchy's forward and backward searches.
inline Workspace& Scratch(int i) {
  thread_local Workspace w[4];
  return w[i];
}

struct QueueEntry {
  double f, g;
  uint32_t v;
  bool operator>(const QueueEntry& o) const { return f > o.f || (f == o.f && v > o.v); }
};
using MinQueue = std::priority_queue<QueueEntry, std::vector<QueueEntry>, std::greater<>>;

// The walk from snap `from` to snap `to` through the graph arcs `arcs` (in walking order):
// from's edge from the snap to its from node (start_at_from) or to its to node, each arc's
// whole edge, then to's edge from its from node (end_at_from) or its to node to the snap;
// steps of no length are dropped. How both searches (A*, the hierarchy) spell out a path.
std::vector<Step> WalkSteps(const TrailGraph& g, const Snap& from, bool start_at_from,
                            const std::vector<uint32_t>& arcs, const Snap& to, bool end_at_from);

// The walk along one edge between two snaps on it (none when they coincide).
std::vector<Step> AlongEdge(const Snap& from, const Snap& to);

// NotFound: no path joins the points under the options.
Status NoWalkablePath();

}  // namespace stride::engine::trail::internal
