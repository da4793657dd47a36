// SPDX-License-Identifier: Apache-2.0
//
// The JSON form of a route record, shared by `stride inspect --route` and the HTTP API.
// Geometry is GeoJSON (a MultiLineString, [lon, lat] in degrees with 7 decimals) or polyline6
// (one encoded string per part; branches then carry no geometry, to keep responses small);
// the profile is two arrays (metres along the main line, metres above sea level, 0.1 m).
// Units are in the names; absent values are null.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/route/route_record.hpp"

namespace stride::engine {

// Names used in JSON and query parameters: "hiking", "named_trail", "paved", ...
const char* RouteTypeName(RouteType t);
const char* SurfaceName(Surface s);
// network=* of a network level 1..4 (RouteSummary::network): "iwn", "nwn", "rwn", "lwn";
// null for 0 (no network) or anything else.
const char* NetworkName(uint8_t level);
// "relation/123", "trail/456" (way id), "unknown/0".
std::string OsmRefOf(uint64_t route_id);
// The route id a person or a URL names: the number itself, relation/N or rN (a relation),
// trail/N or wN (a named trail by its first way; R and W also accepted); nullopt otherwise.
std::optional<uint64_t> ParseRouteRef(std::string_view text);

enum class GeometryFormat { kGeoJson, kPolyline6 };
struct RouteJsonOptions {
  GeometryFormat geometry = GeometryFormat::kGeoJson;  // Default: GeoJSON
  bool profile = true;                                 // Default: with the profile arrays
  int indent = 2;                                      // Default: 2; < 0 renders one line
};
std::string RouteJson(const Route& route, const RouteJsonOptions& options = {});
// The climbing figures and the profile alone (id, length, ascent, descent, grades, method).
std::string RouteProfileJson(const Route& route);

// Google's encoded polyline of points [begin, end) at 1e-6 degree precision (polyline6).
std::string EncodePolyline6(const std::vector<PointE7>& points, size_t begin, size_t end);

}  // namespace stride::engine
