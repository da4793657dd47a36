// SPDX-License-Identifier: Apache-2.0
//
// One runner's chat memory and its retrieval: documents (runs, messages, plan days, the
// profile) ranked for a question by three methods fused by reciprocal rank.
//
//   bm25        text.hpp terms of the question against each document's text (bm25.hpp)
//   vectors     the question's embedding against each document's (embedding.hpp; the index
//               is a VectorIndex: exact here, HNSW in plugins/chat)
//   structured  question.hpp: the documents of the kind asked about, in the date range (a
//               race in "since my marathon" is the latest run before today of at least 42 km
//               — 20.9 to 22 km for a half — that says "race", else of that distance), at
//               the place named (the question holds
//               every word of one of the runs' place names), ordered as asked (longest,
//               fastest, fastest at a distance by the best effort, ...) or newest first (plan
//               days: nearest to today first)
//   filters     a date range the question names, and the kind when it asks what was said
//               or planned, filter the word and meaning lists too (hard filters first)
//   fusion      RRF(d) = sum over methods of w / (60 + rank(d)), ranks from 1, each list cut
//               at `depth`; the structured list has weight 2, 3 when it orders, the others
//               1; an ordered question's ("longest ...") structured first is its answer and
//               goes first
//
// Every hit says why it was chosen (each method's rank, the matched terms, the cosine, what
// the structured path understood). Not thread-safe: one caller at a time per memory.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/retrieval/bm25.hpp"
#include "engine/retrieval/embedding.hpp"
#include "engine/retrieval/question.hpp"
#include "engine/retrieval/vector_index.hpp"
#include "engine/status.hpp"

namespace stride::engine::retrieval {

struct Document {
  std::string id;  // unique in the memory, e.g. "run/0000000000000001", "message/42"
  DocKind kind = DocKind::kRun;
  std::string text;      // what BM25 and the embedder read
  int64_t day = kNoDay;  // the local day of the run, message or planned day
  double start_s = 0;    // for ordering within a day (runs, messages)
  double distance_m = std::numeric_limits<double>::quiet_NaN();
  double moving_s = std::numeric_limits<double>::quiet_NaN();
  double climb_m = std::numeric_limits<double>::quiet_NaN();
  std::vector<std::pair<double, double>> efforts;  // best efforts (distance m, time s)
  std::vector<std::string> places;                 // route and place names
};

enum class Method { kBm25 = 0, kVectors = 1, kStructured = 2 };

struct RetrieveOptions {
  size_t k = 5;                  // hits returned
  size_t depth = 50;             // each method's list before fusion
  double rrf_k = 60;             // the RRF constant (60: Cormack et al.; Elasticsearch, Vespa, ...)
  double structured_weight = 2;  // the structured list's RRF weight
  double ordered_weight = 3;     // ... when the question asks for an order (longest, ...)
  bool bm25 = true, vectors = true, structured = true;  // which methods run
};

struct Hit {
  const Document* doc = nullptr;
  double score = 0;
  int rank[3] = {0, 0, 0};  // per Method, 1-based; 0 = not in that list
  std::string why;
};

struct Retrieval {
  Question question;
  std::vector<Hit> hits;
  // The structured path's whole selection, ordered (for totals: "how far last week"); empty
  // when the question was not understood.
  std::vector<const Document*> selection;
  int64_t race_day = kNoDay;  // the race "since my ..." resolved to
};

class Memory {
 public:
  // `embedder` outlives the memory; `vectors` matches its dimensions.
  Memory(Embedder* embedder, std::unique_ptr<VectorIndex> vectors)
      : embedder_(embedder), vectors_(std::move(vectors)) {}

  // Adds or replaces documents by id (one embedding call for all).
  Status Put(std::vector<Document> docs);
  bool Remove(const std::string& id);
  const Document* Find(const std::string& id) const;
  size_t size() const { return by_id_.size(); }
  std::vector<const Document*> All() const;
  size_t MemoryBytes() const;

  // The best `options.k` documents for `question` asked on local day `today`.
  Result<Retrieval> Retrieve(std::string_view question, int64_t today,
                             const RetrieveOptions& options = {}) const;

 private:
  std::vector<const Document*> Structured(const Question& q, int64_t today,
                                          int64_t* race_day) const;
  void Unindex(const Document& d);  // drops its places

  Embedder* embedder_;
  std::unique_ptr<VectorIndex> vectors_;
  Bm25Index bm25_;
  std::vector<std::optional<Document>> slots_;
  std::vector<uint8_t> says_race_;  // per slot: the text says "race"
  std::vector<uint32_t> free_;
  std::unordered_map<std::string, uint32_t> by_id_;
  // The place names of the runs, with how many runs have each (the structured path matches
  // questions against these, not against every run).
  std::unordered_map<std::string, size_t> places_;
};

}  // namespace stride::engine::retrieval
