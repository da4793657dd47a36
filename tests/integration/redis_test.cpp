// SPDX-License-Identifier: Apache-2.0
//
// Redis shared by several `stride serve` replicas (issue 20), against a real redis-server
// started by each test: the client (index/redis: URLs, binary-safe commands, scripts loaded on
// NOSCRIPT, reconnecting after a restart, clear errors) and global rate limits
// (server/redis_rate_limit: three replicas, two in this process and one `stride serve --redis`
// process, admit exactly a limit's worth of one user's requests between them; Redis down lets
// requests through and Redis back limits them again).
#include "index/redis/redis.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "index/redis/job_queue.hpp"
#include "server/auth.hpp"
#include "server/http_server.hpp"
#include "server/job_worker.hpp"
#include "server/redis_rate_limit.hpp"
#include "tests/support/api_client.hpp"
#include "tests/support/cli.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/running_server.hpp"
#include "tests/support/serve_process.hpp"

namespace stride {
namespace {

namespace fs = std::filesystem;
using index::Redis;
using index::RedisReply;

const std::string kSecret = "redis-test-secret-0123456789abcdefghij";

#define REQUIRE_REDIS(server)                                                                \
  if (testing::RedisServerBinary().empty()) {                                                \
    GTEST_SKIP() << "redis-server is not installed (scripts/deps.sh installs redis-server)"; \
  }                                                                                          \
  ASSERT_TRUE((server).ok()) << "redis-server did not start on port " << (server).port()

std::unique_ptr<Redis> Connect(const std::string& url) {
  index::RedisOptions o;
  o.url = url;
  Result<std::unique_ptr<Redis>> r = Redis::Connect(o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

// A job queue on `redis` whose pending jobs are claimed again after 0.3 s.
index::JobQueueOptions QuickRetries(int max_attempts) {
  index::JobQueueOptions o;
  o.claim_after_s = 0.3;
  o.max_attempts = max_attempts;
  return o;
}

std::unique_ptr<index::RedisJobQueue> OpenQueue(Redis* redis, const index::JobQueueOptions& o) {
  Result<std::unique_ptr<index::RedisJobQueue>> opened = index::RedisJobQueue::Open(redis, o);
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
  return opened.ok() ? std::move(opened).value() : nullptr;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

TEST(RedisUrl, ParsesEveryFormAndSaysWhatWasExpected) {
  Result<index::RedisUrl> u = index::ParseRedisUrl("redis://cache.internal");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "cache.internal");
  EXPECT_EQ(u->port, 6379);
  EXPECT_EQ(u->db, 0);
  EXPECT_EQ(u->Where(), "cache.internal:6379");
  u = index::ParseRedisUrl("redis://stride:p%40ss@10.0.0.7:6380/3");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->user, "stride");
  EXPECT_EQ(u->password, "p@ss");
  EXPECT_EQ(u->port, 6380);
  EXPECT_EQ(u->db, 3);
  u = index::ParseRedisUrl("redis://:secret@[::1]:7000");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->user, "");
  EXPECT_EQ(u->password, "secret");
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->Where(), "[::1]:7000");
  u = index::ParseRedisUrl("unix:///run/redis/redis.sock?db=2");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->unix_path, "/run/redis/redis.sock");
  EXPECT_EQ(u->db, 2);

  auto error = [](const char* url) { return index::ParseRedisUrl(url).status().message(); };
  EXPECT_EQ(error("http://localhost"),
            "--redis http://localhost: expected redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] or "
            "unix:///PATH");
  EXPECT_EQ(error("redis://localhost:99999"),
            "--redis redis://localhost:99999: expected a port from 1 to 65535");
  EXPECT_EQ(error("redis://localhost/x"),
            "--redis redis://localhost/x: expected a database number after the '/'");
  EXPECT_EQ(error("redis://"), "--redis redis://: expected a host after redis://");
  // The password is never repeated in a message.
  EXPECT_EQ(error("redis://u:hunter2@host:x"),
            "--redis redis://u:***@host:x: expected a port from 1 to 65535");
  EXPECT_EQ(error("unix://relative.sock"),
            "--redis unix://relative.sock: expected unix:///absolute/path/to/socket");
}

TEST(RedisClient, CommandsAreBinarySafeAndErrorsNameTheServer) {
  testing::RedisServer server;
  REQUIRE_REDIS(server);
  std::unique_ptr<Redis> redis = Connect(server.url() + "/2");
  ASSERT_TRUE(redis);
  const std::string value("a\0b\xff\r\n", 6);
  ASSERT_TRUE(redis->Command({"SET", "k", value}).ok());
  Result<RedisReply> got = redis->Command({"GET", "k"});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->type, RedisReply::Type::kString);
  EXPECT_EQ(got->str, value);
  // The database of the URL was selected: database 0 has no k.
  std::unique_ptr<Redis> db0 = Connect(server.url());
  ASSERT_TRUE(db0);
  EXPECT_EQ(db0->Command({"GET", "k"})->type, RedisReply::Type::kNil);
  Result<RedisReply> n = redis->Command({"INCRBY", "n", "41"});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->integer, 41);
  // An error reply is Internal with Redis's words; the connection stays usable.
  Result<RedisReply> wrong = redis->Command({"INCR", "k"});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), StatusCode::kInternal);
  EXPECT_NE(wrong.status().message().find("127.0.0.1:" + std::to_string(server.port()) +
                                          " answered INCR: ERR value is not an integer"),
            std::string::npos)
      << wrong.status().message();
  EXPECT_EQ(redis->Command({"INCR", "n"})->integer, 42);
}

TEST(RedisClient, ScriptsAreLoadedWhenRedisDoesNotHoldThem) {
  testing::RedisServer server;
  REQUIRE_REDIS(server);
  std::unique_ptr<Redis> redis = Connect(server.url());
  ASSERT_TRUE(redis);
  const index::RedisScript script("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  // Its SHA-1 is Redis's own.
  Result<RedisReply> loaded = redis->Command({"SCRIPT", "LOAD", script.source});
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->str, script.sha1);
  ASSERT_TRUE(redis->Command({"SCRIPT", "FLUSH"}).ok());
  Result<RedisReply> r = redis->Eval(script, {"c"}, {"5"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->integer, 5);
  EXPECT_EQ(redis->Eval(script, {"c"}, {"2"})->integer, 7);
  EXPECT_EQ(redis->Command({"SCRIPT", "EXISTS", script.sha1})->elements.at(0).integer, 1);
}

TEST(RedisClient, AnUnreachableRedisIsNamedAndARestartedOneIsDialledAgain) {
  const int port = testing::FreeLoopbackPort();
  index::RedisOptions o;
  o.url = "redis://127.0.0.1:" + std::to_string(port);
  Result<std::unique_ptr<Redis>> none = Redis::Connect(o);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(none.status().message().find("cannot reach Redis at 127.0.0.1:" + std::to_string(port)),
            std::string::npos)
      << none.status().message();

  testing::RedisServer server(port);
  REQUIRE_REDIS(server);
  std::unique_ptr<Redis> redis = Connect(server.url());
  ASSERT_TRUE(redis);
  ASSERT_TRUE(redis->Command({"SET", "a", "1"}).ok());
  server.Kill();
  Result<RedisReply> down = redis->Command({"GET", "a"});
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.status().code(), StatusCode::kUnavailable);
  server.Start();
  ASSERT_TRUE(server.ok());
  Result<RedisReply> back = redis->Command({"SET", "a", "2"});
  EXPECT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(redis->Command({"GET", "a"})->str, "2");
}

TEST(RedisClient, AWrongPasswordIsPermissionDenied) {
  testing::RedisServer server;
  REQUIRE_REDIS(server);
  std::unique_ptr<Redis> admin = Connect(server.url());
  ASSERT_TRUE(admin);
  ASSERT_TRUE(admin->Command({"CONFIG", "SET", "requirepass", "right-one"}).ok());
  index::RedisOptions o;
  o.url = "redis://:wrong-one@127.0.0.1:" + std::to_string(server.port());
  Result<std::unique_ptr<Redis>> r = Redis::Connect(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(r.status().message().find("wrong-one"), std::string::npos);
  o.url = "redis://:right-one@127.0.0.1:" + std::to_string(server.port());
  r = Redis::Connect(o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
}

// The Redis store decides as the in-memory one does, hit for hit, and two stores (two
// replicas' connections) share one count.
TEST(RedisJobs, AJobIsTakenOnceAckedGoneAndADeadWorkersJobGoesToAnother) {
  testing::RedisServer server;
  REQUIRE_REDIS(server);
  std::unique_ptr<Redis> redis = Connect(server.url());
  ASSERT_TRUE(redis);
  const index::JobQueueOptions o = QuickRetries(3);
  std::unique_ptr<index::RedisJobQueue> queue = OpenQueue(redis.get(), o);
  ASSERT_TRUE(queue);
  index::RedisJobQueue& q = *queue;
  // Opening again (another server) keeps the group and its jobs.
  ASSERT_TRUE(OpenQueue(redis.get(), o));
  for (const char* d : {"a", "b\0binary", "c"}) {
    ASSERT_TRUE(
        q.Enqueue("run.event", std::string(d, std::strlen(d) + (d[0] == 'b' ? 7 : 0))).ok());
  }
  Result<std::vector<index::Job>> a = q.Take("worker-a", 2, 0.1);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_EQ(a->size(), 2u);
  EXPECT_EQ((*a)[0].data, "a");
  EXPECT_EQ((*a)[1].data, std::string("b\0binary", 8));
  EXPECT_EQ((*a)[0].kind, "run.event");
  EXPECT_EQ((*a)[0].attempt, 1);
  ASSERT_TRUE(q.Ack((*a)[0]).ok());
  // Worker b gets the third; the second is worker a's until claim_after_s passes.
  Result<std::vector<index::Job>> b = q.Take("worker-b", 5, 0.1);
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b->size(), 1u);
  EXPECT_EQ((*b)[0].data, "c");
  ASSERT_TRUE(q.Ack((*b)[0]).ok());
  b = q.Take("worker-b", 5, 0.1);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->empty());
  Result<index::RedisJobQueue::Stats> st = q.GetStats();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->waiting, 1u);
  EXPECT_EQ(st->pending, 1u);
  // Worker a "dies" with it: after claim_after_s worker b takes it, a second attempt.
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  b = q.Take("worker-b", 5, 0.1);
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b->size(), 1u);
  EXPECT_EQ((*b)[0].id, (*a)[1].id);
  EXPECT_EQ((*b)[0].attempt, 2);
  // Never acked: the third take is the last, the fourth moves it to the dead letters.
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  b = q.Take("worker-c", 5, 0.1);
  ASSERT_EQ(b->size(), 1u);
  EXPECT_EQ((*b)[0].attempt, 3);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  b = q.Take("worker-c", 5, 0.1);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->empty());
  st = q.GetStats();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->waiting, 0u);
  EXPECT_EQ(st->pending, 0u);
  EXPECT_EQ(st->dead, 1u);
  // A Take waits up to block_s for a job enqueued meanwhile.
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ASSERT_TRUE(q.Enqueue("tick", "x").ok());
  });
  const auto t0 = std::chrono::steady_clock::now();
  b = q.Take("worker-c", 1, 3.0);
  later.join();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  ASSERT_EQ(b->size(), 1u);
  EXPECT_EQ((*b)[0].kind, "tick");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
}

TEST(RedisJobs, AFailedJobRunsAgainWithTheSameEventIdAndAnUnreadableOneIsDropped) {
  testing::RedisServer server;
  REQUIRE_REDIS(server);
  std::unique_ptr<Redis> redis = Connect(server.url());
  ASSERT_TRUE(redis);
  std::unique_ptr<index::RedisJobQueue> queue =
      OpenQueue(redis.get(), QuickRetries(index::JobQueueOptions{}.max_attempts));
  ASSERT_TRUE(queue);
  index::RedisJobQueue& q = *queue;
  engine::RunEvent stored;
  stored.user_id = "alice";
  stored.run_id = 0x1234;
  ASSERT_TRUE(q.Enqueue("run.event", server::EncodeRunEventJob(stored)).ok());
  ASSERT_TRUE(q.Enqueue("run.event", "{\"type\":\"run.stored\"}").ok());  // no user
  ASSERT_TRUE(q.Enqueue("no.such.kind", "{}").ok());
  ASSERT_TRUE(q.Enqueue("run.reanalyze", "7").ok());  // its stored file no longer reads

  std::mutex mu;
  std::vector<std::pair<engine::RunEvent, std::string>> calls;
  std::vector<std::string> log;
  server::JobWorkerOptions wo;
  wo.name = "worker-a";
  wo.block_s = 0.1;
  std::map<std::string, server::JobWorker::Handler> handlers;
  handlers["run.event"] = [&](const index::Job& job, const std::string& event_id) {
    STRIDE_ASSIGN_OR_RETURN(const engine::RunEvent e, server::DecodeRunEventJob(job.data));
    std::lock_guard lock(mu);
    calls.emplace_back(e, event_id);
    // The first attempt fails as a plugin whose store is down would.
    return calls.size() == 1 ? Status::Unavailable("challenges: store down") : Status::Ok();
  };
  handlers["run.reanalyze"] = [](const index::Job&, const std::string&) {
    return Status::Corruption("run 7: stored original: byte 12: not a FIT header");
  };
  server::JobWorker worker(&q, wo, std::move(handlers), [&](const std::string& line) {
    std::lock_guard lock(mu);
    log.push_back(line);
  });
  worker.Start();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (worker.done() < 4 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  worker.Stop();
  EXPECT_EQ(worker.done(), 4u);     // the run event (second attempt) and the three dropped
  EXPECT_EQ(worker.failed(), 1u);   // the first attempt
  EXPECT_EQ(worker.dropped(), 3u);  // no user; unknown kind; a file that no retry reads
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].first.user_id, "alice");
  EXPECT_EQ(calls[1].first.run_id, 0x1234u);
  EXPECT_EQ(calls[0].second.size(), 16u);
  EXPECT_EQ(calls[0].second, calls[1].second);  // the webhook id survives the retry
  Result<index::RedisJobQueue::Stats> st = q.GetStats();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->waiting, 0u);
  EXPECT_EQ(st->pending, 0u);
  EXPECT_EQ(st->dead, 0u);
  bool retry_logged = false;
  for (const std::string& line : log) {
    retry_logged |= line.find("store down; left for a retry") != std::string::npos &&
                    line.find("(run.event, attempt 1)") != std::string::npos;
  }
  EXPECT_TRUE(retry_logged);
  // Another job gets another id.
  EXPECT_NE(server::JobEventId("1-0"), server::JobEventId("1-1"));
}

TEST(RedisRateLimits, DecideAsTheMemoryStoreAndAreSharedBetweenConnections) {
  testing::RedisServer server;
  REQUIRE_REDIS(server);
  std::unique_ptr<Redis> a = Connect(server.url());
  std::unique_ptr<Redis> b = Connect(server.url());
  ASSERT_TRUE(a && b);
  server::RedisRateLimitStore on_a(a.get());
  server::RedisRateLimitStore on_b(b.get());
  server::MemoryRateLimitStore memory;
  const server::RateLimit limit{5, 3600};
  // The memory store at Redis's clock: both then are in the same spot of the same window.
  Result<RedisReply> t = a->Command({"TIME"});
  ASSERT_TRUE(t.ok());
  const double now = std::stod(t->elements.at(0).str) + std::stod(t->elements.at(1).str) / 1e6;
  for (int i = 0; i < 8; ++i) {
    server::RedisRateLimitStore& store = i % 2 ? on_b : on_a;
    const server::RateDecision got = store.Hit("read|user:ann", limit, 0);
    const server::RateDecision want = memory.Hit("read|user:ann", limit, now);
    EXPECT_EQ(got.allowed, i < 5) << i;
    EXPECT_EQ(got.allowed, want.allowed) << i;
    EXPECT_EQ(got.limit, 5u);
    EXPECT_EQ(got.remaining, want.remaining) << i;
    EXPECT_NEAR(got.reset_s, want.reset_s, 2.0) << i;
    EXPECT_NEAR(got.retry_after_s, want.retry_after_s, 2.0) << i;
  }
  // Another caller has a count of their own.
  EXPECT_TRUE(on_b.Hit("read|user:bob", limit, 0).allowed);
  EXPECT_EQ(on_a.errors() + on_b.errors(), 0u);
  // The keys expire: nothing stays in Redis after two windows.
  Result<RedisReply> keys = a->Command({"KEYS", "stride:rl:*"});
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->elements.size(), 2u);
  for (const RedisReply& k : keys->elements) {
    Result<RedisReply> ttl = a->Command({"PTTL", k.str});
    ASSERT_TRUE(ttl.ok());
    EXPECT_GT(ttl->integer, 3600 * 1000) << k.str;
    EXPECT_LE(ttl->integer, 2 * 3600 * 1000) << k.str;
  }
}

httplib::Headers Bearer(const std::string& user) {
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  return {{"Authorization",
           "Bearer " + server::Jwt(kSecret).Mint(user, "runner:read runner:write", 3600, now)}};
}

class RedisReplicas : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::RedisServerBinary().empty()) {
      GTEST_SKIP() << "redis-server is not installed (scripts/deps.sh installs redis-server)";
    }
    redis_ = std::make_unique<testing::RedisServer>();
    ASSERT_TRUE(redis_->ok());
    dir_ = testing::ServerFolder("redis", 20);
    ASSERT_FALSE(dir_.empty());
  }
  void TearDown() override {
    replicas_.clear();
    process_.reset();
    redis_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  // Two replicas in this process (`redis` empty: each its own in-memory limits), the third
  // the `stride serve` process when `with_process`.
  void StartReplicas(const std::string& redis, bool with_process) {
    for (int i = 0; i < 2; ++i) {
      server::HttpServerOptions o;
      o.db_path = dir_ + "/db";
      o.jwt_secret = kSecret;
      o.rate_limits = {};
      ASSERT_TRUE(o.rate_limits.Set("read=100/m").ok());
      tools::ServeStoreOptions s = testing::RunsAt(dir_ + "/runs" + std::to_string(i));
      s.redis_url = redis;
      replicas_.push_back(std::make_unique<testing::RunningServer>(o, s));
      ASSERT_NE(replicas_.back()->port(), 0) << replicas_.back()->status().ToString();
      ports_.push_back(replicas_.back()->port());
    }
    if (with_process) {
      // `stride serve --redis URL` as an operator starts it: the third replica.
      process_ = std::make_unique<testing::ServeProcess>(
          std::vector<std::string>{"--db", dir_ + "/db", "--runs", dir_ + "/runs3", "--port", "0",
                                   "--quiet", "--redis", redis, "--rate-limit", "read=100/m"},
          kSecret, dir_ + "/serve.log");
      ASSERT_NE(process_->port(), 0) << ReadFile(dir_ + "/serve.log");
      ports_.push_back(process_->port());
    }
  }
  // `per_replica` GETs of /v1/runs by `user` to each replica at once; the statuses counted.
  std::map<int, int> Burst(const std::string& user, int per_replica) {
    std::mutex mu;
    std::map<int, int> statuses;
    std::vector<std::thread> clients;
    for (int port : ports_) {
      for (int k = 0; k < 2; ++k) {
        clients.emplace_back([&, port] {
          httplib::Client c = testing::ApiClient(port);
          for (int i = 0; i < per_replica / 2; ++i) {
            auto r = c.Get("/v1/runs", Bearer(user));
            std::lock_guard lock(mu);
            ++statuses[r ? r->status : 0];
          }
        });
      }
    }
    for (auto& t : clients) t.join();
    return statuses;
  }
  std::unique_ptr<testing::RedisServer> redis_;
  std::string dir_;
  std::vector<std::unique_ptr<testing::RunningServer>> replicas_;
  std::unique_ptr<testing::ServeProcess> process_;
  std::vector<int> ports_;
};

TEST_F(RedisReplicas, ALimitOf100AMinuteAdmitsExactly100ThroughThreeReplicas) {
  StartReplicas(redis_->url(), true);
  ASSERT_EQ(ports_.size(), 3u);
  // Not across a minute's edge, where the previous window's requests weigh in (the burst
  // takes well under a second; the margin is 3 s).
  std::unique_ptr<Redis> redis = Connect(redis_->url());
  ASSERT_TRUE(redis);
  Result<RedisReply> t = redis->Command({"TIME"});
  ASSERT_TRUE(t.ok());
  const int64_t into_minute = std::stoll(t->elements.at(0).str) % 60;
  if (into_minute >= 57) std::this_thread::sleep_for(std::chrono::seconds(61 - into_minute));
  std::map<int, int> statuses = Burst("ann", 50);  // 150 requests, 50 through each
  EXPECT_EQ(statuses[200], 100);
  EXPECT_EQ(statuses[429], 50);
  EXPECT_EQ(statuses.size(), 2u);
  // The budget is ann's, not everyone's: bob still gets his, through any replica, and each
  // answer counts down one shared budget.
  for (size_t i = 0; i < ports_.size(); ++i) {
    auto r = testing::ApiClient(ports_[i]).Get("/v1/runs", Bearer("bob"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(r->get_header_value("RateLimit-Remaining"), std::to_string(99 - i));
  }
  auto over = testing::ApiClient(ports_[2]).Get("/v1/runs", Bearer("ann"));
  ASSERT_TRUE(over);
  EXPECT_EQ(over->status, 429);
  EXPECT_GE(std::stoi(over->get_header_value("Retry-After")), 1);
}

// The contrast: without Redis each replica counts alone, and the same burst gets through.
TEST_F(RedisReplicas, WithoutRedisEachReplicaCountsOnItsOwn) {
  StartReplicas("", false);
  std::map<int, int> statuses = Burst("ann", 60);  // 120 in all, 60 through each
  EXPECT_EQ(statuses[200], 120);
  EXPECT_EQ(statuses[429], 0);
}

TEST_F(RedisReplicas, RedisDownLetsRequestsThroughAndRedisBackLimitsThemAgain) {
  StartReplicas(redis_->url(), false);
  httplib::Client c = testing::ApiClient(ports_[0]);
  auto limited = c.Get("/v1/runs", Bearer("ann"));
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited->get_header_value("RateLimit-Remaining"), "99");
  redis_->Kill();
  for (int i = 0; i < 3; ++i) {
    const auto start = std::chrono::steady_clock::now();
    auto r = c.Get("/v1/runs", Bearer("ann"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    EXPECT_FALSE(r->has_header("RateLimit-Remaining"));
    // Answered within the command timeout (250 ms) plus a dial, not hung.
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 5.0);
  }
  redis_->Start();
  ASSERT_TRUE(redis_->ok());
  auto back = c.Get("/v1/runs", Bearer("ann"));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->status, 200);
  EXPECT_EQ(back->get_header_value("RateLimit-Remaining"), "99");  // a new, empty Redis
}

TEST(RedisCli, ABadOrUnreachableRedisIsRefusedAtStart) {
  const std::string dir = testing::ServerFolder("redis_cli", 5);
  ASSERT_FALSE(dir.empty());
  testing::CliRun r = testing::Stride("serve --db " + dir + "/db --redis http://x");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("stride serve: --redis http://x: expected "
                       "redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] or unix:///PATH"),
            std::string::npos)
      << r.err;
  const int port = testing::FreeLoopbackPort();
  r = testing::Stride("serve --db " + dir +
                      "/db --port 0 --redis redis://127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot reach Redis at 127.0.0.1:" + std::to_string(port)),
            std::string::npos)
      << r.err;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace stride
