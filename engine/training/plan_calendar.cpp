// SPDX-License-Identifier: Apache-2.0
#include "engine/training/plan_calendar.hpp"

#include <cmath>
#include <cstdio>

#include "engine/text/iso_time.hpp"
#include "engine/time/time_zone.hpp"

namespace stride::engine {
namespace {

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == ';' || c == ',') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c != '\r') {
      out += c;
    }
  }
  return out;
}

// One content line, folded at 75 octets without splitting a UTF-8 sequence.
void Line(std::string* out, const std::string& line) {
  size_t pos = 0, limit = 75;
  while (line.size() - pos > limit) {
    size_t cut = pos + limit;
    while (cut > pos && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
    out->append(line, pos, cut - pos);
    out->append("\r\n ");
    pos = cut;
    limit = 74;  // the leading space counts
  }
  out->append(line, pos, std::string::npos);
  out->append("\r\n");
}

std::string Compact(int64_t day) {
  std::string d = FormatDate(day);  // YYYY-MM-DD
  return d.substr(0, 4) + d.substr(5, 2) + d.substr(8, 2);
}

std::string Km(double m) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f km", m / 1000);
  return buf;
}

std::string Title(WorkoutType t) {
  std::string s(WorkoutTypeName(t));
  s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

std::string StepText(const WorkoutStep& s) {
  std::string what = s.kind == "warmup"     ? "Warm-up "
                     : s.kind == "cooldown" ? "Cool-down "
                     : s.kind == "recovery" ? "Recovery jogs "
                                            : "";
  if (s.repeat > 1) what += std::to_string(s.repeat) + " x ";
  return what + Km(s.distance_m) + " at " + FormatPace(s.pace_s_per_km) + "/km";
}

}  // namespace

std::string FormatPace(double s_per_km) {
  if (!std::isfinite(s_per_km) || s_per_km <= 0) return "-";
  const long total = std::lround(s_per_km);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%ld:%02ld", total / 60, total % 60);
  return buf;
}

std::string PlanICalendar(const std::vector<PlannedDay>& days, const CalendarOptions& o) {
  std::string out;
  Line(&out, "BEGIN:VCALENDAR");
  Line(&out, "VERSION:2.0");
  Line(&out, "PRODID:-//Stride//Training plan//EN");
  Line(&out, "CALSCALE:GREGORIAN");
  Line(&out, "METHOD:PUBLISH");
  Line(&out, "X-WR-CALNAME:" + Escape(o.name));
  std::string stamp = FormatIsoTime(o.now_unix_s);  // 2026-12-10T12:00:00Z
  std::string dtstamp;
  for (char c : stamp) {
    if (c != '-' && c != ':') dtstamp += c;
  }
  for (const PlannedDay& d : days) {
    if (d.type == WorkoutType::kRest) continue;
    std::string description;
    for (const WorkoutStep& s : d.steps) description += StepText(s) + "\n";
    if (!d.phase.empty()) description += "Phase: " + d.phase + "\n";
    if (const auto it = o.reasons.find(d.day); it != o.reasons.end()) {
      for (const std::string& r : it->second) description += "Changed: " + r + "\n";
    }
    if (!description.empty()) description.pop_back();
    Line(&out, "BEGIN:VEVENT");
    Line(&out, "UID:" + Compact(d.day) + "-" + Escape(o.uid_suffix));
    Line(&out, "DTSTAMP:" + dtstamp);
    Line(&out, "DTSTART;VALUE=DATE:" + Compact(d.day));
    Line(&out, "DTEND;VALUE=DATE:" + Compact(d.day + 1));
    Line(&out, "SUMMARY:" + Escape(Title(d.type) + " " + Km(d.distance_m)));
    Line(&out, "DESCRIPTION:" + Escape(description));
    Line(&out, "CATEGORIES:" + std::string(WorkoutTypeName(d.type)));
    Line(&out, "END:VEVENT");
  }
  Line(&out, "END:VCALENDAR");
  return out;
}

}  // namespace stride::engine
