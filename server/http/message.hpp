// SPDX-License-Identifier: Apache-2.0
//
// What the HTTP layer hands an endpoint and takes back: a parsed request (method, decoded path
// and query, headers, the whole body, the verified caller) and a response (status, body or a
// stream of chunks, extra headers). Plain data: no sockets, so endpoints are testable alone.
//
// Thread-safety: plain values.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/auth.hpp"

namespace stride::server {

inline constexpr const char* kJsonType = "application/json";
inline constexpr const char* kProtobufType = "application/x-protobuf";

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;                    // as sent ("GET", "POST", ...)
  std::string target;                    // as sent: path and query, percent-encoded
  std::string path;                      // the target's path, percent-decoded (may hold any byte)
  int version_minor = 1;                 // HTTP/1.x
  HeaderList headers;                    // in order; names as sent
  HeaderList query;                      // decoded ('+' is a space), in order, repeats kept
  std::vector<std::string> path_params;  // the route pattern's {name} segments, decoded
  std::string body;                      // de-chunked and inflated, within the route's limit
  std::string remote_addr;
  Principal principal;  // the verified caller, on routes that need a scope
  // What the admit hook resolved for the handler, so it is not resolved twice (the plugin
  // route and the version that serves it).
  std::shared_ptr<const void> route_state;
  // Headers the admit hook adds to whatever the response is (RateLimit-*).
  HeaderList response_headers;

  // The first header of that name (case-insensitive); empty when absent.
  const std::string& Header(std::string_view name) const;
  bool HasHeader(std::string_view name) const;
};

// A streamed body: called until it returns kDone (the body ended) or kAbort (cut the response
// short, so the client sees a truncated transfer rather than a silently partial one).
enum class StreamStep { kChunk, kDone, kAbort };
using BodyStream = std::function<StreamStep(std::string* chunk)>;

// The client end of a long-lived response (Server-Sent Events): bytes pushed from any thread are
// written by the I/O loop in order, with no worker held. Push returns false once the client is
// gone or fell too far behind (its connection is then closed; an SSE client reconnects with
// Last-Event-ID), and the publisher should drop the sink.
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  virtual bool Push(std::string bytes) = 0;
  virtual bool open() const = 0;
};
// Called once the response head and `body` are on their way: from then on the loop owns the
// connection and writes what the sink is given.
using StreamOpen = std::function<void(std::shared_ptr<StreamSink>)>;

struct ApiResponse {
  ApiResponse() = default;
  ApiResponse(int s, std::string b, const char* type = kJsonType)
      : status(s), body(std::move(b)), content_type(type) {}
  int status = 200;
  std::string body;
  const char* content_type = kJsonType;
  HeaderList headers;  // extra: Location, WWW-Authenticate, ...
  BodyStream stream;   // when set, the body is streamed chunked and `body` is unused
  // When set, a long-lived stream: `body` goes first, then whatever the sink is given, until
  // the client leaves (the body is delimited by the connection's close).
  StreamOpen open_stream;
  // A server error's detail for the operator, never sent: "incident ID: what failed" (a
  // store's path, a database's own error). The body names only the incident id; the server
  // writes this to its error log (EventServerHooks::incident) and clears it.
  std::string incident;
};

// One server error under a new incident id (eight hex digits), so a client's report can be
// matched to the detail without the detail reaching the client: `message` is what the client
// is told, "SAID (incident 1f0c9a2e in the server's log)"; `detail` is ApiResponse::incident,
// "1f0c9a2e: DETAIL".
struct Incident {
  std::string message;
  std::string detail;
};
Incident NewIncident(std::string_view said, std::string_view detail);

bool EqualsNoCase(std::string_view a, std::string_view b);

}  // namespace stride::server
