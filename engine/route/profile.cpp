// SPDX-License-Identifier: Apache-2.0
#include "engine/route/profile.hpp"

#include <algorithm>
#include <cmath>
#include <optional>

#include "engine/geo/geodesy.hpp"
#include "engine/track/segment.hpp"
#include "engine/track/smooth.hpp"

namespace stride::engine {
namespace {

// Cumulative distance at each point of part [b, e), measured as LineLengthM measures it.
void PartCumulativeM(const RouteGeometry& g, size_t b, size_t e, std::vector<double>& cum) {
  cum.assign(e - b, 0.0);
  const TrackGeodesy geo(g.points[b].lat * 1e-7);
  for (size_t i = 1; i < e - b; ++i) {
    const PointE7 u = g.points[b + i - 1], v = g.points[b + i];
    cum[i] = cum[i - 1] + geo.DistanceM(u.lat * 1e-7, u.lon * 1e-7, v.lat * 1e-7, v.lon * 1e-7);
  }
}

}  // namespace

double LineLengthM(const PointE7* points, size_t n) {
  double sum = 0;
  if (n < 2) return 0;
  const TrackGeodesy geo(points[0].lat * 1e-7);  // no sine or cosine per step
  for (size_t i = 1; i < n; ++i) {
    sum += geo.DistanceM(points[i - 1].lat * 1e-7, points[i - 1].lon * 1e-7, points[i].lat * 1e-7,
                         points[i].lon * 1e-7);
  }
  return sum;
}

double GeometryLengthM(const RouteGeometry& g) {
  double sum = 0;
  ForEachPart(g, [&](size_t b, size_t e) { sum += LineLengthM(g.points.data() + b, e - b); });
  return sum;
}

PointE7 PointAtDistance(const RouteGeometry& g, double distance_m) {
  if (g.points.empty()) return {};
  double run = 0;
  std::optional<PointE7> out;
  std::vector<double> cum;
  ForEachPart(g, [&](size_t b, size_t e) {
    if (out) return;
    PartCumulativeM(g, b, e, cum);
    if (distance_m > run + cum.back()) {
      run += cum.back();
      return;
    }
    const double d = distance_m - run;
    size_t i = 1;
    while (i < cum.size() && cum[i] < d) ++i;
    if (i == cum.size() || d <= 0) {
      out = g.points[d <= 0 ? b : e - 1];
      return;
    }
    const double step = cum[i] - cum[i - 1];
    const double f = step > 0 ? (d - cum[i - 1]) / step : 0.0;
    const PointE7 p = g.points[b + i - 1], q = g.points[b + i];
    out = LerpE7(p, q, f);
  });
  return out ? *out : g.points.back();
}

ElevationProfile SampleProfile(const RouteGeometry& g, const ElevationSource& source,
                               double max_spacing_m, double* covered_fraction) {
  ElevationProfile p;
  size_t total = 0;
  double offset = 0;
  std::vector<double> cum;
  ForEachPart(g, [&](size_t b, size_t e) {
    const size_t n = e - b;
    PartCumulativeM(g, b, e, cum);
    const double len = cum[n - 1];
    const size_t steps = len > 0 ? static_cast<size_t>(std::ceil(len / max_spacing_m)) : 0;
    const double spacing = steps > 0 ? len / static_cast<double>(steps) : 0;
    size_t seg = 1;
    for (size_t k = 0; k <= steps; ++k) {
      const double d = k == steps ? len : spacing * static_cast<double>(k);
      while (seg + 1 < n && cum[seg] < d) ++seg;
      double lat, lon;
      if (n == 1) {
        lat = g.points[b].lat * 1e-7;
        lon = g.points[b].lon * 1e-7;
      } else {
        const PointE7 a = g.points[b + seg - 1], c = g.points[b + seg];
        const double span = cum[seg] - cum[seg - 1];
        const double f = span > 0 ? std::clamp((d - cum[seg - 1]) / span, 0.0, 1.0) : 0.0;
        lat = (a.lat + f * (c.lat - a.lat)) * 1e-7;
        lon = (a.lon + f * (c.lon - a.lon)) * 1e-7;
      }
      ++total;
      double ele;
      if (source.ElevationAt(lat, lon, &ele)) {
        p.distance_m.push_back(static_cast<float>(offset + d));
        p.elevation_m.push_back(static_cast<float>(ele));
      }
    }
    offset += len;
  });
  if (covered_fraction) {
    *covered_fraction =
        total > 0 ? static_cast<double>(p.distance_m.size()) / static_cast<double>(total) : 0.0;
  }
  return p;
}

ClimbFigures ComputeClimb(const ElevationProfile& profile) {
  ClimbFigures c;
  const size_t n = profile.distance_m.size();
  if (n < 2) return c;
  // Parts of the line meet where two samples share a distance: the elevation may jump there
  // (the next part starts elsewhere), so each run between such joins is measured alone.
  double span_total = 0;
  size_t b = 0;
  while (b < n) {
    size_t e = b + 1;
    while (e < n && profile.distance_m[e] > profile.distance_m[e - 1]) ++e;
    const std::vector<double> d(profile.distance_m.begin() + static_cast<long>(b),
                                profile.distance_m.begin() + static_cast<long>(e));
    const std::vector<double> raw(profile.elevation_m.begin() + static_cast<long>(b),
                                  profile.elevation_m.begin() + static_cast<long>(e));
    b = e;
    if (d.size() < 2) continue;
    const std::vector<double> s = GaussianOnAxis(d, raw, kRouteProfileSigmaM);
    const AscentDescent ad = HysteresisAscent(s, kRouteAscentThresholdM);
    c.ascent_m += ad.ascent_m;
    c.descent_m += ad.descent_m;
    const double span = d.back() - d.front();
    span_total += span;
    // Steepest window of at least kGradeWindowM (or the whole run when shorter).
    const double window = std::min(kGradeWindowM, span);
    size_t j = 0;
    for (size_t i = 0; i < d.size() && window > 0; ++i) {
      if (j < i) j = i;
      while (j < d.size() && d[j] - d[i] < window) ++j;
      if (j >= d.size()) break;
      c.max_grade = std::max(c.max_grade, std::fabs(s[j] - s[i]) / (d[j] - d[i]));
    }
  }
  if (span_total > 0) c.avg_grade = (c.ascent_m + c.descent_m) / span_total;
  return c;
}

std::string RouteElevationMethod() {
  return "srtm bilinear, voids filled from neighbours; profile every <=30 m; gaussian sigma 40 m; "
         "hysteresis 5 m; max grade over 100 m";
}

}  // namespace stride::engine
