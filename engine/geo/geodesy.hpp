// SPDX-License-Identifier: Apache-2.0
//
// Geodesy on the WGS84 ellipsoid for track-scale distances, and a local metric plane.
//
// SegmentDistanceM() measures one step of a track (metres to a few kilometres) with the
// meridional and prime-vertical radii of curvature at the segment's mid-latitude. Against a
// Karney geodesic it errs by under 1e-6 relative below 10 km; longer segments fall back to
// Vincenty's inverse formula. Tracks are sums of short steps, so a track length agrees with a
// Karney sum far inside the 0.05 % that ARCHITECTURE.md asks for (tests check it with PROJ's
// geod_inverse).
//
// LocalPlane maps lat/lon to east/north metres around an origin (equirectangular with the
// ellipsoid's radii at the origin). It is exact to invert, so a filter can work in metres and
// hand back degrees; its scale drifts by ~1e-4 at 10 km from the origin, which is harmless for
// smoothing because distances are measured ellipsoidally afterwards.
//
// Thread-safety: all functions are pure; LocalPlane is immutable after construction.
#pragma once

namespace stride::engine {

inline constexpr double kWgs84A = 6378137.0;
inline constexpr double kWgs84F = 1.0 / 298.257223563;
inline constexpr double kPi = 3.14159265358979323846;
inline constexpr double kDegToRad = kPi / 180.0;

// Ellipsoidal distance in metres between two WGS84 points given in degrees.
double SegmentDistanceM(double lat1_deg, double lon1_deg, double lat2_deg, double lon2_deg);

// Vincenty's inverse formula; returns NaN when it does not converge (near-antipodal points).
double VincentyDistanceM(double lat1_deg, double lon1_deg, double lat2_deg, double lon2_deg);

// SegmentDistanceM for the many short steps of one track, without a sine and cosine per step:
// the mid-latitude's cosine comes from a Taylor expansion around a reference latitude (exact
// to 1e-12 within 0.1 rad, about 600 km, of it). Outside that, or for steps over 10 km, it
// calls SegmentDistanceM. Agrees with SegmentDistanceM to 1e-9 relative.
class TrackGeodesy {
 public:
  explicit TrackGeodesy(double reference_lat_deg);
  double DistanceM(double lat1_deg, double lon1_deg, double lat2_deg, double lon2_deg) const;

 private:
  double phi0_, sin0_, cos0_;
};

// A longitude difference, or a longitude, brought into [-180, 180] (the short way round).
inline double WrapLongitude(double deg) {
  if (deg > 180.0) return deg - 360.0;
  if (deg < -180.0) return deg + 360.0;
  return deg;
}

class LocalPlane {
 public:
  LocalPlane(double origin_lat_deg, double origin_lon_deg);

  // Longitudes are taken the short way round from the origin's, so a track that crosses the
  // 180th meridian (Fiji's Taveuni, Chukotka) stays a few metres wide instead of 40,000 km;
  // ToDegrees gives longitudes back in [-180, 180].
  void ToMetres(double lat_deg, double lon_deg, double* east_m, double* north_m) const {
    *east_m = WrapLongitude(lon_deg - lon0_) * m_per_deg_lon_;
    *north_m = (lat_deg - lat0_) * m_per_deg_lat_;
  }
  void ToDegrees(double east_m, double north_m, double* lat_deg, double* lon_deg) const {
    *lat_deg = lat0_ + north_m / m_per_deg_lat_;
    *lon_deg = WrapLongitude(lon0_ + east_m / m_per_deg_lon_);
  }

 private:
  double lat0_, lon0_;
  double m_per_deg_lat_, m_per_deg_lon_;
};

}  // namespace stride::engine
