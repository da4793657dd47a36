// SPDX-License-Identifier: Apache-2.0
#include "server/http_server.hpp"

#include <strings.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>
#include <thread>
#include <utility>

#include "engine/text/iso_time.hpp"
#include "engine/text/join.hpp"
#include "engine/text/json_dump.hpp"
#include "engine/text/utf8.hpp"
#include "engine/time/now.hpp"
#include "server/auth.hpp"
#include "server/http/multipart.hpp"
#include "server/metrics.hpp"
#include "server/plugin_services.hpp"
#include "server/route_api.hpp"
#include "server/run_api.hpp"
#include "server/run_service.hpp"
#include "server/tile_api.hpp"
#include "server/trail_api.hpp"
#include "server/web_page.hpp"

namespace stride::server {
namespace {

Wire WireOf(const HttpRequest& req) {
  return WireFromAccept(req.Header("Accept"));
}

// [minlon, minlat, maxlon, maxlat] in degrees; null for an empty box.
nlohmann::ordered_json BoundsJson(const engine::BoxE7& b) {
  if (b.min_lat > b.max_lat) return nullptr;
  return {b.min_lon * 1e-7, b.min_lat * 1e-7, b.max_lon * 1e-7, b.max_lat * 1e-7};
}

Params ParamsOf(const HttpRequest& req) {
  Params p;
  for (const auto& [k, v] : req.query) p.emplace(k, v);  // first value of a repeated key wins
  return p;
}

nlohmann::ordered_json BackupJson(const engine::BackupInfo& b) {
  return {{"id", b.id},
          {"created_at", engine::FormatIsoTime(static_cast<double>(b.created_unix_s))},
          {"size_bytes", b.size_bytes},
          {"files", b.files}};
}

std::string ReanalysisJson(const Reanalysis::Progress& p) {
  auto time = [](double t) {
    return t > 0 ? nlohmann::ordered_json(engine::FormatIsoTime(t, 3)) : nlohmann::ordered_json();
  };
  const nlohmann::ordered_json j = {
      {"state", p.running            ? "running"
                : p.started_at_s > 0 ? "finished"
                                     : "never run"},
      {"mode", p.queued ? "queued for the workers" : "on this server"},
      {"user", p.user.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(p.user)},
      {"runs", p.runs},
      {p.queued ? "queued" : "changed", p.changed},
      {"failed", p.failed},
      {"last_error",
       p.last_error.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(p.last_error)},
      {"started_at", time(p.started_at_s)},
      {"finished_at", time(p.finished_at_s)}};
  return engine::DumpJson(j);
}

// The caller of a route with a scope: a verified bearer token that carries it, or the answer.
std::optional<ApiResponse> Authorize(const Jwt* jwt, const http::Route& route, HttpRequest& req) {
  const Wire wire = WireOf(req);
  if (!jwt) {
    return ErrorResponse(503, "unavailable",
                         "this server stores no runs (start it with --runs DIR)", wire);
  }
  const std::string& auth = req.Header("Authorization");
  auto unauthenticated = [&](const std::string& why) {
    ApiResponse r = ErrorResponse(401, "unauthenticated", why, wire);
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"stride\"");
    return r;
  };
  if (auth.empty()) return unauthenticated("missing Authorization: Bearer <token>");
  if (auth.size() < 8 || strncasecmp(auth.c_str(), "Bearer ", 7) != 0) {
    return unauthenticated("Authorization: expected the Bearer scheme");
  }
  Result<Principal> p = jwt->Verify(std::string_view(auth).substr(7), engine::UnixNowS());
  if (!p.ok()) return unauthenticated(p.status().message());
  if (!p->Has(route.scope)) {
    return ErrorResponse(403, "forbidden", "this token lacks the scope " + route.scope, wire);
  }
  req.principal = std::move(p).value();
  return std::nullopt;
}

// A sync query number (last_pulled_at, schema_version): decimal digits; absent is 0.
Result<uint64_t> SyncNumber(const Params& q, const std::string& key) {
  const std::optional<std::string> text = Get(q, key);
  if (!text || text->empty()) return uint64_t{0};
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || end != text->data() + text->size()) {
    return Status::InvalidArgument(key + ": expected a whole number, as the last pull answered");
  }
  return v;
}

ApiResponse SyncResponse(const Result<SyncAnswer>& a) {
  if (!a.ok()) return ErrorFromStatus(a.status());
  return ApiResponse(a->status, engine::DumpJson(a->body));
}

// POST /v1/runs: a raw body, or a multipart form's first file.
ApiResponse Upload(RunService& runs, HttpRequest& req) {
  const Wire wire = WireOf(req);
  std::string_view body = req.body;
  std::string file_name = req.Header("X-File-Name");
  const std::string boundary = http::MultipartBoundary(req.Header("Content-Type"));
  if (!boundary.empty()) {
    Result<http::FilePart> part = http::FirstFilePart(req.body, boundary);
    if (part.ok()) {
      body = part->content;
      if (file_name.empty()) file_name = part->filename;
    } else if (part.status().code() == StatusCode::kNotFound) {
      body = {};  // a form without a file: an empty upload (422)
    } else {
      return ErrorResponse(400, "invalid_argument", part.status().message(), wire);
    }
  }
  return UploadRun(runs, req.principal, body, req.Header("Idempotency-Key"), file_name, wire);
}

// PUT /v1/me/connections/{provider} {"provider_user_id": "..."}: links the caller's account.
ApiResponse PutConnection(Connections* links, const InboundOptions& inbound, HttpRequest& req) {
  const Wire wire = WireOf(req);
  if (!links) return ErrorResponse(404, "not_found", "connections need --runs", wire);
  const std::string& provider = req.path_params[0];
  if (!inbound.secrets.count(provider)) {
    return ErrorResponse(404, "not_found",
                         "no provider " + engine::ValidUtf8(provider) +
                             " (this server accepts webhooks from: " +
                             engine::JoinKeys(inbound.secrets, ", ", "none") + ")",
                         wire);
  }
  const nlohmann::json j = nlohmann::json::parse(req.body, nullptr, false);
  if (!j.is_object() || !j.contains("provider_user_id") || !j["provider_user_id"].is_string() ||
      j["provider_user_id"].get<std::string>().empty() ||
      j["provider_user_id"].get<std::string>().size() > 200) {
    return ErrorResponse(400, "invalid_argument",
                         "body: expected {\"provider_user_id\": \"<1 to 200 characters>\"}", wire);
  }
  const std::string account = j["provider_user_id"].get<std::string>();
  if (!IsHeaderToken(account)) {
    return ErrorResponse(400, "invalid_argument",
                         "provider_user_id: expected printable ASCII (it is sent back in the "
                         "Webhook-User header)",
                         wire);
  }
  const Status s = links->Link(req.principal.user_id, provider, account);
  if (s.code() == StatusCode::kAlreadyExists) {
    return ErrorResponse(409, "conflict", s.message(), wire);
  }
  if (!s.ok()) return ErrorFromStatus(s, wire);
  return ApiResponse(200, engine::DumpJson(nlohmann::ordered_json{{"provider", provider},
                                                                  {"provider_user_id", account}}));
}

// POST /v1/webhooks/{provider}: a provider's signed activity, stored for the linked user with
// the event id as the idempotency key.
ApiResponse InboundActivity(RunService* rs, Connections* links, const InboundOptions& inbound,
                            HttpRequest& req) {
  const Wire wire = WireOf(req);
  const std::string& provider = req.path_params[0];
  auto secrets = inbound.secrets.find(provider);
  if (!rs || !links || secrets == inbound.secrets.end()) {
    return ErrorResponse(404, "not_found",
                         "no webhooks from " + engine::ValidUtf8(provider) + " here", wire);
  }
  Result<std::string> account =
      VerifyInbound(secrets->second, req, engine::UnixNowS(), inbound.replay_window_s);
  if (!account.ok()) {
    const bool unauth = account.status().code() == StatusCode::kUnauthenticated;
    return ErrorResponse(unauth ? 401 : 400, unauth ? "unauthenticated" : "invalid_argument",
                         account.status().message(), wire);
  }
  Result<std::optional<std::string>> user = links->UserOf(provider, *account);
  if (!user.ok()) return ErrorFromStatus(user.status(), wire);
  if (!user->has_value()) {
    return ErrorResponse(422, "not_linked",
                         "no Stride user has linked " + provider + " account " + *account, wire);
  }
  Principal who;
  who.user_id = **user;
  return UploadRun(*rs, who, req.body, "webhook:" + provider + ":" + req.Header("Webhook-Id"),
                   provider + "-" + req.Header("Webhook-Id"), wire);
}

constexpr const char* kPluginScope = "(plugin route)";

std::string_view RawPath(const HttpRequest& req) {
  return std::string_view(req.target).substr(0, req.target.find('?'));
}

// What a client is told when a plugin answers `status` (5xx); the plugin's own words go to the
// log under the incident id.
std::string PluginFailureMessage(const std::string& name, int status) {
  switch (status) {
    case 500:
      return "internal error in the " + name + " plugin";
    case 502:
      return "a service the " + name + " plugin depends on failed";
    case 503:
      return "the " + name + " plugin is unavailable: retry in a moment";
    case 504:
      return "a service the " + name + " plugin depends on did not answer in time";
    default:
      return "the " + name + " plugin failed (" + std::to_string(status) + ")";
  }
}

// A request on a plugin's route, answered by the plugin.
ApiResponse CallPlugin(plugins::PluginHost* host, HttpRequest& req) {
  // Resolved by the admit hook: the request is served by the version it was admitted for,
  // whatever a reload does meanwhile.
  const auto m = std::static_pointer_cast<const plugins::PluginHost::Match>(req.route_state);
  if (!host || !m) {
    return ErrorResponse(404, "not_found", "no endpoint " + req.path + " for " + req.method,
                         WireOf(req));
  }
  plugins::PluginRequest pr;
  pr.method = req.method;
  pr.path = req.path;
  pr.query = req.query;
  pr.user = m->scope.empty() ? "" : req.principal.user_id;
  pr.body = std::move(req.body);
  pr.headers = req.headers;
  plugins::PluginResponse out = host->Call(*m, pr);
  if (out.status >= 500 && !out.stream) {
    // A plugin's failure may quote what the host's stores or its own upstream said (a path, a
    // database's error, a model server's address): like the core's own 5xx answers, the client
    // gets the status, the plugin's code and an incident id, and the log gets the body.
    const std::string name = req.path_params.empty() ? "?" : req.path_params[0];
    std::string code = "plugin_error";
    const nlohmann::json said = nlohmann::json::parse(out.body, nullptr, false);
    if (said.is_object() && said.contains("error") && said["error"].is_object() &&
        said["error"].value("code", nlohmann::json()).is_string()) {
      code = engine::EscapeForLog(said["error"]["code"].get<std::string>(), 64);
    }
    Incident i = NewIncident(
        PluginFailureMessage(name, out.status),
        "the " + name + " plugin answered " + std::to_string(out.status) + ": " + out.body);
    ApiResponse r = ErrorResponse(out.status, code, i.message, WireOf(req));
    if (out.status == 503) r.headers.emplace_back("Retry-After", kUnavailableRetryAfterS);
    r.incident = std::move(i.detail);
    return r;
  }
  ApiResponse r(out.status, std::move(out.body), kJsonType);
  if (out.content_type != kJsonType) {
    r.content_type = "";
    r.headers.emplace_back("Content-Type", engine::EscapeForLog(out.content_type, 128));
  }
  if (out.stream) {
    // Server-Sent Events: the loop keeps the connection; the plugin's publications reach it
    // through the sink.
    r.headers.emplace_back("Cache-Control", "no-store");
    r.headers.emplace_back("X-Accel-Buffering", "no");
    r.open_stream = [stream = std::move(out.stream)](std::shared_ptr<StreamSink> sink) {
      stream->Attach([sink](std::string bytes) { return sink->Push(std::move(bytes)); },
                     [sink] { return sink->open(); });
    };
  }
  return r;
}

}  // namespace

std::string HttpServer::ReloadPlugins() {
  std::lock_guard lock(reload_mu_);
  std::string report = plugins_ ? plugins_->Reload() : "[]";
  RebuildOpenApi();
  return report;
}

void HttpServer::RebuildOpenApi() {
  std::vector<PluginApiRoute> plugin_routes;
  if (plugins_) {
    for (plugins::PluginHost::RouteDoc& r : plugins_->RouteDocs()) {
      plugin_routes.push_back({std::move(r.plugin), std::move(r.method), std::move(r.pattern),
                               std::move(r.scope), std::move(r.operation_json)});
    }
  }
  OpenApiDocument doc = BuildOpenApi(api_routes_, plugin_routes, STRIDE_VERSION_TEXT);
  for (const std::string& p : doc.problems) LogLine("openapi: " + p);
  auto text = std::make_shared<const std::string>(engine::DumpJson(doc.json));
  auto names = std::make_shared<const QueryNames>(QueryNamesOf(doc.json));
  std::lock_guard lock(mu_);
  openapi_ = std::move(text);
  query_names_ = std::move(names);
}

Status HttpServer::ReloadTls() {
  std::lock_guard lock(mu_);
  if (!http_) return Status::Unavailable("not listening yet");
  return http_->ReloadTls();
}

HttpServer::HttpServer(HttpServerOptions options, ServerStores stores)
    : options_(std::move(options)), stores_(std::move(stores)) {
  RateLimitStore* store = stores_.rate_limits;
  if (!store) {
    own_rate_store_ = std::make_unique<MemoryRateLimitStore>();
    store = own_rate_store_.get();
  }
  limiter_ = std::make_unique<RateLimiter>(options_.rate_limits, store);
}

HttpServer::~HttpServer() {
  Stop();
  if (stores_.stream_fanout) stores_.stream_fanout->Listen(nullptr);
}

std::shared_ptr<const index::RouteSnapshot> HttpServer::Snapshot() const {
  std::lock_guard lock(mu_);
  return snapshot_;
}

void HttpServer::Stop() {
  stopping_ = true;
  std::lock_guard lock(mu_);
  if (http_) http_->Stop();
}

void HttpServer::WatchForNewDatabase() {
  while (!stopping_) {
    const auto wake = std::chrono::steady_clock::now() +
                      std::chrono::milliseconds(static_cast<int>(options_.reload_check_s * 1000));
    while (!stopping_ && std::chrono::steady_clock::now() < wake) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (stopping_) break;
    const uint64_t inode = index::DirectoryInode(options_.db_path);
    if (inode == 0 || inode == Snapshot()->dir_inode) continue;
    Result<std::shared_ptr<const index::RouteSnapshot>> next =
        index::LoadRouteSnapshot(options_.db_path);
    if (!next.ok()) {
      LogLine("serve: new database at " + options_.db_path +
              " not loaded (keeping the current one): " + next.status().message());
      continue;
    }
    if (!WaitForRollout(**next)) break;
    std::shared_ptr<const index::RouteSnapshot> old;
    {
      std::lock_guard lock(mu_);
      pending_imported_at_.clear();
      old = std::exchange(snapshot_, std::move(next).value());
      // Counted under the lock that publishes the snapshot: a reader that sees the new
      // database also sees the count (health reads both).
      ++reloads_;
    }
    LogLine("serve: loaded the new database (" + std::to_string(Snapshot()->index.size()) +
            " routes)");
    ReleaseHere(std::move(old));
  }
}

void HttpServer::ReleaseHere(std::shared_ptr<const index::RouteSnapshot> old) {
  // Freeing a database's memory (a trail graph and its hierarchy: up to a gigabyte) takes
  // hundreds of milliseconds. Under mu_ it stalled every request (one waited 385 ms at the
  // switch on the generated 10^7-node map), and the request that happened to drop the last
  // reference would pay for it in its latency; so this thread waits until the requests that
  // still use the old database have finished (the request deadline at most), then frees it.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(options_.timeout_s + 1);
  while (old.use_count() > 1 && !stopping_ && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  old.reset();
}

bool HttpServer::WaitForRollout(const index::RouteSnapshot& next) {
  if (options_.rollout_delay_s <= 0) return true;
  double finished = 0;
  if (!engine::ParseIsoTime(next.import_finished_at, &finished)) {
    LogLine("serve: the new database has no import time: served now, not at a rollout time");
    return true;
  }
  const double serves_at = finished + options_.rollout_delay_s;
  auto seconds = [](double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return std::string(buf);
  };
  const double late = engine::UnixNowS() - serves_at;
  if (late > 0) {
    LogLine("serve: the new database (imported " + next.import_finished_at + ") is served " +
            seconds(late) + " s after its rollout time " + engine::FormatIsoTime(serves_at) +
            ": found or loaded late (--rollout-delay " + seconds(options_.rollout_delay_s) + ")");
    return true;
  }
  {
    std::lock_guard lock(mu_);
    pending_imported_at_ = next.import_finished_at;
    pending_serves_at_ = serves_at;
  }
  LogLine("serve: the new database (imported " + next.import_finished_at + ") is loaded; " +
          "served from " + engine::FormatIsoTime(serves_at));
  // Short sleeps, the last one to the moment, so Stop() is not kept waiting.
  for (double left = serves_at - engine::UnixNowS(); left > 0;
       left = serves_at - engine::UnixNowS()) {
    if (stopping_) return false;
    std::this_thread::sleep_for(std::chrono::duration<double>(std::min(left, 0.05)));
  }
  return !stopping_;
}

void HttpServer::LogLine(const std::string& line) {
  std::ostream* out = options_.error_log ? options_.error_log : options_.access_log;
  if (!out) return;
  std::lock_guard lock(log_mu_);
  *out << engine::FormatIsoTime(engine::UnixNowS(), 3) << ' ' << line << '\n' << std::flush;
}

void HttpServer::LogRequest(const HttpRequest& req, int status, size_t bytes, double seconds) {
  if (!options_.access_log) return;
  // One line: time, remote, method, target, status, bytes, latency. The method and target are
  // the client's bytes: escaped, so they can neither break nor forge a line.
  char tail[96];
  std::snprintf(tail, sizeof tail, " %d %zuB %.3fms\n", status, bytes, seconds * 1000);
  const std::string line = engine::FormatIsoTime(engine::UnixNowS(), 3) + ' ' + req.remote_addr +
                           ' ' + engine::EscapeForLog(req.method, 32) + ' ' +
                           engine::EscapeForLog(req.target) + tail;
  std::lock_guard lock(log_mu_);
  *options_.access_log << line << std::flush;
}

Status HttpServer::StartUserServices() {
  if (!stores_.runs) {
    if (!options_.webhooks.empty()) {
      return Status::InvalidArgument("--webhook needs --runs (the outbox lives beside the runs)");
    }
    return Status::Ok();
  }
  if (options_.jwt_secret.size() < kMinSecretBytes) {
    return Status::InvalidArgument(
        "serving runs needs a JWT secret of at least 32 bytes (STRIDE_JWT_SECRET, "
        "--jwt-secret-file, or --dev on loopback)");
  }
  if (!stores_.plugin_namespace || !stores_.host_state) {
    return Status::InvalidArgument("serving runs needs the plugin namespaces and host state");
  }
  jwt_ = std::make_unique<Jwt>(options_.jwt_secret);
  RunServiceOptions so;
  so.max_upload_bytes = options_.max_upload_bytes;
  so.max_points = options_.max_points;
  so.dem = stores_.dem;
  if (!options_.geofences_path.empty()) {
    STRIDE_ASSIGN_OR_RETURN(geofences_, LoadGeofences(options_.geofences_path));
    so.geofences = geofences_.get();
  }
  // The athlete profile's heart rates shape the analysis (zones, TRIMP) of new uploads.
  so.athlete = [this](const std::string& user, engine::AnalyzeOptions* o) {
    if (!plugins_) return;
    Result<std::string> text = plugins_->GetProfile(user);
    if (!text.ok()) return;
    const nlohmann::json p = nlohmann::json::parse(*text, nullptr, false);
    if (!p.is_object()) return;
    if (p.contains("max_hr_bpm") && p["max_hr_bpm"].is_number()) o->max_hr_bpm = p["max_hr_bpm"];
    if (p.contains("rest_hr_bpm") && p["rest_hr_bpm"].is_number()) {
      o->rest_hr_bpm = p["rest_hr_bpm"];
    }
  };
  runs_ = std::make_unique<RunService>(*stores_.runs, events_, so, [this] { return Snapshot(); });
  if (stores_.connections) connections_ = std::make_unique<Connections>(stores_.connections);
  privacy_ = std::make_unique<PrivacyStore>(stores_.host_state);
  sync_log_ = std::make_unique<SyncLog>(stores_.host_state, options_.clock);

  // Plugins keep their data beside the runs, so they come with them.
  plugins::PluginHostOptions po;
  po.dir = options_.plugins_dir;
  po.public_key_hex = options_.plugin_key_hex;
  po.dev = options_.plugin_dev;
  plugins::PluginServices ps;
  RunService* service = runs_.get();
  ps.kv = stores_.plugin_namespace;
  ps.runs_list = [service](const std::string& user,
                           const std::string& query) -> Result<std::string> {
    const nlohmann::json q = nlohmann::json::parse(query, nullptr, false);
    Params p;
    if (q.is_object()) {
      for (const auto& [k, v] : q.items()) {
        p[k] = v.is_string() ? v.get<std::string>() : engine::DumpJson(v);
      }
    }
    Principal who;
    who.user_id = user;
    const ApiResponse r = ListRuns(*service, who, p);
    if (r.status != 200) return Status::InvalidArgument(r.body);
    return r.body;
  };
  ps.run_get = [service](const std::string& user, const std::string& id_text,
                         bool summary_only) -> Result<std::string> {
    uint64_t id = 0;
    if (!engine::ParseRunId(id_text, &id)) return Status::InvalidArgument("bad run id");
    Result<engine::Run> run = service->store().Get(user, id, {false, false});
    if (!run.ok()) return run.status();
    return summary_only ? RunSummaryJson(run->summary) : RunJson(*run);
  };
  ps.route_query = [this](const std::string& request) {
    return PluginRouteQuery(*Snapshot(), request);
  };
  ps.clock = options_.clock;
  ps.host_kv = stores_.host_state;
  ps.log = [this](const std::string& line) { LogLine(line); };
  SyncLog* sync_log = sync_log_.get();
  ps.sync_put = [sync_log](const std::string& user, const std::string& collection,
                           const std::string& id, const std::optional<std::string>& json) {
    if (!json) return sync_log->Remove(user, collection, id);
    const nlohmann::json j = nlohmann::json::parse(*json, nullptr, false);
    if (!j.is_object()) return Status::InvalidArgument("sync_put: the record must be an object");
    return sync_log->Replace(user, collection, id, j, kSubjective);
  };
  ps.fanout = stores_.stream_fanout;
  ps.exclusive = stores_.plugin_exclusive;
  if ((options_.queue_jobs || options_.worker) && !stores_.jobs) {
    return Status::InvalidArgument("handing jobs to workers needs a job queue (--redis)");
  }
  if (options_.queue_jobs && options_.worker) {
    return Status::InvalidArgument("a worker takes jobs; it does not queue them");
  }
  if (options_.queue_jobs && !options_.webhooks.empty()) {
    return Status::InvalidArgument(
        "with the jobs queued for workers, webhooks are sent by the workers: give --webhook to "
        "`stride worker`");
  }
  if (options_.queue_jobs) po.tick_interval_s = 0;  // the workers tick
  plugins_ = std::make_unique<plugins::PluginHost>(po, std::move(ps), options_.bundled_plugins);
  STRIDE_RETURN_IF_ERROR(plugins_->Start());
  plugins::PluginHost* host = plugins_.get();
  if (stores_.stream_fanout) {
    stores_.stream_fanout->Listen(
        [host](const std::string& plugin, const std::string& topic, uint64_t id,
               const std::string& bytes) { host->DeliverPublished(plugin, topic, id, bytes); });
  }
  if (options_.queue_jobs) {
    index::RedisJobQueue* jobs = stores_.jobs;
    events_.Subscribe([this, host, jobs](const engine::RunEvent& e) {
      if (e.kind == engine::RunEvent::Kind::kUserDeleted) {
        // Before the job: what the workers' plugins write for user.deleted is not deleted.
        const Status s = host->DeleteUser(e.user_id);
        if (!s.ok()) LogLine("deleting the user's plugin data: " + s.message());
      }
      Result<std::string> queued = jobs->Enqueue("run.event", EncodeRunEventJob(e));
      if (!queued.ok()) {
        // Not lost: handled here, as without workers.
        LogLine("jobs: " + queued.status().message() + "; " +
                std::string(engine::RunEventName(e.kind)) + " handled by this server");
        host->OnRunEvent(e);
      }
    });
  } else if (!options_.worker) {
    events_.Subscribe([host](const engine::RunEvent& e) { host->OnRunEvent(e); });
  }

  // Delta sync: the host's stores take pushed profile fields and check-ins by their own rules.
  SyncHooks hooks;
  hooks.profile = [host](const std::string& user, const nlohmann::json& fields, bool dry_run) {
    return host->PutProfile(user, engine::DumpJson(fields), dry_run).status();
  };
  hooks.readiness = [host](const std::string& user, const std::string& date,
                           const nlohmann::json& fields, bool dry_run) {
    nlohmann::json in = fields;
    in["date"] = date;
    return host->PutReadiness(user, engine::DumpJson(in), dry_run).status();
  };
  sync_ = std::make_unique<SyncService>(sync_log, std::move(hooks));
  // After the host's subscription: DELETE /v1/me's run.deleted tombstones go with the user's
  // host keys at user.deleted, so nothing is left to pull.
  SyncService* sync = sync_.get();
  events_.Subscribe([this, sync, service](const engine::RunEvent& e) {
    const std::string id = engine::RunIdText(e.run_id);
    Status s = Status::Ok();
    if (e.kind == engine::RunEvent::Kind::kStored) {
      Result<engine::Run> run = service->store().Get(e.user_id, e.run_id, {false, false});
      if (!run.ok()) {
        s = run.status();
      } else {
        s = sync->RunStored(e.user_id, id, RunSummaryObject(run->summary));
      }
    } else if (e.kind == engine::RunEvent::Kind::kDeleted) {
      s = sync->RunDeleted(e.user_id, id);
    }
    if (!s.ok()) LogLine("sync: run " + id + ": " + s.message());
  });

  if (!options_.webhooks.empty()) {
    if (!stores_.outbox) return Status::InvalidArgument("--webhook needs an outbox store");
    WebhookOptions wo;
    wo.urls = options_.webhooks;
    wo.secret = options_.webhook_secret;
    wo.first_retry_s = options_.webhook_first_retry_s;
    Result<std::unique_ptr<WebhookSender>> sender = WebhookSender::Start(
        wo, stores_.outbox, [this](const std::string& line) { LogLine(line); });
    if (!sender.ok()) return sender.status();
    webhooks_ = std::move(sender).value();
    WebhookSender* w = webhooks_.get();
    if (!options_.worker)
      events_.Subscribe([w](const engine::RunEvent& e) { (void)w->Enqueue(e); });
  }
  if (options_.worker) {
    if (options_.worker_name.empty()) return Status::InvalidArgument("a worker needs a name");
    WebhookSender* w = webhooks_.get();
    // After a run event's plugins held it, its webhooks (with the job's event id).
    auto deliver = [host, w](const engine::RunEvent& e, const std::string& event_id) {
      const Status delivered = host->DeliverNow(e);
      if (!delivered.ok()) return delivered;
      return w ? w->Enqueue(e, event_id) : Status::Ok();
    };
    std::map<std::string, JobWorker::Handler> handlers;
    handlers["run.event"] = [deliver](const index::Job& job, const std::string& event_id) {
      STRIDE_ASSIGN_OR_RETURN(const engine::RunEvent e, DecodeRunEventJob(job.data));
      return deliver(e, event_id);
    };
    handlers["run.reanalyze"] = [service, deliver](const index::Job& job,
                                                   const std::string& event_id) -> Status {
      STRIDE_ASSIGN_OR_RETURN(const engine::RunEvent e, DecodeRunEventJob(job.data));
      Result<RunService::Reanalyzed> r = service->Reanalyze(e.user_id, e.run_id);
      if (!r.ok()) {
        if (r.status().code() == StatusCode::kNotFound) return Status::Ok();  // deleted since
        return r.status();
      }
      // A retry delivers again: the attempt before may have stored it and failed after.
      if (!r->changed && job.attempt == 1) return Status::Ok();
      return deliver({engine::RunEvent::Kind::kStored, e.user_id, e.run_id}, event_id);
    };
    JobWorkerOptions wo;
    wo.name = options_.worker_name;
    job_worker_ = std::make_unique<JobWorker>(stores_.jobs, wo, std::move(handlers),
                                              [this](const std::string& line) { LogLine(line); });
  } else {
    // POST /v1/admin/reanalyze: here, or as jobs for the workers.
    index::RedisJobQueue* jobs = options_.queue_jobs ? stores_.jobs : nullptr;
    Reanalysis::Sink sink = [service](const std::string& user, uint64_t id) -> Result<bool> {
      STRIDE_ASSIGN_OR_RETURN(RunService::Reanalyzed r, service->Reanalyze(user, id));
      return r.changed;
    };
    if (jobs) {
      sink = [jobs](const std::string& user, uint64_t id) -> Result<bool> {
        STRIDE_RETURN_IF_ERROR(
            jobs->Enqueue("run.reanalyze",
                          EncodeRunEventJob({engine::RunEvent::Kind::kStored, user, id}))
                .status());
        return true;
      };
    }
    reanalysis_ = std::make_unique<Reanalysis>(stores_.runs, std::move(sink), jobs != nullptr,
                                               [this](const std::string& line) { LogLine(line); });
  }
  return Status::Ok();
}

void HttpServer::JobGauges(std::vector<std::pair<std::string, double>>* gauges) const {
  if (stores_.jobs) {
    Result<index::RedisJobQueue::Stats> q = stores_.jobs->GetStats();
    if (q.ok()) {
      gauges->emplace_back("stride_jobs_waiting", static_cast<double>(q->waiting));
      gauges->emplace_back("stride_jobs_pending", static_cast<double>(q->pending));
      gauges->emplace_back("stride_jobs_dead", static_cast<double>(q->dead));
    }
  }
  if (job_worker_) {
    gauges->emplace_back("stride_jobs_done_total", static_cast<double>(job_worker_->done()));
    gauges->emplace_back("stride_jobs_failed_total", static_cast<double>(job_worker_->failed()));
    gauges->emplace_back("stride_jobs_dropped_total", static_cast<double>(job_worker_->dropped()));
  }
}

std::vector<http::Route> HttpServer::RouteTable() {
  RunService* rs = runs_.get();
  Connections* links = connections_.get();
  plugins::PluginHost* host = plugins_.get();
  // The route table: every endpoint, its scope and body limit, in matching order (a literal
  // segment is listed before a {parameter} in the same place).
  using Req = HttpRequest;
  return {
      {"GET", "/v1/routes", "routes", "", 0, false,
       [this](Req& r) { return ListRoutes(*Snapshot(), ParamsOf(r), WireOf(r)); }},
      {"GET", "/v1/routes/nearest", "nearest", "", 0, false,
       [this](Req& r) { return NearestRoutes(*Snapshot(), ParamsOf(r), WireOf(r)); }},
      {"GET", "/v1/routes/{id}/profile", "profile", "", 0, false,
       [this](Req& r) { return GetProfile(*Snapshot(), r.path_params[0], WireOf(r)); }},
      {"GET", "/v1/routes/{id}", "route", "", 0, false,
       [this](Req& r) { return GetRoute(*Snapshot(), r.path_params[0], ParamsOf(r), WireOf(r)); }},
      {"GET", "/v1/tiles/{z}/{x}/{y}", "tile", "", 0, false,
       [this](Req& r) {
         return GetTile(*Snapshot(), r.path_params[0], r.path_params[1], r.path_params[2],
                        r.Header("If-None-Match"));
       }},
      {"GET", "/v1/directions", "directions", "", 0, false,
       [this](Req& r) { return Directions(*Snapshot(), ParamsOf(r)); }},
      {"GET", "/v1/loops", "loops", "", 0, false,
       [this](Req& r) { return LoopRoutes(*Snapshot(), ParamsOf(r)); }},
      {"POST", "/v1/match", "match", "", kMaxMatchBody, false,
       [this](Req& r) { return MatchTrack(*Snapshot(), ParamsOf(r), r.body); }},
      {"POST", "/v1/runs", "run_upload", "runner:write", options_.max_upload_bytes, false,
       [rs](Req& r) { return Upload(*rs, r); }},
      {"GET", "/v1/runs", "run_list", "runner:read", 0, false,
       [rs](Req& r) { return ListRuns(*rs, r.principal, ParamsOf(r), WireOf(r)); }},
      {"GET", "/v1/runs/{id}/track", "run_track", "runner:read", 0, false,
       [rs](Req& r) {
         return GetRunTrack(*rs, r.principal, r.path_params[0], ParamsOf(r), WireOf(r));
       }},
      {"POST", "/v1/runs/{id}/share", "run_share", "runner:write", 0, false,
       [this, rs](Req& r) { return ShareRun(*privacy_, *rs, r.principal, r.path_params[0]); }},
      {"DELETE", "/v1/runs/{id}/share", "run_unshare", "runner:write", 0, false,
       [this](Req& r) { return UnshareRun(*privacy_, r.principal, r.path_params[0]); }},
      // Shared links: public (the token is the capability), limited like route search.
      {"GET", "/v1/shared/{token}/track", "shared_track", "", 0, false,
       [this, rs](Req& r) {
         if (!rs) return ErrorResponse(404, "not_found", "this server stores no runs", WireOf(r));
         return GetSharedTrack(*privacy_, *rs, r.path_params[0], ParamsOf(r));
       }},
      {"GET", "/v1/shared/{token}", "shared_run", "", 0, false,
       [this, rs](Req& r) {
         if (!rs) return ErrorResponse(404, "not_found", "this server stores no runs", WireOf(r));
         return GetSharedRun(*privacy_, *rs, r.path_params[0]);
       }},
      {"GET", "/v1/me/privacy-zones", "me_privacy_zones", "runner:read", 0, false,
       [this](Req& r) { return GetPrivacyZones(*privacy_, r.principal); }},
      {"PUT", "/v1/me/privacy-zones", "me_privacy_zones_put", "runner:write", 64 * 1024, false,
       [this](Req& r) { return PutPrivacyZones(*privacy_, r.principal, r.body); }},
      {"GET", "/v1/runs/{id}/file", "run_file", "runner:read", 0, false,
       [rs](Req& r) { return GetRunFile(*rs, r.principal, r.path_params[0], WireOf(r)); }},
      {"GET", "/v1/runs/{id}", "run", "runner:read", 0, false,
       [this, rs](Req& r) {
         // The runner's notes and RPE (pushed by an offline client) live in the sync log; read
         // for a valid id and the JSON answer only (the protobuf form has no field for them).
         nlohmann::json runner = nlohmann::json::object();
         uint64_t id = 0;
         const Wire wire = WireOf(r);
         if (sync_log_ && wire == Wire::kJson && engine::ParseRunId(r.path_params[0], &id)) {
           Result<std::optional<SyncRecord>> noted =
               sync_log_->Get(r.principal.user_id, "runs", r.path_params[0]);
           if (!noted.ok()) {
             // The run is still answered; what is missing is said in the log, not dropped quietly.
             LogLine("run " + r.path_params[0] +
                     ": the runner's notes could not be read: " + noted.status().message());
           } else if (*noted && (*noted)->deleted_ms == 0) {
             for (const char* field : {"notes", "rpe"}) {
               if ((*noted)->fields.contains(field)) runner[field] = (*noted)->fields[field];
             }
           }
         }
         return GetRun(*rs, r.principal, r.path_params[0], wire, runner);
       }},
      {"DELETE", "/v1/runs/{id}", "run_delete", "runner:write", 0, false,
       [rs](Req& r) { return DeleteRun(*rs, r.principal, r.path_params[0], WireOf(r)); }},
      {"DELETE", "/v1/me", "me_delete", "runner:write", 0, false,
       [rs, links](Req& r) {
         if (links) {
           const Status s = links->DeleteUser(r.principal.user_id);
           if (!s.ok()) return ErrorFromStatus(s, WireOf(r));
         }
         return DeleteMe(*rs, r.principal, WireOf(r));
       }},
      {"GET", "/v1/me/connections", "me_connections", "runner:read", 0, false,
       [links](Req& r) {
         if (!links) return ErrorResponse(404, "not_found", "connections need --runs", WireOf(r));
         Result<std::vector<std::pair<std::string, std::string>>> all =
             links->List(r.principal.user_id);
         if (!all.ok()) return ErrorFromStatus(all.status(), WireOf(r));
         nlohmann::ordered_json j = nlohmann::ordered_json::array();
         for (const auto& [provider, account] : *all) {
           j.push_back({{"provider", provider}, {"provider_user_id", account}});
         }
         return ApiResponse(200, engine::DumpJson(nlohmann::ordered_json{{"connections", j}}));
       }},
      {"PUT", "/v1/me/connections/{provider}", "me_connection_put", "runner:write", 4096, false,
       [this, links](Req& r) { return PutConnection(links, options_.inbound, r); }},
      {"DELETE", "/v1/me/connections/{provider}", "me_connection_delete", "runner:write", 0, false,
       [links](Req& r) {
         if (!links) return ErrorResponse(404, "not_found", "connections need --runs", WireOf(r));
         Result<bool> gone = links->Unlink(r.principal.user_id, r.path_params[0]);
         if (!gone.ok()) return ErrorFromStatus(gone.status(), WireOf(r));
         if (!*gone) {
           return ErrorResponse(404, "not_found", "no " + r.path_params[0] + " account linked",
                                WireOf(r));
         }
         return ApiResponse(204, "");
       }},
      // Inbound provider webhooks: no token, the provider's signature (inbound.hpp).
      {"POST", "/v1/webhooks/{provider}", "webhook_inbound", "", options_.max_upload_bytes, false,
       [this, rs, links](Req& r) { return InboundActivity(rs, links, options_.inbound, r); }, false,
       "webhook"},
      {"GET", "/v1/me/profile", "me_profile", "runner:read", 0, false,
       [host](Req& r) {
         if (!host) return ErrorResponse(404, "not_found", "profiles need --runs", WireOf(r));
         Result<std::string> p = host->GetProfile(r.principal.user_id);
         if (!p.ok()) return ErrorFromStatus(p.status(), WireOf(r));
         return ApiResponse(200, std::move(p).value());
       }},
      {"PUT", "/v1/me/profile", "me_profile_put", "runner:write", 64 * 1024, false,
       [this, host](Req& r) {
         if (!host) return ErrorResponse(404, "not_found", "profiles need --runs", WireOf(r));
         Result<std::string> p = host->PutProfile(r.principal.user_id, r.body);
         if (!p.ok()) return ErrorFromStatus(p.status(), WireOf(r));
         const Status s = sync_log_->Merge(r.principal.user_id, "profile", "me",
                                           nlohmann::json::parse(r.body), kSubjective);
         if (!s.ok()) LogLine("sync: profile: " + s.message());
         return ApiResponse(200, std::move(p).value());
       }},
      {"POST", "/v1/me/readiness", "me_readiness_post", "runner:write", 16 * 1024, false,
       [this, host](Req& r) {
         if (!host) return ErrorResponse(404, "not_found", "readiness needs --runs", WireOf(r));
         Result<std::string> c = host->PutReadiness(r.principal.user_id, r.body);
         if (!c.ok()) return ErrorFromStatus(c.status(), WireOf(r));
         nlohmann::json fields = nlohmann::json::parse(*c);
         const std::string date = fields.value("date", "");
         fields.erase("date");
         fields.erase("readiness");
         const Status s =
             sync_log_->Replace(r.principal.user_id, "readiness", date, fields, kSubjective);
         if (!s.ok()) LogLine("sync: readiness: " + s.message());
         return ApiResponse(200, std::move(c).value());
       }},
      {"GET", "/v1/me/readiness", "me_readiness", "runner:read", 0, false,
       [host](Req& r) {
         if (!host) return ErrorResponse(404, "not_found", "readiness needs --runs", WireOf(r));
         const Params q = ParamsOf(r);
         Result<std::string> c = host->ListReadiness(
             r.principal.user_id, Get(q, "from").value_or(""), Get(q, "to").value_or(""));
         if (!c.ok()) return ErrorFromStatus(c.status(), WireOf(r));
         return ApiResponse(200, std::move(c).value());
       }},
      {"GET", "/v1/sync/pull", "sync_pull", "runner:read", 0, false,
       [this](Req& r) {
         if (!sync_) return ErrorResponse(404, "not_found", "sync needs --runs", WireOf(r));
         // Unknown and repeated parameters were refused on admission (QueryParameterProblem).
         const Params q = ParamsOf(r);
         Result<uint64_t> since = SyncNumber(q, "last_pulled_at");
         if (!since.ok()) return ErrorFromStatus(since.status());
         Result<uint64_t> schema = SyncNumber(q, "schema_version");
         if (!schema.ok()) return ErrorFromStatus(schema.status());
         if (*schema > static_cast<uint64_t>(kSyncSchemaVersion)) {
           return ErrorResponse(400, "invalid_argument",
                                "schema_version: this server speaks " +
                                    std::to_string(kSyncSchemaVersion) + ", the client " +
                                    std::to_string(*schema));
         }
         Result<size_t> limit = Limit(q, "limit", kSyncDefaultLimit, kSyncMaxLimit);
         if (!limit.ok()) return ErrorFromStatus(limit.status());
         return SyncResponse(sync_->Pull(r.principal.user_id, *since, *limit));
       }},
      {"POST", "/v1/sync/push", "sync_push", "runner:write", 4 << 20, false,
       [this](Req& r) {
         if (!sync_) return ErrorResponse(404, "not_found", "sync needs --runs", WireOf(r));
         // Unknown and repeated parameters were refused on admission (QueryParameterProblem).
         const Params q = ParamsOf(r);
         Result<uint64_t> since = SyncNumber(q, "last_pulled_at");
         if (!since.ok()) return ErrorFromStatus(since.status());
         return SyncResponse(sync_->Push(r.principal.user_id, *since, r.body));
       }},
      {"GET", "/v1/me/export", "me_export", "runner:read", 0, false,
       [rs, host](Req& r) {
         ExportStream::ExtraFiles extra;
         if (host) {
           extra = [host](const std::string& user)
               -> Result<std::vector<std::pair<std::string, std::string>>> {
             Result<std::vector<std::pair<std::string, std::string>>> files =
                 host->ExportUser(user);
             if (!files.ok()) return files.status();
             for (auto& [name, content] : *files) name = "plugins/" + name + ".json";
             return files;
           };
         }
         auto stream = std::make_shared<ExportStream>(*rs, r.principal.user_id, extra);
         ApiResponse res(200, "", "application/x-tar");
         res.headers.emplace_back("Content-Disposition",
                                  "attachment; filename=\"stride-export.tar\"");
         res.stream = [stream](std::string* chunk) {
           if (stream->Next(chunk)) return StreamStep::kChunk;
           return stream->complete() ? StreamStep::kDone : StreamStep::kAbort;
         };
         return res;
       }},
      {"POST", "/v1/admin/backups", "admin_backup", "admin", 0, false,
       [this](Req& r) {
         if (!stores_.backups) {
           return ErrorResponse(404, "not_found", "backups need --backup-dir", WireOf(r));
         }
         const auto t0 = std::chrono::steady_clock::now();
         Result<engine::BackupInfo> b = stores_.backups->Create();
         if (!b.ok()) return ErrorFromStatus(b.status(), WireOf(r));
         nlohmann::ordered_json j = {
             {"backup", BackupJson(*b)},
             {"seconds",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()}};
         return ApiResponse(201, engine::DumpJson(j));
       }},
      {"GET", "/v1/admin/backups", "admin_backups", "admin", 0, false,
       [this](Req& r) {
         if (!stores_.backups) {
           return ErrorResponse(404, "not_found", "backups need --backup-dir", WireOf(r));
         }
         Result<std::vector<engine::BackupInfo>> list = stores_.backups->List();
         if (!list.ok()) return ErrorFromStatus(list.status(), WireOf(r));
         nlohmann::ordered_json all = nlohmann::ordered_json::array();
         for (const engine::BackupInfo& b : *list) all.push_back(BackupJson(b));
         return ApiResponse(200, engine::DumpJson(nlohmann::ordered_json{{"backups", all}}));
       }},
      {"POST", "/v1/admin/reanalyze", "admin_reanalyze", "admin", 0, false,
       [this](Req& r) {
         if (!reanalysis_) return ErrorResponse(503, "unavailable", "no runs without --runs");
         const Params p = ParamsOf(r);
         const auto user = p.find("user");
         if (user != p.end() && user->second.empty()) {
           return ErrorResponse(400, "invalid_argument",
                                "user: expected a user id (leave it out for every user)",
                                WireOf(r));
         }
         const Status s = reanalysis_->Start(user == p.end() ? "" : user->second);
         if (!s.ok()) return ErrorFromStatus(s, WireOf(r));
         return ApiResponse(202, ReanalysisJson(reanalysis_->progress()));
       }},
      {"GET", "/v1/admin/reanalyze", "admin_reanalysis", "admin", 0, false,
       [this](Req&) {
         if (!reanalysis_) return ErrorResponse(503, "unavailable", "no runs without --runs");
         return ApiResponse(200, ReanalysisJson(reanalysis_->progress()));
       }},
      {"GET", "/v1/admin/plugins", "admin_plugins", "admin", 0, false,
       [host](Req&) {
         return host ? ApiResponse(200, host->ListJson())
                     : ErrorResponse(503, "unavailable", "no plugins without --runs");
       }},
      {"POST", "/v1/admin/plugins/reload", "admin_plugins_reload", "admin", 0, false,
       [this](Req&) { return ApiResponse(200, "{\"reload\":" + ReloadPlugins() + "}"); }},
      // Plugins: /v1/<plugin>/..., resolved (and authorised with the plugin route's scope) by
      // the admit hook, answered by the plugin through the host.
      {"*", "/v1/{plugin}/{*}", "plugins", kPluginScope, size_t{1} << 20, false,
       [host](Req& r) { return CallPlugin(host, r); }, true},
      // The map page (web/): static files built in, with a limit of their own.
      {"GET", "/", "page", "", 0, false,
       [](Req& r) { return ServeWebFile("", r.Header("If-None-Match")); }, false, "page"},
      {"GET", "/web/{file}", "page_file", "", 0, false,
       [](Req& r) { return ServeWebFile(r.path_params[0], r.Header("If-None-Match")); }, false,
       "page"},
      // Answered on the I/O loop: health, metrics and the API document answer while every
      // worker is busy.
      {"GET", "/v1/openapi.json", "openapi", "", 0, true,
       [this](Req&) {
         std::shared_ptr<const std::string> doc;
         {
           std::lock_guard lock(mu_);
           doc = openapi_;
         }
         if (!doc) return ErrorResponse(503, "unavailable", "the API document is being built");
         return ApiResponse{200, *doc};
       }},
      {"GET", "/v1/health", "health", "", 0, true,
       [this](Req&) {
         const auto s = Snapshot();
         const http::EventServerStats st = http_->stats();
         nlohmann::ordered_json rollout = nullptr;  // a loaded database waiting to be served
         {
           std::lock_guard lock(mu_);
           if (!pending_imported_at_.empty()) {
             rollout = {{"imported_at", pending_imported_at_},
                        {"serves_at", engine::FormatIsoTime(pending_serves_at_, 3)}};
           }
         }
         nlohmann::ordered_json j = {{"status", "ok"},
                                     {"routes", s->index.size()},
                                     {"database", s->path},
                                     {"imported_at", s->import_finished_at},
                                     {"rollout", rollout},
                                     {"bbox", BoundsJson(s->index.bounds())},
                                     {"index_load_s", s->load_seconds},
                                     {"reloads", reloads_.load()},
                                     {"connections", st.connections},
                                     {"queued", st.queued},
                                     {"busy_workers", st.busy_workers},
                                     {"streams", st.streams}};
         // A --dem file that failed when first read: uploads there silently kept the
         // recording's elevation; an operator's health check sees it here.
         nlohmann::ordered_json dem = nlohmann::ordered_json::array();
         if (stores_.dem) {
           for (const std::string& m : stores_.dem->Unreadable()) dem.push_back(m);
         }
         j["dem_unreadable"] = std::move(dem);
         return ApiResponse{200, engine::DumpJson(j)};
       }},
      {"GET", "/metrics", "metrics", "", 0, true,
       [this](Req&) {
         const auto s = Snapshot();
         const http::EventServerStats st = http_->stats();
         std::vector<std::pair<std::string, double>> gauges = {
             {"stride_index_routes", static_cast<double>(s->index.size())},
             {"stride_index_tree_bytes", static_cast<double>(s->index.tree_bytes())},
             {"stride_database_reloads_total", static_cast<double>(reloads_.load())},
             {"stride_http_connections", static_cast<double>(st.connections)},
             {"stride_http_queued_requests", static_cast<double>(st.queued)},
             {"stride_http_busy_workers", static_cast<double>(st.busy_workers)},
             {"stride_http_streams", static_cast<double>(st.streams)},
             {"stride_dem_unreadable_files",
              static_cast<double>(stores_.dem ? stores_.dem->Unreadable().size() : 0)},
             {"stride_http_rejected_busy_total", static_cast<double>(st.rejected_busy)},
             {"stride_http_timed_out_total", static_cast<double>(st.timed_out)}};
         JobGauges(&gauges);
         return ApiResponse{
             200, metrics_->Render(gauges) + (plugins_ ? plugins_->MetricsText() : std::string()),
             "text/plain; version=0.0.4"};
       }},
  };
}

namespace {

// "minute", "hour", "90 s".
std::string FormatWindow(double s) {
  if (s == 1) return "second";
  if (s == 60) return "minute";
  if (s == 3600) return "hour";
  return std::to_string(static_cast<long long>(s)) + " s";
}

// The caller of a route: nobody on a public route, else the verified token (Authorize); a
// plugin route is resolved first, and *scope set to its own.
std::optional<ApiResponse> AdmitScoped(const Jwt* verifier, plugins::PluginHost* host,
                                       const http::Route& route, HttpRequest& req,
                                       std::string* scope) {
  if (route.scope.empty()) return std::nullopt;
  if (route.scope != kPluginScope) return Authorize(verifier, route, req);
  // A plugin route: which one, and its own scope.
  const Wire wire = WireOf(req);
  bool known = false;
  std::string allowed;
  std::optional<plugins::PluginHost::Match> m;
  if (host) m = host->Resolve(req.method, RawPath(req), &known, &allowed);
  if (!m) {
    if (known) {
      ApiResponse r = ErrorResponse(
          405, "method_not_allowed",
          req.method + " is not allowed on " + req.path + " (allowed: " + allowed + ")", wire);
      r.headers.emplace_back("Allow", allowed);
      return r;
    }
    return ErrorResponse(404, "not_found", "no endpoint " + req.path + " for " + req.method, wire);
  }
  http::Route scoped = route;
  scoped.scope = *scope = m->scope;
  req.route_state = std::make_shared<const plugins::PluginHost::Match>(std::move(*m));
  if (scoped.scope.empty()) return std::nullopt;
  return Authorize(verifier, scoped, req);
}

// Counts the request against its rate limit (rate_limit.hpp; the route's own when it names
// one): per user on a route with a scope, per client address on a public one. The RateLimit-*
// headers go on the response; over the limit, the answer is a 429.
// The client's address: the socket's, or behind a trusted proxy the last X-Forwarded-For
// entry that is not itself a trusted proxy.
std::string ClientAddress(const std::vector<std::string>& trusted, const HttpRequest& req) {
  auto is_trusted = [&](std::string_view a) {
    return std::find(trusted.begin(), trusted.end(), a) != trusted.end();
  };
  if (!is_trusted(req.remote_addr)) return req.remote_addr;
  const std::string& xff = req.Header("X-Forwarded-For");
  size_t end = xff.size();
  while (end > 0) {
    const size_t comma = xff.rfind(',', end - 1);
    const size_t begin = comma == std::string::npos ? 0 : comma + 1;
    std::string_view a = std::string_view(xff).substr(begin, end - begin);
    while (!a.empty() && a.front() == ' ') a.remove_prefix(1);
    while (!a.empty() && a.back() == ' ') a.remove_suffix(1);
    if (!a.empty() && !is_trusted(a)) return engine::EscapeForLog(a, 64);
    if (comma == std::string::npos) break;
    end = comma;
  }
  return req.remote_addr;
}

std::optional<ApiResponse> Limit(RateLimiter* limiter, const std::vector<std::string>& trusted,
                                 const std::string& route_limit, const std::string& scope,
                                 HttpRequest& req) {
  if (!limiter) return std::nullopt;
  const bool anonymous = scope.empty();
  const std::string name = !route_limit.empty()
                               ? route_limit
                               : RateLimitName(limiter->policy(), req.method, scope, anonymous);
  const RateLimit* limit = limiter->policy().Find(name);
  if (!limit) return std::nullopt;
  const std::string caller =
      anonymous ? "ip:" + ClientAddress(trusted, req) : "user:" + req.principal.user_id;
  const RateDecision d = limiter->Check(name, caller, engine::UnixNowS());
  // A store that could not count (Redis away: redis_rate_limit.hpp) lets the request through
  // and says nothing of a budget it does not know.
  if (d.allowed && d.limit == 0) return std::nullopt;
  HeaderList headers = RateLimitHeaders(name, *limit, d);
  if (d.allowed) {
    for (auto& h : headers) req.response_headers.push_back(std::move(h));
    return std::nullopt;
  }
  ApiResponse r = ErrorResponse(
      429, "rate_limited",
      "over the rate limit \"" + name + "\" of " + std::to_string(limit->limit) + " requests per " +
          FormatWindow(limit->window_s) + (anonymous ? " per client address" : " per user") +
          "; retry after " + headers.back().second + " s",
      WireOf(req));
  r.headers = std::move(headers);
  return r;
}

}  // namespace

http::EventServerHooks HttpServer::Hooks() {
  const Jwt* verifier = jwt_.get();
  plugins::PluginHost* host = plugins_.get();
  http::EventServerHooks hooks;
  RateLimiter* limiter = limiter_.get();
  hooks.admit = [this, verifier, host, limiter, trusted = options_.trusted_proxies](
                    const http::Route& route, HttpRequest& req) -> std::optional<ApiResponse> {
    std::string scope = route.scope;
    std::optional<ApiResponse> denied = AdmitScoped(verifier, host, route, req, &scope);
    if (denied) return denied;
    denied = Limit(limiter, trusted, route.rate_limit, scope, req);
    if (denied) return denied;
    // Counted first, so a client probing parameters spends its budget like any other.
    const auto* plugin = route.scope == kPluginScope
                             ? static_cast<const plugins::PluginHost::Match*>(req.route_state.get())
                             : nullptr;
    std::shared_ptr<const QueryNames> names;
    {
      std::lock_guard lock(mu_);
      names = query_names_;
    }
    if (!names) return std::nullopt;
    const std::optional<std::string> unknown =
        plugin ? QueryParameterProblem(*names, plugin->method, plugin->pattern, req.query)
               : QueryParameterProblem(*names, route.method, route.pattern, req.query);
    if (!unknown) return std::nullopt;
    return ErrorResponse(400, "invalid_argument", *unknown, WireOf(req));
  };
  hooks.error = [](int status, const std::string& code, const std::string& message,
                   const HttpRequest& req) {
    return ErrorResponse(status, code, message, WireOf(req));
  };
  hooks.incident = [this](const HttpRequest& req, int status, const std::string& detail) {
    // "incident ID: what failed (METHOD TARGET STATUS)", escaped to one line.
    LogLine("incident " + engine::EscapeForLog(detail, 4096) + " (" +
            engine::EscapeForLog(req.method, 32) + ' ' + engine::EscapeForLog(req.target) + ' ' +
            std::to_string(status) + ")");
  };
  hooks.done = [this](const HttpRequest& req, const http::Route* route, int status, size_t bytes,
                      double seconds) {
    metrics_->Record(route ? route->name : "other", status, seconds);
    LogRequest(req, status, bytes, seconds);
  };
  return hooks;
}

Status HttpServer::Run() {
  Result<std::shared_ptr<const index::RouteSnapshot>> first =
      index::LoadRouteSnapshot(options_.db_path);
  if (!first.ok()) return first.status();
  {
    std::lock_guard lock(mu_);
    snapshot_ = std::move(first).value();
  }
  STRIDE_RETURN_IF_ERROR(StartUserServices());

  std::vector<http::Route> table = RouteTable();
  {
    // A limit the operator named must be one some request is counted against.
    std::set<std::string> limit_names;
    for (const http::Route& r : table) {
      if (!r.scope.empty() && r.scope != kPluginScope) limit_names.insert(r.scope);
      if (!r.rate_limit.empty()) limit_names.insert(r.rate_limit);
    }
    if (plugins_) {
      for (const plugins::PluginHost::RouteDoc& r : plugins_->RouteDocs()) {
        if (!r.scope.empty()) limit_names.insert(r.scope);
      }
    }
    STRIDE_RETURN_IF_ERROR(limiter_->policy().CheckNames(limit_names));
  }
  if (options_.worker) {  // a worker answers its operator only
    std::erase_if(table,
                  [](const http::Route& r) { return r.name != "health" && r.name != "metrics"; });
  }
  // Metrics know every endpoint of the table, so none is silently "other".
  std::vector<std::string> names;
  for (const http::Route& r : table) {
    names.push_back(r.name);
    api_routes_.push_back({r.method, r.pattern, r.name, r.scope, r.max_body, r.on_loop});
  }
  RebuildOpenApi();
  metrics_ = std::make_unique<Metrics>(names);

  http::EventServerOptions eo;
  eo.bind = options_.bind;
  eo.port = options_.port;
  eo.workers = options_.threads;
  eo.head_timeout_s = eo.body_timeout_s = eo.write_timeout_s = options_.timeout_s;
  eo.idle_timeout_s = options_.idle_timeout_s;
  eo.stop_timeout_s = options_.stop_timeout_s;
  eo.max_connections = options_.max_connections;
  eo.max_queued = options_.max_queued;
  eo.cors_origins = options_.cors_origins;
  eo.tls_cert_file = options_.tls_cert_file;
  eo.tls_key_file = options_.tls_key_file;
  {
    std::lock_guard lock(mu_);
    http_ = std::make_unique<http::EventServer>(eo, std::move(table), Hooks());
  }
  STRIDE_RETURN_IF_ERROR(http_->Bind());
  port_ = http_->port();
  std::thread watcher([this] { WatchForNewDatabase(); });
  if (job_worker_) job_worker_->Start();
  const Status served = stopping_ ? Status::Ok() : http_->Serve();
  stopping_ = true;
  watcher.join();
  port_ = 0;
  if (job_worker_) job_worker_->Stop();
  if (reanalysis_) reanalysis_->Stop();
  // The host's namespaces live in the stores: plugins go first.
  if (plugins_) plugins_->Drain();
  if (stores_.stream_fanout) stores_.stream_fanout->Listen(nullptr);
  plugins_.reset();
  webhooks_.reset();
  return served;
}

}  // namespace stride::server
