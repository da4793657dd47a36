// SPDX-License-Identifier: Apache-2.0
//
// Format detection and the reader it picks, as `stride analyze` and an upload use them.
#include "fuzz/activity_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const stride::importers::ActivityFormat format = stride::importers::DetectFormat(bytes);
  const auto read = stride::importers::ReadActivity(bytes, stride::fuzz::FuzzReadLimits());
  if (format == stride::importers::ActivityFormat::kUnknown) {
    STRIDE_FUZZ_CHECK(!read.ok(), "an unknown format is refused");
  }
  stride::fuzz::CheckActivity(read);
  return 0;
}
