// SPDX-License-Identifier: Apache-2.0
//
// Internal to engine/trail: what the graph searches (A*, the loop trees, the contraction
// hierarchy's two searches) share: search state lent from a pool, reset in O(1) by a
// generation stamp so that a search costs what it visits, not the size of the graph; and how
// a found path is spelled out as steps.
//
// Thread-safety: a Workspace is one search's; Lease is safe from any thread.
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

// One record per node, from calloc: for a large graph that is fresh zero pages from the
// kernel, so a workspace's first search touches (and makes resident) only the pages of the
// nodes it visits, not 24 bytes per node of the whole graph (about 13 MB at 527,000
// junctions); and a node's cost, parent and stamp share a cache line.
struct Workspace {
  struct Node {
    double g;         // cost from the seeds
    double dist;      // metres from the seeds (the loop trees)
    uint32_t parent;  // arc index, kSeedFrom or kSeedTo
    uint32_t stamp;   // == gen when this search reached the node
  };
  struct Free {
    void operator()(void* p) const { std::free(p); }
  };

  std::unique_ptr<Node[], Free> node;
  size_t capacity = 0;
  uint32_t gen = 0;

  void Reset(size_t n) {
    if (capacity < n) {
      void* p = std::calloc(n, sizeof(Node));
      if (p == nullptr) throw std::bad_alloc();
      node.reset(static_cast<Node*>(p));
      capacity = n;
      gen = 0;
    }
    if (++gen == 0) {
      for (size_t i = 0; i < capacity; ++i) node[i].stamp = 0;
      gen = 1;
    }
  }
  double G(uint32_t v) const { return node[v].stamp == gen ? node[v].g : kInf; }
  void Set(uint32_t v, double cost, uint32_t p) {
    Node& n = node[v];
    n.stamp = gen;
    n.g = cost;
    n.parent = p;
  }
  // Only for nodes this search reached (G finite).
  uint32_t Parent(uint32_t v) const { return node[v].parent; }
  double Dist(uint32_t v) const { return node[v].dist; }
  void SetDist(uint32_t v, double d) { node[v].dist = d; }
};

// A workspace lent for one search from a process-wide pool and given back when the lease
// ends. The pool lends the workspace returned last: the one whose pages are resident and
// cached, so a server's searches run warm whichever worker thread takes them, and the pool
// holds only as many workspaces as searches ever ran at once (not four per thread). A search
// that needs two (the hierarchy's forward and backward searches) takes two leases.
//
// Thread-safety: leases may be taken and ended on any threads.
class Lease {
 public:
  Lease();
  ~Lease();
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  Workspace& operator*() const { return *w_; }
  Workspace* operator->() const { return w_.get(); }

 private:
  std::unique_ptr<Workspace> w_;
};

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
