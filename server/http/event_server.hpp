// SPDX-License-Identifier: Apache-2.0
//
// EventServer: HTTP/1.1 over one epoll loop and a pool of workers, behind a route table.
//
// Why not a thread per connection (cpp-httplib's model, which served Stride until the hostile
// test): there a connection holds a worker for as long as it is open, so 70 clients sending a
// header byte a second, or a few hundred idle keep-alive connections, left no worker for anyone
// else. Here the loop does all the waiting: it reads request heads and bodies from every
// connection without blocking, under a total deadline per head and per body, and only a
// complete request goes to a worker. Idle keep-alive connections cost a file descriptor and a
// few hundred bytes, no thread. The workers' queue is bounded: past it a request gets a fast
// 503 with Retry-After from the loop; past `max_connections` the oldest idle connection is
// shed first. Routes marked `on_loop` (health) are answered by the loop itself, so they answer
// while every worker is busy.
//
// What is refused before any body byte is read, by the route's own limits: a body on a route
// that takes none, a declared length over the route's limit (413), an unsupported
// Content-Encoding (415), and whatever the `admit` hook says (401/403 from the token). A gzip
// body is inflated by the worker only up to the route's limit. A worker writes its response
// itself (non-blocking socket, a total write deadline), streamed bodies chunked, then hands
// the connection back to the loop. A long-lived stream (Server-Sent Events) is handed back
// too: the loop keeps it with the idle connections and writes what is pushed to its sink, so a
// thousand subscribers hold no worker; a subscriber that falls `max_stream_backlog` behind or
// stops reading is cut off.
//
// Thread-safety: Stop() and port() from any thread; everything else is internal. Handlers run
// on several workers at once and must be thread-safe.
//
// With options.tls_cert_file and tls_key_file the port speaks HTTPS: the loop does each TLS
// handshake without blocking (within head_timeout_s), then everything above holds unchanged.
//
//   EventServer server(options, {{"GET", "/v1/things/{id}", "thing", ..., handler}}, hooks);
//   STRIDE_RETURN_IF_ERROR(server.Bind());   // then port()
//   server.Serve();                          // until Stop()
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/status.hpp"
#include "server/http/message.hpp"

typedef struct ssl_st SSL;

namespace stride::server::http {

class TlsContext;

struct Route {
  std::string method;  // "GET", "POST", "DELETE", ...; GET routes also answer HEAD; "*" any
  // "/v1/runs/{id}/track": literal segments and {name} segments; a last segment {*} takes the
  // rest of the path (zero or more segments).
  std::string pattern;
  std::string name;      // for metrics and logs ("run_track")
  std::string scope;     // required token scope; empty = public
  size_t max_body = 0;   // largest request body accepted (after inflating); 0 = none
  bool on_loop = false;  // answered on the I/O loop (cheap, must not block): never queued
  std::function<ApiResponse(HttpRequest&)> handler;
  // Tried only when no other route knows the path (so a core path's wrong method stays a
  // 405): the plugins' prefix route.
  bool fallback = false;
  // The rate limit it counts against, when not the one its scope and method give
  // (server/rate_limit.hpp).
  std::string rate_limit = {};
};

struct EventServerOptions {
  std::string bind = "127.0.0.1";  // Default: loopback only
  int port = 8080;                 // Default: 8080; 0 = any free port (see port())
  int workers = 0;                 // Default: 0 = 4 x hardware threads, at least 8
  double head_timeout_s = 10;      // the whole request head, from its first byte. Default: 10 s
  double idle_timeout_s = 30;      // a keep-alive connection with no request. Default: 30 s
  // After Stop(), how long the requests in flight may take before the loop stops waiting for
  // them (a worker stuck in a request still holds Serve() in its join: the CLI exits then).
  // Default: 30 s, the grace period orchestrators give before they kill.
  double stop_timeout_s = 30;
  // A request body must arrive within body_timeout_s + length / min_body_rate, and a response
  // must be taken within write_timeout_s + length / min_body_rate. Defaults: 10 s, 10 s, 64 KiB/s.
  double body_timeout_s = 10;
  double write_timeout_s = 10;
  double min_body_rate = 64 * 1024;
  size_t max_head_bytes = 16 * 1024;  // request line + headers. Default: 16 KiB (else 431)
  size_t max_headers = 100;           // Default: 100 fields
  size_t max_connections = 10000;     // open at once. Default: 10,000
  size_t max_queued = 1024;  // complete requests waiting for a worker. Default: 1,024 (else 503)
  // Request bodies held in memory at once, all connections together. Default: 1 GiB (else 503).
  size_t max_body_bytes_in_flight = size_t{1} << 30;
  size_t gzip_min_bytes = 256;  // responses at least this long are gzipped when accepted
  // Long-lived streams (ApiResponse::open_stream): a comment line is sent after this long
  // without an event, so dead clients are found and proxies keep the connection. Default: 15 s
  double stream_heartbeat_s = 15;
  // Bytes a stream's client may fall behind before it is cut off. Default: 1 MiB
  size_t max_stream_backlog = size_t{1} << 20;
  // Origins ("https://app.example.com", or "*" for any) whose pages may call the API: their
  // requests get Access-Control-Allow-Origin, and OPTIONS preflights a 204. Default: none.
  std::vector<std::string> cors_origins;
  // HTTPS on the port instead of HTTP when both are set: a PEM certificate chain (the server's
  // certificate first) and its PEM private key, read at Bind() and again by ReloadTls()
  // (server/http/tls.hpp; TLS 1.2 and 1.3). Answers then carry Strict-Transport-Security.
  // Default: none (plain HTTP, for loopback or behind a proxy that terminates TLS).
  std::string tls_cert_file;
  std::string tls_key_file;
};

struct EventServerHooks {
  // Admits a request before its body is read, on the loop (must be quick: a JWT check, a rate
  // limit): every route but those answered on the loop, public ones too. Sets req.principal
  // (and req.response_headers) and returns nullopt to go on, or returns the answer (401, 403,
  // 429, 503).
  std::function<std::optional<ApiResponse>(const Route&, HttpRequest&)> admit;
  // The body of an error the server answers itself (404, 405, 408, 413, 415, 431, 400, 503),
  // so every error has the API's shape. Required.
  std::function<ApiResponse(int status, const std::string& code, const std::string& message,
                            const HttpRequest&)>
      error;
  // After each response (from a worker or the loop): for the access log and metrics. `route`
  // is null for requests that matched none.
  std::function<void(const HttpRequest&, const Route* route, int status, size_t body_bytes,
                     double seconds)>
      done;
  // A server error's detail (ApiResponse::incident, or a handler's exception), for the
  // operator's log: the client was shown only the incident id. Default: dropped.
  std::function<void(const HttpRequest&, int status, const std::string& detail)> incident;
};

// Live counts for /metrics and /v1/health.
struct EventServerStats {
  size_t connections = 0;
  size_t queued = 0;
  size_t busy_workers = 0;
  uint64_t rejected_busy = 0;  // 503s for a full queue, connection limit or body budget
  uint64_t timed_out = 0;      // heads and bodies past their deadline, idle connections closed
  size_t streams = 0;          // long-lived streams open (held by the loop, not by workers)
};

class EventServer {
 public:
  EventServer(EventServerOptions options, std::vector<Route> routes, EventServerHooks hooks);
  ~EventServer();
  EventServer(const EventServer&) = delete;
  EventServer& operator=(const EventServer&) = delete;

  // Binds and listens. Unavailable when the address cannot be bound.
  Status Bind();
  // Serves until Stop(): then stops accepting, lets the requests in flight finish (up to
  // stop_timeout_s), and closes every connection. REQUIRES: Bind() succeeded.
  Status Serve();
  void Stop();
  int port() const { return port_.load(); }
  // Reads the certificate and key files again (a renewed certificate): connections accepted
  // from then on use them; those open keep theirs. On an error (named file, OpenSSL's reason)
  // the server goes on with the certificate it had. FailedPrecondition-like InvalidArgument
  // when the server does not speak TLS.
  Status ReloadTls();
  EventServerStats stats() const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  struct Conn;
  struct Loop;
  // Inflates a gzip body within the route's limit, then calls the handler; any exception
  // becomes a 500.
  ApiResponse Handle(const Route& route, HttpRequest& req) const;
  // Adds to every answer: the headers the admit hook set (req.response_headers), the default
  // Content-Security-Policy and Referrer-Policy, Cache-Control: private, no-store for a request
  // with a token, and the CORS headers for an allowed Origin. A header the handler set wins.
  void Decorate(HttpRequest& req, ApiResponse* r) const;
  bool OriginAllowed(std::string_view origin) const;
  // On a worker: Handle, then write the response to `fd` (through `ssl` when it is set). True
  // when the connection stays open; *stream is set when it stays open as a long-lived stream.
  bool Respond(const Route& route, HttpRequest& req, int fd, SSL* ssl, bool keep_alive,
               double started, StreamOpen* stream) const;
  EventServerOptions options_;
  std::vector<Route> routes_;
  EventServerHooks hooks_;
  std::unique_ptr<Loop> loop_;
  // The TLS context new connections get (set by Bind(), replaced by ReloadTls()); sessions
  // hold their own reference to the context they started with.
  std::shared_ptr<const TlsContext> Tls() const;
  mutable std::mutex tls_mu_;
  std::shared_ptr<const TlsContext> tls_;
  bool tls_on_ = false;  // the port speaks TLS (fixed at Bind())
  std::atomic<int> port_{0};
};

// The route `path` matches among `routes` for `method` (GET routes take HEAD), with the decoded
// {name} segments in *params; null when none. *path_known is set when some route matches the
// path with another method (a 405 rather than a 404), and *allowed lists those methods.
const Route* MatchRoute(const std::vector<Route>& routes, const std::string& method,
                        std::string_view raw_path, std::vector<std::string>* params,
                        bool* path_known, std::string* allowed);

}  // namespace stride::server::http
