// SPDX-License-Identifier: Apache-2.0
//
// Rate limits through a real server on loopback (server/rate_limit.hpp): per user on the run,
// profile and plugin routes, per client address on public route search, none on health; 429
// with Retry-After and the RateLimit-* headers; a refused or unauthenticated request costs
// nothing; and `stride serve --rate-limit` refuses a bad setting with a clear error.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "datasets/synthetic_routes.hpp"
#include "plugins/chat/chat.hpp"
#include "plugins/plan/plan.hpp"
#include "server/auth.hpp"
#include "server/http_server.hpp"
#include "tests/support/api_client.hpp"
#include "tests/support/cli.hpp"
#include "tests/support/running_server.hpp"

namespace stride {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const std::string kSecret = "rate-limit-test-secret-0123456789abcdef";

httplib::Headers Bearer(const std::string& user,
                        const std::string& scope = "runner:read runner:write") {
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  return {{"Authorization", "Bearer " + server::Jwt(kSecret).Mint(user, scope, 3600, now)}};
}

class RateLimits : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::ServerFolder("rate", 50);
    ASSERT_FALSE(dir_.empty());
    server::HttpServerOptions o;
    o.db_path = dir_ + "/db";
    o.jwt_secret = kSecret;
    o.bundled_plugins = {{plugins::plan::Info, plugins::plan::InitV1},
                         {plugins::chat::Info, plugins::chat::InitV1}};
    o.rate_limits = {};
    for (const char* s : {"read=3/m", "write=2/m", "search=4/m", "chat:ask=2/h"}) {
      ASSERT_TRUE(o.rate_limits.Set(s).ok());
    }
    server_ = std::make_unique<testing::RunningServer>(o, testing::RunsAt(dir_ + "/runs"));
    ASSERT_NE(server_->port(), 0) << server_->status().message();
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }
  httplib::Client Client() const {
    httplib::Client c = stride::testing::ApiClient(server_->port());
    c.set_read_timeout(30, 0);
    return c;
  }
  std::string dir_;
  std::unique_ptr<testing::RunningServer> server_;
};

TEST_F(RateLimits, ReadsArePerUserAndTheFourthIsRefusedWithTheWait) {
  httplib::Client c = Client();
  for (int i = 0; i < 3; ++i) {
    auto r = c.Get("/v1/runs", Bearer("ann"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(r->get_header_value("RateLimit-Limit"), "3");
    EXPECT_EQ(r->get_header_value("RateLimit-Remaining"), std::to_string(2 - i));
    EXPECT_EQ(r->get_header_value("RateLimit-Policy"), "\"read\";q=3;w=60");
    EXPECT_FALSE(r->has_header("Retry-After"));
  }
  // A plugin's GET is a read too, and the same budget.
  auto over = c.Get("/v1/plans/next", Bearer("ann"));
  ASSERT_TRUE(over);
  EXPECT_EQ(over->status, 429) << over->body;
  ASSERT_TRUE(over->has_header("Retry-After"));
  const int wait = std::stoi(over->get_header_value("Retry-After"));
  EXPECT_GE(wait, 1);
  EXPECT_LE(wait, 120);
  EXPECT_EQ(over->get_header_value("RateLimit-Remaining"), "0");
  const Json body = Json::parse(over->body);
  EXPECT_EQ(body["error"]["code"], "rate_limited");
  EXPECT_NE(body["error"]["message"].get<std::string>().find("3 requests per minute per user"),
            std::string::npos)
      << body.dump();
  // Another user has a budget of their own; no token is a 401, not a 429, and costs nothing.
  auto bob = c.Get("/v1/runs", Bearer("bob"));
  ASSERT_TRUE(bob);
  EXPECT_EQ(bob->status, 200);
  EXPECT_EQ(bob->get_header_value("RateLimit-Remaining"), "2");
  auto anonymous = c.Get("/v1/runs");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  // Writes are a separate limit: ann may still delete, twice.
  for (int i = 0; i < 2; ++i) {
    auto del = c.Delete("/v1/runs/r_0000000000000000", Bearer("ann"));
    ASSERT_TRUE(del);
    EXPECT_EQ(del->status, 404) << del->body;  // counted, though there was nothing to delete
    EXPECT_EQ(del->get_header_value("RateLimit-Policy"), "\"write\";q=2;w=60");
  }
  auto del = c.Delete("/v1/runs/r_0000000000000000", Bearer("ann"));
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 429);
  auto put = c.Put("/v1/me/profile", Bearer("ann"), R"({"max_hr_bpm":190})", "application/json");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 429);  // a profile change is a write
}

TEST_F(RateLimits, AskingTheChatHasItsOwnHourlyLimitAndRetrievingIsARead) {
  httplib::Client c = Client();
  const httplib::Headers ann = Bearer("ann", "runner:read chat:ask");
  const std::string q = R"({"question":"How far did I run last week?"})";
  for (int i = 0; i < 2; ++i) {
    auto r = c.Post("/v1/chat/ask", ann, q, "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(r->get_header_value("RateLimit-Policy"), "\"chat:ask\";q=2;w=3600");
  }
  auto over = c.Post("/v1/chat/ask", ann, q, "application/json");
  ASSERT_TRUE(over);
  EXPECT_EQ(over->status, 429) << over->body;
  EXPECT_GT(std::stoi(over->get_header_value("Retry-After")), 60);
  EXPECT_NE(over->body.find("2 requests per hour per user"), std::string::npos) << over->body;
  // Retrieval carries its question in a POST body but only reads: the read limit.
  auto r = c.Post("/v1/chat/retrieve", ann, q, "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("RateLimit-Policy"), "\"read\";q=3;w=60");
}

TEST_F(RateLimits, PublicSearchIsPerClientAddressAndHealthIsNeverLimited) {
  httplib::Client c = Client();
  for (int i = 0; i < 4; ++i) {
    auto r = c.Get("/v1/routes?bbox=1.4,42.4,1.8,42.7&limit=2");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(r->get_header_value("RateLimit-Remaining"), std::to_string(3 - i));
  }
  auto over = c.Get("/v1/routes/nearest?lat=42.5&lon=1.5");
  ASSERT_TRUE(over);
  EXPECT_EQ(over->status, 429);
  EXPECT_NE(over->body.find("per client address"), std::string::npos) << over->body;
  // A token does not buy public search more: it is counted by address.
  auto with_token = c.Get("/v1/routes?bbox=1.4,42.4,1.8,42.7", Bearer("ann"));
  ASSERT_TRUE(with_token);
  EXPECT_EQ(with_token->status, 429);
  // Health and metrics answer whatever the limits, with no limit headers.
  for (int i = 0; i < 20; ++i) {
    auto h = c.Get("/v1/health");
    ASSERT_TRUE(h);
    ASSERT_EQ(h->status, 200);
    EXPECT_FALSE(h->has_header("RateLimit-Limit"));
  }
  // Reads by a user are untouched by the address's search budget.
  auto runs = c.Get("/v1/runs", Bearer("ann"));
  ASSERT_TRUE(runs);
  EXPECT_EQ(runs->status, 200);
}

TEST_F(RateLimits, BehindATrustedProxyClientsAreCountedByTheirForwardedAddress) {
  server_.reset();
  server::HttpServerOptions o;
  o.db_path = dir_ + "/db";
  o.jwt_secret = kSecret;
  o.rate_limits = {};
  ASSERT_TRUE(o.rate_limits.Set("search=2/m").ok());
  o.trusted_proxies = {"127.0.0.1"};
  server_ = std::make_unique<testing::RunningServer>(o, testing::RunsAt(dir_ + "/runs"));
  ASSERT_NE(server_->port(), 0);
  httplib::Client c = Client();
  auto from = [&](const std::string& xff) {
    auto r = c.Get("/v1/routes?bbox=1.4,42.4,1.8,42.7&limit=1", {{"X-Forwarded-For", xff}});
    return r ? r->status : 0;
  };
  EXPECT_EQ(from("203.0.113.7"), 200);
  EXPECT_EQ(from("203.0.113.7"), 200);
  EXPECT_EQ(from("203.0.113.7"), 429);
  EXPECT_EQ(from("203.0.113.8"), 200);  // another client behind the same proxy
  // A client cannot pick its address by prepending one: the proxy appends the real one last.
  EXPECT_EQ(from("198.51.100.1, 203.0.113.7"), 429);
  // The trusted proxy itself in the list is skipped.
  EXPECT_EQ(from("203.0.113.7, 127.0.0.1"), 429);
}

TEST(RateLimitCli, ALimitNoRequestIsCountedAgainstStopsTheServerAtStart) {
  // "reads" for "read" was taken, and reads went unlimited. Which names are counted is known
  // once the routes (the plugins' too) are: the server says so before it listens.
  const std::string dir = testing::ServerFolder("ratecli", 20);
  ASSERT_FALSE(dir.empty());
  const std::string serve =
      "timeout 60 " + std::string(STRIDE_CLI) + " serve --dev --port 0 --db " + dir + "/db";
  const testing::CliRun r = testing::RunShell(serve + " --rate-limit reads=50/m");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("--rate-limit reads=50/m: no request is counted against a limit named "
                       "'reads' (the limits: "),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("read, runner:read, runner:write"), std::string::npos) << r.err;
  // A plugin's scope is a limit of its own (chat:ask is the chat plugin's).
  const testing::CliRun off =
      testing::RunShell(serve + " --rate-limit admin=off --rate-limit x=off");
  EXPECT_EQ(off.exit_code, 1) << off.err;
  EXPECT_NE(off.err.find("--rate-limit x=off: no request is counted against a limit named 'x'"),
            std::string::npos)
      << off.err;
  std::filesystem::remove_all(dir);
}

TEST(RateLimitCli, ABadSettingIsRefusedWithWhatWasExpected) {
  const testing::CliRun r = testing::Stride("serve --db /nonexistent --rate-limit read=many/m");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--rate-limit read=many/m: expected a count of at least 1 before '/'"),
            std::string::npos)
      << r.err;
  // A trusted proxy is matched against the peer's address: a name or a range never would be,
  // and every client behind it would share its limits.
  for (const char* proxy : {"haproxy", "10.0.0.0/8", "10.0.0.1:8080"}) {
    const testing::CliRun p =
        testing::Stride(std::string("serve --db /nonexistent --trusted-proxy ") + proxy);
    EXPECT_EQ(p.exit_code, 2) << proxy;
    EXPECT_NE(p.err.find(std::string("--trusted-proxy ") + proxy +
                         ": expected the proxy's IPv4 or IPv6 address"),
              std::string::npos)
        << p.err;
  }
}

}  // namespace
}  // namespace stride
