// SPDX-License-Identifier: Apache-2.0
//
// Several `stride serve` replicas sharing one PostgreSQL (user data) and one Redis (events),
// both real and started by each test (issue 20): a client streaming a challenge's events from
// one replica gets, in order and once, every event that calls and uploads through the other
// replicas caused; without Redis it gets only its own replica's; a Redis restart costs the
// events published while it was down (clients resume with Last-Event-ID), not the stream.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "datasets/synthetic_activity.hpp"
#include "index/redis/job_queue.hpp"
#include "plugins/challenges/challenges.hpp"
#include "server/auth.hpp"
#include "server/redis_events.hpp"
#include "tests/support/api_client.hpp"
#include "tests/support/cli.hpp"
#include "tests/support/postgres_server.hpp"
#include "tests/support/raw_http.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/running_server.hpp"
#include "tests/support/serve_process.hpp"
#include "tests/support/sse.hpp"

namespace stride {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const std::string kSecret = "cluster-test-secret-0123456789abcdefgh";

std::string Token(const std::string& user) {
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  return server::Jwt(kSecret).Mint(user, "runner:read runner:write", 3600, now);
}
httplib::Headers Auth(const std::string& user) {
  return {{"Authorization", "Bearer " + Token(user)}};
}

using testing::ParseSse;
using testing::Sse;
// A stream of challenge events held by `user`.
std::string SseRequest(const std::string& path, const std::string& user) {
  return testing::SseRequest(path, Token(user));
}

TEST(StreamFanoutMessages, RoundTripAnyTopicAndRefuseWhatIsNotOne) {
  server::StreamEventMessage m{"challenges", "challenge/a\nb", 42, "id: 42\ndata: {}\n\n"};
  std::optional<server::StreamEventMessage> back =
      server::DecodeStreamEvent(server::EncodeStreamEvent(m));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->plugin, "challenges");
  EXPECT_EQ(back->topic, "challenge/a\nb");
  EXPECT_EQ(back->id, 42u);
  EXPECT_EQ(back->sse_bytes, m.sse_bytes);
  EXPECT_FALSE(server::DecodeStreamEvent("hello"));
  EXPECT_FALSE(server::DecodeStreamEvent("p\nx\n3\nabc"));
  EXPECT_FALSE(server::DecodeStreamEvent("p\n1\n9\nabc"));
}

class Cluster : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::RedisServerBinary().empty()) {
      GTEST_SKIP() << "redis-server is not installed (scripts/deps.sh installs redis-server)";
    }
    pg_ = std::make_unique<testing::PostgresServer>("cluster");
    if (!pg_->installed()) {
      GTEST_SKIP() << "PostgreSQL is not installed (scripts/deps.sh installs postgresql-15)";
    }
    ASSERT_TRUE(pg_->ok()) << "PostgreSQL did not start; see " << pg_->dir();
    redis_ = std::make_unique<testing::RedisServer>();
    ASSERT_TRUE(redis_->ok());
    dir_ = testing::ServerFolder("cluster", 10);
    ASSERT_FALSE(dir_.empty());
  }
  void TearDown() override {
    servers_.clear();
    redis_.reset();
    pg_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  void StartServers(int n, bool with_redis, bool queue_jobs = false) {
    for (int i = 0; i < n; ++i) {
      server::HttpServerOptions o;
      o.queue_jobs = queue_jobs;
      o.db_path = dir_ + "/db";
      o.jwt_secret = kSecret;
      o.rate_limits = {};
      o.bundled_plugins = {{plugins::challenges::Info, plugins::challenges::InitV1}};
      tools::ServeStoreOptions s;
      s.runs_path = pg_->uri();
      if (with_redis) s.redis_url = redis_->url();
      s.on_redis_error = [](const std::string&) {};
      servers_.push_back(std::make_unique<testing::RunningServer>(o, s));
      ASSERT_NE(servers_.back()->port(), 0) << servers_.back()->status().ToString();
    }
  }
  // A route challenge created by zoe through server 0; its id.
  std::string CreateChallenge() {
    httplib::Client c = testing::ApiClient(servers_[0]->port());
    auto routes = c.Get("/v1/routes?bbox=1.4,42.4,1.8,42.7&limit=1&sort=length");
    const Json route = Json::parse(routes->body)["routes"][0];
    auto r = c.Post("/v1/challenges", Auth("zoe"),
                    Json{{"name", "Relay across servers"},
                         {"kind", "route"},
                         {"route_id", "r" + std::to_string(route["id"].get<uint64_t>())},
                         {"milestone_every_m", 200}}
                        .dump(),
                    "application/json");
    EXPECT_EQ(r->status, 201) << r->body;
    return Json::parse(r->body).value("id", "");
  }
  int Join(size_t server, const std::string& id, const std::string& user) {
    return testing::ApiClient(servers_[server]->port())
        .Post("/v1/challenges/" + id + "/join", Auth(user), "{}", "application/json")
        ->status;
  }
  // A fan's stream of the challenge's events from server `server`, once it has the backlog
  // (zoe joining); null (and a failure) otherwise.
  std::unique_ptr<testing::RawConnection> OpenStream(size_t server, const std::string& id) {
    auto fan = std::make_unique<testing::RawConnection>(servers_[server]->port());
    EXPECT_TRUE(fan->Send(SseRequest("/v1/challenges/" + id + "/events", "fan")));
    if (fan->ReadUntil("event: member.joined", 5).find("member.joined") == std::string::npos) {
      ADD_FAILURE() << "no backlog on the stream";
      return nullptr;
    }
    return fan;
  }
  // A challenge zoe created and joined through server 0, and a fan's stream of it from
  // there (null, and a failure, when any step failed).
  std::unique_ptr<testing::RawConnection> ChallengeWithAStream(std::string* id) {
    *id = CreateChallenge();
    if (id->empty() || Join(0, *id, "zoe") != 201) {
      ADD_FAILURE() << "no challenge to stream";
      return nullptr;
    }
    return OpenStream(0, *id);
  }
  // The events as stored, from server `server` (polling).
  std::vector<Json> Stored(size_t server, const std::string& id) {
    auto r = testing::ApiClient(servers_[server]->port())
                 .Get("/v1/challenges/" + id + "/events?after=0", Auth("zoe"));
    return Json::parse(r->body)["events"].get<std::vector<Json>>();
  }

  // `stride worker` as an operator starts it, its health port's log at dir_/NAME.log.
  std::unique_ptr<testing::ServeProcess> Worker(const std::string& name,
                                                std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--db",        dir_ + "/db", "--runs", pg_->uri(), "--redis",
                                     redis_->url(), "--port",     "0",      "--name",   name};
    args.insert(args.end(), extra.begin(), extra.end());
    auto w = std::make_unique<testing::ServeProcess>(args, kSecret, dir_ + "/" + name + ".log",
                                                     "worker");
    EXPECT_NE(w->port(), 0) << ReadLog(name);
    return w;
  }
  std::string ReadLog(const std::string& name) {
    std::ifstream f(dir_ + "/" + name + ".log");
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
  index::RedisJobQueue::Stats JobStats() {
    index::RedisOptions ro;
    ro.url = redis_->url();
    Result<std::unique_ptr<index::Redis>> r = index::Redis::Connect(ro);
    EXPECT_TRUE(r.ok());
    if (!r.ok()) return {};
    Result<std::unique_ptr<index::RedisJobQueue>> q = index::RedisJobQueue::Open(r->get());
    Result<index::RedisJobQueue::Stats> st = (*q)->GetStats();
    EXPECT_TRUE(st.ok());
    return st.ok() ? *st : index::RedisJobQueue::Stats{};
  }
  bool WaitForJobsDone(double timeout_s) {
    for (double t = 0; t < timeout_s; t += 0.1) {
      const index::RedisJobQueue::Stats st = JobStats();
      if (st.waiting == 0 && st.pending == 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  std::unique_ptr<testing::PostgresServer> pg_;
  std::unique_ptr<testing::RedisServer> redis_;
  std::string dir_;
  std::vector<std::unique_ptr<testing::RunningServer>> servers_;
};

TEST_F(Cluster, AStreamOnOneServerGetsWhatCallsAndUploadsThroughTheOthersCaused) {
  StartServers(3, true);
  std::string id;
  std::unique_ptr<testing::RawConnection> stream = ChallengeWithAStream(&id);
  ASSERT_TRUE(stream);
  testing::RawConnection& fan = *stream;
  // Ann joins through server 1 and runs, uploading through server 2.
  ASSERT_EQ(Join(1, id, "ann"), 201);
  datasets::SyntheticRunOptions so;
  auto up =
      testing::ApiClient(servers_[2]->port())
          .Post("/v1/runs", Auth("ann"),
                datasets::WriteGpx(datasets::MakeSyntheticRun(so).recorded), "application/gpx+xml");
  ASSERT_EQ(up->status, 201) << up->body;
  // Every event stored (server 2 delivers the run to its plugins off the request thread).
  std::vector<Json> stored;
  for (int i = 0; i < 100 && stored.size() < 2; ++i) {
    stored = Stored(1, id);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_GE(stored.size(), 2u);
  for (int i = 0; i < 50; ++i) {  // settle: no more events are coming
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (Stored(1, id).size() == stored.size() && i > 10) break;
    stored = Stored(1, id);
  }
  const std::string last = "id: " + std::to_string(stored.back()["seq"].get<uint64_t>()) + "\n";
  const std::vector<Sse> got = ParseSse(testing::BodyOf(fan.ReadUntil(last, 5)));
  ASSERT_EQ(got.size(), stored.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].id, i + 1);  // once each, in order
    EXPECT_EQ(got[i].data, stored[i]);
  }
  EXPECT_EQ(got[1].event, "member.joined");
  EXPECT_EQ(got[1].data["user"], "ann");
  ASSERT_GT(got.size(), 2u);  // the upload's milestones
  EXPECT_EQ(got[2].event, "milestone.reached");
}

TEST_F(Cluster, WithoutRedisAStreamGetsOnlyItsOwnServersEvents) {
  StartServers(2, false);
  std::string id;
  std::unique_ptr<testing::RawConnection> stream = ChallengeWithAStream(&id);
  ASSERT_TRUE(stream);
  testing::RawConnection& fan = *stream;
  ASSERT_EQ(Join(1, id, "ann"), 201);
  EXPECT_EQ(Stored(0, id).size(), 2u);  // stored, and seen by polling any server...
  // ... but not pushed to a stream on another server.
  EXPECT_EQ(fan.ReadUntil("id: 2\n", 1).find("id: 2\n"), std::string::npos);
}

TEST_F(Cluster, ARedisRestartLosesTheEventsWhileDownNotTheStream) {
  StartServers(2, true);
  std::string id;
  std::unique_ptr<testing::RawConnection> stream = ChallengeWithAStream(&id);
  ASSERT_TRUE(stream);
  testing::RawConnection& fan = *stream;
  redis_->Kill();
  // Redis down: the join is stored and reaches the streams of its own server only.
  ASSERT_EQ(Join(1, id, "ann"), 201);
  redis_->Start();
  ASSERT_TRUE(redis_->ok());
  // The subscriptions come back (redialled every 0.5 s): the next join crosses again.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ASSERT_EQ(Join(1, id, "bob"), 201);
  const std::vector<Sse> got = ParseSse(testing::BodyOf(fan.ReadUntil("id: 3\n", 5)));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].id, 3u);
  EXPECT_EQ(got[1].data["user"], "bob");
  // What was missed is in the backlog of a reconnecting client.
  EXPECT_EQ(Stored(0, id).size(), 3u);
}

TEST_F(Cluster, WorkersDoTheUploadsPostProcessingAndTheServersStreamIt) {
  StartServers(2, true, /*queue_jobs=*/true);
  std::string id;
  std::unique_ptr<testing::RawConnection> stream = ChallengeWithAStream(&id);
  ASSERT_TRUE(stream);
  testing::RawConnection& fan = *stream;
  // Both servers read the challenge (and keep its state in memory).
  auto progress = [&](size_t server) {
    return Json::parse(testing::ApiClient(servers_[server]->port())
                           .Get("/v1/challenges/" + id, Auth("zoe"))
                           ->body);
  };
  for (size_t i = 0; i < 2; ++i) EXPECT_EQ(progress(i)["teams"][0]["milestones_reached"], 0);
  // No worker yet: the upload is stored and its processing waits in the queue.
  datasets::SyntheticRunOptions so;
  auto up =
      testing::ApiClient(servers_[1]->port())
          .Post("/v1/runs", Auth("zoe"),
                datasets::WriteGpx(datasets::MakeSyntheticRun(so).recorded), "application/gpx+xml");
  ASSERT_EQ(up->status, 201) << up->body;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(Stored(0, id).size(), 1u);
  EXPECT_EQ(JobStats().waiting, 1u);
  auto metric = [](int port, const std::string& name) {
    httplib::Client c("127.0.0.1", port);
    auto r = c.Get("/metrics");
    const size_t at = r ? r->body.find("\n" + name + " ") : std::string::npos;
    return at == std::string::npos ? -1.0 : std::atof(r->body.c_str() + at + name.size() + 2);
  };
  EXPECT_EQ(metric(servers_[0]->port(), "stride_jobs_waiting"), 1.0);
  EXPECT_EQ(metric(servers_[0]->port(), "stride_jobs_done_total"), -1.0);  // not a worker
  // A worker takes it: the challenge moves, and the stream on server 0 hears it.
  std::unique_ptr<testing::ServeProcess> worker = Worker("w1");
  ASSERT_TRUE(WaitForJobsDone(10)) << ReadLog("w1");
  const std::vector<Json> stored = Stored(0, id);
  ASSERT_GT(stored.size(), 1u);
  EXPECT_EQ(stored[1]["type"], "milestone.reached");
  const std::string last = "id: " + std::to_string(stored.back()["seq"].get<uint64_t>()) + "\n";
  const std::vector<Sse> got = ParseSse(testing::BodyOf(fan.ReadUntil(last, 5)));
  ASSERT_EQ(got.size(), stored.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].data, stored[i]);
  // Every server answers the progress the worker made, not the state it held.
  for (size_t i = 0; i < 2; ++i) {
    const Json p = progress(i);
    EXPECT_GT(p["teams"][0]["milestones_reached"].get<int>(), 0) << p.dump();
    EXPECT_EQ(p["teams"], progress(1 - i)["teams"]);
  }
  // A worker serves its operator only.
  httplib::Client wc("127.0.0.1", worker->port());  // no OpenAPI document to check against
  EXPECT_EQ(wc.Get("/v1/health")->status, 200);
  EXPECT_EQ(wc.Get("/v1/runs", Auth("zoe"))->status, 404);
  EXPECT_EQ(metric(worker->port(), "stride_jobs_done_total"), 1.0);
  EXPECT_EQ(metric(worker->port(), "stride_jobs_failed_total"), 0.0);
  EXPECT_EQ(metric(worker->port(), "stride_jobs_waiting"), 0.0);
}

TEST_F(Cluster, AKilledWorkersJobsAreDoneByAnotherAndNoAcknowledgedUploadIsLost) {
  // The webhook receiver every worker posts to: which runs' run.stored it heard.
  struct Hooks {
    std::mutex mu;
    std::set<std::string> heard;
    httplib::Server server;
    std::thread thread;
    int port = 0;
    Hooks() {
      server.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
        const Json j = Json::parse(req.body, nullptr, false);
        std::lock_guard lock(mu);
        if (j.is_object() && j.value("type", "") == "run.stored") {
          heard.insert(j.value("run_id", ""));
        }
        res.status = 200;
      });
      port = server.bind_to_any_port("127.0.0.1");
      thread = std::thread([this] { server.listen_after_bind(); });
    }
    ~Hooks() {
      server.stop();
      thread.join();
    }
    std::set<std::string> Heard() {
      std::lock_guard lock(mu);
      return heard;
    }
  } hooks;
  const int hook_port = hooks.port;
  std::ofstream(dir_ + "/hook.secret") << "hook-secret-for-the-cluster-test\n";
  const std::vector<std::string> webhook = {
      "--webhook",
      "http://127.0.0.1:" + std::to_string(hook_port) + "/hook",
      "--webhook-secret-file",
      dir_ + "/hook.secret",
      "--claim-after",
      "1"};
  StartServers(3, true, /*queue_jobs=*/true);
  // A worker that took a job and died before finishing it: the job is pending on it.
  datasets::SyntheticRunOptions so;
  so.seed = 100;
  std::vector<std::string> acknowledged;
  auto up =
      testing::ApiClient(servers_[0]->port())
          .Post("/v1/runs", Auth("ann"),
                datasets::WriteGpx(datasets::MakeSyntheticRun(so).recorded), "application/gpx+xml");
  ASSERT_EQ(up->status, 201);
  acknowledged.push_back(Json::parse(up->body)["id"]);
  {
    index::RedisOptions ro;
    ro.url = redis_->url();
    Result<std::unique_ptr<index::Redis>> r = index::Redis::Connect(ro);
    ASSERT_TRUE(r.ok());
    Result<std::unique_ptr<index::RedisJobQueue>> q = index::RedisJobQueue::Open(r->get());
    ASSERT_TRUE(q.ok());
    Result<std::vector<index::Job>> taken = (*q)->Take("ghost", 1, 1);
    ASSERT_TRUE(taken.ok());
    ASSERT_EQ(taken->size(), 1u);
  }
  EXPECT_EQ(JobStats().pending, 1u);
  // Two workers; a burst of uploads through the three servers; one worker killed midway.
  std::unique_ptr<testing::ServeProcess> w1 = Worker("w1", webhook);
  std::unique_ptr<testing::ServeProcess> w2 = Worker("w2", webhook);
  for (int i = 0; i < 12; ++i) {
    so.seed = 200 + static_cast<uint64_t>(i);
    auto r = testing::ApiClient(servers_[static_cast<size_t>(i) % 3]->port())
                 .Post("/v1/runs", Auth("ann"),
                       datasets::WriteGpx(datasets::MakeSyntheticRun(so).recorded),
                       "application/gpx+xml");
    ASSERT_TRUE(r);
    if (r->status == 201) acknowledged.push_back(Json::parse(r->body)["id"]);
    if (i == 5) w1->Kill();
  }
  EXPECT_EQ(acknowledged.size(), 13u);
  ASSERT_TRUE(WaitForJobsDone(20))
      << JobStats().waiting << " waiting, " << JobStats().pending << " pending\n"
      << ReadLog("w2");
  // Every acknowledged upload's run.stored left through a webhook (the outbox empties).
  for (int i = 0; i < 200 && hooks.Heard().size() < acknowledged.size(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const std::set<std::string> heard = hooks.Heard();
  for (const std::string& id : acknowledged) EXPECT_EQ(heard.count(id), 1u) << id;
  EXPECT_EQ(JobStats().dead, 0u);
}

// Joins through two servers at once: a plugin's changes are made by one process at a time
// (a PostgreSQL advisory lock per plugin), so no join's state or event is overwritten by
// another's: 24 joins, 24 members, 24 member.joined events numbered 1..24 without a gap.
TEST_F(Cluster, JoinsThroughTwoServersAtOnceLoseNoMemberAndNoEvent) {
  StartServers(2, false);
  const std::string id = CreateChallenge();
  ASSERT_FALSE(id.empty());
  // Both servers hold the challenge's state in memory before the joins.
  for (size_t i = 0; i < 2; ++i) {
    ASSERT_EQ(
        testing::ApiClient(servers_[i]->port()).Get("/v1/challenges/" + id, Auth("zoe"))->status,
        200);
  }
  std::atomic<int> joined{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < 6; ++k) {
        if (Join(t % 2, id, "runner" + std::to_string(t * 6 + k)) == 201) ++joined;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  ASSERT_EQ(joined.load(), 24);
  for (size_t i = 0; i < 2; ++i) {
    const std::vector<Json> events = Stored(i, id);
    std::set<std::string> users;
    for (size_t k = 0; k < events.size(); ++k) {
      EXPECT_EQ(events[k]["seq"], k + 1) << events[k].dump();
      if (events[k]["type"] == "member.joined") users.insert(events[k]["user"]);
    }
    EXPECT_EQ(users.size(), 24u) << "server " << i;
    const Json c = Json::parse(
        testing::ApiClient(servers_[i]->port()).Get("/v1/challenges/" + id, Auth("zoe"))->body);
    int members = 0;
    for (const Json& team : c["teams"]) members += team.value("members", 0);
    EXPECT_EQ(members, 24) << c.dump();
  }
}

// Re-analysis on a server that queues its jobs: the pass queues one run.reanalyze job per
// run, a `stride worker` (here with a geofence table the runs were not analysed with) analyses
// each again and stores it in PostgreSQL under the same id; a second pass changes nothing.
TEST_F(Cluster, AReanalysisIsQueuedForTheWorkersWhoStoreTheNewAnalysis) {
  StartServers(2, true, /*queue_jobs=*/true);
  std::vector<std::string> ids;
  for (uint32_t seed = 1; seed <= 2; ++seed) {
    datasets::SyntheticRunOptions so;
    so.seed = seed;
    so.start_time_s = 1.75e9 + seed * 86400.0;
    auto up = testing::ApiClient(servers_[1]->port())
                  .Post("/v1/runs", Auth("zoe"),
                        datasets::WriteGpx(datasets::MakeSyntheticRun(so).recorded),
                        "application/gpx+xml");
    ASSERT_EQ(up->status, 201) << up->body;
    ids.push_back(Json::parse(up->body)["id"]);
  }
  std::ofstream(dir_ + "/regions.geojson") << R"({"type":"FeatureCollection","features":[
    {"type":"Feature","properties":{"name":"andorra-centre"},"geometry":{"type":"Polygon",
     "coordinates":[[[1.50,42.49],[1.54,42.49],[1.54,42.52],[1.50,42.52],[1.50,42.49]]]}}]})";
  std::unique_ptr<testing::ServeProcess> worker =
      Worker("w1", {"--geofences", dir_ + "/regions.geojson"});
  ASSERT_TRUE(WaitForJobsDone(10)) << ReadLog("w1");  // the uploads' run.event jobs
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const httplib::Headers ops = {
      {"Authorization", "Bearer " + server::Jwt(kSecret).Mint("ops", "admin", 3600, now)}};
  auto pass = [&] {
    httplib::Client c = testing::ApiClient(servers_[0]->port());
    auto r = c.Post("/v1/admin/reanalyze", ops, "", "");
    EXPECT_EQ(r->status, 202) << r->body;
    EXPECT_EQ(Json::parse(r->body)["mode"], "queued for the workers");
    Json p;
    for (int i = 0; i < 200; ++i) {
      p = Json::parse(c.Get("/v1/admin/reanalyze", ops)->body);
      if (p["state"] == "finished") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(WaitForJobsDone(20)) << ReadLog("w1");
    return p;
  };
  Json p = pass();
  EXPECT_EQ(p["runs"], 2) << p.dump();
  EXPECT_EQ(p["queued"], 2) << p.dump();
  EXPECT_EQ(p["failed"], 0) << p.dump();
  for (const std::string& id : ids) {
    auto r = testing::ApiClient(servers_[1]->port()).Get("/v1/runs/" + id, Auth("zoe"));
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(Json::parse(r->body)["regions"], Json::array({"andorra-centre"})) << id;
  }
  auto list = testing::ApiClient(servers_[0]->port()).Get("/v1/runs", Auth("zoe"));
  EXPECT_EQ(Json::parse(list->body)["runs"].size(), 2u);
  // Again: queued, analysed, nothing new; no job left, none dead.
  p = pass();
  EXPECT_EQ(p["queued"], 2) << p.dump();
  EXPECT_EQ(JobStats().dead, 0u);
  httplib::Client wc("127.0.0.1", worker->port());
  const std::string metrics = wc.Get("/metrics")->body;
  EXPECT_NE(metrics.find("\nstride_jobs_done_total 6\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("\nstride_jobs_failed_total 0\n"), std::string::npos) << metrics;
}

TEST_F(Cluster, QueueingJobsAndWorkersNeedRedisAndPostgres) {
  testing::CliRun r = testing::Stride("worker --db " + dir_ + "/db --runs " + dir_ + "/runs");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("needs --redis URL"), std::string::npos) << r.err;
  const std::string pg = " --runs '" + pg_->uri() + "'";
  r = testing::Stride("serve --db " + dir_ + "/db" + pg + " --queue-jobs");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--queue-jobs needs --redis"), std::string::npos) << r.err;
  r = testing::Stride("worker --db " + dir_ + "/db" + pg + " --redis " + redis_->url() +
                      " --claim-after 0");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--claim-after 0: expected 1 to 86400"), std::string::npos) << r.err;
  // A worker's name goes into the queue, the log and the metrics: no spaces or control bytes.
  for (const std::string& name : {std::string("'w 1'"), "'" + std::string(65, 'w') + "'",
                                  std::string("\"w$(printf '\\001')\"")}) {
    r = testing::Stride("worker --db " + dir_ + "/db" + pg + " --redis " + redis_->url() +
                        " --name " + name);
    EXPECT_EQ(r.exit_code, 2) << name;
    EXPECT_NE(r.err.find("expected 1 to 64 letters, digits, '.', '_' or '-'"), std::string::npos)
        << r.err;
    EXPECT_EQ(r.err.find('\x01'), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace stride
