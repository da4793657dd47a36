// SPDX-License-Identifier: Apache-2.0
//
// The run endpoints of HTTP API v1, as plain functions of the caller (a verified token) and the
// request, so the HTTP layer only authenticates, parses and dispatches.
//
//   POST   /v1/runs                 body: a GPX, TCX or FIT file (format from the content);
//                                   headers Idempotency-Key (optional), X-File-Name (optional)
//                                   201 {"id", ..., "analysis": {...}, "route_coverage": [...]}
//                                   200 with the first result for a retried Idempotency-Key
//                                   413 over a limit, 422 unreadable file, 409 key reused
//   GET    /v1/runs?before=C&limit=N   summaries, newest first; "next_before" cursor or null
//   GET    /v1/runs/{id}            the run as the upload answered it
//   GET    /v1/runs/{id}/track?format=geojson|gpx|polyline6   the cleaned, smoothed track
//   GET    /v1/runs/{id}/file       the original file, byte for byte
//   DELETE /v1/runs/{id}            204
//   GET    /v1/me/export            a tar stream of every run: original file and run JSON
//   DELETE /v1/me                   every record of the user; 200 {"deleted_runs": N}
// Scopes: runner:read for GETs, runner:write for POST and DELETE. Another user's run is
// not_found, exactly like a run that does not exist. Responses are JSON; with Wire::kProtobuf
// (Accept: application/x-protobuf) the upload, the run and the list are api.Run / api.RunList
// (proto/stride/api.proto: the stored, typed analysis) and errors api.ErrorResponse. The
// analysis is stored typed and rendered here, at the edge.
//
// Thread-safety: as RunService.
#pragma once

#include <deque>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "server/auth.hpp"
#include "server/route_api.hpp"
#include "server/run_service.hpp"

namespace stride::server {

inline constexpr size_t kDefaultRunPage = 20;
inline constexpr size_t kMaxRunPage = 100;

ApiResponse UploadRun(RunService& runs, const Principal& who, std::string_view body,
                      const std::string& idempotency_key, const std::string& file_name,
                      Wire wire = Wire::kJson);
ApiResponse ListRuns(RunService& runs, const Principal& who, const Params& p,
                     Wire wire = Wire::kJson);
// `runner`: what the runner noted about the run (delta sync: {"notes","rpe"}), shown as
// "runner" in the JSON answer when not empty.
ApiResponse GetRun(RunService& runs, const Principal& who, const std::string& id_text,
                   Wire wire = Wire::kJson, const nlohmann::json& runner = {});
ApiResponse GetRunTrack(RunService& runs, const Principal& who, const std::string& id_text,
                        const Params& p, Wire wire = Wire::kJson);
ApiResponse GetRunFile(RunService& runs, const Principal& who, const std::string& id_text,
                       Wire wire = Wire::kJson);
ApiResponse DeleteRun(RunService& runs, const Principal& who, const std::string& id_text,
                      Wire wire = Wire::kJson);
ApiResponse DeleteMe(RunService& runs, const Principal& who, Wire wire = Wire::kJson);

// The JSON of a stored run (what POST answers and GET returns).
std::string RunJson(const engine::Run& run, const nlohmann::json& runner = {});
// The JSON of a run's summary (an item of GET /v1/runs); as an object for who adds to it.
std::string RunSummaryJson(const engine::RunSummary& summary);
nlohmann::json RunSummaryObject(const engine::RunSummary& summary);

// GET /v1/me/export as a stream: a POSIX tar (ustar) of
//   stride-export/runs/<start>_<id>/original.<gpx|tcx|fit>
//   stride-export/runs/<start>_<id>/run.json
//   stride-export/plugins/<name>.json  (each plugin's keys of the user, from `extra`)
//   stride-export/manifest.json        (user, time, one line per run, the plugin files; last)
// read a page of runs at a time, so memory stays at one run however many there are.
class ExportStream {
 public:
  // (path under stride-export/, content) of more files for the user; an error cuts the
  // archive short.
  using ExtraFiles = std::function<Result<std::vector<std::pair<std::string, std::string>>>(
      const std::string& user)>;
  ExportStream(RunService& runs, std::string user_id, ExtraFiles extra = nullptr);
  // The next piece of the archive; false after the end. On a store error the archive is cut
  // short (no end marker), so a client sees a truncated tar, never a silently partial one.
  bool Next(std::string* chunk);
  // True once the whole archive (with its end marker) was produced.
  bool complete() const { return complete_; }

 private:
  RunService& runs_;
  std::string user_;
  std::string cursor_;
  std::deque<engine::RunSummary> pending_;
  bool listed_all_ = false;
  bool done_ = false;
  bool complete_ = false;
  std::string manifest_;
  size_t count_ = 0;
  ExtraFiles extra_;
  std::vector<std::string> extra_names_;
};

}  // namespace stride::server
