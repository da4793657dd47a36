// SPDX-License-Identifier: Apache-2.0
//
// The route endpoints of HTTP API v1, as plain functions from query parameters to a response,
// so that the HTTP layer only parses and dispatches (and tests can call them directly).
//
//   GET /v1/routes?bbox=minlon,minlat,maxlon,maxlat[&sort=distance|length|ascent][&limit=N]
//                  [&cursor=C][filters]
//   GET /v1/routes/nearest?lat=&lon=[&k=10][&max_distance_m=][&cursor=C][filters]
//   GET /v1/routes/{id}[?format=polyline6|geojson][&tolerance_m=|&zoom=]
//   GET /v1/routes/{id}/profile
// Filters: min_length_m, max_length_m, min_ascent_m, max_ascent_m, max_grade (fraction),
// type=hiking,running,... , loop=true|false, surface=paved,unpaved,mixed,unknown,
// max_difficulty=0..6, network=iwn,nwn,rwn,lwn.
// Lists carry summaries only (id, osm, name, type, length, ascent, max grade, loop, surface,
// difficulty, network, start, bbox, distance_m) and `next_cursor` (null on the last page).
// Errors: {"error":{"code":"invalid_argument","message":"bbox: ..."}} with 400, not_found 404.
// Every response is JSON, or protobuf (proto/stride/api.proto) when asked for with Wire.
//
// Thread-safety: pure functions over an immutable snapshot.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "index/store/route_snapshot.hpp"
#include "server/http/message.hpp"
#include "server/params.hpp"

namespace stride::server {

enum class Wire { kJson, kProtobuf };

// kProtobuf when an Accept header value names application/x-protobuf (with q > 0).
Wire WireFromAccept(const std::string& accept);

inline constexpr size_t kMaxLimit = 500;  // bbox page size
inline constexpr size_t kMaxK = 500;      // nearest
inline constexpr size_t kDefaultLimit = 50;

ApiResponse ListRoutes(const index::RouteSnapshot& s, const Params& p, Wire wire = Wire::kJson);
ApiResponse NearestRoutes(const index::RouteSnapshot& s, const Params& p, Wire wire = Wire::kJson);
// `id_text`: the path segment, as engine::ParseRouteRef reads it (a number, rN, wN).
ApiResponse GetRoute(const index::RouteSnapshot& s, const std::string& id_text, const Params& p,
                     Wire wire = Wire::kJson);
ApiResponse GetProfile(const index::RouteSnapshot& s, const std::string& id_text,
                       Wire wire = Wire::kJson);
ApiResponse ErrorResponse(int status, const std::string& code, const std::string& message,
                          Wire wire = Wire::kJson);
// The one mapping from a Status to an HTTP error: kInvalidArgument 400, kUnauthenticated 401,
// kPermissionDenied 403, kNotFound 404, kAlreadyExists 409, kResourceExhausted 413,
// kUnavailable 503, anything else 500; the error code is engine::StatusCodeName's, but for
// kAlreadyExists ("conflict") and kResourceExhausted ("too_large"). A 5xx's message names
// only an incident id: the Status's own message (a store's path or error) is for the
// operator, in ApiResponse::incident, which the server logs under that id.
ApiResponse ErrorFromStatus(const Status& s, Wire wire = Wire::kJson);
// Retry-After, in seconds, on a 503 from a store or a plugin that is away for a moment (a
// PostgreSQL restart takes a second or two); the event loop's own 503s (full queue) say 1.
inline constexpr const char* kUnavailableRetryAfterS = "2";

}  // namespace stride::server
