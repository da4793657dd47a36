// SPDX-License-Identifier: Apache-2.0
//
// Searching what a store left on disk: the tests of encryption at rest look for a known
// plaintext in every file under a directory (logs, tables, manifests, key files).
#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace stride::testing {

// How many regular files under `dir` (recursively) hold `needle` as bytes.
inline size_t FilesHolding(const std::string& dir, const std::string& needle) {
  size_t n = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    n += bytes.find(needle) != std::string::npos;
  }
  return n;
}

}  // namespace stride::testing
