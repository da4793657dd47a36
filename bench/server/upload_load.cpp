// SPDX-License-Identifier: Apache-2.0
//
// upload_load: the client side of bench/scripts/uploads_at_scale.sh.
//
//   upload_load write --out DIR [--minutes 60]
//       a synthetic 1 Hz run of that length as DIR/run.fit and DIR/run.gpx (3 m/s loops
//       near Andorra la Vella, GPS noise, heart rate)
//   upload_load latency --port P --token T --file F [--n 300]
//       sequential uploads on one keep-alive connection: p50/p90/p99/max in ms
//   upload_load throughput --port P --token T --file F [--clients 8] [--seconds 20]
//       each client uploads in a loop: uploads/s, p50/p99 under load
//   upload_load analyze --file F [--n 50]
//       in-process read + analysis of the file (no HTTP, no storage): the floor
// Prints one JSON line per command.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "bench/server/bench_util.hpp"
#include "datasets/synthetic_activity.hpp"
#include "engine/track/analysis.hpp"
#include "importers/activity/activity_reader.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// Flags come after the subcommand.
std::string Arg(int argc, char** argv, const std::string& name, const std::string& def = "") {
  return stride::bench::Arg(argc, argv, name, def, 2);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

using stride::bench::Percentile;

nlohmann::json Latencies(const std::vector<double>& ms) {
  return {{"n", ms.size()},
          {"p50_ms", Percentile(ms, 0.5)},
          {"p90_ms", Percentile(ms, 0.9)},
          {"p99_ms", Percentile(ms, 0.99)},
          {"max_ms", ms.empty() ? 0 : *std::max_element(ms.begin(), ms.end())}};
}

// One upload; its latency in ms, or -1 unless 201.
double UploadOnce(httplib::Client& c, const std::string& token, const std::string& body) {
  const auto t0 = Clock::now();
  auto r =
      c.Post("/v1/runs", {{"Authorization", "Bearer " + token}}, body, "application/octet-stream");
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  if (!r || r->status != 201) {
    std::cerr << "upload failed: " << (r ? std::to_string(r->status) + " " + r->body : "no answer")
              << "\n";
    return -1;
  }
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "write") {
    stride::datasets::SyntheticRunOptions o;
    const double minutes = std::stod(Arg(argc, argv, "--minutes", "60"));
    o.laps =
        static_cast<int>(std::ceil(minutes * 60 * o.speed_mps / (2 * (o.leg_a_m + o.leg_b_m))));
    o.noise_m = 3;
    o.ele_noise_m = 2;
    const stride::engine::Track t = stride::datasets::MakeSyntheticRun(o).recorded;
    const std::string dir = Arg(argc, argv, "--out", ".");
    std::ofstream(dir + "/run.fit", std::ios::binary) << stride::datasets::WriteFit(t);
    std::ofstream(dir + "/run.gpx", std::ios::binary) << stride::datasets::WriteGpx(t);
    std::cout << nlohmann::json{{"points", t.size()},
                                {"seconds", t.time_s.back() - t.time_s.front()}}
              << "\n";
    return 0;
  }
  const std::string body = ReadFile(Arg(argc, argv, "--file"));
  if (body.empty()) {
    std::cerr << "usage: upload_load write|latency|throughput|analyze ... --file F\n";
    return 2;
  }
  if (cmd == "analyze") {
    const int n = std::stoi(Arg(argc, argv, "--n", "50"));
    std::vector<double> ms;
    for (int i = 0; i < n; ++i) {
      const auto t0 = Clock::now();
      auto act = stride::importers::ReadActivity(body);
      if (!act.ok()) return 1;
      for (auto& s : act->sessions) stride::engine::Analyze(std::move(s));
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    std::cout << nlohmann::json{{"analyze", Latencies(ms)}} << "\n";
    return 0;
  }
  const int port = std::stoi(Arg(argc, argv, "--port", "0"));
  const std::string token = Arg(argc, argv, "--token");
  if (cmd == "latency") {
    const int n = std::stoi(Arg(argc, argv, "--n", "300"));
    httplib::Client c("127.0.0.1", port);
    c.set_keep_alive(true);
    std::vector<double> ms;
    for (int i = 0; i < n + 5; ++i) {
      const double t = UploadOnce(c, token, body);
      if (t < 0) return 1;
      if (i >= 5) ms.push_back(t);  // the first few warm the server's caches
    }
    std::cout << nlohmann::json{{"latency", Latencies(ms)}} << "\n";
    return 0;
  }
  if (cmd == "throughput") {
    const int clients = std::stoi(Arg(argc, argv, "--clients", "8"));
    const double seconds = std::stod(Arg(argc, argv, "--seconds", "20"));
    std::vector<std::vector<double>> per(clients);
    std::atomic<bool> failed{false};
    const auto end = Clock::now() + std::chrono::duration<double>(seconds);
    std::vector<std::thread> threads;
    for (int k = 0; k < clients; ++k) {
      threads.emplace_back([&, k] {
        httplib::Client c("127.0.0.1", port);
        c.set_keep_alive(true);
        while (Clock::now() < end && !failed) {
          const double t = UploadOnce(c, token, body);
          if (t < 0) failed = true;
          per[k].push_back(t);
        }
      });
    }
    for (auto& t : threads) t.join();
    std::vector<double> all;
    for (auto& v : per) all.insert(all.end(), v.begin(), v.end());
    std::cout << nlohmann::json{{"clients", clients},
                                {"uploads_per_s", static_cast<double>(all.size()) / seconds},
                                {"latency", Latencies(all)}}
              << "\n";
    return failed ? 1 : 0;
  }
  std::cerr << "unknown command '" << cmd << "'\n";
  return 2;
}
