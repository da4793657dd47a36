// SPDX-License-Identifier: Apache-2.0
//
// Where the shared test data lives (../shared/datasets beside the repository) and a helper to
// skip a test with a clear message when it is absent.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace stride::testing {

inline std::string DatasetsDir() {
  return STRIDE_DATASETS_DIR;
}
inline bool HaveDatasets() {
  return std::filesystem::is_directory(DatasetsDir() + "/fit");
}

// The shared Andorra GeoTIFF cut to its first 5,000 bytes, written at `path`: its header
// reads, its pixels do not (a DEM that fails only when an analysis first needs it).
inline void WriteCutAndorraDem(const std::string& path) {
  std::ifstream in(DatasetsDir() + "/dem/andorra_srtm3_crop.tif", std::ios::binary);
  std::string head(5000, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  std::ofstream(path, std::ios::binary) << head;
}

}  // namespace stride::testing

#define STRIDE_REQUIRE_DATASETS()                                                         \
  do {                                                                                    \
    if (!::stride::testing::HaveDatasets()) {                                             \
      GTEST_SKIP() << "shared datasets not found at " << ::stride::testing::DatasetsDir() \
                   << " (clone next to ../shared to run this test)";                      \
    }                                                                                     \
  } while (false)
