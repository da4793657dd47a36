// SPDX-License-Identifier: Apache-2.0
//
// Filling a void (a missing sample) of an elevation grid: the inverse-distance weighted mean
// of the nearest ring of valid samples around it, rings 1 to kMaxVoidFillRing out. One rule for
// every source (SRTM .hgt tiles, GeoTIFF rasters), so a GeoTIFF made from a tile gives the
// tile's elevations, voids included.
//
//   bool ok = true;
//   const double v = FillVoid(x, y, width, height, [&](int x, int y, double* v) {
//     *v = grid[y][x];
//     return *v != kVoid;
//   }, &ok);   // ok false: no valid sample within the rings
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace stride::importers {

inline constexpr int kMaxVoidFillRing = 16;

// `sample(x, y, &v)` sets v and returns true for a valid sample; it is called only inside
// [0, width) x [0, height).
template <class Sample>
double FillVoid(int x, int y, int width, int height, const Sample& sample, bool* ok) {
  double v = 0;
  if (sample(x, y, &v)) return v;
  for (int r = 1; r <= kMaxVoidFillRing; ++r) {
    double sum = 0, wsum = 0;
    for (int dy = -r; dy <= r; ++dy) {
      for (int dx = -r; dx <= r; ++dx) {
        if (std::max(std::abs(dy), std::abs(dx)) != r) continue;  // the ring only
        const int xx = x + dx, yy = y + dy;
        if (xx < 0 || yy < 0 || xx >= width || yy >= height) continue;
        double s = 0;
        if (!sample(xx, yy, &s)) continue;
        const double w = 1.0 / std::sqrt(static_cast<double>(dx * dx + dy * dy));
        sum += w * s;
        wsum += w;
      }
    }
    if (wsum > 0) return sum / wsum;
  }
  *ok = false;
  return 0;
}

}  // namespace stride::importers
