// SPDX-License-Identifier: Apache-2.0
//
// challenge_load: builds a large team challenge on a running `stride serve` and measures what
// the plugins issue asks of it (the figures go to bench/scripts/challenge_scale.sh, which adds
// wrk for the leaderboard and progress latencies).
//
//   challenge_load --port P --secret S [--members 10000] [--teams 10] [--runners 50]
//                  [--subscribers 1000] [--threads 4]
//
// 1. creates a route challenge along a 60 km line of waypoints (a milestone every km);
// 2. joins `members` users (tokens minted here with the server's secret), spread over teams;
// 3. `runners` of them upload a 5.4 km run each; the time until the team totals show every
//    run is the plugin's event work at that size (events are handled off the request thread);
// 4. opens `subscribers` Server-Sent Event streams on the challenge, then one more run passes
//    the next milestone: the time from that upload's answer until the last subscriber has
//    the milestone.reached event.
// Prints one JSON object: the challenge id, a reader's token (for wrk) and the figures.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "bench/server/bench_util.hpp"
#include "datasets/synthetic_activity.hpp"
#include "server/auth.hpp"

namespace {

using Json = nlohmann::json;

using stride::bench::Arg;
using stride::bench::Percentile;
double Now() {
  return stride::bench::SteadySeconds();
}
double WallNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int port = std::stoi(Arg(argc, argv, "--port", "0"));
  const std::string secret = Arg(argc, argv, "--secret", "");
  const int members = std::stoi(Arg(argc, argv, "--members", "10000"));
  const int teams = std::stoi(Arg(argc, argv, "--teams", "10"));
  const int runners = std::stoi(Arg(argc, argv, "--runners", "50"));
  const int subscribers = std::stoi(Arg(argc, argv, "--subscribers", "1000"));
  const int threads = std::stoi(Arg(argc, argv, "--threads", "4"));
  if (port == 0 || secret.size() < 32) {
    std::fprintf(stderr, "usage: challenge_load --port P --secret S (>= 32 bytes) [...]\n");
    return 2;
  }
  const stride::server::Jwt jwt(secret);
  auto token = [&](const std::string& user) {
    return "Bearer " + jwt.Mint(user, "runner:read runner:write", 7200, WallNow());
  };
  auto user_of = [](int i) { return "m" + std::to_string(i); };
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(120, 0);

  // 1. The challenge: 60 km north from 42.0 N, 1.5 E, in 1 km steps.
  Json waypoints = Json::array();
  for (int k = 0; k <= 60; ++k) waypoints.push_back({1.5, 42.0 + k * 0.008993});
  auto r = c.Post("/v1/challenges", {{"Authorization", token("owner")}},
                  Json{{"name", "Ten thousand"},
                       {"kind", "route"},
                       {"waypoints", waypoints},
                       {"milestone_every_m", 1000}}
                      .dump(),
                  "application/json");
  if (!r || r->status != 201) {
    std::fprintf(stderr, "create failed: %s\n", r ? r->body.c_str() : "no answer");
    return 1;
  }
  const std::string id = Json::parse(r->body)["id"];
  const std::string base = "/v1/challenges/" + id;

  // 2. Members join, from several threads.
  std::atomic<int> next{0}, failed{0};
  const double join_start = Now();
  {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&] {
        httplib::Client k("127.0.0.1", port);
        k.set_read_timeout(120, 0);
        for (int i = next++; i < members; i = next++) {
          const Json body = {{"team", "team" + std::to_string(i % teams)}};
          auto j = k.Post(base + "/join", {{"Authorization", token(user_of(i))}}, body.dump(),
                          "application/json");
          if (!j || j->status != 201) ++failed;
        }
      });
    }
    for (auto& t : pool) t.join();
  }
  const double join_s = Now() - join_start;

  // 3. Runners upload one run each; then wait until the team totals have them all.
  stride::datasets::SyntheticRunOptions so;
  const std::string gpx =
      stride::datasets::WriteGpx(stride::datasets::MakeSyntheticRun(so).recorded);
  next = 0;
  std::atomic<int> uploaded{0};
  double run_m = 0;
  const double upload_start = Now();
  {
    std::vector<std::thread> pool;
    std::mutex mu;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&] {
        httplib::Client k("127.0.0.1", port);
        k.set_read_timeout(120, 0);
        for (int i = next++; i < runners; i = next++) {
          auto u = k.Post("/v1/runs", {{"Authorization", token(user_of(i))}}, gpx,
                          "application/gpx+xml");
          if (!u || u->status != 201) {
            ++failed;
            continue;
          }
          ++uploaded;
          std::lock_guard lock(mu);
          run_m = Json::parse(u->body)["distance_m"];
        }
      });
    }
    for (auto& t : pool) t.join();
  }
  const double uploads_answered_s = Now() - upload_start;
  auto team_total = [&] {
    auto g = c.Get(base, {{"Authorization", token("reader")}});
    double total = 0;
    if (g && g->status == 200) {
      const Json doc = Json::parse(g->body);  // (a range-for over a temporary's member dangles)
      for (const Json& t : doc["teams"]) total += t["distance_m"].get<double>();
    }
    return total;
  };
  const double want = run_m * uploaded;
  while (team_total() < want - 1 && Now() - upload_start < 600) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const double settled_s = Now() - upload_start;

  // 4. Subscribers, then a run that passes the next milestone.
  std::vector<int> fds;
  const std::string sse_req = "GET " + base +
                              "/events HTTP/1.1\r\nHost: b\r\nAccept: text/event-stream\r\n"
                              "Last-Event-ID: 999999999\r\nAuthorization: " +
                              token("fan") + "\r\n\r\n";
  for (int i = 0; i < subscribers; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::send(fd, sse_req.data(), sse_req.size(), MSG_NOSIGNAL) <= 0) {
      std::fprintf(stderr, "subscriber %d could not connect\n", i);
      return 1;
    }
    fds.push_back(fd);
  }
  // Every stream answered (its head read) before the trigger.
  std::vector<std::string> got(fds.size());
  std::vector<double> at(fds.size(), 0);
  auto pump = [&](double until, const char* needle) {
    while (Now() < until) {
      std::vector<pollfd> p;
      std::vector<size_t> which;
      for (size_t i = 0; i < fds.size(); ++i) {
        if (at[i] == 0) {
          p.push_back({fds[i], POLLIN, 0});
          which.push_back(i);
        }
      }
      if (p.empty()) return;
      if (::poll(p.data(), p.size(), 100) <= 0) continue;
      for (size_t k = 0; k < p.size(); ++k) {
        if (!(p[k].revents & (POLLIN | POLLHUP))) continue;
        char buf[16384];
        const ssize_t n = ::recv(p[k].fd, buf, sizeof buf, 0);
        if (n <= 0) {
          at[which[k]] = -1;  // closed
          continue;
        }
        got[which[k]].append(buf, static_cast<size_t>(n));
        if (got[which[k]].find(needle) != std::string::npos) at[which[k]] = Now();
      }
    }
  };
  pump(Now() + 60, "\r\n\r\n");
  const size_t opened =
      static_cast<size_t>(std::count_if(at.begin(), at.end(), [](double t) { return t > 0; }));
  std::fill(at.begin(), at.end(), 0);
  for (auto& g : got) g.clear();
  // One more runner's 5.4 km moves a team past at least one milestone.
  const double trigger = Now();
  auto u =
      c.Post("/v1/runs", {{"Authorization", token(user_of(runners))}}, gpx, "application/gpx+xml");
  const double answered = Now();
  pump(Now() + 60, "event: milestone.reached");
  std::vector<double> delays;
  for (double t : at) {
    if (t > 0) delays.push_back((t - answered) * 1000);
  }
  for (int fd : fds) ::close(fd);

  const Json out = {
      {"challenge", id},
      {"reader_token", token("reader").substr(7)},
      {"members", members},
      {"teams", teams},
      {"failed_requests", failed.load()},
      {"join_s", join_s},
      {"joins_per_s", members / join_s},
      {"runners", uploaded.load()},
      {"uploads_answered_s", uploads_answered_s},
      {"uploads_settled_s", settled_s},
      {"event_ms_per_run", uploaded > 0 ? settled_s * 1000 / uploaded : 0},
      {"subscribers", subscribers},
      {"streams_opened", opened},
      {"trigger_upload_ms", (answered - trigger) * 1000},
      {"milestone_received_by", delays.size()},
      {"milestone_p50_ms_after_upload_answer", Percentile(delays, 0.5)},
      {"milestone_last_ms_after_upload_answer", delays.empty() ? 0 : Percentile(delays, 1.0)},
      {"trigger_status", u ? u->status : 0}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
