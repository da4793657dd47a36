// SPDX-License-Identifier: Apache-2.0
#include "engine/track/track_writers.hpp"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "engine/route/route_json.hpp"
#include "engine/text/iso_time.hpp"
#include "engine/text/json_dump.hpp"
#include "engine/text/round.hpp"

namespace stride::engine {
namespace {

using Json = nlohmann::ordered_json;

Json OrNull(double x, double unit) {
  return std::isnan(x) ? Json(nullptr) : Json(RoundTo(x, unit));
}

}  // namespace

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

std::string XmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        // XML 1.0 has no control characters but tab, LF and CR, not even as references.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') {
          out += "\xEF\xBF\xBD";
        } else {
          out.push_back(c);
        }
    }
  }
  return out;
}

std::string TracksGpx(const std::vector<Track>& tracks, std::string_view name) {
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<gpx version=\"1.1\" creator=\"stride\" xmlns=\"http://www.topografix.com/GPX/1/1\" "
      "xmlns:gpxtpx=\"http://www.garmin.com/xmlschemas/TrackPointExtension/v1\">\n";
  for (const Track& t : tracks) {
    out += " <trk><name>" + XmlEscape(name) + "</name><type>" + std::string(SportName(t.sport)) +
           "</type>\n";
    ForEachSegment(t, [&](size_t b, size_t e) {
      out += "  <trkseg>\n";
      for (size_t i = b; i < e; ++i) {
        if (t.has_position(i)) AppendGpxTrackPoint(t, i, &out);
      }
      out += "  </trkseg>\n";
    });
    out += " </trk>\n";
  }
  out += "</gpx>\n";
  return out;
}

std::string TracksGeoJson(const std::vector<Track>& tracks, std::string_view id,
                          std::string_view sport) {
  Json lines = Json::array(), times = Json::array(), hr = Json::array();
  for (const Track& t : tracks) {
    ForEachSegment(t, [&](size_t b, size_t e) {
      Json line = Json::array(), ts = Json::array(), hs = Json::array();
      for (size_t i = b; i < e; ++i) {
        if (!t.has_position(i)) continue;
        Json c = {engine::RoundTo(t.lon_deg[i], 1e-7), engine::RoundTo(t.lat_deg[i], 1e-7)};
        if (!std::isnan(t.ele_m[i])) c.push_back(engine::RoundTo(t.ele_m[i], 0.01));
        line.push_back(std::move(c));
        ts.push_back(OrNull(t.time_s[i], 0.001));
        hs.push_back(OrNull(t.hr_bpm[i], 1));
      }
      if (line.size() < 2) return;
      lines.push_back(std::move(line));
      times.push_back(std::move(ts));
      hr.push_back(std::move(hs));
    });
  }
  const Json j = {{"type", "Feature"},
                  {"geometry", {{"type", "MultiLineString"}, {"coordinates", lines}}},
                  {"properties",
                   {{"id", id},
                    {"sport", sport},
                    {"times", times},  // unix seconds per coordinate, line by line
                    {"heart_rate", hr}}}};
  return DumpJson(j);
}

std::string TracksPolyline6Json(const std::vector<Track>& tracks, std::string_view id) {
  Json lines = Json::array();
  for (size_t k = 0; k < tracks.size(); ++k) {
    const Track& t = tracks[k];
    ForEachSegment(t, [&](size_t b, size_t e) {
      std::vector<PointE7> pts;
      double start = kNaN;
      for (size_t i = b; i < e; ++i) {
        if (!t.has_position(i)) continue;
        if (std::isnan(start)) start = t.time_s[i];
        pts.push_back({static_cast<int32_t>(std::llround(t.lat_deg[i] * 1e7)),
                       static_cast<int32_t>(std::llround(t.lon_deg[i] * 1e7))});
      }
      if (pts.size() < 2) return;
      lines.push_back(
          {{"session", k + 1},
           {"points", pts.size()},
           {"start_time", std::isnan(start) ? Json(nullptr) : Json(FormatIsoTime(start))},
           {"polyline6", EncodePolyline6(pts, 0, pts.size())}});
    });
  }
  return DumpJson(Json{{"id", id}, {"lines", lines}});
}

}  // namespace stride::engine
