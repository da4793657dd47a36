// SPDX-License-Identifier: Apache-2.0
//
// Privacy zones, shared runs and geofences: what others may see of a runner's tracks.
//
//   GET    /v1/me/privacy-zones         {"zones":[...]} (empty when none)
//   PUT    /v1/me/privacy-zones         body {"zones":[ZONE...]}, replaces them all; 200 with
//                                       the zones as stored. ZONE: {"name":"home","lat":..,
//                                       "lon":..,"radius_m":200} (20 to 5000 m), or {"name":..,
//                                       "geometry": a GeoJSON Polygon or MultiPolygon}; at most
//                                       20 zones of at most 1,000 points each
//   POST   /v1/runs/{id}/share          a link anyone may open: 201 {"token","url","track_url"}
//                                       (200 with the same link when it is shared already)
//   DELETE /v1/runs/{id}/share          204; the link answers 404 from then on
//   GET    /v1/shared/{token}           public: the run's summary without owner or place
//   GET    /v1/shared/{token}/track?format=geojson|gpx|polyline6
//                                       public: the track trimmed outside the owner's zones
// The owner's own views (GET /v1/runs/{id}/track, the export) are never trimmed. Zones are
// applied when a shared track is read, so zones set after sharing cover old links too. Every
// surface that shows a track to someone else must go through SharedTrack (today the links;
// webhooks and challenge maps carry no track points).
//
// Storage, in the host-state family (sealed per user under encryption at rest; exported and
// deleted with the user's other host keys):
//   USER 0 "privacy_zones"   {"zones":[...]} as accepted
//   USER 0 "share/" RUN_ID   the run's share token (32 hex digits, 128 random bits)
//   0 "share/" TOKEN         {"user":..,"run":..}: the token's owner and run (shared, unsealed)
// A token of a deleted run or user is found dangling on its next read (404) and removed.
//
// Geofences (stride serve --geofences FILE): a GeoJSON FeatureCollection of Polygon or
// MultiPolygon features named by properties.name; each uploaded run is tagged with the names
// of those it touches (RunSummary::regions).
//
// Thread-safety: safe from any number of threads.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "engine/geometry/zones.hpp"
#include "engine/run/run.hpp"
#include "engine/store/key_value.hpp"
#include "server/auth.hpp"
#include "server/params.hpp"
#include "server/route_api.hpp"
#include "server/run_service.hpp"

namespace stride::server {

inline constexpr size_t kMaxPrivacyZones = 20;
inline constexpr size_t kMaxZonePoints = 1000;

// Zones from their JSON form (the PUT body's "zones" array, or a geofence FeatureCollection);
// errors name `where`, the zone and the field.
Result<std::vector<engine::Zone>> PrivacyZonesFromJson(std::string_view body);
Result<std::unique_ptr<engine::ZoneSet>> GeofencesFromGeoJson(std::string_view text,
                                                              const std::string& where);
Result<std::unique_ptr<engine::ZoneSet>> LoadGeofences(const std::string& path);

class PrivacyStore {
 public:
  explicit PrivacyStore(engine::KeyValue* kv) : kv_(kv) {}

  Result<std::string> ZonesJson(const std::string& user) const;
  // Validates and stores `body` (see above); the stored zones as JSON.
  Result<std::string> PutZones(const std::string& user, std::string_view body);
  // The user's zones, prepared; an empty set when they have none.
  Result<std::unique_ptr<engine::ZoneSet>> Zones(const std::string& user) const;

  // The share token of the run (made when `create` and there is none); nullopt when not shared.
  Result<std::optional<std::string>> Share(const std::string& user, uint64_t run_id, bool create);
  // False when the run was not shared.
  Result<bool> Unshare(const std::string& user, uint64_t run_id);
  // The (user, run) of a token; nullopt when it names nothing. `forget` drops a dangling one.
  Result<std::optional<std::pair<std::string, uint64_t>>> Resolve(const std::string& token) const;
  Status Forget(const std::string& token);

 private:
  engine::KeyValue* kv_;
};

// The track of a shared run as others see it: TrimToOutside of each session with the owner's
// zones. `hidden` counts the points left out.
std::vector<engine::Track> SharedTracks(const engine::Run& run, const engine::ZoneSet& zones,
                                        size_t* hidden);

// The endpoints above (the HTTP layer authenticates and dispatches).
ApiResponse GetPrivacyZones(PrivacyStore& store, const Principal& who);
ApiResponse PutPrivacyZones(PrivacyStore& store, const Principal& who, std::string_view body);
ApiResponse ShareRun(PrivacyStore& store, RunService& runs, const Principal& who,
                     const std::string& id_text);
ApiResponse UnshareRun(PrivacyStore& store, const Principal& who, const std::string& id_text);
ApiResponse GetSharedRun(PrivacyStore& store, RunService& runs, const std::string& token);
ApiResponse GetSharedTrack(PrivacyStore& store, RunService& runs, const std::string& token,
                           const Params& params);

}  // namespace stride::server
