// SPDX-License-Identifier: Apache-2.0
//
// The FIT CRC-16 lives in engine/text/fit_crc.hpp (the workout writer needs it too).
#pragma once

#include "engine/text/fit_crc.hpp"

namespace stride::importers {

using engine::FitCrc16;

}  // namespace stride::importers
