// SPDX-License-Identifier: Apache-2.0
//
// RunService: what happens to an uploaded run, as one call per API operation. An upload is
// read (format from the content), analysed session by session (engine::Analyze, with the DEM
// when the server has one), matched against the indexed routes (engine::MeasureCoverage),
// stored (RunStore::Put: one atomic, logged write) and announced (RunEvents: run.stored).
// Nothing is stored for an upload that fails at any step. Deletes announce run.deleted (and
// user.deleted) after they are durable.
//
// Thread-safety: safe from any number of threads (the store and the route source are).
//
//   RunService runs(store, events, options, [&] { return snapshot; });
//   Result<RunService::Uploaded> u = runs.Upload({"alice", body, "key-1", "morning.fit"});
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "engine/geometry/zones.hpp"
#include "engine/route/coverage.hpp"
#include "engine/run/run.hpp"
#include "engine/track/analysis.hpp"
#include "engine/trail/match.hpp"
#include "index/store/route_snapshot.hpp"

namespace stride::server {

struct RunServiceOptions {
  size_t max_upload_bytes = size_t{64} << 20;    // Default: 64 MiB
  size_t max_points = 2'000'000;                 // per file. Default: 2,000,000 (23 days at 1 Hz)
  const engine::ElevationSource* dem = nullptr;  // Default: none (keep the file's altitude)
  engine::CoverageOptions coverage;
  // The user's own settings for the analysis (max and rest heart rate from the athlete
  // profile: zones and TRIMP); called once per upload. Default: none (estimated).
  std::function<void(const std::string& user_id, engine::AnalyzeOptions* options)> athlete;
  // Regions each run is tagged with (RunSummary::regions), from --geofences. Default: none.
  const engine::ZoneSet* geofences = nullptr;
};

class RunService {
 public:
  using RouteSource = std::function<std::shared_ptr<const index::RouteSnapshot>()>;

  RunService(engine::RunStore& store, const engine::RunEvents& events, RunServiceOptions options,
             RouteSource routes);

  struct UploadRequest {
    std::string user_id;
    std::string_view body;
    std::string idempotency_key;  // empty: none
    std::string file_name;        // empty: "upload"
  };
  struct Uploaded {
    engine::Run run;       // as stored (no original, no tracks)
    bool existed = false;  // an earlier upload under the same idempotency key
  };
  // kResourceExhausted over a limit; kInvalidArgument/kCorruption for a file that cannot be
  // read (with where); kAlreadyExists for an idempotency key reused for another file.
  Result<Uploaded> Upload(const UploadRequest& request);

  // Analyses a stored run again (re-analysis after an import or an algorithm change): the
  // same steps as its upload, on its stored original, with this server's analysis, DEM, route
  // database and geofences. When anything stored would differ, the run is replaced (same id,
  // upload time, file name and idempotency key) and run.stored is announced again (plugins,
  // sync and webhooks handle it as an update); else nothing is written. kNotFound when the
  // run is gone; the file's own error (naming the run) when it no longer reads.
  struct Reanalyzed {
    bool changed = false;
    engine::RunSummary before, after;
  };
  Result<Reanalyzed> Reanalyze(const std::string& user_id, uint64_t id);

  engine::RunStore& store() { return store_; }
  const RunServiceOptions& options() const { return options_; }

  Result<bool> Delete(const std::string& user_id, uint64_t id);
  Result<std::vector<uint64_t>> DeleteUser(const std::string& user_id);

 private:
  // The file read and analysed, matched and covered as an upload is: every field of the run
  // but its id, upload time, file name, original and idempotency key.
  Result<engine::Run> AnalyzeFile(const std::string& user_id, std::string_view body) const;
  // Map matching of each session onto the trail graph (when the database has one): ways
  // walked and segment efforts; `matches` gets each session's match (empty when unmatched).
  engine::TrailMatch MatchTrails(
      const index::RouteSnapshot* snap, const std::vector<engine::Analysis>& sessions,
      std::vector<std::optional<engine::trail::MatchResult>>* matches) const;
  // The routes each session followed: from its match when it has one (exact on the graph:
  // the metres of each route's edges matched), else geometrically (the track within the
  // tolerance of the route's line; engine::MeasureCoverage).
  std::vector<engine::CoveredRoute> Coverage(
      const index::RouteSnapshot* snap, const std::vector<engine::Analysis>& sessions,
      const std::vector<std::optional<engine::trail::MatchResult>>& matches) const;

  engine::RunStore& store_;
  const engine::RunEvents& events_;
  RunServiceOptions options_;
  RouteSource routes_;
};

}  // namespace stride::server
