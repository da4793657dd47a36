// SPDX-License-Identifier: Apache-2.0
//
// Webhooks leave a real server for a receiver on loopback that fails its first answers, is
// stopped while events happen, and comes back after the server itself was restarted: every
// event arrives (at least once, with one id per event), signed with the shared secret.
#include "server/webhooks.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "datasets/synthetic_activity.hpp"
#include "datasets/synthetic_routes.hpp"
#include "engine/hex.hpp"
#include "engine/store/key_value.hpp"
#include "server/auth.hpp"
#include "server/http_server.hpp"
#include "tests/support/api_client.hpp"
#include "tests/support/running_server.hpp"

namespace stride {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const std::string kJwt = "webhooks-test-secret-0123456789abcdef";
const std::string kHookSecret = "hook-secret-for-the-receiver";

// Answers 503 to the first `fail_first` requests, then 200; keeps what it accepted.
class Receiver {
 public:
  Receiver(int port, int fail_first) : fail_first_(fail_first) {
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      ++attempts_;
      if (attempts_ <= fail_first_) {
        res.status = 503;
        return;
      }
      // The signature: t=<ts>,v1=<hex HMAC-SHA256(secret, "<ts>.<body>")>.
      const std::string sig = req.get_header_value("Stride-Signature");
      const size_t v1 = sig.find(",v1=");
      const std::string ts = sig.substr(2, v1 - 2);
      const bool good = sig.rfind("t=", 0) == 0 && v1 != std::string::npos &&
                        sig.substr(v1 + 4) ==
                            engine::HexEncode(server::HmacSha256(kHookSecret, ts + "." + req.body));
      if (!good) {
        ++bad_signatures_;
        res.status = 401;
        return;
      }
      accepted_.push_back(Json::parse(req.body));
      ids_.push_back(req.get_header_value("Stride-Event-Id"));
      res.status = 200;
    });
    port_ = port == 0 ? server_.bind_to_any_port("127.0.0.1") : port;
    if (port != 0) server_.bind_to_port("127.0.0.1", port);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  std::vector<Json> accepted() {
    std::lock_guard lock(mu_);
    return accepted_;
  }
  std::vector<std::string> ids() {
    std::lock_guard lock(mu_);
    return ids_;
  }
  int attempts() {
    std::lock_guard lock(mu_);
    return attempts_;
  }
  int bad_signatures() {
    std::lock_guard lock(mu_);
    return bad_signatures_;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  const int fail_first_;
  std::mutex mu_;
  int attempts_ = 0, bad_signatures_ = 0;
  std::vector<Json> accepted_;
  std::vector<std::string> ids_;
};

// The server of this test: runs, and one webhook receiver at `hook_port`.
server::HttpServerOptions WithWebhook(const std::string& dir, int hook_port) {
  server::HttpServerOptions o;
  o.rate_limits = {};  // more requests than one caller may make a minute: rate_limit_test has them
  o.db_path = dir + "/db";
  o.jwt_secret = kJwt;
  o.webhooks = {"http://127.0.0.1:" + std::to_string(hook_port) + "/hook"};
  o.webhook_secret = kHookSecret;
  o.webhook_first_retry_s = 0.05;
  return o;
}

httplib::Headers Auth(const std::string& user) {
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  return {{"Authorization",
           "Bearer " + server::Jwt(kJwt).Mint(user, "runner:read runner:write", 3600, now)}};
}

bool WaitFor(const std::function<bool()>& done, double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

TEST(Webhooks, AUrlThatIsNotHttpHostPortPathIsRefusedWithWhatIsWrong) {
  engine::MemoryKeyValue outbox;
  auto start = [&](const std::string& url) {
    server::WebhookOptions o;
    o.urls = {url};
    o.secret = "0123456789abcdef";
    return server::WebhookSender::Start(o, &outbox, [](const std::string&) {});
  };
  const struct {
    const char* url;
    const char* message;
  } bad[] = {
      {"https://h:443/x", "expected http://host[:port]/path"},
      {"http://:8080/x", "no host"},
      // atoi read "8O80" (a letter O) as port 8, and "80abc" as 80.
      {"http://hooks.example:8O80/x", "port: '8O80' is not a whole number"},
      {"http://hooks.example:80abc/x", "port: '80abc' is not a whole number"},
      {"http://hooks.example:0/x", "port: 0 is out of range [1, 65535]"},
      {"http://hooks.example:70000/x", "port: 70000 is out of range [1, 65535]"},
      {"http://hooks.example:/x", "port: '' is not a whole number"},
  };
  for (const auto& c : bad) {
    const auto w = start(c.url);
    ASSERT_FALSE(w.ok()) << c.url;
    EXPECT_NE(w.status().message().find(c.message), std::string::npos) << w.status().message();
  }
  ASSERT_TRUE(start("http://hooks.example:8080/x").ok());
  ASSERT_TRUE(start("http://hooks.example/x").ok());
}

TEST(Webhooks, ArriveSignedAtLeastOnceThroughFailuresAndARestart) {
  const std::string dir = testing::ServerFolder("hooks");
  ASSERT_FALSE(dir.empty());
  datasets::SyntheticRunOptions so;
  const std::string gpx = datasets::WriteGpx(datasets::MakeSyntheticRun(so).recorded);

  int hook_port = 0;
  std::string stored_id;
  {
    Receiver receiver(0, 2);  // the first two attempts fail
    hook_port = receiver.port();
    testing::RunningServer s(WithWebhook(dir, hook_port), testing::RunsAt(dir + "/runs"));
    ASSERT_NE(s.port(), 0);
    httplib::Client c = stride::testing::ApiClient(s.port());
    auto r = c.Post("/v1/runs", Auth("hana"), gpx, "application/gpx+xml");
    ASSERT_EQ(r->status, 201);
    stored_id = Json::parse(r->body)["id"];
    ASSERT_TRUE(WaitFor([&] { return receiver.accepted().size() == 1; }, 10));
    EXPECT_EQ(receiver.attempts(), 3);  // 503, 503, then 200: retried with backoff
    EXPECT_EQ(receiver.bad_signatures(), 0);
    const Json e = receiver.accepted()[0];
    EXPECT_EQ(e["type"], "run.stored");
    EXPECT_EQ(e["user"], "hana");
    EXPECT_EQ(e["run_id"], stored_id);
    EXPECT_EQ(receiver.ids()[0], e["id"]);
    EXPECT_TRUE(s.http().webhooks()->WaitIdle(5));
    EXPECT_EQ(s.http().webhooks()->delivered(), 1u);
    EXPECT_EQ(s.http().webhooks()->failed_attempts(), 2u);
  }
  // The receiver is gone; events happen; the server stops with them undelivered.
  {
    testing::RunningServer s(WithWebhook(dir, hook_port), testing::RunsAt(dir + "/runs"));
    httplib::Client c = stride::testing::ApiClient(s.port());
    ASSERT_EQ(c.Delete("/v1/runs/" + stored_id, Auth("hana"))->status, 204);
    ASSERT_EQ(c.Delete("/v1/me", Auth("hana"))->status, 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_GT(s.http().webhooks()->failed_attempts(), 0u);
    EXPECT_EQ(s.http().webhooks()->delivered(), 0u);
  }
  // Back: a new receiver on the same port, a new server over the same database.
  Receiver receiver(hook_port, 0);
  testing::RunningServer s(WithWebhook(dir, hook_port), testing::RunsAt(dir + "/runs"));
  ASSERT_TRUE(WaitFor([&] { return receiver.accepted().size() >= 2; }, 15));
  std::vector<std::string> types;
  for (const Json& e : receiver.accepted()) types.push_back(e["type"]);
  std::sort(types.begin(), types.end());
  EXPECT_EQ(types, (std::vector<std::string>{"run.deleted", "user.deleted"}));
  EXPECT_EQ(receiver.bad_signatures(), 0);
  EXPECT_TRUE(s.http().webhooks()->WaitIdle(5));
  fs::remove_all(dir);
}

// Options for one receiver on this host's `port`, quick retries.
server::WebhookOptions OneHook(int port, int max_attempts) {
  server::WebhookOptions o;
  o.urls = {"http://127.0.0.1:" + std::to_string(port) + "/hook"};
  o.secret = kHookSecret;
  o.first_retry_s = 0.05;
  o.max_attempts = max_attempts;
  return o;
}

// A sender over `outbox` whose log lines go to *log, under *mu.
Result<std::unique_ptr<server::WebhookSender>> LoggedSender(const server::WebhookOptions& o,
                                                            engine::KeyValue* outbox,
                                                            std::mutex* mu, std::string* log) {
  return server::WebhookSender::Start(o, outbox, [mu, log](const std::string& line) {
    std::lock_guard lock(*mu);
    *log += line + "\n";
  });
}

// The outbox MemoryKeyValue is, counting the writes after which it held nothing.
class WatchedOutbox : public engine::MemoryKeyValue {
 public:
  Status Delete(std::string_view key) override {
    const Status s = engine::MemoryKeyValue::Delete(key);
    bool empty = true;
    (void)Scan("", [&](std::string_view, std::string_view) { return empty = false; });
    if (empty) ++emptied_;
    return s;
  }
  int emptied() const { return emptied_; }

 private:
  std::atomic<int> emptied_{0};
};

// An event stays in the outbox until it is delivered or dropped: its retry is written before
// the attempt that failed leaves. The other way round, a crash between the two lost the event,
// and the outbox was empty (WaitIdle said idle) while a retry was still to come. Three
// attempts, all refused: the outbox empties once, when the event is dropped.
TEST(Webhooks, AnEventStaysInTheOutboxBetweenItsAttempts) {
  Receiver receiver(0, 3);
  WatchedOutbox outbox;
  std::mutex mu;
  std::string log;
  {
    Result<std::unique_ptr<server::WebhookSender>> sender =
        LoggedSender(OneHook(receiver.port(), 3), &outbox, &mu, &log);
    ASSERT_TRUE(sender.ok()) << sender.status().message();
    ASSERT_TRUE((*sender)->Enqueue({engine::RunEvent::Kind::kStored, "ann", 7}).ok());
    EXPECT_TRUE((*sender)->WaitIdle(10));
    // Idle means done: every attempt made and the event dropped, when the outbox is empty.
    EXPECT_EQ(receiver.attempts(), 3);
    EXPECT_EQ((*sender)->failed_attempts(), 3u);
    EXPECT_EQ((*sender)->dropped(), 1u);
  }
  EXPECT_EQ(outbox.emptied(), 1);
  std::lock_guard lock(mu);
  EXPECT_NE(log.find("dropped after 3 attempts (status 503)"), std::string::npos) << log;
}

// A receiver that answers a byte every 0.1 s (within any read timeout) held the one sender
// thread, and so every receiver's deliveries, for as long as it went on. A delivery is now
// bounded in all by timeout_s: retried, then dropped, in about two of them, not in its 30 s.
TEST(Webhooks, AReceiverThatNeverFinishesItsAnswerIsCutAtTheTimeout) {
  httplib::Server slow;
  std::atomic<int> attempts{0};
  slow.Post("/hook", [&attempts](const httplib::Request&, httplib::Response& res) {
    ++attempts;
    res.set_chunked_content_provider("text/plain", [](size_t, httplib::DataSink& sink) {
      for (int i = 0; i < 300; ++i) {
        if (!sink.write("k", 1)) return false;  // the sender left
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      sink.done();
      return true;
    });
  });
  const int port = slow.bind_to_any_port("127.0.0.1");
  std::thread listening([&slow] { slow.listen_after_bind(); });
  while (!slow.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  engine::MemoryKeyValue outbox;
  std::mutex mu;
  std::string log;
  server::WebhookOptions o = OneHook(port, 2);
  o.timeout_s = 0.5;
  {
    Result<std::unique_ptr<server::WebhookSender>> sender = LoggedSender(o, &outbox, &mu, &log);
    ASSERT_TRUE(sender.ok()) << sender.status().message();
    ASSERT_TRUE((*sender)->Enqueue({engine::RunEvent::Kind::kStored, "ann", 7}).ok());
    EXPECT_TRUE((*sender)->WaitIdle(10));
    EXPECT_EQ((*sender)->delivered(), 0u);
    EXPECT_EQ((*sender)->dropped(), 1u);
    EXPECT_EQ(attempts.load(), 2);
  }
  {
    std::lock_guard lock(mu);
    EXPECT_NE(log.find("dropped after 2 attempts (no whole answer within 0.5 s)"),
              std::string::npos)
        << log;
  }
  slow.stop();
  listening.join();
}

}  // namespace
}  // namespace stride
