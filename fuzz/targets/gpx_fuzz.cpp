// SPDX-License-Identifier: Apache-2.0
//
// The GPX reader (XML scanner, declared encodings, times, extensions).
#include "fuzz/activity_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view doc(reinterpret_cast<const char*>(data), size);
  stride::fuzz::CheckActivity(stride::importers::ReadGpx(doc, stride::fuzz::FuzzReadLimits()));
  return 0;
}
