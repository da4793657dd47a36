// SPDX-License-Identifier: Apache-2.0
//
// The nightly recalculation of the plans plugin at scale, in process, on the real stores: a
// RocksDB user database (index/store/run_db) with N runners, each with a profile (time zone,
// availability, a goal race) and M months of runs as the plugin keeps them (its per-run
// records), the bundled plans plugin on the real plugin host.
//
//   1. setup: profiles and records written straight into the stores (not timed);
//   2. first plans: GET /v1/plans/current for every runner through the host (timed: the
//      night a plan is made for everyone at once);
//   3. the night: the clock set to 01:05 the next day, PluginHost::Tick() queues one daily
//      tick per runner and Drain() waits until every plan was recalculated (timed).
//
//   plan_nightly --db /tmp/plan-nightly --runners 100000 --months 6
//
// Prints one JSON line: runners, runs, seconds for each phase, runners per second, the peak
// RSS and the database size.
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "engine/run/run.hpp"
#include "engine/text/iso_time.hpp"
#include "engine/text/json_dump.hpp"
#include "engine/time/time_zone.hpp"
#include "index/store/run_db.hpp"
#include "plugins/host/plugin_host.hpp"
#include "plugins/plan/plan.hpp"

using Json = nlohmann::json;
using namespace stride;

namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

uint64_t DirBytes(const std::string& dir) {
  uint64_t n = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) n += e.file_size();
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = "/tmp/plan-nightly";
  int runners = 100000, months = 6;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--db") dir = argv[i + 1];
    if (a == "--runners") runners = std::atoi(argv[i + 1]);
    if (a == "--months") months = std::atoi(argv[i + 1]);
  }
  std::filesystem::remove_all(dir);
  index::RunDb::Options ro;
  ro.sync = false;
  Result<std::unique_ptr<index::RunDb>> db = index::RunDb::Open(dir, ro);
  if (!db.ok()) {
    std::fprintf(stderr, "plan_nightly: %s\n", db.status().message().c_str());
    return 1;
  }
  index::RunDb* runs = db->get();
  engine::KeyValue* host_kv = *runs->HostState();
  engine::KeyValue* plans_kv = *runs->PluginNamespace("plans");

  // 1. Setup. Today is 2026-12-10; the runs go back `months` months, 3-6 a week.
  const int64_t today = engine::DaysFromCivil(2026, 12, 10);
  const int64_t first = today - months * 30;
  std::mt19937 rng(20261210);
  std::uniform_real_distribution<double> u(0, 1);
  const char* days[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  const double goals[] = {5000, 10000, 21097.5, 42195};
  size_t total_runs = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < runners; ++r) {
    const std::string user = "runner" + std::to_string(r);
    Json avail = Json::array();
    for (int d = 0; d < 7; ++d) {
      if (u(rng) < 0.6) avail.push_back(days[d]);
    }
    if (avail.empty()) avail.push_back("sun");
    const double goal = goals[r % 4];
    Json profile = {{"time_zone", "UTC"},
                    {"sex", r % 2 ? "female" : "male"},
                    {"max_hr_bpm", 180 + r % 20},
                    {"rest_hr_bpm", 45 + r % 15},
                    {"availability", {{"days", avail}, {"minutes_per_day", 45 + r % 90}}}};
    if (r % 5 != 0) {
      profile["goal"] = {{"distance_m", goal}, {"date", engine::FormatDate(today + 30 + r % 150)}};
    }
    (void)host_kv->Put(plugins::PluginHost::StoredKey(user, "profile"), engine::DumpJson(profile));
    const double weekly_km = 15 + 60 * u(rng);
    const double pace = 270 + 120 * u(rng);
    uint64_t id = 0;
    for (int64_t day = first; day < today; ++day) {
      if (u(rng) > 0.55) continue;
      const double km = std::max(3.0, weekly_km / 4 * (0.6 + 0.8 * u(rng)));
      const double moving = km * pace * (0.95 + 0.1 * u(rng));
      // The run as GET /v1/runs/{id} shows it; the plugin keeps its record of it.
      const Json hr = u(rng) < 0.7 ? Json(135 + 30 * u(rng)) : Json(nullptr);
      const Json run = {
          {"start_time", engine::FormatIsoTime(static_cast<double>(day) * 86400 + 7 * 3600)},
          {"sport", "run"},
          {"distance_m", km * 1000},
          {"moving_time_s", moving},
          {"analysis",
           {{"source", {{"sport", "run"}}},
            {"distance_m", km * 1000},
            {"moving_time_s", moving},
            {"heart_rate", {{"avg", hr}}},
            {"gap_s_per_km", pace},
            {"best_efforts", {{{"distance_m", 5000}, {"time_s", 5 * pace * 0.93}}}}}}};
      (void)plans_kv->Put(plugins::PluginHost::StoredKey(user, "r/" + engine::RunIdText(++id)),
                          plugins::plan::EncodeRunRecord(run.dump()));
      ++total_runs;
    }
    (void)plans_kv->Put(plugins::PluginHost::StoredKey(user, "seen"), "1");
  }
  const double setup_s = Seconds(t0);

  // The host with the bundled plans plugin on those stores.
  engine::ManualClock clock(static_cast<double>(today) * 86400 + 12 * 3600);
  plugins::PluginServices s;
  s.kv = [runs](const std::string& name) { return runs->PluginNamespace(name); };
  s.host_kv = host_kv;
  s.runs_list = [](const std::string&, const std::string&) -> Result<std::string> {
    return std::string(R"({"runs":[],"next_before":null})");
  };
  s.run_get = [](const std::string&, const std::string&, bool) -> Result<std::string> {
    return Status::NotFound("no run");
  };
  s.clock = &clock;
  plugins::PluginHostOptions options;
  options.tick_interval_s = 0;
  options.max_event_queue = static_cast<size_t>(runners) + 1000;
  plugins::PluginHost host(options, s, {{plugins::plan::Info, plugins::plan::InitV1}});
  if (Status st = host.Start(); !st.ok()) {
    std::fprintf(stderr, "plan_nightly: %s\n", st.message().c_str());
    return 1;
  }

  // 2. First plans, through the host as a request would come.
  t0 = std::chrono::steady_clock::now();
  size_t failed = 0;
  for (int r = 0; r < runners; ++r) {
    bool known = false;
    std::string allowed;
    const std::string path = "/v1/plans/current";
    std::optional<plugins::PluginHost::Match> m = host.Resolve("GET", path, &known, &allowed);
    const plugins::PluginResponse resp = host.Call(
        *m, plugins::PluginRequest{"GET", path, {}, "runner" + std::to_string(r), "", {}});
    failed += resp.status != 200;
  }
  const double first_s = Seconds(t0);

  // 3. The night: every runner's daily tick at 01:05 the next day.
  clock.Set(static_cast<double>(today + 1) * 86400 + 3900);
  t0 = std::chrono::steady_clock::now();
  const size_t ticks = host.Tick();
  const double tick_s = Seconds(t0);
  host.Drain();
  const double night_s = Seconds(t0);

  // Every plan was remade for the new day.
  size_t recalculated = 0;
  for (int r = 0; r < runners; r += std::max(1, runners / 1000)) {
    Result<std::optional<std::string>> p =
        plans_kv->Get(plugins::PluginHost::StoredKey("runner" + std::to_string(r), "plan"));
    if (p.ok() && p->has_value() &&
        Json::parse(**p).value("today", "") == engine::FormatDate(today + 1)) {
      ++recalculated;
    }
  }
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  const Json out = {{"runners", runners},
                    {"months", months},
                    {"runs", total_runs},
                    {"setup_s", std::round(setup_s * 10) / 10},
                    {"first_plans_s", std::round(first_s * 10) / 10},
                    {"first_plans_failed", failed},
                    {"ticks", ticks},
                    {"tick_scan_s", std::round(tick_s * 100) / 100},
                    {"night_s", std::round(night_s * 10) / 10},
                    {"runners_per_s", std::round(runners / night_s)},
                    {"ms_per_runner", std::round(night_s / runners * 1e5) / 100},
                    {"sampled_recalculated", recalculated},
                    {"peak_rss_mb", ru.ru_maxrss / 1024},
                    {"db_mb", DirBytes(dir) / (1 << 20)}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
