// SPDX-License-Identifier: Apache-2.0
//
// Run uploads end to end: a real server (HttpServer with a RocksDB run database) on loopback,
// a real HTTP client, real files. The route database is Andorra's (with its SRTM tile for
// elevation) when the shared data is there, else a generated one.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "datasets/synthetic_activity.hpp"
#include "datasets/synthetic_routes.hpp"
#include "importers/activity/activity_reader.hpp"
#include "importers/dem/srtm.hpp"
#include "index/store/route_db.hpp"
#include "server/auth.hpp"
#include "server/http_server.hpp"
#include "stride/api.pb.h"
#include "tests/support/api_client.hpp"
#include "tests/support/cli.hpp"
#include "tests/support/datasets.hpp"
#include "tests/support/import.hpp"
#include "tests/support/running_server.hpp"
#include "tests/support/serve_process.hpp"
#include "tests/support/tar.hpp"
#include "tools/serve_stores.hpp"

namespace stride {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const std::string kSecret = "runs-test-secret-0123456789abcdef0123";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

std::string Token(const std::string& user, const std::string& scope = "runner:read runner:write",
                  double ttl = 3600) {
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  return server::Jwt(kSecret).Mint(user, scope, ttl, now);
}

// One server over a route database, with a run database of its own.
class TestServer {
 public:
  TestServer(const std::string& db, const std::string& runs, const std::string& dem,
             size_t max_upload = size_t{64} << 20, size_t max_points = 2'000'000) {
    server::HttpServerOptions o;
    o.rate_limits =
        {};  // more requests than one caller may make a minute: rate_limit_test has them
    o.db_path = db;
    o.jwt_secret = kSecret;
    o.port = 0;
    o.max_upload_bytes = max_upload;
    o.max_points = max_points;
    // Opened as `stride serve` opens them; no fsync: the crash test checks the default.
    tools::ServeStoreOptions so;
    so.runs_path = runs;
    so.dem_path = dem;
    so.sync_writes = false;
    Result<std::unique_ptr<tools::ServeStores>> stores = tools::ServeStores::Open(so);
    EXPECT_TRUE(stores.ok()) << stores.status().message();
    stores_ = std::move(stores).value();
    server_ = std::make_unique<server::HttpServer>(o, stores_->view());
    server_->events().Subscribe([this](const engine::RunEvent& e) {
      std::lock_guard lock(mu_);
      events_.push_back(e);
    });
    thread_ = std::thread([this] { status_ = server_->Run(); });
    for (int i = 0; i < 500 && server_->port() == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ~TestServer() {
    server_->Stop();
    thread_.join();
  }
  int port() const { return server_->port(); }
  httplib::Client Client() const {
    httplib::Client c = stride::testing::ApiClient(port());
    c.set_read_timeout(120, 0);
    return c;
  }
  std::vector<engine::RunEvent> Events() {
    std::lock_guard lock(mu_);
    return events_;
  }
  Status status_;

 private:
  std::unique_ptr<tools::ServeStores> stores_;  // outlives server_
  std::unique_ptr<server::HttpServer> server_;
  std::thread thread_;
  std::mutex mu_;
  std::vector<engine::RunEvent> events_;
};

httplib::Headers Auth(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

class Runs : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ =
        (fs::path(::testing::TempDir()) / ("stride_runs_" + std::to_string(::getpid()))).string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    if (testing::HaveDatasets()) {
      dem_ = testing::DatasetsDir() + "/dem";
      Result<std::unique_ptr<importers::SrtmElevation>> d = importers::SrtmElevation::Open(dem_);
      ASSERT_TRUE(d.ok());
      ASSERT_TRUE(testing::ImportToDb(testing::DatasetsDir() + "/osm/andorra-2021-10-28.osm.pbf",
                                      dir_ + "/db", d->get())
                      .ok());
    } else {
      datasets::SyntheticRoutesOptions o;
      o.count = 200;
      o.SetRegion(42.4, 1.4, 42.7, 1.8);
      ASSERT_TRUE(datasets::WriteSyntheticRouteDb(o, dir_ + "/db", 2).ok());
    }
    server_ = new TestServer(dir_ + "/db", dir_ + "/runs", dem_);
    ASSERT_NE(server_->port(), 0) << server_->status_.message();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    fs::remove_all(dir_);
  }

  static httplib::Result Upload(const std::string& token, const std::string& body,
                                const std::string& key = "", const std::string& name = "",
                                TestServer* s = nullptr) {
    httplib::Headers h = Auth(token);
    if (!key.empty()) h.emplace("Idempotency-Key", key);
    if (!name.empty()) h.emplace("X-File-Name", name);
    return (s ? s : server_)->Client().Post("/v1/runs", h, body, "application/octet-stream");
  }
  static Json GetJson(const std::string& token, const std::string& target, int expect = 200) {
    auto r = server_->Client().Get(target, Auth(token));
    EXPECT_TRUE(r);
    if (!r) return nullptr;
    EXPECT_EQ(r->status, expect) << target << ": " << r->body;
    return Json::parse(r->body, nullptr, false);
  }
  static std::vector<std::string> ListIds(const std::string& token) {
    std::vector<std::string> ids;
    std::string before;
    for (int page = 0; page < 1000; ++page) {
      const Json j =
          GetJson(token, "/v1/runs?limit=7" + (before.empty() ? "" : "&before=" + before));
      for (const Json& r : j["runs"]) ids.push_back(r["id"]);
      if (j["next_before"].is_null()) break;
      before = j["next_before"];
    }
    return ids;
  }
  static std::string Synthetic(uint32_t seed, int laps = 1) {
    datasets::SyntheticRunOptions o;
    o.seed = seed;
    o.laps = laps;
    o.noise_m = 3;
    o.ele_noise_m = 2;
    o.start_time_s = 1.7e9 + seed * 86400.0;
    return datasets::WriteFit(datasets::MakeSyntheticRun(o).recorded);
  }

  static inline std::string dir_, dem_;
  static inline TestServer* server_ = nullptr;
};

// Every shared recording the analyser reads uploads with the same analysis `stride analyze
// --json` prints (same DEM); those it cannot read are refused with 422 and leave nothing.
TEST_F(Runs, EverySharedFileUploadsWithTheCliAnalysis) {
  STRIDE_REQUIRE_DATASETS();
  std::vector<std::string> files;
  for (const char* sub : {"gpx", "tcx", "fit", "fit/edge_cases"}) {
    for (const auto& e : fs::directory_iterator(testing::DatasetsDir() + "/" + sub)) {
      if (e.is_regular_file()) files.push_back(e.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  std::string args = "analyze --json --dem " + dem_;
  for (const std::string& f : files) args += " '" + f + "'";
  const testing::CliRun cli = testing::Stride(args);
  std::map<std::string, Json> expected;
  std::istringstream lines(cli.out);
  for (std::string line; std::getline(lines, line);) {
    Json j = Json::parse(line);
    expected[j["file"]] = j;
  }
  ASSERT_GT(expected.size(), 100u);
  const std::string token = Token("files");
  size_t stored = 0, refused = 0, dem = 0;
  for (const std::string& f : files) {
    const std::string bytes = ReadFile(f);
    auto r = Upload(token, bytes, "", f);
    ASSERT_TRUE(r) << f;
    const auto want = expected.find(f);
    if (want == expected.end()) {
      EXPECT_TRUE(r->status == 422 || r->status == 413) << f << ": " << r->status;
      EXPECT_NE(cli.err.find(f), std::string::npos) << f;
      const Json err = Json::parse(r->body);
      EXPECT_FALSE(err["error"]["message"].get<std::string>().empty());
      ++refused;
      continue;
    }
    ASSERT_EQ(r->status, 201) << f << ": " << r->body.substr(0, 300);
    const Json got = Json::parse(r->body);
    EXPECT_EQ(got["analysis"], want->second) << f;
    if (got["analysis"].contains("methods") &&
        got["analysis"]["methods"]["elevation"]["source"] == "dem") {
      ++dem;
    }
    const std::string id = got["id"];
    EXPECT_EQ(GetJson(token, "/v1/runs/" + id), got) << f;
    auto file = server_->Client().Get("/v1/runs/" + id + "/file", Auth(token));
    ASSERT_TRUE(file);
    EXPECT_EQ(file->body == bytes, true) << f;
    ++stored;
  }
  EXPECT_EQ(stored, expected.size());
  EXPECT_GT(refused, 0u);
  EXPECT_GT(dem, 0u);  // the Andorra hikes carry GPS altitude
  EXPECT_EQ(ListIds(token).size(), stored);
}

// Map matching at upload: the stored run keeps the ways it walked and the named routes it
// walked end to end, with their times (Andorra's trail graph, a hike along the GR11).
TEST_F(Runs, UploadsAreMatchedToTrailsWithSegmentEfforts) {
  STRIDE_REQUIRE_DATASETS();
  const std::string token = Token("matcher");
  const std::string gpx =
      ReadFile(testing::DatasetsDir() + "/gpx/andorra_hike_2015-08-16_adrutas_170708_a.gpx");
  auto r = Upload(token, gpx);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  const Json up = Json::parse(r->body);
  const Json& m = up["trail_match"];
  ASSERT_TRUE(m.is_object());
  // About half of this 2015 hike follows ways mapped in 2021 (the rest crosses open ground).
  EXPECT_GT(m["on_network_share"].get<double>(), 0.4);
  EXPECT_LT(m["on_network_share"].get<double>(), 0.7);
  ASSERT_GT(m["ways"].size(), 10u);
  std::string last;
  for (const Json& w : m["ways"]) {
    ASSERT_TRUE(w["entry"].is_string());
    EXPECT_GE(w["entry"].get<std::string>(), last);  // ISO times sort as text
    EXPECT_LE(w["entry"].get<std::string>(), w["exit"].get<std::string>());
    last = w["entry"].get<std::string>();
  }
  bool gr11 = false;
  for (const Json& e : m["segment_efforts"]) {
    EXPECT_GT(e["elapsed_s"].get<double>(), 0);
    EXPECT_LT(e["elapsed_s"].get<double>(), up["elapsed_time_s"].get<double>() + 1);
    if (e["name"] == "GR11 E15 - Arinsal - Refugi de Vallferrera") {
      gr11 = true;
      EXPECT_GT(e["distance_m"].get<double>(), 7000);
      // Walked at hiking pace: 2 to 5 km/h.
      const double kmh = e["distance_m"].get<double>() / e["elapsed_s"].get<double>() * 3.6;
      EXPECT_GT(kmh, 1.0);
      EXPECT_LT(kmh, 5.0);
    }
  }
  EXPECT_TRUE(gr11) << m["segment_efforts"].dump();
  // Route coverage comes from the match: the route walked end to end is covered (nearly)
  // whole, and every route reported was walked on, not only passed within a few metres.
  bool gr11_covered = false;
  for (const Json& c : up["route_coverage"]) {
    EXPECT_EQ(c["method"], "trail match") << c.dump();
    if (c["name"] == "GR11 E15 - Arinsal - Refugi de Vallferrera") {
      gr11_covered = true;
      EXPECT_GT(c["share"].get<double>(), 0.9);
    }
  }
  EXPECT_TRUE(gr11_covered) << up["route_coverage"].dump();
  // Stored: the run read back has the same match.
  const Json again = GetJson(token, "/v1/runs/" + up["id"].get<std::string>());
  EXPECT_EQ(again["trail_match"], m);
}

// Re-analysis after an import: a hike stored by a server whose route database did not have
// its trails (nor a DEM) is analysed again by the server over the Andorra import: it is now
// matched to the GR11 and its elevation comes from the DEM, under the same id.
TEST_F(Runs, AReanalysisAfterAnImportMatchesStoredRunsToTheNewTrails) {
  STRIDE_REQUIRE_DATASETS();
  datasets::SyntheticRoutesOptions far;
  far.count = 20;
  far.SetRegion(43.70, 7.40, 43.75, 7.45);  // Monaco: none of Andorra's trails
  ASSERT_TRUE(datasets::WriteSyntheticRouteDb(far, dir_ + "/db-far", 2).ok());
  const std::string runs = dir_ + "/runs-reanalysis";
  const std::string gpx =
      ReadFile(testing::DatasetsDir() + "/gpx/andorra_hike_2015-08-16_adrutas_170708_a.gpx");
  Json before;
  {
    TestServer old_import(dir_ + "/db-far", runs, "");
    auto r = Upload(Token("hiker"), gpx, "", "", &old_import);
    ASSERT_TRUE(r && r->status == 201) << (r ? r->body : "");
    before = Json::parse(r->body);
    ASSERT_TRUE(before["trail_match"].is_null());
    ASSERT_NE(before["elevation_source"], "dem");
  }
  TestServer now(dir_ + "/db", runs, dem_);
  httplib::Client c = now.Client();
  auto started = c.Post("/v1/admin/reanalyze", Auth(Token("ops", "admin")), "", "");
  ASSERT_TRUE(started && started->status == 202) << (started ? started->body : "");
  Json p = Json::object();
  for (int i = 0; i < 1200 && p.value("state", "") != "finished"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    p = Json::parse(c.Get("/v1/admin/reanalyze", Auth(Token("ops", "admin")))->body);
  }
  EXPECT_EQ(p["runs"], 1) << p.dump();
  EXPECT_EQ(p["changed"], 1) << p.dump();
  auto got = c.Get("/v1/runs/" + before["id"].get<std::string>(), Auth(Token("hiker")));
  ASSERT_TRUE(got && got->status == 200);
  const Json after = Json::parse(got->body);
  EXPECT_EQ(after["uploaded_at"], before["uploaded_at"]);
  EXPECT_EQ(after["elevation_source"], "dem");
  ASSERT_TRUE(after["trail_match"].is_object());
  bool gr11 = false;
  for (const Json& e : after["trail_match"]["segment_efforts"]) {
    gr11 |= e["name"] == "GR11 E15 - Arinsal - Refugi de Vallferrera";
  }
  EXPECT_TRUE(gr11) << after["trail_match"].dump();
  // Announced again as run.stored.
  const std::vector<engine::RunEvent> events = now.Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, engine::RunEvent::Kind::kStored);
  EXPECT_EQ(engine::RunIdText(events[0].run_id), before["id"]);
}

// A --dem raster whose pixels cannot be read (a copy cut short): an upload over it keeps the
// recording's elevation, and the server says why in its health and metrics (before, nothing
// told the operator the DEM was not being used).
TEST_F(Runs, ADemThatCannotBeReadIsInTheHealthAnswer) {
  STRIDE_REQUIRE_DATASETS();
  const std::string dem_dir = dir_ + "/dem-cut";
  fs::create_directories(dem_dir);
  const std::string tif = dem_dir + "/andorra.tif";
  {
    std::ifstream in(testing::DatasetsDir() + "/dem/andorra_srtm3_crop.tif", std::ios::binary);
    std::string head(5000, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    std::ofstream(tif, std::ios::binary) << head;
  }
  TestServer cut(dir_ + "/db", dir_ + "/runs-dem-cut", tif);
  httplib::Client c = cut.Client();
  auto health = [&] { return Json::parse(c.Get("/v1/health")->body); };
  EXPECT_EQ(health()["dem_unreadable"], Json::array());  // nothing asked of it yet
  const std::string gpx =
      ReadFile(testing::DatasetsDir() + "/gpx/andorra_hike_2015-08-16_adrutas_170708_a.gpx");
  auto r = Upload(Token("cut"), gpx, "", "", &cut);
  ASSERT_TRUE(r && r->status == 201) << (r ? r->body : "");
  EXPECT_NE(Json::parse(r->body)["elevation_source"], "dem");
  const Json h = health();
  ASSERT_EQ(h["dem_unreadable"].size(), 1u) << h.dump();
  EXPECT_NE(h["dem_unreadable"][0].get<std::string>().find(tif + ": cannot read its pixels"),
            std::string::npos)
      << h.dump();
  EXPECT_NE(c.Get("/metrics")->body.find("stride_dem_unreadable_files 1"), std::string::npos);
}

TEST_F(Runs, RetryWithTheSameIdempotencyKeyStoresOnce) {
  const std::string token = Token("idem");
  const std::string fit = Synthetic(1);
  auto a = Upload(token, fit, "sync-42");
  ASSERT_TRUE(a);
  ASSERT_EQ(a->status, 201) << a->body;
  auto b = Upload(token, fit, "sync-42");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->status, 200);
  EXPECT_EQ(b->get_header_value("Idempotent-Replayed"), "true");
  EXPECT_EQ(Json::parse(b->body), Json::parse(a->body));
  EXPECT_EQ(ListIds(token).size(), 1u);
  auto c = Upload(token, Synthetic(2), "sync-42");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->status, 409);
  EXPECT_EQ(Json::parse(c->body)["error"]["code"], "idempotency_conflict");
  // Concurrent retries of one new key: one run.
  std::vector<std::thread> threads;
  std::atomic<int> created{0}, replayed{0};
  const std::string fit3 = Synthetic(3);
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      auto r = Upload(token, fit3, "sync-43");
      if (r && r->status == 201) ++created;
      if (r && r->status == 200) ++replayed;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(replayed.load(), 5);
  EXPECT_EQ(ListIds(token).size(), 2u);
  // Without a key, the same file twice is two runs.
  ASSERT_EQ(Upload(token, fit)->status, 201);
  ASSERT_EQ(Upload(token, fit)->status, 201);
  EXPECT_EQ(ListIds(token).size(), 4u);
}

TEST_F(Runs, LimitsAndUnreadableFilesStoreNothing) {
  TestServer small(dir_ + "/db", dir_ + "/runs-small", "", 100'000, 1000);
  ASSERT_NE(small.port(), 0);
  const std::string token = Token("limits");
  const std::string fit = Synthetic(4, 3);  // 1891 points, 42 KB
  auto too_many = Upload(token, fit, "", "", &small);
  ASSERT_TRUE(too_many);
  EXPECT_EQ(too_many->status, 413);
  EXPECT_NE(too_many->body.find("1000"), std::string::npos) << too_many->body;
  auto too_big = Upload(token, std::string(150'000, 'x'), "", "", &small);
  ASSERT_TRUE(too_big);
  EXPECT_EQ(too_big->status, 413);
  EXPECT_EQ(Json::parse(too_big->body)["error"]["code"], "too_large");
  auto junk = Upload(token, "this is not a run", "", "", &small);
  EXPECT_EQ(junk->status, 422);
  EXPECT_NE(junk->body.find("byte 0"), std::string::npos) << junk->body;
  auto cut = Upload(token, fit.substr(0, 900), "", "", &small);
  EXPECT_EQ(cut->status, 422);
  EXPECT_NE(cut->body.find("byte "), std::string::npos) << cut->body;
  auto empty = Upload(token, "", "", "", &small);
  EXPECT_EQ(empty->status, 422);
  const std::string broken_gpx =
      "<gpx>\n<trk><trkseg>\n<trkpt lat=\"x\" lon=\"1\"/></trkseg></trk></gpx>";
  auto gpx = Upload(token, broken_gpx, "", "", &small);
  EXPECT_EQ(gpx->status, 422);
  EXPECT_NE(gpx->body.find("line 3"), std::string::npos) << gpx->body;
  auto list = small.Client().Get("/v1/runs", Auth(token));
  EXPECT_EQ(Json::parse(list->body)["runs"].size(), 0u);
  // Bad idempotency keys and paging parameters.
  EXPECT_EQ(Upload(token, fit, std::string(300, 'k'), "", &small)->status, 400);
  EXPECT_EQ(small.Client().Get("/v1/runs?limit=0", Auth(token))->status, 400);
  EXPECT_EQ(small.Client().Get("/v1/runs?before=xyz", Auth(token))->status, 400);
  EXPECT_EQ(small.Client().Get("/v1/runs?page=2", Auth(token))->status, 400);
}

TEST_F(Runs, MultipartFormUploadsTakeTheFilePart) {
  datasets::SyntheticRunOptions o;
  o.seed = 6;
  const std::string gpx = datasets::WriteGpx(datasets::MakeSyntheticRun(o).recorded);
  httplib::MultipartFormDataItems form = {{"note", "from the app", "", ""},
                                          {"file", gpx, "evening.gpx", "application/gpx+xml"}};
  const std::string token = Token("multipart");
  auto r = server_->Client().Post("/v1/runs", Auth(token), form);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  const Json j = Json::parse(r->body);
  EXPECT_EQ(j["file_name"], "evening.gpx");
  EXPECT_EQ(j["format"], "gpx");
  auto file =
      server_->Client().Get("/v1/runs/" + j["id"].get<std::string>() + "/file", Auth(token));
  EXPECT_TRUE(file->body == gpx);
}

TEST_F(Runs, TokensAndScopes) {
  auto c = server_->Client();
  auto none = c.Get("/v1/runs");
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(none->get_header_value("WWW-Authenticate"), "Bearer realm=\"stride\"");
  EXPECT_EQ(c.Get("/v1/runs", {{"Authorization", "Basic YWxpY2U6eA=="}})->status, 401);
  const std::string forged = server::Jwt("another-secret-0123456789abcdef0123456789")
                                 .Mint("alice", "runner:read", 3600, 1.9e9);
  auto bad = c.Get("/v1/runs", Auth(forged));
  EXPECT_EQ(bad->status, 401);
  EXPECT_NE(bad->body.find("bad signature"), std::string::npos);
  auto expired = c.Get("/v1/runs", Auth(Token("alice", "runner:read", -3600)));
  EXPECT_EQ(expired->status, 401);
  EXPECT_NE(expired->body.find("expired"), std::string::npos);
  const std::string fit = Synthetic(7);
  EXPECT_EQ(Upload(Token("alice", "runner:read"), fit)->status, 403);
  EXPECT_EQ(Upload(Token("alice", "chat:ask"), fit)->status, 403);
  EXPECT_EQ(c.Get("/v1/runs", Auth(Token("alice", "runner:write")))->status, 403);
  EXPECT_EQ(c.Get("/v1/me/export", Auth(Token("alice", "chat:ask")))->status, 403);
  EXPECT_EQ(c.Delete("/v1/me", Auth(Token("alice", "runner:read")))->status, 403);
  EXPECT_EQ(Upload(Token("alice", "admin"), fit)->status, 201);
}

TEST_F(Runs, UsersSeeOnlyTheirOwnRunsAndExportThenDeleteLeavesNothing) {
  const std::string erin = Token("erin"), frank = Token("frank");
  std::map<std::string, std::string> originals;  // id -> bytes
  for (uint32_t seed : {11u, 12u, 13u}) {
    const std::string fit = Synthetic(seed);
    auto r = Upload(erin, fit);
    ASSERT_EQ(r->status, 201);
    originals[Json::parse(r->body)["id"]] = fit;
  }
  auto f = Upload(frank, Synthetic(14));
  ASSERT_EQ(f->status, 201);
  const std::string franks = Json::parse(f->body)["id"];
  const std::string erins = originals.begin()->first;

  // By id, by list, by export, by delete: frank cannot reach erin's runs.
  const Json missing = GetJson(frank, "/v1/runs/ffffffffffffffff", 404);
  const Json other = GetJson(frank, "/v1/runs/" + erins, 404);
  EXPECT_EQ(other["error"]["code"], missing["error"]["code"]);
  GetJson(frank, "/v1/runs/" + erins + "/track", 404);
  EXPECT_EQ(server_->Client().Get("/v1/runs/" + erins + "/file", Auth(frank))->status, 404);
  EXPECT_EQ(server_->Client().Delete("/v1/runs/" + erins, Auth(frank))->status, 404);
  EXPECT_EQ(ListIds(frank), std::vector<std::string>{franks});
  auto fx = server_->Client().Get("/v1/me/export", Auth(frank));
  ASSERT_EQ(fx->status, 200);
  for (const auto& [name, content] : testing::Untar(fx->body)) {
    for (const auto& [id, bytes] : originals) {
      EXPECT_EQ(name.find(id), std::string::npos);
      EXPECT_EQ(content.find(id), std::string::npos);
    }
  }

  // Erin's export: every original byte for byte, every run as GET shows it, a manifest.
  auto ex = server_->Client().Get("/v1/me/export", Auth(erin));
  ASSERT_EQ(ex->status, 200);
  EXPECT_EQ(ex->get_header_value("Content-Type"), "application/x-tar");
  const auto entries = testing::Untar(ex->body);
  // Each run's file and JSON, the manifest, and the host's keys: the runs' records in the sync
  // log (server/sync.hpp), where a client's notes and RPE live.
  EXPECT_EQ(entries.size(), 2 * originals.size() + 2);
  ASSERT_TRUE(entries.count("stride-export/plugins/host.json"));
  const Json host = Json::parse(entries.at("stride-export/plugins/host.json"));
  std::set<std::string> synced;
  for (const Json& k : host["keys"]) synced.insert(k["key"]);
  for (const auto& [id, bytes] : originals) EXPECT_TRUE(synced.count("sync/r/runs/" + id)) << id;
  for (const auto& [id, bytes] : originals) {
    size_t found = 0;
    for (const auto& [name, content] : entries) {
      if (name.find(id) == std::string::npos) continue;
      ++found;
      if (name.ends_with("/original.fit")) {
        EXPECT_TRUE(content == bytes) << name;
      }
      if (name.ends_with("/run.json")) {
        EXPECT_EQ(Json::parse(content), GetJson(erin, "/v1/runs/" + id));
      }
    }
    EXPECT_EQ(found, 2u) << id;
  }
  const Json manifest = Json::parse(entries.at("stride-export/manifest.json"));
  EXPECT_EQ(manifest["user"], "erin");
  EXPECT_EQ(manifest["runs"], 3);

  // Delete one, then everything.
  EXPECT_EQ(server_->Client().Delete("/v1/runs/" + erins, Auth(erin))->status, 204);
  GetJson(erin, "/v1/runs/" + erins, 404);
  EXPECT_EQ(ListIds(erin).size(), 2u);
  auto del = server_->Client().Delete("/v1/me", Auth(erin));
  ASSERT_EQ(del->status, 200);
  EXPECT_EQ(Json::parse(del->body)["deleted_runs"], 2);
  for (const auto& [id, bytes] : originals) {
    GetJson(erin, "/v1/runs/" + id, 404);
    EXPECT_EQ(server_->Client().Get("/v1/runs/" + id + "/file", Auth(erin))->status, 404);
  }
  EXPECT_TRUE(ListIds(erin).empty());
  const auto after = testing::Untar(server_->Client().Get("/v1/me/export", Auth(erin))->body);
  EXPECT_EQ(after.size(), 1u);
  EXPECT_EQ(Json::parse(after.at("stride-export/manifest.json"))["runs"], 0);
  EXPECT_EQ(ListIds(frank), std::vector<std::string>{franks});  // frank's is untouched

  // Events: stored x3 for erin, deleted x3, user.deleted once, in that order.
  std::vector<std::string> seen;
  for (const engine::RunEvent& e : server_->Events()) {
    if (e.user_id == "erin") seen.push_back(std::string(engine::RunEventName(e.kind)));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"run.stored", "run.stored", "run.stored", "run.deleted",
                                            "run.deleted", "run.deleted", "user.deleted"}));
}

TEST_F(Runs, TrackComesBackInEveryFormat) {
  const std::string token = Token("tracks");
  auto r = Upload(token, Synthetic(21, 2));
  ASSERT_EQ(r->status, 201);
  const Json run = Json::parse(r->body);
  const std::string id = run["id"];
  const size_t kept = run["analysis"]["points"]["kept_with_position"];
  const Json geo = GetJson(token, "/v1/runs/" + id + "/track");
  ASSERT_EQ(geo["geometry"]["type"], "MultiLineString");
  size_t n = 0;
  for (const Json& line : geo["geometry"]["coordinates"]) n += line.size();
  EXPECT_EQ(n, kept);
  auto gpx = server_->Client().Get("/v1/runs/" + id + "/track?format=gpx", Auth(token));
  ASSERT_EQ(gpx->status, 200);
  Result<engine::Activity> back = importers::ReadGpx(gpx->body);
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_EQ(back->sessions.size(), 1u);
  EXPECT_EQ(back->sessions[0].size(), kept);
  const Json poly = GetJson(token, "/v1/runs/" + id + "/track?format=polyline6");
  ASSERT_EQ(poly["lines"].size(), 1u);
  EXPECT_EQ(poly["lines"][0]["points"], kept);
  GetJson(token, "/v1/runs/" + id + "/track?format=kml", 400);
  GetJson(token, "/v1/runs/not-an-id", 404);
}

// The typed analysis the database keeps is what protobuf clients get: the same numbers as the
// JSON (which rounds them), the same splits, laps and coverage; lists page alike.
// The athlete profile's heart rates shape the analysis of the uploads that follow.
TEST_F(Runs, TheProfilesHeartRatesShapeTheAnalysis) {
  const std::string fit = Synthetic(41);
  auto plain = Upload(Token("hr-none"), fit);
  ASSERT_EQ(plain->status, 201);
  const std::string token = Token("hr-set");
  httplib::Headers h = Auth(token);
  auto put = server_->Client().Put("/v1/me/profile", h, R"({"max_hr_bpm":172,"rest_hr_bpm":44})",
                                   "application/json");
  ASSERT_EQ(put->status, 200) << put->body;
  auto tuned = Upload(token, fit);
  ASSERT_EQ(tuned->status, 201);
  const Json a = Json::parse(plain->body)["analysis"], b = Json::parse(tuned->body)["analysis"];
  ASSERT_FALSE(a["heart_rate"]["avg"].is_null()) << "the synthetic run has heart rate";
  EXPECT_EQ(b["heart_rate"]["max_hr_bpm_used"], 172);
  EXPECT_NE(a["heart_rate"]["max_hr_bpm_used"], 172);
  EXPECT_NE(a["trimp"], b["trimp"]);
  EXPECT_NE(a["heart_rate"]["zone_lower_bounds_bpm"], b["heart_rate"]["zone_lower_bounds_bpm"]);
}

TEST_F(Runs, RunsComeAsProtobufWithTheTypedAnalysis) {
  const std::string token = Token("proto");
  auto r = Upload(token, Synthetic(31, 3));
  ASSERT_EQ(r->status, 201);
  const Json run = Json::parse(r->body);
  const std::string id = run["id"];
  httplib::Headers h = Auth(token);
  h.emplace("Accept", "application/x-protobuf");
  auto got = server_->Client().Get("/v1/runs/" + id, h);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->status, 200);
  EXPECT_EQ(got->get_header_value("Content-Type"), "application/x-protobuf");
  api::Run m;
  ASSERT_TRUE(m.ParseFromString(got->body));
  EXPECT_EQ(engine::RunIdText(m.summary().id()), id);
  EXPECT_TRUE(m.summary().idempotency_key().empty());
  ASSERT_EQ(m.sessions_size(), 1);
  const run::SessionAnalysis& a = m.sessions(0);
  const Json& j = run["analysis"];
  EXPECT_NEAR(a.distance_m(), j["distance_m"].get<double>(), 0.05);
  EXPECT_NEAR(a.moving_time_s(), j["moving_time_s"].get<double>(), 0.05);
  EXPECT_NEAR(a.ascent_m(), j["ascent_m"].get<double>(), 0.05);
  ASSERT_EQ(static_cast<size_t>(a.splits_km_size()), j["splits"].size());
  for (int k = 0; k < a.splits_km_size(); ++k) {
    EXPECT_NEAR(a.splits_km(k).elapsed_time_s(), j["splits"][k]["elapsed_time_s"].get<double>(),
                0.05);
  }
  EXPECT_EQ(static_cast<size_t>(a.laps_size()), j["laps"].size());
  EXPECT_EQ(a.sport(), j["source"]["sport"]);
  ASSERT_EQ(static_cast<size_t>(m.route_coverage_size()), run["route_coverage"].size());
  for (int k = 0; k < m.route_coverage_size(); ++k) {
    EXPECT_EQ(m.route_coverage(k).method(), run["route_coverage"][k]["method"]);
  }
  EXPECT_TRUE(m.analysis_json().empty());
  // The upload answers in protobuf too, and a list does.
  httplib::Headers up = h;
  auto second = server_->Client().Post("/v1/runs", up, Synthetic(32), "application/octet-stream");
  ASSERT_EQ(second->status, 201);
  api::Run m2;
  ASSERT_TRUE(m2.ParseFromString(second->body));
  EXPECT_EQ(m2.sessions_size(), 1);
  auto list = server_->Client().Get("/v1/runs?limit=1", h);
  ASSERT_EQ(list->status, 200);
  api::RunList l;
  ASSERT_TRUE(l.ParseFromString(list->body));
  ASSERT_EQ(l.runs_size(), 1);
  EXPECT_TRUE(l.has_next_before());
  // Errors follow the wire.
  auto missing = server_->Client().Get("/v1/runs/0000000000000001", h);
  ASSERT_EQ(missing->status, 404);
  api::ErrorResponse e;
  ASSERT_TRUE(e.ParseFromString(missing->body));
  EXPECT_EQ(e.error().code(), "not_found");
}

// Route coverage of a real hike against the Andorra routes, checked by brute force: every
// route sampled each 5 m, each sample's distance to every segment of the stored track. The
// shares reported come from the trail match (the metres of each route's edges walked), and
// agree with the geometric brute force within 2 %.
TEST_F(Runs, CoverageOfARealHikeMatchesABruteForce) {
  STRIDE_REQUIRE_DATASETS();
  const std::string token = Token("hiker");
  auto r = Upload(token, ReadFile(testing::DatasetsDir() +
                                  "/gpx/andorra_hike_2016-09-13_adrutas_170708_b.gpx"));
  ASSERT_EQ(r->status, 201);
  const Json run = Json::parse(r->body);
  const Json geo = GetJson(token, "/v1/runs/" + run["id"].get<std::string>() + "/track");
  std::vector<std::pair<double, double>> track;  // lat, lon
  std::vector<size_t> line_start;
  for (const Json& line : geo["geometry"]["coordinates"]) {
    line_start.push_back(track.size());
    for (const Json& c : line) track.emplace_back(c[1].get<double>(), c[0].get<double>());
  }
  // Whether a point lies within 30 m of a segment of the track. Every segment is measured;
  // `candidates` only leaves out those whose box, widened by 40 m, misses the route's box,
  // which cannot come within 30 m of any of its points.
  struct Segment {
    double lat0, lon0, lat1, lon1;
  };
  std::vector<Segment> segments;
  for (size_t i = 1; i < track.size(); ++i) {
    if (std::find(line_start.begin(), line_start.end(), i) != line_start.end()) continue;
    segments.push_back({track[i - 1].first, track[i - 1].second, track[i].first, track[i].second});
  }
  auto within_30m = [](const std::vector<const Segment*>& candidates, double lat, double lon) {
    const double kx = 111'319.49 * std::cos(lat * M_PI / 180), ky = 111'132.95;
    for (const Segment* s : candidates) {
      const double ax = (s->lon0 - lon) * kx, ay = (s->lat0 - lat) * ky;
      const double bx = (s->lon1 - lon) * kx, by = (s->lat1 - lat) * ky;
      const double dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
      const double t = len2 > 0 ? std::clamp(-(ax * dx + ay * dy) / len2, 0.0, 1.0) : 0.0;
      const double ex = ax + t * dx, ey = ay + t * dy;
      if (ex * ex + ey * ey <= 30.0 * 30.0) return true;
    }
    return false;
  };
  std::map<uint64_t, double> reported;
  for (const Json& c : run["route_coverage"]) {
    reported[c["id"]] = c["share"];
    EXPECT_EQ(c["method"], "trail match");
  }
  ASSERT_FALSE(reported.empty());
  Result<std::unique_ptr<index::RouteDb>> db = index::RouteDb::Open(dir_ + "/db");
  ASSERT_TRUE(db.ok());
  size_t checked = 0;
  ASSERT_TRUE(
      (*db)
          ->ForEachSummary([&](const engine::RouteSummary& s) {
            const engine::Route route = (*db)->GetRoute(s.id).value();
            double length = 0, covered = 0;
            double min_lat = 90, max_lat = -90, min_lon = 180, max_lon = -180;
            for (const auto& p : route.geometry.points) {
              min_lat = std::min(min_lat, p.lat * 1e-7);
              max_lat = std::max(max_lat, p.lat * 1e-7);
              min_lon = std::min(min_lon, p.lon * 1e-7);
              max_lon = std::max(max_lon, p.lon * 1e-7);
            }
            // 40 m in degrees, generous in longitude at Andorra's latitude (cos > 0.7).
            const double mlat = 40 / 111'132.95, mlon = 40 / (111'319.49 * 0.7);
            std::vector<const Segment*> candidates;
            for (const Segment& g : segments) {
              if (std::max(g.lat0, g.lat1) + mlat < min_lat ||
                  std::min(g.lat0, g.lat1) - mlat > max_lat ||
                  std::max(g.lon0, g.lon1) + mlon < min_lon ||
                  std::min(g.lon0, g.lon1) - mlon > max_lon) {
                continue;
              }
              candidates.push_back(&g);
            }
            engine::ForEachPart(route.geometry, [&](size_t b, size_t e) {
              for (size_t k = b + 1; k < e; ++k) {
                const auto& p = route.geometry.points[k - 1];
                const auto& q = route.geometry.points[k];
                const double lat0 = p.lat * 1e-7, lon0 = p.lon * 1e-7;
                const double lat1 = q.lat * 1e-7, lon1 = q.lon * 1e-7;
                const double len =
                    std::hypot((lon1 - lon0) * 111'319.49 * std::cos(lat0 * M_PI / 180),
                               (lat1 - lat0) * 111'132.95);
                length += len;
                const int n = std::max(1, static_cast<int>(std::ceil(len / 5)));
                for (int j = 0; j < n; ++j) {
                  const double f = (j + 0.5) / n;
                  if (within_30m(candidates, lat0 + f * (lat1 - lat0), lon0 + f * (lon1 - lon0))) {
                    covered += len / n;
                  }
                }
              }
            });
            if (length <= 0) return;
            const double share = covered / length;
            const auto it = reported.find(s.id);
            if (covered >= 250 || share >= 0.55) {
              EXPECT_NE(it, reported.end()) << s.id << " covered " << covered;
            }
            if (it != reported.end()) {
              EXPECT_NEAR(it->second, share, 0.02) << s.id;
              ++checked;
            } else {
              EXPECT_LT(covered, 250) << s.id;
            }
          })
          .ok());
  EXPECT_EQ(checked, reported.size());
}

// The real `stride serve` process: started, fed uploads, killed with SIGKILL at a random
// moment, restarted. Every upload that got its 201 must be there, whole. It uploads as fast
// as it can, past the default write limit: limits are not its subject.
testing::ServeProcess Serve(const std::string& dir) {
  return testing::ServeProcess({"--db", dir + "/db", "--runs", dir + "/runs", "--port", "0",
                                "--quiet", "--rate-limit", "off"},
                               kSecret, dir + "/serve.log");
}

TEST(RunsCrash, EveryAcknowledgedUploadSurvivesSigkill) {
  const std::string dir = testing::ServerFolder("crash", 50);
  ASSERT_FALSE(dir.empty());
  // A handful of distinct files, uploaded over and over.
  std::vector<std::string> files;
  for (uint32_t seed = 1; seed <= 6; ++seed) {
    datasets::SyntheticRunOptions o;
    o.seed = seed;
    o.noise_m = 3;
    o.start_time_s = 1.7e9 + seed * 1000.0;
    const engine::Track t = datasets::MakeSyntheticRun(o).recorded;
    files.push_back(seed % 2 ? datasets::WriteFit(t) : datasets::WriteGpx(t));
  }
  struct Acked {
    std::string id, body;
    Json response;
  };
  std::vector<Acked> acked;
  std::mt19937 rng(7);
  const std::string token = Token("crash");
  size_t attempts = 0;
  for (int round = 0; round < 3; ++round) {
    testing::ServeProcess server = Serve(dir);
    ASSERT_NE(server.port(), 0) << ReadFile(dir + "/serve.log");
    // Everything acknowledged before this start is still there, whole.
    httplib::Client c = stride::testing::ApiClient(server.port());
    for (const Acked& a : acked) {
      auto r = c.Get("/v1/runs/" + a.id, Auth(token));
      ASSERT_TRUE(r);
      ASSERT_EQ(r->status, 200) << "round " << round << ": run " << a.id << " lost";
      EXPECT_EQ(Json::parse(r->body), a.response);
      auto f = c.Get("/v1/runs/" + a.id + "/file", Auth(token));
      EXPECT_TRUE(f && f->body == a.body) << a.id;
    }
    std::atomic<bool> stop{false};
    std::mutex mu;
    std::vector<std::thread> clients;
    for (int k = 0; k < 3; ++k) {
      clients.emplace_back([&, k] {
        httplib::Client cc = stride::testing::ApiClient(server.port());
        for (size_t i = k; !stop; i += 3) {
          const std::string& body = files[i % files.size()];
          auto r = cc.Post("/v1/runs", Auth(token), body, "application/octet-stream");
          std::lock_guard lock(mu);
          ++attempts;
          if (!r) break;  // the server is gone
          if (r->status == 201) {
            Json j = Json::parse(r->body);
            acked.push_back({j["id"], body, j});
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 700));
    server.Kill();
    stop = true;
    for (auto& t : clients) t.join();
  }
  testing::ServeProcess last = Serve(dir);
  ASSERT_NE(last.port(), 0);
  httplib::Client c = stride::testing::ApiClient(last.port());
  std::set<std::string> listed;
  std::string before;
  for (;;) {
    auto r = c.Get("/v1/runs?limit=100" + (before.empty() ? "" : "&before=" + before), Auth(token));
    ASSERT_TRUE(r && r->status == 200);
    const Json j = Json::parse(r->body);
    for (const Json& run : j["runs"]) listed.insert(run["id"]);
    if (j["next_before"].is_null()) break;
    before = j["next_before"];
  }
  for (const Acked& a : acked) {
    EXPECT_TRUE(listed.count(a.id)) << a.id;
    auto r = c.Get("/v1/runs/" + a.id, Auth(token));
    ASSERT_TRUE(r && r->status == 200) << a.id;
    EXPECT_EQ(Json::parse(r->body), a.response);
  }
  EXPECT_GT(acked.size(), 10u) << attempts << " attempts";
  // Runs stored after a 201 was lost in the kill may exist too; never fewer.
  EXPECT_GE(listed.size(), acked.size());
  fs::remove_all(dir);
}

}  // namespace
}  // namespace stride
