// SPDX-License-Identifier: Apache-2.0
//
// A training plan as an iCalendar feed (RFC 5545), for the calendar apps runners already use.
//
//   BEGIN:VCALENDAR / VERSION:2.0 / PRODID / CALSCALE:GREGORIAN / METHOD:PUBLISH /
//   X-WR-CALNAME, then per planned run (rest days are left out) one all-day VEVENT:
//     UID          <YYYYMMDD>-<uid_suffix>: stable per runner and day, so a client that
//                  subscribes updates a changed day instead of adding a second one
//     DTSTAMP      when the feed was made (UTC)
//     DTSTART/DTEND;VALUE=DATE   the day and the next
//     SUMMARY      "Intervals 10.1 km"
//     DESCRIPTION  the steps ("Warm-up 2.0 km at 6:20/km", "5 x 1.0 km at 4:10/km", ...), the
//                  phase, and the reasons when the plan changed the day
//     CATEGORIES   the workout type
// Text is escaped (\\ \; \, \n) and lines are folded at 75 octets (CRLF + space), never inside
// a UTF-8 sequence; every line ends in CRLF.
//
// Thread-safety: pure function.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "engine/training/plan.hpp"

namespace stride::engine {

struct CalendarOptions {
  std::string name = "Stride training plan";
  std::string uid_suffix = "stride";  // e.g. a hash of the runner's id, @ a host name
  double now_unix_s = 0;              // DTSTAMP
  // Why a day changed, by day: added to its description.
  std::map<int64_t, std::vector<std::string>> reasons;
};

std::string PlanICalendar(const std::vector<PlannedDay>& days, const CalendarOptions& options);

// "4:10" for 250 s.
std::string FormatPace(double s_per_km);

}  // namespace stride::engine
