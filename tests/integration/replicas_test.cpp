// SPDX-License-Identifier: Apache-2.0
//
// Route database replicas (issue 20 item 3): several servers open the same database read-only,
// and a new import rolls out to all of them at one moment (--rollout-delay: its finish time +
// the delay), however their checks for a new database are staggered. Real servers on loopback,
// a real database replaced on disk as an import replaces it.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "datasets/synthetic_routes.hpp"
#include "engine/text/iso_time.hpp"
#include "server/http_server.hpp"
#include "tests/support/api_client.hpp"
#include "tests/support/running_server.hpp"

namespace stride {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

double Now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// A new database of `routes` routes at `path`, as an import writes it, finished at `finished`.
void Replace(const std::string& path, size_t routes, double finished) {
  datasets::SyntheticRoutesOptions ro;
  ro.count = routes;
  ro.SetRegion(42.4, 1.4, 42.7, 1.8);
  ro.finished_at = engine::FormatIsoTime(finished);
  ASSERT_TRUE(datasets::WriteSyntheticRouteDb(ro, path, 1).ok());
}

class Replicas : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::ServerFolder("replicas", 20);
    ASSERT_FALSE(dir_.empty());
  }
  void TearDown() override {
    servers_.clear();
    fs::remove_all(dir_);
  }
  // Three servers of the same database, looking for a new one every 0.2, 0.6 and 1.0 s.
  void Start(double rollout_delay_s) {
    const double checks[] = {0.2, 0.6, 1.0};
    for (int i = 0; i < 3; ++i) {
      server::HttpServerOptions o;
      o.db_path = dir_ + "/db";
      o.reload_check_s = checks[i];
      o.rollout_delay_s = rollout_delay_s;
      o.access_log = &logs_[i];
      servers_.push_back(std::make_unique<testing::RunningServer>(o));
      ASSERT_NE(servers_.back()->port(), 0);
    }
  }
  // Polls every server's health every 10 ms until each serves `routes` routes (at most
  // `timeout_s`): when each first did, by the wall clock, and the rollout times each showed
  // while it waited.
  struct Seen {
    double first = 0;
    std::set<std::string> pending_serves_at;
  };
  std::vector<Seen> WatchUntil(size_t routes, double timeout_s) {
    std::vector<Seen> seen(servers_.size());
    std::vector<std::thread> pollers;
    for (size_t i = 0; i < servers_.size(); ++i) {
      pollers.emplace_back([&, i] {
        httplib::Client c = testing::ApiClient(servers_[i]->port());
        const double end = Now() + timeout_s;
        while (Now() < end) {
          auto r = c.Get("/v1/health");
          const double t = Now();
          if (r && r->status == 200) {
            const Json j = Json::parse(r->body);
            if (j["routes"] == routes) {
              seen[i].first = t;
              return;
            }
            if (!j["rollout"].is_null())
              seen[i].pending_serves_at.insert(j["rollout"]["serves_at"]);
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
      });
    }
    for (auto& t : pollers) t.join();
    return seen;
  }
  std::string dir_;
  std::ostringstream logs_[3];
  std::vector<std::unique_ptr<testing::RunningServer>> servers_;
};

TEST_F(Replicas, ANewImportIsServedByEveryReplicaAtTheSameMoment) {
  Start(3);
  // The import finishes on the next whole second (the finish time is whole seconds) and is
  // served 3 s later; the replicas find it up to 1 s apart.
  const double finished = std::floor(Now()) + 1;
  const double serves_at = finished + 3;
  Replace(dir_ + "/db", 35, finished);
  const std::vector<Seen> seen = WatchUntil(35, 15);
  double first = 1e300, last = 0;
  for (size_t i = 0; i < seen.size(); ++i) {
    ASSERT_GT(seen[i].first, 0) << "replica " << i << " never served the new database";
    // Not before the rollout time (the poll's own latency aside), and each said when it would.
    EXPECT_GE(seen[i].first, serves_at - 0.02) << "replica " << i;
    EXPECT_EQ(seen[i].pending_serves_at, std::set<std::string>{engine::FormatIsoTime(serves_at, 3)})
        << "replica " << i;
    first = std::min(first, seen[i].first);
    last = std::max(last, seen[i].first);
  }
  // Together: within the 10 ms polls and a request's latency, where their checks alone
  // would spread them over up to a second.
  EXPECT_LT(last - first, 0.25);
  EXPECT_LT(last - serves_at, 0.5);
  servers_.clear();
  for (const auto& log : logs_) {
    EXPECT_NE(log.str().find("served from " + engine::FormatIsoTime(serves_at)), std::string::npos)
        << log.str();
  }
}

TEST_F(Replicas, ADatabaseFoundAfterItsRolloutTimeIsServedAtOnceAndSaysHowLate) {
  Start(5);
  // Finished a minute ago: its rollout time has passed.
  Replace(dir_ + "/db", 27, std::floor(Now()) - 60);
  const std::vector<Seen> seen = WatchUntil(27, 10);
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_GT(seen[i].first, 0) << "replica " << i;
    EXPECT_TRUE(seen[i].pending_serves_at.empty());
  }
  servers_.clear();
  EXPECT_NE(logs_[0].str().find("s after its rollout time"), std::string::npos) << logs_[0].str();
  EXPECT_NE(logs_[0].str().find("found or loaded late (--rollout-delay 5.0)"), std::string::npos);
}

TEST_F(Replicas, WithoutADelayEachServesANewImportAsSoonAsItFindsIt) {
  Start(0);
  Replace(dir_ + "/db", 31, std::floor(Now()) + 30);  // a finish time that is not waited for
  const std::vector<Seen> seen = WatchUntil(31, 10);
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_GT(seen[i].first, 0) << "replica " << i;
    EXPECT_TRUE(seen[i].pending_serves_at.empty());
  }
}

}  // namespace
}  // namespace stride
