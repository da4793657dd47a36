// SPDX-License-Identifier: Apache-2.0
//
// Zones on the map: circles and polygons a track is tested against, for privacy zones (a
// runner's home and work, hidden from what others see of their tracks) and geofences
// (regions a run is tagged with, such as those whose health-data laws apply).
//
// Circles are exact: great-circle distance to the centre (points), and the distance from the
// centre to a segment in a local equirectangular frame (exact to well under a metre for
// segments of a few kilometres). Polygons go through GEOS prepared geometries (robust
// predicates, an index built once per polygon), with each zone's bounding box tested first so
// a track far from every zone costs a few comparisons per point. Boundaries count as inside.
//
// Thread-safety: a ZoneSet is immutable after Build and safe from any number of threads (GEOS
// prepared geometries build their index lazily, so queries are serialised inside).
//
//   Result<std::unique_ptr<ZoneSet>> zones = ZoneSet::Build({Zone::Circle("home", 45.1, 6.2,
//   250)}, "privacy zones");
//   Track shown = TrimToOutside(track, **zones);   // nothing of `shown` lies inside
#pragma once

#include <array>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/status.hpp"
#include "engine/track/track.hpp"

namespace stride::engine {

struct Zone {
  using Ring = std::vector<std::array<double, 2>>;  // (lon, lat), closed or not
  using Polygon = std::vector<Ring>;                // the outer ring, then holes

  std::string name;
  // A circle when radius_m > 0.
  double lat = kNaN, lon = kNaN, radius_m = 0;
  // Otherwise one or more polygons (a GeoJSON Polygon or MultiPolygon).
  std::vector<Polygon> polygons;

  static Zone Circle(std::string name, double lat, double lon, double radius_m);
  static Zone Shape(std::string name, std::vector<Polygon> polygons);
  bool is_circle() const { return radius_m > 0; }
};

class ZoneSet {
 public:
  // Checks and prepares `zones`: circles with a centre on the globe and a radius of 1 m to
  // 100 km; polygon rings of at least 3 distinct points in range, and valid polygons (GEOS's
  // validity: no self-intersections, holes inside). Errors name `where`, the zone's index and
  // name, and what was expected.
  static Result<std::unique_ptr<ZoneSet>> Build(std::vector<Zone> zones, const std::string& where);
  ~ZoneSet();
  ZoneSet(const ZoneSet&) = delete;
  ZoneSet& operator=(const ZoneSet&) = delete;

  size_t size() const { return zones_.size(); }
  const Zone& zone(size_t i) const { return zones_[i]; }

  // Whether the point lies in zone `i` / in any zone.
  bool Contains(size_t i, double lat, double lon) const;
  bool ContainsAny(double lat, double lon) const;
  // Whether the straight segment between two points touches any zone.
  bool SegmentTouchesAny(double lat1, double lon1, double lat2, double lon2) const;
  // The zones a track touches (a point inside, or a segment between consecutive positioned
  // points of one recorded segment crossing), by index in zone order.
  std::vector<size_t> TouchedBy(const Track& track) const;

 private:
  struct Prepared;
  ZoneSet() = default;
  bool SegmentTouches(size_t i, double lat1, double lon1, double lat2, double lon2) const;

  std::vector<Zone> zones_;
  std::vector<std::array<double, 4>> boxes_;  // min lat, min lon, max lat, max lon per zone
  std::unique_ptr<Prepared> prepared_;        // GEOS context and prepared polygons
  mutable std::mutex geos_mu_;
};

struct TrimReport {
  size_t points_in = 0;      // positioned points of the track
  size_t points_hidden = 0;  // of them, inside a zone
  size_t cuts = 0;           // gaps made: where the track entered a zone or a line crossed one
};

// The track as others may see it: every positioned point outside all zones, split into
// recorded segments wherever points were hidden or the straight line between two kept points
// would cross a zone, so no point and no drawn line lies inside a zone. Segments left with
// fewer than 2 points are dropped. All streams of kept points are copied; laps and device
// totals are not (they describe the whole recording).
Track TrimToOutside(const Track& track, const ZoneSet& zones, TrimReport* report = nullptr);

}  // namespace stride::engine
