// SPDX-License-Identifier: Apache-2.0
#include "server/openapi.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "engine/text/join.hpp"
#include "engine/text/utf8.hpp"

namespace stride::server {
namespace {

using OJson = nlohmann::ordered_json;

// ---- shared schemas, parameters and answers ---------------------------------------------------

constexpr const char* kSchemas = R"json({
 "Error": {"type": "object", "required": ["error"], "properties": {
   "error": {"type": "object", "required": ["code", "message"], "properties": {
     "code": {"type": "string", "pattern": "^[a-z_]+$",
              "description": "invalid_argument, unauthenticated, permission_denied, not_found, conflict, too_large, rate_limited, unreadable_file, idempotency_conflict, unavailable, internal ..."},
     "message": {"type": "string", "description": "what was wrong, where, and what was expected"}}}}},
 "Snapped": {"type": "object", "required": ["lat", "lon", "distance_m"], "properties": {
   "lat": {"type": "number"}, "lon": {"type": "number"},
   "distance_m": {"type": "number", "description": "from the point asked for to the graph"}}},
 "LonLat": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
 "BBox": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4,
          "description": "minlon, minlat, maxlon, maxlat in degrees"},
 "ElevationProfile": {"type": "object", "required": ["distance_m", "elevation_m"], "properties": {
   "distance_m": {"type": "array", "items": {"type": "number"}},
   "elevation_m": {"type": "array", "items": {"type": ["number", "null"]}}}},
 "RouteSummary": {"type": "object",
   "required": ["id", "osm", "name", "type", "length_m", "ascent_m", "loop", "start", "bbox"],
   "properties": {
     "id": {"type": "integer"}, "osm": {"type": "string", "description": "r123 or w456"},
     "name": {"type": ["string", "null"]}, "type": {"type": "string"},
     "length_m": {"type": "number"}, "ascent_m": {"type": "number"},
     "max_grade": {"type": "number"}, "loop": {"type": "boolean"},
     "surface": {"type": "string"}, "difficulty": {"type": "integer"},
     "network": {"type": ["string", "null"]}, "start": {"$ref": "#/components/schemas/LonLat"},
     "bbox": {"$ref": "#/components/schemas/BBox"},
     "distance_m": {"type": ["number", "null"],
                    "description": "from the query point (nearest); null in a box search"}}},
 "RouteList": {"type": "object", "required": ["routes", "next_cursor"], "properties": {
   "routes": {"type": "array", "items": {"$ref": "#/components/schemas/RouteSummary"}},
   "next_cursor": {"type": ["string", "null"], "description": "pass as cursor= for the next page"}}},
 "Route": {"type": "object",
   "required": ["id", "osm", "type", "name", "length_m", "ascent_m", "descent_m", "loop", "bbox", "geometry"],
   "properties": {
     "id": {"type": "integer"}, "osm": {"type": "string"}, "type": {"type": "string"},
     "name": {"type": ["string", "null"]}, "ref": {"type": ["string", "null"]},
     "network": {"type": ["string", "null"]},
     "length_m": {"type": "number"}, "ascent_m": {"type": "number"}, "descent_m": {"type": "number"},
     "max_grade": {"type": "number"}, "avg_grade": {"type": "number"}, "loop": {"type": "boolean"},
     "parts": {"type": "integer"}, "bbox": {"$ref": "#/components/schemas/BBox"},
     "surfaces": {"type": "array", "items": {"type": "object", "required": ["surface", "length_m"],
       "properties": {"surface": {"type": "string"}, "length_m": {"type": "number"}}}},
     "geometry": {"type": "object", "required": ["type"], "properties": {"type": {"type": "string"}},
                  "description": "polyline6 parts, or a GeoJSON MultiLineString with format=geojson"},
     "elevation_method": {"type": "string"}}},
 "RouteProfile": {"type": "object", "required": ["id", "length_m", "ascent_m", "descent_m", "profile"],
   "properties": {"id": {"type": "integer"}, "length_m": {"type": "number"},
     "ascent_m": {"type": "number"}, "descent_m": {"type": "number"},
     "max_grade": {"type": "number"}, "avg_grade": {"type": "number"},
     "elevation_method": {"type": "string"},
     "profile": {"$ref": "#/components/schemas/ElevationProfile"}}},
 "RouteOnPath": {"type": "object", "required": ["id", "osm", "name", "distance_m"], "properties": {
   "id": {"type": "integer"}, "osm": {"type": "string"}, "name": {"type": ["string", "null"]},
   "distance_m": {"type": "number"}}},
 "SurfaceShare": {"type": "object", "required": ["surface", "distance_m"], "properties": {
   "surface": {"type": "string"}, "distance_m": {"type": "number"}}},
 "Geometry": {"type": ["string", "object"],
   "description": "an encoded polyline (precision 6), or a GeoJSON LineString with format=geojson"},
 "FootPath": {"type": "object",
   "required": ["distance_m", "ascent_m", "descent_m", "duration_s", "geometry", "profile", "routes", "surfaces"],
   "properties": {
     "distance_m": {"type": "number"}, "ascent_m": {"type": "number"}, "descent_m": {"type": "number"},
     "duration_s": {"type": "number", "description": "walking time by Tobler's hiking function"},
     "geometry": {"$ref": "#/components/schemas/Geometry"},
     "profile": {"$ref": "#/components/schemas/ElevationProfile"},
     "routes": {"type": "array", "items": {"$ref": "#/components/schemas/RouteOnPath"}},
     "surfaces": {"type": "array", "items": {"$ref": "#/components/schemas/SurfaceShare"}}}},
 "Directions": {"allOf": [{"$ref": "#/components/schemas/FootPath"}, {"type": "object",
   "required": ["snapped", "cost_model", "search"], "properties": {
     "snapped": {"type": "array", "items": {"$ref": "#/components/schemas/Snapped"}},
     "cost_model": {"type": "string"}, "search": {"type": "string"}}}]},
 "Loops": {"type": "object", "required": ["distance_m", "tolerance", "seed", "start", "loops"], "properties": {
   "distance_m": {"type": "number"}, "tolerance": {"type": "number"}, "seed": {"type": "integer"},
   "start": {"$ref": "#/components/schemas/Snapped"},
   "loops": {"type": "array", "items": {"allOf": [{"$ref": "#/components/schemas/FootPath"},
     {"type": "object", "required": ["length_error", "within_tolerance", "repeated_m", "path_share"],
      "properties": {"length_error": {"type": "number"}, "within_tolerance": {"type": "boolean"},
        "repeated_m": {"type": "number"}, "path_share": {"type": "number"}}}]}}}},
 "Match": {"type": "object",
   "required": ["points", "on_network_m", "off_network_m", "on_network_share", "pieces", "edges", "routes"],
   "properties": {"points": {"type": "integer"}, "start_time": {"type": ["string", "null"]},
     "on_network_m": {"type": "number"}, "off_network_m": {"type": "number"},
     "on_network_share": {"type": "number"},
     "pieces": {"type": "array", "items": {"type": "object",
       "required": ["first_point", "last_point", "distance_m", "geometry"], "properties": {
         "first_point": {"type": "integer"}, "last_point": {"type": "integer"},
         "distance_m": {"type": "number"}, "ascent_m": {"type": "number"},
         "descent_m": {"type": "number"}, "geometry": {"$ref": "#/components/schemas/Geometry"}}}},
     "edges": {"type": "array", "items": {"type": "object",
       "required": ["piece", "name", "highway", "distance_m"], "properties": {
         "piece": {"type": "integer"}, "name": {"type": "string"}, "highway": {"type": "string"},
         "surface": {"type": "string"}, "distance_m": {"type": "number"},
         "entry_s": {"type": ["number", "null"]}, "exit_s": {"type": ["number", "null"]}}}},
     "routes": {"type": "array", "items": {"$ref": "#/components/schemas/RouteOnPath"}}}},
 "RunSummary": {"type": "object",
   "required": ["id", "start_time", "sport", "distance_m", "moving_time_s", "elapsed_time_s", "ascent_m", "points", "format", "uploaded_at"],
   "properties": {
     "id": {"type": "string", "pattern": "^[0-9a-f]{16}$"},
     "start_time": {"type": ["string", "null"]}, "sport": {"type": "string"},
     "distance_m": {"type": ["number", "null"]}, "moving_time_s": {"type": ["number", "null"]},
     "elapsed_time_s": {"type": ["number", "null"]}, "ascent_m": {"type": ["number", "null"]},
     "elevation_source": {"type": "string"}, "sessions": {"type": "integer"},
     "points": {"type": "integer"}, "format": {"type": "string", "enum": ["gpx", "tcx", "fit"]},
     "file_name": {"type": ["string", "null"]}, "file_bytes": {"type": "integer"},
     "uploaded_at": {"type": "string"},
     "regions": {"type": "array", "items": {"type": "string"}}}},
 "RunList": {"type": "object", "required": ["runs", "next_before"], "properties": {
   "runs": {"type": "array", "items": {"$ref": "#/components/schemas/RunSummary"}},
   "next_before": {"type": ["string", "null"], "description": "pass as before= for the next page"}}},
 "Run": {"allOf": [{"$ref": "#/components/schemas/RunSummary"}, {"type": "object",
   "required": ["links", "analysis"], "properties": {
     "links": {"type": "object", "required": ["self", "track", "file"], "properties": {
       "self": {"type": "string"}, "track": {"type": "string"}, "file": {"type": "string"}}},
     "runner": {"type": "object", "description": "what the runner noted (pushed by delta sync)",
       "properties": {"notes": {"type": "string"}, "rpe": {"type": "number", "minimum": 0, "maximum": 10}}},
     "analysis": {"type": "object", "description": "as stride analyze --json prints it"},
     "sessions_analysis": {"type": "array"},
     "route_coverage": {"type": "array"}, "trail_match": {"type": ["object", "null"]}}}]},
 "DeletedUser": {"type": "object", "required": ["user", "deleted_runs"], "properties": {
   "user": {"type": "string"}, "deleted_runs": {"type": "integer"}}},
 "TrackFeature": {"type": "object", "required": ["type", "geometry", "properties"], "properties": {
   "type": {"const": "Feature"},
   "geometry": {"type": "object", "required": ["type", "coordinates"], "properties": {
     "type": {"type": "string"}, "coordinates": {"type": "array"}}},
   "properties": {"type": "object"}}},
 "TrackPolyline": {"type": "object", "description": "the track as polyline6 parts with their times"},
 "SharedLink": {"type": "object", "required": ["token", "url", "track_url", "run"], "properties": {
   "token": {"type": "string"}, "url": {"type": "string"}, "track_url": {"type": "string"},
   "run": {"type": "string"}}},
 "SharedRun": {"type": "object",
   "required": ["token", "sport", "start_time", "distance_m", "points_shown", "points_hidden", "track_url"],
   "properties": {"token": {"type": "string"}, "sport": {"type": "string"},
     "start_time": {"type": ["string", "null"]}, "distance_m": {"type": ["number", "null"]},
     "moving_time_s": {"type": ["number", "null"]}, "elapsed_time_s": {"type": ["number", "null"]},
     "ascent_m": {"type": ["number", "null"]}, "points_shown": {"type": "integer"},
     "points_hidden": {"type": "integer"}, "track_url": {"type": "string"}}},
 "PrivacyZones": {"type": "object", "required": ["zones"], "properties": {
   "zones": {"type": "array", "maxItems": 20, "items": {"type": "object",
     "description": "a circle (lat, lon, radius_m from 20 to 5000) or a GeoJSON (Multi)Polygon",
     "required": ["name"], "additionalProperties": false,
     "oneOf": [{"required": ["lat", "lon", "radius_m"]}, {"required": ["geometry"]}],
     "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 64},
       "lat": {"type": "number"},
       "lon": {"type": "number"}, "radius_m": {"type": "number", "minimum": 20, "maximum": 5000},
       "geometry": {"type": "object", "required": ["type", "coordinates"], "properties": {
         "type": {"enum": ["Polygon", "MultiPolygon"]}, "coordinates": {"type": "array"}}}}}}}},
 "Connections": {"type": "object", "required": ["connections"], "properties": {
   "connections": {"type": "array", "items": {"type": "object",
     "required": ["provider", "provider_user_id"], "properties": {
       "provider": {"type": "string"}, "provider_user_id": {"type": "string"}}}}}},
 "AthleteProfile": {"type": "object", "required": ["time_zone"], "properties": {
   "time_zone": {"type": "string", "description": "IANA name, e.g. Europe/Andorra"},
   "birth_year": {"type": "integer"}, "sex": {"type": "string"},
   "max_hr_bpm": {"type": "number"}, "rest_hr_bpm": {"type": "number"},
   "threshold_hr_bpm": {"type": "number"}, "threshold_pace_s_per_km": {"type": "number"},
   "availability": {"type": "object"}, "weekly_volume_km": {"type": "number"},
   "goal": {"type": "object"}}},
 "Readiness": {"type": "object", "required": ["score", "band", "signals", "red", "reasons"],
   "properties": {"score": {"type": ["number", "null"]}, "band": {"type": "string"},
     "signals": {"type": "integer"}, "red": {"type": "integer"},
     "reasons": {"type": "array", "items": {"type": "string"}}}},
 "CheckIn": {"type": "object", "required": ["date"], "properties": {
   "date": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
   "hrv_rmssd_ms": {"type": "number"}, "rest_hr_bpm": {"type": "number"},
   "sleep_h": {"type": "number"}, "soreness": {"type": "number"}, "rpe": {"type": "number"},
   "ill": {"type": "boolean"}, "note": {"type": "string"},
   "readiness": {"$ref": "#/components/schemas/Readiness"}}},
 "CheckIns": {"type": "object", "required": ["check_ins", "from", "to"], "properties": {
   "check_ins": {"type": "array", "items": {"$ref": "#/components/schemas/CheckIn"}},
   "from": {"type": "string"}, "to": {"type": "string"}}},
 "SyncChanges": {"type": "object", "additionalProperties": {"type": "object",
   "required": ["created", "updated", "deleted"], "properties": {
     "created": {"type": "array", "items": {"$ref": "#/components/schemas/SyncRecord"}},
     "updated": {"type": "array", "items": {"$ref": "#/components/schemas/SyncRecord"}},
     "deleted": {"type": "array", "items": {"type": "string"}}}},
   "description": "per collection (runs, workouts, profile, readiness, plans.days, challenges.progress, chat.messages)"},
 "SyncRecord": {"type": "object", "required": ["id"], "properties": {
   "id": {"type": "string"}, "updated_at": {"type": "integer"},
   "_stamps": {"type": "object", "description": "field: [at_ms, fidelity]",
     "additionalProperties": {"type": "array", "items": {"type": "integer"}}}}},
 "SyncPull": {"type": "object", "required": ["changes", "last_pulled_at", "has_more", "schema_version"],
   "properties": {"changes": {"$ref": "#/components/schemas/SyncChanges"},
     "last_pulled_at": {"type": "integer"}, "has_more": {"type": "boolean"},
     "schema_version": {"type": "integer"}}},
 "SyncPush": {"type": "object", "required": ["changes"], "properties": {
   "changes": {"$ref": "#/components/schemas/SyncChanges"}}},
 "SyncPushResult": {"type": "object", "required": ["applied", "unchanged", "superseded", "changes", "last_pushed_at"],
   "properties": {"applied": {"type": "integer"}, "unchanged": {"type": "integer"},
     "superseded": {"type": "array", "items": {"type": "object",
       "required": ["collection", "id", "field"], "properties": {
         "collection": {"type": "string"}, "id": {"type": "string"}, "field": {"type": "string"},
         "by": {"type": "array"}}}},
     "changes": {"$ref": "#/components/schemas/SyncChanges"},
     "last_pushed_at": {"type": "integer"}}},
 "SyncConflict": {"allOf": [{"$ref": "#/components/schemas/Error"}, {"type": "object",
   "required": ["conflicts", "changes"], "properties": {
     "conflicts": {"type": "array", "items": {"type": "object",
       "required": ["collection", "id", "reason"], "properties": {
         "collection": {"type": "string"}, "id": {"type": "string"}, "reason": {"type": "string"}}}},
     "changes": {"$ref": "#/components/schemas/SyncChanges"}}}]},
 "Backup": {"type": "object", "required": ["id", "created_at", "size_bytes", "files"], "properties": {
   "id": {"type": "integer"}, "created_at": {"type": "string"},
   "size_bytes": {"type": "integer"}, "files": {"type": "integer"}}},
 "BackupMade": {"type": "object", "required": ["backup", "seconds"], "properties": {
   "backup": {"$ref": "#/components/schemas/Backup"}, "seconds": {"type": "number"}}},
 "Backups": {"type": "object", "required": ["backups"], "properties": {
   "backups": {"type": "array", "items": {"$ref": "#/components/schemas/Backup"}}}},
 "Reanalysis": {"type": "object", "required": ["state", "mode", "runs", "failed"], "properties": {
   "state": {"type": "string", "enum": ["never run", "running", "finished"]},
   "mode": {"type": "string", "enum": ["on this server", "queued for the workers"]},
   "user": {"type": ["string", "null"], "description": "null: every user"},
   "runs": {"type": "integer"},
   "changed": {"type": "integer", "description": "runs stored again (on this server)"},
   "queued": {"type": "integer", "description": "run.reanalyze jobs queued (for the workers)"},
   "failed": {"type": "integer"}, "last_error": {"type": ["string", "null"]},
   "started_at": {"type": ["string", "null"]}, "finished_at": {"type": ["string", "null"]}}},
 "Plugins": {"type": "object", "description": "what is loaded and what was refused, and why"},
 "PluginReload": {"type": "object", "required": ["reload"], "properties": {
   "reload": {"description": "the reload report: each plugin's state after it"}}},
 "InboundAccepted": {"type": "object"},
 "Health": {"type": "object", "required": ["status", "routes", "database", "reloads"], "properties": {
   "status": {"const": "ok"}, "routes": {"type": "integer"}, "database": {"type": "string"},
   "imported_at": {"type": ["string", "null"]}, "index_load_s": {"type": "number"},
   "bbox": {"description": "minlon, minlat, maxlon, maxlat around every route; null for an empty database",
            "oneOf": [{"type": "null"}, {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4}]},
   "reloads": {"type": "integer"}, "connections": {"type": "integer"},
   "queued": {"type": "integer"}, "busy_workers": {"type": "integer"},
   "streams": {"type": "integer"},
   "dem_unreadable": {"type": "array", "items": {"type": "string"},
     "description": "--dem tiles or rasters that are there but could not be read when an upload first needed them (uploads there keep the recording's elevation), one message each"}}}
})json";

constexpr const char* kParameters = R"json({
 "bbox": {"name": "bbox", "in": "query", "required": true, "schema": {"type": "string"},
          "description": "minlon,minlat,maxlon,maxlat in degrees", "example": "1.50,42.49,1.58,42.52"},
 "limit": {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1},
           "description": "page size (each endpoint states its default and maximum)"},
 "cursor": {"name": "cursor", "in": "query", "schema": {"type": "string"},
            "description": "next_cursor of the previous page"},
 "sort": {"name": "sort", "in": "query", "schema": {"type": "string", "enum": ["distance", "length", "ascent"], "default": "distance"}},
 "lat": {"name": "lat", "in": "query", "required": true, "schema": {"type": "number", "minimum": -90, "maximum": 90}},
 "lon": {"name": "lon", "in": "query", "required": true, "schema": {"type": "number", "minimum": -180, "maximum": 180}},
 "min_length_m": {"name": "min_length_m", "in": "query", "schema": {"type": "number", "minimum": 0}},
 "max_length_m": {"name": "max_length_m", "in": "query", "schema": {"type": "number", "minimum": 0}},
 "min_ascent_m": {"name": "min_ascent_m", "in": "query", "schema": {"type": "number", "minimum": 0}},
 "max_ascent_m": {"name": "max_ascent_m", "in": "query", "schema": {"type": "number", "minimum": 0}},
 "max_grade": {"name": "max_grade", "in": "query", "schema": {"type": "number", "minimum": 0, "maximum": 100}},
 "max_difficulty": {"name": "max_difficulty", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 6},
                    "description": "SAC scale 0 (none) to 6"},
 "type": {"name": "type", "in": "query", "schema": {"type": "string"},
          "description": "comma-separated: hiking, foot, walking, running, fitness_trail, nordic_walking, named_trail"},
 "surface": {"name": "surface", "in": "query", "schema": {"type": "string"},
             "description": "comma-separated: paved, unpaved, mixed, unknown"},
 "network": {"name": "network", "in": "query", "schema": {"type": "string"},
             "description": "comma-separated: iwn, nwn, rwn, lwn"},
 "loop": {"name": "loop", "in": "query", "schema": {"type": "boolean"}},
 "avoid_steps": {"name": "avoid_steps", "in": "query", "schema": {"type": "boolean"}},
 "prefer_unpaved": {"name": "prefer_unpaved", "in": "query", "schema": {"type": "boolean"}},
 "minimise_climb": {"name": "minimise_climb", "in": "query", "schema": {"type": "boolean"}},
 "max_snap_m": {"name": "max_snap_m", "in": "query", "schema": {"type": "number", "minimum": 0},
                "description": "how far a point may be from the trail graph"},
 "geometry_format": {"name": "format", "in": "query",
                     "schema": {"type": "string", "enum": ["polyline6", "geojson"], "default": "polyline6"}},
 "track_format": {"name": "format", "in": "query",
                  "schema": {"type": "string", "enum": ["geojson", "polyline6", "gpx"], "default": "geojson"}},
 "id": {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}
})json";

// Answers several operations give.
constexpr const char* kSharedAnswers = R"json({
 "Track": {"description": "the track, as format= asks", "content": {
   "application/geo+json": {"schema": {"$ref": "#/components/schemas/TrackFeature"}},
   "application/json": {"schema": {"$ref": "#/components/schemas/TrackPolyline"}},
   "application/gpx+xml": {"schema": {"type": "string"}}}}
})json";

// An answer's content for a schema name ("RouteList").
OJson JsonContent(const std::string& schema, const std::string& type = "application/json") {
  return {{type, {{"schema", {{"$ref", "#/components/schemas/" + schema}}}}}};
}

// ---- the core routes' descriptions ------------------------------------------------------------

struct Described {
  const char* name;
  const char* summary;
  // Merged into the operation: description, parameters (a string is a shared parameter's
  // name), requestBody (a string is a schema name of a JSON body).
  std::string operation;
  // The route's own answers; a string value is a schema name of a JSON answer ("" none), or
  // "error: why" for an error answer.
  const char* responses;
  const char* protobuf;  // the protobuf message of the success answer; nullptr = JSON only
};

constexpr const char* kFootParams =
    R"("avoid_steps", "max_difficulty", "prefer_unpaved", "minimise_climb", "max_snap_m",
       "geometry_format")";

const std::vector<Described>& Descriptions() {
  static const std::vector<Described> d = {
      {"routes", "Routes in a box, filtered and sorted, paged",
       R"({"parameters": ["bbox", "limit", "cursor", "sort", "min_length_m", "max_length_m",
           "min_ascent_m", "max_ascent_m", "max_grade", "max_difficulty", "type", "surface",
           "network", "loop"],
           "description": "Up to `limit` routes (default 50, at most 500) whose box meets `bbox`."})",
       R"({"200": "RouteList"})", "stride.api.RouteList"},
      {"nearest", "The routes nearest a point",
       R"({"parameters": ["lat", "lon", {"name": "k", "in": "query",
           "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 10}},
           {"name": "max_distance_m", "in": "query",
           "schema": {"type": "number", "minimum": 0, "maximum": 20000000},
           "description": "only routes within this many metres of the point"},
           "cursor", "min_length_m", "max_length_m", "min_ascent_m", "max_ascent_m", "max_grade",
           "max_difficulty", "type", "surface", "network", "loop"]})",
       R"({"200": "RouteList"})", "stride.api.RouteList"},
      {"profile", "A route's elevation profile", R"({"parameters": ["id"]})",
       R"({"200": "RouteProfile"})", "stride.api.RouteProfile"},
      {"route", "A route with its geometry",
       R"({"parameters": ["id", "geometry_format", {"name": "zoom", "in": "query",
           "schema": {"type": "integer", "minimum": 0, "maximum": 22},
           "description": "simplify the geometry for this map zoom"},
           {"name": "tolerance_m", "in": "query", "schema": {"type": "number", "minimum": 0, "maximum": 10000},
           "description": "simplify the geometry to this many metres"}]})",
       R"({"200": "Route"})", "stride.RouteRecord"},
      {"tile", "A vector tile of routes and trails (Mapbox Vector Tile 2.1)",
       R"({"parameters": [
           {"name": "z", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[0-9]+$"}},
           {"name": "x", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[0-9]+$"}},
           {"name": "y", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[0-9]+\\.mvt$"},
            "description": "the row, then .mvt"},
           {"name": "If-None-Match", "in": "header", "schema": {"type": "string"}}],
           "description": "Layers `routes` (every zoom) and `trails` (from zoom 13), simplified per zoom; cached with an ETag."})",
       R"({"200": {"description": "the tile", "headers": {"ETag": {"schema": {"type": "string"}}},
           "content": {"application/vnd.mapbox-vector-tile": {"schema": {"type": "string", "contentMediaType": "application/vnd.mapbox-vector-tile"}}}},
           "304": {"description": "the tile has not changed since the ETag given"}})",
       nullptr},
      {"directions",
       "A foot route between points on the trail graph", (std::string(R"({"parameters": [
           {"name": "from", "in": "query", "required": true, "schema": {"type": "string"}, "description": "lat,lon"},
           {"name": "to", "in": "query", "required": true, "schema": {"type": "string"}, "description": "lat,lon"},
           {"name": "via", "in": "query", "schema": {"type": "string"}, "description": "lat,lon;lat,lon;..."},
           )") + kFootParams + "]}"),
       R"({"200": "Directions", "404": "error: no trail graph in this database, or no trail near a point"})",
       nullptr},
      {"loops",
       "Round trips of a given length from a point", (std::string(R"({"parameters": ["lat", "lon",
           {"name": "distance_m", "in": "query", "required": true, "schema": {"type": "number", "exclusiveMinimum": 0}},
           {"name": "alternatives", "in": "query", "schema": {"type": "integer", "minimum": 1}},
           {"name": "seed", "in": "query", "schema": {"type": "integer", "minimum": 0}},
           )") + kFootParams + "]}"),
       R"({"200": "Loops", "404": "error: no trail graph in this database, or no trail near a point"})",
       nullptr},
      {"match", "Which trails a track walked (map matching)",
       R"({"requestBody": {"required": true, "content": {
           "application/geo+json": {"schema": {"type": "object"}},
           "application/json": {"schema": {"type": "object"}},
           "application/gpx+xml": {"schema": {"type": "string"}}},
           "description": "a GeoJSON LineString or Feature, or a GPX file"}})",
       R"({"200": "Match", "404": "error: no trail graph in this database, or no trail near a point"})",
       nullptr},
      {"run_upload", "Upload a recording (GPX, TCX or FIT, optionally gzip-encoded)",
       R"({"parameters": [
           {"name": "Idempotency-Key", "in": "header", "schema": {"type": "string", "maxLength": 255},
            "description": "a retry with the same key and file answers the stored run with 200"},
           {"name": "X-File-Name", "in": "header", "schema": {"type": "string", "maxLength": 255}}],
           "requestBody": {"required": true, "content": {
             "application/octet-stream": {"schema": {"type": "string", "contentMediaType": "application/octet-stream"}},
             "multipart/form-data": {"schema": {"type": "object", "properties": {"file": {"type": "string", "contentMediaType": "application/octet-stream"}}}}}}})",
       R"({"201": "Run", "200": {"description": "the run stored before under this Idempotency-Key",
           "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Run"}}}},
           "409": "error: the Idempotency-Key was used for another file",
           "422": "error: the file cannot be read; the message says where"})",
       "stride.api.Run"},
      {"run_list", "The caller's runs, newest first, paged",
       R"({"parameters": [{"name": "before", "in": "query", "schema": {"type": "string"},
           "description": "next_before of the previous page"}, "limit"]})",
       R"({"200": "RunList"})", "stride.api.RunList"},
      {"run_track", "A run's cleaned track", R"({"parameters": ["id", "track_format"]})",
       R"({"200": {"$ref": "#/components/responses/Track"}})", nullptr},
      {"run_share", "Make a public link to a run (privacy zones hidden)",
       R"({"parameters": ["id"]})", R"({"201": "SharedLink", "200": "SharedLink"})", nullptr},
      {"run_unshare", "Revoke a run's public link", R"({"parameters": ["id"]})", R"({"204": ""})",
       nullptr},
      {"shared_track", "The track of a shared run (privacy zones hidden)",
       R"({"parameters": [{"name": "token", "in": "path", "required": true, "schema": {"type": "string"}},
           "track_format"]})",
       R"({"200": {"$ref": "#/components/responses/Track"}})", nullptr},
      {"shared_run", "A shared run's figures",
       R"({"parameters": [{"name": "token", "in": "path", "required": true, "schema": {"type": "string"}}]})",
       R"({"200": "SharedRun"})", nullptr},
      {"me_privacy_zones", "The caller's privacy zones", "{}", R"({"200": "PrivacyZones"})",
       nullptr},
      {"me_privacy_zones_put", "Replace the caller's privacy zones",
       R"({"requestBody": "PrivacyZones"})", R"({"200": "PrivacyZones"})", nullptr},
      {"run_file", "A run's original file, as uploaded", R"({"parameters": ["id"]})",
       R"({"200": {"description": "the file", "content": {
           "application/gpx+xml": {"schema": {"type": "string"}},
           "application/vnd.garmin.tcx+xml": {"schema": {"type": "string"}},
           "application/vnd.ant.fit": {"schema": {"type": "string", "contentMediaType": "application/vnd.ant.fit"}}}}})",
       nullptr},
      {"run", "A run with its analysis", R"({"parameters": ["id"]})", R"({"200": "Run"})",
       "stride.api.Run"},
      {"run_delete", "Delete a run", R"({"parameters": ["id"]})", R"({"204": ""})", nullptr},
      {"me_delete", "Delete the caller's runs and every plugin's data of the caller", "{}",
       R"({"200": "DeletedUser"})", nullptr},
      {"me_connections", "The provider accounts linked to the caller", "{}",
       R"({"200": "Connections"})", nullptr},
      {"me_connection_put", "Link a provider account (inbound activities)",
       R"({"parameters": [{"name": "provider", "in": "path", "required": true, "schema": {"type": "string"}}],
           "requestBody": {"required": true, "content": {"application/json": {"schema": {
             "type": "object", "required": ["provider_user_id"],
             "properties": {"provider_user_id": {"type": "string"}}}}}}})",
       R"({"200": {"description": "linked", "content": {"application/json": {"schema": {"type": "object"}}}},
           "201": {"description": "linked", "content": {"application/json": {"schema": {"type": "object"}}}},
           "409": "error: the account is linked to another user"})",
       nullptr},
      {"me_connection_delete", "Unlink a provider account",
       R"({"parameters": [{"name": "provider", "in": "path", "required": true, "schema": {"type": "string"}}]})",
       R"({"204": ""})", nullptr},
      {"webhook_inbound", "A provider's activity webhook (signed by the provider, no token)",
       R"({"parameters": [{"name": "provider", "in": "path", "required": true, "schema": {"type": "string"}}],
           "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object"}},
             "application/octet-stream": {"schema": {"type": "string", "contentMediaType": "application/octet-stream"}}}}})",
       R"({"200": "InboundAccepted", "201": "InboundAccepted", "202": "InboundAccepted",
           "401": "error: the provider's signature is missing or does not verify",
           "409": "error: replayed delivery",
           "422": "error: the activity cannot be read"})",
       nullptr},
      {"me_profile", "The caller's athlete profile", "{}", R"({"200": "AthleteProfile"})", nullptr},
      {"me_profile_put", "Set fields of the caller's athlete profile",
       R"({"requestBody": "AthleteProfile"})", R"({"200": "AthleteProfile"})", nullptr},
      {"me_readiness_post", "A readiness check-in (HRV, resting HR, sleep, soreness, illness)",
       R"({"requestBody": "CheckIn"})", R"({"200": "CheckIn"})", nullptr},
      {"me_readiness", "The caller's check-ins, newest first",
       R"({"parameters": [{"name": "from", "in": "query", "schema": {"type": "string"}, "description": "YYYY-MM-DD"},
           {"name": "to", "in": "query", "schema": {"type": "string"}, "description": "YYYY-MM-DD"}]})",
       R"({"200": "CheckIns"})", nullptr},
      {"sync_pull", "Every change of the caller's data since last_pulled_at (delta sync)",
       R"({"parameters": [
           {"name": "last_pulled_at", "in": "query", "schema": {"type": "integer", "minimum": 0}},
           {"name": "schema_version", "in": "query", "schema": {"type": "integer", "minimum": 0}},
           {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 2000, "default": 500}}]})",
       R"({"200": "SyncPull"})", nullptr},
      {"sync_push", "Apply a batch of offline edits (delta sync)",
       R"({"parameters": [{"name": "last_pulled_at", "in": "query", "schema": {"type": "integer", "minimum": 0}},
           {"name": "schema_version", "in": "query", "schema": {"type": "integer", "minimum": 0}}],
           "requestBody": "SyncPush"})",
       R"({"200": "SyncPushResult", "409": {"description": "conflicts: nothing applied; pull, rebase, push again",
           "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SyncConflict"}}}}})",
       nullptr},
      {"me_export", "Everything stored about the caller, as a tar archive", "{}",
       R"({"200": {"description": "runs (files, analyses) and every plugin's data",
           "content": {"application/x-tar": {"schema": {"type": "string", "contentMediaType": "application/x-tar"}}}}})",
       nullptr},
      {"admin_backup", "Make a backup of the run database now", "{}", R"({"201": "BackupMade"})",
       nullptr},
      {"admin_backups", "The backups kept", "{}", R"({"200": "Backups"})", nullptr},
      {"admin_reanalyze",
       "Analyse stored runs again (after an import or an algorithm change), in the background",
       R"({"parameters": [{"name": "user", "in": "query", "schema": {"type": "string"},
           "description": "only this user's runs; default: every user's"}]})",
       R"({"202": "Reanalysis", "409": "error: a re-analysis is running"})", nullptr},
      {"admin_reanalysis", "The progress of the last re-analysis", "{}", R"({"200": "Reanalysis"})",
       nullptr},
      {"admin_plugins", "The plugins loaded and refused", "{}", R"({"200": "Plugins"})", nullptr},
      {"admin_plugins_reload", "Re-read the plugin directory", "{}", R"({"200": "PluginReload"})",
       nullptr},
      {"health", "Liveness and what the server is serving (answered even when busy)", "{}",
       R"({"200": "Health"})", nullptr},
      {"metrics", "Prometheus metrics", "{}",
       R"({"200": {"description": "the text exposition format", "content": {"text/plain": {"schema": {"type": "string"}}}}})",
       nullptr},
      {"page", "The map page (HTML; MapLibre over the vector tiles, runs, plans, challenges)",
       R"({"parameters": [{"name": "If-None-Match", "in": "header", "schema": {"type": "string"}}]})",
       R"({"200": {"description": "the page", "content": {"text/html": {"schema": {"type": "string"}}}},
           "304": {"description": "the page the client holds (its ETag) is current"}})",
       nullptr},
      {"page_file", "A file of the map page: its script and style, and MapLibre GL JS",
       R"({"parameters": [{"name": "file", "in": "path", "required": true, "schema": {"type": "string"},
             "description": "app.js, app.css, maplibre-gl-csp.js, maplibre-gl-csp-worker.js, maplibre-gl.css or maplibre-gl-LICENSE.txt"},
           {"name": "If-None-Match", "in": "header", "schema": {"type": "string"}}]})",
       R"({"200": {"description": "the file",
             "content": {"text/javascript": {"schema": {"type": "string"}}, "text/css": {"schema": {"type": "string"}},
                         "text/plain": {"schema": {"type": "string"}}}},
           "304": {"description": "the file the client holds (its ETag) is current"},
           "404": "error: no such file in the page"})",
       nullptr},
      {"openapi", "This document", "{}",
       R"({"200": {"description": "the OpenAPI 3.1 document", "content": {"application/json": {"schema": {"type": "object"}}}}})",
       nullptr},
  };
  return d;
}

OJson Parse(const std::string& text, const std::string& where) {
  try {
    return OJson::parse(text);
  } catch (const nlohmann::json::exception& e) {
    // A build error, not a user's: the tests parse every description.
    return OJson{{"x-parse-error", where + ": " + e.what()}};
  }
}

OJson ErrorAnswer(const std::string& why) {
  return {{"description", why}, {"content", JsonContent("Error")}};
}

// The {name} segments of a path pattern.
std::vector<std::string> PathParams(const std::string& pattern) {
  std::vector<std::string> out;
  size_t at = 0;
  while ((at = pattern.find('{', at)) != std::string::npos) {
    const size_t end = pattern.find('}', at);
    if (end == std::string::npos) break;
    out.push_back(pattern.substr(at + 1, end - at - 1));
    at = end + 1;
  }
  return out;
}

// Declares the path parameters of `pattern` that the operation does not name itself (inline or
// as a shared parameter).
void AddPathParams(OJson& op, const std::string& pattern) {
  OJson params = op.value("parameters", OJson::array());
  for (const std::string& p : PathParams(pattern)) {
    bool named = false;
    for (const OJson& q : params) {
      named = named || q.value("name", "") == p ||
              q.value("$ref", "") == "#/components/parameters/" + p;
    }
    if (!named) {
      params.push_back(
          {{"name", p}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}});
    }
  }
  if (!params.empty()) op["parameters"] = params;
}

// "/v1/runs/{id}" -> "runs"; "/metrics" -> "metrics".
std::string TagOf(const std::string& pattern) {
  std::string p = pattern;
  if (p.rfind("/v1/", 0) == 0) p = p.substr(4);
  if (!p.empty() && p[0] == '/') p = p.substr(1);
  const size_t slash = p.find('/');
  std::string tag = p.substr(0, slash);
  if (tag == "routes" || tag == "tiles" || tag == "directions" || tag == "loops" ||
      tag == "match") {
    return "routes";
  }
  if (tag == "shared") return "runs";
  if (tag == "health" || tag == "metrics" || tag == "openapi.json") return "server";
  if (tag.empty() || tag == "web") return "page";
  return tag;
}

// Expands the shorthands of a description: parameter names, a body's schema name, answers'
// schema names.
void Expand(OJson& op, const OJson& shared_params) {
  if (op.contains("parameters")) {
    for (OJson& p : op["parameters"]) {
      if (p.is_string()) {
        const std::string name = p.get<std::string>();
        if (shared_params.contains(name)) p = {{"$ref", "#/components/parameters/" + name}};
      }
    }
  }
  if (op.contains("requestBody") && op["requestBody"].is_string()) {
    op["requestBody"] = {{"required", true},
                         {"content", JsonContent(op["requestBody"].get<std::string>())}};
  }
}

OJson Answers(const OJson& own) {
  OJson out = OJson::object();
  for (const auto& [code, v] : own.items()) {
    if (!v.is_string()) {
      out[code] = v;
    } else if (v.get<std::string>().rfind("error: ", 0) == 0) {
      out[code] = ErrorAnswer(v.get<std::string>().substr(7));
    } else if (v.get<std::string>().empty()) {
      out[code] = {{"description", code == "304" ? "not modified" : "done, nothing to say"}};
    } else {
      out[code] = {{"description", "OK"}, {"content", JsonContent(v.get<std::string>())}};
    }
  }
  return out;
}

// The answers every route of its kind can give, added where the description has none.
void AddCommonAnswers(OJson& responses, const std::string& pattern, const std::string& scope,
                      size_t max_body, bool on_loop) {
  auto add = [&](const std::string& code, const std::string& why) {
    if (!responses.contains(code)) responses[code] = ErrorAnswer(why);
  };
  add("400", on_loop ? "a malformed HTTP request"
                     : "a parameter or the body is not what the endpoint expects");
  if (!scope.empty()) {
    add("401", "no token, or not a valid one");
    add("403", "the token lacks the scope " + scope);
  }
  if (!PathParams(pattern).empty() || !scope.empty()) add("404", "no such resource");
  add("413", max_body > 0
                 ? "the body exceeds " + std::to_string(max_body) + " bytes (after inflating)"
                 : std::string("this endpoint takes no body"));
  add("415", "the body's Content-Encoding is not identity or gzip");
  if (!on_loop) {
    add("429", "over the rate limit (RateLimit-* and Retry-After headers say when)");
    add("503", scope.empty() ? "the server is busy; retry"
                             : "the server is busy, a store it needs is unavailable for a moment "
                               "(retry after Retry-After), or it stores no runs (started "
                               "without --runs)");
  }
  add("500",
      "the server failed; the message names an incident id, under which the server's log has "
      "the detail");
}

// The protobuf form of the success answers (`message`) and of the errors (ErrorResponse), for
// a route that answers Accept: application/x-protobuf.
void AddProtobuf(OJson& responses, const std::string& message) {
  const OJson error_ref = {{"$ref", "#/components/schemas/Error"}};
  for (auto& [code, r] : responses.items()) {
    if (code.empty() || !r.contains("content") || !r["content"].contains("application/json")) {
      continue;
    }
    const bool success = code[0] == '2';
    if (!success && r["content"]["application/json"].value("schema", OJson()) != error_ref) {
      continue;
    }
    r["content"]["application/x-protobuf"] = {
        {"schema", {{"type", "string"}, {"contentMediaType", "application/x-protobuf"}}},
        {"x-protobuf-message", success ? message : "stride.api.ErrorResponse"}};
  }
}

OJson Security(const std::string& scope) {
  if (scope.empty()) return OJson::array();
  return OJson::array({OJson{{"bearer", OJson::array({scope})}}});
}

}  // namespace

QueryNames QueryNamesOf(const OJson& doc) {
  QueryNames out;
  if (!doc.contains("paths") || !doc["paths"].is_object()) return out;
  const OJson* shared = nullptr;
  if (doc.contains("components") && doc["components"].contains("parameters")) {
    shared = &doc["components"]["parameters"];
  }
  for (const auto& [path, ops] : doc["paths"].items()) {
    if (path.rfind("/v1/", 0) != 0 || !ops.is_object()) continue;
    for (const auto& [m, op] : ops.items()) {
      if (!op.is_object() || op.value("x-undocumented", false)) continue;
      std::string method = m;
      std::transform(method.begin(), method.end(), method.begin(),
                     [](unsigned char c) { return std::toupper(c); });
      std::vector<std::string> names;
      if (op.contains("parameters") && op["parameters"].is_array()) {
        for (const OJson& given : op["parameters"]) {
          const OJson* p = &given;
          // "#/components/parameters/bbox": the shared parameter of that name.
          if (given.contains("$ref") && given["$ref"].is_string() && shared) {
            const std::string ref = given["$ref"].get<std::string>();
            const std::string key = ref.substr(ref.rfind('/') + 1);
            if (shared->contains(key)) p = &(*shared)[key];
          }
          // A plugin's parameter may lack a name: const operator[] on a missing key is undefined.
          if (p->is_object() && p->value("in", "") == "query" && p->contains("name") &&
              p->at("name").is_string()) {
            names.push_back(p->at("name").get<std::string>());
          }
        }
      }
      out[method + " " + path] = std::move(names);
    }
  }
  return out;
}

std::optional<std::string> QueryParameterProblem(
    const QueryNames& names, const std::string& method, const std::string& pattern,
    const std::vector<std::pair<std::string, std::string>>& query) {
  if (query.empty()) return std::nullopt;
  // HEAD is answered as GET.
  auto it = names.find((method == "HEAD" ? std::string("GET") : method) + " " + pattern);
  if (it == names.end()) return std::nullopt;
  const std::vector<std::string>& known = it->second;
  for (size_t i = 0; i < query.size(); ++i) {
    const std::string& k = query[i].first;
    if (std::find(known.begin(), known.end(), k) != known.end()) {
      for (size_t j = 0; j < i; ++j) {
        if (query[j].first == k) {
          return engine::EscapeForLog(k, 64) +
                 ": given more than once (one value each; a list is one value, as the "
                 "parameter describes)";
        }
      }
      continue;
    }
    return engine::EscapeForLog(k, 64) + ": unknown parameter (" +
           (known.empty() ? it->first + " takes none" : "expected " + engine::Join(known)) + ")";
  }
  return std::nullopt;
}

std::vector<std::string> DescribedRouteNames() {
  std::vector<std::string> out;
  for (const Described& d : Descriptions()) out.push_back(d.name);
  return out;
}

OpenApiDocument BuildOpenApi(const std::vector<ApiRoute>& core,
                             const std::vector<PluginApiRoute>& plugin_routes,
                             const std::string& server_version) {
  static const OJson shared_params = Parse(kParameters, "parameters");
  static const OJson schemas = Parse(kSchemas, "schemas");
  static const OJson kResponses = Parse(kSharedAnswers, "responses");
  OpenApiDocument doc;
  OJson paths = OJson::object();
  std::set<std::string> tags;

  std::map<std::string, const Described*> by_name;
  for (const Described& d : Descriptions()) by_name[d.name] = &d;

  auto place = [&](const std::string& pattern, const std::string& method, OJson op) {
    tags.insert(op["tags"][0].get<std::string>());
    std::string m = method;
    std::transform(m.begin(), m.end(), m.begin(), [](unsigned char c) { return std::tolower(c); });
    paths[pattern][m] = std::move(op);
  };

  for (const ApiRoute& r : core) {
    if (r.method == "*") continue;  // the plugins' prefix: their own routes are listed instead
    OJson op = OJson::object();
    op["operationId"] = r.name;
    op["tags"] = OJson::array({TagOf(r.pattern)});
    OJson responses = OJson::object();
    const char* protobuf = nullptr;
    auto found = by_name.find(r.name);
    if (found == by_name.end()) {
      doc.undocumented.push_back(r.method + " " + r.pattern + " (" + r.name + ")");
      op["summary"] = r.name;
      op["x-undocumented"] = true;
      responses["200"] = {{"description", "not described yet"}};
    } else {
      const Described& d = *found->second;
      op["summary"] = d.summary;
      OJson extra = Parse(d.operation, r.name);
      Expand(extra, shared_params);
      for (auto& [k, v] : extra.items()) op[k] = v;
      responses = Answers(Parse(d.responses, r.name));
      protobuf = d.protobuf;
    }
    AddPathParams(op, r.pattern);
    AddCommonAnswers(responses, r.pattern, r.scope, r.max_body, r.on_loop);
    if (protobuf) AddProtobuf(responses, protobuf);
    op["responses"] = responses;
    op["security"] = Security(r.scope);
    if (!r.scope.empty()) op["x-scope"] = r.scope;
    if (r.max_body > 0) op["x-max-body-bytes"] = r.max_body;
    place(r.pattern, r.method, std::move(op));
  }

  for (const PluginApiRoute& r : plugin_routes) {
    const std::string id = r.plugin + "_" + [&] {
      std::string s = r.method + r.pattern.substr(4 + r.plugin.size());
      for (char& c : s) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      std::transform(s.begin(), s.end(), s.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      s.erase(std::unique(s.begin(), s.end(), [](char a, char b) { return a == '_' && b == '_'; }),
              s.end());
      while (!s.empty() && s.back() == '_') s.pop_back();
      return s;
    }();
    OJson op = OJson::object();
    OJson given;
    if (!r.operation_json.empty()) {
      given = OJson::parse(r.operation_json, nullptr, false);
      if (!given.is_object() || !given.contains("responses") || !given["responses"].is_object()) {
        doc.problems.push_back(r.method + " " + r.pattern +
                               ": the plugin's operation is not an object with responses");
        given = OJson();
      }
    }
    op["operationId"] = id;
    op["tags"] = OJson::array({r.plugin});
    OJson responses = OJson::object();
    if (given.is_null()) {
      doc.undocumented.push_back(r.method + " " + r.pattern + " (plugin " + r.plugin + ")");
      op["summary"] = r.method + " " + r.pattern;
      op["x-undocumented"] = true;
      responses["200"] = {{"description", "not described by the plugin"}};
    } else {
      for (auto& [k, v] : given.items()) {
        if (k != "operationId" && k != "tags" && k != "security") op[k] = v;
      }
      Expand(op, shared_params);
      responses = Answers(op["responses"]);
    }
    AddPathParams(op, r.pattern);
    AddCommonAnswers(responses, r.pattern, r.scope, size_t{1} << 20, false);
    op["responses"] = responses;
    op["security"] = Security(r.scope);
    if (!r.scope.empty()) op["x-scope"] = r.scope;
    op["x-plugin"] = r.plugin;
    place(r.pattern, r.method, std::move(op));
  }

  OJson tag_list = OJson::array();
  static const std::map<std::string, std::string> kTagText = {
      {"routes", "Route search, vector tiles, directions, loops and map matching (public)"},
      {"runs", "Uploads, analyses, tracks and shared links of the caller's runs"},
      {"me", "The caller: profile, readiness, privacy zones, connections, export, deletion"},
      {"sync", "Delta sync for offline-first clients"},
      {"webhooks", "Providers' activity webhooks"},
      {"admin", "Operators: backups, plugins and re-analysis (scope admin)"},
      {"server", "Health, metrics and this document"},
      {"page", "The map page a browser opens at /"},
      {"plans", "Training plans and fitness (plugin)"},
      {"challenges", "Virtual challenges along routes (plugin)"},
      {"chat", "Coach chat and its retrieval (plugin)"}};
  for (const std::string& t : tags) {
    auto text = kTagText.find(t);
    tag_list.push_back(
        {{"name", t},
         {"description",
          text != kTagText.end() ? text->second : "Routes of the " + t + " plugin"}});
  }
  doc.json = {
      {"openapi", "3.1.0"},
      {"info",
       {{"title", "Stride"},
        {"version", server_version},
        {"summary", "Route search, trail routing, run analysis and training plugins"},
        {"description",
         "Errors are {\"error\":{\"code\",\"message\"}} (components/schemas/Error). Besides "
         "the answers each operation lists, the HTTP layer may answer any request 408 (the "
         "request did not arrive in time), 431 (its head is too large) or 501 (a transfer "
         "encoding other than chunked), with the same error body; it answers CORS preflights "
         "(OPTIONS) with 204, or 403 for an origin or method not allowed (404 outside /v1/). GET "
         "operations also answer "
         "HEAD. With Accept: application/x-protobuf the operations that list it answer in "
         "protobuf (proto/stride/api.proto)."},
        {"license", {{"name", "Apache-2.0"}, {"identifier", "Apache-2.0"}}}}},
      {"servers", OJson::array({{{"url", "/"}}})},
      {"tags", tag_list},
      {"paths", paths},
      {"components",
       {{"schemas", schemas},
        {"parameters", shared_params},
        {"responses", kResponses},
        {"securitySchemes",
         {{"bearer",
           {{"type", "http"},
            {"scheme", "bearer"},
            {"bearerFormat", "JWT"},
            {"description",
             "HS256 or RS256 token; `sub` is the user, `scope` lists runner:read, "
             "runner:write, chat:ask, admin"}}}}}}}};
  return doc;
}

}  // namespace stride::server
