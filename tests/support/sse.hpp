// SPDX-License-Identifier: Apache-2.0
//
// Server-Sent Events as a client reads them: the request that opens a stream, and the events
// parsed out of what arrived (heartbeat comments skipped; data lines joined and parsed as JSON).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace stride::testing {

struct Sse {
  uint64_t id = 0;
  std::string event;
  nlohmann::json data;
};

inline std::vector<Sse> ParseSse(const std::string& body) {
  std::vector<Sse> out;
  size_t at = 0;
  for (size_t end; (end = body.find("\n\n", at)) != std::string::npos; at = end + 2) {
    Sse e;
    std::string data;
    std::istringstream block(body.substr(at, end - at));
    for (std::string line; std::getline(block, line);) {
      if (line.rfind("id: ", 0) == 0) e.id = std::stoull(line.substr(4));
      if (line.rfind("event: ", 0) == 0) e.event = line.substr(7);
      if (line.rfind("data: ", 0) == 0) data += line.substr(6);
    }
    if (data.empty()) continue;  // a heartbeat comment
    e.data = nlohmann::json::parse(data);
    out.push_back(std::move(e));
  }
  return out;
}

// GET `path` asking for an event stream, with a bearer token and optionally Last-Event-ID.
inline std::string SseRequest(const std::string& path, const std::string& token,
                              const std::string& last_id = "") {
  std::string r = "GET " + path + " HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n" +
                  "Authorization: Bearer " + token + "\r\n";
  if (!last_id.empty()) r += "Last-Event-ID: " + last_id + "\r\n";
  return r + "\r\n";
}

}  // namespace stride::testing
