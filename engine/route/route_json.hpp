// SPDX-License-Identifier: Apache-2.0
//
// The JSON form of a route record, shared by `stride inspect --route` and the HTTP API.
// Geometry is GeoJSON (a MultiLineString, [lon, lat] in degrees with 7 decimals); the profile
// is two arrays (metres along the main line, metres above sea level, 0.1 m). Units are in the
// names; absent values are null.
//
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "engine/route/route_record.hpp"

namespace stride::engine {

// Names used in JSON and query parameters: "hiking", "named_trail", "paved", ...
const char* RouteTypeName(RouteType t);
const char* SurfaceName(Surface s);
// "relation/123", "trail/456" (way id), "unknown/0".
std::string OsmRefOf(uint64_t route_id);

// `indent` < 0 renders one line.
std::string RouteJson(const Route& route, int indent = 2);

}  // namespace stride::engine
