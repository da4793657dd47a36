// SPDX-License-Identifier: Apache-2.0
//
// Query parameters of HTTP API v1, parsed to values or to a Status: kInvalidArgument whose
// message names the parameter, the text it got and what was expected ("limit: 0 is out of range
// [1, 500]"), which ErrorFromStatus answers with 400 invalid_argument. No exceptions: an
// endpoint chains parsers with STRIDE_ASSIGN_OR_RETURN and renders the first failure.
//
// Thread-safety: pure functions.
//
//   STRIDE_ASSIGN_OR_RETURN(const size_t limit, Limit(p, "limit", 50, 500));
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.hpp"
#include "engine/text/number.hpp"

namespace stride::server {

using Params = std::map<std::string, std::string>;

// The value of `key`, or nullopt when the request does not have it.
std::optional<std::string> Get(const Params& p, const std::string& key);
// A finite decimal number in [lo, hi]; `key` names it in the error (engine/text/number.hpp).
using engine::ParseNumber;
// ParseNumber of `key` when present; nullopt when absent.
Result<std::optional<double>> OptionalNumber(const Params& p, const std::string& key, double lo,
                                             double hi);
// A page size: `def` when absent, else a whole number in [1, max].
Result<size_t> Limit(const Params& p, const std::string& key, size_t def, size_t max);
// kInvalidArgument naming the first parameter not in `known` (and listing those that are).
Status CheckKnown(const Params& p, const std::vector<std::string>& known);
// "a,b,,c" -> {"a", "b", "", "c"}; "" -> {""}.
std::vector<std::string> SplitComma(const std::string& s);

}  // namespace stride::server
