// SPDX-License-Identifier: Apache-2.0
#include "importers/activity/gpx_writer.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>

#include "engine/text/iso_time.hpp"

namespace stride::importers {

// Milliseconds when the time has them ("...:05.250Z"), whole seconds otherwise.
std::string GpxTime(double t) {
  std::string out = engine::FormatIsoTime(t, 3);
  if (out.size() > 5 && out.compare(out.size() - 5, 5, ".000Z") == 0) out.erase(out.size() - 5, 4);
  return out;
}

void AppendGpxTrackPoint(const engine::Track& t, size_t i, std::string* out) {
  char buf[200];
  std::snprintf(buf, sizeof buf, "   <trkpt lat=\"%.7f\" lon=\"%.7f\">", t.lat_deg[i],
                t.lon_deg[i]);
  *out += buf;
  if (!std::isnan(t.ele_m[i])) {
    std::snprintf(buf, sizeof buf, "<ele>%.2f</ele>", t.ele_m[i]);
    *out += buf;
  }
  if (!std::isnan(t.time_s[i])) *out += "<time>" + GpxTime(t.time_s[i]) + "</time>";
  if (!std::isnan(t.hr_bpm[i])) {
    std::snprintf(buf, sizeof buf,
                  "<extensions><gpxtpx:TrackPointExtension><gpxtpx:hr>%.0f</gpxtpx:hr>"
                  "</gpxtpx:TrackPointExtension></extensions>",
                  t.hr_bpm[i]);
    *out += buf;
  }
  *out += "</trkpt>\n";
}

}  // namespace stride::importers
