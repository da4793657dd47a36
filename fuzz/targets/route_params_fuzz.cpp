// SPDX-License-Identifier: Apache-2.0
//
// The route endpoints' parameter parsers and responses (GET /v1/routes, /nearest, /{id},
// /{id}/profile) on a small generated route database: any query string, any id. Every answer
// is 200, 400 or 404, and a JSON answer parses as JSON (client text in an error message must
// not break it: defect 1 of the hardening issue).
//
// Input: one byte choosing the endpoint and the wire format, the id up to '?', the query.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "datasets/synthetic_routes.hpp"
#include "fuzz/fuzz_target.hpp"
#include "fuzz/json_check.hpp"
#include "index/store/route_snapshot.hpp"
#include "server/http/parse.hpp"
#include "server/route_api.hpp"

namespace {

std::shared_ptr<const stride::index::RouteSnapshot> g_snapshot;
std::filesystem::path g_dir;

void RemoveDatabase() {
  g_snapshot.reset();
  std::error_code ec;
  std::filesystem::remove_all(g_dir, ec);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_dir =
      std::filesystem::temp_directory_path() / ("stride_fuzz_routes_" + std::to_string(::getpid()));
  stride::datasets::SyntheticRoutesOptions options;
  options.count = 300;
  options.SetRegion(42.4, 1.4, 42.7, 1.8);
  const auto written = stride::datasets::WriteSyntheticRouteDb(options, g_dir.string(), 1);
  STRIDE_FUZZ_CHECK(written.ok(), written.status().message());
  auto loaded = stride::index::LoadRouteSnapshot(g_dir.string());
  STRIDE_FUZZ_CHECK(loaded.ok(), loaded.status().message());
  g_snapshot = std::move(loaded).value();
  std::atexit(RemoveDatabase);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace server = stride::server;
  stride::fuzz::Input in(data, size);
  const uint8_t choice = in.Byte();
  const server::Wire wire = (choice & 0x80) != 0 ? server::Wire::kProtobuf : server::Wire::kJson;
  const std::string id = server::http::PercentDecode(in.Until('?'), false);
  server::Params params;
  for (const auto& [k, v] : server::http::ParseQuery(in.Rest())) params.emplace(k, v);

  const stride::index::RouteSnapshot& s = *g_snapshot;
  server::ApiResponse r;
  switch (choice % 4) {
    case 0:
      r = server::ListRoutes(s, params, wire);
      break;
    case 1:
      r = server::NearestRoutes(s, params, wire);
      break;
    case 2:
      r = server::GetRoute(s, id, params, wire);
      break;
    default:
      r = server::GetProfile(s, id, wire);
      break;
  }
  STRIDE_FUZZ_CHECK(r.status == 200 || r.status == 400 || r.status == 404,
                    std::to_string(r.status) + " " + r.body);
  if (std::string_view(r.content_type) == server::kJsonType) {
    STRIDE_FUZZ_CHECK(stride::fuzz::IsJson(r.body), r.body);
  }
  return 0;
}
