// SPDX-License-Identifier: Apache-2.0
#include "server/params.hpp"

#include <algorithm>

#include "engine/text/join.hpp"

namespace stride::server {

std::optional<std::string> Get(const Params& p, const std::string& key) {
  auto it = p.find(key);
  if (it == p.end()) return std::nullopt;
  return it->second;
}

Result<std::optional<double>> OptionalNumber(const Params& p, const std::string& key, double lo,
                                             double hi) {
  const std::optional<std::string> v = Get(p, key);
  if (!v) return std::optional<double>();
  STRIDE_ASSIGN_OR_RETURN(const double x, ParseNumber(key, *v, lo, hi));
  return std::optional<double>(x);
}

Result<size_t> Limit(const Params& p, const std::string& key, size_t def, size_t max) {
  const std::optional<std::string> v = Get(p, key);
  if (!v) return def;
  STRIDE_ASSIGN_OR_RETURN(const int64_t n,
                          engine::ParseWholeNumber(key, *v, 1, static_cast<int64_t>(max)));
  return static_cast<size_t>(n);
}

Status CheckKnown(const Params& p, const std::vector<std::string>& known) {
  for (const auto& [k, v] : p) {
    if (std::find(known.begin(), known.end(), k) != known.end()) continue;
    return Status::InvalidArgument(k + ": unknown parameter (expected " + engine::Join(known) +
                                   ")");
  }
  return Status::Ok();
}

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  size_t b = 0;
  while (b <= s.size()) {
    const size_t e = std::min(s.find(',', b), s.size());
    out.push_back(s.substr(b, e - b));
    b = e + 1;
  }
  return out;
}

}  // namespace stride::server
