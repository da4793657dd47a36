// SPDX-License-Identifier: Apache-2.0
//
// Plugins through a real `stride serve` stack on loopback: the bundled plugins and a
// signed example plugin loaded from a directory, behind the same auth, limits and errors as
// the core endpoints; a challenge along a route of the database advancing with an upload;
// admin listing and reload; export and delete-me across plugins; the coach chat on an upload.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "datasets/synthetic_activity.hpp"
#include "datasets/synthetic_routes.hpp"
#include "engine/sha256.hpp"
#include "engine/training/vdot.hpp"
#include "plugins/challenges/challenges.hpp"
#include "plugins/chat/chat.hpp"
#include "plugins/host/signing.hpp"
#include "plugins/plan/plan.hpp"
#include "server/auth.hpp"
#include "server/http_server.hpp"
#include "tests/support/api_client.hpp"
#include "tests/support/cli.hpp"
#include "tests/support/raw_http.hpp"
#include "tests/support/running_server.hpp"
#include "tests/support/sse.hpp"
#include "tests/support/tar.hpp"

namespace stride {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const std::string kSecret = "plugins-test-secret-0123456789abcdef";

std::string Token(const std::string& user, const std::string& scope = "runner:read runner:write") {
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  return server::Jwt(kSecret).Mint(user, scope, 3600, now);
}
httplib::Headers Auth(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}
std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// Installs the example plugin built as `library` into `dir` as "hello" `version`, signed with
// `private_hex` and allowed.
void InstallHello(const std::string& dir, const std::string& library, const std::string& version,
                  const std::string& private_hex) {
  fs::copy_file(library, dir + "/libhello.so", fs::copy_options::overwrite_existing);
  const std::string manifest = Json{{"name", "hello"},
                                    {"version", version},
                                    {"library", "libhello.so"},
                                    {"sha256", engine::Sha256Hex(ReadAll(dir + "/libhello.so"))}}
                                   .dump();
  std::ofstream(dir + "/hello.manifest.json") << manifest;
  std::ofstream(dir + "/hello.manifest.sig") << *plugins::SignEd25519(private_hex, manifest);
  std::ofstream(dir + "/plugins.allow") << "hello\n";
}

class Plugins : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = (fs::path(::testing::TempDir()) / ("stride_plugins_it_" + std::to_string(::getpid())))
               .string();
    fs::remove_all(dir_);
    fs::create_directories(dir_ + "/plugins");
    datasets::SyntheticRoutesOptions ro;
    ro.count = 50;
    ro.SetRegion(42.4, 1.4, 42.7, 1.8);
    ASSERT_TRUE(datasets::WriteSyntheticRouteDb(ro, dir_ + "/db", 2).ok());
    // The example plugin, signed.
    Result<plugins::Ed25519KeyPair> key = plugins::GenerateEd25519();
    ASSERT_TRUE(key.ok());
    InstallHello(dir_ + "/plugins", HELLO_V1, "1.0.0", key->private_hex);

    server::HttpServerOptions o;
    o.rate_limits =
        {};  // more requests than one caller may make a minute: rate_limit_test has them
    o.db_path = dir_ + "/db";
    o.jwt_secret = kSecret;
    o.bundled_plugins = {{plugins::challenges::Info, plugins::challenges::InitV1},
                         {plugins::plan::Info, plugins::plan::InitV1},
                         {plugins::chat::Info, plugins::chat::InitV1}};
    o.plugins_dir = dir_ + "/plugins";
    o.plugin_key_hex = key->public_hex;
    server_ = new testing::RunningServer(o, testing::RunsAt(dir_ + "/runs"));
    ASSERT_NE(server_->port(), 0) << server_->status().message();
  }
  static void TearDownTestSuite() {
    delete server_;
    fs::remove_all(dir_);
  }
  static httplib::Client Client() {
    httplib::Client c = stride::testing::ApiClient(server_->port());
    c.set_read_timeout(30, 0);
    return c;
  }
  static void Settle() {
    if (server_->http().plugin_host()) server_->http().plugin_host()->Drain();
  }
  static inline std::string dir_;
  static inline testing::RunningServer* server_ = nullptr;
};

TEST_F(Plugins, RoutesGetTheCoreAuthAndErrors) {
  httplib::Client c = Client();
  auto r = c.Get("/v1/hello");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(Json::parse(r->body)["plugin_version"], "1.0.0");
  EXPECT_EQ(c.Post("/v1/hello/notes", "x", "text/plain")->status, 401);
  EXPECT_EQ(c.Post("/v1/hello/notes", Auth(Token("ann", "runner:read")), "x", "text/plain")->status,
            403);
  EXPECT_EQ(c.Post("/v1/hello/notes", Auth(Token("ann")), "ann's", "text/plain")->status, 200);
  r = c.Get("/v1/hello/notes", Auth(Token("ann")));
  EXPECT_EQ(r->body, "ann's");
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain");
  r = c.Delete("/v1/hello/notes", Auth(Token("ann")));
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->get_header_value("Allow"), "POST, GET");
  EXPECT_EQ(c.Put("/v1/runs", "", "text/plain")->status, 405);  // a core path keeps its 405
  r = c.Get("/v1/nobody/here");
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(Json::parse(r->body)["error"]["code"], "not_found");
  // Plugin bodies have a limit too (1 MiB).
  EXPECT_EQ(c.Post("/v1/hello/notes", Auth(Token("ann")), std::string(2 << 20, 'x'), "text/plain")
                ->status,
            413);
}

TEST_F(Plugins, AdminListsAndReloads) {
  httplib::Client c = Client();
  EXPECT_EQ(c.Get("/v1/admin/plugins", Auth(Token("ann")))->status, 403);
  auto r = c.Get("/v1/admin/plugins", Auth(Token("root", "admin")));
  ASSERT_EQ(r->status, 200);
  const Json list = Json::parse(r->body);
  std::set<std::string> names;
  for (const Json& p : list["plugins"]) names.insert(p["name"]);
  EXPECT_EQ(names, (std::set<std::string>{"challenges", "chat", "hello", "plans"}));
  r = c.Post("/v1/admin/plugins/reload", Auth(Token("root", "admin")), "", "text/plain");
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(Json::parse(r->body)["reload"][0]["result"], "unchanged");
  r = c.Get("/metrics");
  EXPECT_NE(r->body.find("stride_plugin_calls_total{plugin=\"hello\"}"), std::string::npos);
}

using testing::ParseSse;
using testing::Sse;
using testing::SseRequest;

TEST_F(Plugins, EventStreamClientsReceiveMilestonesInOrderAndResumeFromTheirLastEvent) {
  httplib::Client c = Client();
  const std::string zoe = Token("zoe");
  auto routes = c.Get("/v1/routes?bbox=1.4,42.4,1.8,42.7&limit=1&sort=length");
  const Json route = Json::parse(routes->body)["routes"][0];
  auto r = c.Post("/v1/challenges", Auth(zoe),
                  Json{{"name", "Streamed relay"},
                       {"kind", "route"},
                       {"route_id", "r" + std::to_string(route["id"].get<uint64_t>())},
                       {"milestone_every_m", 300}}
                      .dump(),
                  "application/json");
  ASSERT_EQ(r->status, 201) << r->body;
  const std::string id = Json::parse(r->body)["id"];
  const std::string path = "/v1/challenges/" + id + "/events";
  ASSERT_EQ(c.Post("/v1/challenges/" + id + "/join", Auth(zoe), "{}", "application/json")->status,
            201);
  // Eight subscribers, connected before anything happens.
  std::vector<std::unique_ptr<testing::RawConnection>> clients;
  for (int i = 0; i < 8; ++i) {
    clients.push_back(std::make_unique<testing::RawConnection>(server_->port()));
    ASSERT_TRUE(clients.back()->Send(SseRequest(path, Token("fan" + std::to_string(i)))));
    // The backlog: zoe joining.
    ASSERT_NE(clients.back()->ReadUntil("event: member.joined", 5).find("member.joined"),
              std::string::npos);
  }
  datasets::SyntheticRunOptions so;
  r = c.Post("/v1/runs", Auth(zoe), datasets::WriteGpx(datasets::MakeSyntheticRun(so).recorded),
             "application/gpx+xml");
  ASSERT_EQ(r->status, 201) << r->body;
  const std::string run_id = Json::parse(r->body)["id"];
  Settle();
  const Json progress = Json::parse(c.Get("/v1/challenges/" + id, Auth(zoe))->body);
  const int reached = progress["teams"][0]["milestones_reached"];
  const Json& milestones = progress["milestones"];  // every 300 m, then the finish
  ASSERT_GE(reached, 3);
  // The run is deleted: every milestone is withdrawn, last first.
  ASSERT_EQ(c.Delete("/v1/runs/" + run_id, Auth(zoe))->status, 204);
  Settle();
  for (auto& client : clients) {
    const std::string& got =
        client->ReadUntil("event: milestone.withdrawn", 10, static_cast<size_t>(reached));
    ASSERT_NE(got.find("HTTP/1.1 200"), std::string::npos);
    const std::vector<Sse> events = ParseSse(testing::BodyOf(got));
    ASSERT_EQ(events.size(), 1 + 2 * static_cast<size_t>(reached)) << got;
    for (size_t i = 0; i < events.size(); ++i) {
      EXPECT_EQ(events[i].id, i + 1);  // every event once, in order
      EXPECT_EQ(events[i].data["seq"], i + 1);
      EXPECT_EQ(events[i].event, events[i].data["type"]);
    }
    for (int k = 0; k < reached; ++k) {
      const Sse& up = events[1 + static_cast<size_t>(k)];
      const Sse& down = events[events.size() - 1 - static_cast<size_t>(k)];
      EXPECT_EQ(up.event, "milestone.reached");
      EXPECT_NEAR(up.data["milestone_distance_m"].get<double>(),
                  milestones[static_cast<size_t>(k)]["distance_m"].get<double>(), 0.01);
      EXPECT_NEAR(up.data["milestone_distance_m"].get<double>(),
                  std::min(300.0 * (k + 1), progress["length_m"].get<double>()), 0.1);
      EXPECT_EQ(down.event, "milestone.withdrawn");
      EXPECT_EQ(down.data["milestone"], up.data["milestone"]);
    }
  }
  // A client that reconnects with Last-Event-ID gets what it missed, once.
  testing::RawConnection again(server_->port());
  ASSERT_TRUE(again.Send(SseRequest(path, Token("fan0"), "3")));
  const std::vector<Sse> resumed = ParseSse(testing::BodyOf(
      again.ReadUntil("event: milestone.withdrawn", 5, static_cast<size_t>(reached))));
  ASSERT_EQ(resumed.size(), 2 * static_cast<size_t>(reached) - 2);
  EXPECT_EQ(resumed.front().id, 4u);
  // A Last-Event-ID past the last event (a database restored from an older backup): a reset
  // event, then the feed from the start (before: nothing, until events past that number).
  testing::RawConnection ahead(server_->port());
  ASSERT_TRUE(ahead.Send(SseRequest(path, Token("fan0"), "500")));
  const std::vector<Sse> replayed = ParseSse(testing::BodyOf(
      ahead.ReadUntil("event: milestone.withdrawn", 5, static_cast<size_t>(reached))));
  ASSERT_EQ(replayed.size(), 2 + 2 * static_cast<size_t>(reached)) << replayed.size();
  EXPECT_EQ(replayed.front().event, "reset");
  EXPECT_EQ(replayed.front().data["after"], 500);
  EXPECT_EQ(replayed.front().data["last_seq"], 1 + 2 * reached);
  for (size_t i = 1; i < replayed.size(); ++i) EXPECT_EQ(replayed[i].id, i);
  // Polling still works without the Accept header, and a bad Last-Event-ID is a 400.
  const Json polled = Json::parse(c.Get(path + "?after=1", Auth(zoe))->body);
  EXPECT_EQ(polled["events"].size(), 2 * static_cast<size_t>(reached));
  EXPECT_EQ(testing::StatusOf(testing::Exchange(server_->port(), "GET", path,
                                                "Accept: text/event-stream\r\nLast-Event-ID: "
                                                "x\r\nAuthorization: Bearer " +
                                                    zoe + "\r\n")),
            400);
  // Streams show in the metrics while they are open (the replayed one is the tenth).
  EXPECT_NE(c.Get("/metrics")->body.find("stride_http_streams 10"), std::string::npos);
}

TEST_F(Plugins, AProfileSetsTheTimeZoneOfTheDailyTickAndLeavesWithTheUser) {
  httplib::Client c = Client();
  const std::string kim = Token("kim");
  EXPECT_EQ(Json::parse(c.Get("/v1/me/profile", Auth(kim))->body)["time_zone"], "UTC");
  auto r =
      c.Put("/v1/me/profile", Auth(kim), R"({"time_zone":"Mars/Olympus"})", "application/json");
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(Json::parse(r->body)["error"]["message"].get<std::string>().find("time_zone"),
            std::string::npos);
  EXPECT_EQ(c.Put("/v1/me/profile", Auth(kim), "not json", "application/json")->status, 400);
  EXPECT_EQ(
      c.Put("/v1/me/profile", R"({"time_zone":"Europe/Andorra"})", "application/json")->status,
      401);
  r = c.Put("/v1/me/profile", Auth(kim), R"({"time_zone":"Europe/Andorra"})", "application/json");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Json::parse(c.Get("/v1/me/profile", Auth(kim))->body)["time_zone"], "Europe/Andorra");
  // The hello plugin ticks daily at 06:00 local and the plans plugin at 01:00: a tick now
  // (whatever the hour) is due only past those hours in Andorra; each is recorded once at most.
  plugins::PluginHost* host = server_->http().plugin_host();
  const size_t first = host->Tick();
  EXPECT_LE(first, 2u);
  EXPECT_EQ(host->Tick(), 0u);
  // A readiness check-in: scored, listed, refused with the field named, gone with the user.
  r = c.Post("/v1/me/readiness", Auth(kim), R"({"sleep_h":6.5,"soreness":2})", "application/json");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Json::parse(r->body)["readiness"]["score"], 85);  // (90 x 0.2 + 80 x 0.2) / 0.4
  r = c.Post("/v1/me/readiness", Auth(kim), R"({"sleep_h":-1})", "application/json");
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("sleep_h: expected a number from 0 to 16\""), std::string::npos)
      << r->body;
  EXPECT_EQ(c.Post("/v1/me/readiness", R"({"sleep_h":7})", "application/json")->status, 401);
  r = c.Get("/v1/me/readiness?from=2020-01-01", Auth(kim));
  EXPECT_EQ(r->status, 400);  // more than 366 days
  r = c.Get("/v1/me/readiness", Auth(kim));
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(Json::parse(r->body)["check_ins"].size(), 1u);
  const auto files = testing::Untar(c.Get("/v1/me/export", Auth(kim))->body);
  ASSERT_TRUE(files.count("stride-export/plugins/host.json"));
  EXPECT_NE(files.at("stride-export/plugins/host.json").find("Europe/Andorra"), std::string::npos);
  ASSERT_EQ(c.Delete("/v1/me", Auth(kim))->status, 200);
  EXPECT_EQ(Json::parse(c.Get("/v1/me/profile", Auth(kim))->body)["time_zone"], "UTC");
  EXPECT_TRUE(Json::parse(c.Get("/v1/me/readiness", Auth(kim))->body)["check_ins"].empty());
  EXPECT_FALSE(testing::Untar(c.Get("/v1/me/export", Auth(kim))->body)
                   .count("stride-export/plugins/host.json"));
}

TEST_F(Plugins, AChallengeAlongARouteAdvancesWithAnUploadAndLeavesWithTheUser) {
  httplib::Client c = Client();
  const std::string eve = Token("eve");
  auto routes = c.Get("/v1/routes?bbox=1.4,42.4,1.8,42.7&limit=1&sort=length");
  ASSERT_EQ(routes->status, 200);
  const Json route = Json::parse(routes->body)["routes"][0];
  const std::string route_id = "r" + std::to_string(route["id"].get<uint64_t>());
  auto r = c.Post("/v1/challenges", Auth(eve),
                  Json{{"name", "Route relay"},
                       {"kind", "route"},
                       {"route_id", route_id},
                       {"milestone_every_m", 1000}}
                      .dump(),
                  "application/json");
  ASSERT_EQ(r->status, 201) << r->body;
  const Json created = Json::parse(r->body);
  EXPECT_NEAR(created["length_m"].get<double>(), route["length_m"].get<double>(),
              0.01 * route["length_m"].get<double>());
  const std::string id = created["id"];
  ASSERT_EQ(
      c.Post("/v1/challenges/" + id + "/join", Auth(eve), R"({"team":"green"})", "application/json")
          ->status,
      201);
  // A 5.4 km synthetic run (three laps of 1.8 km).
  datasets::SyntheticRunOptions so;
  const std::string gpx = datasets::WriteGpx(datasets::MakeSyntheticRun(so).recorded);
  r = c.Post("/v1/runs", Auth(eve), gpx, "application/gpx+xml");
  ASSERT_EQ(r->status, 201) << r->body;
  const double run_m = Json::parse(r->body)["distance_m"];
  Settle();
  const Json g = Json::parse(c.Get("/v1/challenges/" + id, Auth(eve))->body);
  ASSERT_EQ(g["teams"].size(), 1u);
  EXPECT_NEAR(g["teams"][0]["distance_m"].get<double>(), run_m, 0.1);
  const int reached = g["teams"][0]["milestones_reached"];
  EXPECT_EQ(reached, std::min<int>(static_cast<int>(run_m / 1000),
                                   static_cast<int>(g["milestones"].size())));
  // Export carries the plugins' data for eve; delete-me removes it from every plugin.
  c.Post("/v1/hello/notes", Auth(eve), "eve's note", "text/plain");
  auto tar = c.Get("/v1/me/export", Auth(eve));
  ASSERT_EQ(tar->status, 200);
  const auto files = testing::Untar(tar->body);
  ASSERT_TRUE(files.count("stride-export/plugins/challenges.json"));
  ASSERT_TRUE(files.count("stride-export/plugins/hello.json"));
  const Json ch = Json::parse(files.at("stride-export/plugins/challenges.json"));
  std::set<std::string> keys;
  for (const Json& k : ch["keys"]) keys.insert(k["key"]);
  EXPECT_TRUE(keys.count("j/" + id));
  EXPECT_NE(files.at("stride-export/plugins/hello.json").find("eve's note"), std::string::npos);
  EXPECT_NE(files.at("stride-export/manifest.json").find("plugins/hello.json"), std::string::npos);
  ASSERT_EQ(c.Delete("/v1/me", Auth(eve))->status, 200);
  Settle();
  EXPECT_EQ(c.Get("/v1/hello/notes", Auth(eve))->status, 404);
  EXPECT_TRUE(Json::parse(c.Get("/v1/challenges/mine", Auth(eve))->body)["challenges"].empty());
  const Json after = Json::parse(c.Get("/v1/challenges/" + id, Auth(Token("someone")))->body);
  EXPECT_EQ(after["members"], 0);  // the shared state let go of eve too
  const auto export_after = testing::Untar(c.Get("/v1/me/export", Auth(eve))->body);
  EXPECT_EQ(Json::parse(export_after.at("stride-export/plugins/challenges.json"))["keys"].size(),
            0u);
}

// The plan plugin on a real upload: its fitness is the VDOT of the upload's own best efforts.
TEST_F(Plugins, ThePlanPluginMeasuresFitnessAndLoadFromAnUpload) {
  httplib::Client c = Client();
  const std::string fay = Token("fay");
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  datasets::SyntheticRunOptions so;
  so.start_time_s = std::floor(now / 86400 - 2) * 86400 + 7 * 3600;  // two days ago, 07:00 UTC
  auto r =
      c.Post("/v1/runs", Auth(fay), datasets::WriteGpx(datasets::MakeSyntheticRun(so).recorded),
             "application/gpx+xml");
  ASSERT_EQ(r->status, 201) << r->body;
  const Json run = Json::parse(r->body);
  Settle();
  double want = -1;
  for (const Json& e : run["analysis"]["best_efforts"]) {
    if (e["distance_m"].get<double>() < 1500) continue;
    want = std::max(want, engine::VdotFromRace(e["distance_m"], e["time_s"]));
  }
  ASSERT_GT(want, 0) << "the synthetic run has a best effort of 1500 m or more";
  auto f = c.Get("/v1/plans/fitness", Auth(fay));
  ASSERT_EQ(f->status, 200) << f->body;
  const Json fit = Json::parse(f->body);
  EXPECT_NEAR(fit["vdot"].get<double>(), want, want * 0.005 * 3 / 7 + 0.01);
  EXPECT_EQ(fit["from"]["run_id"], run["id"]);
  auto p = c.Get("/v1/plans/predict?distance_m=10000", Auth(fay));
  ASSERT_EQ(p->status, 200) << p->body;
  EXPECT_NEAR(Json::parse(p->body)["time_s"].get<double>(),
              engine::PredictRaceTimeS(fit["vdot"], 10000), 30);
  auto l = c.Get("/v1/plans/load", Auth(fay));
  ASSERT_EQ(l->status, 200) << l->body;
  const Json load = Json::parse(l->body);
  EXPECT_EQ(load["days"].size(), 42u);
  EXPECT_GT(load["days"][39]["load"].get<double>(), 0);  // the run's day
  // A parameter the route does not declare is refused by the server, named, before the plugin
  // sees it: "form" for "from" was left out, and the last 42 days answered.
  auto typo = c.Get("/v1/plans/load?form=2026-01-01", Auth(fay));
  EXPECT_EQ(typo->status, 400);
  EXPECT_NE(typo->body.find("form: unknown parameter (expected from, to)"), std::string::npos)
      << typo->body;
  auto none = c.Get("/v1/plans/fitness?at=2026-01-01", Auth(fay));
  EXPECT_EQ(none->status, 400);
  EXPECT_NE(none->body.find("GET /v1/plans/fitness takes none"), std::string::npos) << none->body;
  EXPECT_EQ(c.Get("/v1/plans/fitness")->status, 401);
}

// The chat plugin on a real upload: retrieval finds the run by its day, asking needs chat:ask,
// the conversation is in the export and leaves with the user.
TEST_F(Plugins, TheChatFindsAnUploadedRunAndForgetsWithTheUser) {
  httplib::Client c = Client();
  const std::string gus = Token("gus", "runner:read runner:write chat:ask");
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  datasets::SyntheticRunOptions so;
  so.start_time_s = std::floor(now / 86400 - 1) * 86400 + 7 * 3600;  // yesterday, 07:00 UTC
  auto r =
      c.Post("/v1/runs", Auth(gus), datasets::WriteGpx(datasets::MakeSyntheticRun(so).recorded),
             "application/gpx+xml");
  ASSERT_EQ(r->status, 201) << r->body;
  const Json run = Json::parse(r->body);
  Settle();
  r = c.Post("/v1/chat/retrieve", Auth(gus), R"({"question":"How was my run yesterday?","k":3})",
             "application/json");
  ASSERT_EQ(r->status, 200) << r->body;
  const Json got = Json::parse(r->body);
  ASSERT_FALSE(got["items"].empty());
  EXPECT_EQ(got["items"][0]["kind"], "run");
  EXPECT_EQ(got["items"][0]["id"], run["id"]);
  char km[32];
  std::snprintf(km, sizeof km, "%.1f km", run["distance_m"].get<double>() / 1000);
  EXPECT_NE(got["items"][0]["text"].get<std::string>().find(km), std::string::npos)
      << got["items"][0]["text"];

  const std::string q = R"({"question":"How far did I run this week?"})";
  EXPECT_EQ(c.Post("/v1/chat/ask", q, "application/json")->status, 401);
  EXPECT_EQ(c.Post("/v1/chat/ask", Auth(Token("gus")), q, "application/json")->status, 403);
  r = c.Post("/v1/chat/ask", Auth(gus), q, "application/json");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Json::parse(r->body)["driver"], "none");
  EXPECT_EQ(c.Post("/v1/chat/retrieve", Auth(gus), "{", "application/json")->status, 400);

  const auto files = testing::Untar(c.Get("/v1/me/export", Auth(gus))->body);
  ASSERT_TRUE(files.count("stride-export/plugins/chat.json"));
  EXPECT_NE(files.at("stride-export/plugins/chat.json").find("How far did I run this week?"),
            std::string::npos);
  ASSERT_EQ(c.Delete("/v1/me", Auth(gus))->status, 200);
  Settle();
  r = c.Post("/v1/chat/retrieve", Auth(gus), R"({"question":"How was my run yesterday?"})",
             "application/json");
  ASSERT_EQ(r->status, 200) << r->body;
  const Json after = Json::parse(r->body);  // alive through the loop
  for (const Json& i : after["items"]) EXPECT_NE(i["kind"], "run") << i.dump();
  EXPECT_TRUE(Json::parse(c.Get("/v1/chat/messages", Auth(gus))->body)["messages"].empty());
}

// GET /v1/openapi.json documents every route the server serves: each core route of the table
// and each route the loaded plugins added, none left undescribed; the plugins' own operations
// are there with their schemas, and the core ones with their protobuf form.
TEST_F(Plugins, TheOpenApiDocumentDescribesEveryRouteServed) {
  httplib::Client c = Client();
  auto res = c.Get("/v1/openapi.json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  const Json doc = Json::parse(res->body);
  EXPECT_EQ(doc["openapi"], "3.1.0");
  const Json& paths = doc["paths"];
  auto lower = [](std::string m) {
    for (char& ch : m) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return m;
  };
  size_t core = 0;
  for (const server::ApiRoute& r : server_->http().api_routes()) {
    if (r.method == "*") continue;
    ++core;
    ASSERT_TRUE(paths.contains(r.pattern)) << r.pattern;
    ASSERT_TRUE(paths[r.pattern].contains(lower(r.method))) << r.method << " " << r.pattern;
    const Json& op = paths[r.pattern][lower(r.method)];
    EXPECT_FALSE(op.value("x-undocumented", false)) << r.name << " has no description";
    EXPECT_EQ(op["operationId"], r.name);
    EXPECT_EQ(op["security"].empty(), r.scope.empty()) << r.name;
  }
  EXPECT_GE(core, 38u);
  // Every plugin route, as the admin listing shows them.
  auto listed = c.Get("/v1/admin/plugins", Auth(Token("root", "admin")));
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->status, 200) << listed->body;
  size_t plugin_routes = 0;
  const Json loaded = Json::parse(listed->body);
  for (const Json& p : loaded["plugins"]) {
    for (const Json& r : p["routes"]) {
      ++plugin_routes;
      const std::string path = r["path"], method = lower(r["method"]);
      ASSERT_TRUE(paths.contains(path) && paths[path].contains(method)) << method << " " << path;
      const Json& op = paths[path][method];
      EXPECT_FALSE(op.value("x-undocumented", false)) << method << " " << path;
      EXPECT_EQ(op["x-plugin"], p["name"]);
      EXPECT_TRUE(op["responses"].contains("401") == !r["scope"].get<std::string>().empty())
          << path;
    }
  }
  EXPECT_GE(plugin_routes, 24u);  // plans 8, challenges 8, chat 5, hello 3
  size_t operations = 0;
  for (const auto& [path, item] : paths.items()) operations += item.size();
  EXPECT_EQ(operations, core + plugin_routes);
  // A plugin's own schema, and the protobuf alternative of a core route.
  EXPECT_EQ(paths["/v1/plans/predict"]["get"]["parameters"][0]["name"], "distance_m");
  EXPECT_TRUE(
      paths["/v1/routes"]["get"]["responses"]["200"]["content"].contains("application/x-protobuf"));
  EXPECT_EQ(paths["/v1/runs"]["post"]["x-max-body-bytes"], size_t{64} << 20);
}

// The document passes Redocly's linter (the npm package, recommended rules) with no warning.
TEST_F(Plugins, TheOpenApiDocumentPassesTheLinter) {
  const std::string lint = std::string(STRIDE_OPENAPI_LINT_DIR) + "/node_modules/.bin/redocly";
  if (!fs::exists(lint)) {
    GTEST_SKIP() << "Redocly's linter is not installed (scripts/deps.sh installs it with npm "
                    "into tests/openapi)";
  }
  httplib::Client c = Client();
  auto res = c.Get("/v1/openapi.json");
  ASSERT_TRUE(res && res->status == 200);
  const std::string file = dir_ + "/openapi.json";
  std::ofstream(file) << res->body;
  const std::string out = dir_ + "/lint.txt";
  const int rc = std::system(("cd " + dir_ + " && REDOCLY_TELEMETRY=off NO_COLOR=1 " + lint +
                              " lint --format=stylish openapi.json > " + out + " 2>&1")
                                 .c_str());
  const std::string report = ReadAll(out);
  EXPECT_EQ(rc, 0) << report;
  EXPECT_NE(report.find("Your API description is valid"), std::string::npos) << report;
  EXPECT_EQ(report.find("You have"), std::string::npos) << report;  // "You have N warnings"
}

// `stride plugin keygen` and `sign` as a plugin's author runs them.
// A plugin that fails (here: a build of the example whose handler always fails, with the
// host's error text): the client gets a 500 naming the plugin and an incident id, the server's
// error log gets the plugin's error under that id.
TEST(PluginFailure, TheClientGetsAnIncidentIdAndTheLogTheError) {
  const std::string dir =
      (fs::path(::testing::TempDir()) / ("stride_plugin_fail_" + std::to_string(::getpid())))
          .string();
  fs::remove_all(dir);
  fs::create_directories(dir + "/plugins");
  datasets::SyntheticRoutesOptions ro;
  ro.count = 5;
  ASSERT_TRUE(datasets::WriteSyntheticRouteDb(ro, dir + "/db", 1).ok());
  Result<plugins::Ed25519KeyPair> key = plugins::GenerateEd25519();
  ASSERT_TRUE(key.ok());
  InstallHello(dir + "/plugins", HELLO_FAILING, "3.0.0", key->private_hex);
  std::ostringstream error_log;
  server::HttpServerOptions o;
  o.rate_limits = {};
  o.db_path = dir + "/db";
  o.jwt_secret = kSecret;
  o.plugins_dir = dir + "/plugins";
  o.plugin_key_hex = key->public_hex;
  o.error_log = &error_log;
  {
    testing::RunningServer server(o, testing::RunsAt(dir + "/runs"));
    ASSERT_NE(server.port(), 0) << server.status().message();
    auto r = testing::ApiClient(server.port()).Get("/v1/hello", Auth(Token("ann")));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 500) << r->body;
    const Json e = Json::parse(r->body)["error"];
    EXPECT_EQ(e["code"], "plugin_error");
    const std::string message = e["message"];
    EXPECT_EQ(message.find("on purpose"), std::string::npos) << message;
    const std::string head = "internal error in the hello plugin (incident ";
    ASSERT_EQ(message.substr(0, head.size()), head) << message;
    const std::string id = message.substr(head.size(), 8);
    const std::string log = error_log.str();
    EXPECT_NE(log.find(" incident " + id + ": the hello plugin answered 500: "), std::string::npos)
        << log;
    EXPECT_NE(log.find("this build fails on purpose"), std::string::npos) << log;
  }
  fs::remove_all(dir);
}

// A plugin's upstream failing: the chat plugin's model server refuses a request with words of
// its own (an internal address). The client gets 502 with the plugin's code and an incident id;
// the provider's address and words are in the server's log only. A model server that is not
// there at all gives 504 the same way.
TEST(PluginFailure, AnUpstreamsWordsReachTheLogNotTheClient) {
  httplib::Server provider;
  provider.Post(R"(/v1/chat/completions)", [](const httplib::Request&, httplib::Response& res) {
    res.status = 400;
    res.set_content(R"({"error":{"message":"model gpt-x not served at llm.internal.corp:8443"}})",
                    "application/json");
  });
  const int provider_port = provider.bind_to_any_port("127.0.0.1");
  ASSERT_GT(provider_port, 0);
  std::thread serving([&] { provider.listen_after_bind(); });
  const std::string dir =
      (fs::path(::testing::TempDir()) / ("stride_plugin_upstream_" + std::to_string(::getpid())))
          .string();
  fs::remove_all(dir);
  datasets::SyntheticRoutesOptions ro;
  ro.count = 5;
  ASSERT_TRUE(datasets::WriteSyntheticRouteDb(ro, dir + "/db", 1).ok());
  // The chat plugin reads its provider from the environment when it starts (this test runs in
  // a process of its own).
  const std::string url = "http://127.0.0.1:" + std::to_string(provider_port) + "/v1";
  ::setenv("STRIDE_CHAT_DRIVER", url.c_str(), 1);
  ::setenv("STRIDE_CHAT_RETRIES", "0", 1);
  ::setenv("STRIDE_CHAT_TIMEOUT_S", "2", 1);
  std::ostringstream error_log;
  server::HttpServerOptions o;
  o.rate_limits = {};
  o.db_path = dir + "/db";
  o.jwt_secret = kSecret;
  o.bundled_plugins = {{plugins::chat::Info, plugins::chat::InitV1}};
  o.error_log = &error_log;
  {
    testing::RunningServer server(o, testing::RunsAt(dir + "/runs"));
    ASSERT_NE(server.port(), 0) << server.status().message();
    const httplib::Headers gus = Auth(Token("gus", "runner:read runner:write chat:ask"));
    auto r =
        testing::ApiClient(server.port())
            .Post("/v1/chat/ask", gus, R"({"question":"How far this week?"})", "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 502) << r->body;
    const Json e = Json::parse(r->body)["error"];
    EXPECT_EQ(e["code"], "provider_failed");
    const std::string message = e["message"];
    EXPECT_EQ(message.find("llm.internal.corp"), std::string::npos) << message;
    EXPECT_EQ(message.find(std::to_string(provider_port)), std::string::npos) << message;
    const std::string head = "a service the chat plugin depends on failed (incident ";
    ASSERT_EQ(message.substr(0, head.size()), head) << message;
    const std::string id = message.substr(head.size(), 8);
    const std::string log = error_log.str();
    EXPECT_NE(log.find(" incident " + id + ": the chat plugin answered 502: "), std::string::npos)
        << log;
    EXPECT_NE(
        log.find("provider http://127.0.0.1:" + std::to_string(provider_port) + " answered 400"),
        std::string::npos)
        << log;
    EXPECT_NE(log.find("llm.internal.corp:8443"), std::string::npos) << log;
    // The question was kept all the same.
    r = testing::ApiClient(server.port()).Get("/v1/chat/messages", gus);
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(Json::parse(r->body)["messages"][0]["text"], "How far this week?");

    // The model server gone: 504, told the same way.
    provider.stop();
    serving.join();
    r = testing::ApiClient(server.port())
            .Post("/v1/chat/ask", gus, R"({"question":"Still there?"})", "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 504) << r->body;
    EXPECT_EQ(Json::parse(r->body)["error"]["code"], "provider_timeout");
    const std::string gone = Json::parse(r->body)["error"]["message"];
    EXPECT_EQ(
        gone.rfind("a service the chat plugin depends on did not answer in time (incident ", 0), 0u)
        << gone;
    EXPECT_EQ(gone.find("127.0.0.1"), std::string::npos) << gone;
  }
  if (serving.joinable()) {
    provider.stop();
    serving.join();
  }
  ::unsetenv("STRIDE_CHAT_DRIVER");
  ::unsetenv("STRIDE_CHAT_RETRIES");
  ::unsetenv("STRIDE_CHAT_TIMEOUT_S");
  fs::remove_all(dir);
}

TEST(PluginCli, KeygenAndSignWriteWhatTheHostVerifies) {
  const fs::path dir =
      fs::temp_directory_path() / ("stride_plugin_cli_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string prefix = (dir / "release").string();
  testing::CliRun r = testing::Stride("plugin keygen --out " + prefix);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The private key is its owner's alone (it was 0644: "keep it secret", and anyone could).
  EXPECT_EQ(fs::status(prefix + ".private").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  std::string pub;
  std::getline(std::ifstream(prefix + ".public"), pub);
  EXPECT_EQ(r.out, pub + "\n");
  // A second keygen to the same prefix would have replaced the key every signed plugin needs.
  r = testing::Stride("plugin keygen --out " + prefix);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(prefix + ".private exists"), std::string::npos) << r.err;
  std::string still;
  std::getline(std::ifstream(prefix + ".public"), still);
  EXPECT_EQ(still, pub);

  fs::copy_file(HELLO_V1, dir / "libhello.so");
  const std::string lib = (dir / "libhello.so").string();
  r = testing::Stride("plugin sign --key " + prefix + ".private --lib " + lib +
                      " --name hello --version 1.0.0");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string manifest, sig;
  {
    std::ifstream m(dir / "hello.manifest.json", std::ios::binary);
    manifest.assign(std::istreambuf_iterator<char>(m), {});
    std::getline(std::ifstream(dir / "hello.manifest.sig"), sig);
  }
  EXPECT_TRUE(plugins::VerifyEd25519(pub, manifest, sig).ok()) << manifest;
  const Json m = Json::parse(manifest);
  EXPECT_EQ(m["name"], "hello");
  EXPECT_EQ(m["version"], "1.0.0");
  EXPECT_EQ(m["library"], "libhello.so");
  // The key's file that is not there is said to be missing (it read as a malformed key), and
  // a name or version that would break the manifest (or its path) is refused.
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"--key " + prefix + " --name hello --version 1",
       "--key " + prefix + ": cannot open: No such file or directory"},
      {"--key " + prefix + ".private --name '../hello' --version 1",
       "--name '../hello': expected the plugin's name"},
      {"--key " + prefix + ".private --name hello --version '1\",\"sha256\":\"0'",
       "--version '1\",\"sha256\":\"0': expected up to 64 letters"},
  };
  for (const auto& [options, message] : bad) {
    r = testing::Stride("plugin sign --lib " + lib + " " + options);
    EXPECT_NE(r.exit_code, 0) << options;
    EXPECT_NE(r.err.find(message), std::string::npos) << options << ": " << r.err;
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace stride
