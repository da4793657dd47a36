// SPDX-License-Identifier: Apache-2.0
#include "engine/retrieval/documents.hpp"

#include <cmath>
#include <cstdio>

#include "engine/text/duration.hpp"
#include "engine/text/iso_time.hpp"
#include "engine/time/time_zone.hpp"

namespace stride::engine::retrieval {
namespace {

constexpr const char* kWeekday[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                    "Friday", "Saturday", "Sunday"};
constexpr const char* kMonth[] = {"January",   "February", "March",    "April",
                                  "May",       "June",     "July",     "August",
                                  "September", "October",  "November", "December"};

std::string DayWords(int64_t day) {
  long long y = 0;
  unsigned m = 0, d = 0;
  CivilFromDays(day, &y, &m, &d);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%s %u %s %lld (%s)", kWeekday[WeekdayOf(day)], d, kMonth[m - 1],
                y, FormatDate(day).c_str());
  return buf;
}

const char* PartOfDay(int hour) {
  if (hour < 5) return "night";
  if (hour < 12) return "morning";
  if (hour < 14) return "lunchtime";
  if (hour < 18) return "afternoon";
  if (hour < 22) return "evening";
  return "night";
}

std::string Km(double m) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f km", m / 1000);
  return buf;
}

}  // namespace

Document RunDocument(const RunFacts& r) {
  Document d;
  d.id = "run/" + r.run_id;
  d.kind = DocKind::kRun;
  d.day = r.day;
  d.start_s = r.start_s;
  d.distance_m = r.distance_m;
  d.moving_s = r.moving_s;
  d.climb_m = r.climb_m;
  d.efforts = r.efforts;
  d.places = r.places;
  std::string t = (r.name.empty() ? std::string(r.sport) : r.name) + " on " + DayWords(r.day) +
                  " in the " + PartOfDay(r.local_hour) + ": " + Km(r.distance_m) + " in " +
                  FormatDuration(r.moving_s);
  if (r.distance_m > 0) t += " (" + FormatDuration(r.moving_s / r.distance_m * 1000) + " per km)";
  if (!std::isnan(r.climb_m)) t += ", climb " + std::to_string(std::lround(r.climb_m)) + " m";
  if (!std::isnan(r.avg_hr)) {
    t += ", average heart rate " + std::to_string(std::lround(r.avg_hr)) + " bpm";
  }
  if (!r.places.empty()) {
    t += ", at";
    for (size_t i = 0; i < r.places.size(); ++i) t += (i ? ", " : " ") + r.places[i];
  }
  t += ".";
  for (const auto& [m, s] : r.efforts) {
    t += " Best " +
         (m >= 1000 ? std::to_string(std::lround(m / 1000)) + " K"
                    : std::to_string(std::lround(m)) + " m") +
         " " + FormatDuration(s) + ".";
  }
  if (!r.split_s.empty()) {
    t += " Splits:";
    for (size_t i = 0; i < r.split_s.size() && i < 50; ++i) t += " " + FormatDuration(r.split_s[i]);
    t += ".";
  }
  if (!r.notes.empty()) t += " Notes: " + r.notes;
  d.text = std::move(t);
  return d;
}

Document MessageDocument(uint64_t seq, const std::string& role, const std::string& text,
                         double at_s, int64_t day, const std::string& in_reply_to) {
  Document d;
  d.id = "message/" + std::to_string(seq);
  d.kind = DocKind::kMessage;
  d.day = day;
  d.start_s = at_s;
  d.text = (role == "user" ? "I said on " : "Coach said on ") + DayWords(day) + ": " + text;
  if (!in_reply_to.empty()) d.text += " (answering: " + in_reply_to + ")";
  return d;
}

Document PlanDayDocument(int64_t day, const std::string& type, double distance_m,
                         const std::string& description, const std::vector<std::string>& reasons) {
  Document d;
  d.id = "plan/" + FormatDate(day);
  d.kind = DocKind::kPlanDay;
  d.day = day;
  d.distance_m = distance_m > 0 ? distance_m : std::numeric_limits<double>::quiet_NaN();
  std::string t = "Planned for " + DayWords(day) + ": " + type;
  if (distance_m > 0) t += " run, " + Km(distance_m);
  if (!description.empty()) t += ", " + description;
  t += ".";
  if (!reasons.empty()) {
    t += " Changed because:";
    for (const std::string& x : reasons) t += " " + x + ";";
    t.back() = '.';
  }
  d.text = std::move(t);
  return d;
}

}  // namespace stride::engine::retrieval
