// SPDX-License-Identifier: Apache-2.0
#include "importers/activity/gpx_writer.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>

namespace stride::importers {

std::string GpxTime(double t) {
  double whole = std::floor(t);
  int ms = static_cast<int>(std::lround((t - whole) * 1000));
  if (ms == 1000) {
    whole += 1;
    ms = 0;
  }
  const auto secs = static_cast<std::time_t>(whole);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out(buf);
  if (ms > 0) {
    char f[16];
    std::snprintf(f, sizeof f, ".%03d", ms);
    out += f;
  }
  return out + "Z";
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
