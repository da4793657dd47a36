// SPDX-License-Identifier: Apache-2.0
#include "engine/route/simplify.hpp"

#include <algorithm>
#include <utility>

namespace stride::engine {

std::vector<PointE7> SimplifyLine(std::span<const PointE7> pts, double tolerance_m) {
  if (pts.size() <= 2 || tolerance_m <= 0) return {pts.begin(), pts.end()};
  const engine::QueryPlane plane(pts.front());
  std::vector<char> keep(pts.size(), 0);
  keep.front() = keep.back() = 1;
  std::vector<std::pair<size_t, size_t>> stack{{0, pts.size() - 1}};
  while (!stack.empty()) {
    const auto [a, b] = stack.back();
    stack.pop_back();
    const double ax = plane.X(pts[a].lon), ay = plane.Y(pts[a].lat);
    const double bx = plane.X(pts[b].lon), by = plane.Y(pts[b].lat);
    const double dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
    double worst = -1;
    size_t at = a;
    for (size_t i = a + 1; i < b; ++i) {
      const double px = plane.X(pts[i].lon) - ax, py = plane.Y(pts[i].lat) - ay;
      const double t = len2 > 0 ? std::clamp((px * dx + py * dy) / len2, 0.0, 1.0) : 0.0;
      const double ex = px - t * dx, ey = py - t * dy, d = ex * ex + ey * ey;
      if (d > worst) worst = d, at = i;
    }
    if (worst > tolerance_m * tolerance_m) {
      keep[at] = 1;
      stack.emplace_back(a, at);
      stack.emplace_back(at, b);
    }
  }
  std::vector<PointE7> out;
  for (size_t i = 0; i < pts.size(); ++i) {
    if (keep[i]) out.push_back(pts[i]);
  }
  return out;
}

}  // namespace stride::engine
