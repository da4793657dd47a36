// SPDX-License-Identifier: Apache-2.0
//
// Re-analysis of stored runs (POST /v1/admin/reanalyze) through a real server on loopback over
// a real RocksDB run store: runs uploaded to a server without a geofence table are analysed
// again by one with it (the stand-in for an algorithm change that the test can make): the runs
// that touch a region are stored again under the same id with the region, announced again
// (the sync pull carries the new summary), the others left alone; a pass with nothing new
// writes nothing. The import change (a route database that now has the trails) is in
// runs_test.cpp; the queued form, through a `stride worker`, in cluster_test.cpp.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "datasets/synthetic_activity.hpp"
#include "server/auth.hpp"
#include "tests/support/api_client.hpp"
#include "tests/support/running_server.hpp"

namespace stride {
namespace {

using Json = nlohmann::json;

const std::string kSecret = "reanalysis-test-secret-0123456789abcdef01";

httplib::Headers Bearer(const std::string& user, const std::string& scope) {
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  return {{"Authorization", "Bearer " + server::Jwt(kSecret).Mint(user, scope, 3600, now)}};
}

class Reanalysis : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::ServerFolder("reanalysis");
    ASSERT_FALSE(dir_.empty());
    std::ofstream(dir_ + "/regions.geojson") << R"({"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{"name":"andorra-centre"},"geometry":{"type":"Polygon",
       "coordinates":[[[1.50,42.49],[1.54,42.49],[1.54,42.52],[1.50,42.52],[1.50,42.49]]]}}]})";
    Start(false);
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Start(bool geofences) {
    server_.reset();
    server::HttpServerOptions o;
    o.db_path = dir_ + "/db";
    o.jwt_secret = kSecret;
    o.rate_limits = {};
    if (geofences) o.geofences_path = dir_ + "/regions.geojson";
    server_ = std::make_unique<testing::RunningServer>(o, testing::RunsAt(dir_ + "/runs"));
    ASSERT_NE(server_->port(), 0) << server_->status().message();
  }
  httplib::Client Client() {
    httplib::Client c = stride::testing::ApiClient(server_->port());
    c.set_read_timeout(30, 0);
    return c;
  }
  Json Upload(const std::string& user, double lat, double lon, uint32_t seed) {
    datasets::SyntheticRunOptions ro;
    ro.seed = seed;
    ro.start_lat_deg = lat;
    ro.start_lon_deg = lon;
    ro.start_time_s = 1.75e9 + seed * 86400.0;
    auto r = Client().Post("/v1/runs", Bearer(user, "runner:read runner:write"),
                           datasets::WriteGpx(datasets::MakeSyntheticRun(ro).recorded),
                           "application/gpx+xml");
    EXPECT_TRUE(r && r->status == 201) << (r ? r->body : "no answer");
    return r && r->status == 201 ? Json::parse(r->body) : Json();
  }
  Json GetRun(const std::string& user, const std::string& id) {
    auto r = Client().Get("/v1/runs/" + id, Bearer(user, "runner:read"));
    EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
    return r && r->status == 200 ? Json::parse(r->body) : Json();
  }
  // Starts a pass and waits for its end; its final progress.
  Json Reanalyze(const std::string& query = "") {
    auto r = Client().Post("/v1/admin/reanalyze" + query, Bearer("ops", "admin"), "", "");
    EXPECT_TRUE(r && r->status == 202) << (r ? r->body : "no answer");
    if (!r || r->status != 202) return Json();
    EXPECT_EQ(Json::parse(r->body)["mode"], "on this server");
    for (int i = 0; i < 600; ++i) {
      auto p = Client().Get("/v1/admin/reanalyze", Bearer("ops", "admin"));
      const Json j = p ? Json::parse(p->body, nullptr, false) : Json();
      if (j.is_object() && j["state"] == "finished") return j;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "the re-analysis did not finish in 30 s";
    return Json();
  }
  std::string dir_;
  std::unique_ptr<testing::RunningServer> server_;
};

TEST_F(Reanalysis, ANewAnalysisIsStoredUnderTheSameIdAndAnnouncedAndAnUnchangedOneIsNotWritten) {
  // Nothing to do yet: the progress says so.
  auto never = Client().Get("/v1/admin/reanalyze", Bearer("ops", "admin"));
  ASSERT_TRUE(never);
  EXPECT_EQ(Json::parse(never->body)["state"], "never run") << never->body;
  const Json a1 = Upload("alice", 42.5, 1.52, 1);  // inside andorra-centre
  const Json a2 = Upload("alice", 43.0, 3.0, 2);   // in no region
  const Json b1 = Upload("bob", 42.5, 1.52, 3);
  ASSERT_TRUE(a1.is_object() && a2.is_object() && b1.is_object());
  EXPECT_EQ(a1["regions"], Json::array());

  // The same analysis again: nothing differs, nothing is written.
  Json p = Reanalyze();
  EXPECT_EQ(p["runs"], 3) << p.dump();
  EXPECT_EQ(p["changed"], 0) << p.dump();
  EXPECT_EQ(p["failed"], 0) << p.dump();
  EXPECT_TRUE(p["user"].is_null());

  // Scopes: a runner may not start one.
  auto denied = Client().Post("/v1/admin/reanalyze", Bearer("alice", "runner:write"), "", "");
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 403);

  // The pull a client made before: what changes after it comes in the next pull.
  auto pulled = Client().Get("/v1/sync/pull?last_pulled_at=0", Bearer("alice", "runner:read"));
  ASSERT_TRUE(pulled && pulled->status == 200) << (pulled ? pulled->body : "");
  const Json first_pull = Json::parse(pulled->body);

  // A server with the geofence table: the runs that touch the region change.
  Start(true);
  p = Reanalyze();
  EXPECT_EQ(p["runs"], 3) << p.dump();
  EXPECT_EQ(p["changed"], 2) << p.dump();
  EXPECT_EQ(p["failed"], 0) << p.dump();
  const Json a1_after = GetRun("alice", a1["id"]);
  EXPECT_EQ(a1_after["regions"], Json::array({"andorra-centre"}));
  EXPECT_EQ(a1_after["id"], a1["id"]);
  EXPECT_EQ(a1_after["uploaded_at"], a1["uploaded_at"]);
  EXPECT_EQ(a1_after["distance_m"], a1["distance_m"]);
  EXPECT_EQ(GetRun("alice", a2["id"]), GetRun("alice", a2["id"]));
  EXPECT_EQ(GetRun("alice", a2["id"])["regions"], Json::array());
  EXPECT_EQ(GetRun("bob", b1["id"])["regions"], Json::array({"andorra-centre"}));
  // Replaced, not added: alice still has two runs.
  auto list = Client().Get("/v1/runs", Bearer("alice", "runner:read"));
  ASSERT_TRUE(list);
  EXPECT_EQ(Json::parse(list->body)["runs"].size(), 2u) << list->body;
  // Announced: alice's next pull has the run again, with its region.
  auto next = Client().Get(
      "/v1/sync/pull?last_pulled_at=" + std::to_string(first_pull["last_pulled_at"].get<int64_t>()),
      Bearer("alice", "runner:read"));
  ASSERT_TRUE(next && next->status == 200) << (next ? next->body : "");
  const Json changes = Json::parse(next->body)["changes"];
  bool seen = false;
  for (const auto& [collection, c] : changes.items()) {
    for (const char* kind : {"created", "updated"}) {
      for (const Json& rec : c.value(kind, Json::array())) {
        if (rec.value("id", "") == a1["id"]) {
          seen = true;
          EXPECT_EQ(rec["regions"], Json::array({"andorra-centre"})) << rec.dump();
        }
        EXPECT_NE(rec.value("id", ""), a2["id"]) << "an unchanged run was announced";
      }
    }
  }
  EXPECT_TRUE(seen) << next->body;

  // One user's runs only; then again with nothing new.
  p = Reanalyze("?user=bob");
  EXPECT_EQ(p["user"], "bob");
  EXPECT_EQ(p["runs"], 1) << p.dump();
  EXPECT_EQ(p["changed"], 0) << p.dump();
  // A bad user is refused before anything starts.
  auto bad = Client().Post("/v1/admin/reanalyze?user=", Bearer("ops", "admin"), "", "");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400) << bad->body;
}

}  // namespace
}  // namespace stride
