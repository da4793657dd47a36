// SPDX-License-Identifier: Apache-2.0
//
// GPX 1.0 and 1.1. Reads <trk>/<trkseg>/<trkpt> (all tracks of a file form one session, each
// <trkseg> a recorded segment); a file without tracks falls back to its <rte>/<rtept>.
// Extensions are matched by local name whatever their namespace: Garmin TrackPointExtension
// (hr, cad, atemp, wtemp, speed), Garmin PowerExtension (PowerInWatts), Cluetrust gpxdata
// (hr, cadence, temp, distance), power, and the GPX 1.0 <speed> element.
#include <cstring>
#include <string>

#include "importers/activity/activity_reader.hpp"
#include "importers/activity/detail/encoding.hpp"
#include "importers/activity/detail/text.hpp"
#include "importers/activity/detail/xml_scanner.hpp"

namespace stride::importers {
namespace {

using detail::XmlScanner;
using engine::TrackPoint;

enum class Field { kNone, kEle, kTime, kHr, kCad, kTemp, kPower, kSpeed, kDistance };

// n == lit without a library call: the length first, then the bytes as a comparison of
// constant size, which the compiler expands in place (string_view's operator== called memcmp:
// 13 % of the time parsing the shared GPX files went to it and its wrapper).
template <size_t N>
inline bool Is(std::string_view n, const char (&lit)[N]) {
  return n.size() == N - 1 && std::memcmp(n.data(), lit, N - 1) == 0;
}

Field PointField(std::string_view n) {
  switch (n.size()) {
    case 2:
      if (Is(n, "hr")) return Field::kHr;
      break;
    case 3:
      if (Is(n, "ele")) return Field::kEle;
      if (Is(n, "cad")) return Field::kCad;
      break;
    case 4:
      if (Is(n, "time")) return Field::kTime;
      if (Is(n, "temp")) return Field::kTemp;
      break;
    case 5:
      if (Is(n, "atemp") || Is(n, "wtemp")) return Field::kTemp;
      if (Is(n, "power") || Is(n, "speed") || Is(n, "watts")) {
        return Is(n, "speed") ? Field::kSpeed : Field::kPower;
      }
      break;
    case 7:
      if (Is(n, "cadence")) return Field::kCad;
      break;
    case 8:
      if (Is(n, "distance")) return Field::kDistance;
      break;
    case 9:
      if (Is(n, "heartrate")) return Field::kHr;
      break;
    case 10:
      if (Is(n, "runcadence")) return Field::kCad;
      break;
    case 12:  // Garmin's PowerExtension; under case 9 until 2026-12-06, so never read
      if (Is(n, "PowerInWatts")) return Field::kPower;
      break;
    default:
      break;
  }
  return Field::kNone;
}

}  // namespace

Result<engine::Activity> ReadGpx(std::string_view doc, const ReadLimits& limits) {
  std::string utf8;  // the document, when it declares Latin-1 or Windows-1252
  doc = detail::XmlAsUtf8(doc, &utf8);
  XmlScanner x(doc);
  engine::Track trk, rte;
  trk.format = rte.format = "gpx";
  trk.Reserve(doc.size() / 160);  // exporters write 80-400 bytes a point: grow at most twice
  bool root_seen = false, in_trk = false, in_point = false, in_meta = false;
  bool point_is_route = false;
  TrackPoint p;
  size_t points = 0;
  std::string creator;
  detail::IsoTimeParser times;
  auto number = [&](std::string_view what, std::string_view text, double* out) {
    if (detail::ParseDouble(text, out)) return true;
    x.Fail("<" + std::string(what) + "> expected a number, found '" +
           std::string(text.substr(0, 40)) + "'");
    return false;
  };
  for (auto ev = x.Next(); ev != XmlScanner::kEnd; ev = x.Next()) {
    const std::string_view n = x.name();
    if (ev == XmlScanner::kClose) {
      if (in_point && (Is(n, "trkpt") || Is(n, "rtept"))) {
        (point_is_route ? rte : trk).Append(p);
        in_point = false;
      } else if (Is(n, "trk")) {
        in_trk = false;
      } else if (Is(n, "metadata")) {
        in_meta = false;
      }
      continue;
    }
    if (!root_seen) {
      if (!Is(n, "gpx")) {
        x.Fail("expected root element <gpx>, found <" + std::string(n) + ">");
        break;
      }
      root_seen = true;
      std::string_view v;
      if (x.Attribute("creator", &v)) creator = std::string(v);
      continue;
    }
    if (in_point) {
      const Field f = PointField(n);
      if (f == Field::kNone) continue;  // containers (extensions, TrackPointExtension) and others
      const std::string_view text = x.ReadText();
      if (!x.status().ok()) break;
      if (text.empty()) continue;
      double v;
      switch (f) {
        case Field::kTime:
          if (!times.Parse(text, &p.time_s)) {
            x.Fail("<time> expected an ISO 8601 date-time, found '" +
                   std::string(text.substr(0, 40)) + "'");
          }
          break;
        case Field::kEle:
          if (number(n, text, &v)) p.ele_m = v;
          break;
        case Field::kHr:
          if (number(n, text, &v)) p.hr_bpm = v;
          break;
        case Field::kCad:
          if (number(n, text, &v)) p.cadence_rpm = v;
          break;
        case Field::kTemp:
          if (number(n, text, &v)) p.temperature_c = v;
          break;
        case Field::kPower:
          if (number(n, text, &v)) p.power_w = v;
          break;
        case Field::kSpeed:
          if (number(n, text, &v)) p.speed_mps = v;
          break;
        case Field::kDistance:
          if (number(n, text, &v)) p.distance_m = v;
          break;
        case Field::kNone:
          break;
      }
      if (!x.status().ok()) break;
      continue;
    }
    if (Is(n, "trkpt") || Is(n, "rtept")) {
      if (++points > limits.max_points) {
        return Status::ResourceExhausted("line " + std::to_string(x.LineOf(x.tag_offset())) +
                                         ": more than " + std::to_string(limits.max_points) +
                                         " points");
      }
      p = TrackPoint();
      point_is_route = Is(n, "rtept");
      std::string_view v, w;
      double la = 0, lo = 0;
      if (x.RawAttributes("lat", &v, "lon", &w) && detail::ParseDouble(v, &la) &&
          detail::ParseDouble(w, &lo)) {
        p.lat_deg = la;
        p.lon_deg = lo;
        in_point = true;
        continue;
      }
      // The slow way, with entities decoded and a precise error.
      if (!x.Attribute("lat", &v) || !detail::ParseDouble(v, &la)) {
        x.Fail("<" + std::string(n) + "> expected a numeric lat attribute");
        break;
      }
      if (!x.Attribute("lon", &v) || !detail::ParseDouble(v, &lo)) {
        x.Fail("<" + std::string(n) + "> expected a numeric lon attribute");
        break;
      }
      p.lat_deg = la;
      p.lon_deg = lo;
      in_point = true;
    } else if (Is(n, "trk")) {
      in_trk = true;
      trk.StartSegment();
    } else if (Is(n, "trkseg")) {
      trk.StartSegment();
    } else if (Is(n, "metadata")) {
      in_meta = true;
    } else if (in_trk && Is(n, "type")) {
      const std::string_view t = x.ReadText();
      if (!t.empty() && trk.sport_name.empty()) trk.sport_name = std::string(t);
    } else if (Is(n, "wpt") || (in_meta && Is(n, "extensions"))) {
      x.Skip();
    }
  }
  if (!x.status().ok()) return x.status();
  if (!root_seen) return Status::InvalidArgument("line 1: expected root element <gpx>");
  engine::Track& chosen = trk.empty() && !rte.empty() ? rte : trk;
  chosen.device = creator;
  chosen.sport = engine::ParseSport(chosen.sport_name);
  if (chosen.sport == engine::Sport::kUnknown && !chosen.sport_name.empty()) {
    // Common exporter words that are not plain sport names.
    const std::string& s = chosen.sport_name;
    if (s.find("bik") != std::string::npos || s.find("cycl") != std::string::npos ||
        s.find("Ride") != std::string::npos || s.find("ride") != std::string::npos) {
      chosen.sport = engine::Sport::kRide;
    } else if (s.find("run") != std::string::npos || s.find("Run") != std::string::npos) {
      chosen.sport = engine::Sport::kRun;
    } else if (s.find("hik") != std::string::npos || s.find("Hik") != std::string::npos) {
      chosen.sport = engine::Sport::kHike;
    } else if (s.find("walk") != std::string::npos || s.find("Walk") != std::string::npos) {
      chosen.sport = engine::Sport::kWalk;
    }
  }
  engine::Activity act;
  act.format = "gpx";
  act.device = creator;
  act.sessions.push_back(std::move(chosen));
  detail::RepairText(&act);
  return act;
}

}  // namespace stride::importers
