// SPDX-License-Identifier: Apache-2.0
//
// What a browser and a cache are told by a real server on loopback: CORS for the allowed
// origins only (preflight and answers, errors included), and on every answer the headers that
// keep API data from being run, framed, sniffed, referred or cached; and the map page's files
// (web/, built into the binary), with the policy that lets the page run and nothing else.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "datasets/synthetic_routes.hpp"
#include "server/auth.hpp"
#include "server/http_server.hpp"
#include "server/web_page.hpp"
#include "tests/support/api_client.hpp"
#include "tests/support/cli.hpp"
#include "tests/support/running_server.hpp"

namespace stride {
namespace {

namespace fs = std::filesystem;

const std::string kSecret = "browser-test-secret-0123456789abcdef";
const std::string kApp = "https://app.example.com";

std::string Token() {
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  return server::Jwt(kSecret).Mint("ann", "runner:read runner:write", 3600, now);
}

class BrowserHeaders : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = testing::ServerFolder("browser");
    ASSERT_FALSE(dir_.empty());
    server::HttpServerOptions o;
    o.db_path = dir_ + "/db";
    o.jwt_secret = kSecret;
    o.cors_origins = {kApp};
    server_ = new testing::RunningServer(o, testing::RunsAt(dir_ + "/runs"));
    ASSERT_NE(server_->port(), 0) << server_->status().message();
  }
  static void TearDownTestSuite() {
    delete server_;
    fs::remove_all(dir_);
  }
  static httplib::Client Client() { return stride::testing::ApiClient(server_->port()); }
  static inline std::string dir_;
  static inline testing::RunningServer* server_ = nullptr;
};

TEST_F(BrowserHeaders, APreflightFromAnAllowedOriginGetsWhatItMaySend) {
  httplib::Client c = Client();
  auto r =
      c.Options("/v1/runs", {{"Origin", kApp},
                             {"Access-Control-Request-Method", "POST"},
                             {"Access-Control-Request-Headers", "authorization,content-type"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(r->get_header_value("Access-Control-Allow-Origin"), kApp);
  EXPECT_EQ(r->get_header_value("Access-Control-Allow-Methods"), "GET, HEAD, POST");
  EXPECT_NE(r->get_header_value("Access-Control-Allow-Headers").find("Authorization"),
            std::string::npos);
  EXPECT_NE(r->get_header_value("Access-Control-Allow-Headers").find("Idempotency-Key"),
            std::string::npos);
  EXPECT_EQ(r->get_header_value("Access-Control-Max-Age"), "600");
  EXPECT_EQ(r->get_header_value("Vary"), "Origin");
  // A method the path does not take, an origin not on the list, a path that is not there.
  auto wrong_method =
      c.Options("/v1/runs", {{"Origin", kApp}, {"Access-Control-Request-Method", "PUT"}});
  ASSERT_TRUE(wrong_method);
  EXPECT_EQ(wrong_method->status, 403);
  EXPECT_NE(wrong_method->body.find("allowed: GET, HEAD, POST"), std::string::npos);
  auto stranger = c.Options("/v1/runs", {{"Origin", "https://evil.example.net"},
                                         {"Access-Control-Request-Method", "GET"}});
  ASSERT_TRUE(stranger);
  EXPECT_EQ(stranger->status, 403);
  EXPECT_FALSE(stranger->has_header("Access-Control-Allow-Origin"));
  EXPECT_NE(stranger->body.find("https://evil.example.net are not allowed"), std::string::npos);
  auto nowhere =
      c.Options("/nothing/here", {{"Origin", kApp}, {"Access-Control-Request-Method", "GET"}});
  ASSERT_TRUE(nowhere);
  EXPECT_EQ(nowhere->status, 404);
  // Under /v1/<plugin>/ the plugin knows its paths, not the loop: the preflight passes and the
  // request itself gets the plugin's answer (here a 404, readable by the page).
  auto plugin =
      c.Options("/v1/nothing/here", {{"Origin", kApp}, {"Access-Control-Request-Method", "GET"}});
  ASSERT_TRUE(plugin);
  EXPECT_EQ(plugin->status, 204);
  auto plugin_get = c.Get("/v1/nothing/here", {{"Origin", kApp}});
  ASSERT_TRUE(plugin_get);
  EXPECT_EQ(plugin_get->status, 404);
  EXPECT_EQ(plugin_get->get_header_value("Access-Control-Allow-Origin"), kApp);
  // Without preflight headers OPTIONS lists the methods.
  auto plain = c.Options("/v1/runs/r_1/track");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->status, 204);
  EXPECT_EQ(plain->get_header_value("Allow"), "GET, HEAD, OPTIONS");
}

TEST_F(BrowserHeaders, AnswersToAnAllowedOriginCarryCorsEvenWhenTheyAreErrors) {
  httplib::Client c = Client();
  auto ok = c.Get("/v1/runs", {{"Origin", kApp}, {"Authorization", "Bearer " + Token()}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->get_header_value("Access-Control-Allow-Origin"), kApp);
  EXPECT_NE(ok->get_header_value("Access-Control-Expose-Headers").find("RateLimit-Remaining"),
            std::string::npos);
  EXPECT_NE(ok->get_header_value("Access-Control-Expose-Headers").find("Retry-After"),
            std::string::npos);
  // A page must be able to read why it was refused.
  auto refused = c.Get("/v1/runs", {{"Origin", kApp}});
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  EXPECT_EQ(refused->get_header_value("Access-Control-Allow-Origin"), kApp);
  auto stranger = c.Get("/v1/routes?bbox=1.4,42.4,1.8,42.7", {{"Origin", "https://evil.example"}});
  ASSERT_TRUE(stranger);
  EXPECT_EQ(stranger->status, 200);  // the browser, told nothing, keeps the answer from the page
  EXPECT_FALSE(stranger->has_header("Access-Control-Allow-Origin"));
}

TEST_F(BrowserHeaders, EveryAnswerIsDataThatNoPageRunsFramesOrCaches) {
  httplib::Client c = Client();
  for (const char* path :
       {"/v1/routes?bbox=1.4,42.4,1.8,42.7", "/v1/health", "/v1/nothing", "/v1/runs"}) {
    auto r = c.Get(path, {{"Authorization", "Bearer " + Token()}});
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff") << path;
    EXPECT_EQ(r->get_header_value("Content-Security-Policy"),
              "default-src 'none'; frame-ancestors 'none'")
        << path;
    EXPECT_EQ(r->get_header_value("Referrer-Policy"), "no-referrer") << path;
    EXPECT_EQ(r->get_header_value("Cache-Control"), "private, no-store") << path;
  }
  auto anonymous = c.Get("/v1/routes?bbox=1.4,42.4,1.8,42.7");
  ASSERT_TRUE(anonymous);
  EXPECT_FALSE(anonymous->has_header("Cache-Control"));  // public route data may be cached
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST_F(BrowserHeaders, TheMapPageIsServedAtTheRootWithAPolicyThatLetsOnlyItsOwnFilesRun) {
  httplib::Client c = Client();
  auto page = c.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  // The bytes of web/index.html, as built in.
  EXPECT_EQ(page->body, ReadFile(STRIDE_SOURCE_DIR "/web/index.html"));
  const std::string csp = page->get_header_value("Content-Security-Policy");
  EXPECT_EQ(csp, server::kPageCsp);
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(csp.find("unsafe"), std::string::npos) << csp;  // nothing inline, no eval
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_EQ(page->get_header_value("Cache-Control"), "no-cache");
  EXPECT_EQ(page->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(page->get_header_value("RateLimit-Policy"), "\"page\";q=600;w=60");
  // Revalidation: the same ETag is a 304 with no body.
  const std::string etag = page->get_header_value("ETag");
  ASSERT_EQ(etag.size(), 18u) << etag;
  auto again = c.Get("/", {{"If-None-Match", etag}});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 304);
  EXPECT_TRUE(again->body.empty());
  auto head = c.Head("/");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->body.empty());

  auto script = c.Get("/web/app.js");
  ASSERT_TRUE(script);
  EXPECT_EQ(script->status, 200);
  EXPECT_EQ(script->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(script->body, ReadFile(STRIDE_SOURCE_DIR "/web/app.js"));
  EXPECT_EQ(script->get_header_value("Cache-Control"), "public, max-age=3600");
  EXPECT_NE(script->get_header_value("ETag"), etag);

  // MapLibre, vendored from npm at build time: byte for byte the file npm installed.
  const std::string maplibre =
      STRIDE_SOURCE_DIR "/web/node_modules/maplibre-gl/dist/maplibre-gl-csp.js";
  auto lib = c.Get("/web/maplibre-gl-csp.js");
  ASSERT_TRUE(lib);
  if (fs::exists(maplibre)) {
    EXPECT_TRUE(server::MapLibreVendored());
    EXPECT_EQ(lib->status, 200);
    EXPECT_EQ(lib->body.size(), fs::file_size(maplibre));
    EXPECT_TRUE(lib->body == ReadFile(maplibre));
    EXPECT_EQ(server::WebFiles().size(), 8u);
  } else {
    EXPECT_FALSE(server::MapLibreVendored());
    EXPECT_EQ(lib->status, 404);
  }
  auto gz = c.Get("/web/app.css", {{"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(gz);
  EXPECT_EQ(gz->get_header_value("Content-Encoding"), "gzip");

  // Only the files built in: no other name, no way out of the table.
  for (const char* path :
       {"/web/nope.js", "/web/..%2Fserver%2Fweb_page.cpp", "/web/%FF", "/index.html", "/web/"}) {
    auto r = c.Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path;
    EXPECT_NE(r->body.find("\"not_found\""), std::string::npos) << path << ": " << r->body;
  }
  // The API keeps its own policy.
  auto api = c.Get("/v1/health");
  ASSERT_TRUE(api);
  EXPECT_EQ(api->get_header_value("Content-Security-Policy"),
            "default-src 'none'; frame-ancestors 'none'");
}

TEST_F(BrowserHeaders, HealthGivesTheBoxAroundEveryRouteForAMapToOpenOn) {
  httplib::Client c = Client();
  auto h = c.Get("/v1/health");
  ASSERT_TRUE(h);
  const nlohmann::json j = nlohmann::json::parse(h->body);
  ASSERT_TRUE(j["bbox"].is_array()) << h->body;
  // The union of every route's own box, listed page by page.
  double box[4] = {180, 90, -180, -90};
  std::string cursor;
  size_t routes = 0;
  do {
    auto r = c.Get("/v1/routes?bbox=-180,-90,180,90&limit=7" +
                   (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const nlohmann::json page = nlohmann::json::parse(r->body);
    for (const auto& route : page["routes"]) {
      ++routes;
      box[0] = std::min(box[0], route["bbox"][0].get<double>());
      box[1] = std::min(box[1], route["bbox"][1].get<double>());
      box[2] = std::max(box[2], route["bbox"][2].get<double>());
      box[3] = std::max(box[3], route["bbox"][3].get<double>());
    }
    cursor = page["next_cursor"].is_null() ? "" : page["next_cursor"].get<std::string>();
  } while (!cursor.empty());
  EXPECT_EQ(routes, j["routes"].get<size_t>());
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(j["bbox"][i].get<double>(), box[i], 1e-7) << i;
}

TEST(BrowserHeadersCli, AnOriginWithAPathIsRefused) {
  const testing::CliRun r =
      testing::Stride("serve --db /nonexistent --cors-origin https://app.example.com/page");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--cors-origin https://app.example.com/page: expected '*' or "
                       "scheme://host[:port] with no path"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace stride
