// SPDX-License-Identifier: Apache-2.0
//
// The chat memory's documents from a runner's data, written the way runners ask about it:
// the text names the weekday, date, month, time of day, kind of run, distance, time, pace,
// climb, heart rate, places and notes, so that both BM25 and embeddings find "Sunday's long
// run at Pine Ridge" in it; the numbers are also kept as fields for the structured path.
// Used by plugins/chat (from the host's JSON) and datasets/synthetic_chat (the evaluation).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/retrieval/memory.hpp"

namespace stride::engine::retrieval {

struct RunFacts {
  std::string run_id;
  double start_s = 0;  // UTC
  int64_t day = 0;     // local day
  int local_hour = 12;
  std::string sport = "run";
  std::string name;  // the file's name for the activity, e.g. "Long run"
  double distance_m = 0, moving_s = 0;
  double climb_m = std::numeric_limits<double>::quiet_NaN();
  double avg_hr = std::numeric_limits<double>::quiet_NaN();
  std::vector<std::pair<double, double>> efforts;  // (distance m, time s)
  std::vector<double> split_s;                     // per-km splits
  std::vector<std::string> places;                 // routes covered
  std::string notes;
};
Document RunDocument(const RunFacts& run);

// A chat message: `role` "user" or "assistant"; `seq` its number; `in_reply_to` the message
// it answers (a reply is found by what it answered: "what did I say about my knee" finds the
// coach's answer too), or empty.
Document MessageDocument(uint64_t seq, const std::string& role, const std::string& text,
                         double at_s, int64_t day, const std::string& in_reply_to = "");

// A planned day: type ("easy", "long", "threshold", "rest", ...), distance (0 for rest),
// the adjuster's reasons.
Document PlanDayDocument(int64_t day, const std::string& type, double distance_m,
                         const std::string& description, const std::vector<std::string>& reasons);

}  // namespace stride::engine::retrieval
