// SPDX-License-Identifier: Apache-2.0
//
// The FIT CRC-16 (reflected polynomial 0xA001), shared by the FIT reader
// (importers/activity), the FIT workout writer (engine/training/fit_workout) and the test
// data writer (datasets/). Thread-safety: pure function.
#pragma once

#include <cstddef>
#include <cstdint>

namespace stride::engine {

// CRC of `n` bytes at `p`, continuing from `crc` (0 to start).
uint16_t FitCrc16(const uint8_t* p, size_t n, uint16_t crc = 0);

}  // namespace stride::engine
