// SPDX-License-Identifier: Apache-2.0
//
// The run endpoints (GET /v1/runs, /{id}, /{id}/track, /{id}/file; POST /v1/runs) on a real run
// database (RocksDB, in a temporary folder) holding one generated run of the caller's: any
// query, any id, any uploaded bytes with any Idempotency-Key and X-File-Name (defect 4 of the
// hardening issue: 0xFF in a name or a parameter gave 500). Every answer has a status the API
// documents, and a JSON answer parses. A run an upload stored is deleted again, so every input
// meets the same database.
//
// Input: one byte choosing the endpoint, the wire format and whether the id is the stored
// run's; then "id?query" (GETs) or "key\nfile name\nbody" (uploads).
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <set>
#include <string>

#include "datasets/synthetic_activity.hpp"
#include "engine/run/run.hpp"
#include "fuzz/fuzz_target.hpp"
#include "fuzz/json_check.hpp"
#include "index/store/run_db.hpp"
#include "server/http/parse.hpp"
#include "server/run_api.hpp"
#include "server/run_service.hpp"
#include "stride/api.pb.h"

namespace {

struct World {
  std::filesystem::path dir;
  std::unique_ptr<stride::index::RunDb> db;
  stride::engine::RunEvents events;
  std::unique_ptr<stride::server::RunService> runs;
  stride::server::Principal ann;
  std::string run_id;
};
World* g = nullptr;

void Remove() {
  if (g == nullptr) return;
  g->runs.reset();
  g->db.reset();
  std::error_code ec;
  std::filesystem::remove_all(g->dir, ec);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g = new World;
  g->dir =
      std::filesystem::temp_directory_path() / ("stride_fuzz_runs_" + std::to_string(::getpid()));
  std::filesystem::remove_all(g->dir);
  stride::index::RunDb::Options options;
  options.sync = false;
  auto db = stride::index::RunDb::Open(g->dir.string(), options);
  STRIDE_FUZZ_CHECK(db.ok(), db.status().message());
  g->db = std::move(db).value();
  stride::server::RunServiceOptions service;
  service.max_upload_bytes = size_t{4} << 20;
  service.max_points = 200'000;
  g->runs = std::make_unique<stride::server::RunService>(*g->db, g->events, service,
                                                         [] { return nullptr; });
  g->ann.user_id = "ann";
  g->ann.scopes = {"runner:read", "runner:write"};
  stride::datasets::SyntheticRunOptions run;
  run.laps = 1;
  run.interval_s = 5;
  const std::string gpx =
      stride::datasets::WriteGpx(stride::datasets::MakeSyntheticRun(run).recorded);
  const stride::server::ApiResponse stored =
      stride::server::UploadRun(*g->runs, g->ann, gpx, "", "seed.gpx");
  STRIDE_FUZZ_CHECK(stored.status == 201, stored.body);
  g->run_id = stride::fuzz::JsonStringMember(stored.body, "id");
  STRIDE_FUZZ_CHECK(!g->run_id.empty(), stored.body);
  std::atexit(Remove);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace server = stride::server;
  stride::fuzz::Input in(data, size);
  const uint8_t choice = in.Byte();
  const int endpoint = (choice & 0x0F) % 5;  // bits 0-3; 0x40: the stored run's id; 0x80: protobuf
  const server::Wire wire = (choice & 0x80) != 0 ? server::Wire::kProtobuf : server::Wire::kJson;
  server::ApiResponse r;
  std::set<int> allowed = {200, 400, 404};
  if (endpoint == 4) {
    const std::string key(in.Until('\n'));
    const std::string name(in.Until('\n'));
    const std::string_view body = in.Rest();
    r = server::UploadRun(*g->runs, g->ann, body, key, name, wire);
    allowed = {200, 201, 400, 409, 413, 422};
    if (r.status == 201 && wire == server::Wire::kJson) {
      const std::string id = stride::fuzz::JsonStringMember(r.body, "id");
      STRIDE_FUZZ_CHECK(!id.empty(), r.body);
      const server::ApiResponse gone = server::DeleteRun(*g->runs, g->ann, id);
      STRIDE_FUZZ_CHECK(gone.status == 204, gone.body);
    } else if (r.status == 201) {
      stride::api::Run pb;
      STRIDE_FUZZ_CHECK(pb.ParseFromString(r.body), "a protobuf answer parses");
      const std::string id = stride::engine::RunIdText(pb.summary().id());
      STRIDE_FUZZ_CHECK(id != g->run_id, "a new run");
      const server::ApiResponse gone = server::DeleteRun(*g->runs, g->ann, id);
      STRIDE_FUZZ_CHECK(gone.status == 204, gone.body);
    }
  } else {
    std::string id = server::http::PercentDecode(in.Until('?'), false);
    if ((choice & 0x40) != 0) id = g->run_id;
    server::Params params;
    for (const auto& [k, v] : server::http::ParseQuery(in.Rest())) params.emplace(k, v);
    switch (endpoint) {
      case 0:
        r = server::ListRuns(*g->runs, g->ann, params, wire);
        break;
      case 1:
        r = server::GetRun(*g->runs, g->ann, id, wire);
        break;
      case 2:
        r = server::GetRunTrack(*g->runs, g->ann, id, params, wire);
        break;
      default:
        r = server::GetRunFile(*g->runs, g->ann, id, wire);
        break;
    }
  }
  STRIDE_FUZZ_CHECK(allowed.count(r.status) == 1, std::to_string(r.status) + " " + r.body);
  if (std::string_view(r.content_type) == server::kJsonType) {
    STRIDE_FUZZ_CHECK(stride::fuzz::IsJson(r.body), r.body);
  }
  return 0;
}
