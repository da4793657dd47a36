// SPDX-License-Identifier: Apache-2.0
//
// The iCalendar feed against RFC 5545's rules: CRLF lines of at most 75 octets, folding that
// never splits a UTF-8 sequence, escaped text, one all-day event per planned run.
#include "engine/training/plan_calendar.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "engine/text/iso_time.hpp"
#include "engine/text/utf8.hpp"

namespace stride::engine {
namespace {

std::vector<std::string> Unfolded(const std::string& text) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t end = text.find("\r\n", pos);
    EXPECT_NE(end, std::string::npos) << "a line without CRLF";
    if (end == std::string::npos) break;
    const std::string physical = text.substr(pos, end - pos);
    EXPECT_LE(physical.size(), 75u) << physical;
    EXPECT_EQ(ValidUtf8(physical), physical) << "folding split a UTF-8 sequence";
    if (!physical.empty() && physical[0] == ' ') {
      lines.back() += physical.substr(1);
    } else {
      lines.push_back(physical);
    }
    pos = end + 2;
  }
  return lines;
}

std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      ++i;
      out += s[i] == 'n' ? '\n' : s[i];
    } else {
      out += s[i];
    }
  }
  return out;
}

TEST(PlanCalendar, OneAllDayEventPerRunFoldedAndEscapedAsRfc5545Says) {
  const int64_t d = DaysFromCivil(2026, 12, 15);
  PlannedDay intervals;
  intervals.day = d;
  intervals.type = WorkoutType::kIntervals;
  intervals.phase = "build";
  intervals.steps = {{"warmup", 2000, 380, 1},
                     {"work", 1000, 250, 5},
                     {"recovery", 400, 380, 4},
                     {"cooldown", 1500, 380, 1}};
  intervals.distance_m = 10100;
  PlannedDay rest;
  rest.day = d + 1;
  PlannedDay easy;
  easy.day = d + 2;
  easy.type = WorkoutType::kEasy;
  easy.steps = {{"steady", 8000, 381, 1}};
  easy.distance_m = 8000;
  CalendarOptions o;
  o.uid_suffix = "9f2c@stride";
  o.now_unix_s = static_cast<double>(DaysFromCivil(2026, 12, 10)) * 86400 + 12 * 3600;
  const std::string why =
      "readiness 42 (low): slept 5.5 h, sore; Ærøskøbing ∑ ünïcödé text long enough to be folded "
      "twice over the 75-octet limit of a content line";
  o.reasons[d + 2] = {why};
  const std::string ics = PlanICalendar({intervals, rest, easy}, o);
  const std::vector<std::string> lines = Unfolded(ics);
  ASSERT_GE(lines.size(), 4u);
  EXPECT_EQ(lines.front(), "BEGIN:VCALENDAR");
  EXPECT_EQ(lines[1], "VERSION:2.0");
  EXPECT_EQ(lines.back(), "END:VCALENDAR");
  std::vector<std::map<std::string, std::string>> events;
  for (const std::string& l : lines) {
    if (l == "BEGIN:VEVENT") events.emplace_back();
    const size_t colon = l.find(':');
    if (!events.empty() && colon != std::string::npos)
      events.back()[l.substr(0, colon)] = l.substr(colon + 1);
  }
  ASSERT_EQ(events.size(), 2u);  // the rest day has none
  EXPECT_EQ(events[0]["UID"], "20261215-9f2c@stride");
  EXPECT_EQ(events[0]["DTSTART;VALUE=DATE"], "20261215");
  EXPECT_EQ(events[0]["DTEND;VALUE=DATE"], "20261216");
  EXPECT_EQ(events[0]["DTSTAMP"], "20261210T120000Z");
  EXPECT_EQ(events[0]["SUMMARY"], "Intervals 10.1 km");
  EXPECT_EQ(Unescape(events[0]["DESCRIPTION"]),
            "Warm-up 2.0 km at 6:20/km\n5 x 1.0 km at 4:10/km\nRecovery jogs 4 x 0.4 km at "
            "6:20/km\nCool-down 1.5 km at 6:20/km\nPhase: build");
  EXPECT_EQ(events[0]["CATEGORIES"], "intervals");
  EXPECT_EQ(events[1]["SUMMARY"], "Easy 8.0 km");
  EXPECT_EQ(Unescape(events[1]["DESCRIPTION"]), "8.0 km at 6:21/km\nChanged: " + why);
  EXPECT_NE(events[1]["DESCRIPTION"].find("slept 5.5 h\\, sore\\;"), std::string::npos);
  EXPECT_EQ(FormatPace(250), "4:10");
  EXPECT_EQ(FormatPace(359.6), "6:00");
}

TEST(PlanCalendar, FoldingNeverSplitsACharacterWhereverTheLimitFalls) {
  PlannedDay easy;
  easy.day = DaysFromCivil(2026, 12, 17);
  easy.type = WorkoutType::kEasy;
  easy.steps = {{"steady", 6000, 380, 1}};
  easy.distance_m = 6000;
  std::string multibyte;
  for (int i = 0; i < 60; ++i) multibyte += "\xc3\xb8";  // ø, two octets
  for (int pad = 0; pad < 4; ++pad) {                    // one of these puts a fold inside an ø
    CalendarOptions o;
    o.reasons[easy.day] = {std::string(static_cast<size_t>(pad), 'x') + multibyte};
    bool found = false;
    for (const std::string& l : Unfolded(PlanICalendar({easy}, o))) {
      found |= l.find(multibyte) != std::string::npos;
    }
    EXPECT_TRUE(found) << pad;
  }
}

}  // namespace
}  // namespace stride::engine
