// SPDX-License-Identifier: Apache-2.0
//
// The chat memory at the size of a prolific runner: ~10,000 documents (datasets/synthetic_chat
// with extra runs per day), retrieval in-process over the evaluation's questions. For the HNSW
// graph the plugin uses and, in the same run, the exact scan as the reference: the time to
// build the memory (what the plugin pays on a user's first request or after eviction), its
// bytes, the retrieval p50/p99/max of the fusion and of each method alone, the cost of adding
// one run's document to a built memory (what a stored run costs the plugin after analysis),
// and recall@5 of the fusion on the questions with known answers.
//
//   chat_retrieval [--extra-runs-per-day 27] [--repeat 5] [--hnsw-m 16]
//                  [--hnsw-ef-construction 200] [--hnsw-ef 128]    (one JSON line per index)
#include <cstdint>
#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "bench/server/bench_util.hpp"
#include "datasets/synthetic_chat.hpp"
#include "engine/memory/keep_freed.hpp"
#include "engine/retrieval/documents.hpp"
#include "engine/retrieval/memory.hpp"
#include "plugins/chat/hnsw_index.hpp"

using namespace stride;
using engine::retrieval::Memory;

int main(int argc, char** argv) {
  const int extra = std::stoi(bench::Arg(argc, argv, "--extra-runs-per-day", "27"));
  const int repeat = std::stoi(bench::Arg(argc, argv, "--repeat", "5"));
  datasets::ChatHistoryOptions ho;
  ho.extra_runs_per_day = extra;
  const datasets::ChatHistory h = datasets::SyntheticChatHistory(ho);
  engine::retrieval::HashedEmbedder embedder;
  std::fprintf(stderr, "%zu documents, %zu questions x %d\n", h.docs.size(), h.questions.size(),
               repeat);
  for (const std::string index : {"hnsw", "exact"}) {
    const uint64_t rss0 = engine::ResidentBytes();
    const double t0 = bench::SteadySeconds();
    std::unique_ptr<engine::retrieval::VectorIndex> vi;
    if (index == "hnsw") {
      plugins::chat::HnswOptions hopt;
      hopt.m = std::stoul(bench::Arg(argc, argv, "--hnsw-m", std::to_string(hopt.m)));
      hopt.ef_construction = std::stoul(
          bench::Arg(argc, argv, "--hnsw-ef-construction", std::to_string(hopt.ef_construction)));
      hopt.ef_search =
          std::stoul(bench::Arg(argc, argv, "--hnsw-ef", std::to_string(hopt.ef_search)));
      vi = std::make_unique<plugins::chat::HnswVectorIndex>(embedder.Dimensions(), hopt);
    } else {
      vi = std::make_unique<engine::retrieval::ExactVectorIndex>(embedder.Dimensions());
    }
    Memory m(&embedder, std::move(vi));
    if (!m.Put(h.docs).ok()) return 1;
    const double build_s = bench::SteadySeconds() - t0;
    const uint64_t rss1 = engine::ResidentBytes();

    struct Method {
      const char* name;
      engine::retrieval::RetrieveOptions o;
    };
    std::vector<Method> methods(4);
    methods[0].name = "fusion";
    methods[1].name = "bm25";
    methods[1].o.vectors = methods[1].o.structured = false;
    methods[2].name = "vectors";
    methods[2].o.bm25 = methods[2].o.structured = false;
    methods[3].name = "structured";
    methods[3].o.bm25 = methods[3].o.vectors = false;
    std::string line = "{\"index\":\"" + index + "\",\"documents\":" + std::to_string(m.size());
    char buf[512];
    std::snprintf(buf, sizeof buf, ",\"build_ms\":%.1f,\"memory_bytes\":%zu,\"rss_delta_kib\":%lld",
                  build_s * 1000, m.MemoryBytes(),
                  (static_cast<long long>(rss1) - static_cast<long long>(rss0)) / 1024);
    line += buf;
    for (const Method& method : methods) {
      std::vector<double> ms;
      double recall = 0;
      for (int r = 0; r < repeat; ++r) {
        for (const datasets::ChatQuestion& q : h.questions) {
          const double a = bench::SteadySeconds();
          Result<engine::retrieval::Retrieval> got = m.Retrieve(q.text, h.today, method.o);
          ms.push_back((bench::SteadySeconds() - a) * 1000);
          if (!got.ok() || r > 0) continue;
          const std::set<std::string> rel(q.relevant.begin(), q.relevant.end());
          size_t found = 0;
          for (const auto& hit : got->hits) found += rel.count(hit.doc->id);
          recall +=
              static_cast<double>(found) / static_cast<double>(std::min<size_t>(rel.size(), 5));
        }
      }
      std::snprintf(
          buf, sizeof buf,
          ",\"%s\":{\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,\"recall_at_5\":%.3f}",
          method.name, bench::Percentile(ms, 0.5), bench::Percentile(ms, 0.99),
          bench::Percentile(ms, 1.0), recall / static_cast<double>(h.questions.size()));
      line += buf;
    }
    // One more run's document into the built memory, 200 times (then taken out again).
    std::vector<double> add_ms;
    for (int i = 0; i < 200; ++i) {
      engine::retrieval::RunFacts r = h.runs[static_cast<size_t>(i) % h.runs.size()];
      r.run_id = "bench" + std::to_string(i);
      const double a = bench::SteadySeconds();
      if (!m.Put({engine::retrieval::RunDocument(r)}).ok()) return 1;
      add_ms.push_back((bench::SteadySeconds() - a) * 1000);
    }
    std::snprintf(buf, sizeof buf, ",\"add_run_p50_ms\":%.3f,\"add_run_p99_ms\":%.3f}",
                  bench::Percentile(add_ms, 0.5), bench::Percentile(add_ms, 0.99));
    line += buf;
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  }
  return 0;
}
