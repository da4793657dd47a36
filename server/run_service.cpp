// SPDX-License-Identifier: Apache-2.0
#include "server/run_service.hpp"

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

#include "engine/route/route_json.hpp"
#include "engine/text/iso_time.hpp"
#include "engine/text/json_dump.hpp"
#include "engine/track/analysis_json.hpp"
#include "importers/activity/activity_reader.hpp"
#include "server/auth.hpp"

namespace stride::server {
namespace {

using Json = nlohmann::ordered_json;

double NowS() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

double Round(double x, double unit) {
  const double scale = std::round(1.0 / unit);
  return std::round(x * scale) / scale;
}

engine::RunSummary Summarise(const std::vector<engine::Analysis>& sessions) {
  engine::RunSummary s;
  s.sessions = static_cast<uint32_t>(sessions.size());
  const engine::Analysis& first = sessions.front();
  s.start_time_s = first.start_time_s;
  s.format = first.format;
  s.sport = sessions.size() == 1 ? std::string(engine::SportName(first.sport)) : "multisport";
  s.elevation_source = std::string(engine::AltitudeSourceName(first.smoothing.elevation_source));
  const engine::SessionTotals t = engine::Totals(sessions);
  s.points = t.kept_points;
  s.distance_m = t.distance_m;
  s.moving_time_s = t.moving_time_s;
  s.elapsed_time_s = t.elapsed_time_s;
  s.ascent_m = t.ascent_m;
  return s;
}

}  // namespace

RunService::RunService(engine::RunStore& store, const engine::RunEvents& events,
                       RunServiceOptions options, RouteSource routes)
    : store_(store), events_(events), options_(options), routes_(std::move(routes)) {}

std::string RunService::CoverageJson(const std::vector<engine::Analysis>& sessions) const {
  Json out = Json::array();
  const std::shared_ptr<const index::RouteSnapshot> snap = routes_ ? routes_() : nullptr;
  if (!snap || snap->index.size() == 0) return engine::DumpJson(out);
  const double tol = options_.coverage.tolerance_m;
  for (size_t k = 0; k < sessions.size(); ++k) {
    const engine::Track& t = sessions[k].track;
    // The track's box, widened by the tolerance, selects the candidate routes.
    double min_lat = 90, max_lat = -90, min_lon = 180, max_lon = -180;
    for (size_t i = 0; i < t.size(); ++i) {
      if (!t.has_position(i)) continue;
      min_lat = std::min(min_lat, t.lat_deg[i]);
      max_lat = std::max(max_lat, t.lat_deg[i]);
      min_lon = std::min(min_lon, t.lon_deg[i]);
      max_lon = std::max(max_lon, t.lon_deg[i]);
    }
    if (min_lat > max_lat) continue;
    const double dlat = tol / 111'000.0;
    const double dlon = dlat / std::max(0.01, std::cos((min_lat + max_lat) / 2 * M_PI / 180));
    engine::BoxE7 box;
    box.min_lat = static_cast<int32_t>(std::floor((min_lat - dlat) * 1e7));
    box.max_lat = static_cast<int32_t>(std::ceil((max_lat + dlat) * 1e7));
    box.min_lon = static_cast<int32_t>(std::floor((min_lon - dlon) * 1e7));
    box.max_lon = static_cast<int32_t>(std::ceil((max_lon + dlon) * 1e7));
    const std::vector<index::RouteIndex::Hit> hits =
        snap->index.Bbox(box, engine::RouteFilter{}, index::RouteIndex::SortKey::kLength, 100'000);
    std::vector<engine::CoverageCandidate> candidates;
    candidates.reserve(hits.size());
    for (const auto& h : hits) candidates.push_back({h.id, &snap->index.geometry(h.index)});
    for (const engine::RouteCoverage& c :
         engine::MeasureCoverage(t, candidates, options_.coverage)) {
      const size_t i = hits[c.candidate].index;
      const engine::RouteSummary& r = snap->index.summary(i);
      const std::string_view name = snap->name(i);
      const double reached = t.time_s[c.first_point];
      out.push_back({{"id", r.id},
                     {"osm", engine::OsmRefOf(r.id)},
                     {"name", name.empty() ? Json(nullptr) : Json(name)},
                     {"type", engine::RouteTypeName(r.type)},
                     {"length_m", Round(r.length_m, 0.1)},
                     {"covered_m", Round(c.share * r.length_m, 0.1)},
                     {"share", Round(c.share, 0.001)},
                     {"first_reached",
                      std::isnan(reached) ? Json(nullptr) : Json(engine::FormatIsoTime(reached))},
                     {"session", k + 1}});
    }
  }
  return engine::DumpJson(out);
}

Result<RunService::Uploaded> RunService::Upload(const UploadRequest& req) {
  STRIDE_RETURN_IF_ERROR(engine::CheckUserId(req.user_id));
  if (req.body.size() > options_.max_upload_bytes) {
    return Status::ResourceExhausted("upload of " + std::to_string(req.body.size()) +
                                     " bytes is over the limit of " +
                                     std::to_string(options_.max_upload_bytes) + " bytes");
  }
  if (req.body.empty())
    return Status::InvalidArgument("empty body: expected a GPX, TCX or FIT file");
  const std::string digest = req.idempotency_key.empty() ? std::string() : Sha256(req.body);
  if (!req.idempotency_key.empty()) {
    Result<std::optional<uint64_t>> earlier =
        store_.FindByIdempotencyKey(req.user_id, req.idempotency_key, digest);
    if (!earlier.ok()) return earlier.status();
    if (earlier->has_value()) {
      Result<engine::Run> run = store_.Get(req.user_id, **earlier, {false, false});
      if (run.ok()) return Uploaded{std::move(run).value(), true};
      // The run was deleted since: the key is free again (Delete removed it), fall through.
    }
  }

  importers::ReadLimits limits;
  limits.max_bytes = options_.max_upload_bytes;
  limits.max_points = options_.max_points;
  Result<engine::Activity> act = importers::ReadActivity(req.body, limits);
  if (!act.ok()) return act.status();
  if (act->sessions.empty()) {
    return Status::InvalidArgument(act->format + " file without a track, lap or record");
  }
  engine::AnalyzeOptions aopt;
  aopt.dem = options_.dem;
  std::vector<engine::Analysis> sessions;
  for (engine::Track& t : act->sessions) sessions.push_back(engine::Analyze(std::move(t), aopt));

  engine::Run run;
  run.summary = Summarise(sessions);
  run.summary.user_id = req.user_id;
  run.summary.uploaded_at_s = NowS();
  run.summary.file_name = req.file_name;
  run.summary.file_bytes = req.body.size();
  run.summary.format = act->format;
  const std::string name = req.file_name.empty() ? "upload" : req.file_name;
  run.analysis_json = engine::AnalysisJson(name, sessions);
  run.coverage_json = CoverageJson(sessions);
  run.original.assign(req.body);
  run.idempotency_key = req.idempotency_key;
  for (engine::Analysis& a : sessions) run.tracks.push_back(std::move(a.track));

  Result<engine::RunStore::PutResult> put = store_.Put(run, digest);
  if (!put.ok()) return put.status();
  if (put->existed) {  // a concurrent retry won the key
    Result<engine::Run> first = store_.Get(req.user_id, put->id, {false, false});
    if (!first.ok()) return first.status();
    return Uploaded{std::move(first).value(), true};
  }
  run.summary.id = put->id;
  events_.Publish({engine::RunEvent::Kind::kStored, req.user_id, put->id});
  run.original.clear();
  run.tracks.clear();
  return Uploaded{std::move(run), false};
}

Result<bool> RunService::Delete(const std::string& user_id, uint64_t id) {
  Result<bool> deleted = store_.Delete(user_id, id);
  if (deleted.ok() && *deleted) events_.Publish({engine::RunEvent::Kind::kDeleted, user_id, id});
  return deleted;
}

Result<std::vector<uint64_t>> RunService::DeleteUser(const std::string& user_id) {
  Result<std::vector<uint64_t>> ids = store_.DeleteUser(user_id);
  if (!ids.ok()) return ids;
  for (uint64_t id : *ids) events_.Publish({engine::RunEvent::Kind::kDeleted, user_id, id});
  events_.Publish({engine::RunEvent::Kind::kUserDeleted, user_id, 0});
  return ids;
}

}  // namespace stride::server
