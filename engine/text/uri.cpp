// SPDX-License-Identifier: Apache-2.0
#include "engine/text/uri.hpp"

#include "engine/hex.hpp"

namespace stride::engine {
std::string PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      const int hi = HexDigitValue(s[i + 1]), lo = HexDigitValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

std::vector<std::string_view> PathSegments(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path.front() != '/') return out;
  size_t b = 1;
  while (true) {
    const size_t e = path.find('/', b);
    out.push_back(path.substr(b, e == std::string_view::npos ? e : e - b));
    if (e == std::string_view::npos) break;
    b = e + 1;
  }
  return out;
}

bool MatchPathPattern(std::string_view pattern, const std::vector<std::string>& decoded,
                      std::vector<std::pair<std::string, std::string>>* params) {
  const std::vector<std::string_view> pat = PathSegments(pattern);
  const bool rest = !pat.empty() && pat.back() == "{*}";
  const size_t fixed = rest ? pat.size() - 1 : pat.size();
  if (rest ? decoded.size() < fixed : decoded.size() != fixed) return false;
  std::vector<std::pair<std::string, std::string>> found;
  for (size_t i = 0; i < fixed; ++i) {
    const std::string_view p = pat[i];
    if (p.size() >= 2 && p.front() == '{' && p.back() == '}') {
      if (decoded[i].empty()) return false;
      found.emplace_back(std::string(p.substr(1, p.size() - 2)), decoded[i]);
    } else if (decoded[i] != p) {
      return false;
    }
  }
  if (params) *params = std::move(found);
  return true;
}

}  // namespace stride::engine
