// SPDX-License-Identifier: Apache-2.0
#include "engine/retrieval/bm25.hpp"

#include <algorithm>
#include <cmath>
#include <map>

namespace stride::engine::retrieval {

void KeepBest(std::vector<Scored>* v, size_t k) {
  auto better = [](const Scored& a, const Scored& b) {
    return a.score > b.score || (a.score == b.score && a.slot < b.slot);
  };
  if (v->size() > k) {
    std::partial_sort(v->begin(), v->begin() + static_cast<std::ptrdiff_t>(k), v->end(), better);
    v->resize(k);
  } else {
    std::sort(v->begin(), v->end(), better);
  }
}

void Bm25Index::Put(uint32_t slot, const std::vector<std::string>& terms) {
  Remove(slot);
  std::map<std::string, uint32_t> tf;
  for (const std::string& t : terms) ++tf[t];
  std::vector<std::string>& distinct = terms_[slot];
  for (const auto& [term, n] : tf) {
    postings_[term].push_back({slot, n, static_cast<uint32_t>(terms.size())});
    distinct.push_back(term);
  }
  length_[slot] = static_cast<uint32_t>(terms.size());
  total_length_ += terms.size();
  max_slot_ = std::max(max_slot_, slot);
}

void Bm25Index::Remove(uint32_t slot) {
  auto it = terms_.find(slot);
  if (it == terms_.end()) return;
  for (const std::string& term : it->second) {
    auto p = postings_.find(term);
    if (p == postings_.end()) continue;
    std::vector<Posting>& list = p->second;
    list.erase(std::remove_if(list.begin(), list.end(),
                              [slot](const Posting& x) { return x.slot == slot; }),
               list.end());
    if (list.empty()) postings_.erase(p);
  }
  terms_.erase(it);
  total_length_ -= length_[slot];
  length_.erase(slot);
}

std::vector<Scored> Bm25Index::Search(const std::vector<std::string>& query, size_t k) const {
  if (length_.empty() || k == 0) return {};
  const double n_docs = static_cast<double>(length_.size());
  const double avgdl = static_cast<double>(total_length_) / n_docs;
  std::vector<std::string> q = query;
  std::sort(q.begin(), q.end());
  q.erase(std::unique(q.begin(), q.end()), q.end());  // a repeated query word counts once
  // Scores accumulate in a dense array over the slots (slots are small integers).
  std::vector<double> score(max_slot_ + 1, 0.0);
  std::vector<uint32_t> touched;
  for (const std::string& term : q) {
    auto p = postings_.find(term);
    if (p == postings_.end()) continue;
    const double n = static_cast<double>(p->second.size());
    const double idf = std::log(1 + (n_docs - n + 0.5) / (n + 0.5));
    for (const Posting& x : p->second) {
      const double f = x.tf;
      if (score[x.slot] == 0) touched.push_back(x.slot);
      score[x.slot] += idf * f * (o_.k1 + 1) / (f + o_.k1 * (1 - o_.b + o_.b * x.len / avgdl));
    }
  }
  std::vector<Scored> out;
  out.reserve(touched.size());
  for (uint32_t slot : touched) out.push_back({slot, score[slot]});
  KeepBest(&out, k);
  return out;
}

std::vector<std::string> Bm25Index::Matched(uint32_t slot,
                                            const std::vector<std::string>& query) const {
  std::vector<std::string> out;
  auto it = terms_.find(slot);
  if (it == terms_.end()) return out;
  for (const std::string& q : query) {
    if (std::binary_search(it->second.begin(), it->second.end(), q) &&
        std::find(out.begin(), out.end(), q) == out.end()) {
      out.push_back(q);
    }
  }
  return out;
}

size_t Bm25Index::MemoryBytes() const {
  size_t bytes = 0;
  for (const auto& [term, list] : postings_) {
    bytes += term.capacity() + sizeof(term) + list.capacity() * sizeof(Posting) + 32;
  }
  for (const auto& [slot, terms] : terms_) {
    bytes += terms.capacity() * sizeof(std::string) + 32;
    for (const std::string& t : terms) bytes += t.size() > 15 ? t.capacity() : 0;
  }
  return bytes + length_.size() * 24;
}

}  // namespace stride::engine::retrieval
