// SPDX-License-Identifier: Apache-2.0
//
// Activity import and the track pipeline on the shared recordings:
//   BM_FitDecode/roznet_large     decode fit/bench__roznet_large.fit (2.8 MB, 42,709 records)
//   BM_GpxParseAll                parse every shared GPX file (13.6 MB)
//   BM_GpxPipelineAll             parse + clean + smooth + segment + stats, every GPX file: the
//                                 figure bench/scripts/activity_vs_gpxpy.sh sets against gpxpy
//   BM_AnalyzeFit/roznet_large    the pipeline alone on the largest run
// Items are points, so the rates read as points/s; bytes as MB/s.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/track/analysis.hpp"
#include "importers/activity/activity_reader.hpp"

namespace {

namespace fs = std::filesystem;
using namespace stride;

const std::string kDatasets = STRIDE_DATASETS_DIR;

std::vector<std::string> LoadAll(const std::string& dir, const std::string& ext) {
  std::vector<std::string> paths;
  if (fs::is_directory(dir)) {
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.path().extension() == ext) paths.push_back(e.path().string());
    }
  }
  std::sort(paths.begin(), paths.end());
  std::vector<std::string> out;
  for (const auto& p : paths) {
    Result<std::string> b = importers::ReadFileBytes(p);
    if (b.ok()) out.push_back(std::move(b).value());
  }
  return out;
}

void BM_FitDecode(benchmark::State& state, const std::string& name) {
  Result<std::string> bytes = importers::ReadFileBytes(kDatasets + "/fit/" + name);
  if (!bytes.ok()) {
    state.SkipWithError(("shared datasets missing: " + bytes.status().message()).c_str());
    return;
  }
  size_t points = 0;
  for (auto _ : state) {
    Result<engine::Activity> a = importers::ReadFit(*bytes);
    points = 0;
    for (const auto& s : a->sessions) points += s.size();
    benchmark::DoNotOptimize(points);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * points));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes->size()));
  state.counters["records"] = static_cast<double>(points);
}
BENCHMARK_CAPTURE(BM_FitDecode, roznet_large, std::string("bench__roznet_large.fit"))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_FitDecode, multisport_fenix5x,
                  std::string("bench__gc_MultiSport-2019-11-24_fenix5x.fit"))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void GpxAll(benchmark::State& state, bool analyze) {
  const std::vector<std::string> files = LoadAll(kDatasets + "/gpx", ".gpx");
  if (files.empty()) {
    state.SkipWithError("shared datasets missing");
    return;
  }
  size_t bytes = 0;
  for (const auto& f : files) bytes += f.size();
  size_t points = 0;
  for (auto _ : state) {
    points = 0;
    for (const auto& f : files) {
      Result<engine::Activity> a = importers::ReadGpx(f);
      for (auto& s : a->sessions) {
        points += s.size();
        if (analyze) {
          engine::Analysis an = engine::Analyze(std::move(s));
          benchmark::DoNotOptimize(an.distance_m);
        }
      }
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * points));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.counters["files"] = static_cast<double>(files.size());
  state.counters["points"] = static_cast<double>(points);
}
void BM_GpxParseAll(benchmark::State& state) {
  GpxAll(state, false);
}
void BM_GpxPipelineAll(benchmark::State& state) {
  GpxAll(state, true);
}
BENCHMARK(BM_GpxParseAll)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GpxPipelineAll)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_AnalyzeFit(benchmark::State& state, const std::string& name) {
  Result<std::string> bytes = importers::ReadFileBytes(kDatasets + "/fit/" + name);
  if (!bytes.ok()) {
    state.SkipWithError("shared datasets missing");
    return;
  }
  Result<engine::Activity> a = importers::ReadFit(*bytes);
  const engine::Track& t = a->sessions[0];
  for (auto _ : state) {
    engine::Analysis an = engine::Analyze(t);
    benchmark::DoNotOptimize(an.distance_m);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * t.size()));
}
BENCHMARK_CAPTURE(BM_AnalyzeFit, roznet_large, std::string("bench__roznet_large.fit"))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
