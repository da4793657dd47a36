// SPDX-License-Identifier: Apache-2.0
#include "engine/retrieval/question.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "engine/retrieval/text.hpp"
#include "engine/text/iso_time.hpp"
#include "engine/time/time_zone.hpp"

namespace stride::engine::retrieval {
namespace {

constexpr std::string_view kMonths[] = {"january",   "february", "march",    "april",
                                        "may",       "june",     "july",     "august",
                                        "september", "october",  "november", "december"};
constexpr std::string_view kMonthsShort[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                             "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::string_view kWeekdays[] = {"monday", "tuesday",  "wednesday", "thursday",
                                          "friday", "saturday", "sunday"};

int MonthOf(std::string_view w) {
  for (int i = 0; i < 12; ++i) {
    if (w == kMonths[i] || (w != "may" && w == kMonthsShort[i] && w != "mar")) return i + 1;
  }
  return 0;
}

int WeekdayWord(std::string_view w) {
  for (int i = 0; i < 7; ++i) {
    if (w == kWeekdays[i] || (w.size() == 3 && kWeekdays[i].substr(0, 3) == w && w != "sat")) {
      return i;
    }
    if (w.size() > 1 && w.back() == 's' && w.substr(0, w.size() - 1) == kWeekdays[i]) return i;
  }
  return -1;
}

// "14", "14th", "1st", "2nd", "3rd" → the day of month, else 0.
int DayOfMonth(std::string_view w) {
  size_t n = 0;
  while (n < w.size() && n < 2 && w[n] >= '0' && w[n] <= '9') ++n;
  if (n == 0) return 0;
  const std::string_view rest = w.substr(n);
  if (!rest.empty() && rest != "st" && rest != "nd" && rest != "rd" && rest != "th") return 0;
  const int d = std::atoi(std::string(w.substr(0, n)).c_str());
  return d >= 1 && d <= 31 ? d : 0;
}

bool Number(std::string_view w, long* out) {
  if (w.empty() || w.size() > 4) return false;
  for (char c : w) {
    if (c < '0' || c > '9') return false;
  }
  *out = std::atol(std::string(w).c_str());
  return true;
}

long long YearOf(int64_t day) {
  long long y = 0;
  unsigned m = 0, d = 0;
  CivilFromDays(day, &y, &m, &d);
  return y;
}

unsigned MonthOfDay(int64_t day) {
  long long y = 0;
  unsigned m = 0, d = 0;
  CivilFromDays(day, &y, &m, &d);
  return m;
}

int64_t MonthStart(long long y, unsigned m) {
  return DaysFromCivil(y, m, 1);
}
int64_t MonthEnd(long long y, unsigned m) {
  return m == 12 ? DaysFromCivil(y + 1, 1, 1) - 1 : DaysFromCivil(y, m + 1, 1) - 1;
}

bool Has(const std::vector<std::string>& w, std::string_view a) {
  return std::find(w.begin(), w.end(), a) != w.end();
}
bool HasPair(const std::vector<std::string>& w, std::string_view a, std::string_view b) {
  for (size_t i = 0; i + 1 < w.size(); ++i) {
    if (w[i] == a && w[i + 1] == b) return true;
  }
  return false;
}

}  // namespace

std::string_view DocKindName(DocKind kind) {
  switch (kind) {
    case DocKind::kRun:
      return "run";
    case DocKind::kMessage:
      return "message";
    case DocKind::kPlanDay:
      return "plan_day";
    case DocKind::kProfile:
      return "profile";
  }
  return "run";
}

std::string_view OrderName(Order order) {
  switch (order) {
    case Order::kNone:
      return "none";
    case Order::kLongest:
      return "longest";
    case Order::kShortest:
      return "shortest";
    case Order::kFastest:
      return "fastest";
    case Order::kSlowest:
      return "slowest";
    case Order::kMostClimb:
      return "most climb";
    case Order::kLatest:
      return "latest";
  }
  return "none";
}

int WeekdayOf(int64_t day) {
  return static_cast<int>(((day + 3) % 7 + 7) % 7);
}

Question ParseQuestion(std::string_view text, int64_t today) {
  Question q;
  q.words = Words(text);
  const std::vector<std::string>& w = q.words;
  const size_t n = w.size();
  auto set_range = [&](int64_t from, int64_t to, std::string phrase) {
    if (q.HasDates()) return;  // the first date phrase wins
    q.from_day = from;
    q.to_day = to;
    q.date_phrase = std::move(phrase);
  };

  // The kind first: a weekday means the next one in a question about the plan.
  const bool said = HasPair(w, "i", "said") || HasPair(w, "i", "mentioned") ||
                    HasPair(w, "i", "mention") || HasPair(w, "i", "told") ||
                    HasPair(w, "i", "asked") || HasPair(w, "we", "talked") ||
                    HasPair(w, "you", "said") || HasPair(w, "i", "say") ||
                    HasPair(w, "i", "tell") || Has(w, "conversation");
  bool weekday_mentioned = false;
  for (const std::string& x : w) weekday_mentioned |= WeekdayWord(x) >= 0;
  bool plan = Has(w, "plan") || Has(w, "planned") || Has(w, "scheduled") || Has(w, "schedule") ||
              Has(w, "tomorrow") || Has(w, "upcoming") || (Has(w, "why") && weekday_mentioned);
  for (size_t i = 0; i + 1 < n; ++i) {
    if (w[i] == "next" && w[i + 1] != "to") plan = true;
  }
  if (said) {
    q.kind = DocKind::kMessage;
  } else if (plan) {
    q.kind = DocKind::kPlanDay;
  }

  // Dates.
  for (size_t i = 0; i < n; ++i) {
    const std::string& x = w[i];
    const std::string prev = i > 0 ? w[i - 1] : "";
    const std::string next = i + 1 < n ? w[i + 1] : "";
    int64_t iso = 0;
    if (i + 2 < n && x.size() == 4 && ParseDate(x + "-" + w[i + 1] + "-" + w[i + 2], &iso)) {
      set_range(iso, iso, x + "-" + w[i + 1] + "-" + w[i + 2]);
      continue;
    }
    if (x == "today") set_range(today, today, "today");
    if (x == "yesterday") set_range(today - 1, today - 1, "yesterday");
    if (x == "tomorrow") set_range(today + 1, today + 1, "tomorrow");
    if (x == "since" && next == "my") {
      std::string race;
      if (i + 3 < n && w[i + 2] == "half" && w[i + 3] == "marathon")
        race = "half marathon";
      else if (i + 2 < n && w[i + 2] == "marathon")
        race = "marathon";
      else if (i + 2 < n && (w[i + 2] == "race" || w[i + 2] == "last"))
        race = "race";
      if (!race.empty() && !q.HasDates()) {
        q.since_race = race;
        q.to_day = today;
        q.date_phrase = "since my " + race;
      }
    }
    if ((x == "week" || x == "month" || x == "year") &&
        (prev == "this" || prev == "last" || prev == "next" || prev == "previous")) {
      const int64_t monday = today - WeekdayOf(today);
      const long long y = YearOf(today);
      const unsigned m = MonthOfDay(today);
      const std::string phrase = prev + " " + x;
      if (x == "week") {
        if (prev == "this")
          set_range(monday, q.kind == DocKind::kPlanDay ? monday + 6 : today, phrase);
        if (prev == "last" || prev == "previous") set_range(monday - 7, monday - 1, phrase);
        if (prev == "next") set_range(monday + 7, monday + 13, phrase);
      } else if (x == "month") {
        if (prev == "this") set_range(MonthStart(y, m), today, phrase);
        if (prev == "last" || prev == "previous") {
          const long long py = m == 1 ? y - 1 : y;
          const unsigned pm = m == 1 ? 12 : m - 1;
          set_range(MonthStart(py, pm), MonthEnd(py, pm), phrase);
        }
        if (prev == "next") {
          const long long ny = m == 12 ? y + 1 : y;
          const unsigned nm = m == 12 ? 1 : m + 1;
          set_range(MonthStart(ny, nm), MonthEnd(ny, nm), phrase);
        }
      } else {
        if (prev == "this") set_range(DaysFromCivil(y, 1, 1), today, phrase);
        if (prev == "last" || prev == "previous") {
          set_range(DaysFromCivil(y - 1, 1, 1), DaysFromCivil(y, 1, 1) - 1, phrase);
        }
      }
    }
    long count = 0;
    if ((x == "last" || x == "past") && i + 2 < n && Number(next, &count) && count > 0 &&
        count < 1000) {
      const std::string& unit = w[i + 2];
      int64_t days = 0;
      if (unit == "days" || unit == "day") days = count;
      if (unit == "weeks" || unit == "week") days = 7 * count;
      if (unit == "months" || unit == "month") days = 30 * count;
      if (days > 0) set_range(today - days + 1, today, x + " " + next + " " + unit);
    }
    if (const int m = MonthOf(x); m > 0) {
      // "March 14", "14 March", "March 2025", "in March", "since March".
      int dom = DayOfMonth(next);
      if (dom == 0) dom = DayOfMonth(prev);
      long year = 0;
      const bool has_year = (Number(next, &year) && year >= 1970 && year <= 2200) ||
                            (i + 2 < n && DayOfMonth(next) > 0 && Number(w[i + 2], &year) &&
                             year >= 1970 && year <= 2200);
      long long y = has_year ? year : YearOf(today);
      const bool since = prev == "since" || (i >= 2 && w[i - 2] == "since" && dom > 0);
      if (dom > 0) {
        int64_t day = DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(dom));
        if (!has_year && day > today && q.kind != DocKind::kPlanDay) {
          day = DaysFromCivil(y - 1, static_cast<unsigned>(m), static_cast<unsigned>(dom));
        }
        if (since)
          set_range(day, today, "since " + x + " " + std::to_string(dom));
        else
          set_range(day, day, x + " " + std::to_string(dom));
      } else if (x != "may" || prev == "in" || prev == "since" || has_year) {
        if (!has_year && MonthStart(y, static_cast<unsigned>(m)) > today) --y;
        if (since)
          set_range(MonthStart(y, static_cast<unsigned>(m)), today, "since " + x);
        else
          set_range(MonthStart(y, static_cast<unsigned>(m)), MonthEnd(y, static_cast<unsigned>(m)),
                    "in " + x);
      }
    }
    long year = 0;
    if (prev == "in" && Number(x, &year) && year >= 1970 && year <= 2200) {
      set_range(DaysFromCivil(year, 1, 1), DaysFromCivil(year + 1, 1, 1) - 1, "in " + x);
    }
    if (const int wd = WeekdayWord(x); wd >= 0) {
      const int today_wd = WeekdayOf(today);
      int64_t day = 0;
      if (prev == "next" || q.kind == DocKind::kPlanDay) {
        day = today + (wd - today_wd + 7) % 7;
        if (prev == "next" && day == today) day += 7;
      } else {
        day = today - (today_wd - wd + 7) % 7;
        if (prev == "last" && day == today) day -= 7;
      }
      set_range(day, day, (prev == "next" || prev == "last" ? prev + " " : "") + x);
    }
  }

  // Order and the effort's distance.
  for (size_t i = 0; i < n; ++i) {
    const std::string& x = w[i];
    const std::string next = i + 1 < n ? w[i + 1] : "";
    if (x == "longest" || x == "furthest" || x == "farthest" || x == "biggest") {
      q.order = Order::kLongest;
    }
    if (x == "shortest") q.order = Order::kShortest;
    if (x == "fastest" || x == "quickest" || x == "best" || x == "pr" || x == "pb" ||
        x == "record") {
      q.order = Order::kFastest;
    }
    if (x == "slowest") q.order = Order::kSlowest;
    if (x == "hilliest" || x == "steepest" ||
        (x == "most" && (next == "climb" || next == "climbing" || next == "elevation" ||
                         next == "ascent" || next == "vert"))) {
      q.order = Order::kMostClimb;
    }
    if ((x == "last" || x == "latest" || x == "recent" || x == "previous") &&
        (next == "run" || next == "runs" || next == "workout" || next == "session" ||
         next == "activity") &&
        q.order == Order::kNone) {
      q.order = Order::kLatest;
    }
  }
  if (q.order == Order::kFastest || q.order == Order::kSlowest) {
    for (size_t i = 0; i < n; ++i) {
      const std::string& x = w[i];
      const std::string next = i + 1 < n ? w[i + 1] : "";
      const std::string prev = i > 0 ? w[i - 1] : "";
      if (i >= 2 && w[i - 2] == "since" && prev == "my") continue;      // "since my marathon"
      if (i >= 3 && w[i - 3] == "since" && w[i - 2] == "my") continue;  // "since my half marathon"
      long km = 0;
      if (x.size() > 1 && x.back() == 'k' && Number(x.substr(0, x.size() - 1), &km))
        q.effort_m = km * 1000.0;
      else if (x.size() > 2 && x.substr(x.size() - 2) == "km" &&
               Number(x.substr(0, x.size() - 2), &km))
        q.effort_m = km * 1000.0;
      else if (Number(x, &km) && (next == "k" || next == "km"))
        q.effort_m = km * 1000.0;
      else if (x == "half" && next == "marathon")
        q.effort_m = 21097.5;
      else if (x == "marathon" && prev != "half")
        q.effort_m = 42195;
      else if (x == "mile")
        q.effort_m = 1609.344;
      if (!std::isnan(q.effort_m)) break;
    }
  }
  q.total = Has(w, "total") || Has(w, "mileage") || Has(w, "volume") || HasPair(w, "how", "far") ||
            HasPair(w, "how", "many") || HasPair(w, "how", "much");
  if (!q.kind && (q.HasDates() || q.order != Order::kNone || q.total)) q.kind = DocKind::kRun;
  return q;
}

}  // namespace stride::engine::retrieval
