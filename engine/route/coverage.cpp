// SPDX-License-Identifier: Apache-2.0
#include "engine/route/coverage.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace stride::engine {
namespace {

constexpr double kMetresPerDegree = 111'319.49;  // WGS84 equator; scaled by cos(lat) for x

struct Xy {
  double x = 0, y = 0;
};

// Squared distance from p to the segment ab.
double SegmentDistance2(Xy p, Xy a, Xy b) {
  const double dx = b.x - a.x, dy = b.y - a.y;
  const double len2 = dx * dx + dy * dy;
  double t = len2 > 0 ? ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2 : 0.0;
  t = std::clamp(t, 0.0, 1.0);
  const double ex = a.x + t * dx - p.x, ey = a.y + t * dy - p.y;
  return ex * ex + ey * ey;
}

// Track segments bucketed by grid cell.
class SegmentGrid {
 public:
  // `starts_run[k]`: no segment joins point k to the one before it (a recording gap).
  SegmentGrid(std::vector<Xy> points, std::vector<size_t> track_index,
              const std::vector<bool>& starts_run, double cell)
      : pts_(std::move(points)), index_(std::move(track_index)), cell_(cell) {
    for (size_t s = 0; s + 1 < pts_.size(); ++s) {
      if (starts_run[s + 1]) continue;
      const Xy a = pts_[s], b = pts_[s + 1];
      const int64_t x0 = Cell(std::min(a.x, b.x)), x1 = Cell(std::max(a.x, b.x));
      const int64_t y0 = Cell(std::min(a.y, b.y)), y1 = Cell(std::max(a.y, b.y));
      if ((x1 - x0 + 1) * (y1 - y0 + 1) > 4096) continue;  // a jump of kilometres: not a path
      for (int64_t x = x0; x <= x1; ++x) {
        for (int64_t y = y0; y <= y1; ++y) cells_[Key(x, y)].push_back(static_cast<uint32_t>(s));
      }
    }
  }
  static constexpr size_t kNone = static_cast<size_t>(-1);

  // The first track point (in time) of a segment within `tol` of p, or kNone.
  size_t Near(Xy p, double tol) const {
    const double tol2 = tol * tol;
    size_t best = kNone;
    const int64_t cx = Cell(p.x), cy = Cell(p.y);
    for (int64_t x = cx - 1; x <= cx + 1; ++x) {
      for (int64_t y = cy - 1; y <= cy + 1; ++y) {
        const auto it = cells_.find(Key(x, y));
        if (it == cells_.end()) continue;
        for (uint32_t s : it->second) {
          if (best != kNone && index_[s] >= best) continue;
          if (SegmentDistance2(p, pts_[s], pts_[s + 1]) <= tol2) best = index_[s];
        }
      }
    }
    return best;
  }

 private:
  int64_t Cell(double v) const { return static_cast<int64_t>(std::floor(v / cell_)); }
  static uint64_t Key(int64_t x, int64_t y) {
    return (static_cast<uint64_t>(x) << 32) ^ static_cast<uint64_t>(y & 0xffffffff);
  }
  std::vector<Xy> pts_;
  std::vector<size_t> index_;  // the track point of each entry
  double cell_;
  std::unordered_map<uint64_t, std::vector<uint32_t>> cells_;
};

}  // namespace

std::vector<RouteCoverage> MeasureCoverage(const Track& track,
                                           const std::vector<CoverageCandidate>& candidates,
                                           const CoverageOptions& options) {
  std::vector<RouteCoverage> out;
  double lat_sum = 0, lon0 = kNaN;
  size_t n = 0;
  for (size_t i = 0; i < track.size(); ++i) {
    if (!track.has_position(i)) continue;
    if (std::isnan(lon0)) lon0 = track.lon_deg[i];
    lat_sum += track.lat_deg[i];
    ++n;
  }
  if (n < 2 || candidates.empty() || !(options.tolerance_m > 0) || !(options.step_m > 0)) {
    return out;
  }
  const double lat0 = lat_sum / static_cast<double>(n);
  const double kx = kMetresPerDegree * std::cos(lat0 * M_PI / 180.0), ky = kMetresPerDegree;
  auto project = [&](double lat, double lon) { return Xy{(lon - lon0) * kx, (lat - lat0) * ky}; };

  std::vector<Xy> pts;
  std::vector<size_t> index;
  std::vector<bool> starts_run;
  pts.reserve(n);
  index.reserve(n);
  size_t next_segment = 1;
  bool gap = true;
  for (size_t i = 0; i < track.size(); ++i) {
    // A recorded segment boundary (a pause) breaks the line: no segment joins the two sides.
    if (next_segment < track.segment_starts.size() && track.segment_starts[next_segment] == i) {
      ++next_segment;
      gap = true;
    }
    if (!track.has_position(i)) continue;
    pts.push_back(project(track.lat_deg[i], track.lon_deg[i]));
    index.push_back(i);
    starts_run.push_back(gap);
    gap = false;
  }
  // The track's extent, widened by the tolerance: route segments wholly on one side of it
  // count their length and skip the per-piece lookups (most of a long route is far away).
  double x0 = 1e300, y0 = 1e300, x1 = -1e300, y1 = -1e300;
  for (const Xy& p : pts) {
    x0 = std::min(x0, p.x);
    y0 = std::min(y0, p.y);
    x1 = std::max(x1, p.x);
    y1 = std::max(y1, p.y);
  }
  x0 -= options.tolerance_m;
  y0 -= options.tolerance_m;
  x1 += options.tolerance_m;
  y1 += options.tolerance_m;
  auto outside = [&](Xy a, Xy z) {
    return (a.x < x0 && z.x < x0) || (a.x > x1 && z.x > x1) || (a.y < y0 && z.y < y0) ||
           (a.y > y1 && z.y > y1);
  };
  const SegmentGrid grid(std::move(pts), std::move(index), starts_run, options.tolerance_m);

  for (size_t c = 0; c < candidates.size(); ++c) {
    const RouteGeometry& g = *candidates[c].geometry;
    RouteCoverage r;
    r.id = candidates[c].id;
    r.candidate = c;
    r.first_point = SegmentGrid::kNone;
    ForEachPart(g, [&](size_t b, size_t e) {
      for (size_t k = b + 1; k < e; ++k) {
        const Xy a = project(g.points[k - 1].lat * 1e-7, g.points[k - 1].lon * 1e-7);
        const Xy z = project(g.points[k].lat * 1e-7, g.points[k].lon * 1e-7);
        const double len = std::hypot(z.x - a.x, z.y - a.y);
        r.length_m += len;
        if (outside(a, z)) continue;
        const int pieces = std::max(1, static_cast<int>(std::ceil(len / options.step_m)));
        const double piece = len / pieces;
        for (int q = 0; q < pieces; ++q) {
          const double f = (q + 0.5) / pieces;
          const size_t hit =
              grid.Near({a.x + f * (z.x - a.x), a.y + f * (z.y - a.y)}, options.tolerance_m);
          if (hit == SegmentGrid::kNone) continue;
          r.covered_m += piece;
          r.first_point = std::min(r.first_point, hit);
        }
      }
    });
    if (r.length_m <= 0 || r.covered_m <= 0) continue;
    r.share = std::min(1.0, r.covered_m / r.length_m);
    if (r.covered_m >= options.min_covered_m || r.share >= options.min_share) out.push_back(r);
  }
  std::sort(out.begin(), out.end(), [](const RouteCoverage& a, const RouteCoverage& b) {
    return a.first_point != b.first_point ? a.first_point < b.first_point : a.id < b.id;
  });
  return out;
}

}  // namespace stride::engine
