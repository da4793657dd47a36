// SPDX-License-Identifier: Apache-2.0
#include "server/run_service.hpp"

#include <cmath>
#include <unordered_map>

#include "engine/route/route_json.hpp"
#include "engine/sha256.hpp"
#include "engine/time/now.hpp"
#include "engine/trail/match.hpp"
#include "importers/activity/activity_reader.hpp"
#include "index/store/run_codec.hpp"
#include "server/auth.hpp"

namespace stride::server {

RunService::RunService(engine::RunStore& store, const engine::RunEvents& events,
                       RunServiceOptions options, RouteSource routes)
    : store_(store), events_(events), options_(options), routes_(std::move(routes)) {}

engine::TrailMatch RunService::MatchTrails(
    const index::RouteSnapshot* snap, const std::vector<engine::Analysis>& sessions,
    std::vector<std::optional<engine::trail::MatchResult>>* matches) const {
  engine::TrailMatch out;
  matches->assign(sessions.size(), std::nullopt);
  if (!snap || !snap->graph || snap->graph->edge_count() == 0) return out;
  const engine::trail::TrailGraph& g = *snap->graph;
  for (size_t k = 0; k < sessions.size(); ++k) {
    const engine::Track& t = sessions[k].track;
    const std::vector<engine::trail::MatchPoint> fixes = engine::trail::MatchPointsOf(t);
    if (fixes.size() < 2) continue;
    Result<engine::trail::MatchResult> m = engine::trail::Match(g, fixes);
    if (!m.ok()) continue;
    out.matched = true;
    out.on_network_m += m->on_network_m;
    out.off_network_m += m->off_network_m;
    const auto session = static_cast<uint32_t>(k + 1);
    for (const engine::trail::MatchedEdge& e : m->edges) {
      const uint64_t way = g.edge_way[e.edge];
      const double len = std::abs(e.to_m - e.from_m);
      if (!out.ways.empty() && out.ways.back().way_id == way &&
          out.ways.back().session == session) {
        out.ways.back().distance_m += len;
        out.ways.back().exit_s = e.exit_time_s;
        continue;
      }
      engine::MatchedWay w;
      w.way_id = way;
      w.name = g.str(g.edges[e.edge].name);
      w.distance_m = len;
      w.entry_s = e.entry_time_s;
      w.exit_s = e.exit_time_s;
      w.session = session;
      out.ways.push_back(std::move(w));
    }
    for (const engine::trail::RouteEffort& r : engine::trail::RouteEfforts(g, *m)) {
      engine::SegmentEffort e;
      e.route_id = g.routes[r.route].id;
      e.osm = engine::OsmRefOf(e.route_id);
      e.name = g.str(g.routes[r.route].name);
      e.distance_m = r.covered_m;
      e.start_s = r.start_s;
      e.elapsed_s = r.end_s - r.start_s;
      e.session = session;
      out.efforts.push_back(std::move(e));
    }
    (*matches)[k] = std::move(m).value();
  }
  return out;
}

std::vector<engine::CoveredRoute> RunService::Coverage(
    const index::RouteSnapshot* snap, const std::vector<engine::Analysis>& sessions,
    const std::vector<std::optional<engine::trail::MatchResult>>& matches) const {
  std::vector<engine::CoveredRoute> out;
  if (!snap || snap->index.size() == 0) return out;
  const double tol = options_.coverage.tolerance_m;
  for (size_t k = 0; k < sessions.size(); ++k) {
    const engine::Track& t = sessions[k].track;
    // The track's box, widened by the tolerance, selects the candidate routes.
    const std::optional<engine::TrackBounds> b = engine::PositionBounds(t);
    if (!b) continue;
    const double dlat = tol / 111'000.0;
    const double dlon = dlat / std::max(0.01, std::cos((b->min_lat + b->max_lat) / 2 * M_PI / 180));
    engine::BoxE7 box;
    box.min_lat = static_cast<int32_t>(std::floor((b->min_lat - dlat) * 1e7));
    box.max_lat = static_cast<int32_t>(std::ceil((b->max_lat + dlat) * 1e7));
    box.min_lon = static_cast<int32_t>(std::floor((b->min_lon - dlon) * 1e7));
    box.max_lon = static_cast<int32_t>(std::ceil((b->max_lon + dlon) * 1e7));
    const std::vector<index::RouteIndex::Hit> hits =
        snap->index.Bbox(box, engine::RouteFilter{}, index::RouteIndex::SortKey::kLength, 100'000);
    auto add = [&](size_t i, double share, double first_s, const char* method) {
      const engine::RouteSummary& r = snap->index.summary(i);
      engine::CoveredRoute route;
      route.id = r.id;
      route.osm = engine::OsmRefOf(r.id);
      route.name = std::string(snap->name(i));
      route.type = std::string(engine::RouteTypeName(r.type));
      route.length_m = r.length_m;
      route.covered_m = share * r.length_m;
      route.share = share;
      route.first_reached_s = first_s;
      route.session = static_cast<uint32_t>(k + 1);
      route.method = method;
      out.push_back(std::move(route));
    };
    if (k < matches.size() && matches[k] && snap->graph) {
      // From the match: a route counts as followed under the same thresholds as below.
      const engine::trail::TrailGraph& g = *snap->graph;
      std::unordered_map<uint64_t, size_t> by_id;
      for (const auto& h : hits) by_id.emplace(h.id, h.index);
      for (const engine::trail::RouteCovered& c : engine::trail::RoutesWalked(g, *matches[k])) {
        const auto it = by_id.find(g.routes[c.route].id);
        if (it == by_id.end()) continue;
        if (c.covered_m < options_.coverage.min_covered_m &&
            c.share < options_.coverage.min_share) {
          continue;
        }
        add(it->second, c.share, c.first_reached_s, "trail match");
      }
      continue;
    }
    std::vector<engine::CoverageCandidate> candidates;
    candidates.reserve(hits.size());
    for (const auto& h : hits) candidates.push_back({h.id, &snap->index.geometry(h.index)});
    for (const engine::RouteCoverage& c :
         engine::MeasureCoverage(t, candidates, options_.coverage)) {
      add(hits[c.candidate].index, c.share, t.time_s[c.first_point], "geometry");
    }
  }
  return out;
}

Result<engine::Run> RunService::AnalyzeFile(const std::string& user_id,
                                            std::string_view body) const {
  importers::ReadLimits limits;
  limits.max_bytes = options_.max_upload_bytes;
  limits.max_points = options_.max_points;
  Result<engine::Activity> act = importers::ReadActivity(body, limits);
  if (!act.ok()) return act.status();
  if (act->sessions.empty()) {
    return Status::InvalidArgument(act->format + " file without a track, lap or record");
  }
  engine::AnalyzeOptions aopt;
  aopt.dem = options_.dem;
  if (options_.athlete) options_.athlete(user_id, &aopt);
  std::vector<engine::Analysis> sessions;
  for (engine::Track& t : act->sessions) sessions.push_back(engine::Analyze(std::move(t), aopt));

  engine::Run run;
  run.summary = engine::SummarizeSessions(sessions);
  run.summary.user_id = user_id;
  run.summary.file_bytes = body.size();
  run.summary.format = act->format;
  // One snapshot for both (an import may switch the database meanwhile).
  const std::shared_ptr<const index::RouteSnapshot> snap = routes_ ? routes_() : nullptr;
  std::vector<std::optional<engine::trail::MatchResult>> matches;
  run.match = MatchTrails(snap.get(), sessions, &matches);
  run.coverage = Coverage(snap.get(), sessions, matches);
  for (engine::Analysis& a : sessions) {
    run.tracks.push_back(std::move(a.track));
    a.track = engine::Track();
  }
  run.sessions = std::move(sessions);
  if (options_.geofences) {  // the regions any session touched, in the table's order
    std::vector<bool> touched(options_.geofences->size(), false);
    for (const engine::Track& t : run.tracks) {
      for (size_t z : options_.geofences->TouchedBy(t)) touched[z] = true;
    }
    for (size_t z = 0; z < touched.size(); ++z) {
      if (touched[z]) run.summary.regions.push_back(options_.geofences->zone(z).name);
    }
  }

  return run;
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
  const std::string digest = req.idempotency_key.empty() ? std::string() : engine::Sha256(req.body);
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

  STRIDE_ASSIGN_OR_RETURN(engine::Run run, AnalyzeFile(req.user_id, req.body));
  run.summary.uploaded_at_s = engine::UnixNowS();
  run.summary.file_name = req.file_name;
  run.original.assign(req.body);
  run.idempotency_key = req.idempotency_key;

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

Result<RunService::Reanalyzed> RunService::Reanalyze(const std::string& user_id, uint64_t id) {
  STRIDE_ASSIGN_OR_RETURN(engine::Run before, store_.Get(user_id, id, {true, true}));
  Result<engine::Run> made = AnalyzeFile(user_id, before.original);
  if (!made.ok()) {
    // It was read at upload: an analysis that now refuses it is a regression to report, not
    // a reason to lose the run.
    return Status(made.status().code(), "run " + engine::RunIdText(id) + " of " + user_id +
                                            " no longer reads: " + made.status().message());
  }
  engine::Run after = std::move(made).value();
  after.summary.id = id;
  after.summary.uploaded_at_s = before.summary.uploaded_at_s;
  after.summary.file_name = before.summary.file_name;
  after.original = std::move(before.original);
  after.idempotency_key = before.idempotency_key;
  // Compared as stored: the same bytes are the same analysis.
  before.original = after.original;
  auto stored_bytes = [](const engine::Run& run) -> Result<std::string> {
    run::RunSummary summary;
    index::SummaryToProto(run.summary, run.idempotency_key, &summary);
    STRIDE_ASSIGN_OR_RETURN(std::string data, index::PackRunData(run, 1));
    return summary.SerializeAsString() + data;
  };
  STRIDE_ASSIGN_OR_RETURN(const std::string was, stored_bytes(before));
  STRIDE_ASSIGN_OR_RETURN(const std::string is, stored_bytes(after));
  Reanalyzed r;
  r.before = before.summary;
  r.after = after.summary;
  r.changed = was != is;
  if (!r.changed) return r;
  STRIDE_RETURN_IF_ERROR(store_.Replace(after));
  events_.Publish({engine::RunEvent::Kind::kStored, user_id, id});
  return r;
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
