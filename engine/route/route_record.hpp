// SPDX-License-Identifier: Apache-2.0
//
// The full record of a route (what `GET /v1/routes/{id}` shows and what the routes column
// family stores), the edges of the walkable trail network, and the ids that tie both to OSM.
//
// Route ids carry their origin in the top byte so that relation and trail ids never collide
// and sort by origin, then by OSM id:
//   RouteIdForRelation(123) == 0x0100'0000'0000'007B, RouteIdForNamedTrail(way 42) == 0x02..2A.
// A named trail takes the id of the smallest way id among its ways, so the same input always
// gives the same id.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/route/route.hpp"

namespace stride::engine {

enum class OsmOrigin : uint8_t { kUnknown = 0, kRelation = 1, kNamedTrail = 2 };

inline constexpr uint64_t kRouteIdOsmMask = (uint64_t{1} << 56) - 1;
inline constexpr uint64_t RouteIdFor(OsmOrigin origin, uint64_t osm_id) {
  return (static_cast<uint64_t>(origin) << 56) | (osm_id & kRouteIdOsmMask);
}
inline constexpr uint64_t RouteIdForRelation(uint64_t relation_id) {
  return RouteIdFor(OsmOrigin::kRelation, relation_id);
}
inline constexpr uint64_t RouteIdForNamedTrail(uint64_t way_id) {
  return RouteIdFor(OsmOrigin::kNamedTrail, way_id);
}
inline constexpr OsmOrigin RouteIdOrigin(uint64_t route_id) {
  return static_cast<OsmOrigin>(route_id >> 56);
}
inline constexpr uint64_t RouteIdOsmId(uint64_t route_id) {
  return route_id & kRouteIdOsmMask;
}

// Elevation along a line, sampled at most every `kMaxProfileSpacingM` metres of the main line
// (distances run on across gaps between parts; a gap adds no distance).
inline constexpr double kMaxProfileSpacingM = 30.0;
struct ElevationProfile {
  std::vector<float> distance_m;
  std::vector<float> elevation_m;  // bilinear DEM value, voids filled; not smoothed
  bool empty() const { return distance_m.empty(); }
};

// Lines of a relation that are not its main line, kept apart by role.
struct RouteBranch {
  std::string role;  // forward, backward, alternative, excursion, approach, ...
  RouteGeometry geometry;
  double length_m = 0;
};

struct SurfaceShare {
  std::string surface;  // the OSM surface value, or "unknown"
  double length_m = 0;
};

struct Route {
  RouteSummary summary;  // id, bbox, start, length, ascent, grade, type, flags
  OsmOrigin origin = OsmOrigin::kUnknown;
  uint64_t osm_id = 0;  // relation id, or the smallest way id of a named trail
  std::string name, ref, network, operator_name, symbol, sac_scale, website, description;
  std::string route_tag;   // the relation's route=* value ("hiking", ...), "trail" for trails
  RouteGeometry geometry;  // the main line, one part per continuous piece
  std::vector<RouteBranch> branches;
  std::vector<uint64_t> member_ways;       // main-line way ids in line order (relations, trails)
  std::vector<uint64_t> member_relations;  // super-routes: child relation ids in member order
  uint32_t missing_members = 0;            // members not in the input (extract boundary)
  double length_m = 0;                     // main line, ellipsoidal
  double ascent_m = 0, descent_m = 0;      // from the smoothed profile, hysteresis
  double max_grade = 0, avg_grade = 0;     // fractions; see engine/route/profile.hpp
  std::vector<SurfaceShare> surfaces;      // metres per surface, longest first
  ElevationProfile profile;
  std::string elevation_method;  // empty when no DEM covered the route
};

// One edge of the walkable network: a piece of an OSM way between two junctions (or ends).
struct TrailEdge {
  uint64_t id = 0;  // dense, in (way id, position) order
  uint64_t way_id = 0;
  uint64_t from_node = 0, to_node = 0;
  std::vector<PointE7> points;
  double length_m = 0;
  float ascent_m = 0, descent_m = 0;  // along the way's direction; 0 without a DEM
  bool has_elevation = false;
  std::string highway;  // the OSM highway value
  std::string name;
  uint8_t foot = 0;                           // 0 default access, 1 yes, 2 designated
  std::string surface;                        // the OSM surface value ("" when untagged)
  Surface surface_class = Surface::kUnknown;  // the tag's class, else the highway's implied one
  uint8_t sac = 0;                            // sac_scale level 0..6 (0 untagged)
  std::vector<float> elevations;  // metres at each point (DEM, unsmoothed); empty without DEM
};

}  // namespace stride::engine
