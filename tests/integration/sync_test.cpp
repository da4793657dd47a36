// SPDX-License-Identifier: Apache-2.0
//
// Delta sync through a real `stride serve` on loopback, with the bundled plugins: an offline
// client pulls the runs an upload made, the profile and check-ins set on the web, the plan's
// days, challenge progress and chat messages; pushes its own edits (a workout log, run notes,
// a check-in, a profile field), which then show on the REST endpoints; meets a conflict; sees
// tombstones for a deleted run; and after DELETE /v1/me there is nothing left to pull.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "datasets/synthetic_activity.hpp"
#include "datasets/synthetic_routes.hpp"
#include "engine/text/iso_time.hpp"
#include "engine/time/time_zone.hpp"
#include "plugins/challenges/challenges.hpp"
#include "plugins/chat/chat.hpp"
#include "plugins/plan/plan.hpp"
#include "server/auth.hpp"
#include "server/http_server.hpp"
#include "tests/support/api_client.hpp"
#include "tests/support/running_server.hpp"

namespace stride {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const std::string kSecret = "sync-test-secret-0123456789abcdef0123";

double NowS() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}
httplib::Headers Auth(const std::string& user,
                      const std::string& scope = "runner:read runner:write chat:ask") {
  return {{"Authorization", "Bearer " + server::Jwt(kSecret).Mint(user, scope, 3600, NowS())}};
}

class Sync : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::path(::testing::TempDir()) / ("stride_sync_it_" + std::to_string(::getpid())))
               .string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    datasets::SyntheticRoutesOptions ro;
    ro.count = 20;
    ro.SetRegion(42.4, 1.4, 42.7, 1.8);
    ASSERT_TRUE(datasets::WriteSyntheticRouteDb(ro, dir_ + "/db", 2).ok());
    server::HttpServerOptions o;
    o.rate_limits = {};
    o.db_path = dir_ + "/db";
    o.jwt_secret = kSecret;
    o.bundled_plugins = {{plugins::challenges::Info, plugins::challenges::InitV1},
                         {plugins::plan::Info, plugins::plan::InitV1},
                         {plugins::chat::Info, plugins::chat::InitV1}};
    server_ = std::make_unique<testing::RunningServer>(o, testing::RunsAt(dir_ + "/runs"));
    ASSERT_NE(server_->port(), 0) << server_->status().message();
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }
  httplib::Client Client() {
    httplib::Client c = stride::testing::ApiClient(server_->port());
    c.set_read_timeout(30, 0);
    return c;
  }
  void Settle() {
    if (server_->http().plugin_host()) server_->http().plugin_host()->Drain();
  }
  // Every page from `since`; the changes merged by collection, the new last_pulled_at.
  std::pair<Json, uint64_t> PullAll(const std::string& user, uint64_t since, size_t limit = 0) {
    httplib::Client c = Client();
    Json merged = Json::object();
    for (int page = 0; page < 100; ++page) {
      std::string path = "/v1/sync/pull?schema_version=1&last_pulled_at=" + std::to_string(since);
      if (limit) path += "&limit=" + std::to_string(limit);
      auto r = c.Get(path, Auth(user));
      EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
      if (!r || r->status != 200) return {merged, since};
      const Json p = Json::parse(r->body);
      for (const auto& [collection, kinds] : p["changes"].items()) {
        for (const char* kind : {"created", "updated", "deleted"}) {
          for (const Json& x : kinds[kind]) merged[collection][kind].push_back(x);
        }
      }
      since = p["last_pulled_at"];
      if (!p["has_more"]) return {merged, since};
    }
    ADD_FAILURE() << "pull never ended";
    return {merged, since};
  }
  static const Json* Find(const Json& changes, const std::string& collection,
                          const std::string& kind, const std::string& id) {
    if (!changes.contains(collection) || !changes[collection].contains(kind)) return nullptr;
    for (const Json& x : changes[collection][kind]) {
      if ((x.is_string() && x == id) || (x.is_object() && x["id"] == id)) return &x;
    }
    return nullptr;
  }
  std::string dir_;
  std::unique_ptr<testing::RunningServer> server_;
};

TEST_F(Sync, AnOfflineClientPullsEveryKindOfChangeAndPushesItsEdits) {
  httplib::Client c = Client();
  const auto sam = Auth("sam");
  const double now = NowS();
  const std::string today = engine::FormatDate(static_cast<int64_t>(std::floor(now / 86400)));
  // The web sets the profile; the phone pulls it.
  const std::string goal_date = engine::FormatDate(static_cast<int64_t>(now / 86400) + 70);
  auto r = c.Put("/v1/me/profile", sam,
                 Json{{"time_zone", "UTC"},
                      {"weekly_volume_km", 30},
                      {"goal", {{"distance_m", 10000}, {"date", goal_date}}}}
                     .dump(),
                 "application/json");
  ASSERT_EQ(r->status, 200) << r->body;
  auto [first, t1] = PullAll("sam", 0);
  const Json* profile = Find(first, "profile", "created", "me");
  ASSERT_TRUE(profile) << first;
  EXPECT_EQ((*profile)["weekly_volume_km"], 30);
  EXPECT_EQ((*profile)["goal"]["date"], goal_date);

  // A run uploaded (by the watch's companion) shows as a created run with its summary.
  datasets::SyntheticRunOptions so;
  so.start_time_s = std::floor(now / 86400 - 1) * 86400 + 7 * 3600;  // yesterday, 07:00 UTC
  r = c.Post("/v1/runs", sam, datasets::WriteGpx(datasets::MakeSyntheticRun(so).recorded),
             "application/gpx+xml");
  ASSERT_EQ(r->status, 201) << r->body;
  const Json run = Json::parse(r->body);
  const std::string run_id = run["id"];
  // The plan (made on first reading), a challenge joined, a question asked.
  auto plan = c.Get("/v1/plans/current", sam);
  ASSERT_EQ(plan->status, 200) << plan->body;
  auto ch = c.Post("/v1/challenges", sam,
                   R"({"name":"Three a week","kind":"weekly","weeks":4,"runs_per_week":3})",
                   "application/json");
  ASSERT_EQ(ch->status, 201) << ch->body;
  const std::string challenge = Json::parse(ch->body)["id"];
  ASSERT_EQ(c.Post("/v1/challenges/" + challenge + "/join", sam, "{}", "application/json")->status,
            201);
  ASSERT_EQ(c.Post("/v1/chat/ask", sam, R"({"question":"How far did I run this week?"})",
                   "application/json")
                ->status,
            200);
  Settle();
  auto [second, t2] = PullAll("sam", t1, 3);  // pages of three
  EXPECT_GT(t2, t1);
  const Json* pulled_run = Find(second, "runs", "created", run_id);
  ASSERT_TRUE(pulled_run) << second.dump().substr(0, 2000);
  EXPECT_EQ((*pulled_run)["distance_m"], run["distance_m"]);
  EXPECT_EQ((*pulled_run)["start_time"], run["start_time"]);
  EXPECT_FALSE(Find(second, "profile", "updated", "me"));  // unchanged since t1
  // Every day the plan shows is there, as the plan shows it.
  const Json plan_json = Json::parse(plan->body);
  size_t days = 0;
  for (const Json& d : plan_json["days"]) {
    if (d["type"] == "run") continue;  // an extra run, not a planned day
    const Json* day = Find(second, "plans.days", "created", d["date"]);
    ASSERT_TRUE(day) << d;
    EXPECT_EQ((*day)["type"], d["type"]);
    EXPECT_EQ((*day)["distance_m"], d["distance_m"]);
    ++days;
  }
  EXPECT_GT(days, 20u);
  const Json* progress = Find(second, "challenges.progress", "created", challenge);
  ASSERT_TRUE(progress) << second["challenges.progress"];
  EXPECT_EQ((*progress)["challenge"], challenge);
  ASSERT_TRUE(second.contains("chat.messages"));
  std::set<std::string> roles;
  for (const Json& m : second["chat.messages"]["created"]) roles.insert(m["role"]);
  EXPECT_EQ(roles, (std::set<std::string>{"user", "assistant"}));

  // Offline, the phone logs a workout, rates the run, checks in and changes a profile field.
  const int64_t edit_ms = static_cast<int64_t>(now * 1000);
  const Json push = {
      {"changes",
       {{"workouts",
         {{"created",
           {{{"id", "phone-1"},
             {"updated_at", edit_ms},
             {"start", engine::FormatIsoTime(std::floor(now / 86400 - 3) * 86400 + 18 * 3600)},
             {"duration_s", 2700},
             {"sport", "strength"},
             {"notes", "gym"}}}}}},
        {"runs",
         {{"updated",
           {{{"id", run_id}, {"updated_at", edit_ms}, {"rpe", 7}, {"notes", "windy"}}}}}},
        {"readiness",
         {{"created",
           {{{"id", today}, {"updated_at", edit_ms}, {"sleep_h", 7.5}, {"soreness", 3}}}}}},
        {"profile",
         {{"updated", {{{"id", "me"}, {"updated_at", edit_ms}, {"max_hr_bpm", 188}}}}}}}}};
  EXPECT_FALSE(Json::parse(c.Get("/v1/runs/" + run_id, sam)->body).contains("runner"));
  r = c.Post("/v1/sync/push?last_pulled_at=" + std::to_string(t2), sam, push.dump(),
             "application/json");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Json::parse(r->body)["applied"], 4);
  // The same push again (the answer was lost): nothing changes.
  r = c.Post("/v1/sync/push?last_pulled_at=" + std::to_string(t2), sam, push.dump(),
             "application/json");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Json::parse(r->body)["applied"], 0);
  // The REST endpoints show what was pushed: the run with the runner's notes and RPE.
  const Json shown = Json::parse(c.Get("/v1/runs/" + run_id, sam)->body);
  EXPECT_EQ(shown["runner"], (Json{{"notes", "windy"}, {"rpe", 7}}));
  EXPECT_EQ(shown["id"], run_id);
  const Json prof = Json::parse(c.Get("/v1/me/profile", sam)->body);
  EXPECT_EQ(prof["max_hr_bpm"], 188);
  EXPECT_EQ(prof["weekly_volume_km"], 30);
  const Json checkins = Json::parse(c.Get("/v1/me/readiness", sam)->body);
  ASSERT_FALSE(checkins["check_ins"].empty()) << checkins;
  EXPECT_EQ(checkins["check_ins"][0]["date"], today);
  EXPECT_EQ(checkins["check_ins"][0]["sleep_h"], 7.5);
  // Another device pulls them all.
  auto [third, t3] = PullAll("sam", t2);
  const Json* rated = Find(third, "runs", "updated", run_id);
  ASSERT_TRUE(rated) << third;
  EXPECT_EQ((*rated)["rpe"], 7);
  EXPECT_EQ((*rated)["distance_m"], run["distance_m"]);
  EXPECT_TRUE(Find(third, "workouts", "created", "phone-1"));
  EXPECT_TRUE(Find(third, "readiness", "created", today));

  // A tablet that last pulled at t1 pushes an older edit of the same profile field: 409 with
  // the record that beats it, and nothing of its push applied.
  const Json stale = {
      {"changes",
       {{"profile",
         {{"updated", {{{"id", "me"}, {"updated_at", edit_ms - 60000}, {"max_hr_bpm", 180}}}}}},
        {"workouts",
         {{"created",
           {{{"id", "tablet-1"},
             {"updated_at", edit_ms - 60000},
             {"start", engine::FormatIsoTime(std::floor(now / 86400 - 5) * 86400)},
             {"duration_s", 600}}}}}}}}};
  r = c.Post("/v1/sync/push?last_pulled_at=" + std::to_string(t1), sam, stale.dump(),
             "application/json");
  ASSERT_EQ(r->status, 409) << r->body;
  const Json conflict = Json::parse(r->body);
  EXPECT_EQ(conflict["error"]["code"], "conflict");
  EXPECT_EQ(conflict["conflicts"][0]["id"], "me");
  EXPECT_EQ(conflict["changes"]["profile"]["updated"][0]["max_hr_bpm"], 188);
  auto [after_conflict, t4] = PullAll("sam", t3);
  EXPECT_FALSE(Find(after_conflict, "workouts", "created", "tablet-1"));

  // The run deleted on the web: a tombstone for the phone.
  ASSERT_EQ(c.Delete("/v1/runs/" + run_id, sam)->status, 204);
  Settle();
  auto [fourth, t5] = PullAll("sam", t4);
  EXPECT_TRUE(Find(fourth, "runs", "deleted", run_id)) << fourth;
  EXPECT_GT(t5, t4);

  // DELETE /v1/me: nothing of sam's is left to pull, from the start.
  ASSERT_EQ(c.Delete("/v1/me", sam)->status, 200);
  Settle();
  auto [gone, t6] = PullAll("sam", 0);
  EXPECT_EQ(gone, Json::object()) << gone.dump().substr(0, 1000);
  (void)t6;
}

TEST_F(Sync, BadRequestsAreRefusedWithWhatWasExpected) {
  httplib::Client c = Client();
  const auto ann = Auth("ann");
  auto expect = [&](httplib::Result r, int status, const std::string& fragment) {
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, status) << r->body;
    EXPECT_NE(r->body.find(fragment), std::string::npos) << r->body;
  };
  expect(c.Get("/v1/sync/pull"), 401, "");
  expect(c.Get("/v1/sync/pull", Auth("ann", "runner:write")), 403, "");
  expect(c.Get("/v1/sync/pull?last_pulled_at=yesterday", ann), 400,
         "last_pulled_at: expected a whole number");
  expect(c.Get("/v1/sync/pull?schema_version=2", ann), 400, "schema_version");
  expect(c.Get("/v1/sync/pull?since=1", ann), 400, "since");
  expect(c.Get("/v1/sync/pull?limit=5000", ann), 400, "limit");
  // A clock the server never answered: it was echoed back, and the changes before it skipped
  // (at 2^64 - 1, since + 1 wrapped and every change came again, forever).
  for (const char* clock : {"99999999999999", "18446744073709551615"}) {
    expect(c.Get(std::string("/v1/sync/pull?last_pulled_at=") + clock, ann), 400,
           std::string("last_pulled_at: ") + clock + " is after the last change this server has");
    expect(c.Post(std::string("/v1/sync/push?last_pulled_at=") + clock, ann,
                  R"({"changes":{"workouts":{"created":[{"id":"w1","updated_at":1}]}}})",
                  "application/json"),
           400, "pull from 0 first");
  }
  expect(c.Post("/v1/sync/push", ann, "{", "application/json"), 400, "body: expected");
  // The clock in the body instead of the query: it was ignored, and the push judged against 0.
  expect(c.Post("/v1/sync/push", ann, R"({"changes":{},"last_pulled_at":5})", "application/json"),
         400, "body.last_pulled_at: unknown field");
  expect(c.Post("/v1/sync/push", ann,
                R"({"changes":{"plans.days":{"updated":[{"id":"2027-01-01","updated_at":1}]}}})",
                "application/json"),
         403, "the server's collection");
  expect(
      c.Post("/v1/sync/push", ann,
             R"({"changes":{"profile":{"updated":[{"id":"me","updated_at":1,"max_hr_bpm":500}]}}})",
             "application/json"),
      400, "max_hr_bpm");
  expect(
      c.Post(
          "/v1/sync/push", ann,
          R"({"changes":{"readiness":{"created":[{"id":"2020-01-01","updated_at":1,"sleep_h":8}]}}})",
          "application/json"),
      400, "days back");
  // None of them stored anything.
  auto r = c.Get("/v1/sync/pull", ann);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(Json::parse(r->body)["changes"], Json::object());
  EXPECT_EQ(Json::parse(c.Get("/v1/me/profile", ann)->body).value("max_hr_bpm", 0), 0);
}

}  // namespace
}  // namespace stride
