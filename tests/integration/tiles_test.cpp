// SPDX-License-Identifier: Apache-2.0
//
// GET /v1/tiles/{z}/{x}/{y}.mvt as a map client meets it: a real server on loopback over a
// generated map with its trail graph; tiles decoded by the reader of tests/support/mvt.hpp and
// checked against the routes the spatial index has in the tile; ETags and 304; bad tiles.
#include <gtest/gtest.h>
#include <httplib.h>

#include <cmath>
#include <filesystem>
#include <set>
#include <string>

#include "datasets/synthetic_osm.hpp"
#include "engine/route/vector_tile.hpp"
#include "index/store/route_snapshot.hpp"
#include "server/tile_api.hpp"
#include "tests/support/api_client.hpp"
#include "tests/support/import.hpp"
#include "tests/support/mvt.hpp"
#include "tests/support/running_server.hpp"

namespace stride {
namespace {

namespace fs = std::filesystem;

engine::TileId TileOf(double lat, double lon, int z) {
  const double n = std::ldexp(1.0, z);
  return {
      z, static_cast<uint32_t>((lon + 180) / 360 * n),
      static_cast<uint32_t>((1 - std::log(std::tan(M_PI / 4 + lat * M_PI / 360)) / M_PI) / 2 * n)};
}

std::string Path(engine::TileId t) {
  return "/v1/tiles/" + std::to_string(t.z) + "/" + std::to_string(t.x) + "/" +
         std::to_string(t.y) + ".mvt";
}

class Tiles : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(
        (fs::path(::testing::TempDir()) / ("stride_tiles_" + std::to_string(::getpid()))).string());
    fs::remove_all(*dir_);
    fs::create_directories(*dir_);
    datasets::SyntheticOsmOptions so;
    so.target_nodes = 20'000;
    Result<datasets::SyntheticOsmStats> st =
        datasets::WriteSyntheticOsm(*dir_ + "/map.osm.pbf", so);
    ASSERT_TRUE(st.ok()) << st.status().message();
    ASSERT_TRUE(testing::ImportToDb(*dir_ + "/map.osm.pbf", *dir_ + "/db", nullptr).ok());
    server::HttpServerOptions o;
    o.db_path = *dir_ + "/db";
    server_ = new testing::RunningServer(o);
    ASSERT_NE(server_->port(), 0) << server_->status().message();
  }
  static void TearDownTestSuite() {
    delete server_;
    fs::remove_all(*dir_);
    delete dir_;
  }
  static httplib::Result Get(const std::string& path, const httplib::Headers& h = {}) {
    httplib::Client c = stride::testing::ApiClient(server_->port());
    return c.Get(path.c_str(), h);
  }

  static std::string* dir_;
  static testing::RunningServer* server_;
};
std::string* Tiles::dir_ = nullptr;
testing::RunningServer* Tiles::server_ = nullptr;

TEST_F(Tiles, ATileHoldsTheRoutesAndTrailsThatCrossIt) {
  Result<std::shared_ptr<const index::RouteSnapshot>> snap =
      index::LoadRouteSnapshot(*dir_ + "/db");
  ASSERT_TRUE(snap.ok());
  const index::RouteSnapshot& s = **snap;
  // A tile at zoom 14 around the start of the longest route.
  size_t longest = 0;
  for (size_t i = 0; i < s.index.size(); ++i) {
    if (s.index.summary(i).length_m > s.index.summary(longest).length_m) longest = i;
  }
  const engine::PointE7 start = s.index.summary(longest).start;
  for (int z : {11, 14}) {
    const engine::TileId t = TileOf(start.lat / 1e7, start.lon / 1e7, z);
    httplib::Result r = Get(Path(t));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/vnd.mapbox-vector-tile");
    const std::vector<testing::Layer> layers = testing::Decode(r->body);
    std::map<std::string, const testing::Layer*> by_name;
    for (const auto& l : layers) by_name[l.name] = &l;
    ASSERT_TRUE(by_name.count("routes")) << z;
    // Every route long enough to draw whose line crosses the tile itself is in the layer, once,
    // with its properties; no route outside the tile and its buffer is.
    const double min_length_m = 32 * engine::TileUnitMetres(t);
    std::set<uint64_t> expected, buffered;
    for (const auto& h : s.index.Bbox(engine::TileBox(t, 0), {},
                                      index::RouteIndex::SortKey::kLength, s.index.size())) {
      if (s.index.summary(h.index).length_m >= min_length_m) expected.insert(h.id);
    }
    for (const auto& h : s.index.Bbox(engine::TileBox(t), {}, index::RouteIndex::SortKey::kLength,
                                      s.index.size())) {
      buffered.insert(h.id);
    }
    std::set<uint64_t> got;
    for (const testing::Feature& f : by_name["routes"]->features) {
      EXPECT_TRUE(got.insert(f.id).second) << "route " << f.id << " twice";
      EXPECT_TRUE(buffered.count(f.id)) << "route " << f.id << " is not near the tile";
      EXPECT_EQ(f.type, 2);
      EXPECT_FALSE(f.lines.empty());
      EXPECT_TRUE(f.props.count("osm") && f.props.count("type") && f.props.count("length_m"));
    }
    for (uint64_t id : expected)
      EXPECT_TRUE(got.count(id)) << "route " << id << " missing at z" << z;
    EXPECT_GT(got.size(), 0u);
    // Trails from zoom 13: the walkable network.
    if (z >= server::kMinTrailZoom) {
      ASSERT_TRUE(by_name.count("trails"));
      EXPECT_GT(by_name["trails"]->features.size(), 10u);
      EXPECT_TRUE(by_name["trails"]->features[0].props.count("highway"));
    } else {
      EXPECT_FALSE(by_name.count("trails"));
    }
  }
}

TEST_F(Tiles, AnUnchangedTileIsNotSentTwice) {
  engine::TileId t = TileOf(45.62, 6.33, 12);  // inside the generated map
  const std::string path = Path(t);
  httplib::Result a = Get(path), b = Get(path);
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(a->body.empty());
  const std::string etag = a->get_header_value("ETag");
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(b->get_header_value("ETag"), etag);
  EXPECT_EQ(a->body, b->body);
  httplib::Result c = Get(path, {{"If-None-Match", etag}});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->status, 304);
  EXPECT_TRUE(c->body.empty());
  ++t.y;
  httplib::Result other = Get(Path(t), {{"If-None-Match", etag}});
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200);
  EXPECT_NE(other->get_header_value("ETag"), etag);
}

TEST_F(Tiles, BadTilesAre400WithTheReason) {
  for (const auto& [path, reason] : std::vector<std::pair<std::string, std::string>>{
           {"/v1/tiles/23/0/0.mvt", "z: '23'"},
           {"/v1/tiles/3/8/1.mvt", "x: '8'; expected a whole number from 0 to 7"},
           {"/v1/tiles/3/1/9.mvt", "y: '9'"},
           {"/v1/tiles/3/1/1.png", "expected {y}.mvt"},
           {"/v1/tiles/a/1/1.mvt", "z: 'a'"}}) {
    httplib::Result r = Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 400) << path;
    EXPECT_NE(r->body.find(reason), std::string::npos) << path << ": " << r->body;
  }
  // A tile of the empty ocean: 200 and nothing in it.
  httplib::Result r = Get("/v1/tiles/10/100/600.mvt");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->body.empty());
}

}  // namespace
}  // namespace stride
