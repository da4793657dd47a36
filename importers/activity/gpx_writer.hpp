// SPDX-License-Identifier: Apache-2.0
//
// The GPX 1.1 track point writer shared by the server's track export and the synthetic
// recordings: lat/lon to 1e-7°, elevation to 1 cm, time in UTC with milliseconds when not
// whole, heart rate as Garmin's TrackPointExtension (the namespace prefix `gpxtpx` must be
// declared on the document's root).
//
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "engine/track/track.hpp"

namespace stride::importers {

// "2023-11-14T22:13:20.250Z"; whole seconds without a fraction.
std::string GpxTime(double unix_s);
// Appends `   <trkpt ...>...</trkpt>\n` for point i. REQUIRES: t.has_position(i).
void AppendGpxTrackPoint(const engine::Track& t, size_t i, std::string* out);

}  // namespace stride::importers
