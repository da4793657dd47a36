// SPDX-License-Identifier: Apache-2.0
//
// Request paths as clients send them: percent-decoding and segments. Shared by the HTTP
// server's route table and the plugin host's, so both split and decode a path the same way
// (a %2F inside a segment stays inside it: paths are split before decoding).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stride::engine {

// %XX decoded (a '%' not followed by two hex digits is kept as it is); with plus_is_space,
// '+' becomes ' ' (query strings). The result is bytes: validate before treating it as text.
std::string PercentDecode(std::string_view s, bool plus_is_space = false);

// "/v1/runs/ab" -> {"v1", "runs", "ab"} (views into `path`, still encoded); empty unless the
// path starts with '/'. A trailing '/' gives a last empty segment.
std::vector<std::string_view> PathSegments(std::string_view path);

// Whether `pattern` ("/v1/runs/{id}/track"; a last segment {*} takes the rest, zero or more
// segments) matches a path given as its decoded segments. On a match, *params (when given)
// holds each {name} segment as (name, decoded value); a {name} never matches an empty segment.
bool MatchPathPattern(std::string_view pattern, const std::vector<std::string>& decoded,
                      std::vector<std::pair<std::string, std::string>>* params = nullptr);

}  // namespace stride::engine
