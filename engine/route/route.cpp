// SPDX-License-Identifier: Apache-2.0
#include "engine/route/route.hpp"

#include <algorithm>
#include <cmath>

#include "engine/geo/geodesy.hpp"
#include "engine/geometry/clip.hpp"

namespace stride::engine {

void BoxE7::Extend(PointE7 p) {
  min_lat = std::min(min_lat, p.lat);
  max_lat = std::max(max_lat, p.lat);
  min_lon = std::min(min_lon, p.lon);
  max_lon = std::max(max_lon, p.lon);
}

void BoxE7::Extend(const BoxE7& b) {
  if (b.empty()) return;
  min_lat = std::min(min_lat, b.min_lat);
  max_lat = std::max(max_lat, b.max_lat);
  min_lon = std::min(min_lon, b.min_lon);
  max_lon = std::max(max_lon, b.max_lon);
}

QueryPlane::QueryPlane(PointE7 centre) : lat0_(centre.lat), lon0_(centre.lon) {
  const LocalPlane plane(centre.lat * 1e-7, centre.lon * 1e-7);
  double x, y;
  plane.ToMetres(centre.lat * 1e-7 + 1.0, centre.lon * 1e-7 + 1.0, &x, &y);
  m_per_e7_lat_ = y * 1e-7;  // metres per 1e-7 degree
  m_per_e7_lon_ = x * 1e-7;
}

double QueryPlane::DistanceToBox(const BoxE7& b) const {
  const double x0 = X(b.min_lon), x1 = X(b.max_lon), y0 = Y(b.min_lat), y1 = Y(b.max_lat);
  const double dx = x0 > 0 ? x0 : (x1 < 0 ? -x1 : 0.0);
  const double dy = y0 > 0 ? y0 : (y1 < 0 ? -y1 : 0.0);
  return std::sqrt(dx * dx + dy * dy);
}

double QueryPlane::DistanceToGeometry(const RouteGeometry& g) const {
  double best2 = std::numeric_limits<double>::infinity();
  const size_t n = g.points.size();
  size_t part = 0;
  for (size_t i = 0; i < n; ++i) {
    const double px = X(g.points[i].lon), py = Y(g.points[i].lat);
    best2 = std::min(best2, px * px + py * py);
    // Segment i-1 -> i unless i starts a part.
    while (part + 1 < g.part_starts.size() && g.part_starts[part + 1] <= i) ++part;
    if (i == 0 || (part < g.part_starts.size() && g.part_starts[part] == i)) continue;
    const double ax = X(g.points[i - 1].lon), ay = Y(g.points[i - 1].lat);
    const double dx = px - ax, dy = py - ay;
    const double len2 = dx * dx + dy * dy;
    if (len2 <= 0) continue;
    const double t = std::clamp(-(ax * dx + ay * dy) / len2, 0.0, 1.0);
    const double cx = ax + t * dx, cy = ay + t * dy;
    best2 = std::min(best2, cx * cx + cy * cy);
  }
  return std::sqrt(best2);
}

namespace {

// Liang-Barsky clip of segment a-b against the box (in e7 units, as doubles).
bool SegmentTouchesBox(PointE7 a, PointE7 b, const BoxE7& box) {
  double t0 = 0, t1 = 0;
  return ClipSegment({static_cast<double>(a.lon), static_cast<double>(a.lat)},
                     {static_cast<double>(b.lon), static_cast<double>(b.lat)},
                     {static_cast<double>(box.min_lon), static_cast<double>(box.min_lat),
                      static_cast<double>(box.max_lon), static_cast<double>(box.max_lat)},
                     &t0, &t1);
}

}  // namespace

bool GeometryIntersectsBox(const RouteGeometry& g, const BoxE7& box) {
  // Most routes that meet a box have a vertex in it: a cheap pass over the points first.
  for (const PointE7& p : g.points) {
    if (box.Contains(p)) return true;
  }
  // No vertex inside: a segment must cross the box. Segments with both ends beyond the same
  // side are rejected by their outcodes before the clip.
  auto outcode = [&box](PointE7 p) {
    return (p.lon < box.min_lon ? 1 : 0) | (p.lon > box.max_lon ? 2 : 0) |
           (p.lat < box.min_lat ? 4 : 0) | (p.lat > box.max_lat ? 8 : 0);
  };
  bool crosses = false;
  ForEachPart(g, [&](size_t b, size_t e) {
    if (crosses || e - b < 2) return;
    int prev = outcode(g.points[b]);
    for (size_t i = b + 1; i < e; ++i) {
      const int code = outcode(g.points[i]);
      if ((prev & code) == 0 && SegmentTouchesBox(g.points[i - 1], g.points[i], box)) {
        crosses = true;
        return;
      }
      prev = code;
    }
  });
  return crosses;
}

}  // namespace stride::engine
