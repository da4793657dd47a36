// SPDX-License-Identifier: Apache-2.0
//
// The properties every activity reader promises, checked by the fit, gpx, tcx and activity
// targets: an error says something, on one line of valid UTF-8 (it is printed and put into JSON); a
// track's streams have one length and its text fields are valid UTF-8 (invalid bytes are replaced
// and reported, defect 4 of the hardening issue); the analysis of what was read runs; and the GPX
// export of it is a document the GPX reader reads back (defect 6: control characters in names).
#pragma once

#include <string>
#include <vector>

#include "engine/status.hpp"
#include "engine/text/utf8.hpp"
#include "engine/track/analysis.hpp"
#include "engine/track/track.hpp"
#include "engine/track/track_writers.hpp"
#include "fuzz/fuzz_target.hpp"
#include "importers/activity/activity_reader.hpp"

namespace stride::fuzz {

// Small enough that one input runs in milliseconds, large enough for any seed.
inline importers::ReadLimits FuzzReadLimits() {
  importers::ReadLimits limits;
  limits.max_bytes = size_t{4} << 20;
  limits.max_points = 200'000;
  return limits;
}

inline void CheckTrack(const engine::Track& t) {
  const size_t n = t.size();
  for (const std::vector<double>* s :
       {&t.lat_deg, &t.lon_deg, &t.ele_m, &t.hr_bpm, &t.cadence_rpm, &t.speed_mps, &t.power_w,
        &t.distance_m, &t.temperature_c, &t.gps_accuracy_m}) {
    STRIDE_FUZZ_CHECK(s->size() == n, "every stream has the track's length");
  }
  for (const uint32_t start : t.segment_starts) STRIDE_FUZZ_CHECK(start <= n, "segment start");
  STRIDE_FUZZ_CHECK(engine::IsValidUtf8(t.device), t.device);
  STRIDE_FUZZ_CHECK(engine::IsValidUtf8(t.sport_name), t.sport_name);
  STRIDE_FUZZ_CHECK(engine::IsValidUtf8(t.sub_sport), t.sub_sport);
  for (const std::string& f : t.developer_fields) STRIDE_FUZZ_CHECK(engine::IsValidUtf8(f), f);
  for (const std::string& w : t.warnings) STRIDE_FUZZ_CHECK(engine::IsValidUtf8(w), w);
}

inline void CheckActivity(const Result<engine::Activity>& read) {
  if (!read.ok()) {
    const std::string& message = read.status().message();
    STRIDE_FUZZ_CHECK(!message.empty(), "an error says what was wrong");
    STRIDE_FUZZ_CHECK(engine::IsValidUtf8(message), message);
    STRIDE_FUZZ_CHECK(message.find('\n') == std::string::npos, "one line: " + message);
    return;
  }
  const engine::Activity& activity = read.value();
  STRIDE_FUZZ_CHECK(engine::IsValidUtf8(activity.device), activity.device);
  std::vector<engine::Track> smoothed;
  size_t points = 0;
  for (const engine::Track& session : activity.sessions) {
    CheckTrack(session);
    engine::Analysis a = engine::Analyze(session);
    CheckTrack(a.track);
    points += a.track.CountWithPosition();
    smoothed.push_back(std::move(a.track));
  }
  (void)engine::Totals({});
  // The export, named by the file's own device text, reads back.
  const std::string gpx = engine::TracksGpx(smoothed, activity.device);
  const Result<engine::Activity> back = importers::ReadGpx(gpx, FuzzReadLimits());
  if (points > 0) STRIDE_FUZZ_CHECK(back.ok(), back.status().message() + "\n" + gpx);
  (void)engine::TracksGeoJson(smoothed, activity.device, "run");
  (void)engine::TracksPolyline6Json(smoothed, activity.device);
}

}  // namespace stride::fuzz
