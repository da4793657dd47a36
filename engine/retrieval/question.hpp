// SPDX-License-Identifier: Apache-2.0
//
// What a runner's question asks of their own data, read without a language model: the
// structured path of chat retrieval (memory.hpp fuses it with BM25 and vectors).
//
// Understood (English; case and punctuation ignored; days are the runner's local days):
//   dates   "today", "yesterday", "tomorrow", "on Sunday" / "last Sunday" (the latest one up
//           to today; "next Sunday", or a weekday in a question about the plan: the first
//           from today), "this/last/next week" (Monday to Sunday), "this/last month",
//           "this/last year", "in March" (the latest March that has begun), "March 14" /
//           "14 March", "in 2025", "last|past N days|weeks|months", "2026-03-14",
//           "since March" / "since March 14", "since my marathon|half marathon|race" (from
//           the day after the latest such run: resolved against the runs in memory.hpp)
//   order   longest/furthest, shortest, fastest/quickest/best/PR (with a distance: "fastest
//           5 K", "best half marathon" → the best effort at it), slowest, hilliest/most
//           climb, last/latest/most recent run
//   totals  "how far", "how many", "how much", "total", "mileage", "volume"
//   kind    the plan ("plan", "planned", "scheduled", "tomorrow", "next ...", "why" with a
//           weekday), what was said ("I said", "did I mention", "I told you", "we talked"),
//           else runs when any of the above was understood
// Place names are matched in memory.hpp against the places of the runner's own runs.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stride::engine::retrieval {

constexpr int64_t kNoDay = std::numeric_limits<int64_t>::min();

enum class DocKind { kRun, kMessage, kPlanDay, kProfile };
std::string_view DocKindName(DocKind kind);

enum class Order { kNone, kLongest, kShortest, kFastest, kSlowest, kMostClimb, kLatest };
std::string_view OrderName(Order order);

struct Question {
  int64_t from_day = kNoDay;  // inclusive; kNoDay: open
  int64_t to_day = kNoDay;    // inclusive; kNoDay: open
  std::string date_phrase;    // the words that set the range, e.g. "last week"
  std::string since_race;     // "marathon", "half marathon" or "race": resolved by the memory
  Order order = Order::kNone;
  double effort_m = std::numeric_limits<double>::quiet_NaN();  // "fastest 5 K" → 5000
  bool total = false;
  std::optional<DocKind> kind;
  std::vector<std::string> words;  // the question's words (text.hpp Words), for place names

  bool HasDates() const { return from_day != kNoDay || to_day != kNoDay || !since_race.empty(); }
  // True when anything beyond plain words was understood.
  bool Structured() const {
    return HasDates() || order != Order::kNone || total || kind.has_value();
  }
};

// Reads `text` asked on local day `today` (days since 1970-01-01).
Question ParseQuestion(std::string_view text, int64_t today);

// Monday = 0 ... Sunday = 6.
int WeekdayOf(int64_t day);

}  // namespace stride::engine::retrieval
