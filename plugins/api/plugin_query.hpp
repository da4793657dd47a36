// SPDX-License-Identifier: Apache-2.0
//
// For plugins written in C++: the error a route handler throws to answer with a status, and the
// query parameters it reads, parsed as strictly as the host's own (server/params.hpp, both on
// engine/text/number.hpp): "limit=10abc", "limit= 5" or "before=-1" are a 400 that names the
// parameter, never 10, 5 or the largest sequence number.
//
// Thread-safety: pure functions.
//
//   const size_t limit = static_cast<size_t>(WholeQuery(query, "limit", 20, 1, 50));
#pragma once

#include <cstdint>
#include <string>

#include "engine/text/number.hpp"

namespace stride::plugins {

// Thrown by a handler, answered as {"error": {"code": code, "message": message}} with `status`.
struct ApiError {
  int status;
  std::string code, message;
};

// The query parameter `key` of `query` (J: nlohmann::json or ordered_json, an object of
// strings) parsed by `parse` (text -> Result<T>): `def` when absent; an ApiError 400
// invalid_argument with the parser's message when it does not parse.
template <class T, class J, class Parse>
T ParsedQuery(const J& query, const char* key, T def, const Parse& parse) {
  const auto it = query.find(key);
  if (it == query.end()) return def;
  const Result<T> v = parse(it->is_string() ? it->template get<std::string>() : std::string());
  if (!v.ok()) throw ApiError{400, "invalid_argument", v.status().message()};
  return *v;
}

// A whole number in [lo, hi].
template <class J>
int64_t WholeQuery(const J& query, const char* key, int64_t def, int64_t lo, int64_t hi) {
  return ParsedQuery<int64_t>(query, key, def, [&](const std::string& text) {
    return engine::ParseWholeNumber(key, text, lo, hi);
  });
}

// A finite number in [lo, hi].
template <class J>
double NumberQuery(const J& query, const char* key, double def, double lo, double hi) {
  return ParsedQuery<double>(query, key, def, [&](const std::string& text) {
    return engine::ParseNumber(key, text, lo, hi);
  });
}

}  // namespace stride::plugins
