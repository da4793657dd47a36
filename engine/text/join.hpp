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

// The items of `range`, each made a std::string_view by `view`, separated by `separator`;
// `if_empty` when there are none.
template <typename Range, typename View>
std::string JoinViews(const Range& range, View view, std::string_view separator,
                      std::string_view if_empty) {
  std::string out;
  bool first = true;
  for (const auto& item : range) {
    if (!first) out += separator;
    out += view(item);
    first = false;
  }
  return first ? std::string(if_empty) : out;
}

// The items of `range` (anything whose elements convert to std::string_view): "a, b, c".
template <typename Range>
std::string Join(const Range& range, std::string_view separator = ", ",
                 std::string_view if_empty = "") {
  return JoinViews(
      range, [](const auto& item) { return std::string_view(item); }, separator, if_empty);
}

// The keys of a map-like `map` (elements with .first), joined as Join does.
template <typename Map>
std::string JoinKeys(const Map& map, std::string_view separator = ", ",
                     std::string_view if_empty = "") {
  return JoinViews(
      map, [](const auto& entry) { return std::string_view(entry.first); }, separator, if_empty);
}

}  // namespace stride::engine
