// SPDX-License-Identifier: Apache-2.0
#include "server/http_server.hpp"

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <ctime>
#include <nlohmann/json.hpp>
#include <ostream>
#include <thread>

#include "server/metrics.hpp"
#include "server/route_api.hpp"

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
          "routes", "nearest", "route", "profile", "health", "metrics"})) {}

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
  http.set_payload_max_length(64 * 1024);  // GET only: a large body is an error

  auto handle = [this](const char* endpoint, auto&& fn) {
    return [this, endpoint, fn](const httplib::Request& req, httplib::Response& res) {
      const auto t0 = std::chrono::steady_clock::now();
      ApiResponse r;
      try {
        r = fn(req);
      } catch (const std::exception& e) {
        r = ErrorResponse(500, "internal", e.what(), WireOf(req));
      }
      res.status = r.status;
      res.set_content(std::move(r.body), r.content_type);
      metrics_->Record(
          endpoint, res.status,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
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
    metrics_->Record("metrics", 200,
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  });
  http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;  // a handler already answered
    const ApiResponse r =
        res.status == 404
            ? ErrorResponse(404, "not_found", "no endpoint " + req.path, WireOf(req))
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
