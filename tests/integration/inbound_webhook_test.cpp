// SPDX-License-Identifier: Apache-2.0
//
// Inbound provider webhooks through a real server on loopback (server/inbound.hpp): a runner
// links a provider account, the provider pushes a signed FIT file, and it is stored as the
// runner's run, once however often it is delivered; forged, stale, unknown and unlinked
// deliveries are refused with what was wrong; DELETE /v1/me removes the link.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "datasets/synthetic_activity.hpp"
#include "datasets/synthetic_routes.hpp"
#include "server/auth.hpp"
#include "server/http/gzip.hpp"
#include "server/http_server.hpp"
#include "server/inbound.hpp"
#include "tests/support/api_client.hpp"
#include "tests/support/running_server.hpp"

namespace stride {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const std::string kSecret = "inbound-test-secret-0123456789abcdef0123";
const std::string kProviderSecret = "garmin-shared-secret-0123456789";

double Now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

httplib::Headers Bearer(const std::string& user) {
  return {{"Authorization",
           "Bearer " + server::Jwt(kSecret).Mint(user, "runner:read runner:write", 3600, Now())}};
}

httplib::Headers Signed(const std::string& event, const std::string& account,
                        const std::string& body, double at = Now(),
                        const std::string& secret = kProviderSecret) {
  const auto t = static_cast<int64_t>(at);
  return {{"Webhook-Id", event},
          {"Webhook-Timestamp", std::to_string(t)},
          {"Webhook-User", account},
          {"Webhook-Signature", server::SignInbound(secret, event, t, account, body)}};
}

class InboundWebhooks : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::ServerFolder("inbound");
    ASSERT_FALSE(dir_.empty());
    server::HttpServerOptions o;
    o.db_path = dir_ + "/db";
    o.jwt_secret = kSecret;
    o.inbound.secrets["garmin"] = {kProviderSecret};
    server_ = std::make_unique<testing::RunningServer>(o, testing::RunsAt(dir_ + "/runs"));
    ASSERT_NE(server_->port(), 0) << server_->status().message();
    datasets::SyntheticRunOptions so;
    so.start_time_s = 1.79e9;
    fit_ = datasets::WriteFit(datasets::MakeSyntheticRun(so).recorded);
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
  size_t RunsOf(const std::string& user) {
    auto r = Client().Get("/v1/runs", Bearer(user));
    EXPECT_TRUE(r && r->status == 200);
    return r ? Json::parse(r->body)["runs"].size() : 0;
  }
  std::string dir_;
  std::string fit_;
  std::unique_ptr<testing::RunningServer> server_;
};

TEST_F(InboundWebhooks, ALinkedAccountsActivityIsStoredOnceForItsRunner) {
  httplib::Client c = Client();
  auto link = c.Put("/v1/me/connections/garmin", Bearer("ann"), R"({"provider_user_id":"G-42"})",
                    "application/json");
  ASSERT_TRUE(link);
  ASSERT_EQ(link->status, 200) << link->body;
  auto listed = c.Get("/v1/me/connections", Bearer("ann"));
  ASSERT_TRUE(listed);
  EXPECT_EQ(Json::parse(listed->body)["connections"],
            Json::parse(R"([{"provider":"garmin","provider_user_id":"G-42"}])"));
  // Nobody else may claim that account.
  auto steal = c.Put("/v1/me/connections/garmin", Bearer("bob"), R"({"provider_user_id":"G-42"})",
                     "application/json");
  ASSERT_TRUE(steal);
  EXPECT_EQ(steal->status, 409);

  auto first = c.Post("/v1/webhooks/garmin", Signed("evt-1", "G-42", fit_), fit_,
                      "application/octet-stream");
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 201) << first->body;
  const std::string run_id = Json::parse(first->body)["id"];
  // Counted per provider address under a limit of its own, not as public search.
  EXPECT_EQ(first->get_header_value("RateLimit-Policy"), "\"webhook\";q=6000;w=60");
  EXPECT_EQ(RunsOf("ann"), 1u);
  EXPECT_EQ(RunsOf("bob"), 0u);
  // The provider delivers again (at least once): the same run, nothing stored.
  auto again = c.Post("/v1/webhooks/garmin", Signed("evt-1", "G-42", fit_), fit_,
                      "application/octet-stream");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200) << again->body;
  EXPECT_EQ(Json::parse(again->body)["id"], run_id);
  EXPECT_EQ(again->get_header_value("Idempotent-Replayed"), "true");
  EXPECT_EQ(RunsOf("ann"), 1u);
  // A new event, gzipped on the way (the signature is over the file itself), is another run.
  const std::string gz = server::http::Gzip(fit_);
  httplib::Headers h = Signed("evt-2", "G-42", fit_);
  h.emplace("Content-Encoding", "gzip");
  auto second = c.Post("/v1/webhooks/garmin", h, gz, "application/octet-stream");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 201) << second->body;
  EXPECT_EQ(RunsOf("ann"), 2u);
}

TEST_F(InboundWebhooks, ForgedStaleUnknownAndUnlinkedDeliveriesAreRefused) {
  httplib::Client c = Client();
  ASSERT_EQ(c.Put("/v1/me/connections/garmin", Bearer("ann"), R"({"provider_user_id":"G-42"})",
                  "application/json")
                ->status,
            200);
  auto post = [&](const httplib::Headers& h, const std::string& path = "/v1/webhooks/garmin") {
    auto r = c.Post(path, h, fit_, "application/octet-stream");
    EXPECT_TRUE(r);
    return r ? std::make_pair(r->status, r->body) : std::make_pair(0, std::string());
  };
  // Signed with another secret; the body changed after signing; a user swapped in.
  auto [forged, forged_body] = post(Signed("e1", "G-42", fit_, Now(), "not-the-secret-0123456"));
  EXPECT_EQ(forged, 401);
  EXPECT_NE(forged_body.find("Webhook-Signature"), std::string::npos) << forged_body;
  EXPECT_EQ(post(Signed("e2", "G-42", fit_ + "x")).first, 401);
  httplib::Headers swapped = Signed("e3", "G-7", fit_);
  swapped.erase("Webhook-User");
  swapped.emplace("Webhook-User", "G-42");
  EXPECT_EQ(post(swapped).first, 401);
  // Replayed after the window, or from the future.
  auto [stale, stale_body] = post(Signed("e4", "G-42", fit_, Now() - 600));
  EXPECT_EQ(stale, 401);
  EXPECT_NE(stale_body.find("outside the replay window of 300 s"), std::string::npos);
  EXPECT_EQ(post(Signed("e5", "G-42", fit_, Now() + 600)).first, 401);
  // A timestamp that is not plain unix seconds is a 400 that says so (strtoll took "+<t>").
  httplib::Headers plus = Signed("e5b", "G-42", fit_);
  const std::string t = plus.find("Webhook-Timestamp")->second;
  plus.erase("Webhook-Timestamp");
  plus.emplace("Webhook-Timestamp", "+" + t);
  auto [bad_time, bad_time_body] = post(plus);
  EXPECT_EQ(bad_time, 400);
  EXPECT_NE(bad_time_body.find("Webhook-Timestamp: expected unix seconds, got '+"),
            std::string::npos)
      << bad_time_body;
  // A header missing; a provider this server does not know; an account nobody linked.
  httplib::Headers no_id = Signed("e6", "G-42", fit_);
  no_id.erase("Webhook-Id");
  auto [missing, missing_body] = post(no_id);
  EXPECT_EQ(missing, 400);
  EXPECT_NE(missing_body.find("Webhook-Id"), std::string::npos);
  EXPECT_EQ(post(Signed("e7", "G-42", fit_), "/v1/webhooks/polar").first, 404);
  auto [unlinked, unlinked_body] = post(Signed("e8", "G-99", fit_));
  EXPECT_EQ(unlinked, 422);
  EXPECT_NE(unlinked_body.find("G-99"), std::string::npos);
  EXPECT_EQ(RunsOf("ann"), 0u);  // nothing of it stored
  // Linking to a provider the server does not know, or without an account id.
  EXPECT_EQ(c.Put("/v1/me/connections/polar", Bearer("ann"), R"({"provider_user_id":"P"})",
                  "application/json")
                ->status,
            404);
  EXPECT_EQ(c.Put("/v1/me/connections/garmin", Bearer("ann"), R"({"id":"P"})", "application/json")
                ->status,
            400);
}

TEST_F(InboundWebhooks, UnlinkingAndDeletingTheUserEndDeliveries) {
  httplib::Client c = Client();
  ASSERT_EQ(c.Put("/v1/me/connections/garmin", Bearer("ann"), R"({"provider_user_id":"G-42"})",
                  "application/json")
                ->status,
            200);
  auto del = c.Delete("/v1/me/connections/garmin", Bearer("ann"));
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 204);
  EXPECT_EQ(c.Delete("/v1/me/connections/garmin", Bearer("ann"))->status, 404);
  EXPECT_EQ(
      c.Post("/v1/webhooks/garmin", Signed("e1", "G-42", fit_), fit_, "application/octet-stream")
          ->status,
      422);
  // Linked again, then the user leaves: the account is free for someone else.
  ASSERT_EQ(c.Put("/v1/me/connections/garmin", Bearer("ann"), R"({"provider_user_id":"G-42"})",
                  "application/json")
                ->status,
            200);
  ASSERT_EQ(c.Delete("/v1/me", Bearer("ann"))->status, 200);
  EXPECT_EQ(
      c.Post("/v1/webhooks/garmin", Signed("e2", "G-42", fit_), fit_, "application/octet-stream")
          ->status,
      422);
  EXPECT_EQ(c.Put("/v1/me/connections/garmin", Bearer("bob"), R"({"provider_user_id":"G-42"})",
                  "application/json")
                ->status,
            200);
}

}  // namespace
}  // namespace stride
