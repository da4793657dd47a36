// SPDX-License-Identifier: Apache-2.0
//
// Request bodies name their fields: a field a body does not know is refused, naming it, rather
// than ignored for its default (a misspelt "radius" would otherwise leave radius_m unset).
//
// Thread-safety: pure function.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace stride::engine {

// The first key of the JSON object `j` that is not in `known`; nullopt when every key is (or
// `j` is no object). J is nlohmann::json or ordered_json.
template <typename J>
std::optional<std::string> UnknownKey(const J& j, std::initializer_list<std::string_view> known) {
  if (!j.is_object()) return std::nullopt;
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool found = false;
    for (std::string_view k : known) found = found || it.key() == k;
    if (!found) return it.key();
  }
  return std::nullopt;
}

}  // namespace stride::engine
