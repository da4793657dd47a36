// SPDX-License-Identifier: Apache-2.0
//
// TCX (Garmin Training Center). Each <Activity> is a session (a MultiSportSession holds
// several); each <Lap> a device lap whose TotalTimeSeconds and DistanceMeters add up to the
// device totals; each <Track> a recorded segment. Trackpoints may lack a position (indoor,
// HR only). Extensions (ns3:TPX Speed, Watts, RunCadence) are matched by local name.
#include <algorithm>
#include <string>

#include "engine/text/iso_time.hpp"
#include "importers/activity/activity_reader.hpp"
#include "importers/activity/detail/encoding.hpp"
#include "importers/activity/detail/text.hpp"
#include "importers/activity/detail/xml_scanner.hpp"

namespace stride::importers {
namespace {

using detail::XmlScanner;

enum class HrContext { kNone, kPoint, kLapAvg, kLapMax };

void FinishTotals(engine::Track& t) {
  if (t.laps.empty()) return;
  // TCX gives a lap's start and timer time, not its end: a lap ends where the next begins,
  // the last one at the last trackpoint.
  double last_time = engine::kNaN;
  for (double x : t.time_s) {
    if (!std::isnan(x)) last_time = std::isnan(last_time) ? x : std::max(last_time, x);
  }
  for (size_t k = 0; k < t.laps.size(); ++k) {
    engine::Lap& lap = t.laps[k];
    const double end = k + 1 < t.laps.size() ? t.laps[k + 1].start_time_s : last_time;
    if (!std::isnan(lap.start_time_s) && end >= lap.start_time_s)
      lap.elapsed_time_s = end - lap.start_time_s;
  }
  double timer = 0, dist = 0, max_hr = 0;
  bool has_timer = false, has_dist = false, has_max = false;
  for (const engine::Lap& l : t.laps) {
    if (!std::isnan(l.timer_time_s)) timer += l.timer_time_s, has_timer = true;
    if (!std::isnan(l.distance_m)) dist += l.distance_m, has_dist = true;
    if (!std::isnan(l.max_hr_bpm)) max_hr = std::max(max_hr, l.max_hr_bpm), has_max = true;
  }
  if (has_timer) t.device_totals.timer_time_s = timer;
  if (has_dist) t.device_totals.distance_m = dist;
  if (has_max) t.device_totals.max_hr_bpm = max_hr;
}

}  // namespace

Result<engine::Activity> ReadTcx(std::string_view doc, const ReadLimits& limits) {
  std::string utf8;  // the document, when it declares Latin-1 or Windows-1252
  doc = detail::XmlAsUtf8(doc, &utf8);
  XmlScanner x(doc);
  engine::Activity act;
  act.format = "tcx";
  engine::Track track;
  engine::Lap lap;
  engine::TrackPoint p;
  bool root_seen = false, in_activity = false, in_lap = false, in_point = false, in_creator = false;
  HrContext hr = HrContext::kNone;
  detail::IsoTimeParser times;
  size_t points = 0;
  double calories = 0;
  bool has_calories = false;

  auto number = [&](std::string_view what, double* out) {
    const std::string_view text = x.ReadText();
    if (!x.status().ok()) return false;
    if (text.empty()) return false;
    if (detail::ParseDouble(text, out)) return true;
    x.Fail("<" + std::string(what) + "> expected a number, found '" +
           std::string(text.substr(0, 40)) + "'");
    return false;
  };
  auto time = [&](std::string_view what, std::string_view text, double* out) {
    if (engine::ParseIsoTime(text, out)) return true;
    x.Fail(std::string(what) + " expected an ISO 8601 date-time, found '" +
           std::string(text.substr(0, 40)) + "'");
    return false;
  };

  for (auto ev = x.Next(); ev != XmlScanner::kEnd; ev = x.Next()) {
    const std::string_view n = x.name();
    if (ev == XmlScanner::kClose) {
      if (n == "Trackpoint" && in_point) {
        track.Append(p);
        in_point = false;
      } else if (n == "Lap" && in_lap) {
        track.laps.push_back(lap);
        in_lap = false;
      } else if (n == "Activity" && in_activity) {
        FinishTotals(track);
        if (has_calories) track.device_totals.calories_kcal = calories;
        act.sessions.push_back(std::move(track));
        track = engine::Track();
        in_activity = false;
      } else if (n == "Creator") {
        in_creator = false;
      } else if (n == "HeartRateBpm" || n == "AverageHeartRateBpm" || n == "MaximumHeartRateBpm") {
        hr = HrContext::kNone;
      }
      continue;
    }
    if (!root_seen) {
      if (n != "TrainingCenterDatabase") {
        x.Fail("expected root element <TrainingCenterDatabase>, found <" + std::string(n) + ">");
        break;
      }
      root_seen = true;
      continue;
    }
    double v;
    if (in_point) {
      if (n == "Time") {
        const std::string_view text = x.ReadText();
        if (!text.empty() && !times.Parse(text, &p.time_s)) time("<Time>", text, &p.time_s);
      } else if (n == "LatitudeDegrees") {
        if (number(n, &v)) p.lat_deg = v;
      } else if (n == "LongitudeDegrees") {
        if (number(n, &v)) p.lon_deg = v;
      } else if (n == "AltitudeMeters") {
        if (number(n, &v)) p.ele_m = v;
      } else if (n == "DistanceMeters") {
        if (number(n, &v)) p.distance_m = v;
      } else if (n == "HeartRateBpm") {
        hr = HrContext::kPoint;
      } else if (n == "Value" && hr == HrContext::kPoint) {
        if (number(n, &v)) p.hr_bpm = v;
      } else if (n == "Cadence" || n == "RunCadence") {
        if (number(n, &v)) p.cadence_rpm = v;
      } else if (n == "Speed") {
        if (number(n, &v)) p.speed_mps = v;
      } else if (n == "Watts") {
        if (number(n, &v)) p.power_w = v;
      }
      if (!x.status().ok()) break;
      continue;
    }
    if (n == "Activity") {
      track = engine::Track();
      track.format = "tcx";
      std::string_view sport;
      if (x.Attribute("Sport", &sport)) {
        track.sport_name = std::string(sport);
        track.sport = engine::ParseSport(sport);
        if (track.sport == engine::Sport::kUnknown && sport == "Other") {
          track.sport = engine::Sport::kOther;
        }
      }
      in_activity = true;
      calories = 0;
      has_calories = false;
    } else if (!in_activity) {
      continue;  // Folders, Workouts, Courses, Author
    } else if (n == "Lap") {
      lap = engine::Lap();
      std::string_view st;
      if (x.Attribute("StartTime", &st)) {
        if (!time("<Lap StartTime>", st, &lap.start_time_s)) break;
      }
      in_lap = true;
    } else if (n == "Track") {
      track.StartSegment();
    } else if (n == "Trackpoint") {
      if (++points > limits.max_points) {
        return Status::ResourceExhausted("line " + std::to_string(x.LineOf(x.tag_offset())) +
                                         ": more than " + std::to_string(limits.max_points) +
                                         " points");
      }
      p = engine::TrackPoint();
      in_point = true;
    } else if (n == "Creator") {
      in_creator = true;
    } else if (in_creator && n == "Name") {
      const std::string_view name = x.ReadText();
      if (!name.empty()) {
        track.device = std::string(name);
        if (act.device.empty()) act.device = track.device;
      }
    } else if (in_lap) {
      if (n == "TotalTimeSeconds") {
        if (number(n, &v)) lap.timer_time_s = v;
      } else if (n == "DistanceMeters") {
        if (number(n, &v)) lap.distance_m = v;
      } else if (n == "Calories") {
        if (number(n, &v)) calories += v, has_calories = true;
      } else if (n == "AverageHeartRateBpm") {
        hr = HrContext::kLapAvg;
      } else if (n == "MaximumHeartRateBpm") {
        hr = HrContext::kLapMax;
      } else if (n == "Value" && hr == HrContext::kLapAvg) {
        if (number(n, &v)) lap.avg_hr_bpm = v;
      } else if (n == "Value" && hr == HrContext::kLapMax) {
        if (number(n, &v)) lap.max_hr_bpm = v;
      } else if (n == "TriggerMethod") {
        lap.trigger = std::string(x.ReadText());
      }
    }
    if (!x.status().ok()) break;
  }
  if (!x.status().ok()) return x.status();
  if (!root_seen)
    return Status::InvalidArgument("line 1: expected root element <TrainingCenterDatabase>");
  if (act.sessions.empty()) {
    engine::Track empty;
    empty.format = "tcx";
    act.sessions.push_back(std::move(empty));
  }
  for (engine::Track& t : act.sessions) {
    if (t.device.empty()) t.device = act.device;
  }
  detail::RepairText(&act);
  return act;
}

}  // namespace stride::importers
