// SPDX-License-Identifier: Apache-2.0
#include "engine/geo/geodesy.hpp"

#include <cmath>
#include <limits>

namespace stride::engine {
namespace {

constexpr double kE2 = kWgs84F * (2.0 - kWgs84F);  // first eccentricity squared
constexpr double kVincentyCutoverM = 10000.0;

// Meridional (M) and prime-vertical (N) radii of curvature at latitude phi (radians).
inline void Radii(double phi, double* m, double* n) {
  const double s = std::sin(phi);
  const double w2 = 1.0 - kE2 * s * s;
  const double w = std::sqrt(w2);
  *n = kWgs84A / w;
  *m = kWgs84A * (1.0 - kE2) / (w2 * w);
}

}  // namespace

double SegmentDistanceM(double lat1_deg, double lon1_deg, double lat2_deg, double lon2_deg) {
  const double phi1 = lat1_deg * kDegToRad, phi2 = lat2_deg * kDegToRad;
  const double dlon = WrapLongitude(lon2_deg - lon1_deg);
  const double phim = 0.5 * (phi1 + phi2);
  double m, n;
  Radii(phim, &m, &n);
  const double dy = m * (phi2 - phi1);
  const double dx = n * std::cos(phim) * dlon * kDegToRad;
  const double d = std::sqrt(dx * dx + dy * dy);
  if (d < kVincentyCutoverM) return d;
  const double v = VincentyDistanceM(lat1_deg, lon1_deg, lat2_deg, lon2_deg);
  return std::isnan(v) ? d : v;
}

double VincentyDistanceM(double lat1_deg, double lon1_deg, double lat2_deg, double lon2_deg) {
  const double a = kWgs84A, f = kWgs84F, b = a * (1 - f);
  const double L = (lon2_deg - lon1_deg) * kDegToRad;
  const double u1 = std::atan((1 - f) * std::tan(lat1_deg * kDegToRad));
  const double u2 = std::atan((1 - f) * std::tan(lat2_deg * kDegToRad));
  const double sin_u1 = std::sin(u1), cos_u1 = std::cos(u1);
  const double sin_u2 = std::sin(u2), cos_u2 = std::cos(u2);
  double lambda = L, lambda_prev;
  double sin_sigma = 0, cos_sigma = 0, sigma = 0, cos2_alpha = 0, cos_2sigma_m = 0;
  for (int iter = 0; iter < 200; ++iter) {
    const double sin_l = std::sin(lambda), cos_l = std::cos(lambda);
    const double t1 = cos_u2 * sin_l;
    const double t2 = cos_u1 * sin_u2 - sin_u1 * cos_u2 * cos_l;
    sin_sigma = std::sqrt(t1 * t1 + t2 * t2);
    if (sin_sigma == 0) return 0.0;  // coincident points
    cos_sigma = sin_u1 * sin_u2 + cos_u1 * cos_u2 * cos_l;
    sigma = std::atan2(sin_sigma, cos_sigma);
    const double sin_alpha = cos_u1 * cos_u2 * sin_l / sin_sigma;
    cos2_alpha = 1 - sin_alpha * sin_alpha;
    cos_2sigma_m = cos2_alpha != 0 ? cos_sigma - 2 * sin_u1 * sin_u2 / cos2_alpha : 0.0;
    const double c = f / 16 * cos2_alpha * (4 + f * (4 - 3 * cos2_alpha));
    lambda_prev = lambda;
    lambda = L + (1 - c) * f * sin_alpha *
                     (sigma +
                      c * sin_sigma *
                          (cos_2sigma_m + c * cos_sigma * (-1 + 2 * cos_2sigma_m * cos_2sigma_m)));
    if (std::fabs(lambda - lambda_prev) < 1e-12) {
      const double u_sq = cos2_alpha * (a * a - b * b) / (b * b);
      const double A = 1 + u_sq / 16384 * (4096 + u_sq * (-768 + u_sq * (320 - 175 * u_sq)));
      const double B = u_sq / 1024 * (256 + u_sq * (-128 + u_sq * (74 - 47 * u_sq)));
      const double delta_sigma =
          B * sin_sigma *
          (cos_2sigma_m + B / 4 *
                              (cos_sigma * (-1 + 2 * cos_2sigma_m * cos_2sigma_m) -
                               B / 6 * cos_2sigma_m * (-3 + 4 * sin_sigma * sin_sigma) *
                                   (-3 + 4 * cos_2sigma_m * cos_2sigma_m)));
      return b * A * (sigma - delta_sigma);
    }
  }
  return std::numeric_limits<double>::quiet_NaN();
}

TrackGeodesy::TrackGeodesy(double reference_lat_deg)
    : phi0_(reference_lat_deg * kDegToRad), sin0_(std::sin(phi0_)), cos0_(std::cos(phi0_)) {}

double TrackGeodesy::DistanceM(double lat1_deg, double lon1_deg, double lat2_deg,
                               double lon2_deg) const {
  const double phi1 = lat1_deg * kDegToRad, phi2 = lat2_deg * kDegToRad;
  const double phim = 0.5 * (phi1 + phi2);
  const double d = phim - phi0_;
  double dlon = lon2_deg - lon1_deg;
  if (std::fabs(d) > 0.1 || std::fabs(dlon) > 0.1 || std::fabs(phi2 - phi1) > 0.002) {
    return SegmentDistanceM(lat1_deg, lon1_deg, lat2_deg, lon2_deg);
  }
  const double d2 = d * d;
  const double cosd = 1 - d2 / 2 * (1 - d2 / 12 * (1 - d2 / 30 * (1 - d2 / 56)));
  const double sind = d * (1 - d2 / 6 * (1 - d2 / 20 * (1 - d2 / 42 * (1 - d2 / 72))));
  const double c = cos0_ * cosd - sin0_ * sind;  // cos(phim)
  const double s2 = 1 - c * c;                   // sin^2(phim)
  // 1 / sqrt(1 - x) for x = e^2 sin^2(phi) <= 0.0067: five terms of its series leave an
  // error of ~1e-11, and no division or second square root.
  const double x = kE2 * s2;
  const double inv_w = 1 + x * (0.5 + x * (0.375 + x * (0.3125 + x * 0.2734375)));
  const double n = kWgs84A * inv_w;
  const double m = kWgs84A * (1.0 - kE2) * inv_w * inv_w * inv_w;
  const double dy = m * (phi2 - phi1);
  const double dx = n * c * dlon * kDegToRad;
  return std::sqrt(dx * dx + dy * dy);
}

LocalPlane::LocalPlane(double origin_lat_deg, double origin_lon_deg)
    : lat0_(origin_lat_deg), lon0_(origin_lon_deg) {
  double m, n;
  const double phi = origin_lat_deg * kDegToRad;
  Radii(phi, &m, &n);
  m_per_deg_lat_ = m * kDegToRad;
  m_per_deg_lon_ = n * std::cos(phi) * kDegToRad;
  if (m_per_deg_lon_ < 1e-3) m_per_deg_lon_ = 1e-3;  // at a pole the east axis degenerates
}

}  // namespace stride::engine
