// SPDX-License-Identifier: Apache-2.0
//
// Tracks written out: GPX 1.1 (what other tools import), GeoJSON (what maps draw) and encoded
// polylines (what mobile maps draw cheaply). Shared by the run API's track export and the
// synthetic recordings of datasets/. Only points with a position are written; each recorded
// segment (Track::segment_starts) is its own <trkseg> / line, so a pause is not drawn as a
// straight jump.
//
// GPX: lat/lon to 1e-7°, elevation to 1 cm, time in UTC with milliseconds when not whole,
// heart rate as Garmin's TrackPointExtension (prefix `gpxtpx`, declared on the root by
// TracksGpx). GeoJSON: one Feature with a MultiLineString, [lon, lat(, ele)] to 1e-7° and 1 cm;
// its properties carry per-coordinate times (Unix seconds to 1 ms) and heart rate, null when
// absent. Polyline6: Google's encoding at 1e-6°, one per segment with two points or more.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/track/track.hpp"

namespace stride::engine {

// "2023-11-14T22:13:20.250Z"; whole seconds without a fraction.
std::string GpxTime(double unix_s);
// Appends `   <trkpt ...>...</trkpt>\n` for point i. REQUIRES: t.has_position(i).
void AppendGpxTrackPoint(const Track& t, size_t i, std::string* out);
// Text for XML content and attributes: markup characters escaped; control characters XML 1.0
// cannot carry (all but tab, LF, CR) become U+FFFD.
std::string XmlEscape(std::string_view text);

// Calls f(begin, end) for each recorded segment of a track (end exclusive).
template <typename F>
void ForEachSegment(const Track& t, F&& f) {
  const size_t n = t.size();
  std::vector<uint32_t> starts = t.segment_starts;
  if (starts.empty() || starts.front() != 0) starts.insert(starts.begin(), 0);
  for (size_t k = 0; k < starts.size(); ++k) {
    const size_t b = starts[k], e = k + 1 < starts.size() ? starts[k + 1] : n;
    if (b < e && e <= n) f(b, e);
  }
}

// A GPX document with one <trk> per track, each named `name` and typed by its sport.
std::string TracksGpx(const std::vector<Track>& tracks, std::string_view name);
// A GeoJSON Feature; `id` and `sport` go into its properties.
std::string TracksGeoJson(const std::vector<Track>& tracks, std::string_view id,
                          std::string_view sport);
// {"id", "lines": [{"session", "points", "start_time", "polyline6"}]}.
std::string TracksPolyline6Json(const std::vector<Track>& tracks, std::string_view id);

}  // namespace stride::engine
