// SPDX-License-Identifier: Apache-2.0
#include "server/http_server.hpp"

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>
#include <ostream>
#include <thread>

#include "importers/dem/srtm.hpp"
#include "index/store/run_db.hpp"
#include "server/auth.hpp"
#include "server/metrics.hpp"
#include "server/route_api.hpp"
#include "server/run_api.hpp"
#include "server/run_service.hpp"

namespace stride::server {
namespace {

// When the request on this worker thread began (set before routing, read by the logger).
thread_local std::chrono::steady_clock::time_point request_start;

Wire WireOf(const httplib::Request& req) {
  return WireFromAccept(req.get_header_value("Accept"));
}

Params ParamsOf(const httplib::Request& req) {
  Params p;
  for (const auto& [k, v] : req.params) p.emplace(k, v);  // first value of a repeated key wins
  return p;
}

// Writes `r` into `res`: status, extra headers and the body (none for 204).
void Send(ApiResponse r, httplib::Response& res) {
  res.status = r.status;
  for (auto& [k, v] : r.headers) res.set_header(k, v);
  if (r.status == 204) {
    res.body.clear();
  } else {
    res.set_content(std::move(r.body), r.content_type);
  }
}

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string UtcNow() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

}  // namespace

HttpServer::HttpServer(HttpServerOptions options)
    : options_(std::move(options)),
      http_(std::make_unique<httplib::Server>()),
      metrics_(std::make_unique<Metrics>(std::vector<std::string>{
          "routes", "nearest", "route", "profile", "health", "metrics", "run_upload", "run_list",
          "run", "run_track", "run_file", "run_delete", "me_export", "me_delete"})) {}

HttpServer::~HttpServer() {
  Stop();
}

std::shared_ptr<const index::RouteSnapshot> HttpServer::Snapshot() const {
  std::lock_guard lock(mu_);
  return snapshot_;
}

void HttpServer::Stop() {
  stopping_ = true;
  if (http_) http_->stop();
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
      if (options_.access_log) {
        *options_.access_log << "serve: new database at " << options_.db_path
                             << " not loaded (keeping the current one): " << next.status().message()
                             << '\n'
                             << std::flush;
      }
      continue;
    }
    {
      std::lock_guard lock(mu_);
      snapshot_ = std::move(next).value();
    }
    ++reloads_;
    if (options_.access_log) {
      *options_.access_log << "serve: loaded the new database (" << Snapshot()->index.size()
                           << " routes)\n"
                           << std::flush;
    }
  }
}

Status HttpServer::Run() {
  Result<std::shared_ptr<const index::RouteSnapshot>> first =
      index::LoadRouteSnapshot(options_.db_path);
  if (!first.ok()) return first.status();
  snapshot_ = std::move(first).value();

  // Runs: the database, the DEM, the service.
  std::unique_ptr<index::RunDb> run_db;
  std::unique_ptr<importers::SrtmElevation> dem;
  std::unique_ptr<RunService> runs;
  std::unique_ptr<Jwt> jwt;
  if (!options_.runs_path.empty()) {
    if (options_.jwt_secret.size() < kMinSecretBytes) {
      return Status::InvalidArgument(
          "serving runs needs a JWT secret of at least 32 bytes (STRIDE_JWT_SECRET, "
          "--jwt-secret-file, or --dev on loopback)");
    }
    jwt = std::make_unique<Jwt>(options_.jwt_secret);
    index::RunDb::Options ro;
    ro.sync = options_.sync_writes;
    Result<std::unique_ptr<index::RunDb>> db = index::RunDb::Open(options_.runs_path, ro);
    if (!db.ok()) return db.status();
    run_db = std::move(db).value();
    RunServiceOptions so;
    so.max_upload_bytes = options_.max_upload_bytes;
    so.max_points = options_.max_points;
    if (!options_.dem_path.empty()) {
      Result<std::unique_ptr<importers::SrtmElevation>> d =
          importers::SrtmElevation::Open(options_.dem_path);
      if (!d.ok()) return d.status();
      dem = std::move(d).value();
      so.dem = dem.get();
    }
    runs = std::make_unique<RunService>(*run_db, events_, so, [this] { return Snapshot(); });
  }

  httplib::Server& http = *http_;
  const int threads = options_.threads > 0
                          ? options_.threads
                          : std::max(64, 8 * static_cast<int>(std::thread::hardware_concurrency()));
  http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  http.set_read_timeout(options_.timeout_s, 0);
  http.set_write_timeout(options_.timeout_s, 0);
  // cpp-httplib serves a keep-alive connection on one thread until it closes; connections
  // beyond `threads` wait in the queue. Closing after 100 requests bounds that wait (with 8
  // threads and 32 wrk connections, 1000 gave a p90 of 1.3 s).
  http.set_keep_alive_max_count(100);
  // Headers and body go out in separate writes; without TCP_NODELAY, Nagle holds the body
  // until the client's delayed ACK (40 ms on Linux) on every keep-alive response.
  http.set_tcp_nodelay(true);
  // Uploads up to the limit; cpp-httplib answers 413 from Content-Length before reading.
  http.set_payload_max_length(runs ? options_.max_upload_bytes : 64 * 1024);

  auto handle = [this](const char* endpoint, auto&& fn) {
    return [this, endpoint, fn](const httplib::Request& req, httplib::Response& res) {
      const auto t0 = std::chrono::steady_clock::now();
      ApiResponse r;
      try {
        r = fn(req);
      } catch (const std::exception& e) {
        r = ErrorResponse(500, "internal", e.what(), WireOf(req));
      }
      Send(std::move(r), res);
      metrics_->Record(endpoint, res.status, SecondsSince(t0));
    };
  };
  http.Get("/v1/routes", handle("routes", [this](const httplib::Request& req) {
             return ListRoutes(*Snapshot(), ParamsOf(req), WireOf(req));
           }));
  http.Get("/v1/routes/nearest", handle("nearest", [this](const httplib::Request& req) {
             return NearestRoutes(*Snapshot(), ParamsOf(req), WireOf(req));
           }));
  http.Get(R"(/v1/routes/([^/]+)/profile)", handle("profile", [this](const httplib::Request& req) {
             return GetProfile(*Snapshot(), req.matches[1], WireOf(req));
           }));
  http.Get(R"(/v1/routes/([^/]+))", handle("route", [this](const httplib::Request& req) {
             return GetRoute(*Snapshot(), req.matches[1], ParamsOf(req), WireOf(req));
           }));
  // The caller of a run endpoint: a verified token with `scope`, or the error to answer.
  auto authorize = [this, &jwt, &runs](const httplib::Request& req, const char* scope,
                                       Principal* who) -> std::optional<ApiResponse> {
    const Wire wire = WireOf(req);
    if (!runs) {
      return ErrorResponse(503, "unavailable",
                           "this server stores no runs (start it with --runs DIR)", wire);
    }
    const std::string auth = req.get_header_value("Authorization");
    auto unauthenticated = [&](const std::string& why) {
      ApiResponse r = ErrorResponse(401, "unauthenticated", why, wire);
      r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"stride\"");
      return r;
    };
    if (auth.empty()) return unauthenticated("missing Authorization: Bearer <token>");
    if (auth.size() < 8 || strncasecmp(auth.c_str(), "Bearer ", 7) != 0) {
      return unauthenticated("Authorization: expected the Bearer scheme");
    }
    const double now =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    Result<Principal> p = jwt->Verify(std::string_view(auth).substr(7), now);
    if (!p.ok()) return unauthenticated(p.status().message());
    if (!p->Has(scope)) {
      return ErrorResponse(403, "forbidden", std::string("this token lacks the scope ") + scope,
                           wire);
    }
    *who = std::move(p).value();
    return std::nullopt;
  };
  // A run endpoint: authorize with `scope`, then call fn(who, req).
  auto run_endpoint = [&handle, authorize](const char* endpoint, const char* scope, auto&& fn) {
    return handle(endpoint, [authorize, scope, fn](const httplib::Request& req) {
      Principal who;
      if (auto denied = authorize(req, scope, &who)) return *denied;
      return fn(who, req);
    });
  };
  RunService* rs = runs.get();
  // Uploads read the body themselves: any Content-Type (cpp-httplib would parse a
  // form-urlencoded body, curl's default, and cap it at 8 KiB), a multipart form's first file,
  // the size limit enforced while reading, and no body read before the token is checked.
  const size_t upload_limit = options_.max_upload_bytes;
  http.Post("/v1/runs", [this, authorize, rs, upload_limit](const httplib::Request& req,
                                                            httplib::Response& res,
                                                            const httplib::ContentReader& reader) {
    const auto t0 = std::chrono::steady_clock::now();
    const Wire wire = WireOf(req);
    ApiResponse r;
    Principal who;
    if (auto denied = authorize(req, "runner:write", &who)) {
      r = *denied;
    } else {
      std::string body, file_name = req.get_header_value("X-File-Name");
      bool over = false;
      auto take = [&](const char* data, size_t n) {
        if (body.size() + n > upload_limit) {
          over = true;
          return false;
        }
        body.append(data, n);
        return true;
      };
      // A declared length over the limit is refused before reading (cpp-httplib would hand
      // the reader nothing).
      const std::string declared = req.get_header_value("Content-Length");
      if (!declared.empty() && std::strtoull(declared.c_str(), nullptr, 10) > upload_limit) {
        over = true;
      } else if (req.is_multipart_form_data()) {
        bool in_file = false, have_file = false;
        reader(
            [&](const httplib::MultipartFormData& part) {
              in_file = !have_file && !part.filename.empty();
              if (in_file) {
                have_file = true;
                if (file_name.empty()) file_name = part.filename;
              }
              return true;
            },
            [&](const char* data, size_t n) { return in_file ? take(data, n) : true; });
      } else if (!reader(take) && !over) {
        body.clear();  // the connection broke off: nothing to analyse
      }
      try {
        r = over ? ErrorResponse(413, "too_large",
                                 "upload over the limit of " + std::to_string(upload_limit) +
                                     " bytes (stride serve --max-upload-mb)",
                                 wire)
                 : UploadRun(*rs, who, body, req.get_header_value("Idempotency-Key"), file_name,
                             wire);
      } catch (const std::exception& e) {
        r = ErrorResponse(500, "internal", e.what(), wire);
      }
    }
    Send(std::move(r), res);
    metrics_->Record("run_upload", res.status, SecondsSince(t0));
  });
  http.Get("/v1/runs", run_endpoint("run_list", "runner:read",
                                    [rs](const Principal& who, const httplib::Request& req) {
                                      return ListRuns(*rs, who, ParamsOf(req), WireOf(req));
                                    }));
  http.Get(R"(/v1/runs/([^/]+)/track)",
           run_endpoint("run_track", "runner:read",
                        [rs](const Principal& who, const httplib::Request& req) {
                          return GetRunTrack(*rs, who, req.matches[1], ParamsOf(req), WireOf(req));
                        }));
  http.Get(R"(/v1/runs/([^/]+)/file)",
           run_endpoint("run_file", "runner:read",
                        [rs](const Principal& who, const httplib::Request& req) {
                          return GetRunFile(*rs, who, req.matches[1], WireOf(req));
                        }));
  http.Get(
      R"(/v1/runs/([^/]+))",
      run_endpoint("run", "runner:read", [rs](const Principal& who, const httplib::Request& req) {
        return GetRun(*rs, who, req.matches[1], WireOf(req));
      }));
  http.Delete(R"(/v1/runs/([^/]+))",
              run_endpoint("run_delete", "runner:write",
                           [rs](const Principal& who, const httplib::Request& req) {
                             return DeleteRun(*rs, who, req.matches[1], WireOf(req));
                           }));
  http.Delete("/v1/me", run_endpoint("me_delete", "runner:write",
                                     [rs](const Principal& who, const httplib::Request& req) {
                                       return DeleteMe(*rs, who, WireOf(req));
                                     }));
  http.Get("/v1/me/export",
           [this, authorize, rs](const httplib::Request& req, httplib::Response& res) {
             const auto t0 = std::chrono::steady_clock::now();
             Principal who;
             if (auto denied = authorize(req, "runner:read", &who)) {
               Send(std::move(*denied), res);
             } else {
               auto stream = std::make_shared<ExportStream>(*rs, who.user_id);
               res.set_header("Content-Disposition", "attachment; filename=\"stride-export.tar\"");
               res.set_chunked_content_provider(
                   "application/x-tar", [stream](size_t, httplib::DataSink& sink) {
                     std::string chunk;
                     if (stream->Next(&chunk)) return sink.write(chunk.data(), chunk.size());
                     if (!stream->complete()) return false;  // a store error: cut the archive short
                     sink.done();
                     return true;
                   });
             }
             metrics_->Record("me_export", res.status, SecondsSince(t0));
           });

  http.Get("/v1/health", handle("health", [this](const httplib::Request&) {
             const auto s = Snapshot();
             nlohmann::ordered_json j = {{"status", "ok"},
                                         {"routes", s->index.size()},
                                         {"database", s->path},
                                         {"imported_at", s->import_finished_at},
                                         {"index_load_s", s->load_seconds},
                                         {"reloads", reloads_.load()}};
             return ApiResponse{200, j.dump(), kJsonType};
           }));
  http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto s = Snapshot();
    res.set_content(
        metrics_->Render({{"stride_index_routes", static_cast<double>(s->index.size())},
                          {"stride_index_tree_bytes", static_cast<double>(s->index.tree_bytes())},
                          {"stride_database_reloads_total", static_cast<double>(reloads_.load())}}),
        "text/plain; version=0.0.4");
    metrics_->Record("metrics", 200, SecondsSince(t0));
  });
  const size_t payload_limit = runs ? options_.max_upload_bytes : 64 * 1024;
  http.set_error_handler([payload_limit](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty() || res.status == 204) return;  // a handler already answered
    const ApiResponse r =
        res.status == 404
            ? ErrorResponse(404, "not_found", "no endpoint " + req.path + " for " + req.method,
                            WireOf(req))
        : res.status == 413
            ? ErrorResponse(413, "too_large",
                            "request body over the limit of " + std::to_string(payload_limit) +
                                " bytes (stride serve --max-upload-mb)",
                            WireOf(req))
            : ErrorResponse(res.status, "invalid_argument", "bad request", WireOf(req));
    res.set_content(r.body, r.content_type);
  });
  http.set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr) {
        res.status = 500;
        const ApiResponse r = ErrorResponse(500, "internal", "internal error", WireOf(req));
        res.set_content(r.body, r.content_type);
      });
  http.set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
    request_start = std::chrono::steady_clock::now();
    return httplib::Server::HandlerResponse::Unhandled;
  });
  if (options_.access_log) {
    http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      // One line: time, remote, method, path?query, status, bytes, latency.
      std::string target = req.path;
      if (!req.params.empty()) {
        target += '?';
        bool first = true;
        for (const auto& [k, v] : req.params) {
          if (!first) target += '&';
          target += k + "=" + v;
          first = false;
        }
      }
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                                  request_start)
                            .count();
      char line[160];
      std::snprintf(line, sizeof line, " %d %zuB %.3fms", res.status, res.body.size(), ms);
      *options_.access_log << UtcNow() << ' ' << req.remote_addr << ' ' << req.method << ' '
                           << target << line << '\n'
                           << std::flush;
    });
  }

  if (options_.port == 0) {
    const int p = http.bind_to_any_port(options_.bind);
    if (p <= 0) return Status::Unavailable("cannot bind " + options_.bind + " to any port");
    port_ = p;
  } else {
    if (!http.bind_to_port(options_.bind, options_.port)) {
      return Status::Unavailable("cannot bind " + options_.bind + ":" +
                                 std::to_string(options_.port) +
                                 " (in use, or not an address of this machine?)");
    }
    port_ = options_.port;
  }
  std::thread watcher([this] { WatchForNewDatabase(); });
  const bool ok = stopping_ ? true : http.listen_after_bind();
  stopping_ = true;
  watcher.join();
  port_ = 0;
  return ok ? Status::Ok() : Status::Internal("the HTTP server stopped with an error");
}

}  // namespace stride::server
