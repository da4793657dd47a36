// SPDX-License-Identifier: Apache-2.0
//
// Where the shared test data lives (../shared/datasets beside the repository) and a helper to
// skip a test with a clear message when it is absent.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace stride::testing {

inline std::string DatasetsDir() {
  return STRIDE_DATASETS_DIR;
}
inline bool HaveDatasets() {
  return std::filesystem::is_directory(DatasetsDir() + "/fit");
}

}  // namespace stride::testing

#define STRIDE_REQUIRE_DATASETS()                                                         \
  do {                                                                                    \
    if (!::stride::testing::HaveDatasets()) {                                             \
      GTEST_SKIP() << "shared datasets not found at " << ::stride::testing::DatasetsDir() \
                   << " (clone next to ../shared to run this test)";                      \
    }                                                                                     \
  } while (false)
