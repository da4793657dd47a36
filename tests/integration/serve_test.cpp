// SPDX-License-Identifier: Apache-2.0
// The real HTTP server on a loopback port over a database imported from the shared Andorra
// extract: random box and nearest queries against a brute-force scan, paging, fields, errors,
// gzip, metrics, and a reload when an import replaces the database.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "engine/route/route_json.hpp"
#include "importers/dem/srtm.hpp"
#include "importers/osm/osm_import.hpp"
#include "index/store/route_db.hpp"
#include "server/http_server.hpp"
#include "server/route_api.hpp"
#include "tests/support/datasets.hpp"
#include "tests/support/import.hpp"

namespace stride {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

Status Import(const std::string& osm, const std::string& db, const std::string& dem_dir) {
  std::unique_ptr<importers::SrtmElevation> dem;
  if (!dem_dir.empty()) dem = std::move(importers::SrtmElevation::Open(dem_dir)).value();
  return testing::ImportToDb(osm, db, dem.get()).status();
}

// Decodes Google's polyline at 1e-6 precision.
std::vector<std::pair<double, double>> DecodePolyline6(const std::string& s) {
  std::vector<std::pair<double, double>> out;
  size_t i = 0;
  int64_t lat = 0, lon = 0;
  auto next = [&] {
    int64_t result = 0;
    int shift = 0;
    int b;
    do {
      b = s[i++] - 63;
      result |= static_cast<int64_t>(b & 0x1f) << shift;
      shift += 5;
    } while (b >= 0x20);
    return (result & 1) ? ~(result >> 1) : (result >> 1);
  };
  while (i < s.size()) {
    lat += next();
    lon += next();
    out.emplace_back(lat * 1e-6, lon * 1e-6);
  }
  return out;
}

class Serve : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!testing::HaveDatasets()) return;
    dir_ =
        (fs::path(::testing::TempDir()) / ("stride_serve_" + std::to_string(::getpid()))).string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    const std::string osm = testing::DatasetsDir() + "/osm/andorra-2021-10-28.osm.pbf";
    ASSERT_TRUE(Import(osm, dir_ + "/db", testing::DatasetsDir() + "/dem").ok());
    // The brute-force side: every route, read straight from the database.
    Result<std::unique_ptr<index::RouteDb>> db = index::RouteDb::Open(dir_ + "/db");
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)
                    ->ForEachSummary([&](const engine::RouteSummary& s) {
                      routes_.push_back((*db)->GetRoute(s.id).value());
                    })
                    .ok());
    server::HttpServerOptions o;
    o.db_path = dir_ + "/db";
    o.port = 0;
    o.reload_check_s = 0.2;
    server_ = new server::HttpServer(o);
    thread_ = new std::thread([] { run_status_ = server_->Run(); });
    for (int i = 0; i < 200 && server_->port() == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_NE(server_->port(), 0);
  }
  static void TearDownTestSuite() {
    if (server_) {
      server_->Stop();
      thread_->join();
      EXPECT_TRUE(run_status_.ok()) << run_status_.message();
      delete thread_;
      delete server_;
      server_ = nullptr;
    }
    fs::remove_all(dir_);
  }
  void SetUp() override {
    STRIDE_REQUIRE_DATASETS();
    ASSERT_NE(server_, nullptr);
  }
  static httplib::Client Client() { return httplib::Client("127.0.0.1", server_->port()); }
  static Json GetJson(const std::string& target, int expect_status = 200) {
    httplib::Client c = Client();
    auto res = c.Get(target.c_str());
    EXPECT_TRUE(res) << target;
    if (!res) return Json();
    EXPECT_EQ(res->status, expect_status) << target << ": " << res->body;
    return Json::parse(res->body);
  }

  // Brute force: ids of routes passing `f` whose geometry meets `box`, ordered by key then id.
  static std::vector<uint64_t> BruteBbox(const engine::BoxE7& box, const engine::RouteFilter& f,
                                         const std::string& sort) {
    const engine::PointE7 centre{
        static_cast<int32_t>((static_cast<int64_t>(box.min_lat) + box.max_lat) / 2),
        static_cast<int32_t>((static_cast<int64_t>(box.min_lon) + box.max_lon) / 2)};
    const engine::QueryPlane plane(centre);
    std::vector<std::pair<double, uint64_t>> hits;
    for (const engine::Route& r : routes_) {
      if (!f.Matches(r.summary) || !engine::GeometryIntersectsBox(r.geometry, box)) continue;
      const double key = sort == "length"   ? r.summary.length_m
                         : sort == "ascent" ? r.summary.ascent_m
                                            : plane.DistanceToGeometry(r.geometry);
      hits.emplace_back(key, r.summary.id);
    }
    std::sort(hits.begin(), hits.end());
    std::vector<uint64_t> ids;
    for (const auto& h : hits) ids.push_back(h.second);
    return ids;
  }
  static std::vector<uint64_t> BruteNearest(engine::PointE7 p, size_t k,
                                            const engine::RouteFilter& f) {
    const engine::QueryPlane plane(p);
    std::vector<std::pair<double, uint64_t>> hits;
    for (const engine::Route& r : routes_) {
      if (f.Matches(r.summary))
        hits.emplace_back(plane.DistanceToGeometry(r.geometry), r.summary.id);
    }
    std::sort(hits.begin(), hits.end());
    std::vector<uint64_t> ids;
    for (size_t i = 0; i < hits.size() && i < k; ++i) ids.push_back(hits[i].second);
    return ids;
  }
  static std::vector<uint64_t> Ids(const Json& page) {
    std::vector<uint64_t> ids;
    for (const Json& r : page["routes"]) ids.push_back(r["id"].get<uint64_t>());
    return ids;
  }

  static inline std::string dir_;
  static inline std::vector<engine::Route> routes_;
  static inline server::HttpServer* server_ = nullptr;
  static inline std::thread* thread_ = nullptr;
  static inline Status run_status_;
};

TEST_F(Serve, RandomQueriesEqualABruteForceScan) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> lat(42.40, 42.68), lon(1.38, 1.80), u(0, 1);
  const char* sorts[] = {"distance", "length", "ascent"};
  for (int q = 0; q < 300; ++q) {
    // Random filters, as query text and as the filter the brute force applies.
    engine::RouteFilter f;
    std::string filter_text;
    if (u(rng) < 0.4) {
      const double lo = u(rng) * 5000, hi = lo + u(rng) * 40000;
      f.min_length_m = static_cast<float>(lo), f.max_length_m = static_cast<float>(hi);
      filter_text += "&min_length_m=" + std::to_string(lo) + "&max_length_m=" + std::to_string(hi);
    }
    if (u(rng) < 0.3) {
      const double a = u(rng) * 800;
      f.max_ascent_m = static_cast<float>(a);
      filter_text += "&max_ascent_m=" + std::to_string(a);
    }
    if (u(rng) < 0.3) {
      f.type_mask = engine::TypeBit(engine::RouteType::kHiking);
      filter_text += "&type=hiking";
    }
    if (u(rng) < 0.2) {
      f.loop = false;
      filter_text += "&loop=false";
    }
    // A box query, paged 7 at a time to its end.
    const double a = lat(rng), b = lon(rng), h = u(rng) * 0.08, w = u(rng) * 0.1;
    engine::BoxE7 box{static_cast<int32_t>(std::lround(a * 1e7)),
                      static_cast<int32_t>(std::lround(b * 1e7)),
                      static_cast<int32_t>(std::lround((a + h) * 1e7)),
                      static_cast<int32_t>(std::lround((b + w) * 1e7))};
    const std::string sort = sorts[q % 3];
    char bbox[128];
    std::snprintf(bbox, sizeof bbox, "%.7f,%.7f,%.7f,%.7f", box.min_lon * 1e-7, box.min_lat * 1e-7,
                  box.max_lon * 1e-7, box.max_lat * 1e-7);
    std::vector<uint64_t> got;
    std::string cursor;
    for (int page = 0; page < 100; ++page) {
      const Json j = GetJson("/v1/routes?bbox=" + std::string(bbox) + "&sort=" + sort + "&limit=7" +
                             filter_text + (cursor.empty() ? "" : "&cursor=" + cursor));
      const std::vector<uint64_t> ids = Ids(j);
      got.insert(got.end(), ids.begin(), ids.end());
      if (j["next_cursor"].is_null()) break;
      cursor = j["next_cursor"].get<std::string>();
    }
    ASSERT_EQ(got, BruteBbox(box, f, sort)) << "bbox " << bbox << " sort " << sort << filter_text;
    // A nearest query.
    const engine::PointE7 p{static_cast<int32_t>(std::lround(lat(rng) * 1e7)),
                            static_cast<int32_t>(std::lround(lon(rng) * 1e7))};
    const size_t k = 1 + static_cast<size_t>(u(rng) * 20);
    char target[160];
    std::snprintf(target, sizeof target, "/v1/routes/nearest?lat=%.7f&lon=%.7f&k=%zu", p.lat * 1e-7,
                  p.lon * 1e-7, k);
    ASSERT_EQ(Ids(GetJson(target + filter_text)), BruteNearest(p, k, f)) << target << filter_text;
  }
}

TEST_F(Serve, RouteAndProfileFieldByField) {
  const engine::Route* volta = nullptr;
  for (const auto& r : routes_) {
    if (r.summary.id == engine::RouteIdForRelation(5511920)) volta = &r;
  }
  ASSERT_NE(volta, nullptr);
  const Json j = GetJson("/v1/routes/r5511920");
  EXPECT_EQ(j["id"].get<uint64_t>(), volta->summary.id);
  EXPECT_EQ(j["name"], "GPR La volta a Andorra");
  EXPECT_EQ(j["osm"], "relation/5511920");
  EXPECT_EQ(j["type"], "hiking");
  EXPECT_EQ(j["loop"], true);
  EXPECT_NEAR(j["length_m"].get<double>(), volta->length_m, 0.06);
  EXPECT_NEAR(j["ascent_m"].get<double>(), volta->ascent_m, 0.06);
  ASSERT_EQ(j["geometry"]["type"], "polyline6");
  // The polyline decodes to the stored points (1e-6 degree).
  std::vector<std::pair<double, double>> pts;
  for (const Json& part : j["geometry"]["parts"]) {
    const auto d = DecodePolyline6(part.get<std::string>());
    pts.insert(pts.end(), d.begin(), d.end());
  }
  ASSERT_EQ(pts.size(), volta->geometry.points.size());
  for (size_t i = 0; i < pts.size(); i += 97) {
    EXPECT_NEAR(pts[i].first, volta->geometry.points[i].lat * 1e-7, 1e-6);
    EXPECT_NEAR(pts[i].second, volta->geometry.points[i].lon * 1e-7, 1e-6);
  }
  // Simplified for a zoomed-out map: far fewer points, same ends.
  const Json z =
      GetJson("/v1/routes/" + std::to_string(volta->summary.id) + "?zoom=10&format=geojson");
  EXPECT_LT(z["points"].get<size_t>(), volta->geometry.points.size() / 4);
  EXPECT_EQ(z["geometry"]["type"], "MultiLineString");
  const Json first = z["geometry"]["coordinates"][0][0];
  EXPECT_NEAR(first[0].get<double>(), volta->geometry.points[0].lon * 1e-7, 1e-7);
  // The profile.
  const Json p = GetJson("/v1/routes/r5511920/profile");
  EXPECT_EQ(p["profile"]["distance_m"].size(), volta->profile.distance_m.size());
  EXPECT_NEAR(p["profile"]["elevation_m"][10].get<double>(), volta->profile.elevation_m[10], 0.06);
  // List entries carry the summary fields.
  const Json near = GetJson("/v1/routes/nearest?lat=42.46&lon=1.49&k=1");
  ASSERT_EQ(near["routes"].size(), 1u);
  for (const char* key : {"id", "osm", "name", "type", "length_m", "ascent_m", "max_grade", "loop",
                          "surface", "difficulty", "network", "start", "bbox", "distance_m"}) {
    EXPECT_TRUE(near["routes"][0].contains(key)) << key;
  }
}

TEST_F(Serve, BadRequestsGetJsonErrorsNamingTheParameter) {
  struct Case {
    const char* target;
    int status;
    const char* text;
  };
  const Case cases[] = {
      {"/v1/routes", 400, "bbox: required"},
      {"/v1/routes?bbox=1,2,3", 400, "bbox: expected 4 numbers"},
      {"/v1/routes?bbox=a,b,c,d", 400, "bbox minlon: 'a' is not a number"},
      {"/v1/routes?bbox=1.6,42.5,1.5,42.6", 400, "bbox: min must not exceed max"},
      {"/v1/routes?bbox=1.5,42.5,1.6,42.6&sort=beauty", 400, "sort: unknown key 'beauty'"},
      {"/v1/routes?bbox=1.5,42.5,1.6,42.6&limit=100000", 400, "limit: 100000 is out of range"},
      {"/v1/routes?bbox=1.5,42.5,1.6,42.6&type=swimming", 400, "type: unknown route type"},
      {"/v1/routes?bbox=1.5,42.5,1.6,42.6&cursor=xyz", 400, "cursor: malformed"},
      {"/v1/routes/nearest?lon=1.5", 400, "lat: required"},
      {"/v1/routes/nearest?lat=91&lon=1.5", 400, "lat: 91 is out of range"},
      {"/v1/routes/nearest?lat=42.5&lon=1.5&k=501", 400, "k: 501 is out of range"},
      {"/v1/routes/nearest?lat=42.5&lon=1.5&loop=maybe", 400, "loop: 'maybe'"},
      {"/v1/routes/r1", 404, "no route r1"},
      {"/v1/routes/banana", 400, "is not a route id"},
      {"/v1/routes/r5511920?format=kml", 400, "format: 'kml'"},
      {"/v2/anything", 404, "no endpoint /v2/anything"},
  };
  for (const Case& c : cases) {
    const Json j = GetJson(c.target, c.status);
    ASSERT_TRUE(j.contains("error")) << c.target;
    EXPECT_EQ(j["error"]["code"], c.status == 404 ? "not_found" : "invalid_argument") << c.target;
    EXPECT_NE(j["error"]["message"].get<std::string>().find(c.text), std::string::npos)
        << c.target << ": " << j["error"]["message"];
  }
  // The server is still there.
  EXPECT_EQ(GetJson("/v1/health")["status"], "ok");
}

TEST_F(Serve, GzipHealthAndMetrics) {
  httplib::Client c = Client();
  httplib::Headers h = {{"Accept-Encoding", "gzip"}};
  auto res = c.Get("/v1/routes/r5511920", h);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("Content-Encoding"), "gzip");
  const Json health = GetJson("/v1/health");
  EXPECT_EQ(health["routes"].get<size_t>(), routes_.size());
  auto m = c.Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_NE(m->body.find("stride_http_requests_total{endpoint=\"route\",code=\"2xx\"}"),
            std::string::npos);
  EXPECT_NE(
      m->body.find("stride_http_request_duration_seconds_bucket{endpoint=\"health\",le=\"+Inf\"}"),
      std::string::npos);
  EXPECT_NE(m->body.find("stride_index_routes " + std::to_string(routes_.size())),
            std::string::npos);
}

// Runs last in this suite (gtest keeps declaration order): it replaces the database.
TEST_F(Serve, ZZReloadsWhenAnImportReplacesTheDatabase) {
  const size_t before = GetJson("/v1/health")["routes"].get<size_t>();
  ASSERT_TRUE(Import(testing::DatasetsDir() + "/osm/monaco-2012-07.osm.gz", dir_ + "/db", "").ok());
  size_t after = before;
  for (int i = 0; i < 100 && after == before; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    after = GetJson("/v1/health")["routes"].get<size_t>();
  }
  EXPECT_NE(after, before);
  EXPECT_EQ(GetJson("/v1/health")["reloads"].get<int>(), 1);
  EXPECT_EQ(GetJson("/v1/routes/r5511920", 404)["error"]["code"], "not_found");
}

// `stride serve` as an operator runs it: it says where it listens, logs each request with
// its latency, and on SIGTERM finishes and exits 0.
TEST_F(Serve, CliServesLogsAndStopsOnSigterm) {
  const std::string log = dir_ + "/serve.log";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const std::string db = dir_ + "/db";
  const char* argv[] = {STRIDE_CLI, "serve", "--db", db.c_str(), "--port", "0", nullptr};
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, STRIDE_CLI, &fa, nullptr, const_cast<char**>(argv), environ), 0);
  posix_spawn_file_actions_destroy(&fa);
  auto read_log = [&] {
    std::ifstream f(log);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  };
  int port = 0;
  for (int i = 0; i < 300 && port == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const std::string text = read_log();
    const size_t at = text.find("listening on http://127.0.0.1:");
    if (at != std::string::npos) port = std::atoi(text.c_str() + at + 30);
  }
  ASSERT_NE(port, 0) << read_log();
  httplib::Client c("127.0.0.1", port);
  auto res = c.Get("/v1/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  const std::string text = read_log();
  EXPECT_NE(text.find("GET /v1/health 200"), std::string::npos) << text;
  EXPECT_NE(text.find("ms\n"), std::string::npos) << text;  // latency on the access line
  EXPECT_NE(text.find("SIGTERM: finishing requests in flight"), std::string::npos) << text;
  EXPECT_NE(text.find("stride serve: stopped"), std::string::npos) << text;
}

}  // namespace
}  // namespace stride
