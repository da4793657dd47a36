// SPDX-License-Identifier: Apache-2.0
//
// JSON text that never throws on bad strings: nlohmann::json's dump() throws type_error 316 on
// invalid UTF-8, and a client or a file can put any bytes into a string (a path, a query value,
// a creator). Every document Stride renders goes through DumpJson, which writes U+FFFD for
// invalid bytes instead. (Readers repair file text on the way in as well, and report it.)
//
// Thread-safety: pure function.
#pragma once

#include <string>

namespace stride::engine {

// `j.dump(indent)` with invalid UTF-8 replaced; J is nlohmann::json or ordered_json.
template <typename J>
std::string DumpJson(const J& j, int indent = -1) {
  return j.dump(indent, ' ', false, J::error_handler_t::replace);
}

}  // namespace stride::engine
