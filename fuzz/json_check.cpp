// SPDX-License-Identifier: Apache-2.0
#include "fuzz/json_check.hpp"

#include <nlohmann/json.hpp>

namespace stride::fuzz {

bool IsJson(std::string_view text) {
  return nlohmann::json::accept(text);
}

std::string JsonStringMember(std::string_view text, std::string_view key) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return "";
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace stride::fuzz
