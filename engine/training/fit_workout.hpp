// SPDX-License-Identifier: Apache-2.0
//
// A planned day as a FIT workout file (file type 5) a watch can load: file_id, one workout
// message (name, sport running, number of steps) and its workout_step messages, as the FIT
// profile defines them (little-endian, 14-byte header with its CRC, CRC-16 at the end).
//
// Each step is a distance step (duration_value in centimetres) with a speed range around its
// pace (target_type speed, custom_target_value_low/high in mm/s: pace +- `pace_margin_s`
// s/km) and an intensity (warm-up 2, work 0 active, recovery 4, cool-down 3, steady 0). Repeats
// of work with recoveries between them (work x N, recovery x N-1) are written exactly: work,
// recovery, a "repeat until steps complete" step back to the work N-1 times, and the last work.
// A rest day has no workout: the caller answers that it has none.
//
// Thread-safety: pure function.
#pragma once

#include <string>

#include "engine/training/plan.hpp"

namespace stride::engine {

struct FitWorkoutOptions {
  double pace_margin_s = 5;    // the target speed range: pace +- this, per km
  double created_unix_s = 0;   // file_id.time_created
  uint32_t serial_number = 1;  // file_id.serial_number (a watch tells files apart by it)
};

// The file's bytes. `name` is cut to 15 bytes (the workout name most watches show).
std::string FitWorkoutFile(const PlannedDay& day, const std::string& name,
                           const FitWorkoutOptions& options = {});

}  // namespace stride::engine
