// SPDX-License-Identifier: Apache-2.0
#include "server/http/event_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "engine/text/uri.hpp"
#include "engine/threads.hpp"
#include "server/http/gzip.hpp"
#include "server/http/parse.hpp"
#include "server/http/tls.hpp"

namespace stride::server::http {
namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

const char* Reason(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

bool AcceptsGzip(const HttpRequest& req) {
  const std::string& ae = req.Header("Accept-Encoding");
  size_t at = 0;
  while (at < ae.size()) {
    size_t end = ae.find(',', at);
    if (end == std::string::npos) end = ae.size();
    std::string_view item(ae.data() + at, end - at);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    const size_t semi = item.find(';');
    std::string_view coding = item.substr(0, semi);
    while (!coding.empty() && coding.back() == ' ') coding.remove_suffix(1);
    if (EqualsNoCase(coding, "gzip")) {
      // "gzip;q=0" refuses it.
      const std::string_view params = semi == std::string_view::npos ? "" : item.substr(semi);
      const size_t q = params.find("q=");
      return q == std::string_view::npos ||
             std::strtod(std::string(params.substr(q + 2)).c_str(), nullptr) > 0;
    }
    at = end + 1;
  }
  return false;
}

// Sends all of `data` on a non-blocking connection (TLS when `ssl` is set) before `deadline`;
// false when the peer went away or was too slow.
bool SendAll(int fd, SSL* ssl, std::string_view data, double deadline) {
  while (!data.empty()) {
    const ssize_t n = ConnSend(fd, ssl, data.data(), data.size());
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      const double left = deadline - Now();
      if (left <= 0) return false;
      pollfd p{fd, POLLOUT, 0};
      const int r = ::poll(&p, 1, static_cast<int>(std::min(left, 1.0) * 1000) + 1);
      if (r < 0 && errno != EINTR) return false;
      continue;
    }
    return false;
  }
  return true;
}

// What a page from an allowed origin may send, and read of the answer, beyond the basics.
constexpr const char* kCorsAllowedHeaders =
    "Authorization, Content-Type, Content-Encoding, Accept, Idempotency-Key, X-File-Name, "
    "Last-Event-ID";
constexpr const char* kCorsExposed =
    "Location, Retry-After, RateLimit-Policy, RateLimit-Limit, RateLimit-Remaining, "
    "RateLimit-Reset, Content-Disposition";

constexpr long long kChunked = -1;     // ResponseHead's length for a chunked body
constexpr long long kUntilClose = -2;  // ... for a body that ends when the connection closes

// The status line and headers of `r`: `length` bytes of body, or kChunked, or kUntilClose.
std::string ResponseHead(const ApiResponse& r, long long length, bool gzipped, bool keep_alive) {
  std::string h = "HTTP/1.1 " + std::to_string(r.status) + " " + Reason(r.status) + "\r\n";
  if (r.status != 204 && r.content_type && *r.content_type) {
    h += "Content-Type: ";
    h += r.content_type;
    h += "\r\n";
  }
  if (length >= 0) {
    if (r.status != 204) h += "Content-Length: " + std::to_string(length) + "\r\n";
  } else if (length == kChunked) {
    h += "Transfer-Encoding: chunked\r\n";
  }
  if (gzipped) h += "Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n";
  h += "X-Content-Type-Options: nosniff\r\n";
  for (const auto& [k, v] : r.headers) h += k + ": " + v + "\r\n";
  h += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  return h;
}

// Compresses r.body in place when the client accepts gzip and it is worth it.
bool MaybeGzip(const HttpRequest& req, ApiResponse* r, size_t min_bytes) {
  if (r->status == 204 || r->body.size() < min_bytes || !AcceptsGzip(req)) return false;
  for (const auto& [k, v] : r->headers) {
    if (EqualsNoCase(k, "Content-Encoding")) return false;
  }
  r->body = Gzip(r->body);
  return true;
}

// The loop's side of the long-lived streams, shared with their sinks: pushes wait here until
// the loop takes them. Outlives the loop when a publisher still holds a sink.
struct StreamHub {
  std::mutex mu;
  bool alive = true;                                     // guarded by mu
  std::vector<std::pair<uint64_t, std::string>> pushed;  // (stream id, bytes), guarded by mu
  int wake_fd = -1;
};

class HubSink final : public StreamSink {
 public:
  HubSink(std::shared_ptr<StreamHub> hub, uint64_t id) : hub_(std::move(hub)), id_(id) {}
  bool Push(std::string bytes) override {
    if (!open_) return false;
    std::lock_guard lock(hub_->mu);
    if (!hub_->alive) return false;
    const bool wake = hub_->pushed.empty();
    hub_->pushed.emplace_back(id_, std::move(bytes));
    if (wake) {
      const uint64_t one = 1;
      [[maybe_unused]] const ssize_t n = ::write(hub_->wake_fd, &one, sizeof one);
    }
    return true;
  }
  bool open() const override { return open_; }
  void Closed() { open_ = false; }

 private:
  std::shared_ptr<StreamHub> hub_;
  uint64_t id_;
  std::atomic<bool> open_{true};
};

}  // namespace

const Route* MatchRoute(const std::vector<Route>& routes, const std::string& method,
                        std::string_view raw_path, std::vector<std::string>* params,
                        bool* path_known, std::string* allowed) {
  *path_known = false;
  allowed->clear();
  const std::vector<std::string_view> segs = engine::PathSegments(raw_path);
  std::vector<std::string> decoded;
  decoded.reserve(segs.size());
  for (std::string_view s : segs) decoded.push_back(PercentDecode(s, false));
  std::vector<std::pair<std::string, std::string>> named;
  for (int pass = 0; pass < 2; ++pass) {
    for (const Route& r : routes) {
      if (r.fallback != (pass == 1) || (pass == 1 && *path_known)) continue;
      if (!engine::MatchPathPattern(r.pattern, decoded, &named)) continue;
      if (r.method == method || r.method == "*" || (method == "HEAD" && r.method == "GET")) {
        params->clear();
        for (auto& [name, value] : named) params->push_back(std::move(value));
        return &r;
      }
      *path_known = true;
      if (allowed->find(r.method) == std::string::npos) {
        if (!allowed->empty()) *allowed += ", ";
        *allowed += r.method;
      }
    }
  }
  return nullptr;
}

struct EventServer::Conn {
  // kDraining: answered with "Connection: close" while the client may still be sending (a body
  // refused from its head); reading on a little before closing, so that the close does not
  // reset the connection and destroy the answer before the client has read it.
  // kStreaming: a long-lived stream's connection, written by the loop from its sink.
  enum State { kIdle, kHead, kBody, kBusy, kWriting, kDraining, kStreaming, kClosed };
  int fd = -1;
  // The TLS session (owned; ended before fd is closed), or null for plain HTTP. `handshaking`
  // until the TLS handshake is done: it must finish within the head timeout.
  SSL* ssl = nullptr;
  bool handshaking = false;
  std::string remote;
  State state = kIdle;
  std::string in;
  size_t scanned = 0;  // bytes of `in` already searched for the end of the head
  HttpRequest req;
  const Route* route = nullptr;
  bool chunked = false;
  size_t body_length = 0;
  size_t reserved = 0;  // body bytes counted against max_body_bytes_in_flight
  ChunkedDecoder chunks;
  double deadline = 0;
  double started = 0;  // the request's first byte (steady clock)
  double idle_since = 0;
  bool keep_alive = true;
  bool peer_closed = false;
  bool watched = false;  // registered with epoll
  uint32_t events = 0;
  std::string out;  // a response the loop writes
  size_t out_at = 0;
  bool close_after = false;
  std::shared_ptr<HubSink> sink;  // kStreaming
  uint64_t stream_id = 0;
};

struct EventServer::Loop {
  EventServer& server;
  const EventServerOptions& opt;
  int epfd = -1, listen_fd = -1, wake_fd = -1;
  std::unordered_map<int, std::unique_ptr<Conn>> conns;
  std::vector<Conn*> ready;  // idle again with bytes buffered: process after this batch
  // Closed connections live until the end of the batch, so a caller holding one after an
  // answer closed it can still look at its state (kClosed).
  std::vector<std::unique_ptr<Conn>> graveyard;
  size_t body_bytes = 0;       // reserved by requests in progress (loop only)
  bool accept_paused = false;  // out of file descriptors: the listener is not watched

  std::mutex mu;
  std::condition_variable cv;
  struct Returned {
    Conn* conn;
    bool keep_alive;
    StreamOpen stream;  // set when it goes on as a long-lived stream
  };
  std::deque<Conn*> queue;         // guarded by mu
  std::vector<Returned> returned;  // guarded by mu
  bool workers_exit = false;       // guarded by mu
  std::vector<std::thread> workers;

  std::shared_ptr<StreamHub> hub = std::make_shared<StreamHub>();
  std::unordered_map<uint64_t, Conn*> streams;  // by stream id (loop only)
  uint64_t next_stream_id = 1;

  std::atomic<bool> stopping{false};
  std::atomic<size_t> n_conns{0}, n_queued{0}, n_busy{0}, n_streams{0};
  std::atomic<uint64_t> rejected{0}, timed_out{0};

  Loop(EventServer& s) : server(s), opt(s.options_) {}
  ~Loop() {
    {
      std::lock_guard lock(hub->mu);
      hub->alive = false;
    }
    for (auto& [fd, c] : conns) {
      if (c->sink) c->sink->Closed();
      EndSession(c->ssl);
      ::close(fd);
    }
    if (listen_fd >= 0) ::close(listen_fd);
    if (wake_fd >= 0) ::close(wake_fd);
    if (epfd >= 0) ::close(epfd);
  }

  void Wake() {
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(wake_fd, &one, sizeof one);
  }

  void Watch(Conn* c, uint32_t events) {
    epoll_event ev{};
    ev.events = events | EPOLLRDHUP;
    ev.data.fd = c->fd;
    if (!c->watched) {
      ::epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
      c->watched = true;
    } else if (c->events != events) {
      ::epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
    }
    c->events = events;
  }

  void Unwatch(Conn* c) {
    if (c->watched) ::epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, nullptr);
    c->watched = false;
  }

  void Release(Conn* c) {
    body_bytes -= std::min(body_bytes, c->reserved);
    c->reserved = 0;
  }

  void Close(Conn* c) {
    if (c->sink) {
      c->sink->Closed();
      streams.erase(c->stream_id);
      n_streams = streams.size();
    }
    Unwatch(c);
    Release(c);
    EndSession(c->ssl);
    c->ssl = nullptr;
    ::close(c->fd);
    c->state = Conn::kClosed;
    auto it = conns.find(c->fd);
    graveyard.push_back(std::move(it->second));
    conns.erase(it);
    n_conns = conns.size();
  }

  void Idle(Conn* c) {
    c->state = Conn::kIdle;
    c->idle_since = Now();
    c->deadline = c->idle_since + opt.idle_timeout_s;
    c->route = nullptr;
    c->chunked = false;
    c->body_length = 0;
    c->chunks = ChunkedDecoder();
    Watch(c, EPOLLIN);
    if (!c->in.empty()) ready.push_back(c);
  }

  // Answers from the loop (errors, on-loop routes): the response is buffered and written
  // without blocking.
  void Answer(Conn* c, ApiResponse r, bool close) {
    server.Decorate(c->req, &r);
    const bool keep = c->keep_alive && !close && !stopping && !c->peer_closed;
    const bool head_only = c->req.method == "HEAD";
    const bool gz = MaybeGzip(c->req, &r, opt.gzip_min_bytes);
    c->out = ResponseHead(r, static_cast<long long>(r.body.size()), gz, keep);
    if (!head_only && r.status != 204) c->out += r.body;
    c->out_at = 0;
    c->close_after = !keep;
    c->state = Conn::kWriting;
    c->deadline =
        Now() + opt.write_timeout_s + static_cast<double>(c->out.size()) / opt.min_body_rate;
    Release(c);
    if (server.hooks_.done) {
      server.hooks_.done(c->req, c->route, r.status, r.body.size(), Now() - c->started);
    }
    Flush(c);
  }

  void Error(Conn* c, int status, const std::string& code, const std::string& message, bool close,
             HeaderList extra = {}) {
    ApiResponse r = server.hooks_.error(status, code, message, c->req);
    for (auto& h : extra) r.headers.push_back(std::move(h));
    Answer(c, std::move(r), close);
  }

  enum class Sent { kAll, kBlocked, kFailed };
  // Sends as much of c->out as the socket takes now, without blocking; kAll clears it.
  Sent SendBuffered(Conn* c) {
    while (c->out_at < c->out.size()) {
      const ssize_t n =
          ConnSend(c->fd, c->ssl, c->out.data() + c->out_at, c->out.size() - c->out_at);
      if (n > 0) {
        c->out_at += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        return Sent::kBlocked;
      }
      return Sent::kFailed;
    }
    c->out.clear();
    c->out_at = 0;
    return Sent::kAll;
  }

  // Writes a buffered answer; the rest waits for EPOLLOUT. Then idle, lingering or closed.
  void Flush(Conn* c) {
    const Sent sent = SendBuffered(c);
    if (sent == Sent::kBlocked) return Watch(c, EPOLLOUT);
    if (sent == Sent::kFailed) return Close(c);
    if (c->close_after) {
      Linger(c);
    } else {
      Idle(c);
    }
  }

  // Half-closes after an answer that ends the connection and discards what the client still
  // sends, for at most 2 s, then closes.
  void Linger(Conn* c) {
    CloseNotify(c->ssl);
    ::shutdown(c->fd, SHUT_WR);
    c->state = Conn::kDraining;
    c->in.clear();
    c->deadline = Now() + 2;
    Watch(c, EPOLLIN);
  }

  // OPTIONS: the methods a path takes (Allow), and a browser's CORS preflight: 204 with what
  // an allowed origin may send, 403 for an origin or method that is not allowed.
  void Options(Conn* c, bool has_body) {
    const std::string_view raw_path =
        std::string_view(c->req.target).substr(0, c->req.target.find('?'));
    std::string allowed;
    for (const char* m : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}) {
      std::vector<std::string> params;
      bool known = false;
      std::string others;
      if (MatchRoute(server.routes_, m, raw_path, &params, &known, &others)) {
        if (!allowed.empty()) allowed += ", ";
        allowed += m;
      }
    }
    if (allowed.empty()) {
      return Error(c, 404, "not_found", "no endpoint " + c->req.path, has_body);
    }
    const std::string& origin = c->req.Header("Origin");
    const std::string& method = c->req.Header("Access-Control-Request-Method");
    ApiResponse r(204, "", nullptr);
    r.headers.emplace_back("Allow", allowed + ", OPTIONS");
    if (origin.empty() || method.empty()) return Answer(c, std::move(r), has_body);
    if (!server.OriginAllowed(origin)) {
      return Error(c, 403, "forbidden",
                   "cross-origin requests from " + origin + " are not allowed (--cors-origin)",
                   has_body);
    }
    if ((", " + allowed + ",").find(", " + method + ",") == std::string::npos) {
      return Error(c, 403, "forbidden",
                   method + " is not allowed on " + c->req.path + " (allowed: " + allowed + ")",
                   has_body);
    }
    r.headers.emplace_back("Access-Control-Allow-Methods", allowed);
    r.headers.emplace_back("Access-Control-Allow-Headers", kCorsAllowedHeaders);
    r.headers.emplace_back("Access-Control-Max-Age", "600");
    Answer(c, std::move(r), has_body);
  }

  // After the head: parse, route, check limits and the caller, then read the body or dispatch.
  void StartRequest(Conn* c, std::string_view head) {
    c->req = HttpRequest{};
    c->req.remote_addr = c->remote;
    c->route = nullptr;
    const Status parsed = ParseRequestHead(head, &c->req, opt.max_headers);
    if (!parsed.ok()) return Error(c, 400, "invalid_argument", parsed.message(), true);
    const std::string& connection = c->req.Header("Connection");
    c->keep_alive = c->req.version_minor == 1 ? !EqualsNoCase(connection, "close")
                                              : EqualsNoCase(connection, "keep-alive");
    // Framing first: without it the connection cannot be kept whatever the answer.
    const std::string& te = c->req.Header("Transfer-Encoding");
    const std::string& cl = c->req.Header("Content-Length");
    if (!te.empty()) {
      if (!EqualsNoCase(te, "chunked")) {
        return Error(c, 501, "not_implemented", "Transfer-Encoding: only chunked is supported",
                     true);
      }
      if (!cl.empty()) {
        return Error(c, 400, "invalid_argument",
                     "both Transfer-Encoding and Content-Length: send one", true);
      }
      c->chunked = true;
    } else if (!cl.empty()) {
      if (cl.size() > 18 ||
          !std::all_of(cl.begin(), cl.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
        return Error(c, 400, "invalid_argument", "Content-Length: expected a number of bytes",
                     true);
      }
      c->body_length = std::stoull(cl);
    }
    const bool has_body = c->chunked || c->body_length > 0;
    if (c->req.method == "OPTIONS") return Options(c, has_body);
    std::vector<std::string> params;
    bool known = false;
    std::string allowed;
    const std::string_view raw_path =
        std::string_view(c->req.target).substr(0, c->req.target.find('?'));
    c->route = MatchRoute(server.routes_, c->req.method, raw_path, &params, &known, &allowed);
    if (!c->route) {
      if (known) {
        return Error(
            c, 405, "method_not_allowed",
            c->req.method + " is not allowed on " + c->req.path + " (allowed: " + allowed + ")",
            has_body, {{"Allow", allowed}});
      }
      return Error(c, 404, "not_found", "no endpoint " + c->req.path + " for " + c->req.method,
                   has_body);
    }
    c->req.path_params = std::move(params);
    const Route& route = *c->route;
    // A fallback route (the plugins' prefix) resolves, and authorises, before anything else:
    // an unknown plugin path is a 404 whatever the body.
    bool admitted = false;
    if (route.fallback && !route.scope.empty() && server.hooks_.admit) {
      if (std::optional<ApiResponse> denied = server.hooks_.admit(route, c->req)) {
        return Answer(c, std::move(*denied), has_body);
      }
      admitted = true;
    }
    if (has_body && route.max_body == 0) {
      return Error(c, 413, "too_large",
                   route.method + " " + route.pattern + " takes no request body", true);
    }
    if (c->body_length > route.max_body) {
      return Error(c, 413, "too_large",
                   "request body of " + std::to_string(c->body_length) +
                       " bytes is over the limit of " + std::to_string(route.max_body) +
                       " bytes for " + route.pattern,
                   true);
    }
    const std::string& ce = c->req.Header("Content-Encoding");
    if (has_body && !ce.empty() && !EqualsNoCase(ce, "gzip") && !EqualsNoCase(ce, "identity")) {
      return Error(c, 415, "unsupported_media_type",
                   "Content-Encoding: only gzip is accepted for request bodies", true);
    }
    if (!admitted && !route.on_loop && server.hooks_.admit) {
      if (std::optional<ApiResponse> denied = server.hooks_.admit(route, c->req)) {
        return Answer(c, std::move(*denied), has_body);
      }
    }
    if (has_body) {
      const size_t want = c->chunked ? route.max_body : c->body_length;
      if (body_bytes + want > opt.max_body_bytes_in_flight) {
        ++rejected;
        return Error(c, 503, "unavailable", "the server is receiving too much at once; retry", true,
                     {{"Retry-After", "1"}});
      }
      body_bytes += want;
      c->reserved = want;
      if (EqualsNoCase(c->req.Header("Expect"), "100-continue")) {
        static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
        [[maybe_unused]] const ssize_t n = ConnSend(c->fd, c->ssl, kContinue, sizeof kContinue - 1);
      }
      c->state = Conn::kBody;
      c->deadline = Now() + opt.body_timeout_s + static_cast<double>(want) / opt.min_body_rate;
      return;
    }
    Dispatch(c);
  }

  // True when the body is complete (in c->req.body); false when more is needed or the request
  // was answered.
  bool TakeBody(Conn* c) {
    if (c->chunked) {
      size_t used = 0;
      const ChunkedDecoder::Result r = c->chunks.Feed(c->in, &c->req.body, &used);
      c->in.erase(0, used);
      if (r == ChunkedDecoder::kError) {
        Error(c, 400, "invalid_argument", "chunked body: " + c->chunks.error(), true);
        return false;
      }
      if (c->req.body.size() > c->route->max_body) {
        Error(c, 413, "too_large",
              "request body over the limit of " + std::to_string(c->route->max_body) +
                  " bytes for " + c->route->pattern,
              true);
        return false;
      }
      return r == ChunkedDecoder::kDone;
    }
    if (c->in.size() < c->body_length) return false;
    if (c->in.size() == c->body_length) {
      c->req.body.swap(c->in);
      c->in.clear();
    } else {
      c->req.body.assign(c->in, 0, c->body_length);
      c->in.erase(0, c->body_length);
    }
    return true;
  }

  void Dispatch(Conn* c) {
    if (c->route->on_loop) {
      ApiResponse r = server.Handle(*c->route, c->req);
      return Answer(c, std::move(r), false);
    }
    if (n_queued.load() >= opt.max_queued) {
      ++rejected;
      return Error(c, 503, "unavailable", "the server is busy; retry", true,
                   {{"Retry-After", "1"}});
    }
    Unwatch(c);
    c->state = Conn::kBusy;
    {
      std::lock_guard lock(mu);
      queue.push_back(c);
      n_queued = queue.size();
    }
    cv.notify_one();
  }

  void Process(Conn* c) {
    while (c->state == Conn::kIdle || c->state == Conn::kHead || c->state == Conn::kBody) {
      if (c->state == Conn::kBody) {
        if (TakeBody(c)) Dispatch(c);
        return;
      }
      if (c->in.empty()) return;
      if (c->state == Conn::kIdle) {
        c->state = Conn::kHead;
        c->started = Now();
        c->deadline = c->started + opt.head_timeout_s;
        c->scanned = 0;
      }
      const size_t from = c->scanned > 3 ? c->scanned - 3 : 0;
      const size_t end = c->in.find("\r\n\r\n", from);
      if (end == std::string::npos || end + 4 > opt.max_head_bytes) {
        if (end != std::string::npos || c->in.size() > opt.max_head_bytes) {
          c->req = HttpRequest{};
          return Error(
              c, 431, "too_large",
              "request head over the limit of " + std::to_string(opt.max_head_bytes) + " bytes",
              true);
        }
        c->scanned = c->in.size();
        return;
      }
      const std::string head = c->in.substr(0, end);
      c->in.erase(0, end + 4);
      c->scanned = 0;
      StartRequest(c, head);
      // Answered on the loop: the connection is idle again (and `ready` has it) or closed.
      if (c->state != Conn::kBody) return;
    }
  }

  void OnReadable(Conn* c) {
    char buf[64 * 1024];
    if (c->handshaking) {
      switch (ContinueHandshake(c->ssl)) {
        case Handshake::kMore:
          return;
        case Handshake::kFailed:
          return Close(c);
        case Handshake::kDone:
          c->handshaking = false;
          Idle(c);
          break;  // a request may have come with the handshake's last flight
      }
    }
    if (c->state == Conn::kDraining) {
      const ssize_t n = ConnRecv(c->fd, c->ssl, buf, sizeof buf);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        Close(c);
      }
      return;
    }
    // One buffer's worth per wake-up: a fast sender cannot starve the others. (A TLS record is
    // at most 16 KiB and OpenSSL reads no further than the record it decrypts, so nothing
    // stays buffered in the session unseen by epoll.)
    const ssize_t n = ConnRecv(c->fd, c->ssl, buf, sizeof buf);
    if (n > 0) {
      c->in.append(buf, static_cast<size_t>(n));
      Process(c);
      return;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    // The peer closed (or the socket failed): nothing more can come.
    c->peer_closed = true;
    Close(c);
  }

  void Accept() {
    while (true) {
      sockaddr_storage addr{};
      socklen_t len = sizeof addr;
      const int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE) {
          // Out of descriptors: the pending connection keeps the listener readable, which
          // would spin the loop. Free one by shedding the longest idle connection, or stop
          // listening until the next sweep.
          if (!ShedIdle()) PauseAccepting();
        }
        return;  // EAGAIN, or a transient error: try on the next wake-up
      }
      if (conns.size() >= opt.max_connections && !ShedIdle()) {
        ++rejected;
        if (server.tls_on_) {  // no plain answer on a TLS port
          ::close(fd);
          continue;
        }
        HttpRequest none;
        ApiResponse r =
            server.hooks_.error(503, "unavailable", "too many connections; retry", none);
        r.headers.emplace_back("Retry-After", "1");
        const std::string busy =
            ResponseHead(r, static_cast<long long>(r.body.size()), false, false) + r.body;
        [[maybe_unused]] const ssize_t n = ::send(fd, busy.data(), busy.size(), MSG_NOSIGNAL);
        ::close(fd);
        continue;
      }
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto c = std::make_unique<Conn>();
      c->fd = fd;
      char host[INET6_ADDRSTRLEN] = "";
      if (addr.ss_family == AF_INET) {
        ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&addr)->sin_addr, host, sizeof host);
      } else if (addr.ss_family == AF_INET6) {
        ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr, host,
                    sizeof host);
      }
      c->remote = host;
      if (server.tls_on_) {
        c->ssl = server.Tls()->NewSession(fd);
        if (c->ssl == nullptr) {
          ::close(fd);
          continue;
        }
        c->handshaking = true;
      }
      Conn* raw = c.get();
      conns.emplace(fd, std::move(c));
      n_conns = conns.size();
      Idle(raw);
      if (raw->handshaking) raw->deadline = Now() + opt.head_timeout_s;
    }
  }

  // Closes the connection that has been idle longest; false when none is idle.
  bool ShedIdle() {
    Conn* oldest = nullptr;
    for (auto& [fd, c] : conns) {
      if (c->state == Conn::kIdle && c->in.empty() &&
          (!oldest || c->idle_since < oldest->idle_since)) {
        oldest = c.get();
      }
    }
    if (!oldest) return false;
    Close(oldest);
    return true;
  }

  void Sweep() {
    const double now = Now();
    std::vector<Conn*> late;
    for (auto& [fd, c] : conns) {
      if (c->state != Conn::kBusy && now > c->deadline) late.push_back(c.get());
    }
    for (Conn* c : late) {
      if (c->state == Conn::kStreaming) {
        if (c->out_at < c->out.size()) {
          ++timed_out;  // the client stopped reading
          Close(c);
        } else {
          c->out = ":\n\n";  // an SSE comment: keeps proxies and finds dead clients
          StreamFlush(c);
        }
        continue;
      }
      if (c->state == Conn::kDraining) {
        Close(c);  // the normal end of a lingering close
        continue;
      }
      ++timed_out;
      if (c->state == Conn::kHead || c->state == Conn::kBody) {
        const bool head = c->state == Conn::kHead;
        if (head) c->req = HttpRequest{};
        Error(c, 408, "timeout",
              std::string(head ? "request head" : "request body") + " not received in time", true);
      } else {
        Close(c);  // idle past the keep-alive timeout, or a response nobody reads
      }
    }
  }

  void PauseAccepting() {
    if (accept_paused) return;
    ::epoll_ctl(epfd, EPOLL_CTL_DEL, listen_fd, nullptr);
    accept_paused = true;
  }
  void ResumeAccepting() {
    if (!accept_paused || stopping) return;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = listen_fd;
    ::epoll_ctl(epfd, EPOLL_CTL_ADD, listen_fd, &ev);
    accept_paused = false;
  }

  void TakeReturned() {
    std::vector<Returned> back;
    {
      std::lock_guard lock(mu);
      back.swap(returned);
    }
    for (Returned& r : back) {
      Release(r.conn);
      if (r.stream && !stopping) {
        StartStream(r.conn, std::move(r.stream));
      } else if (r.keep_alive && !stopping) {
        Idle(r.conn);
      } else {
        Close(r.conn);
      }
    }
  }

  // --- long-lived streams ---

  void StartStream(Conn* c, StreamOpen open) {
    c->state = Conn::kStreaming;
    c->in.clear();
    c->stream_id = next_stream_id++;
    c->sink = std::make_shared<HubSink>(hub, c->stream_id);
    streams.emplace(c->stream_id, c);
    n_streams = streams.size();
    c->deadline = Now() + opt.stream_heartbeat_s;
    Watch(c, EPOLLIN);
    try {
      open(c->sink);
    } catch (...) {
      Close(c);
    }
  }

  void TakePushes() {
    std::vector<std::pair<uint64_t, std::string>> pushed;
    {
      std::lock_guard lock(hub->mu);
      pushed.swap(hub->pushed);
    }
    std::vector<Conn*> touched;
    for (auto& [id, bytes] : pushed) {
      auto it = streams.find(id);
      if (it == streams.end()) continue;
      Conn* c = it->second;
      if (c->out.size() - c->out_at + bytes.size() > opt.max_stream_backlog) {
        ++timed_out;  // too far behind: the client reconnects and catches up from its last id
        Close(c);
        continue;
      }
      if (c->out.size() == c->out_at) touched.push_back(c);
      c->out += bytes;
    }
    for (Conn* c : touched) {
      if (c->state == Conn::kStreaming) StreamFlush(c);
    }
  }

  // Writes what a stream has buffered without blocking; the rest waits for EPOLLOUT, within
  // the write deadline.
  void StreamFlush(Conn* c) {
    const bool was_waiting = c->events & EPOLLOUT;
    const Sent sent = SendBuffered(c);
    if (sent == Sent::kBlocked) {
      if (!was_waiting) c->deadline = Now() + opt.write_timeout_s;
      return Watch(c, EPOLLIN | EPOLLOUT);
    }
    if (sent == Sent::kFailed) return Close(c);
    c->deadline = Now() + opt.stream_heartbeat_s;
    Watch(c, EPOLLIN);
  }

  void Worker() {
    while (true) {
      Conn* c = nullptr;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return workers_exit || !queue.empty(); });
        if (queue.empty()) return;
        c = queue.front();
        queue.pop_front();
        n_queued = queue.size();
      }
      ++n_busy;
      StreamOpen stream;
      const bool keep = server.Respond(*c->route, c->req, c->fd, c->ssl, c->keep_alive && !stopping,
                                       c->started, &stream);
      --n_busy;
      {
        std::lock_guard lock(mu);
        returned.push_back({c, keep, std::move(stream)});
      }
      Wake();
    }
  }

  bool AnyBusy() const {
    return std::any_of(conns.begin(), conns.end(),
                       [](const auto& kv) { return kv.second->state == Conn::kBusy; });
  }

  void Run() {
    const int n_workers =
        opt.workers > 0 ? opt.workers : std::max(8, 4 * engine::ThreadsOrCores(0));
    for (int i = 0; i < n_workers; ++i) workers.emplace_back([this] { Worker(); });
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = listen_fd;
    ::epoll_ctl(epfd, EPOLL_CTL_ADD, listen_fd, &ev);
    ev.data.fd = wake_fd;
    ::epoll_ctl(epfd, EPOLL_CTL_ADD, wake_fd, &ev);
    double next_sweep = Now() + 0.1, stop_deadline = 0;
    std::vector<epoll_event> events(256);
    while (true) {
      if (stopping && stop_deadline == 0) {
        // Stop accepting; close every connection not in a worker's hands.
        stop_deadline = Now() + opt.stop_timeout_s;
        ::epoll_ctl(epfd, EPOLL_CTL_DEL, listen_fd, nullptr);
        std::vector<Conn*> open;
        for (auto& [fd, c] : conns) {
          if (c->state != Conn::kBusy) open.push_back(c.get());
        }
        for (Conn* c : open) Close(c);
      }
      if (stopping && (!AnyBusy() || Now() > stop_deadline)) break;
      const int n = ::epoll_wait(epfd, events.data(), static_cast<int>(events.size()), 100);
      for (int i = 0; i < n; ++i) {
        const int fd = events[static_cast<size_t>(i)].data.fd;
        const uint32_t what = events[static_cast<size_t>(i)].events;
        if (fd == listen_fd) {
          if (!stopping) Accept();
          continue;
        }
        if (fd == wake_fd) {
          uint64_t v = 0;
          [[maybe_unused]] const ssize_t r = ::read(wake_fd, &v, sizeof v);
          TakeReturned();
          TakePushes();
          continue;
        }
        auto it = conns.find(fd);
        if (it == conns.end()) continue;
        Conn* c = it->second.get();
        if (c->state == Conn::kBusy) continue;
        if (c->state == Conn::kStreaming) {
          if (what & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
            char buf[4096];
            // A client sends nothing.
            const ssize_t got = ConnRecv(c->fd, c->ssl, buf, sizeof buf);
            if (got == 0 ||
                (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
              Close(c);
              continue;
            }
          }
          if (what & EPOLLOUT) StreamFlush(c);
          continue;
        }
        if ((what & EPOLLOUT) && c->state == Conn::kWriting) {
          Flush(c);
        } else if (what & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
          if (c->state == Conn::kWriting) {
            if (what & (EPOLLHUP | EPOLLERR)) Close(c);
          } else {
            OnReadable(c);
          }
        }
      }
      // Connections idle again with pipelined bytes buffered.
      while (!ready.empty()) {
        std::vector<Conn*> batch;
        batch.swap(ready);
        for (Conn* c : batch) {
          if (c->state == Conn::kIdle) Process(c);
        }
      }
      if (Now() >= next_sweep) {
        Sweep();
        ResumeAccepting();
        next_sweep = Now() + 0.1;
      }
      ready.clear();  // only closed connections can be left (Sweep answers close)
      graveyard.clear();
    }
    {
      std::lock_guard lock(mu);
      workers_exit = true;
    }
    cv.notify_all();
    for (std::thread& t : workers) t.join();
    workers.clear();
    TakeReturned();
  }
};

EventServer::EventServer(EventServerOptions options, std::vector<Route> routes,
                         EventServerHooks hooks)
    : options_(std::move(options)), routes_(std::move(routes)), hooks_(std::move(hooks)) {}

EventServer::~EventServer() = default;

std::shared_ptr<const TlsContext> EventServer::Tls() const {
  std::lock_guard lock(tls_mu_);
  return tls_;
}

Status EventServer::ReloadTls() {
  if (!tls_on_) return Status::InvalidArgument("this server does not speak TLS (no --tls-cert)");
  STRIDE_ASSIGN_OR_RETURN(std::unique_ptr<TlsContext> tls,
                          TlsContext::Load(options_.tls_cert_file, options_.tls_key_file));
  std::lock_guard lock(tls_mu_);
  tls_ = std::move(tls);
  return Status::Ok();
}

Status EventServer::Bind() {
  if (!options_.tls_cert_file.empty() || !options_.tls_key_file.empty()) {
    if (options_.tls_cert_file.empty() || options_.tls_key_file.empty()) {
      return Status::InvalidArgument("TLS needs both --tls-cert and --tls-key");
    }
    STRIDE_ASSIGN_OR_RETURN(std::unique_ptr<TlsContext> tls,
                            TlsContext::Load(options_.tls_cert_file, options_.tls_key_file));
    std::lock_guard lock(tls_mu_);
    tls_ = std::move(tls);
    tls_on_ = true;
  }
  loop_ = std::make_unique<Loop>(*this);
  addrinfo hints{}, *res = nullptr;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  const std::string port = std::to_string(options_.port);
  if (::getaddrinfo(options_.bind.c_str(), port.c_str(), &hints, &res) != 0 || !res) {
    return Status::Unavailable("cannot resolve the address " + options_.bind);
  }
  int fd = -1;
  for (addrinfo* ai = res; ai && fd < 0; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd, 4096) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(res);
  if (fd < 0) {
    return Status::Unavailable("cannot bind " + options_.bind + ":" + port +
                               " (in use, or not an address of this machine?)");
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  loop_->listen_fd = fd;
  loop_->epfd = ::epoll_create1(EPOLL_CLOEXEC);
  loop_->wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  loop_->hub->wake_fd = loop_->wake_fd;
  if (loop_->epfd < 0 || loop_->wake_fd < 0) return Status::Internal("epoll/eventfd failed");
  return Status::Ok();
}

Status EventServer::Serve() {
  if (!loop_ || loop_->listen_fd < 0) return Status::Internal("Serve() before Bind()");
  loop_->Run();
  port_ = 0;
  return Status::Ok();
}

void EventServer::Stop() {
  if (!loop_) return;
  loop_->stopping = true;
  if (loop_->wake_fd >= 0) loop_->Wake();
}

EventServerStats EventServer::stats() const {
  EventServerStats s;
  if (!loop_) return s;
  s.connections = loop_->n_conns;
  s.queued = loop_->n_queued;
  s.busy_workers = loop_->n_busy;
  s.rejected_busy = loop_->rejected;
  s.timed_out = loop_->timed_out;
  s.streams = loop_->n_streams;
  return s;
}

bool EventServer::OriginAllowed(std::string_view origin) const {
  if (origin.empty()) return false;
  for (const std::string& o : options_.cors_origins) {
    if (o == "*" || o == origin) return true;
  }
  return false;
}

void EventServer::Decorate(HttpRequest& req, ApiResponse* r) const {
  for (auto& h : req.response_headers) r->headers.push_back(std::move(h));
  req.response_headers.clear();
  auto has = [r](std::string_view name) {
    return std::any_of(r->headers.begin(), r->headers.end(),
                       [name](const auto& h) { return EqualsNoCase(h.first, name); });
  };
  // An API answer is data, never a page: nothing in it may run, frame it or leak the URL.
  if (!has("Content-Security-Policy")) {
    r->headers.emplace_back("Content-Security-Policy",
                            "default-src 'none'; frame-ancestors 'none'");
  }
  if (!has("Referrer-Policy")) r->headers.emplace_back("Referrer-Policy", "no-referrer");
  // Served over TLS: browsers are to keep to HTTPS for this host for a year.
  if (tls_on_ && !has("Strict-Transport-Security")) {
    r->headers.emplace_back("Strict-Transport-Security", "max-age=31536000");
  }
  // What a token opened is the caller's own: no cache, shared or the browser's, keeps it.
  if (req.HasHeader("Authorization") && !has("Cache-Control")) {
    r->headers.emplace_back("Cache-Control", "private, no-store");
  }
  const std::string& origin = req.Header("Origin");
  if (OriginAllowed(origin) && !has("Access-Control-Allow-Origin")) {
    r->headers.emplace_back("Access-Control-Allow-Origin", origin);
    r->headers.emplace_back("Vary", "Origin");
    r->headers.emplace_back("Access-Control-Expose-Headers", kCorsExposed);
  }
}

ApiResponse EventServer::Handle(const Route& route, HttpRequest& req) const {
  if (!req.body.empty() && EqualsNoCase(req.Header("Content-Encoding"), "gzip")) {
    Result<std::string> plain = Gunzip(req.body, route.max_body);
    if (!plain.ok()) {
      const bool big = plain.status().code() == StatusCode::kResourceExhausted;
      return hooks_.error(big ? 413 : 400, big ? "too_large" : "invalid_argument",
                          plain.status().message() + " for " + route.pattern, req);
    }
    req.body = std::move(plain).value();
  }
  ApiResponse r;
  std::string thrown;
  try {
    r = route.handler(req);
  } catch (const std::exception& e) {
    thrown = std::string("the handler threw: ") + e.what();
  } catch (...) {
    thrown = "the handler threw a non-standard exception";
  }
  if (!thrown.empty()) {
    Incident i = NewIncident("internal error", thrown);
    r = hooks_.error(500, "internal", i.message, req);
    r.incident = std::move(i.detail);
  }
  if (!r.incident.empty()) {
    if (hooks_.incident) hooks_.incident(req, r.status, r.incident);
    r.incident.clear();
  }
  return r;
}

bool EventServer::Respond(const Route& route, HttpRequest& req, int fd, SSL* ssl, bool keep_alive,
                          double started, StreamOpen* stream) const {
  ApiResponse r = Handle(route, req);
  Decorate(req, &r);
  const bool head_only = req.method == "HEAD";
  const double deadline_base = Now() + options_.write_timeout_s;
  bool ok = true;
  size_t sent_body = 0;
  if (r.open_stream && !head_only) {
    // A long-lived stream: the head and the first bytes now, the rest from the loop.
    if (hooks_.done) hooks_.done(req, &route, r.status, r.body.size(), Now() - started);
    const std::string head = ResponseHead(r, kUntilClose, false, false);
    ok = SendAll(fd, ssl, head + r.body,
                 deadline_base + static_cast<double>(r.body.size()) / options_.min_body_rate);
    if (ok) *stream = std::move(r.open_stream);
    return false;
  }
  if (r.stream && !head_only) {
    ok = SendAll(fd, ssl, ResponseHead(r, kChunked, false, keep_alive), deadline_base);
    std::string chunk;
    bool clean = false;
    while (ok) {
      chunk.clear();
      const StreamStep step = r.stream(&chunk);
      if (step == StreamStep::kAbort) break;
      if (step == StreamStep::kDone) {
        clean = true;
        break;
      }
      if (chunk.empty()) continue;
      char size_line[32];
      std::snprintf(size_line, sizeof size_line, "%zx\r\n", chunk.size());
      chunk.insert(0, size_line);
      chunk += "\r\n";
      ok = SendAll(fd, ssl, chunk,
                   Now() + options_.write_timeout_s +
                       static_cast<double>(chunk.size()) / options_.min_body_rate);
      sent_body += chunk.size();
    }
    if (ok && clean) ok = SendAll(fd, ssl, "0\r\n\r\n", Now() + options_.write_timeout_s);
    // A stream cut short must not look complete: close without the last chunk.
    if (!clean) ok = false;
    if (hooks_.done) hooks_.done(req, &route, r.status, sent_body, Now() - started);
  } else {
    const bool gz = MaybeGzip(req, &r, options_.gzip_min_bytes);
    // Recorded before the answer leaves: a client that reads /metrics right after its
    // response finds its request counted.
    if (hooks_.done) hooks_.done(req, &route, r.status, r.body.size(), Now() - started);
    std::string out = ResponseHead(r, static_cast<long long>(r.body.size()), gz, keep_alive);
    const double deadline =
        deadline_base + static_cast<double>(r.body.size()) / options_.min_body_rate;
    if (head_only || r.status == 204) {
      ok = SendAll(fd, ssl, out, deadline);
    } else if (r.body.size() <= 64 * 1024) {
      out += r.body;
      ok = SendAll(fd, ssl, out, deadline);
    } else {
      ok = SendAll(fd, ssl, out, deadline) && SendAll(fd, ssl, r.body, deadline);
    }
  }
  return ok && keep_alive;
}

}  // namespace stride::server::http
