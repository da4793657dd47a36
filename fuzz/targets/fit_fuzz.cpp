// SPDX-License-Identifier: Apache-2.0
//
// The FIT reader (activities and workouts): any bytes, as an upload or a watch sync would
// bring them.
#include "fuzz/activity_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  stride::fuzz::CheckActivity(stride::importers::ReadFit(bytes, stride::fuzz::FuzzReadLimits()));
  const auto workout = stride::importers::ReadFitWorkout(bytes, stride::fuzz::FuzzReadLimits());
  if (!workout.ok()) STRIDE_FUZZ_CHECK(!workout.status().message().empty(), "workout error");
  return 0;
}
