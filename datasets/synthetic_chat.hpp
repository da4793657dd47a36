// SPDX-License-Identifier: Apache-2.0
//
// A synthetic runner for evaluating chat retrieval: a year of runs (easy, threshold,
// intervals, long runs, a half marathon and a marathon) at generated places with notes,
// 50 chat messages, and 28 planned days with the adjuster's reasons — and questions whose
// relevant documents are known by construction (computed here from the generated facts, not
// by the retrieval code under test).
//
// Question families: a run on a date, longest/shortest/hilliest in a month, fastest efforts
// (in a month, since a race, this year), totals over a range, runs at a place, runs by
// their notes, what was said, and the plan. Deterministic for a seed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/retrieval/documents.hpp"

namespace stride::datasets {

struct ChatHistoryOptions {
  uint64_t seed = 1;
  int64_t today = 20787;  // 2026-11-30, a Monday
  int days = 365;         // of runs before today
  // Extra runs per day (0: the weekly pattern only). The bench's 10,000-document user.
  int extra_runs_per_day = 0;
};

struct ChatQuestion {
  std::string family;  // "date", "month", "effort", "total", "place", "notes", "said", "plan"
  std::string text;
  std::vector<std::string> relevant;  // document ids
};

struct ChatHistory {
  int64_t today = 0;
  std::vector<engine::retrieval::RunFacts> runs;
  std::vector<engine::retrieval::Document> docs;  // runs, messages, plan days
  std::vector<ChatQuestion> questions;
};

ChatHistory SyntheticChatHistory(const ChatHistoryOptions& options = {});

}  // namespace stride::datasets
