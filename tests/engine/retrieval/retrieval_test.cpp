// SPDX-License-Identifier: Apache-2.0
//
// Chat retrieval's parts against values worked out by hand: terms, BM25 scores, hashed
// embeddings, the exact vector index, and what questions are understood to ask.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "engine/retrieval/bm25.hpp"
#include "engine/retrieval/documents.hpp"
#include "engine/retrieval/embedding.hpp"
#include "engine/retrieval/memory.hpp"
#include "engine/retrieval/question.hpp"
#include "engine/retrieval/text.hpp"
#include "engine/retrieval/vector_index.hpp"
#include "engine/text/iso_time.hpp"
#include "engine/time/time_zone.hpp"

namespace stride::engine::retrieval {
namespace {

using Strings = std::vector<std::string>;

int64_t Day(int y, unsigned m, unsigned d) {
  return DaysFromCivil(y, m, d);
}

TEST(Terms, FoldRunnersWords) {
  EXPECT_EQ(Terms("How did my 5 K go? Fastest 10km, running intervals!"),
            (Strings{"5k", "fast", "10k", "run", "interval"}));
  EXPECT_EQ(Terms("Tempo at Coll d'Ordino"), (Strings{"threshold", "coll", "d", "ordino"}));
  EXPECT_EQ(Terms("Göteborg stories"), (Strings{"göteborg", "story"}));
  EXPECT_EQ(Words("Pine-Ridge, 2026-03-14"), (Strings{"pine", "ridge", "2026", "03", "14"}));
}

TEST(Bm25, ScoresAsTheFormulaSays) {
  Bm25Index index;
  index.Put(0, {"long", "run", "hill"});
  index.Put(1, {"easy", "run"});
  index.Put(2, {"hill", "hill", "repeat", "track", "cold"});
  // N = 3, avgdl = 10/3; "hill" in 2 docs: IDF = ln(1 + (3 - 2 + 0.5)/(2 + 0.5)) = ln 1.6.
  const double idf = std::log(1.6);
  auto part = [&](double f, double len) {
    return idf * f * 2.2 / (f + 1.2 * (0.25 + 0.75 * len / (10.0 / 3)));
  };
  const std::vector<Scored> s = index.Search({"hill"}, 10);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].slot, 2u);
  EXPECT_NEAR(s[0].score, part(2, 5), 1e-12);
  EXPECT_EQ(s[1].slot, 0u);
  EXPECT_NEAR(s[1].score, part(1, 3), 1e-12);
  // Replacing and removing keep the statistics right.
  index.Remove(2);
  const std::vector<Scored> t = index.Search({"hill"}, 10);
  ASSERT_EQ(t.size(), 1u);
  // N = 2, n = 1, avgdl = 2.5: IDF = ln(1 + 1.5/1.5) = ln 2.
  EXPECT_NEAR(t[0].score, std::log(2.0) * 2.2 / (1 + 1.2 * (0.25 + 0.75 * 3 / 2.5)), 1e-12);
  EXPECT_EQ(index.Matched(0, {"run", "hill", "cold"}), (Strings{"run", "hill"}));
}

TEST(HashedEmbedder, UnitVectorsThatShareNgrams) {
  HashedEmbedder e;
  const std::vector<float> a = e.EmbedOne("felt dizzy in the heat");
  const std::vector<float> b = e.EmbedOne("the run with the dizziness");
  const std::vector<float> c = e.EmbedOne("ferritin came back low");
  ASSERT_EQ(a.size(), 384u);
  EXPECT_NEAR(Dot(a.data(), a.data(), a.size()), 1.0, 1e-5);
  EXPECT_GT(Dot(a.data(), b.data(), a.size()), Dot(a.data(), c.data(), a.size()) + 0.1);
  EXPECT_EQ(e.EmbedOne("felt dizzy in the heat"), a);  // deterministic
  const std::vector<float> empty = e.EmbedOne("the of");
  EXPECT_EQ(Dot(empty.data(), empty.data(), empty.size()), 0.0f);
}

TEST(ExactVectorIndex, FindsTheNearestAndForgets) {
  std::mt19937 rng(7);
  std::normal_distribution<float> g;
  ExactVectorIndex index(16);
  std::vector<std::vector<float>> v(200, std::vector<float>(16));
  for (uint32_t i = 0; i < v.size(); ++i) {
    for (float& x : v[i]) x = g(rng);
    Normalize(&v[i]);
    index.Put(i, v[i]);
  }
  for (uint32_t i = 0; i < 200; i += 17) {
    const std::vector<Scored> s = index.Search(v[i], 3);
    ASSERT_EQ(s.size(), 3u);
    EXPECT_EQ(s[0].slot, i);
    EXPECT_NEAR(s[0].score, 1.0, 1e-5);
    EXPECT_GE(s[1].score, s[2].score);
  }
  index.Remove(17);
  index.Remove(199);
  EXPECT_EQ(index.size(), 198u);
  EXPECT_NE(index.Search(v[17], 1)[0].slot, 17u);
  EXPECT_EQ(index.Search(v[198], 1)[0].slot, 198u);  // the moved row is still found
}

TEST(ParseQuestion, DatesRelativeToToday) {
  const int64_t today = Day(2026, 11, 30);  // a Monday
  Question q = ParseQuestion("How far did I run last week?", today);
  EXPECT_EQ(q.from_day, Day(2026, 11, 23));
  EXPECT_EQ(q.to_day, Day(2026, 11, 29));
  EXPECT_TRUE(q.total);
  EXPECT_EQ(q.kind, DocKind::kRun);
  q = ParseQuestion("What was my longest run in March?", today);
  EXPECT_EQ(q.from_day, Day(2026, 3, 1));
  EXPECT_EQ(q.to_day, Day(2026, 3, 31));
  EXPECT_EQ(q.order, Order::kLongest);
  q = ParseQuestion("longest run in December", today);  // not begun this year: last year's
  EXPECT_EQ(q.from_day, Day(2025, 12, 1));
  q = ParseQuestion("How did my long run go on Sunday?", today);
  EXPECT_EQ(q.from_day, Day(2026, 11, 29));
  EXPECT_EQ(q.to_day, Day(2026, 11, 29));
  q = ParseQuestion("How was my run on 14 March?", today);
  EXPECT_EQ(q.from_day, Day(2026, 3, 14));
  q = ParseQuestion("Tell me about my 2026-02-03 run", today);
  EXPECT_EQ(q.from_day, Day(2026, 2, 3));
  q = ParseQuestion("runs in the past 3 weeks", today);
  EXPECT_EQ(q.from_day, Day(2026, 11, 10));
  EXPECT_EQ(q.to_day, today);
  q = ParseQuestion("What did I run in 2025?", today);
  EXPECT_EQ(q.from_day, Day(2025, 1, 1));
  EXPECT_EQ(q.to_day, Day(2025, 12, 31));
  q = ParseQuestion("How much did I run this month?", today);
  EXPECT_EQ(q.from_day, Day(2026, 11, 1));
  EXPECT_EQ(q.to_day, today);
  q = ParseQuestion("mileage last month", today);
  EXPECT_EQ(q.from_day, Day(2026, 10, 1));
  EXPECT_EQ(q.to_day, Day(2026, 10, 31));
}

TEST(ParseQuestion, PlanMessagesAndEfforts) {
  const int64_t today = Day(2026, 11, 30);
  Question q = ParseQuestion("Why is Thursday easy now?", today);
  EXPECT_EQ(q.kind, DocKind::kPlanDay);
  EXPECT_EQ(q.from_day, Day(2026, 12, 3));
  q = ParseQuestion("What's planned for tomorrow?", today);
  EXPECT_EQ(q.from_day, Day(2026, 12, 1));
  q = ParseQuestion("next monday", today);
  EXPECT_EQ(q.from_day, Day(2026, 12, 7));
  q = ParseQuestion("What did I say about my knee?", today);
  EXPECT_EQ(q.kind, DocKind::kMessage);
  EXPECT_FALSE(q.HasDates());
  q = ParseQuestion("What's my fastest 5 K since my marathon?", today);
  EXPECT_EQ(q.order, Order::kFastest);
  EXPECT_EQ(q.effort_m, 5000);
  EXPECT_EQ(q.since_race, "marathon");
  q = ParseQuestion("fastest 10k since my half marathon", today);
  EXPECT_EQ(q.effort_m, 10000);
  EXPECT_EQ(q.since_race, "half marathon");
  q = ParseQuestion("best half marathon this year", today);
  EXPECT_EQ(q.effort_m, 21097.5);
  EXPECT_EQ(q.from_day, Day(2026, 1, 1));
  q = ParseQuestion("how are you", today);
  EXPECT_FALSE(q.Structured());
}

// A memory of six runs: what each method finds, and why.
TEST(Memory, FusesAndExplains) {
  HashedEmbedder e;
  Memory m(&e, std::make_unique<ExactVectorIndex>(e.Dimensions()));
  const int64_t today = Day(2026, 11, 30);
  std::vector<Document> docs;
  const double km[] = {8, 21.2, 12, 30, 6, 10};
  for (int i = 0; i < 6; ++i) {
    RunFacts r;
    r.run_id = std::to_string(i);
    r.day = today - 1 - 10 * i;
    r.start_s = static_cast<double>(r.day) * 86400 + 8 * 3600;
    r.distance_m = km[i] * 1000;
    r.moving_s = km[i] * 300;
    r.climb_m = 100.0 * i;
    r.places = {i % 2 ? "Pine Ridge" : "Harbour Wall"};
    if (r.distance_m >= 5000) r.efforts.push_back({5000, 1500 - 10.0 * i});
    if (i == 2) r.notes = "felt dizzy in the heat";
    docs.push_back(RunDocument(r));
  }
  docs.push_back(
      MessageDocument(1, "user", "my knee hurts after hill repeats", today * 86400.0, today));
  ASSERT_TRUE(m.Put(docs).ok());
  ASSERT_EQ(m.size(), 7u);

  Result<Retrieval> r = m.Retrieve("What was my longest run at Pine Ridge?", today);
  ASSERT_TRUE(r.ok());
  ASSERT_FALSE(r->hits.empty());
  EXPECT_EQ(r->hits[0].doc->id, "run/3");  // 30 km at Pine Ridge
  EXPECT_EQ(r->hits[0].rank[2], 1);
  EXPECT_NE(r->hits[0].why.find("longest"), std::string::npos) << r->hits[0].why;
  ASSERT_EQ(r->selection.size(), 3u);  // the three Pine Ridge runs, longest first
  EXPECT_EQ(r->selection[1]->id, "run/1");
  EXPECT_EQ(r->selection[2]->id, "run/5");

  r = m.Retrieve("the run where I was dizzy", today);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->hits[0].doc->id, "run/2");
  EXPECT_EQ(r->hits[0].why.rfind("words #1 (run, dizzy); meaning #", 0), 0u) << r->hits[0].why;

  r = m.Retrieve("fastest 5k since my half marathon", today);  // the half: run/1, 11 days ago
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->race_day, today - 11);
  ASSERT_EQ(r->selection.size(), 1u);
  EXPECT_EQ(r->selection[0]->id, "run/0");

  EXPECT_TRUE(m.Remove("run/3"));
  EXPECT_FALSE(m.Remove("run/3"));
  r = m.Retrieve("What was my longest run at Pine Ridge?", today);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->hits[0].doc->id, "run/1");
  // A document put again under its id replaces the old one.
  docs[1].text += " Notes: cold and windy";
  ASSERT_TRUE(m.Put({docs[1]}).ok());
  EXPECT_EQ(m.size(), 6u);
  r = m.Retrieve("the cold windy one", today, {.k = 1});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->hits[0].doc->id, "run/1");
}

}  // namespace
}  // namespace stride::engine::retrieval
