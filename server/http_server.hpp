// SPDX-License-Identifier: Apache-2.0
//
// `stride serve`: HTTP API v1 over a route database (cpp-httplib). The server only parses and
// dispatches (route_api.hpp holds the endpoints); it adds keep-alive, gzip when the client
// accepts it, read/write timeouts, a one-line access log per request (method, path, status,
// bytes, latency), /v1/health, /metrics (Prometheus), JSON errors for unknown paths, and swaps
// in a new snapshot when an import replaces the database directory (checked every
// `reload_check_s`), without a restart. Stop() (or SIGINT/SIGTERM in the CLI) finishes the
// requests in flight and returns from Run(). With a run database (runs_path) it also serves
// the run endpoints of run_api.hpp behind bearer JWTs (auth.hpp).
//
// Thread-safety: Stop() and port() may be called from any thread while Run() blocks.
//
//   HttpServer server(options);  Status s = server.Run();
#pragma once

#include <atomic>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <string>

#include "engine/run/run.hpp"
#include "engine/status.hpp"
#include "index/store/route_snapshot.hpp"

namespace httplib {
class Server;
}

namespace stride::server {

class Metrics;

struct HttpServerOptions {
  std::string db_path;
  std::string bind = "127.0.0.1";  // Default: loopback only
  int port = 8080;                 // Default: 8080; 0 = any free port (see port())
  int threads = 0;     // connections served at once; 0 = 8 x hardware concurrency, at least 64
  int timeout_s = 10;  // read and write timeout per request. Default: 10 s
  double reload_check_s = 2.0;         // Default: look for a new database every 2 s
  std::ostream* access_log = nullptr;  // Default: none

  // Runs (/v1/runs, /v1/me): a run database directory, created when missing. Default: none
  // (the run endpoints answer 503).
  std::string runs_path;
  std::string jwt_secret;                      // required with runs_path
  std::string dem_path;                        // SRTM tiles for elevation. Default: none
  size_t max_upload_bytes = size_t{64} << 20;  // Default: 64 MiB
  size_t max_points = 2'000'000;               // per uploaded file
  bool sync_writes = true;                     // fsync each upload's WAL write
};

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options);
  ~HttpServer();

  // Loads the database, binds, serves until Stop(). Fails when the database cannot be opened
  // or the address cannot be bound.
  Status Run();
  void Stop();
  // The bound port once Run() is serving (useful with port 0); 0 before.
  int port() const { return port_.load(); }
  // Run events (run.stored, run.deleted, user.deleted). Subscribe before Run().
  engine::RunEvents& events() { return events_; }

 private:
  std::shared_ptr<const index::RouteSnapshot> Snapshot() const;
  void WatchForNewDatabase();

  HttpServerOptions options_;
  std::unique_ptr<httplib::Server> http_;
  std::unique_ptr<Metrics> metrics_;
  mutable std::mutex mu_;
  std::shared_ptr<const index::RouteSnapshot> snapshot_;
  std::atomic<int> port_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> reloads_{0};
  engine::RunEvents events_;
};

}  // namespace stride::server
