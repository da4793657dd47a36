// SPDX-License-Identifier: Apache-2.0
//
// The retrieval evaluation: a synthetic runner (datasets/synthetic_chat: a year of runs, 50
// messages, 28 planned days) and 300+ questions whose relevant documents are known by
// construction. Recall@5 (the share of a question's relevant documents in the top 5, out of
// at most 5) and MRR (1 / the rank of the first relevant document in the top 10) for each
// method alone and for the fusion; the fusion must beat each alone and reach recall@5 0.9.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "datasets/synthetic_chat.hpp"
#include "engine/retrieval/memory.hpp"

namespace stride::engine::retrieval {
namespace {

struct Score {
  double recall = 0, mrr = 0;
  int n = 0;
};

Score Evaluate(const Memory& m, const datasets::ChatHistory& h, RetrieveOptions o,
               const std::string& family, std::vector<std::string>* misses = nullptr) {
  Score s;
  o.k = 10;
  for (const datasets::ChatQuestion& q : h.questions) {
    if (!family.empty() && q.family != family) continue;
    Result<Retrieval> r = m.Retrieve(q.text, h.today, o);
    EXPECT_TRUE(r.ok()) << r.status().message();
    if (!r.ok()) continue;
    const std::set<std::string> rel(q.relevant.begin(), q.relevant.end());
    size_t found = 0;
    double rr = 0;
    for (size_t i = 0; i < r->hits.size(); ++i) {
      const bool hit = rel.count(r->hits[i].doc->id) > 0;
      if (hit && i < 5) ++found;
      if (hit && rr == 0) rr = 1.0 / static_cast<double>(i + 1);
    }
    const double recall =
        static_cast<double>(found) / static_cast<double>(std::min<size_t>(rel.size(), 5));
    if (misses && recall < 1) {
      misses->push_back(q.family + ": " + q.text + " -> " +
                        (r->hits.empty() ? std::string("nothing") : r->hits[0].doc->id) +
                        " (want " + q.relevant[0] + ")");
    }
    s.recall += recall;
    s.mrr += rr;
    ++s.n;
  }
  if (s.n > 0) {
    s.recall /= s.n;
    s.mrr /= s.n;
  }
  return s;
}

TEST(RetrievalEvaluation, FusionBeatsEachMethodAlone) {
  const datasets::ChatHistory h = datasets::SyntheticChatHistory();
  ASSERT_GE(h.questions.size(), 300u);
  HashedEmbedder e;
  Memory m(&e, std::make_unique<ExactVectorIndex>(e.Dimensions()));
  ASSERT_TRUE(m.Put(h.docs).ok());

  RetrieveOptions bm25, vectors, structured, fusion;
  bm25.vectors = bm25.structured = false;
  vectors.bm25 = vectors.structured = false;
  structured.bm25 = structured.vectors = false;
  const std::pair<const char*, RetrieveOptions> methods[] = {
      {"bm25", bm25}, {"vectors", vectors}, {"structured", structured}, {"fusion", fusion}};
  std::set<std::string> families;
  for (const datasets::ChatQuestion& q : h.questions) families.insert(q.family);

  std::printf("%zu documents, %zu questions\n%-10s", h.docs.size(), h.questions.size(), "family");
  for (const auto& [name, o] : methods) std::printf(" | %-10s R@5   MRR", name);
  std::printf("\n");
  std::map<std::string, Score> total;
  for (const std::string& f : families) {
    std::printf("%-10s", f.c_str());
    for (const auto& [name, o] : methods) {
      const Score s = Evaluate(m, h, o, f);
      std::printf(" | %4d q     %.3f %.3f", s.n, s.recall, s.mrr);
    }
    std::printf("\n");
  }
  std::vector<std::string> misses;
  std::printf("%-10s", "all");
  for (const auto& [name, o] : methods) {
    total[name] = Evaluate(m, h, o, "", std::string(name) == "fusion" ? &misses : nullptr);
    std::printf(" | %4d q     %.3f %.3f", total[name].n, total[name].recall, total[name].mrr);
  }
  std::printf("\n");
  for (size_t i = 0; i < misses.size() && i < 40; ++i)
    std::printf("  miss: %s\n", misses[i].c_str());

  EXPECT_GE(total["fusion"].recall, 0.9);
  for (const char* alone : {"bm25", "vectors", "structured"}) {
    EXPECT_GT(total["fusion"].recall, total[alone].recall) << alone;
    EXPECT_GT(total["fusion"].mrr, total[alone].mrr) << alone;
  }
}

}  // namespace
}  // namespace stride::engine::retrieval
