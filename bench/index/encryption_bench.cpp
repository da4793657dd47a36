// SPDX-License-Identifier: Apache-2.0
//
// What encryption at rest costs, against the same work in plaintext in the same run: storing
// and reading a 10 km run (its GPX as uploaded, 1 s streams) in the run database with and
// without data keys, sealing and opening alone, and a data key read from its file (the first
// access of a user after a start or a cache eviction).
//
//   ninja -C build-release stride_encryption_bench && build-release/bench/stride_encryption_bench
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>

#include "datasets/synthetic_activity.hpp"
#include "index/store/data_keys.hpp"
#include "index/store/run_db.hpp"

namespace stride::index {
namespace {
namespace fs = std::filesystem;

const std::string kRing = "k=" + std::string(64, '7');

engine::Run TenKm() {
  datasets::SyntheticRunOptions o;
  o.laps = 6;  // ~10.8 km at 1 s
  engine::Run r;
  const datasets::SyntheticRun run = datasets::MakeSyntheticRun(o);
  r.summary.user_id = "runner";
  r.summary.start_time_s = 1.7e9;
  r.summary.format = "gpx";
  r.summary.sport = "run";
  r.original = datasets::WriteGpx(run.recorded);
  r.tracks.push_back(run.recorded);
  return r;
}

struct Fixture {
  explicit Fixture(bool sealed) {
    dir = (fs::path("/tmp") / ("stride_enc_bench_" + std::to_string(::getpid()))).string();
    fs::remove_all(dir);
    keys = FileDataKeys::Open(dir + "/keys", KeyRing::Parse(kRing, "bench").value(), {}).value();
    RunDb::Options o;
    o.sync = false;
    if (sealed) o.data_keys = keys.get();
    db = RunDb::Open(dir + "/runs", o).value();
  }
  ~Fixture() {
    db.reset();
    keys.reset();
    fs::remove_all(dir);
  }
  std::string dir;
  std::unique_ptr<FileDataKeys> keys;
  std::unique_ptr<RunDb> db;
};

void BM_RunPut(benchmark::State& state) {
  const engine::Run run = TenKm();
  Fixture f(state.range(0) != 0);
  for (auto _ : state) benchmark::DoNotOptimize(f.db->Put(run, "").value().id);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * run.original.size()));
  state.SetLabel(state.range(0) ? "sealed" : "plaintext");
}
// A fixed count: a longer run reaches RocksDB's L0 compactions and write slowdowns, which
// would be measured instead of the sealing.
BENCHMARK(BM_RunPut)->Arg(0)->Arg(1)->Iterations(300)->Unit(benchmark::kMicrosecond);

void BM_RunGet(benchmark::State& state) {
  const engine::Run run = TenKm();
  Fixture f(state.range(0) != 0);
  const uint64_t id = f.db->Put(run, "").value().id;
  engine::RunParts parts;
  parts.original = true;
  parts.tracks = true;
  for (auto _ : state) benchmark::DoNotOptimize(f.db->Get("runner", id, parts).value());
  state.SetLabel(state.range(0) ? "sealed" : "plaintext");
}
BENCHMARK(BM_RunGet)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void BM_RunList(benchmark::State& state) {
  const engine::Run run = TenKm();
  Fixture f(state.range(0) != 0);
  for (int i = 0; i < 50; ++i) f.db->Put(run, "").value();
  for (auto _ : state) benchmark::DoNotOptimize(f.db->List("runner", "", 50).value());
  state.SetLabel(state.range(0) ? "sealed, 50 runs" : "plaintext, 50 runs");
}
BENCHMARK(BM_RunList)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void BM_SealOpen(benchmark::State& state) {
  const Key256 key = RandomKey().value();
  const std::string value(static_cast<size_t>(state.range(0)), 'v');
  for (auto _ : state) {
    std::string sealed = SealAesGcm(key, "run_data/runner", value).value();
    benchmark::DoNotOptimize(OpenAesGcm(key, "run_data/runner", sealed).value());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * value.size()));
}
BENCHMARK(BM_SealOpen)->Arg(200)->Arg(64 << 10);

// Every Find reads and unwraps the key file: a one-entry cache and two users alternating.
void BM_DataKeyFromFile(benchmark::State& state) {
  const std::string dir = "/tmp/stride_enc_keys_" + std::to_string(::getpid());
  fs::remove_all(dir);
  FileDataKeys::Options o;
  o.cache_users = 1;
  auto keys = FileDataKeys::Open(dir, KeyRing::Parse(kRing, "bench").value(), o).value();
  keys->GetOrCreate("a").value();
  keys->GetOrCreate("b").value();
  bool flip = false;
  for (auto _ : state) benchmark::DoNotOptimize(keys->Find((flip = !flip) ? "a" : "b").value());
  keys.reset();
  fs::remove_all(dir);
}
BENCHMARK(BM_DataKeyFromFile)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace stride::index

BENCHMARK_MAIN();
