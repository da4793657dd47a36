// SPDX-License-Identifier: Apache-2.0
//
// Activity readers: GPX 1.0/1.1, TCX and FIT recordings into engine Tracks, one per session.
//
// The format is detected from the content, never from a file name. Readers take the whole
// file in memory (uploads and CLI files are bounded by ReadLimits) and never throw: bad input
// gives a Status that names the byte offset (FIT) or line (GPX, TCX) and what was expected.
//
// Thread-safety: all functions are pure.
//
//   Result<std::string> bytes = ReadFileBytes("run.fit", ReadLimits{});
//   Result<engine::Activity> act = ReadActivity(*bytes);
//   for (const engine::Track& session : act->sessions) ...
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.hpp"
#include "engine/track/track.hpp"

namespace stride::importers {

enum class ActivityFormat { kUnknown, kGpx, kTcx, kFit };

struct ReadLimits {
  // Largest file accepted, bytes. Default: 256 MiB.
  size_t max_bytes = size_t{256} << 20;
  // Most points (records / trackpoints) accepted in one file. Default: 5,000,000.
  size_t max_points = 5'000'000;
};

// Looks at the first bytes: a FIT header (".FIT" at offset 8), else the XML root element.
ActivityFormat DetectFormat(std::string_view bytes);

Result<engine::Activity> ReadGpx(std::string_view doc, const ReadLimits& limits = {});
Result<engine::Activity> ReadTcx(std::string_view doc, const ReadLimits& limits = {});
Result<engine::Activity> ReadFit(std::string_view bytes, const ReadLimits& limits = {});

// A FIT workout file (file_id type 5): the workout message and its steps, by message index,
// with the profile's raw values (duration_value of a distance step in centimetres, speed
// targets in mm/s; NaN for an invalid value, -1 for an invalid enum). Not a workout file, a bad
// CRC or a truncated file is kInvalidArgument naming the byte.
struct FitWorkoutStep {
  int index = -1;
  int duration_type = -1;  // 0 time, 1 distance, 6 repeat until steps complete, ...
  double duration_value = 0;
  int target_type = -1;  // 0 speed, 1 heart rate, 2 open, ...
  double target_value = 0, target_low = 0, target_high = 0;
  int intensity = -1;  // 0 active, 1 rest, 2 warmup, 3 cooldown, 4 recovery
};
struct FitWorkout {
  std::string name;
  int sport = -1;
  int num_valid_steps = -1;
  std::vector<FitWorkoutStep> steps;
};
Result<FitWorkout> ReadFitWorkout(std::string_view bytes, const ReadLimits& limits = {});

// Detects the format and reads; kInvalidArgument for content that is none of the three.
Result<engine::Activity> ReadActivity(std::string_view bytes, const ReadLimits& limits = {});

// Reads a whole file; kResourceExhausted above limits.max_bytes, kNotFound / kIoError when it
// cannot be read.
Result<std::string> ReadFileBytes(const std::string& path, const ReadLimits& limits = {});

}  // namespace stride::importers
