// SPDX-License-Identifier: Apache-2.0
//
// `stride serve`: HTTP API v1 over a route database. The endpoints are one route table
// ({method, pattern, name, scope, body limit, handler}) served by http::EventServer (an epoll
// loop and a pool of workers: slow or idle clients cost no worker). The server only parses and
// dispatches (route_api.hpp, run_api.hpp hold the endpoints); it adds keep-alive, gzip when
// the client accepts it, deadlines per request head and body, a one-line access log per
// request (method, target, status, bytes, latency; client text escaped), /v1/health,
// /metrics (Prometheus), JSON errors for unknown paths (404) and methods (405), and swaps
// in a new snapshot when an import replaces the database directory (checked every
// `reload_check_s`), without a restart. Stop() (or SIGINT/SIGTERM in the CLI) finishes the
// requests in flight and returns from Run(). With a run store (ServerStores::runs) it also serves
// the run endpoints of run_api.hpp behind bearer JWTs (auth.hpp), over the stores tools/
// injects (ServerStores).
//
// Thread-safety: Stop() and port() may be called from any thread while Run() blocks.
//
//   HttpServer server(options, stores);  Status s = server.Run();
#pragma once

#include <atomic>
#include <functional>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <string>

#include "engine/route/profile.hpp"
#include "engine/run/run.hpp"
#include "engine/status.hpp"
#include "engine/store/backup.hpp"
#include "engine/store/key_value.hpp"
#include "index/store/route_snapshot.hpp"
#include "plugins/host/plugin_host.hpp"
#include "server/http/event_server.hpp"
#include "server/inbound.hpp"
#include "server/job_worker.hpp"
#include "server/openapi.hpp"
#include "server/privacy.hpp"
#include "server/rate_limit.hpp"
#include "server/reanalysis.hpp"
#include "server/sync.hpp"
#include "server/webhooks.hpp"

namespace stride::server {

class Jwt;
class Metrics;
class RunService;

struct HttpServerOptions {
  std::string db_path;
  std::string bind = "127.0.0.1";  // Default: loopback only
  int port = 8080;                 // Default: 8080; 0 = any free port (see port())
  int threads = 0;                 // worker threads; 0 = 4 x hardware concurrency, at least 8
  int timeout_s = 10;          // for a request head, a body (plus its size at 64 KiB/s), a response
  double idle_timeout_s = 30;  // keep-alive connections without a request. Default: 30 s
  // After Stop(), how long requests in flight may take to finish. Default: 30 s
  double stop_timeout_s = 30;
  size_t max_connections = 10000;  // open at once; past it the longest idle is shed
  size_t max_queued = 1024;        // requests waiting for a worker; past it 503 Retry-After
  double reload_check_s = 2.0;     // Default: look for a new database every 2 s
  // Replicas that switch together: a new database is loaded when found but served only from
  // its import's finish time (meta "import".finished_at, the same in every copy) plus this
  // many seconds, by the wall clock. Every replica given the same delay then switches at the
  // same moment, within their clocks' skew, as long as each finds and loads the database
  // within the delay (reload_check_s + the load time + any copying); one that is late
  // switches when ready and logs by how much. A database without a finish time is served at
  // once. Default: 0 (served as soon as loaded).
  double rollout_delay_s = 0;
  std::ostream* access_log = nullptr;  // Default: none
  // Each server error's detail, under the incident id its answer named (a store's error, a
  // handler's exception), escaped to one line, and the server's other messages for its
  // operator (a plugin's failure, a job not queued, a database not reloaded); written whether
  // or not there is an access log. Default: none (those messages go to access_log)
  std::ostream* error_log = nullptr;

  // Post-processing by `stride worker` processes (with ServerStores::jobs; server/
  // job_worker.hpp). `queue_jobs`: run events go to the job queue for the workers (the plugins'
  // processing, webhooks) instead of being handled here, and daily ticks are left to them;
  // DELETE /v1/me still deletes the user's plugin data here, before answering. `worker`: this
  // process is a worker: it takes those jobs and ticks, and serves /v1/health and /metrics
  // only. Defaults: neither (everything in this process).
  bool queue_jobs = false;
  bool worker = false;
  std::string worker_name;  // the worker's consumer name, unique among them. Required by worker

  // Runs (/v1/runs, /v1/me), served when ServerStores::runs is given.
  std::string jwt_secret;                      // required with runs
  size_t max_upload_bytes = size_t{64} << 20;  // Default: 64 MiB
  size_t max_points = 2'000'000;               // per uploaded file
  // --geofences FILE: a GeoJSON FeatureCollection of named polygons; each upload is tagged
  // with those it touches (server/privacy.hpp). Default: none.
  std::string geofences_path;

  // Plugins (with runs only: their data lives beside the runs).
  std::vector<plugins::BundledPlugin> bundled_plugins;  // linked in; tools/ picks them
  std::string plugins_dir;                              // --plugins DIR. Default: none
  std::string plugin_key_hex;            // --plugin-key: Ed25519 public key of manifests
  bool plugin_dev = false;               // unsigned plugins allowed (--dev)
  const engine::Clock* clock = nullptr;  // what plugins see as now. Default: the system clock

  // Rate limits (rate_limit.hpp): read 100/min, write 30/min, chat:ask 30/h per user; search
  // 600/min per client address. --rate-limit NAME=COUNT/PERIOD changes them.
  RateLimitPolicy rate_limits = RateLimitPolicy::Defaults();
  // Addresses of proxies in front (--trusted-proxy): a request from one is counted by the
  // client address its X-Forwarded-For names (the last one not itself a trusted proxy).
  // Default: none (the socket's address).
  std::vector<std::string> trusted_proxies;
  // Origins whose pages may call the API (CORS; --cors-origin). Default: none.
  std::vector<std::string> cors_origins;
  // HTTPS without a proxy (--tls-cert, --tls-key): PEM certificate chain and private key.
  // Default: none (plain HTTP).
  std::string tls_cert_file, tls_key_file;

  // Inbound provider webhooks (inbound.hpp; with runs and ServerStores::connections): the
  // providers Stride accepts activities from, with their secrets. Default: none.
  InboundOptions inbound;

  // Outbound webhooks (with ServerStores::outbox). Default: none.
  std::vector<std::string> webhooks;  // http://host[:port]/path
  std::string webhook_secret;         // HMAC-SHA256 key of Stride-Signature
  double webhook_first_retry_s = 1;   // Default: 1 s, doubling
};

// Where the server keeps its users' data: opened by tools/ (tools/serve_stores.hpp: a RunDb
// over RocksDB and SRTM tiles) and injected, so the server opens no store itself and another
// deployment can hand it other implementations. Everything must outlive the server. With no
// `runs` the run, profile and plugin endpoints answer 503 or 404 and no plugin loads.
struct ServerStores {
  engine::RunStore* runs = nullptr;
  // plugin.NAME: one namespace per plugin, created on first use. Required with runs.
  std::function<Result<engine::KeyValue*>(const std::string& name)> plugin_namespace;
  engine::KeyValue* host_state = nullptr;        // profiles, daily tick dates. Required with runs
  engine::KeyValue* outbox = nullptr;            // webhook deliveries; required with webhooks
  const engine::ElevationSource* dem = nullptr;  // for uploads. Default: none (the file's)
  // The rate limits' counters. Default: in this process (MemoryRateLimitStore).
  RateLimitStore* rate_limits = nullptr;
  // Backups while serving (POST/GET /v1/admin/backups). Default: none (those answer 404).
  engine::Backups* backups = nullptr;
  // Plugin stream events to and from the other servers (server/redis_events.hpp). Default:
  // none (streams get what this server publishes).
  plugins::StreamFanout* stream_fanout = nullptr;
  // The job queue of HttpServerOptions::queue_jobs and worker. Default: none.
  index::RedisJobQueue* jobs = nullptr;
  // A plugin's changes made by one process at a time, when several share the stores
  // (plugins::PluginServices::exclusive; PostgreSQL: Postgres::Exclusive). Default: none.
  std::function<Status(const std::string& plugin, const std::function<void()>& body)>
      plugin_exclusive;
  // Users' links to provider accounts (inbound webhooks). Required with runs.
  engine::KeyValue* connections = nullptr;
};

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options, ServerStores stores = {});
  ~HttpServer();

  // Loads the database, binds, serves until Stop(). Fails when the database cannot be opened
  // or the address cannot be bound.
  Status Run();
  void Stop();
  // The bound port once Run() is serving (useful with port 0); 0 before.
  int port() const { return port_.load(); }
  // Run events (run.stored, run.deleted, user.deleted). Subscribe before Run().
  engine::RunEvents& events() { return events_; }
  // Re-reads the plugin directory (SIGHUP); the report as JSON. "[]" without plugins.
  std::string ReloadPlugins();
  // Reads --tls-cert/--tls-key again (a renewed certificate; SIGHUP): new connections get it,
  // open ones keep theirs; on an error the old certificate stays. InvalidArgument without TLS,
  // Unavailable before the server listens.
  Status ReloadTls();
  // The plugin host once Run() is serving with runs; null otherwise.
  plugins::PluginHost* plugin_host() { return plugins_.get(); }
  // The route table without its handlers (what GET /v1/openapi.json documents), once Run()
  // is serving.
  const std::vector<ApiRoute>& api_routes() const { return api_routes_; }
  // The webhook sender once Run() is serving with --webhook; null otherwise.
  WebhookSender* webhooks() { return webhooks_.get(); }

 private:
  std::shared_ptr<const index::RouteSnapshot> Snapshot() const;
  // The run service, plugin host and webhook sender over the injected stores.
  Status StartUserServices();
  // Every endpoint: {method, pattern, name, scope, body limit, handler}, in matching order.
  std::vector<http::Route> RouteTable();
  // /metrics' job figures: the queue's (waiting, pending, dead; one Redis call, left out when
  // Redis does not answer) with a job queue, this worker's counts in a worker.
  void JobGauges(std::vector<std::pair<std::string, double>>* gauges) const;
  http::EventServerHooks Hooks();
  void WatchForNewDatabase();
  // Waits until `next` may be served (HttpServerOptions::rollout_delay_s); false when the
  // server stops meanwhile.
  bool WaitForRollout(const index::RouteSnapshot& next);
  // Drops `old` (a database just replaced) on the calling thread once no request uses it.
  void ReleaseHere(std::shared_ptr<const index::RouteSnapshot> old);
  void LogRequest(const HttpRequest& req, int status, size_t bytes, double seconds);
  // A time-stamped line for the operator (the plugin host, the webhook sender, the job queue,
  // a database reload): to error_log, else to the access log.
  void LogLine(const std::string& line);

  HttpServerOptions options_;
  ServerStores stores_;
  std::unique_ptr<Jwt> jwt_;                  // with runs
  std::unique_ptr<RunService> runs_;          // with runs
  std::unique_ptr<Connections> connections_;  // with runs and ServerStores::connections
  std::unique_ptr<PrivacyStore> privacy_;     // with runs: zones and shared links
  std::unique_ptr<SyncLog> sync_log_;         // with runs: delta sync (server/sync.hpp)
  std::unique_ptr<SyncService> sync_;
  std::unique_ptr<engine::ZoneSet> geofences_;  // --geofences
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<MemoryRateLimitStore> own_rate_store_;  // when stores_ has none
  std::unique_ptr<RateLimiter> limiter_;
  mutable std::mutex mu_;  // snapshot_, http_
  std::unique_ptr<http::EventServer> http_;
  std::mutex log_mu_;
  std::shared_ptr<const index::RouteSnapshot> snapshot_;
  std::atomic<int> port_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> reloads_{0};
  // While a loaded database waits for its rollout time: its import time and when it is
  // served (health shows both); guarded by mu_.
  std::string pending_imported_at_;
  double pending_serves_at_ = 0;
  engine::RunEvents events_;
  std::unique_ptr<plugins::PluginHost> plugins_;
  std::unique_ptr<WebhookSender> webhooks_;
  std::unique_ptr<JobWorker> job_worker_;   // with options_.worker
  std::unique_ptr<Reanalysis> reanalysis_;  // with runs, not in a worker
  std::mutex reload_mu_;                    // one reload at a time
  // GET /v1/openapi.json: built from the table at start and after each plugin reload.
  void RebuildOpenApi();
  std::vector<ApiRoute> api_routes_;            // the table without its handlers
  std::shared_ptr<const std::string> openapi_;  // under mu_
  // The query parameters each operation takes, from the same document: an unknown one is a
  // 400 on every route alike (QueryParameterProblem). Under mu_.
  std::shared_ptr<const QueryNames> query_names_;
};

}  // namespace stride::server
