// SPDX-License-Identifier: Apache-2.0
//
// Liang-Barsky clipping of a segment against an axis-aligned box: the parameters t0 <= t1 in
// [0, 1] of the part of a -> b inside the box (the point a + t (b - a)), or false when the
// segment misses the box. Edges count as inside; a degenerate segment (a == b) is inside when
// its point is. Used by the route index (does a route cross a map view) and the vector tile
// encoder (the runs of a line inside a tile).
//
//   double t0, t1;
//   if (ClipSegment({0, 0}, {10, 0}, {2, -1, 4, 1}, &t0, &t1)) ...  // t0 0.2, t1 0.4
#pragma once

#include <algorithm>

namespace stride::engine {

struct ClipPoint {
  double x = 0, y = 0;
};
struct ClipBox {
  double min_x = 0, min_y = 0, max_x = 0, max_y = 0;
};

inline bool ClipSegment(ClipPoint a, ClipPoint b, const ClipBox& box, double* t0, double* t1) {
  *t0 = 0;
  *t1 = 1;
  const double dx = b.x - a.x, dy = b.y - a.y;
  const double p[4] = {-dx, dx, -dy, dy};
  const double q[4] = {a.x - box.min_x, box.max_x - a.x, a.y - box.min_y, box.max_y - a.y};
  for (int k = 0; k < 4; ++k) {
    if (p[k] == 0) {  // parallel to this edge: inside its half-plane or never
      if (q[k] < 0) return false;
      continue;
    }
    const double r = q[k] / p[k];
    if (p[k] < 0) {  // entering across this edge
      *t0 = std::max(*t0, r);
    } else {  // leaving across it
      *t1 = std::min(*t1, r);
    }
    if (*t0 > *t1) return false;
  }
  return true;
}

}  // namespace stride::engine
