// SPDX-License-Identifier: Apache-2.0
//
// Reads a ustar archive (what GET /v1/me/export streams) into name -> content, to check an
// export independently of the code that wrote it.
#pragma once

#include <map>
#include <string>

namespace stride::testing {

inline std::map<std::string, std::string> Untar(const std::string& tar) {
  std::map<std::string, std::string> out;
  size_t at = 0;
  while (at + 512 <= tar.size()) {
    const std::string name(tar.c_str() + at);
    if (name.empty()) break;
    const size_t size = std::stoull(tar.substr(at + 124, 11), nullptr, 8);
    out[name] = tar.substr(at + 512, size);
    at += 512 + (size + 511) / 512 * 512;
  }
  return out;
}

}  // namespace stride::testing
