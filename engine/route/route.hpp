// SPDX-License-Identifier: Apache-2.0
//
// Routes as search sees them: a fixed-size RouteSummary per route (what the spatial index keeps
// in memory and filters on), the route's geometry (for exact intersection and distance), and
// the filters a query may carry.
//
// Coordinates are WGS84 fixed-point, 1e-7 degree (OSM's precision). Distances between a query
// point and a route are measured in a plane centred on the query point (equirectangular with
// the ellipsoid's radii there): affine in lat/lon, so a bounding box maps to a box and its
// distance is a true lower bound of the route's — the index prunes with it, exactly. The plane
// is exact at the query point; away from it, the east-west scale stays the query latitude's, so
// the error grows with the north-south offset times tan(latitude): at 60 N about 0.3 % at 10 km
// and 3 % at 100 km (less further south). Nearest lists are exact for the distances a runner
// acts on; far-away near-ties may order differently from a geodesic (bench/scripts/
// routes_vs_postgis.sh measures how often and by how much).
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

namespace stride::engine {

enum class RouteType : uint8_t {
  kHiking = 0,
  kFoot,
  kWalking,
  kRunning,
  kFitnessTrail,
  kNordicWalking,
  kNamedTrail,  // connected ways with one name, not a relation
  kOther,
};
inline constexpr uint32_t TypeBit(RouteType t) {
  return 1u << static_cast<uint32_t>(t);
}

enum class Surface : uint8_t { kUnknown = 0, kPaved, kUnpaved, kMixed };
inline constexpr uint32_t SurfaceBit(Surface s) {
  return 1u << static_cast<uint32_t>(s);
}

struct PointE7 {
  int32_t lat = 0;
  int32_t lon = 0;
  bool operator==(const PointE7&) const = default;
};

// The point a fraction t of the way from a to b, linearly in degrees, rounded to 1e-7. In
// doubles: two longitudes more than 215 degrees apart differ by more than an int32 holds.
inline PointE7 LerpE7(PointE7 a, PointE7 b, double t) {
  return {static_cast<int32_t>(std::lround(a.lat + t * (static_cast<double>(b.lat) - a.lat))),
          static_cast<int32_t>(std::lround(a.lon + t * (static_cast<double>(b.lon) - a.lon)))};
}

struct BoxE7 {
  int32_t min_lat = std::numeric_limits<int32_t>::max();
  int32_t min_lon = std::numeric_limits<int32_t>::max();
  int32_t max_lat = std::numeric_limits<int32_t>::min();
  int32_t max_lon = std::numeric_limits<int32_t>::min();

  void Extend(PointE7 p);
  void Extend(const BoxE7& b);
  bool Intersects(const BoxE7& b) const {
    return min_lat <= b.max_lat && b.min_lat <= max_lat && min_lon <= b.max_lon &&
           b.min_lon <= max_lon;
  }
  bool Contains(PointE7 p) const {
    return p.lat >= min_lat && p.lat <= max_lat && p.lon >= min_lon && p.lon <= max_lon;
  }
  bool empty() const { return min_lat > max_lat; }
};

// The fixed-size part of a route (56 bytes).
struct RouteSummary {
  uint64_t id = 0;
  BoxE7 bbox;
  PointE7 start;
  float length_m = 0;
  float ascent_m = 0;
  float max_grade = 0;  // fraction
  RouteType type = RouteType::kOther;
  Surface surface = Surface::kUnknown;
  uint8_t difficulty = 0;  // sac_scale 0 (none / T1) .. 6
  uint8_t network = 0;     // 0 unknown, 1 international, 2 national, 3 regional, 4 local
  bool loop = false;
};

static_assert(sizeof(RouteSummary) == 56, "RouteSummary is kept in memory per route");

// One polyline per part (a relation with gaps has several).
struct RouteGeometry {
  std::vector<PointE7> points;
  std::vector<uint32_t> part_starts;  // index of each part's first point; starts with 0
};

// Calls f(begin, end) with the point range of each non-empty part, in order. A geometry
// without part_starts is one part.
template <typename F>
void ForEachPart(const RouteGeometry& g, F&& f) {
  const size_t n = g.points.size();
  if (n == 0) return;
  if (g.part_starts.empty()) {
    f(size_t{0}, n);
    return;
  }
  for (size_t k = 0; k < g.part_starts.size(); ++k) {
    const size_t b = g.part_starts[k];
    const size_t e = k + 1 < g.part_starts.size() ? g.part_starts[k + 1] : n;
    if (b < e && e <= n) f(b, e);
  }
}

// What a query accepts. Every default lets everything through.
struct RouteFilter {
  float min_length_m = 0;
  float max_length_m = std::numeric_limits<float>::infinity();
  float min_ascent_m = 0;
  float max_ascent_m = std::numeric_limits<float>::infinity();
  float max_grade = std::numeric_limits<float>::infinity();
  uint32_t type_mask = ~0u;     // TypeBit()s allowed
  uint32_t surface_mask = ~0u;  // SurfaceBit()s allowed
  uint8_t max_difficulty = 255;
  uint32_t network_mask = ~0u;  // 1 << network
  std::optional<bool> loop;     // only loops / only point-to-point

  bool Matches(const RouteSummary& r) const {
    return r.length_m >= min_length_m && r.length_m <= max_length_m && r.ascent_m >= min_ascent_m &&
           r.ascent_m <= max_ascent_m && r.max_grade <= max_grade &&
           (type_mask & TypeBit(r.type)) != 0 && (surface_mask & SurfaceBit(r.surface)) != 0 &&
           r.difficulty <= max_difficulty && (network_mask & (1u << r.network)) != 0 &&
           (!loop || *loop == r.loop);
  }
};

// Metres in a plane centred on a point (see the file comment).
class QueryPlane {
 public:
  explicit QueryPlane(PointE7 centre);
  double X(int32_t lon) const { return (static_cast<double>(lon) - lon0_) * m_per_e7_lon_; }
  double Y(int32_t lat) const { return (static_cast<double>(lat) - lat0_) * m_per_e7_lat_; }
  // Distance (metres) from the centre to the nearest point of a box; 0 inside.
  double DistanceToBox(const BoxE7& b) const;
  // Distance from the centre to the nearest point of the geometry.
  double DistanceToGeometry(const RouteGeometry& g) const;

 private:
  double lat0_, lon0_;
  double m_per_e7_lat_, m_per_e7_lon_;
};

// Whether any segment of the geometry (or a single-point part) touches the box.
bool GeometryIntersectsBox(const RouteGeometry& g, const BoxE7& box);

}  // namespace stride::engine
