// SPDX-License-Identifier: Apache-2.0
//
// A list for a message or a header: "a, b, c". Errors that name what was expected ("known
// parameters: bbox, limit"), Allow headers and reasons all join names the same way; one
// helper, so none of them grows a leading separator or a missing one.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace stride::engine {

// The items of `range` (anything whose elements convert to std::string_view) separated by
// `separator`; `if_empty` when there are none.
template <typename Range>
std::string Join(const Range& range, std::string_view separator = ", ",
                 std::string_view if_empty = "") {
  std::string out;
  bool first = true;
  for (const auto& item : range) {
    if (!first) out += separator;
    out += std::string_view(item);
    first = false;
  }
  return first ? std::string(if_empty) : out;
}

// The keys of a map-like `range` (elements with .first), joined as Join does.
template <typename Map>
std::string JoinKeys(const Map& map, std::string_view separator = ", ",
                     std::string_view if_empty = "") {
  std::string out;
  bool first = true;
  for (const auto& entry : map) {
    if (!first) out += separator;
    out += std::string_view(entry.first);
    first = false;
  }
  return first ? std::string(if_empty) : out;
}

}  // namespace stride::engine
