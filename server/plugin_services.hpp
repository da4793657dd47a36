// SPDX-License-Identifier: Apache-2.0
//
// What `stride serve` offers plugins beyond storage (plugins/host/plugin_host.hpp,
// PluginServices): route queries over the current snapshot, as JSON.
//
//   {"op":"route","id":"r123"}   {"id","name","length_m","line":[[lon,lat],...],
//                                 "profile":[[distance_m,elevation_m],...]}
//   {"op":"profile","id":...}    {"id","profile":[...]}
//   {"op":"along","id":...,"distance_m":D}  {"lat","lon","elevation_m","distance_m"}
//   {"op":"bbox","bbox":[...],...} / {"op":"nearest","lat":..,"lon":..,...}  as GET /v1/routes
//                                 and /v1/routes/nearest answer (other keys are their filters)
// kInvalidArgument for a malformed request, kNotFound for an unknown route.
//
// Thread-safety: pure functions over an immutable snapshot.
#pragma once

#include <string>

#include "engine/status.hpp"
#include "index/store/route_snapshot.hpp"

namespace stride::server {

Result<std::string> PluginRouteQuery(const index::RouteSnapshot& s, const std::string& request);

}  // namespace stride::server
