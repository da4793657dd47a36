// SPDX-License-Identifier: Apache-2.0
//
// Orders OSM ways into continuous lines by their end nodes.
//
// OrderMembers() follows a relation's member order, as mappers write it: each way joins the
// line where it touches its end (reversed when it runs the other way), or its start when the
// members are listed backwards; a way that touches neither begins a new part (a gap). A first
// way pointing the wrong way is turned round once the second shows which end continues.
// Parts whose ends meet are then joined, so relations with shuffled members still come out
// as few parts as their shape allows. A way listed twice (out and back) is used twice.
//
// ChainWays() has no order to follow (the ways of a named trail): it starts at a dead end
// (lowest way id first), walks on through unused ways (lowest id at each junction), and
// repeats until every way is used; the result depends only on the input set.
//
// Thread-safety: pure functions.
//
//   std::vector<Part> parts = OrderMembers(n, [&](uint32_t w) { return Ends{first, last}; });
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace stride::importers {

struct Ends {
  uint64_t first = 0, last = 0;  // node ids
};
struct OrientedWay {
  uint32_t index = 0;  // into the caller's list
  bool reversed = false;
  bool operator==(const OrientedWay&) const = default;
};
using Part = std::vector<OrientedWay>;
using EndsFn = std::function<Ends(uint32_t index)>;

// Ways 0..count-1 in member order.
std::vector<Part> OrderMembers(uint32_t count, const EndsFn& ends);

// Ways 0..count-1 in any order; `ids` (size count) break ties deterministically.
std::vector<Part> ChainWays(uint32_t count, const EndsFn& ends, const std::vector<uint64_t>& ids);

// Start and end node of an oriented way or a part.
inline uint64_t StartNode(const OrientedWay& w, const EndsFn& ends) {
  const Ends e = ends(w.index);
  return w.reversed ? e.last : e.first;
}
inline uint64_t EndNode(const OrientedWay& w, const EndsFn& ends) {
  const Ends e = ends(w.index);
  return w.reversed ? e.first : e.last;
}

}  // namespace stride::importers
