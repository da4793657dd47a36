// SPDX-License-Identifier: Apache-2.0
//
// The foot-routing endpoints of HTTP API v1 over the routable trail graph
// (engine/trail/router.hpp), as plain functions from query parameters to a response.
//
//   GET /v1/directions?from=lat,lon&to=lat,lon[&via=lat,lon;lat,lon][&format=polyline6|geojson]
//   GET /v1/loops?lat=&lon=&distance_m=[&alternatives=1..5][&seed=N][&format=...]
//   POST /v1/match[?format=...] with a GPX, TCX or FIT file, or a GeoJSON LineString (or a
//        Feature holding one), as the body: the map match (engine/trail/match.hpp) of the
//        file's first session, nothing stored. Answers pieces (input point range, distance,
//        geometry), edges walked in order (name, highway, surface, metres, entry and exit
//        seconds after the first fix), routes, and on_network_m / off_network_m / share.
// Options of both: avoid_steps=true|false, max_difficulty=0..6 (sac_scale level),
// prefer_unpaved=true|false, minimise_climb=true|false, max_snap_m=1..5000 (default 500).
//
// A walk in a response: distance_m, ascent_m, descent_m, duration_s (Tobler's hiking function,
// no penalties), geometry (polyline6 text or a GeoJSON LineString), profile (distance_m and
// elevation_m arrays at the line's points; null without a DEM), routes (the named routes
// walked, with metres on each, longest first), surfaces (metres per OSM surface value),
// and the points as snapped to the network (with the distance moved). Loops add
// length_error, within_tolerance, repeated_m and path_share.
// Errors: 400 for bad parameters (naming the parameter); 404 when a point is farther than
// max_snap_m from any trail (the message gives the distance to the nearest), when no path
// joins the points under the options, or when no loop exists; 503 when the database has no
// trail graph (imported before it existed: re-import).
//
// Thread-safety: pure functions over an immutable snapshot.
#pragma once

#include "index/store/route_snapshot.hpp"
#include "server/http/message.hpp"
#include "server/params.hpp"

namespace stride::server {

inline constexpr int kMaxVias = 10;
inline constexpr double kMaxLoopM = 100000;

ApiResponse Directions(const index::RouteSnapshot& s, const Params& p);
ApiResponse LoopRoutes(const index::RouteSnapshot& s, const Params& p);
ApiResponse MatchTrack(const index::RouteSnapshot& s, const Params& p, const std::string& body);
inline constexpr size_t kMaxMatchBody = size_t{16} << 20;
inline constexpr size_t kMaxMatchPoints = 200'000;

}  // namespace stride::server
