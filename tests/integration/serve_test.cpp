// SPDX-License-Identifier: Apache-2.0
// The real HTTP server on a loopback port, over two databases: one imported from the shared
// Andorra extract (with its DEM) and one written by the route generator (datasets/
// gen_routes, no shared data needed). For each: random box and nearest queries against a
// brute-force scan, paging, fields of every response (JSON and protobuf), errors, gzip,
// metrics, a reload when the database is replaced, and the CLI's logging and clean stop.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "datasets/synthetic_routes.hpp"
#include "engine/route/route_json.hpp"
#include "importers/dem/srtm.hpp"
#include "importers/osm/osm_import.hpp"
#include "index/store/record_codec.hpp"
#include "index/store/route_db.hpp"
#include "server/http_server.hpp"
#include "server/route_api.hpp"
#include "stride/api.pb.h"
#include "stride/route.pb.h"
#include "tests/support/api_client.hpp"
#include "tests/support/cli.hpp"
#include "tests/support/datasets.hpp"
#include "tests/support/import.hpp"
#include "tests/support/running_server.hpp"

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

// The databases the suite runs over.
struct AndorraDb {
  static bool Available() { return testing::HaveDatasets(); }
  static Status Make(const std::string& db) {
    return Import(testing::DatasetsDir() + "/osm/andorra-2021-10-28.osm.pbf", db,
                  testing::DatasetsDir() + "/dem");
  }
  // A different database for the reload test.
  static Status Replace(const std::string& db) {
    return Import(testing::DatasetsDir() + "/osm/monaco-2012-07.osm.gz", db, "");
  }
};

struct GeneratedDb {
  static bool Available() { return true; }
  static datasets::SyntheticRoutesOptions Options() {
    datasets::SyntheticRoutesOptions o;
    o.count = 3000;
    o.SetRegion(45.0, 6.0, 45.6, 6.8);
    o.seed = 11;
    return o;
  }
  static Status Make(const std::string& db) {
    return datasets::WriteSyntheticRouteDb(Options(), db, 2).status();
  }
  static Status Replace(const std::string& db) {
    datasets::SyntheticRoutesOptions o = Options();
    o.count = 500;
    o.seed = 12;
    return datasets::WriteSyntheticRouteDb(o, db, 2).status();
  }
};

struct DbName {
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, AndorraDb> ? "Andorra" : "Generated";
  }
};

template <typename Db>
class Serve : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!Db::Available()) return;
    dir_ = (fs::path(::testing::TempDir()) /
            ("stride_serve_" + DbName::GetName<Db>(0) + std::to_string(::getpid())))
               .string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    const Status made = Db::Make(dir_ + "/db");
    ASSERT_TRUE(made.ok()) << made.message();
    // The brute-force side: every route, read straight from the database.
    Result<std::unique_ptr<index::RouteDb>> db = index::RouteDb::Open(dir_ + "/db");
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)
                    ->ForEachSummary([&](const engine::RouteSummary& s) {
                      routes_.push_back((*db)->GetRoute(s.id).value());
                      extent_.Extend(s.bbox);
                    })
                    .ok());
    ASSERT_GT(routes_.size(), 30u);
    server::HttpServerOptions o;
    o.rate_limits =
        {};  // more requests than one caller may make a minute: rate_limit_test has them
    o.db_path = dir_ + "/db";
    o.port = 0;
    o.reload_check_s = 0.2;
    server_ = new server::HttpServer(o);
    thread_ = new std::thread([] { run_status_ = server_->Run(); });
    for (int i = 0; i < 500 && server_->port() == 0; ++i) {
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
    routes_.clear();
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  void SetUp() override {
    if (!Db::Available()) {
      GTEST_SKIP() << "shared datasets not found at " << testing::DatasetsDir()
                   << " (clone next to ../shared to run this test)";
    }
    ASSERT_NE(server_, nullptr);
  }
  static httplib::Client Client() { return stride::testing::ApiClient(server_->port()); }
  static Json GetJson(const std::string& target, int expect_status = 200) {
    httplib::Client c = Client();
    auto res = c.Get(target.c_str());
    EXPECT_TRUE(res) << target;
    if (!res) return Json();
    EXPECT_EQ(res->status, expect_status) << target << ": " << res->body;
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/json") << target;
    return Json::parse(res->body);
  }
  // The body of a request sent with Accept: application/x-protobuf.
  static std::string GetProto(const std::string& target, int expect_status = 200) {
    httplib::Client c = Client();
    auto res = c.Get(target.c_str(), {{"Accept", "application/x-protobuf"}});
    EXPECT_TRUE(res) << target;
    if (!res) return "";
    EXPECT_EQ(res->status, expect_status) << target;
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/x-protobuf") << target;
    return res->body;
  }

  // A random query box inside the data, up to about 9 x 8 km.
  template <typename Rng>
  static engine::BoxE7 RandomBox(Rng& rng) {
    std::uniform_real_distribution<double> u(0, 1);
    const double lat = (extent_.min_lat + u(rng) * (extent_.max_lat - extent_.min_lat)) * 1e-7;
    const double lon = (extent_.min_lon + u(rng) * (extent_.max_lon - extent_.min_lon)) * 1e-7;
    const double h = u(rng) * 0.08, w = u(rng) * 0.1;
    return engine::BoxE7{static_cast<int32_t>(std::lround(lat * 1e7)),
                         static_cast<int32_t>(std::lround(lon * 1e7)),
                         static_cast<int32_t>(std::lround((lat + h) * 1e7)),
                         static_cast<int32_t>(std::lround((lon + w) * 1e7))};
  }
  template <typename Rng>
  static engine::PointE7 RandomPoint(Rng& rng) {
    std::uniform_real_distribution<double> u(0, 1);
    return engine::PointE7{
        static_cast<int32_t>(extent_.min_lat + u(rng) * (extent_.max_lat - extent_.min_lat)),
        static_cast<int32_t>(extent_.min_lon + u(rng) * (extent_.max_lon - extent_.min_lon))};
  }
  static std::string BboxText(const engine::BoxE7& box) {
    char bbox[128];
    std::snprintf(bbox, sizeof bbox, "%.7f,%.7f,%.7f,%.7f", box.min_lon * 1e-7, box.min_lat * 1e-7,
                  box.max_lon * 1e-7, box.max_lat * 1e-7);
    return bbox;
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
  static const engine::Route* Find(uint64_t id) {
    for (const auto& r : routes_) {
      if (r.summary.id == id) return &r;
    }
    return nullptr;
  }
  // A route worth checking in detail: the one with the most points among those with a name
  // and a profile.
  static const engine::Route& Showcase() {
    const engine::Route* best = &routes_.front();
    for (const auto& r : routes_) {
      const bool good = !r.name.empty() && !r.profile.empty();
      const bool best_good = !best->name.empty() && !best->profile.empty();
      if ((good && !best_good) ||
          (good == best_good && r.geometry.points.size() > best->geometry.points.size())) {
        best = &r;
      }
    }
    return *best;
  }

  static inline std::string dir_;
  static inline std::vector<engine::Route> routes_;
  static inline engine::BoxE7 extent_;
  static inline server::HttpServer* server_ = nullptr;
  static inline std::thread* thread_ = nullptr;
  static inline Status run_status_;
};

using Databases = ::testing::Types<AndorraDb, GeneratedDb>;
TYPED_TEST_SUITE(Serve, Databases, DbName);

TYPED_TEST(Serve, RandomQueriesEqualABruteForceScan) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
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
    if (u(rng) < 0.2) {
      const double a = u(rng) * 300;
      f.min_ascent_m = static_cast<float>(a);
      filter_text += "&min_ascent_m=" + std::to_string(a);
    }
    if (u(rng) < 0.2) {
      const double g = 0.02 + u(rng) * 0.3;
      f.max_grade = static_cast<float>(g);
      filter_text += "&max_grade=" + std::to_string(g);
    }
    if (u(rng) < 0.3) {
      f.type_mask = engine::TypeBit(engine::RouteType::kHiking);
      filter_text += "&type=hiking";
    }
    if (u(rng) < 0.2) {
      f.loop = u(rng) < 0.5;
      filter_text += *f.loop ? "&loop=true" : "&loop=false";
    }
    if (u(rng) < 0.15) {
      f.surface_mask = engine::SurfaceBit(engine::Surface::kUnpaved) |
                       engine::SurfaceBit(engine::Surface::kMixed);
      filter_text += "&surface=unpaved,mixed";
    }
    if (u(rng) < 0.15) {
      f.max_difficulty = 2;
      filter_text += "&max_difficulty=2";
    }
    if (u(rng) < 0.1) {
      f.network_mask = (1u << 3) | (1u << 4);
      filter_text += "&network=rwn,lwn";
    }
    // A box query, paged 7 at a time to its end.
    const engine::BoxE7 box = this->RandomBox(rng);
    const std::string sort = sorts[q % 3];
    const std::string bbox = this->BboxText(box);
    std::vector<uint64_t> got;
    std::string cursor;
    for (int page = 0; page < 1000; ++page) {
      const Json j = this->GetJson("/v1/routes?bbox=" + bbox + "&sort=" + sort + "&limit=7" +
                                   filter_text + (cursor.empty() ? "" : "&cursor=" + cursor));
      const std::vector<uint64_t> ids = this->Ids(j);
      got.insert(got.end(), ids.begin(), ids.end());
      if (j["next_cursor"].is_null()) break;
      cursor = j["next_cursor"].get<std::string>();
    }
    ASSERT_EQ(got, this->BruteBbox(box, f, sort))
        << "bbox " << bbox << " sort " << sort << filter_text;
    // A nearest query.
    const engine::PointE7 p = this->RandomPoint(rng);
    const size_t k = 1 + static_cast<size_t>(u(rng) * 20);
    char target[160];
    std::snprintf(target, sizeof target, "/v1/routes/nearest?lat=%.7f&lon=%.7f&k=%zu", p.lat * 1e-7,
                  p.lon * 1e-7, k);
    ASSERT_EQ(this->Ids(this->GetJson(target + filter_text)), this->BruteNearest(p, k, f))
        << target << filter_text;
  }
}

TYPED_TEST(Serve, RouteAndProfileFieldByField) {
  const engine::Route& r = this->Showcase();
  const std::string id = std::to_string(r.summary.id);
  const Json j = this->GetJson("/v1/routes/" + id);
  EXPECT_EQ(j["id"].get<uint64_t>(), r.summary.id);
  EXPECT_EQ(j["name"], r.name);
  EXPECT_EQ(j["osm"], engine::OsmRefOf(r.summary.id));
  EXPECT_EQ(j["type"], engine::RouteTypeName(r.summary.type));
  EXPECT_EQ(j["route_tag"], r.route_tag);
  EXPECT_EQ(j["loop"], r.summary.loop);
  EXPECT_EQ(j["surface"], engine::SurfaceName(r.summary.surface));
  EXPECT_EQ(j["difficulty"], r.summary.difficulty);
  EXPECT_NEAR(j["length_m"].get<double>(), r.length_m, 0.06);
  EXPECT_NEAR(j["ascent_m"].get<double>(), r.ascent_m, 0.06);
  EXPECT_NEAR(j["descent_m"].get<double>(), r.descent_m, 0.06);
  EXPECT_NEAR(j["max_grade"].get<double>(), r.max_grade, 6e-5);
  EXPECT_NEAR(j["avg_grade"].get<double>(), r.avg_grade, 6e-5);
  EXPECT_EQ(j["elevation_method"], r.elevation_method);
  EXPECT_EQ(j["parts"].get<size_t>(), r.geometry.part_starts.size());
  EXPECT_EQ(j["member_ways"].get<size_t>(), r.member_ways.size());
  ASSERT_EQ(j["bbox"].size(), 4u);
  EXPECT_NEAR(j["bbox"][0].get<double>(), r.summary.bbox.min_lon * 1e-7, 1e-9);
  EXPECT_NEAR(j["bbox"][3].get<double>(), r.summary.bbox.max_lat * 1e-7, 1e-9);
  ASSERT_EQ(j["surfaces"].size(), r.surfaces.size());
  if (!r.surfaces.empty()) {
    EXPECT_EQ(j["surfaces"][0]["surface"], r.surfaces[0].surface);
  }
  ASSERT_EQ(j["geometry"]["type"], "polyline6");
  // The polyline decodes to the stored points (1e-6 degree).
  std::vector<std::pair<double, double>> pts;
  for (const Json& part : j["geometry"]["parts"]) {
    const auto d = DecodePolyline6(part.get<std::string>());
    pts.insert(pts.end(), d.begin(), d.end());
  }
  ASSERT_EQ(pts.size(), r.geometry.points.size());
  for (size_t i = 0; i < pts.size(); i += 7) {
    EXPECT_NEAR(pts[i].first, r.geometry.points[i].lat * 1e-7, 1e-6);
    EXPECT_NEAR(pts[i].second, r.geometry.points[i].lon * 1e-7, 1e-6);
  }
  // Simplified for a zoomed-out map: far fewer points, same ends.
  const Json z = this->GetJson("/v1/routes/" + id + "?zoom=10&format=geojson");
  EXPECT_LT(z["points"].get<size_t>(), r.geometry.points.size() / 3);
  EXPECT_EQ(z["geometry"]["type"], "MultiLineString");
  const Json first = z["geometry"]["coordinates"][0][0];
  EXPECT_NEAR(first[0].get<double>(), r.geometry.points[0].lon * 1e-7, 1e-7);
  EXPECT_NEAR(first[1].get<double>(), r.geometry.points[0].lat * 1e-7, 1e-7);
  // tolerance_m: every stored point lies within the tolerance of the kept line (plus the
  // 1e-7 degree rounding of the output), and a larger tolerance keeps no more points.
  const Json t5 = this->GetJson("/v1/routes/" + id + "?tolerance_m=5&format=geojson");
  const Json t50 = this->GetJson("/v1/routes/" + id + "?tolerance_m=50");
  const size_t at5 = t5["points"].get<size_t>(), at50 = t50["points"].get<size_t>();
  EXPECT_LE(at50, at5);
  EXPECT_LT(at5, r.geometry.points.size());
  engine::RouteGeometry kept;
  for (const Json& part : t5["geometry"]["coordinates"]) {
    kept.part_starts.push_back(static_cast<uint32_t>(kept.points.size()));
    for (const Json& c : part) {
      kept.points.push_back({static_cast<int32_t>(std::lround(c[1].get<double>() * 1e7)),
                             static_cast<int32_t>(std::lround(c[0].get<double>() * 1e7))});
    }
  }
  ASSERT_EQ(kept.points.size(), at5);
  for (const engine::PointE7& p : r.geometry.points) {
    ASSERT_LE(engine::QueryPlane(p).DistanceToGeometry(kept), 5.0 + 0.05) << p.lat << "," << p.lon;
  }
  // The profile.
  const Json p = this->GetJson("/v1/routes/" + id + "/profile");
  EXPECT_EQ(p["id"].get<uint64_t>(), r.summary.id);
  ASSERT_EQ(p["profile"]["distance_m"].size(), r.profile.distance_m.size());
  for (size_t i = 0; i < r.profile.distance_m.size(); i += 11) {
    EXPECT_NEAR(p["profile"]["distance_m"][i].get<double>(), r.profile.distance_m[i], 0.06);
    EXPECT_NEAR(p["profile"]["elevation_m"][i].get<double>(), r.profile.elevation_m[i], 0.06);
  }
  EXPECT_NEAR(p["ascent_m"].get<double>(), r.ascent_m, 0.06);
  // A list entry carries the summary fields: ask for the routes nearest the route's start.
  char target[160];
  std::snprintf(target, sizeof target, "/v1/routes/nearest?lat=%.7f&lon=%.7f&k=50",
                r.summary.start.lat * 1e-7, r.summary.start.lon * 1e-7);
  const Json near = this->GetJson(target);
  const Json* entry = nullptr;
  for (const Json& e : near["routes"]) {
    if (e["id"].get<uint64_t>() == r.summary.id) entry = &e;
  }
  ASSERT_NE(entry, nullptr);
  const Json& e = *entry;
  EXPECT_EQ(e["name"], r.name);
  EXPECT_EQ(e["osm"], engine::OsmRefOf(r.summary.id));
  EXPECT_EQ(e["type"], engine::RouteTypeName(r.summary.type));
  EXPECT_NEAR(e["length_m"].get<double>(), r.summary.length_m, 0.06);
  EXPECT_NEAR(e["ascent_m"].get<double>(), r.summary.ascent_m, 0.06);
  EXPECT_NEAR(e["max_grade"].get<double>(), r.summary.max_grade, 6e-5);
  EXPECT_EQ(e["loop"], r.summary.loop);
  EXPECT_EQ(e["surface"], engine::SurfaceName(r.summary.surface));
  EXPECT_EQ(e["difficulty"], r.summary.difficulty);
  EXPECT_EQ(e["network"].is_null(), r.summary.network == 0);
  EXPECT_NEAR(e["start"][0].get<double>(), r.summary.start.lon * 1e-7, 1e-9);
  EXPECT_NEAR(e["start"][1].get<double>(), r.summary.start.lat * 1e-7, 1e-9);
  EXPECT_NEAR(e["bbox"][1].get<double>(), r.summary.bbox.min_lat * 1e-7, 1e-9);
  EXPECT_NEAR(e["bbox"][2].get<double>(), r.summary.bbox.max_lon * 1e-7, 1e-9);
  EXPECT_NEAR(e["distance_m"].get<double>(), 0.0, 0.06);  // the query point is on the route
  if constexpr (std::is_same_v<TypeParam, AndorraDb>) {
    // One route checked against what OSM says about it.
    const Json v = this->GetJson("/v1/routes/r5511920");
    EXPECT_EQ(v["name"], "GPR La volta a Andorra");
    EXPECT_EQ(v["osm"], "relation/5511920");
    EXPECT_EQ(v["type"], "hiking");
    EXPECT_EQ(v["loop"], true);
  }
}

// The protobuf wire format says what the JSON says, field by field.
TYPED_TEST(Serve, ProtobufResponsesEqualTheJsonOnes) {
  std::mt19937 rng(3);
  for (int q = 0; q < 40; ++q) {
    const engine::PointE7 p = this->RandomPoint(rng);
    char target[200];
    if (q % 2 == 0) {
      std::snprintf(target, sizeof target, "/v1/routes/nearest?lat=%.7f&lon=%.7f&k=12",
                    p.lat * 1e-7, p.lon * 1e-7);
    } else {
      std::snprintf(target, sizeof target, "/v1/routes?bbox=%s&limit=9",
                    this->BboxText(this->RandomBox(rng)).c_str());
    }
    const Json j = this->GetJson(target);
    api::RouteList list;
    ASSERT_TRUE(list.ParseFromString(this->GetProto(target))) << target;
    ASSERT_EQ(static_cast<size_t>(list.routes_size()), j["routes"].size()) << target;
    EXPECT_EQ(list.has_next_cursor(), !j["next_cursor"].is_null());
    if (list.has_next_cursor()) {
      EXPECT_EQ(list.next_cursor(), j["next_cursor"]);
    }
    for (int i = 0; i < list.routes_size(); ++i) {
      const api::RouteSummary& m = list.routes(i);
      const Json& e = j["routes"][static_cast<size_t>(i)];
      EXPECT_EQ(m.id(), e["id"].get<uint64_t>());
      EXPECT_EQ(m.osm(), e["osm"]);
      EXPECT_EQ(m.has_name(), !e["name"].is_null());
      if (m.has_name()) {
        EXPECT_EQ(m.name(), e["name"]);
      }
      EXPECT_EQ(m.type(), e["type"]);
      EXPECT_NEAR(m.length_m(), e["length_m"].get<double>(), 0.06);
      EXPECT_NEAR(m.ascent_m(), e["ascent_m"].get<double>(), 0.06);
      EXPECT_NEAR(m.max_grade(), e["max_grade"].get<double>(), 6e-5);
      EXPECT_EQ(m.loop(), e["loop"].get<bool>());
      EXPECT_EQ(m.surface(), e["surface"]);
      EXPECT_EQ(m.difficulty(), e["difficulty"].get<uint32_t>());
      EXPECT_EQ(m.has_network(), !e["network"].is_null());
      EXPECT_NEAR(m.start_lon() * 1e-7, e["start"][0].get<double>(), 1e-9);
      EXPECT_NEAR(m.start_lat() * 1e-7, e["start"][1].get<double>(), 1e-9);
      EXPECT_NEAR(m.bbox().min_lon() * 1e-7, e["bbox"][0].get<double>(), 1e-9);
      EXPECT_NEAR(m.bbox().max_lat() * 1e-7, e["bbox"][3].get<double>(), 1e-9);
      ASSERT_TRUE(m.has_distance_m());
      EXPECT_NEAR(m.distance_m(), e["distance_m"].get<double>(), 0.06);
    }
  }
  // A route: the stored record's schema, geometry exact, no profile.
  const engine::Route& r = this->Showcase();
  const std::string id = std::to_string(r.summary.id);
  Result<engine::Route> got = index::DecodeRoute(this->GetProto("/v1/routes/" + id));
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->summary.id, r.summary.id);
  EXPECT_EQ(got->name, r.name);
  EXPECT_EQ(got->geometry.points, r.geometry.points);
  EXPECT_EQ(got->geometry.part_starts, r.geometry.part_starts);
  EXPECT_DOUBLE_EQ(got->ascent_m, r.ascent_m);
  EXPECT_TRUE(got->profile.empty());
  Result<engine::Route> simplified =
      index::DecodeRoute(this->GetProto("/v1/routes/" + id + "?zoom=9"));
  ASSERT_TRUE(simplified.ok());
  EXPECT_LT(simplified->geometry.points.size(), r.geometry.points.size());
  EXPECT_EQ(simplified->geometry.points.front(), r.geometry.points.front());
  // Its profile: the stored samples exactly.
  api::RouteProfile prof;
  ASSERT_TRUE(prof.ParseFromString(this->GetProto("/v1/routes/" + id + "/profile")));
  EXPECT_EQ(prof.id(), r.summary.id);
  EXPECT_EQ(prof.elevation_method(), r.elevation_method);
  EXPECT_DOUBLE_EQ(prof.ascent_m(), r.ascent_m);
  ASSERT_EQ(static_cast<size_t>(prof.profile().elevation_m_size()), r.profile.elevation_m.size());
  for (size_t i = 0; i < r.profile.elevation_m.size(); ++i) {
    ASSERT_EQ(prof.profile().elevation_m(static_cast<int>(i)), r.profile.elevation_m[i]);
    ASSERT_EQ(prof.profile().distance_m(static_cast<int>(i)), r.profile.distance_m[i]);
  }
  // Errors too.
  api::ErrorResponse err;
  ASSERT_TRUE(err.ParseFromString(this->GetProto("/v1/routes/nearest?lat=95&lon=1", 400)));
  EXPECT_EQ(err.error().code(), "invalid_argument");
  EXPECT_NE(err.error().message().find("lat: 95 is out of range"), std::string::npos);
  ASSERT_TRUE(err.ParseFromString(this->GetProto("/v1/routes/r1", 404)));
  EXPECT_EQ(err.error().code(), "not_found");
  ASSERT_TRUE(err.ParseFromString(this->GetProto("/v9/x", 404)));
  EXPECT_EQ(err.error().code(), "not_found");
  // Accept lists: protobuf wins when named with q > 0; q=0 means "not this".
  EXPECT_EQ(server::WireFromAccept("application/json"), server::Wire::kJson);
  EXPECT_EQ(server::WireFromAccept("text/html, application/x-protobuf;q=0.9"),
            server::Wire::kProtobuf);
  EXPECT_EQ(server::WireFromAccept("application/x-protobuf;q=0"), server::Wire::kJson);
  EXPECT_EQ(server::WireFromAccept(""), server::Wire::kJson);
}

TYPED_TEST(Serve, BadRequestsGetJsonErrorsNamingTheParameter) {
  struct Case {
    std::string target;
    int status;
    const char* text;
  };
  const std::string known = "/v1/routes/" + std::to_string(this->routes_.front().summary.id);
  const Case cases[] = {
      {"/v1/routes", 400, "bbox: required"},
      {"/v1/routes?bbox=1,2,3", 400, "bbox: expected 4 numbers"},
      {"/v1/routes?bbox=a,b,c,d", 400, "bbox minlon: 'a' is not a number"},
      {"/v1/routes?bbox=1.6,42.5,1.5,42.6", 400, "bbox: min must not exceed max"},
      {"/v1/routes?bbox=1.5,42.5,1.6,42.6&sort=beauty", 400, "sort: unknown key 'beauty'"},
      {"/v1/routes?bbox=1.5,42.5,1.6,42.6&limit=100000", 400, "limit: 100000 is out of range"},
      {"/v1/routes?bbox=1.5,42.5,1.6,42.6&limit=0", 400, "limit: 0 is out of range"},
      {"/v1/routes?bbox=1.5,42.5,1.6,42.6&type=swimming", 400, "type: unknown route type"},
      {"/v1/routes?bbox=1.5,42.5,1.6,42.6&surface=lava", 400, "surface: unknown 'lava'"},
      {"/v1/routes?bbox=1.5,42.5,1.6,42.6&network=xyz", 400, "network: unknown 'xyz'"},
      {"/v1/routes?bbox=1.5,42.5,1.6,42.6&min_length_m=-5", 400, "min_length_m: -5 is out"},
      {"/v1/routes?bbox=1.5,42.5,1.6,42.6&max_grade=nan", 400, "max_grade: 'nan' is not"},
      {"/v1/routes?bbox=1.5,42.5,1.6,42.6&cursor=xyz", 400, "cursor: malformed"},
      {"/v1/routes/nearest?lon=1.5", 400, "lat: required"},
      {"/v1/routes/nearest?lat=42.5", 400, "lon: required"},
      {"/v1/routes/nearest?lat=91&lon=1.5", 400, "lat: 91 is out of range"},
      {"/v1/routes/nearest?lat=42.5&lon=181", 400, "lon: 181 is out of range"},
      {"/v1/routes/nearest?lat=42.5&lon=1.5&k=501", 400, "k: 501 is out of range"},
      {"/v1/routes/nearest?lat=42.5&lon=1.5&loop=maybe", 400, "loop: 'maybe'"},
      {"/v1/routes/nearest?lat=42.5&lon=1.5&max_distance_m=x", 400, "max_distance_m: 'x'"},
      {"/v1/routes/r1", 404, "no route r1"},
      {"/v1/routes/r1/profile", 404, "no route r1"},
      {"/v1/routes/banana", 400, "is not a route id"},
      {known + "?format=kml", 400, "format: 'kml'"},
      {known + "?zoom=40", 400, "zoom: 40 is out of range"},
      {"/v2/anything", 404, "no endpoint /v2/anything"},
      // A parameter the endpoint does not take: a misspelt filter was left out, and every
      // route answered as if it had not been sent.
      {"/v1/routes?bbox=1.5,42.5,1.6,42.6&min_length=5000", 400,
       "min_length: unknown parameter (expected bbox, limit, cursor, sort, min_length_m,"},
      {"/v1/routes/nearest?lat=42.5&lon=1.5&radius_m=100", 400, "radius_m: unknown parameter"},
      // Given twice: the first was taken, the second dropped (a second via left out of the
      // route).
      {"/v1/routes?bbox=1.5,42.5,1.6,42.6&limit=1&limit=500", 400, "limit: given more than once"},
      {"/v1/directions?from=42.5,1.5&to=42.51,1.51&via=42.505,1.505&via=42.506,1.506", 400,
       "via: given more than once"},
      {known + "?simplify=1", 400, "simplify: unknown parameter (expected format, zoom,"},
      {known + "/profile?step_m=10", 400,
       "step_m: unknown parameter (GET /v1/routes/{id}/profile takes none)"},
  };
  for (const Case& c : cases) {
    const Json j = this->GetJson(c.target, c.status);
    ASSERT_TRUE(j.contains("error")) << c.target;
    EXPECT_EQ(j["error"]["code"], c.status == 404 ? "not_found" : "invalid_argument") << c.target;
    EXPECT_NE(j["error"]["message"].get<std::string>().find(c.text), std::string::npos)
        << c.target << ": " << j["error"]["message"];
  }
  // Garbage on the socket does not take the server down.
  {
    httplib::Client c = this->Client();
    auto res = c.Get("/v1/routes?bbox=%ZZ%00,1,2,3");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400);
  }
  EXPECT_EQ(this->GetJson("/v1/health")["status"], "ok");
}

TYPED_TEST(Serve, GzipHealthAndMetrics) {
  httplib::Client c = this->Client();
  httplib::Headers h = {{"Accept-Encoding", "gzip"}};
  const std::string route = "/v1/routes/" + std::to_string(this->Showcase().summary.id);
  auto res = c.Get(route.c_str(), h);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("Content-Encoding"), "gzip");
  const Json health = this->GetJson("/v1/health");
  EXPECT_EQ(health["routes"].get<size_t>(), this->routes_.size());
  auto m = c.Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_NE(m->body.find("stride_http_requests_total{endpoint=\"route\",code=\"2xx\"}"),
            std::string::npos);
  EXPECT_NE(
      m->body.find("stride_http_request_duration_seconds_bucket{endpoint=\"health\",le=\"+Inf\"}"),
      std::string::npos);
  EXPECT_NE(m->body.find("stride_index_routes " + std::to_string(this->routes_.size())),
            std::string::npos);
}

// Runs last in this suite (gtest keeps declaration order): it replaces the database.
TYPED_TEST(Serve, ZZReloadsWhenAnImportReplacesTheDatabase) {
  const Json health = this->GetJson("/v1/health");
  const size_t before = health["routes"].get<size_t>();
  const engine::Route& gone = this->Showcase();
  ASSERT_TRUE(TypeParam::Replace(this->dir_ + "/db").ok());
  size_t after = before;
  for (int i = 0; i < 200 && after == before; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const Json now = this->GetJson("/v1/health");
    after = now["routes"].get<size_t>();
  }
  EXPECT_NE(after, before);
  const Json now = this->GetJson("/v1/health");
  EXPECT_EQ(now["reloads"].get<int>(), 1);
  Result<std::unique_ptr<index::RouteDb>> db = index::RouteDb::Open(this->dir_ + "/db");
  ASSERT_TRUE(db.ok());
  const int status = (*db)->GetRoute(gone.summary.id).ok() ? 200 : 404;
  this->GetJson("/v1/routes/" + std::to_string(gone.summary.id), status);
}

// `stride serve` as an operator runs it: it says where it listens, logs each request with
// its latency, and on SIGTERM finishes and exits 0.
// Starts `stride serve ARGS...` with its stderr in `log` and the environment `envp`; the pid.
pid_t SpawnServe(std::vector<std::string> args, const std::string& log, char* const* envp) {
  args.insert(args.begin(), {STRIDE_CLI, "serve"});
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  const int e = posix_spawn(&pid, STRIDE_CLI, &fa, nullptr, argv.data(), envp);
  posix_spawn_file_actions_destroy(&fa);
  return e == 0 ? pid : 0;
}

std::string FileText(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TYPED_TEST(Serve, CliServesLogsAndStopsOnSigterm) {
  const std::string log = this->dir_ + "/serve.log";
  const pid_t pid = SpawnServe({"--db", this->dir_ + "/db", "--port", "0"}, log, environ);
  ASSERT_NE(pid, 0);
  auto read_log = [&] { return FileText(log); };
  int port = 0;
  for (int i = 0; i < 300 && port == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const std::string text = read_log();
    const size_t at = text.find("listening on http://127.0.0.1:");
    if (at != std::string::npos) port = std::atoi(text.c_str() + at + 30);
  }
  ASSERT_NE(port, 0) << read_log();
  httplib::Client c = stride::testing::ApiClient(port);
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

// --quiet drops the access log, not what the operator must know: a new database that could
// not be loaded was said only in the access log, so a quiet server kept the old one silently.
TEST(ServeCli, QuietDropsTheAccessLogButNotTheOperatorsMessages) {
  const std::string dir = testing::ServerFolder("quiet", 5);
  ASSERT_FALSE(dir.empty());
  const std::string log = dir + "/serve.log";
  const pid_t pid = SpawnServe({"--db", dir + "/db", "--port", "0", "--quiet"}, log, environ);
  ASSERT_NE(pid, 0);
  int port = 0;
  for (int i = 0; i < 300 && port == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const std::string text = FileText(log);
    const size_t at = text.find("listening on http://127.0.0.1:");
    if (at != std::string::npos) port = std::atoi(text.c_str() + at + 30);
  }
  ASSERT_NE(port, 0) << FileText(log);
  httplib::Client c = stride::testing::ApiClient(port);
  ASSERT_TRUE(c.Get("/v1/health"));
  // An operator's copy went wrong: the new directory holds no database.
  fs::rename(dir + "/db", dir + "/db.old");
  fs::create_directories(dir + "/db");
  std::ofstream(dir + "/db/CURRENT") << "not a database\n";
  const std::string said = "serve: new database at " + dir + "/db not loaded (keeping the current";
  for (int i = 0; i < 500 && FileText(log).find(said) == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(FileText(log).find(said), std::string::npos) << FileText(log);
  auto health = c.Get("/v1/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(nlohmann::json::parse(health->body)["routes"], 5) << health->body;
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_EQ(FileText(log).find("GET /v1/health"), std::string::npos) << FileText(log);
  fs::remove_all(dir);
}

// A request that never finishes (here the chat plugin's model server accepts the connection
// and never answers, and the operator allowed it 600 s) held SIGTERM's stop for good, and a
// second SIGTERM did nothing: only kill -9 stopped the server. Past --stop-timeout, or at a
// second signal, it now exits without that request, saying so.
TEST(ServeCli, AStuckRequestDoesNotHoldTheStopPastItsTimeoutOrASecondSignal) {
  const std::string dir = testing::ServerFolder("stuck", 5);
  ASSERT_FALSE(dir.empty());
  // The model server: listens, never accepts, never answers.
  const int hole = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(hole, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(hole, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(hole, 16), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(hole, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  env.push_back("STRIDE_CHAT_DRIVER=http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)));
  env.push_back("STRIDE_CHAT_TIMEOUT_S=600");
  env.push_back("STRIDE_CHAT_RETRIES=0");
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  struct Case {
    std::string stop_timeout;  // empty: the default (30 s)
    bool second_signal;
    std::string said;
  };
  const std::vector<Case> cases = {
      {"1", false,
       "stride serve: requests still in flight 1 s after the stop: exiting without them"},
      {"", true, "stride serve: second SIGTERM: exiting without them"},
  };
  for (size_t k = 0; k < cases.size(); ++k) {
    const Case& c = cases[k];
    const std::string log = dir + "/serve" + std::to_string(k) + ".log";
    const std::string db = dir + "/db", runs = dir + "/runs" + std::to_string(k);
    std::vector<std::string> args = {"--dev", "--db", db, "--runs", runs, "--port", "0"};
    if (!c.stop_timeout.empty()) {
      args.push_back("--stop-timeout");
      args.push_back(c.stop_timeout);
    }
    const pid_t pid = SpawnServe(args, log, envp.data());
    ASSERT_NE(pid, 0);
    auto read_log = [&] { return FileText(log); };
    int port = 0;
    std::string token;
    for (int i = 0; i < 500 && token.empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      const std::string text = read_log();
      const size_t at = text.find("listening on http://127.0.0.1:");
      if (at != std::string::npos) port = std::atoi(text.c_str() + at + 30);
      const size_t t = text.find("24 h):\n");
      const size_t end = t == std::string::npos ? t : text.find('\n', t + 7);
      if (end != std::string::npos) token = text.substr(t + 7, end - t - 7);
    }
    ASSERT_NE(port, 0) << read_log();
    ASSERT_FALSE(token.empty()) << read_log();
    // The question waits on the model server for as long as the client lets it.
    std::thread ask([port, token] {
      httplib::Client client = testing::ApiClient(port);
      client.set_read_timeout(60, 0);
      client.set_bearer_token_auth(token);
      client.Post("/v1/chat/ask", R"({"question":"How far did I run last week?"})",
                  "application/json");
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    ASSERT_EQ(::kill(pid, SIGTERM), 0);
    if (c.second_signal) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      ASSERT_EQ(::kill(pid, SIGTERM), 0);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ask.join();
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 1);
    const std::string text = read_log();
    EXPECT_NE(text.find("SIGTERM: finishing requests in flight"), std::string::npos) << text;
    EXPECT_NE(text.find(c.said), std::string::npos) << text;
    EXPECT_EQ(text.find("stride serve: stopped"), std::string::npos) << text;
  }
  ::close(hole);
  fs::remove_all(dir);
}

// `stride token` mints what it says (claims decoded here), and warns of a scope that is none
// of Stride's own: "runner:wirte" used to give a token refused with 403 only at its first use.
TEST(ServeCli, TokenMintsTheClaimsAndWarnsOfAnUnknownScope) {
  const std::string env = "STRIDE_JWT_SECRET=abcdefghijklmnopqrstuvwxyz0123456789 ";
  auto claims = [](const std::string& token) {
    const size_t a = token.find('.'), b = token.find('.', a + 1);
    std::string part = token.substr(a + 1, b - a - 1);
    for (char& ch : part) ch = ch == '-' ? '+' : ch == '_' ? '/' : ch;
    while (part.size() % 4 != 0) part += '=';
    std::string json;
    uint32_t acc = 0;
    int bits = 0;
    const std::string abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (const char ch : part) {
      if (ch == '=') break;
      acc = (acc << 6) | static_cast<uint32_t>(abc.find(ch));
      if ((bits += 6) >= 8) json += static_cast<char>((acc >> (bits -= 8)) & 0xFF);
    }
    return Json::parse(json);
  };
  const testing::CliRun ok = testing::RunShell(env + STRIDE_CLI +
                                               " token --user ann --scope 'runner:read admin' "
                                               "--ttl 2h");
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.err, "");
  const Json c = claims(ok.out.substr(0, ok.out.find('\n')));
  EXPECT_EQ(c["sub"], "ann");
  EXPECT_EQ(c["scope"], "runner:read admin");
  EXPECT_EQ(c["exp"].get<int64_t>() - c["iat"].get<int64_t>(), 7200);
  const testing::CliRun typo =
      testing::RunShell(env + STRIDE_CLI + " token --user ann --scope 'runner:read runner:wirte'");
  ASSERT_EQ(typo.exit_code, 0) << typo.err;
  EXPECT_EQ(typo.err,
            "stride token: warning: scope 'runner:wirte' is none of Stride's own (runner:read "
            "runner:write chat:ask admin); fine if a plugin's routes ask for it\n");
  EXPECT_EQ(claims(typo.out.substr(0, typo.out.find('\n')))["scope"], "runner:read runner:wirte");
}

// The address it listens on, as a URL one can paste: an IPv6 one in brackets ("http://::1:8080"
// was printed before, which no client takes).
TEST(ServeCli, AnIpv6AddressIsAnnouncedInBrackets) {
  const std::string dir = testing::ServerFolder("ipv6", 5);
  ASSERT_FALSE(dir.empty());
  const testing::CliRun r =
      testing::RunShell("timeout -s TERM 2 " + std::string(STRIDE_CLI) +
                        " serve --dev --bind ::1 --port 0 --db " + dir + "/db");
  fs::remove_all(dir);
  if (r.err.find("listening on") == std::string::npos) {
    GTEST_SKIP() << "no IPv6 loopback here: " << r.err;
  }
  EXPECT_NE(r.err.find("listening on http://[::1]:"), std::string::npos) << r.err;
}

// A --runs path with no run database in it gets a new one, and the start-up log says so: a
// misspelt path served an empty database without a word. A second start says nothing.
TEST(ServeCli, ANewRunDatabaseIsAnnounced) {
  const std::string dir = testing::ServerFolder("newruns", 5);
  ASSERT_FALSE(dir.empty());
  const std::string serve = "timeout -s TERM 2 " + std::string(STRIDE_CLI) +
                            " serve --dev --port 0 --db " + dir + "/db --runs " + dir + "/runs";
  const testing::CliRun first = testing::RunShell(serve);
  ASSERT_NE(first.err.find("listening on"), std::string::npos) << first.err;
  EXPECT_NE(first.err.find("stride serve: runs " + dir +
                           "/runs: no run database was there; a new, empty one was created\n"),
            std::string::npos)
      << first.err;
  const testing::CliRun again = testing::RunShell(serve);
  ASSERT_NE(again.err.find("listening on"), std::string::npos) << again.err;
  EXPECT_EQ(again.err.find("a new, empty one was created"), std::string::npos) << again.err;
  fs::remove_all(dir);
}

// An option that acts only beside another is refused without it, naming what it needs: the
// server used to start and ignore it (--geofences without --runs tagged nothing).
TEST(ServeCli, AnOptionWithoutTheOneItNeedsIsRefused) {
  const std::string db = " --db /nonexistent --port 0 ";
  const std::string secret =
      (fs::temp_directory_path() / ("stride-serve-cli-" + std::to_string(::getpid()))).string();
  std::ofstream(secret) << "a secret of more than sixteen bytes\n";
  fs::permissions(secret, fs::perms::owner_read | fs::perms::owner_write);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--geofences regions.geojson", "--geofences needs --runs"},
      {"--no-sync", "--no-sync needs --runs"},
      {"--idempotency-days 3", "--idempotency-days needs --runs"},
      {"--inbound-webhook strava=" + secret, "--inbound-webhook needs --runs"},
      {"--backup-dir backups", "--backup-dir needs --runs"},
      {"--plugins plugins", "--plugins needs --runs (plugins keep their data there)"},
      // An unset variable in `--tls-cert "$CERT"` is not plain HTTP, nor `--runs ""` no runs.
      {"--runs runs --tls-cert ''", "stride serve: an empty argument after --tls-cert"},
      {"--runs ''", "stride serve: an empty argument after --runs"},
      {"--runs runs --keep-backups 2", "--keep-backups needs --backup-dir"},
      {"--webhook-secret-file " + secret, "--webhook-secret-file needs --webhook"},
  };
  for (const auto& [options, message] : cases) {
    const testing::CliRun r = testing::Stride("serve" + db + options);
    EXPECT_EQ(r.exit_code, 2) << options << ": " << r.err;
    EXPECT_NE(r.err.find(message), std::string::npos) << options << ": " << r.err;
  }
  fs::remove(secret);
}

}  // namespace
}  // namespace stride
