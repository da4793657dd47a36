// SPDX-License-Identifier: Apache-2.0
//
// engine::Route and engine::TrailEdge to and from their stored protobuf records
// (proto/stride/route.proto). Encoding is deterministic: the same route gives the same bytes.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "engine/route/route_record.hpp"
#include "engine/status.hpp"

namespace stride::index {

std::string EncodeRoute(const engine::Route& route);
// Corruption when the bytes are not a route record.
Result<engine::Route> DecodeRoute(std::string_view bytes);
// Only what a search index holds: the main-line geometry and the name. Skips every other
// field without decoding it (a profile or branches cost nothing), for start-up at scale.
Status DecodeRouteLine(std::string_view bytes, engine::RouteGeometry* geometry, std::string* name);

std::string EncodeEdge(const engine::TrailEdge& edge);
Result<engine::TrailEdge> DecodeEdge(std::string_view bytes);

}  // namespace stride::index
