// SPDX-License-Identifier: Apache-2.0
//
// Every defect the hostile test of `stride serve` found (../shared/datasets/hostile/README.md),
// reproduced through a real server on loopback: each of these requests crashed the process,
// answered 500, inflated a gigabyte or left new clients waiting before the fix.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <zlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "datasets/synthetic_activity.hpp"
#include "datasets/synthetic_routes.hpp"
#include "engine/text/iso_time.hpp"
#include "engine/text/utf8.hpp"
#include "importers/activity/activity_reader.hpp"
#include "server/auth.hpp"
#include "server/http/gzip.hpp"
#include "server/http_server.hpp"
#include "stride/api.pb.h"
#include "tests/support/api_client.hpp"
#include "tests/support/cli.hpp"
#include "tests/support/datasets.hpp"
#include "tests/support/raw_http.hpp"
#include "tests/support/running_server.hpp"

namespace stride {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using testing::BodyOf;
using testing::RawConnection;
using testing::StatusOf;

// The contract of the server under attack (read once per server), which every answer below
// must keep, however hostile the request.
std::shared_ptr<const testing::ApiContract>& Contract() {
  static std::shared_ptr<const testing::ApiContract> c;
  return c;
}

// One request on a new connection, its whole answer checked against the contract.
std::string Exchange(int port, const std::string& method, const std::string& target,
                     const std::string& headers = "", const std::string& body = "",
                     double timeout_s = 10) {
  const std::string r = testing::Exchange(port, method, target, headers, body, timeout_s);
  if (Contract()) testing::ExpectKeepsContract(*Contract(), method, target, r);
  return r;
}

const std::string kSecret = "hostile-test-secret-0123456789abcdef";

std::string Token(const std::string& user) {
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  return server::Jwt(kSecret).Mint(user, "runner:read runner:write", 3600, now);
}

std::string Auth(const std::string& user) {
  return "Authorization: Bearer " + Token(user) + "\r\n";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

long PeakRssMiB() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

// The body parsed as JSON: nlohmann's parser rejects invalid UTF-8, so this also proves the
// server wrote valid text.
Json JsonOf(const std::string& response) {
  return Json::parse(BodyOf(response), nullptr, false);
}

// A GPX recording whose creator is `creator` (bytes as given), declared in `encoding`.
std::string GpxWithCreator(const std::string& creator, const std::string& encoding = "UTF-8") {
  datasets::SyntheticRunOptions o;
  o.laps = 1;
  std::string gpx = datasets::WriteGpx(datasets::MakeSyntheticRun(o).recorded, creator);
  const size_t at = gpx.find("encoding=\"UTF-8\"");
  if (at != std::string::npos) gpx.replace(at, 16, "encoding=\"" + encoding + "\"");
  return gpx;
}

class Hostile : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Clients and server share this process: 570 connections are 1,140 descriptors, past a
    // default soft limit of 1,024.
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < 4096) {
      lim.rlim_cur = std::min<rlim_t>(4096, lim.rlim_max);
      setrlimit(RLIMIT_NOFILE, &lim);
    }
    dir_ = testing::ServerFolder("hostile", 200);
    ASSERT_FALSE(dir_.empty());
    server::HttpServerOptions o;
    o.rate_limits =
        {};  // more requests than one caller may make a minute: rate_limit_test has them
    o.db_path = dir_ + "/db";
    o.jwt_secret = kSecret;
    o.threads = 4;
    o.timeout_s = 2;
    o.max_upload_bytes = size_t{8} << 20;
    log_ = new std::ostringstream;
    o.access_log = log_;
    server_ = new testing::RunningServer(o, testing::RunsAt(dir_ + "/runs"));
    ASSERT_NE(server_->port(), 0) << server_->status().message();
    Contract() = testing::ContractOf(server_->port());
  }
  static void TearDownTestSuite() {
    Contract().reset();
    delete server_;  // stops it: the log is complete
    delete log_;
    fs::remove_all(dir_);
  }
  static int port() { return server_->port(); }
  // The server is still there and answers.
  static void ExpectAlive() {
    EXPECT_EQ(StatusOf(Exchange(port(), "GET", "/v1/health")), 200) << "the server died";
  }
  static std::string Upload(const std::string& body, const std::string& extra_headers = "") {
    return Exchange(port(), "POST", "/v1/runs", Auth("hostile") + extra_headers, body, 60);
  }

  static inline std::string dir_;
  static inline testing::RunningServer* server_ = nullptr;
  static inline std::ostringstream* log_ = nullptr;
};

// Defect 1: the 404 handler put the raw path into JSON, which threw, and the uncaught
// exception terminated the process.
TEST_F(Hostile, InvalidUtf8InAPathIsA404NotACrash) {
  for (const char* target : {"/v1/nothing%FF", "/v1/x%C0%AF", "/v1/raw\xFF", "/v1/%FE%FF/x"}) {
    for (const char* method : {"GET", "POST", "DELETE"}) {
      const std::string r = Exchange(port(), method, target);
      ASSERT_EQ(StatusOf(r), 404) << method << ' ' << target << ": " << r;
      const Json j = JsonOf(r);
      ASSERT_FALSE(j.is_discarded()) << "not valid JSON / UTF-8: " << BodyOf(r);
      EXPECT_EQ(j["error"]["code"], "not_found");
      EXPECT_NE(j["error"]["message"].get<std::string>().find("\xEF\xBF\xBD"), std::string::npos);
    }
  }
  // As protobuf, the error message is valid UTF-8 too (proto3 strings must be).
  const std::string pb =
      Exchange(port(), "GET", "/v1/nothing%FF", "Accept: application/x-protobuf\r\n");
  EXPECT_EQ(StatusOf(pb), 404);
  api::ErrorResponse e;
  ASSERT_TRUE(e.ParseFromString(BodyOf(pb)));
  EXPECT_EQ(e.error().message(), "no endpoint /v1/nothing\xEF\xBF\xBD for GET");
  ExpectAlive();
}

// Defect 4 (server side): parameters and ids with invalid bytes answered 500.
TEST_F(Hostile, InvalidUtf8InParametersIs400Or404) {
  struct Case {
    std::string target;
    bool auth;
    int status;
  };
  const Case cases[] = {
      {"/v1/routes?bbox=%FF,1,2,3", false, 400},
      {"/v1/routes/%FF", false, 400},
      {"/v1/routes?bbox=1.4,42.4,1.8,42.7&type=%C0", false, 400},
      {"/v1/routes?bbox=1.4,42.4,1.8,42.7&sort=%FE", false, 400},
      {"/v1/routes/nearest?lat=42.5&lon=1.5&network=%FF%FE", false, 400},
      {"/v1/runs?%FF=1", true, 400},
      {"/v1/runs/%FF%FE", true, 404},
      {"/v1/runs/%FF%FE/track?format=%FF", true, 400},
  };
  for (const Case& c : cases) {
    const std::string r = Exchange(port(), "GET", c.target, c.auth ? Auth("p") : "");
    EXPECT_EQ(StatusOf(r), c.status) << c.target << ": " << r;
    EXPECT_FALSE(JsonOf(r).is_discarded()) << c.target << ": " << BodyOf(r);
  }
  // format= on a real route.
  const std::string list = Exchange(port(), "GET", "/v1/routes?bbox=1.4,42.4,1.8,42.7&limit=1");
  const std::string id = JsonOf(list)["routes"][0]["id"].dump();
  const std::string r = Exchange(port(), "GET", "/v1/routes/" + id + "?format=%FF");
  EXPECT_EQ(StatusOf(r), 400) << r;
  EXPECT_FALSE(JsonOf(r).is_discarded());
  ExpectAlive();
}

// Defect 4 (files): a Latin-1 creator, invalid bytes in a creator, in a FIT developer field name,
// in X-File-Name or a multipart filename gave 500 on upload.
TEST_F(Hostile, UploadsWithInvalidTextAreStoredWithTheTextRepaired) {
  // Declared ISO-8859-1: decoded as such, nothing to report.
  std::string r = Upload(GpxWithCreator("M\xE9t\xE9o GPS", "ISO-8859-1"));
  ASSERT_EQ(StatusOf(r), 201) << r;
  Json j = JsonOf(r);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["analysis"]["source"]["device"], "M\xC3\xA9t\xC3\xA9o GPS");
  EXPECT_TRUE(j["analysis"]["source"]["warnings"].empty());
  // Windows-1252: the euro sign is 0x80 there.
  r = Upload(GpxWithCreator("\x80 watch", "windows-1252"));
  ASSERT_EQ(StatusOf(r), 201) << r;
  EXPECT_EQ(JsonOf(r)["analysis"]["source"]["device"], "\xE2\x82\xAC watch");
  // Undeclared invalid bytes: replaced and reported.
  r = Upload(GpxWithCreator("bad \xFF\xFE creator"));
  ASSERT_EQ(StatusOf(r), 201) << r;
  j = JsonOf(r);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["analysis"]["source"]["device"], "bad \xEF\xBF\xBD\xEF\xBF\xBD creator");
  ASSERT_EQ(j["analysis"]["source"]["warnings"].size(), 1u);
  EXPECT_EQ(j["analysis"]["source"]["warnings"][0],
            "device name: 2 invalid UTF-8 sequences replaced with U+FFFD");
  // File names with invalid bytes, as a header and as a multipart filename.
  const std::string gpx = GpxWithCreator("ok");
  r = Upload(gpx, "X-File-Name: run\xFF.gpx\r\n");
  ASSERT_EQ(StatusOf(r), 201) << r;
  EXPECT_EQ(JsonOf(r)["file_name"], "run\xEF\xBF\xBD.gpx");
  const std::string form =
      "--B0undary\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x\xFF.gpx\"\r\n\r\n" +
      gpx + "\r\n--B0undary--\r\n";
  r = Upload(form, "Content-Type: multipart/form-data; boundary=B0undary\r\n");
  ASSERT_EQ(StatusOf(r), 201) << r;
  EXPECT_EQ(JsonOf(r)["file_name"], "x\xEF\xBF\xBD.gpx");
  ExpectAlive();
}

TEST_F(Hostile, TheSharedHostileFilesUploadAndAnalyse) {
  STRIDE_REQUIRE_DATASETS();
  const std::string dir = testing::DatasetsDir() + "/hostile/";
  for (const char* name : {"latin1.gpx", "creator_bad_utf8.gpx", "devname_bad_utf8.fit",
                           "fit_ub_682.fit", "fit_ub_684.fit"}) {
    const std::string bytes = ReadFile(dir + name);
    ASSERT_FALSE(bytes.empty()) << name;
    const std::string r = Upload(bytes);
    const int status = StatusOf(r);
    // Stored, or refused as unreadable: never a 500.
    EXPECT_TRUE(status == 201 || status == 422) << name << ": " << r;
    EXPECT_FALSE(JsonOf(r).is_discarded()) << name;
    // The CLI keeps its contract: exit 0 with JSON, or 1 with one error line; never an abort.
    const testing::CliRun cli = testing::Stride("analyze --json " + dir + name);
    EXPECT_TRUE(cli.exit_code == 0 || cli.exit_code == 1) << name << " exit " << cli.exit_code;
    if (cli.exit_code == 0) {
      EXPECT_FALSE(Json::parse(cli.out, nullptr, false).is_discarded()) << name;
    } else {
      EXPECT_EQ(std::count(cli.err.begin(), cli.err.end(), '\n'), 1) << cli.err;
    }
  }
  const testing::CliRun latin = testing::Stride("analyze --json " + dir + "latin1.gpx");
  ASSERT_EQ(latin.exit_code, 0) << latin.err;
  EXPECT_EQ(Json::parse(latin.out)["source"]["device"], "M\xC3\xA9t\xC3\xA9o GPS");
  const testing::CliRun dev = testing::Stride("analyze --json " + dir + "devname_bad_utf8.fit");
  ASSERT_EQ(dev.exit_code, 0) << dev.err;
  const Json dj = Json::parse(dev.out);
  ASSERT_FALSE(dj["source"]["warnings"].empty());
  EXPECT_NE(dj["source"]["warnings"][0].get<std::string>().find("developer field name"),
            std::string::npos);
  for (const auto& f : dj["source"]["developer_fields"]) {
    EXPECT_TRUE(engine::IsValidUtf8(f.get<std::string>()));
  }
}

// Defect 2: a gzip body on any endpoint but the upload was inflated in full before being
// refused (2.1 GB for one request). Now: refused from the head, or inflated only to the limit.
TEST_F(Hostile, AGzipBombIsRefusedWithoutInflatingIt) {
  // 1 GiB of spaces after "<gpx>", as make_bomb.py writes it, built here in pieces.
  z_stream z{};
  deflateInit2(&z, 1, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY);  // fast; ~1000:1
  std::string bomb;
  const std::string block(1 << 24, ' ');
  char buf[1 << 16];
  for (int i = 0; i < 64; ++i) {
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(block.data()));
    z.avail_in = static_cast<uInt>(block.size());
    do {
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = sizeof buf;
      deflate(&z, i == 63 ? Z_FINISH : Z_NO_FLUSH);
      bomb.append(buf, sizeof buf - z.avail_out);
    } while (z.avail_out == 0);
  }
  deflateEnd(&z);
  ASSERT_LT(bomb.size(), 8u << 20);
  const long before = PeakRssMiB();
  const std::string gz = "Content-Encoding: gzip\r\n";
  const struct {
    const char* method;
    const char* target;
    int status;
  } cases[] = {{"POST", "/v1/x", 404},
               {"PUT", "/v1/runs", 405},
               {"DELETE", "/v1/me", 413},
               {"POST", "/v1/routes", 405},
               {"GET", "/v1/health", 413}};
  for (const auto& c : cases) {
    const std::string r = Exchange(port(), c.method, c.target, gz + Auth("bomb"), bomb);
    EXPECT_EQ(StatusOf(r), c.status) << c.method << ' ' << c.target << ": " << r;
  }
  // The upload takes gzip, up to its limit (8 MiB here).
  const std::string r = Exchange(port(), "POST", "/v1/runs", gz + Auth("bomb"), bomb);
  EXPECT_EQ(StatusOf(r), 413) << r;
  EXPECT_NE(r.find("inflates to more than the limit of 8388608"), std::string::npos) << r;
  // The server runs in this process: its peak memory grew by far less than the bomb.
  EXPECT_LT(PeakRssMiB() - before, 200);
  // A real gzip upload within the limit is stored.
  const std::string small = server::http::Gzip(GpxWithCreator("gz"));
  EXPECT_EQ(StatusOf(Exchange(port(), "POST", "/v1/runs", gz + Auth("gz"), small)), 201);
}

// Found by fuzzing: the work of an analysis followed the distance and time a file spans, not
// its points. Fixes on opposite sides of the globe (untimed, or a ride's fixes timed a week
// apart, which the speed gate lets through) made the elevation grid and the splits span the whole
// distance: 344 bytes took 3.4 s and 1.1 GB, 3.5 kB took 10 s, 2.1 GB and 235 MB of splits.
std::string AroundTheGlobe(int fixes, bool timed) {
  std::string gpx =
      "<?xml version=\"1.0\"?><gpx version=\"1.1\" creator=\"t\"><trk><type>cycling</type><trkseg>";
  for (int i = 0; i < fixes; ++i) {
    gpx += i % 2 ? "<trkpt lat=\"-40\" lon=\"-179\">" : "<trkpt lat=\"40\" lon=\"1\">";
    gpx += "<ele>" + std::to_string(100 + i) + "</ele>";
    if (timed) gpx += "<time>" + engine::FormatIsoTime(1.6e9 + 7 * 86400.0 * i) + "</time>";
    gpx += "</trkpt>";
  }
  return gpx + "</trkseg></trk></gpx>";
}

TEST_F(Hostile, FixesAroundTheGlobeCostWhatTheirPointsCost) {
  const long before = PeakRssMiB();
  std::string r = Upload(AroundTheGlobe(6, false));
  ASSERT_EQ(StatusOf(r), 201) << r;
  Json j = JsonOf(r);
  EXPECT_GT(j["analysis"]["distance_m"].get<double>(), 9e7);
  r = Upload(AroundTheGlobe(40, true));
  ASSERT_EQ(StatusOf(r), 201) << r.substr(0, 400);
  j = JsonOf(r);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_GT(j["analysis"]["distance_m"].get<double>(), 8e8);
  EXPECT_EQ(j["analysis"]["splits"].size(), 10000u);
  EXPECT_EQ(j["analysis"]["splits_mile"].size(), 10000u);
  ASSERT_EQ(j["analysis"]["source"]["warnings"].size(), 1u);
  EXPECT_EQ(j["analysis"]["source"]["warnings"][0],
            "splits: only the first 10000 splits of each unit are listed (854226 km in all)");
  // The server runs in this process.
  EXPECT_LT(PeakRssMiB() - before, 300);
  ExpectAlive();
}

// Defect 3: 70 clients sending a header byte a second, and hundreds of idle connections, held
// every worker; new clients waited 30 s and more.
TEST_F(Hostile, SlowAndIdleClientsLeaveRoomForEveryoneElse) {
  std::vector<std::unique_ptr<RawConnection>> slow, idle;
  for (int i = 0; i < 70; ++i) {
    slow.push_back(std::make_unique<RawConnection>(port()));
    slow.back()->Send("GET /v1/health HTTP/1.1\r\nX-Slow: a");
  }
  for (int i = 0; i < 500; ++i) idle.push_back(std::make_unique<RawConnection>(port()));
  for (int second = 0; second < 3; ++second) {
    for (auto& c : slow) c->Send("a");
    // A search (which needs a worker) is answered while they hold their connections.
    const std::string r =
        Exchange(port(), "GET", "/v1/routes/nearest?lat=42.5&lon=1.5&k=3", "", "", 5);
    EXPECT_EQ(StatusOf(r), 200) << "second " << second << ": " << r;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  // The slow ones hit the head deadline (2 s here) however they dripped.
  int timed_out = 0;
  for (auto& c : slow) timed_out += StatusOf(c->ReadAll(2)) == 408;
  EXPECT_EQ(timed_out, 70);
}

// Defect 6: control characters in a file name broke the GPX export; %0A in a path forged a
// line in the access log.
TEST_F(Hostile, FileNamesAndPathsCannotBreakXmlOrTheLog) {
  // In a header, control characters are not HTTP: 400, naming the header.
  const std::string refused = Upload(GpxWithCreator("ok"),
                                     "X-File-Name: a\x01"
                                     "b.gpx\r\n");
  EXPECT_EQ(StatusOf(refused), 400) << refused;
  EXPECT_NE(refused.find("X-File-Name"), std::string::npos);
  // In a multipart filename they are the client's text: stored, replaced.
  const std::string form =
      "--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\x01"
      "b\x1B.gpx\"\r\n\r\n" +
      GpxWithCreator("ok") + "\r\n--b--\r\n";
  const std::string r = Upload(form, "Content-Type: multipart/form-data; boundary=b\r\n");
  ASSERT_EQ(StatusOf(r), 201) << r;
  const std::string id = JsonOf(r)["id"];
  const std::string gpx =
      BodyOf(Exchange(port(), "GET", "/v1/runs/" + id + "/track?format=gpx", Auth("hostile")));
  for (char c : gpx) {
    const auto u = static_cast<unsigned char>(c);
    ASSERT_TRUE(u >= 0x20 || c == '\n' || c == '\r' || c == '\t') << "control byte " << int(u);
  }
  EXPECT_NE(gpx.find("<name>a\xEF\xBF\xBD"
                     "b\xEF\xBF\xBD.gpx</name>"),
            std::string::npos);
  Result<engine::Activity> back = importers::ReadGpx(gpx);
  ASSERT_TRUE(back.ok()) << back.status().message();

  const std::string forged = "/v1/x%0A2026-01-01T00:00:00Z%20127.0.0.1%20GET%20/forged%20200";
  EXPECT_EQ(StatusOf(Exchange(port(), "GET", forged)), 404);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const std::string log = log_->str();
  EXPECT_EQ(log.find("\n2026-01-01T00:00:00Z"), std::string::npos) << log;
  EXPECT_NE(log.find("GET /v1/x%0A2026"), std::string::npos);
  // Every line is one request: starts with a time, ends with a latency.
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("serve:", 0) == 0) continue;
    EXPECT_EQ(line.size() > 24 && line[4] == '-' && line[10] == 'T', true) << line;
    EXPECT_EQ(line.substr(line.size() - 2), "ms") << line;
  }
}

}  // namespace
}  // namespace stride
