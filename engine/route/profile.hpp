// SPDX-License-Identifier: Apache-2.0
//
// Lengths, elevation profiles and climbing figures of route lines.
//
// A profile samples the main line at a uniform spacing per part (at most kMaxProfileSpacingM),
// taking each elevation from an ElevationSource (a DEM). The stored profile keeps the DEM
// values as read; the climbing figures come from a smoothed copy:
//   ascent/descent  hysteresis (threshold kRouteAscentThresholdM) over the profile after a
//                   Gaussian over distance (sigma kRouteProfileSigmaM), which removes the
//                   pixel-to-pixel noise of a 90 m DEM without flattening real climbs;
//   max_grade       the steepest |rise / run| over any kGradeWindowM of the smoothed profile;
//   avg_grade       (ascent + descent) / profiled length: the mean absolute grade.
// RouteElevationMethod() names these choices; the record stores that string.
//
// Thread-safety: pure functions; an ElevationSource must be safe to call from several threads.
//
//   ElevationProfile p = SampleProfile(route.geometry, dem);
//   ClimbFigures c = ComputeClimb(p);
#pragma once

#include <string>
#include <vector>

#include "engine/route/route.hpp"
#include "engine/route/route_record.hpp"

namespace stride::engine {

inline constexpr double kRouteAscentThresholdM = 5.0;
inline constexpr double kRouteProfileSigmaM = 40.0;
inline constexpr double kGradeWindowM = 100.0;

class ElevationSource {
 public:
  virtual ~ElevationSource() = default;
  // Elevation in metres at a WGS84 point; false when the source does not cover it.
  virtual bool ElevationAt(double lat_deg, double lon_deg, double* elevation_m) const = 0;
  // Parts of the source that are there but could not be read when first asked for (a source
  // that loads tiles lazily: a truncated raster, a corrupt zip), one message each. Their points
  // answered false, as if not covered; a caller that needs the elevation reports these.
  // Default: none (a source that reads everything up front fails when it is opened).
  virtual std::vector<std::string> Unreadable() const { return {}; }
};

// Ellipsoidal length of a polyline given as fixed-point points.
double LineLengthM(const PointE7* points, size_t n);
// Sum over the parts of a geometry (gaps between parts add nothing).
double GeometryLengthM(const RouteGeometry& g);

// The point at `distance_m` along the geometry (distances run on across parts as in a
// profile); clamps to the ends.
PointE7 PointAtDistance(const RouteGeometry& g, double distance_m);

// Samples at a uniform spacing per part, at most `max_spacing_m`, both ends of each part
// included. Points the source does not cover are left out; `covered_fraction` (may be null)
// receives the share of samples that had an elevation.
ElevationProfile SampleProfile(const RouteGeometry& g, const ElevationSource& source,
                               double max_spacing_m = kMaxProfileSpacingM,
                               double* covered_fraction = nullptr);

struct ClimbFigures {
  double ascent_m = 0, descent_m = 0;
  double max_grade = 0, avg_grade = 0;
};
// REQUIRES: distances non-decreasing. An empty or one-sample profile gives zeros.
ClimbFigures ComputeClimb(const ElevationProfile& profile);

// The method string stored with each record that has elevation.
std::string RouteElevationMethod();

}  // namespace stride::engine
