// SPDX-License-Identifier: Apache-2.0
//
// Privacy zones, shared links and geofences through a real server on loopback. A runner sets a
// circle at home and a polygon over part of the loop, shares a run, and a client without a
// token fetches the shared track in each format: every point of it is checked against the
// zones with the test's own references (Vincenty distance for the circle, ray casting for the
// polygon; not the server's GEOS), while the owner's own track stays whole. Revoking the link,
// changing zones after sharing and DELETE /v1/me are followed through; bad zones get 400s
// naming the zone and field.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "datasets/synthetic_activity.hpp"
#include "engine/geo/geodesy.hpp"
#include "server/auth.hpp"
#include "tests/support/api_client.hpp"
#include "tests/support/running_server.hpp"

namespace stride {
namespace {

using Json = nlohmann::json;

const std::string kSecret = "privacy-test-secret-0123456789abcdef0123";
constexpr double kHomeRadius = 150;

httplib::Headers Bearer(const std::string& user) {
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  return {{"Authorization",
           "Bearer " + server::Jwt(kSecret).Mint(user, "runner:read runner:write", 3600, now)}};
}

// Ray casting over a ring of [lon, lat]: the test's own point-in-polygon.
bool InRing(const Json& ring, double lon, double lat) {
  bool in = false;
  for (size_t i = 0, j = ring.size() - 1; i < ring.size(); j = i++) {
    const double xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
    if ((yi > lat) != (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi) in = !in;
  }
  return in;
}

// The [lon, lat] points of a GeoJSON MultiLineString feature.
std::vector<std::array<double, 2>> Points(const Json& feature) {
  std::vector<std::array<double, 2>> out;
  for (const Json& line : feature["geometry"]["coordinates"]) {
    for (const Json& c : line) out.push_back({c[0].get<double>(), c[1].get<double>()});
  }
  return out;
}

class Privacy : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::ServerFolder("privacy");
    ASSERT_FALSE(dir_.empty());
    // Geofences: one over the synthetic loop (Andorra la Vella), one far away.
    std::ofstream(dir_ + "/regions.geojson") << R"({"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{"name":"andorra-centre"},"geometry":{"type":"Polygon",
       "coordinates":[[[1.50,42.49],[1.54,42.49],[1.54,42.52],[1.50,42.52],[1.50,42.49]]]}},
      {"type":"Feature","properties":{"name":"elsewhere"},"geometry":{"type":"MultiPolygon",
       "coordinates":[[[[2.0,41.0],[2.1,41.0],[2.1,41.1],[2.0,41.0]]]]}}]})";
    o_.db_path = dir_ + "/db";
    o_.jwt_secret = kSecret;
    o_.rate_limits = {};
    o_.geofences_path = dir_ + "/regions.geojson";
    server_ = std::make_unique<testing::RunningServer>(o_, testing::RunsAt(dir_ + "/runs"));
    ASSERT_NE(server_->port(), 0) << server_->status().message();
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  httplib::Client Client() {
    httplib::Client c = stride::testing::ApiClient(server_->port());
    c.set_read_timeout(30, 0);
    return c;
  }
  std::string Upload(const std::string& user) {
    datasets::SyntheticRunOptions ro;
    ro.laps = 2;
    ro.interval_s = 5;
    auto r = Client().Post("/v1/runs", Bearer(user),
                           datasets::WriteGpx(datasets::MakeSyntheticRun(ro).recorded),
                           "application/gpx+xml");
    EXPECT_TRUE(r && r->status == 201) << (r ? r->body : "no answer");
    if (!r || r->status != 201) return "";
    const Json run = Json::parse(r->body);
    EXPECT_EQ(run["regions"], Json::array({"andorra-centre"}));
    return run["id"];
  }
  std::string dir_;
  server::HttpServerOptions o_;
  std::unique_ptr<testing::RunningServer> server_;
};

TEST_F(Privacy, SharedTracksNeverShowAPointInsideAZone) {
  httplib::Client c = Client();
  const std::string id = Upload("ann");
  ASSERT_FALSE(id.empty());
  const Json own = Json::parse(c.Get("/v1/runs/" + id + "/track", Bearer("ann"))->body);
  const auto own_points = Points(own);
  ASSERT_GT(own_points.size(), 100u);
  const auto home = own_points.front();
  const auto mid = own_points[own_points.size() / 6];  // on the first long leg
  const double d = 0.0006;                             // about 50-65 m
  const Json zones = {
      {"zones",
       {{{"name", "home"}, {"lat", home[1]}, {"lon", home[0]}, {"radius_m", kHomeRadius}},
        {{"name", "office"},
         {"geometry",
          {{"type", "Polygon"},
           {"coordinates",
            {{{mid[0] - d, mid[1] - d},
              {mid[0] + d, mid[1] - d},
              {mid[0] + d, mid[1] + d},
              {mid[0] - d, mid[1] + d},
              {mid[0] - d, mid[1] - d}}}}}}}}}};
  auto put = c.Put("/v1/me/privacy-zones", Bearer("ann"), zones.dump(), "application/json");
  ASSERT_EQ(put->status, 200) << put->body;
  EXPECT_EQ(Json::parse(c.Get("/v1/me/privacy-zones", Bearer("ann"))->body)["zones"].size(), 2u);
  const Json office_ring = zones["zones"][1]["geometry"]["coordinates"][0];
  auto inside = [&](double lon, double lat) {
    return engine::VincentyDistanceM(home[1], home[0], lat, lon) <= kHomeRadius ||
           InRing(office_ring, lon, lat);
  };
  size_t own_inside = 0;
  for (const auto& p : own_points) own_inside += inside(p[0], p[1]);
  ASSERT_GT(own_inside, 10u);  // the zones do cover part of the run

  // Shared: 201, then the same link again.
  auto share = c.Post("/v1/runs/" + id + "/share", Bearer("ann"), "", "");
  ASSERT_EQ(share->status, 201) << share->body;
  const std::string token = Json::parse(share->body)["token"];
  EXPECT_TRUE(std::regex_match(token, std::regex("[0-9a-f]{32}")));
  auto again = c.Post("/v1/runs/" + id + "/share", Bearer("ann"), "", "");
  EXPECT_EQ(again->status, 200);
  EXPECT_EQ(Json::parse(again->body)["token"], token);
  EXPECT_EQ(c.Post("/v1/runs/" + id + "/share", Bearer("bob"), "", "")->status, 404);

  // Anyone with the link, no token: GeoJSON with nothing inside, the rest kept.
  auto shared = c.Get("/v1/shared/" + token + "/track");
  ASSERT_EQ(shared->status, 200) << shared->body;
  EXPECT_EQ(shared->get_header_value("Cache-Control"), "no-store");
  const auto shown = Points(Json::parse(shared->body));
  for (const auto& p : shown) ASSERT_FALSE(inside(p[0], p[1])) << p[0] << "," << p[1];
  EXPECT_GE(shown.size() + own_inside, own_points.size() - 4);  // only lone points dropped
  EXPECT_EQ(std::stoul(shared->get_header_value("X-Points-Hidden")), own_inside);
  // GPX and polyline6 say the same.
  auto gpx = c.Get("/v1/shared/" + token + "/track?format=gpx");
  ASSERT_EQ(gpx->status, 200);
  std::smatch m;
  std::string rest = gpx->body;
  size_t gpx_points = 0;
  const std::regex trkpt(R"re(<trkpt lat="([-0-9.]+)" lon="([-0-9.]+)")re");
  while (std::regex_search(rest, m, trkpt)) {
    ++gpx_points;
    EXPECT_FALSE(inside(std::stod(m[2]), std::stod(m[1])));
    rest = m.suffix();
  }
  EXPECT_EQ(gpx_points, shown.size());
  EXPECT_EQ(c.Get("/v1/shared/" + token + "/track?format=polyline6")->status, 200);
  EXPECT_EQ(c.Get("/v1/shared/" + token + "/track?format=kml")->status, 400);
  // The summary: no owner, no file name, no regions.
  const Json summary = Json::parse(c.Get("/v1/shared/" + token)->body);
  EXPECT_EQ(summary["points_hidden"], own_inside);
  EXPECT_EQ(summary["points_shown"], shown.size());
  EXPECT_FALSE(summary.contains("user_id") || summary.contains("file_name") ||
               summary.contains("regions"));
  EXPECT_EQ(summary["sport"], "run");
  // The owner's view is whole.
  EXPECT_EQ(Points(Json::parse(c.Get("/v1/runs/" + id + "/track", Bearer("ann"))->body)).size(),
            own_points.size());

  // Zones changed after sharing apply to the link at once.
  ASSERT_EQ(
      c.Put("/v1/me/privacy-zones", Bearer("ann"), R"({"zones":[]})", "application/json")->status,
      200);
  EXPECT_EQ(Points(Json::parse(c.Get("/v1/shared/" + token + "/track")->body)).size(),
            own_points.size());

  // Revoked: the link is dead.
  EXPECT_EQ(c.Delete("/v1/runs/" + id + "/share", Bearer("ann"))->status, 204);
  EXPECT_EQ(c.Get("/v1/shared/" + token + "/track")->status, 404);
  EXPECT_EQ(c.Get("/v1/shared/" + token)->status, 404);
  EXPECT_EQ(c.Delete("/v1/runs/" + id + "/share", Bearer("ann"))->status, 404);
  EXPECT_EQ(c.Get("/v1/shared/not-a-token")->status, 404);
  EXPECT_EQ(c.Get("/v1/shared/%FF%FE/track")->status, 404);

  // A new link dies with its owner.
  const std::string token2 =
      Json::parse(c.Post("/v1/runs/" + id + "/share", Bearer("ann"), "", "")->body)["token"];
  EXPECT_NE(token2, token);
  EXPECT_EQ(c.Get("/v1/shared/" + token2)->status, 200);
  ASSERT_EQ(c.Delete("/v1/me", Bearer("ann"))->status, 200);
  EXPECT_EQ(c.Get("/v1/shared/" + token2 + "/track")->status, 404);
  EXPECT_EQ(Json::parse(c.Get("/v1/me/privacy-zones", Bearer("ann"))->body)["zones"].size(), 0u);
}

TEST_F(Privacy, BadZonesAreRefusedNamingTheZoneAndField) {
  httplib::Client c = Client();
  auto put = [&](const std::string& body) {
    auto r = c.Put("/v1/me/privacy-zones", Bearer("cy"), body, "application/json");
    EXPECT_EQ(r->status, 400) << body;
    return Json::parse(r->body)["error"]["message"].get<std::string>();
  };
  EXPECT_NE(put(R"({"zones":[{"name":"home","lat":42.5,"lon":1.5,"radius_m":5}]})")
                .find("zones[0].radius_m"),
            std::string::npos);
  EXPECT_NE(put(R"({"zones":[{"name":"home","lat":42.5,"radius_m":200}]})").find("zones[0].lon"),
            std::string::npos);
  const std::string bowtie = put(
      R"({"zones":[{"name":"a","lat":1,"lon":1,"radius_m":100},{"name":"bow","geometry":
      {"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}}]})");
  EXPECT_NE(bowtie.find("zone 1 'bow'"), std::string::npos) << bowtie;
  EXPECT_NE(bowtie.find("Self-intersection"), std::string::npos) << bowtie;
  EXPECT_NE(put(R"({"zones":[{"name":"x","geometry":{"type":"Point","coordinates":[1,2]}}]})")
                .find("Polygon or MultiPolygon"),
            std::string::npos);
  Json many = {{"zones", Json::array()}};
  for (int i = 0; i < 21; ++i) {
    many["zones"].push_back({{"name", "z"}, {"lat", 1}, {"lon", 1}, {"radius_m", 100}});
  }
  EXPECT_NE(put(many.dump()).find("at most 20"), std::string::npos);
  EXPECT_NE(put("not json").find("expected {\"zones\""), std::string::npos);
  // A circle beside a polygon, or a misspelt field, is not resolved by guessing.
  EXPECT_NE(put(R"({"zones":[{"name":"a","lat":1,"lon":1,"radius_m":100,"geometry":
      {"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}]})")
                .find("zones[0]: either a circle (lat, lon, radius_m) or a geometry, not both"),
            std::string::npos);
  EXPECT_NE(put(R"({"zones":[{"name":"a","lat":1,"lon":1,"radius_m":100,"radius":3000}]})")
                .find("zones[0].radius: unknown field (known: name, lat, lon, radius_m, geometry)"),
            std::string::npos);
  EXPECT_EQ(c.Put("/v1/me/privacy-zones", R"({"zones":[]})", "application/json")->status, 401);
  // Nothing was stored by the refusals.
  EXPECT_EQ(Json::parse(c.Get("/v1/me/privacy-zones", Bearer("cy"))->body)["zones"].size(), 0u);
}

TEST_F(Privacy, ABadGeofenceFileStopsTheServerWithWhereAndWhat) {
  std::ofstream(dir_ + "/bad.geojson")
      << R"({"type":"FeatureCollection","features":[{"type":"Feature","properties":{},
      "geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}]})";
  server::HttpServerOptions o = o_;
  o.geofences_path = dir_ + "/bad.geojson";
  testing::RunningServer bad(o, testing::RunsAt(dir_ + "/runs2"));
  EXPECT_EQ(bad.port(), 0);
  EXPECT_NE(bad.status().message().find("features[0]: expected properties.name"), std::string::npos)
      << bad.status().message();
  o.geofences_path = dir_ + "/absent.geojson";
  testing::RunningServer absent(o, testing::RunsAt(dir_ + "/runs3"));
  EXPECT_EQ(absent.port(), 0);
  EXPECT_EQ(absent.status().message(), "--geofences " + dir_ + "/absent.geojson: no such file");
}

}  // namespace
}  // namespace stride
