// SPDX-License-Identifier: Apache-2.0
//
// Okapi BM25 over an in-memory inverted index (one per user's chat memory).
//
//   score(D, Q) = sum over q in Q of IDF(q) * f(q,D) (k1 + 1) / (f(q,D) + k1 (1 - b + b |D|/avgdl))
//   IDF(q)      = ln(1 + (N - n(q) + 0.5) / (n(q) + 0.5))      (Lucene's: never negative)
//
// with k1 = 1.2 and b = 0.75 (Lucene's defaults). Documents are slots (small integers the
// caller assigns); Put replaces a slot's terms. Trade-off: postings are per-term vectors,
// so removing a document costs the length of its terms' postings — deletions are rare (a
// deleted run), searches are not.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace stride::engine::retrieval {

struct Scored {
  uint32_t slot = 0;
  double score = 0;
};

// Keeps the best `k` of `v`, best first (ties: lower slot first); what every ranked list here
// returns.
void KeepBest(std::vector<Scored>* v, size_t k);

struct Bm25Options {
  double k1 = 1.2;
  double b = 0.75;
};

class Bm25Index {
 public:
  explicit Bm25Index(Bm25Options options = {}) : o_(options) {}

  void Put(uint32_t slot, const std::vector<std::string>& terms);
  void Remove(uint32_t slot);
  // The best `k` slots for the query's terms, best first (ties: lower slot first); only
  // slots sharing a term with the query.
  std::vector<Scored> Search(const std::vector<std::string>& query, size_t k) const;
  // The query terms that occur in `slot` (for "why it was chosen").
  std::vector<std::string> Matched(uint32_t slot, const std::vector<std::string>& query) const;

  size_t size() const { return length_.size(); }
  size_t MemoryBytes() const;

 private:
  struct Posting {
    uint32_t slot;
    uint32_t tf;
    uint32_t len;  // |D|, kept here so a search touches only the postings
  };
  Bm25Options o_;
  std::unordered_map<std::string, std::vector<Posting>> postings_;
  std::unordered_map<uint32_t, std::vector<std::string>> terms_;  // slot -> distinct terms
  std::unordered_map<uint32_t, uint32_t> length_;                 // slot -> |D|
  uint64_t total_length_ = 0;
  uint32_t max_slot_ = 0;
};

}  // namespace stride::engine::retrieval
