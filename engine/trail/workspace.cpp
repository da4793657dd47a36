// SPDX-License-Identifier: Apache-2.0
#include "engine/trail/workspace.hpp"

#include <mutex>

namespace stride::engine::trail::internal {
namespace {

// Last returned, first lent (see Lease). Never shrinks: it holds at most as many workspaces
// as leases were ever held at once.
struct Pool {
  std::mutex mu;
  std::vector<std::unique_ptr<Workspace>> free;
  size_t made = 0;  // workspaces ever made: `free` has room for all, so giving back never allocates
};

Pool& ThePool() {
  static Pool* pool = new Pool;  // never destroyed: leases may end during static destruction
  return *pool;
}

}  // namespace

Lease::Lease() {
  Pool& p = ThePool();
  std::lock_guard<std::mutex> lock(p.mu);
  if (!p.free.empty()) {
    w_ = std::move(p.free.back());
    p.free.pop_back();
    return;
  }
  w_ = std::make_unique<Workspace>();  // empty until its first Reset: cheap under the lock
  p.free.reserve(++p.made);
}

Lease::~Lease() {
  Pool& p = ThePool();
  std::lock_guard<std::mutex> lock(p.mu);
  p.free.push_back(std::move(w_));  // within the reserved room
}

}  // namespace stride::engine::trail::internal

namespace stride::engine::trail {

void PrepareSearches(const TrailGraph& g) {
  internal::Lease a, b;
  for (internal::Workspace* w : {&*a, &*b}) {
    const bool fresh = w->capacity < g.nodes();
    w->Reset(g.nodes());
    if (!fresh) continue;
    // A store into each page of the calloc'd array faults it in (reading would map the shared
    // zero page and fault again on the first real write).
    constexpr size_t kPerPage = 4096 / sizeof(internal::Workspace::Node);
    for (size_t i = 0; i < w->capacity; i += kPerPage) w->node[i].stamp = 0;
  }
}

}  // namespace stride::engine::trail
