// SPDX-License-Identifier: Apache-2.0
#include "importers/osm/line_assembly.hpp"

#include <algorithm>
#include <numeric>
#include <unordered_map>

namespace stride::importers {
namespace {

void ReversePart(Part& p) {
  std::reverse(p.begin(), p.end());
  for (OrientedWay& w : p) w.reversed = !w.reversed;
}

// Joins parts whose ends meet, keeping the first part's direction where it can.
void JoinTouchingParts(std::vector<Part>& parts, const EndsFn& ends) {
  bool joined = true;
  while (joined && parts.size() > 1) {
    joined = false;
    for (size_t a = 0; a < parts.size() && !joined; ++a) {
      for (size_t b = 0; b < parts.size() && !joined; ++b) {
        if (a == b) continue;
        const uint64_t a_start = StartNode(parts[a].front(), ends);
        const uint64_t a_end = EndNode(parts[a].back(), ends);
        const uint64_t b_start = StartNode(parts[b].front(), ends);
        const uint64_t b_end = EndNode(parts[b].back(), ends);
        if (a_end == b_start || a_end == b_end) {
          if (a_end == b_end) ReversePart(parts[b]);
          parts[a].insert(parts[a].end(), parts[b].begin(), parts[b].end());
        } else if (a_start == b_end || a_start == b_start) {
          if (a_start == b_start) ReversePart(parts[b]);
          parts[a].insert(parts[a].begin(), parts[b].begin(), parts[b].end());
        } else {
          continue;
        }
        parts.erase(parts.begin() + static_cast<std::ptrdiff_t>(b));
        joined = true;
      }
    }
  }
}

}  // namespace

std::vector<Part> OrderMembers(uint32_t count, const EndsFn& ends) {
  std::vector<Part> parts;
  Part cur;
  for (uint32_t i = 0; i < count; ++i) {
    const Ends e = ends(i);
    if (cur.empty()) {
      cur.push_back({i, false});
      continue;
    }
    uint64_t tail = EndNode(cur.back(), ends);
    if (cur.size() == 1 && tail != e.first && tail != e.last) {
      const uint64_t head = StartNode(cur.front(), ends);
      if (head == e.first || head == e.last) {
        cur.front().reversed = !cur.front().reversed;
        tail = head;
      }
    }
    if (tail == e.first) {
      cur.push_back({i, false});
    } else if (tail == e.last) {
      cur.push_back({i, true});
    } else {
      const uint64_t head = StartNode(cur.front(), ends);
      if (head == e.last) {
        cur.insert(cur.begin(), {i, false});
      } else if (head == e.first) {
        cur.insert(cur.begin(), {i, true});
      } else {
        parts.push_back(std::move(cur));
        cur = Part{{i, false}};
      }
    }
  }
  if (!cur.empty()) parts.push_back(std::move(cur));
  JoinTouchingParts(parts, ends);
  return parts;
}

std::vector<Part> ChainWays(uint32_t count, const EndsFn& ends, const std::vector<uint64_t>& ids) {
  std::vector<uint32_t> order(count);
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return ids[a] < ids[b]; });
  // Way ends at each node, in way-id order.
  std::unordered_map<uint64_t, std::vector<uint32_t>> at;
  for (uint32_t w : order) {
    const Ends e = ends(w);
    at[e.first].push_back(w);
    if (e.last != e.first) at[e.last].push_back(w);
  }
  std::vector<bool> used(count, false);
  auto next_at = [&](uint64_t node) -> int64_t {
    for (uint32_t w : at[node]) {
      if (!used[w]) return w;
    }
    return -1;
  };
  std::vector<Part> parts;
  size_t remaining = count;
  while (remaining > 0) {
    // Start at a dead end when one is left, else at the lowest unused way.
    int64_t start = -1;
    bool start_reversed = false;
    for (uint32_t w : order) {
      if (used[w]) continue;
      const Ends e = ends(w);
      if (at[e.first].size() == 1) {
        start = w;
        break;
      }
      if (at[e.last].size() == 1) {
        start = w, start_reversed = true;
        break;
      }
    }
    if (start < 0) {
      for (uint32_t w : order) {
        if (!used[w]) {
          start = w;
          break;
        }
      }
    }
    Part p{{static_cast<uint32_t>(start), start_reversed}};
    used[static_cast<size_t>(start)] = true;
    --remaining;
    for (;;) {  // forward
      const uint64_t tail = EndNode(p.back(), ends);
      const int64_t w = next_at(tail);
      if (w < 0) break;
      used[static_cast<size_t>(w)] = true;
      --remaining;
      p.push_back({static_cast<uint32_t>(w), ends(static_cast<uint32_t>(w)).first != tail});
    }
    for (;;) {  // backward from the head
      const uint64_t head = StartNode(p.front(), ends);
      const int64_t w = next_at(head);
      if (w < 0) break;
      used[static_cast<size_t>(w)] = true;
      --remaining;
      p.insert(p.begin(), {static_cast<uint32_t>(w), ends(static_cast<uint32_t>(w)).last != head});
    }
    parts.push_back(std::move(p));
  }
  return parts;
}

}  // namespace stride::importers
