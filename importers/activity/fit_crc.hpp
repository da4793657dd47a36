// SPDX-License-Identifier: Apache-2.0
//
// The FIT CRC-16 (polynomial 0xA001, nibble table), shared by the decoder and the writer in
// datasets/. Thread-safety: pure function.
#pragma once

#include <cstddef>
#include <cstdint>

namespace stride::importers {

// CRC of `n` bytes at `p`, continuing from `crc` (0 to start).
uint16_t FitCrc16(const uint8_t* p, size_t n, uint16_t crc = 0);

}  // namespace stride::importers
