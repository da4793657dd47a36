// SPDX-License-Identifier: Apache-2.0
//
// The OpenAPI 3.1 document of `stride serve` (GET /v1/openapi.json), built from the route table
// the server matches requests with, so it cannot drift from what is served:
//   - every path, method, token scope and body limit comes from the table itself (core routes)
//     or from the plugins' route_add (plugin routes);
//   - what the table cannot say (a summary, the query parameters, the request and answer
//     schemas) comes from a description keyed by the route's name (openapi.cpp), or for a
//     plugin route from the operation the plugin gave with route_doc. A route without one is
//     still listed, marked "x-undocumented", and named in OpenApiDocument::undocumented: a test
//     fails on it;
//   - the answers every route can give are added from what the server does for all of them:
//     401/403 on a route with a scope, 413 with a body, 429 from the rate limits, 400 and 404,
//     and the protobuf form (Accept: application/x-protobuf) where the route has one.
// Schemas are JSON Schema 2020-12 (the dialect of OpenAPI 3.1), shared under
// #/components/schemas; plugins may refer to them ("$ref":"#/components/schemas/Error").
//
// Trade-off: the descriptions are data beside the handlers, not derived from them; the
// integration tests close that gap by checking every answer they receive against this document
// (tests/support/api_client.hpp).
#pragma once

#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace stride::server {

// A core route as the table declares it (http::Route without its handler).
struct ApiRoute {
  std::string method;    // "GET", ...; "*" (the plugins' prefix route) is not documented itself
  std::string pattern;   // "/v1/runs/{id}"
  std::string name;      // the key of its description ("run")
  std::string scope;     // token scope; empty = public
  size_t max_body = 0;   // 0 = takes no body
  bool on_loop = false;  // answered on the I/O loop: not rate limited
};

// A plugin route (PluginHost::RouteDocs).
struct PluginApiRoute {
  std::string plugin;          // "plans"
  std::string method;          // "GET"
  std::string pattern;         // "/v1/plans/days/{date}/workout.fit"
  std::string scope;           // "runner:read"; empty = public
  std::string operation_json;  // the plugin's OpenAPI Operation Object; empty = none given
};

struct OpenApiDocument {
  nlohmann::ordered_json json;
  std::vector<std::string> undocumented;  // "GET /v1/x (name)" of routes without a description
  std::vector<std::string> problems;      // plugin operations that could not be used, and why
};

// The document for the core routes and the plugin routes. `server_version` goes to info.version.
OpenApiDocument BuildOpenApi(const std::vector<ApiRoute>& core,
                             const std::vector<PluginApiRoute>& plugin_routes,
                             const std::string& server_version);

// The query parameters of each documented /v1 operation in `doc` (a BuildOpenApi document),
// keyed "METHOD /pattern": {"GET /v1/runs": {"before", "limit"}}. Operations outside /v1 (the
// page, its files, /metrics) and undocumented ones are left out: they are not checked.
using QueryNames = std::map<std::string, std::vector<std::string>>;
QueryNames QueryNamesOf(const nlohmann::ordered_json& doc);

// The error for the first query parameter of a request that the operation `method pattern`
// does not take ("limt: unknown parameter (expected before, limit)") or that is given more than
// once ("via: given more than once"), or nullopt when there is none or the operation is not in
// `names`. A misspelt filter (min_length for min_length_m) was ignored and everything answered;
// of a repeated one the first was taken (via=a&via=b routed through a alone).
std::optional<std::string> QueryParameterProblem(
    const QueryNames& names, const std::string& method, const std::string& pattern,
    const std::vector<std::pair<std::string, std::string>>& query);

// The names of the core routes that have a description (for tests).
std::vector<std::string> DescribedRouteNames();

}  // namespace stride::server
