// SPDX-License-Identifier: Apache-2.0
//
// Vector tiles of the route database for maps (HTTP API v1):
//
//   GET /v1/tiles/{z}/{x}/{y}.mvt   Mapbox Vector Tile 2.1 (application/vnd.mapbox-vector-tile)
//
// Layers: "routes" (every route crossing the tile: id, osm, name, type, length_m, ascent_m,
// loop; longest first, at most kMaxTileRoutes; routes shorter than two 256-px pixels of the
// zoom left out), and from zoom kMinTrailZoom "trails" (the walkable network: name, highway,
// surface, sac). Lines are simplified to a quarter of a 256-px pixel of the zoom and clipped
// to the tile with a buffer (engine/route/vector_tile.hpp). A tile with nothing is an empty
// body. Every tile carries an ETag of the database's import and the tile; If-None-Match
// answers 304. Errors: 400 for z outside 0..22, x or y outside the zoom's grid, or a path
// that does not end in .mvt.
//
// Thread-safety: pure functions over an immutable snapshot.
#pragma once

#include <string>

#include "index/store/route_snapshot.hpp"
#include "server/http/message.hpp"

namespace stride::server {

inline constexpr const char* kMvtType = "application/vnd.mapbox-vector-tile";
inline constexpr size_t kMaxTileRoutes = 2000;
inline constexpr int kMinTrailZoom = 13;

// `y_file` is the last path segment ("123.mvt"); `if_none_match` the request's header.
ApiResponse GetTile(const index::RouteSnapshot& s, const std::string& z, const std::string& x,
                    const std::string& y_file, const std::string& if_none_match);

}  // namespace stride::server
