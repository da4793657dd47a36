// SPDX-License-Identifier: Apache-2.0
#include "engine/geometry/zones.hpp"

#include <geos_c.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "engine/geo/geodesy.hpp"

namespace stride::engine {
namespace {

constexpr double kMetresPerDegLat = 111320.0;

std::string DescribeZone(const std::string& where, size_t i, const Zone& z) {
  return where + ": zone " + std::to_string(i) + (z.name.empty() ? "" : " '" + z.name + "'");
}

bool SegmentBoxMiss(const std::array<double, 4>& box, double lat1, double lon1, double lat2,
                    double lon2) {
  return std::max(lat1, lat2) < box[0] || std::max(lon1, lon2) < box[1] ||
         std::min(lat1, lat2) > box[2] || std::min(lon1, lon2) > box[3];
}

}  // namespace

Zone Zone::Circle(std::string name, double lat, double lon, double radius_m) {
  Zone z;
  z.name = std::move(name);
  z.lat = lat;
  z.lon = lon;
  z.radius_m = radius_m;
  return z;
}

Zone Zone::Shape(std::string name, std::vector<Polygon> polygons) {
  Zone z;
  z.name = std::move(name);
  z.polygons = std::move(polygons);
  return z;
}

// The GEOS side: a context of its own and, per zone, its geometry and prepared form (null for
// circles).
struct ZoneSet::Prepared {
  GEOSContextHandle_t ctx = nullptr;
  std::string last_error;
  std::vector<GEOSGeometry*> geoms;
  std::vector<const GEOSPreparedGeometry*> prepared;
  ~Prepared() {
    for (const GEOSPreparedGeometry* p : prepared) {
      if (p) GEOSPreparedGeom_destroy_r(ctx, p);
    }
    for (GEOSGeometry* g : geoms) {
      if (g) GEOSGeom_destroy_r(ctx, g);
    }
    if (ctx) GEOS_finish_r(ctx);
  }
};

namespace {

void OnGeosError(const char* message, void* userdata) {
  if (userdata && message) *static_cast<std::string*>(userdata) = message;
}

// A GEOS linear ring of `ring` (closed here when open); null on failure.
GEOSGeometry* MakeRing(GEOSContextHandle_t ctx, const Zone::Ring& ring) {
  const bool closed = ring.front() == ring.back();
  const unsigned n = static_cast<unsigned>(ring.size() + (closed ? 0 : 1));
  GEOSCoordSequence* seq = GEOSCoordSeq_create_r(ctx, n, 2);
  if (!seq) return nullptr;
  for (unsigned i = 0; i < n; ++i) {
    const auto& p = ring[i % ring.size()];
    GEOSCoordSeq_setXY_r(ctx, seq, i, p[0], p[1]);
  }
  return GEOSGeom_createLinearRing_r(ctx, seq);  // takes seq
}

}  // namespace

ZoneSet::~ZoneSet() = default;

Result<std::unique_ptr<ZoneSet>> ZoneSet::Build(std::vector<Zone> zones, const std::string& where) {
  std::unique_ptr<ZoneSet> set(new ZoneSet());
  set->prepared_ = std::make_unique<Prepared>();
  Prepared& g = *set->prepared_;
  g.ctx = GEOS_init_r();
  if (!g.ctx) return Status::Internal("GEOS: cannot make a context");
  GEOSContext_setErrorMessageHandler_r(g.ctx, OnGeosError, &g.last_error);
  for (size_t i = 0; i < zones.size(); ++i) {
    const Zone& z = zones[i];
    const std::string what = DescribeZone(where, i, z);
    std::array<double, 4> box = {90, 180, -90, -180};
    if (z.is_circle() || z.polygons.empty()) {
      if (!(z.lat >= -90 && z.lat <= 90 && z.lon >= -180 && z.lon <= 180)) {
        return Status::InvalidArgument(what + ": centre: expected lat -90..90 and lon -180..180");
      }
      if (!(z.radius_m >= 1 && z.radius_m <= 100000)) {
        return Status::InvalidArgument(what + ": radius_m: expected 1 to 100000 metres");
      }
      const double dlat = z.radius_m / kMetresPerDegLat * 1.01;
      const double cos_lat = std::cos(z.lat * kDegToRad);
      const double dlon =
          cos_lat < 1e-6 ? 360 : std::min(360.0, z.radius_m / (kMetresPerDegLat * cos_lat) * 1.01);
      box = {z.lat - dlat, z.lon - dlon, z.lat + dlat, z.lon + dlon};
      g.geoms.push_back(nullptr);
      g.prepared.push_back(nullptr);
      set->boxes_.push_back(box);
      continue;
    }
    std::vector<GEOSGeometry*> polys;
    auto drop = [&] {
      for (GEOSGeometry* p : polys) GEOSGeom_destroy_r(g.ctx, p);
    };
    for (size_t k = 0; k < z.polygons.size(); ++k) {
      const Zone::Polygon& poly = z.polygons[k];
      if (poly.empty()) {
        drop();
        return Status::InvalidArgument(what + ": polygon " + std::to_string(k) + " has no ring");
      }
      std::vector<GEOSGeometry*> rings;
      for (size_t r = 0; r < poly.size(); ++r) {
        const Zone::Ring& ring = poly[r];
        Zone::Ring distinct = ring;
        std::sort(distinct.begin(), distinct.end());
        distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
        bool in_range = true;
        for (const auto& p : ring) {
          in_range &= p[0] >= -180 && p[0] <= 180 && p[1] >= -90 && p[1] <= 90;
          if (r == 0) {
            box = {std::min(box[0], p[1]), std::min(box[1], p[0]), std::max(box[2], p[1]),
                   std::max(box[3], p[0])};
          }
        }
        std::string problem;
        if (distinct.size() < 3) problem = "expected at least 3 distinct [lon, lat] points";
        if (!in_range) problem = "a point out of range (expected [lon -180..180, lat -90..90])";
        GEOSGeometry* lr = problem.empty() ? MakeRing(g.ctx, ring) : nullptr;
        if (!lr) {
          for (GEOSGeometry* x : rings) GEOSGeom_destroy_r(g.ctx, x);
          drop();
          return Status::InvalidArgument(what + ": polygon " + std::to_string(k) + ", ring " +
                                         std::to_string(r) + ": " +
                                         (problem.empty() ? "GEOS: " + g.last_error : problem));
        }
        rings.push_back(lr);
      }
      GEOSGeometry* shell = rings.front();
      GEOSGeometry* p = GEOSGeom_createPolygon_r(g.ctx, shell, rings.data() + 1,
                                                 static_cast<unsigned>(rings.size() - 1));
      if (!p) {
        drop();
        return Status::InvalidArgument(what + ": GEOS: " + g.last_error);
      }
      polys.push_back(p);
    }
    GEOSGeometry* geom = polys.size() == 1
                             ? polys.front()
                             : GEOSGeom_createCollection_r(g.ctx, GEOS_MULTIPOLYGON, polys.data(),
                                                           static_cast<unsigned>(polys.size()));
    if (!geom) {
      drop();
      return Status::InvalidArgument(what + ": GEOS: " + g.last_error);
    }
    if (GEOSisValid_r(g.ctx, geom) != 1) {
      char* reason = GEOSisValidReason_r(g.ctx, geom);
      const std::string why = reason ? reason : "invalid";
      if (reason) GEOSFree_r(g.ctx, reason);
      GEOSGeom_destroy_r(g.ctx, geom);
      return Status::InvalidArgument(what + ": not a valid polygon: " + why +
                                     " (rings must not cross themselves or each other)");
    }
    g.geoms.push_back(geom);
    g.prepared.push_back(GEOSPrepare_r(g.ctx, geom));
    if (!g.prepared.back()) return Status::Internal(what + ": GEOS: " + g.last_error);
    set->boxes_.push_back(box);
  }
  set->zones_ = std::move(zones);
  return set;
}

bool ZoneSet::Contains(size_t i, double lat, double lon) const {
  const std::array<double, 4>& b = boxes_[i];
  if (lat < b[0] || lon < b[1] || lat > b[2] || lon > b[3]) return false;
  const Zone& z = zones_[i];
  if (!prepared_->prepared[i]) return SegmentDistanceM(z.lat, z.lon, lat, lon) <= z.radius_m;
  std::lock_guard lock(geos_mu_);
  GEOSContextHandle_t ctx = prepared_->ctx;
  GEOSGeometry* pt = GEOSGeom_createPointFromXY_r(ctx, lon, lat);
  const bool in = pt && GEOSPreparedIntersects_r(ctx, prepared_->prepared[i], pt) == 1;
  if (pt) GEOSGeom_destroy_r(ctx, pt);
  return in;
}

bool ZoneSet::ContainsAny(double lat, double lon) const {
  for (size_t i = 0; i < zones_.size(); ++i) {
    if (Contains(i, lat, lon)) return true;
  }
  return false;
}

bool ZoneSet::SegmentTouches(size_t i, double lat1, double lon1, double lat2, double lon2) const {
  if (SegmentBoxMiss(boxes_[i], lat1, lon1, lat2, lon2)) return false;
  const Zone& z = zones_[i];
  if (!prepared_->prepared[i]) {
    // The centre's distance to the segment, in a plane around the centre.
    const LocalPlane plane(z.lat, z.lon);
    double x1, y1, x2, y2;
    plane.ToMetres(lat1, lon1, &x1, &y1);
    plane.ToMetres(lat2, lon2, &x2, &y2);
    const double dx = x2 - x1, dy = y2 - y1, len2 = dx * dx + dy * dy;
    const double t = len2 > 0 ? std::clamp(-(x1 * dx + y1 * dy) / len2, 0.0, 1.0) : 0.0;
    const double px = x1 + t * dx, py = y1 + t * dy;
    return std::sqrt(px * px + py * py) <= z.radius_m;
  }
  std::lock_guard lock(geos_mu_);
  GEOSContextHandle_t ctx = prepared_->ctx;
  GEOSCoordSequence* seq = GEOSCoordSeq_create_r(ctx, 2, 2);
  if (!seq) return true;  // cannot tell: hide rather than show
  GEOSCoordSeq_setXY_r(ctx, seq, 0, lon1, lat1);
  GEOSCoordSeq_setXY_r(ctx, seq, 1, lon2, lat2);
  GEOSGeometry* line = GEOSGeom_createLineString_r(ctx, seq);
  if (!line) return true;
  const char hit = GEOSPreparedIntersects_r(ctx, prepared_->prepared[i], line);
  GEOSGeom_destroy_r(ctx, line);
  return hit != 0;  // 2 (an error) hides too
}

bool ZoneSet::SegmentTouchesAny(double lat1, double lon1, double lat2, double lon2) const {
  for (size_t i = 0; i < zones_.size(); ++i) {
    if (SegmentTouches(i, lat1, lon1, lat2, lon2)) return true;
  }
  return false;
}

std::vector<size_t> ZoneSet::TouchedBy(const Track& track) const {
  std::vector<size_t> out;
  // The track's box first: a zone outside it is passed over without looking at a point.
  const std::optional<TrackBounds> box = PositionBounds(track);
  if (!box) return out;
  for (size_t z = 0; z < zones_.size(); ++z) {
    const std::array<double, 4>& b = boxes_[z];
    if (b[0] > box->max_lat || b[2] < box->min_lat || b[1] > box->max_lon || b[3] < box->min_lon) {
      continue;
    }
    bool touched = false;
    size_t seg = 0;
    size_t prev = SIZE_MAX;
    for (size_t i = 0; i < track.size() && !touched; ++i) {
      while (seg + 1 < track.segment_starts.size() && track.segment_starts[seg + 1] <= i) {
        ++seg;
        prev = SIZE_MAX;  // no line across a segment gap
      }
      if (!track.has_position(i)) continue;
      touched = Contains(z, track.lat_deg[i], track.lon_deg[i]) ||
                (prev != SIZE_MAX && SegmentTouches(z, track.lat_deg[prev], track.lon_deg[prev],
                                                    track.lat_deg[i], track.lon_deg[i]));
      prev = i;
    }
    if (touched) out.push_back(z);
  }
  return out;
}

Track TrimToOutside(const Track& track, const ZoneSet& zones, TrimReport* report) {
  TrimReport r;
  Track out;
  out.sport = track.sport;
  out.sport_name = track.sport_name;
  out.sub_sport = track.sub_sport;
  out.format = track.format;
  out.altitude_source = track.altitude_source;
  size_t seg = 0;
  size_t last_kept = SIZE_MAX;  // index in `track` of the last point kept, in this piece
  size_t piece_start = 0;       // index in `out` where the current piece starts
  auto close_piece = [&] {
    // A piece of one point draws nothing: take it back.
    if (last_kept != SIZE_MAX && out.size() - piece_start == 1) {
      for (auto* v : {&out.time_s, &out.lat_deg, &out.lon_deg, &out.ele_m, &out.hr_bpm,
                      &out.cadence_rpm, &out.speed_mps, &out.power_w, &out.distance_m,
                      &out.temperature_c, &out.gps_accuracy_m}) {
        v->pop_back();
      }
      out.segment_starts.pop_back();
    }
    last_kept = SIZE_MAX;
  };
  for (size_t i = 0; i < track.size(); ++i) {
    if (seg + 1 < track.segment_starts.size() && track.segment_starts[seg + 1] == i) {
      ++seg;
      close_piece();
    }
    if (!track.has_position(i)) continue;
    ++r.points_in;
    const double lat = track.lat_deg[i], lon = track.lon_deg[i];
    if (zones.ContainsAny(lat, lon)) {
      ++r.points_hidden;
      if (last_kept != SIZE_MAX) ++r.cuts;
      close_piece();
      continue;
    }
    if (last_kept != SIZE_MAX &&
        zones.SegmentTouchesAny(track.lat_deg[last_kept], track.lon_deg[last_kept], lat, lon)) {
      ++r.cuts;
      close_piece();
    }
    if (last_kept == SIZE_MAX) {
      piece_start = out.size();
      out.StartSegment();
    }
    out.Append(track.PointAt(i));
    last_kept = i;
  }
  close_piece();
  if (report) *report = r;
  return out;
}

}  // namespace stride::engine
