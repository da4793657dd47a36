// SPDX-License-Identifier: Apache-2.0
//
// The C API (include/stride/stride.h) as a C or C++ program calls it: analyses equal to what
// `stride analyze --json` prints (the real binary, on generated and shared recordings),
// streams that are the measured track, errors with codes and messages, options structs of an
// older caller, threads, and route-database queries equal to the HTTP API's answers.
// (tests/capi/installed_test.sh builds C programs against the installed libraries.)
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "datasets/synthetic_activity.hpp"
#include "datasets/synthetic_osm.hpp"
#include "importers/dem/srtm.hpp"
#include "index/store/route_snapshot.hpp"
#include "server/route_api.hpp"
#include "server/trail_api.hpp"
#include "stride/stride.h"
#include "tests/support/cli.hpp"
#include "tests/support/datasets.hpp"
#include "tests/support/import.hpp"
#include "tests/support/sanitized.hpp"

namespace stride {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

struct AnalysisFree {
  void operator()(stride_analysis_t* a) const { stride_analysis_free(a); }
};
using AnalysisPtr = std::unique_ptr<stride_analysis_t, AnalysisFree>;

// What a query answered: its code, its text (freed here) and the size it reported.
struct Reply {
  int code = -1;
  std::string json;
  size_t size = 0;
  bool null = false;  // *json was NULL after the call
};
template <typename F>
Reply Ask(F&& query) {
  char* json = reinterpret_cast<char*>(0x1);  // the call must set it either way
  Reply r;
  r.code = query(&json, &r.size);
  r.null = json == nullptr;
  if (!r.null) r.json = json;
  stride_free(json);
  return r;
}

// A number as the tests write it into a query: every digit that reads back as the same double.
std::string G(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

fs::path TempDir(const std::string& name) {
  const fs::path d =
      fs::temp_directory_path() / ("stride_capi_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void Write(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
}

std::vector<double> Stream(const stride_analysis_t* a, size_t session, int stream) {
  const double* v = nullptr;
  size_t n = 0;
  EXPECT_EQ(stride_analysis_stream(a, session, stream, &v, &n), STRIDE_OK) << stride_last_error();
  return std::vector<double>(v, v + n);
}

TEST(CApi, VersionsAreThoseOfTheHeaderAndTheProject) {
  EXPECT_EQ(stride_api_version(), STRIDE_API_VERSION);
  EXPECT_STREQ(stride_version(), "0.1.0");
  EXPECT_STREQ(stride_stream_name(STRIDE_STREAM_HEART_RATE), "heart_rate");
  EXPECT_STREQ(stride_stream_name(STRIDE_STREAM_TEMPERATURE), "temperature");
  EXPECT_EQ(stride_stream_name(STRIDE_STREAM_COUNT), nullptr);
  EXPECT_EQ(stride_stream_name(-1), nullptr);
}

TEST(CApi, KeepFreedMemoryIsTakenAndUndone) {
  // What it does to the heap: tests/engine/memory/keep_freed_test.cpp.
#if defined(__GLIBC__) && !defined(STRIDE_TEST_SANITIZED)
  EXPECT_EQ(stride_keep_freed_memory(size_t{64} << 20), STRIDE_OK) << stride_last_error();
  EXPECT_STREQ(stride_last_error(), "");
  EXPECT_EQ(stride_keep_freed_memory(0), STRIDE_OK) << stride_last_error();
#else
  // The sanitizers' allocator ignores glibc's settings (its mallopt takes none): said so.
  EXPECT_EQ(stride_keep_freed_memory(size_t{64} << 20), STRIDE_E_UNAVAILABLE);
  EXPECT_NE(std::string(stride_last_error()).find("trim threshold"), std::string::npos);
#endif
}

// Analyses files with the CLI (one process, all files) and with the C API; each file's JSON
// must be the same text, and a file the CLI refuses the C API refuses with the same message.
void ExpectSameAsCli(const std::vector<std::string>& files) {
  std::string args = "analyze --json --jobs 2";
  for (const std::string& f : files) args += " '" + f + "'";
  const testing::CliRun cli = testing::Stride(args);
  std::map<std::string, std::string> by_file;
  std::istringstream lines(cli.out);
  for (std::string line; std::getline(lines, line);) {
    by_file[Json::parse(line)["file"].get<std::string>()] = line;
  }
  size_t same = 0, refused = 0;
  for (const std::string& f : files) {
    stride_analysis_t* raw = nullptr;
    const int code = stride_analyze_file(f.c_str(), nullptr, &raw);
    AnalysisPtr a(raw);
    if (code == STRIDE_OK) {
      ASSERT_TRUE(by_file.count(f)) << f << ": the C API analysed it, the CLI did not: " << cli.err;
      size_t size = 0;
      const char* json = stride_analysis_json(a.get(), &size);
      EXPECT_EQ(std::string(json, size), by_file[f]) << f;
      EXPECT_EQ(size, std::strlen(json));
      ++same;
    } else {
      EXPECT_EQ(raw, nullptr);
      EXPECT_EQ(by_file.count(f), 0u)
          << f << ": the CLI analysed it, the C API said " << stride_last_error();
      // The CLI's line is "stride analyze: error: FILE: MESSAGE"; the C API's "FILE: MESSAGE".
      EXPECT_NE(cli.err.find("stride analyze: error: " + std::string(stride_last_error())),
                std::string::npos)
          << stride_last_error();
      ++refused;
    }
  }
  EXPECT_EQ(same + refused, files.size());
  EXPECT_GT(same, 0u);
}

TEST(CApi, AnalysisIsTheCliJsonForGeneratedRecordings) {
  const fs::path dir = TempDir("generated");
  datasets::SyntheticRunOptions o;
  o.noise_m = 3;
  o.stop_at_m = 2000;
  o.stop_s = 90;
  const datasets::SyntheticRun run = datasets::MakeSyntheticRun(o);
  Write(dir / "run.gpx", datasets::WriteGpx(run.recorded));
  Write(dir / "run.tcx", datasets::WriteTcx(run.recorded));
  Write(dir / "run.fit", datasets::WriteFit(run.recorded));
  Write(dir / "broken.gpx",
        "<gpx>\n<trk><trkseg>\n<trkpt lat=\"x\" lon=\"1\"/></trkseg></trk></gpx>");
  ExpectSameAsCli({(dir / "run.gpx").string(), (dir / "run.tcx").string(),
                   (dir / "run.fit").string(), (dir / "broken.gpx").string(),
                   (dir / "missing.fit").string()});
  fs::remove_all(dir);
}

TEST(CApi, AnalysisIsTheCliJsonForEverySharedRecording) {
  STRIDE_REQUIRE_DATASETS();
  std::vector<std::string> files;
  for (const char* sub : {"gpx", "tcx", "fit", "fit/edge_cases", "hostile"}) {
    for (const auto& e : fs::directory_iterator(testing::DatasetsDir() + "/" + sub)) {
      if (e.is_regular_file()) files.push_back(e.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  ASSERT_GT(files.size(), 100u);
  ExpectSameAsCli(files);
}

// A DEM whose pixels cannot be read: the analysis takes its elevation from the recording, as
// the CLI's does, and the program can learn which files failed and why (the CLI prints them
// and exits 1; before, a C or Python caller could not tell).
TEST(CApi, ADemThatCannotBeReadSaysWhichFiles) {
  STRIDE_REQUIRE_DATASETS();
  const fs::path dir =
      fs::temp_directory_path() / ("stride_capi_dem_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string tif = (dir / "andorra.tif").string();
  testing::WriteCutAndorraDem(tif);
  auto unreadable = [](const stride_dem_t* dem) {
    char* json = nullptr;
    size_t size = 0;
    EXPECT_EQ(stride_dem_unreadable(dem, &json, &size), STRIDE_OK) << stride_last_error();
    const Json j = Json::parse(std::string(json, size));
    EXPECT_EQ(std::strlen(json), size);
    stride_free(json);
    return j;
  };
  const std::string hike =
      testing::DatasetsDir() + "/gpx/andorra_hike_2015-08-16_adrutas_170708_a.gpx";
  for (const std::string& source : {tif, testing::DatasetsDir() + "/dem/andorra_srtm3_crop.tif"}) {
    stride_dem_t* dem = nullptr;
    ASSERT_EQ(stride_dem_open(source.c_str(), &dem), STRIDE_OK) << stride_last_error();
    EXPECT_EQ(unreadable(dem), Json::array());  // nothing asked for yet
    stride_analyze_options_t opt;
    stride_analyze_options_init(&opt);
    opt.dem = dem;
    stride_analysis_t* a = nullptr;
    ASSERT_EQ(stride_analyze_file(hike.c_str(), &opt, &a), STRIDE_OK) << stride_last_error();
    const Json j = Json::parse(stride_analysis_json(a, nullptr));
    stride_analysis_free(a);
    const Json bad = unreadable(dem);
    if (source == tif) {
      ASSERT_EQ(bad.size(), 1u) << bad;
      EXPECT_NE(bad[0].get<std::string>().find(tif + ": cannot read its pixels: "),
                std::string::npos)
          << bad;
      EXPECT_NE(j["methods"]["elevation"]["source"], "dem");
    } else {
      EXPECT_EQ(bad, Json::array());
      EXPECT_EQ(j["methods"]["elevation"]["source"], "dem");
    }
    stride_dem_close(dem);
  }
  char* json = reinterpret_cast<char*>(0x1);
  EXPECT_EQ(stride_dem_unreadable(nullptr, &json, nullptr), STRIDE_E_INVALID);
  EXPECT_EQ(json, nullptr);
  fs::remove_all(dir);
}

TEST(CApi, StreamsAreTheTrackTheFiguresWereMeasuredOn) {
  datasets::SyntheticRunOptions o;
  o.noise_m = 2;
  const datasets::SyntheticRun run = datasets::MakeSyntheticRun(o);
  const std::string fit = datasets::WriteFit(run.recorded);
  stride_analyze_options_t opt;
  stride_analyze_options_init(&opt);
  opt.name = "mine.fit";
  stride_analysis_t* raw = nullptr;
  ASSERT_EQ(stride_analyze_buffer(fit.data(), fit.size(), &opt, &raw), STRIDE_OK)
      << stride_last_error();
  AnalysisPtr a(raw);
  EXPECT_STREQ(stride_last_error(), "");
  EXPECT_STREQ(stride_analysis_format(a.get()), "fit");
  ASSERT_EQ(stride_analysis_session_count(a.get()), 1u);
  const Json j = Json::parse(stride_analysis_json(a.get(), nullptr));
  EXPECT_EQ(j["file"], "mine.fit");

  const std::vector<double> t = Stream(a.get(), 0, STRIDE_STREAM_TIME);
  const std::vector<double> lat = Stream(a.get(), 0, STRIDE_STREAM_LAT);
  const std::vector<double> lon = Stream(a.get(), 0, STRIDE_STREAM_LON);
  const std::vector<double> hr = Stream(a.get(), 0, STRIDE_STREAM_HEART_RATE);
  const std::vector<double> power = Stream(a.get(), 0, STRIDE_STREAM_POWER);
  const std::vector<double> along = Stream(a.get(), 0, STRIDE_STREAM_DISTANCE);
  const std::vector<double> ele = Stream(a.get(), 0, STRIDE_STREAM_ELEVATION);
  const size_t n = t.size();
  EXPECT_EQ(n, j["points"]["kept"].get<size_t>());
  for (int s = 0; s < STRIDE_STREAM_COUNT; ++s) {
    EXPECT_EQ(Stream(a.get(), 0, s).size(), n) << stride_stream_name(s);
  }
  ASSERT_GT(n, 1000u);
  EXPECT_DOUBLE_EQ(t.front(), o.start_time_s);
  for (size_t i = 1; i < n; ++i) ASSERT_GT(t[i], t[i - 1]) << i;
  // The measured distance ends at the analysis's distance and is near the truth's.
  EXPECT_NEAR(along.back(), j["distance_m"].get<double>(), 0.05);
  EXPECT_NEAR(along.back(), run.length_m, run.length_m * 0.01);
  for (size_t i = 1; i < n; ++i) ASSERT_GE(along[i], along[i - 1]) << i;
  // Smoothed positions stay within metres of the loop: inside its box, widened by 20 m.
  double min_lat = 90, max_lat = -90, min_lon = 180, max_lon = -180;
  for (size_t i = 0; i < run.truth.size(); ++i) {
    min_lat = std::min(min_lat, run.truth.lat_deg[i]);
    max_lat = std::max(max_lat, run.truth.lat_deg[i]);
    min_lon = std::min(min_lon, run.truth.lon_deg[i]);
    max_lon = std::max(max_lon, run.truth.lon_deg[i]);
  }
  const double m_lat = 20 / 111'000.0,
               m_lon = 20 / (111'000.0 * std::cos(o.start_lat_deg * M_PI / 180));
  for (size_t i = 0; i < n; ++i) {
    ASSERT_TRUE(lat[i] > min_lat - m_lat && lat[i] < max_lat + m_lat) << i;
    ASSERT_TRUE(lon[i] > min_lon - m_lon && lon[i] < max_lon + m_lon) << i;
    ASSERT_DOUBLE_EQ(hr[i], 150) << i;
    ASSERT_TRUE(std::isnan(power[i])) << i;
    ASSERT_TRUE(ele[i] > o.base_ele_m - 5 && ele[i] < o.base_ele_m + o.hill_m + 5) << i;
  }
}

TEST(CApi, ErrorsGiveACodeAndSayWhatAndWhere) {
  stride_analysis_t* a = reinterpret_cast<stride_analysis_t*>(0x1);
  const std::string broken =
      "<gpx>\n<trk><trkseg>\n<trkpt lat=\"x\" lon=\"1\"/></trkseg></trk></gpx>";
  EXPECT_EQ(stride_analyze_buffer(broken.data(), broken.size(), nullptr, &a), STRIDE_E_INVALID);
  EXPECT_EQ(a, nullptr);
  EXPECT_NE(std::string(stride_last_error()).find("line 3"), std::string::npos)
      << stride_last_error();

  EXPECT_EQ(stride_analyze_file("/no/such/run.fit", nullptr, &a), STRIDE_E_NOT_FOUND);
  EXPECT_EQ(std::string(stride_last_error()).rfind("/no/such/run.fit: ", 0), 0u)
      << stride_last_error();
  EXPECT_EQ(stride_analyze_file(nullptr, nullptr, &a), STRIDE_E_INVALID);
  EXPECT_EQ(stride_analyze_buffer("x", 1, nullptr, nullptr), STRIDE_E_INVALID);
  EXPECT_NE(std::string(stride_last_error()).find("out is NULL"), std::string::npos);
  EXPECT_EQ(stride_analyze_buffer(nullptr, 5, nullptr, &a), STRIDE_E_INVALID);
  EXPECT_EQ(stride_analyze_buffer(nullptr, 0, nullptr, &a), STRIDE_E_INVALID);  // empty input

  const std::string gpx = datasets::WriteGpx(datasets::MakeSyntheticRun({}).recorded);
  stride_analyze_options_t opt;
  stride_analyze_options_init(&opt);
  opt.sport = "swim";
  EXPECT_EQ(stride_analyze_buffer(gpx.data(), gpx.size(), &opt, &a), STRIDE_E_INVALID);
  EXPECT_NE(std::string(stride_last_error()).find("sport: unknown sport 'swim'"), std::string::npos)
      << stride_last_error();
  stride_analyze_options_init(&opt);
  opt.max_hr_bpm = 20;
  EXPECT_EQ(stride_analyze_buffer(gpx.data(), gpx.size(), &opt, &a), STRIDE_E_INVALID);
  EXPECT_NE(std::string(stride_last_error()).find("max_hr_bpm"), std::string::npos);
  stride_analyze_options_init(&opt);
  opt.hr_zone_bounds_bpm[0] = 150;
  opt.hr_zone_bounds_bpm[1] = 140;
  opt.hr_zone_bounds_bpm[2] = 160;
  opt.hr_zone_bounds_bpm[3] = 170;
  EXPECT_EQ(stride_analyze_buffer(gpx.data(), gpx.size(), &opt, &a), STRIDE_E_INVALID);
  EXPECT_NE(std::string(stride_last_error()).find("increasing"), std::string::npos);
  opt.hr_zone_bounds_bpm[0] = 120;  // 120, 140, 160, 170: increasing, but zone 5 at the maximum
  opt.max_hr_bpm = 170;
  EXPECT_EQ(stride_analyze_buffer(gpx.data(), gpx.size(), &opt, &a), STRIDE_E_INVALID);
  EXPECT_NE(std::string(stride_last_error()).find("zone 5 starts at 170 bpm: must be below"),
            std::string::npos)
      << stride_last_error();
  stride_analyze_options_init(&opt);
  opt.max_hr_bpm = 110;
  opt.rest_hr_bpm = 110;
  EXPECT_EQ(stride_analyze_buffer(gpx.data(), gpx.size(), &opt, &a), STRIDE_E_INVALID);
  EXPECT_NE(std::string(stride_last_error()).find("rest_hr_bpm"), std::string::npos);
  opt.struct_size = 2;
  EXPECT_EQ(stride_analyze_buffer(gpx.data(), gpx.size(), &opt, &a), STRIDE_E_INVALID);
  EXPECT_NE(std::string(stride_last_error()).find("struct_size"), std::string::npos);

  ASSERT_EQ(stride_analyze_buffer(gpx.data(), gpx.size(), nullptr, &a), STRIDE_OK);
  AnalysisPtr ok(a);
  EXPECT_STREQ(stride_last_error(), "");  // a success clears the last error
  const double* v = nullptr;
  size_t n = 7;
  EXPECT_EQ(stride_analysis_stream(ok.get(), 1, STRIDE_STREAM_TIME, &v, &n), STRIDE_E_INVALID);
  EXPECT_EQ(n, 0u);
  EXPECT_NE(std::string(stride_last_error()).find("session 1 of 1"), std::string::npos);
  EXPECT_EQ(stride_analysis_stream(ok.get(), 0, STRIDE_STREAM_COUNT, &v, &n), STRIDE_E_INVALID);
  EXPECT_NE(std::string(stride_last_error()).find("no stream 10"), std::string::npos);
  EXPECT_EQ(stride_analysis_stream(nullptr, 0, 0, &v, &n), STRIDE_E_INVALID);
  EXPECT_EQ(stride_analysis_json(nullptr, nullptr), nullptr);
  EXPECT_EQ(stride_analysis_session_count(nullptr), 0u);
  stride_analysis_free(nullptr);
  stride_dem_t* dem = reinterpret_cast<stride_dem_t*>(0x1);
  EXPECT_EQ(stride_dem_open("/no/such/dem", &dem), STRIDE_E_NOT_FOUND);
  EXPECT_EQ(dem, nullptr);
  EXPECT_NE(std::string(stride_last_error()).find("/no/such/dem"), std::string::npos)
      << stride_last_error();
}

TEST(CApi, OptionsOfAnOlderCallerAreReadOnlyAsFarAsItsStructGoes) {
  const std::string gpx = datasets::WriteGpx(datasets::MakeSyntheticRun({}).recorded);
  auto analyse = [&](const stride_analyze_options_t& opt) {
    stride_analysis_t* a = nullptr;
    EXPECT_EQ(stride_analyze_buffer(gpx.data(), gpx.size(), &opt, &a), STRIDE_OK)
        << stride_last_error();
    AnalysisPtr p(a);
    return a != nullptr ? Json::parse(stride_analysis_json(a, nullptr)) : Json();
  };
  stride_analyze_options_t opt;
  stride_analyze_options_init(&opt);
  EXPECT_EQ(opt.struct_size, sizeof(stride_analyze_options_t));
  EXPECT_EQ(opt.rest_hr_bpm, 60);
  opt.sport = "hike";
  opt.name = "named.gpx";
  opt.max_hr_bpm = 200;
  Json full = analyse(opt);
  EXPECT_EQ(full["file"], "named.gpx");
  EXPECT_EQ(full["source"]["sport"], "hike");
  EXPECT_EQ(full["source"]["sport_source"], "command line");
  // A caller whose struct ended before `name` (a field added later) keeps the default name.
  opt.struct_size = offsetof(stride_analyze_options_t, name);
  Json older = analyse(opt);
  EXPECT_EQ(older["file"], "");
  EXPECT_EQ(older["source"]["sport"], "hike");
  // ... and one that ended before `sport` gets the file's sport.
  opt.struct_size = offsetof(stride_analyze_options_t, sport);
  Json oldest = analyse(opt);
  EXPECT_EQ(oldest["source"]["sport_source"], "file");
  EXPECT_EQ(oldest["source"]["sport"], "run");
}

TEST(CApi, ThreadsAnalyseAtOnceAndKeepTheirOwnLastError) {
  datasets::SyntheticRunOptions o;
  o.noise_m = 3;
  const std::string fit = datasets::WriteFit(datasets::MakeSyntheticRun(o).recorded);
  stride_analysis_t* first = nullptr;
  ASSERT_EQ(stride_analyze_buffer(fit.data(), fit.size(), nullptr, &first), STRIDE_OK);
  const std::string expected = stride_analysis_json(first, nullptr);
  stride_analysis_free(first);
  std::vector<int> differ(4, 0), lost(4, 0);
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] {
      for (int k = 0; k < 6; ++k) {
        if (w % 2 == 1) {  // odd threads fail in between: the error stays on their thread
          stride_analysis_t* bad = nullptr;
          stride_analyze_buffer("not a recording", 15, nullptr, &bad);
          lost[w] += std::string(stride_last_error()).empty();
        }
        stride_analysis_t* a = nullptr;
        if (stride_analyze_buffer(fit.data(), fit.size(), nullptr, &a) != STRIDE_OK) {
          ++differ[w];
          continue;
        }
        differ[w] += expected != stride_analysis_json(a, nullptr);
        stride_analysis_free(a);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int w = 0; w < 4; ++w) {
    EXPECT_EQ(differ[w], 0) << w;
    EXPECT_EQ(lost[w], 0) << w;
  }
}

// ---- route database ----

class CApiDb : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(TempDir("db"));
    datasets::SyntheticOsmOptions so;
    so.target_nodes = 20'000;
    Result<datasets::SyntheticOsmStats> st =
        datasets::WriteSyntheticOsm((*dir_ / "map.osm.pbf").string(), so);
    ASSERT_TRUE(st.ok()) << st.status().message();
    bbox_ = st->bbox;
    ASSERT_TRUE(datasets::WriteSyntheticDem((*dir_ / "dem").string(), st->bbox).ok());
    Result<std::unique_ptr<importers::SrtmElevation>> dem =
        importers::SrtmElevation::Open((*dir_ / "dem").string());
    ASSERT_TRUE(dem.ok());
    Result<importers::OsmImportStats> s =
        testing::ImportToDb((*dir_ / "map.osm.pbf").string(), (*dir_ / "db").string(), dem->get());
    ASSERT_TRUE(s.ok()) << s.status().message();
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }
  void SetUp() override {
    ASSERT_EQ(stride_db_open((*dir_ / "db").string().c_str(), &db_), STRIDE_OK)
        << stride_last_error();
    Result<std::shared_ptr<const index::RouteSnapshot>> s =
        index::LoadRouteSnapshot((*dir_ / "db").string());
    ASSERT_TRUE(s.ok());
    snap_ = *s;
  }
  void TearDown() override { stride_db_close(db_); }

  static fs::path* dir_;
  static engine::BoxE7 bbox_;
  stride_db_t* db_ = nullptr;
  std::shared_ptr<const index::RouteSnapshot> snap_;
};
fs::path* CApiDb::dir_ = nullptr;
engine::BoxE7 CApiDb::bbox_;

TEST_F(CApiDb, QueriesAnswerWhatTheHttpApiAnswers) {
  const double w = bbox_.min_lon / 1e7, s = bbox_.min_lat / 1e7;
  const double e = bbox_.max_lon / 1e7, n = bbox_.max_lat / 1e7;
  // The west half of the map, hiking routes between 2 and 20 km, a page of 5.
  const double mid = (w + e) / 2;
  const char* filters = "type=hiking&min_length_m=2000&max_length_m=20000&limit=5";
  const Reply routes =
      Ask([&](char** j, size_t* z) { return stride_db_routes(db_, w, s, mid, n, filters, j, z); });
  ASSERT_EQ(routes.code, STRIDE_OK) << stride_last_error();
  EXPECT_EQ(routes.size, routes.json.size());
  const std::string bbox = G(w) + "," + G(s) + "," + G(mid) + "," + G(n);
  EXPECT_EQ(routes.json, server::ListRoutes(*snap_, {{"bbox", bbox},
                                                     {"type", "hiking"},
                                                     {"min_length_m", "2000"},
                                                     {"max_length_m", "20000"},
                                                     {"limit", "5"}})
                             .body);
  const Json list = Json::parse(routes.json);
  ASSERT_EQ(list["routes"].size(), 5u);
  for (const Json& r : list["routes"]) {
    EXPECT_EQ(r["type"], "hiking");
    EXPECT_GE(r["length_m"].get<double>(), 2000);
    EXPECT_LE(r["bbox"][0].get<double>(), mid);  // intersects the west half
  }
  // The next page through the cursor, percent-encoded as a URL would carry it.
  std::string cursor = list["next_cursor"].get<std::string>();
  cursor.replace(cursor.find('~'), 1, "%7E");
  const std::string next = std::string(filters) + "&cursor=" + cursor;
  const Reply page2 = Ask(
      [&](char** j, size_t* z) { return stride_db_routes(db_, w, s, mid, n, next.c_str(), j, z); });
  ASSERT_EQ(page2.code, STRIDE_OK) << stride_last_error();
  EXPECT_NE(Json::parse(page2.json)["routes"][0]["id"], list["routes"][0]["id"]);

  const double lat = (s + n) / 2, lon = mid;
  const Reply near =
      Ask([&](char** j, size_t* z) { return stride_db_nearest(db_, lat, lon, "k=3", j, z); });
  EXPECT_EQ(near.json,
            server::NearestRoutes(*snap_, {{"lat", G(lat)}, {"lon", G(lon)}, {"k", "3"}}).body);
  ASSERT_EQ(Json::parse(near.json)["routes"].size(), 3u);

  const std::string id = std::to_string(list["routes"][0]["id"].get<uint64_t>());
  const Reply route = Ask([&](char** j, size_t* z) {
    return stride_db_route(db_, id.c_str(), "format=polyline6", j, z);
  });
  EXPECT_EQ(route.json, server::GetRoute(*snap_, id, {{"format", "polyline6"}}).body);
  EXPECT_EQ(Json::parse(route.json)["length_m"], list["routes"][0]["length_m"]);
  const Reply profile =
      Ask([&](char** j, size_t* z) { return stride_db_profile(db_, id.c_str(), j, z); });
  EXPECT_EQ(profile.json, server::GetProfile(*snap_, id).body);
  EXPECT_GT(Json::parse(profile.json)["profile"]["elevation_m"].size(), 2u);

  // Foot routing between the first two routes' starts, and a loop from the first.
  const double a_lat = list["routes"][0]["start"][1], a_lon = list["routes"][0]["start"][0];
  const double b_lat = list["routes"][1]["start"][1], b_lon = list["routes"][1]["start"][0];
  const Reply walk = Ask([&](char** j, size_t* z) {
    return stride_db_directions(db_, a_lat, a_lon, b_lat, b_lon, "format=geojson", j, z);
  });
  ASSERT_EQ(walk.code, STRIDE_OK) << stride_last_error();
  EXPECT_EQ(walk.json, server::Directions(*snap_, {{"from", G(a_lat) + "," + G(a_lon)},
                                                   {"to", G(b_lat) + "," + G(b_lon)},
                                                   {"format", "geojson"}})
                           .body);
  const Reply loop = Ask(
      [&](char** j, size_t* z) { return stride_db_loop(db_, a_lat, a_lon, 5000, "seed=3", j, z); });
  ASSERT_EQ(loop.code, STRIDE_OK) << stride_last_error();
  EXPECT_EQ(
      loop.json,
      server::LoopRoutes(
          *snap_, {{"lat", G(a_lat)}, {"lon", G(a_lon)}, {"distance_m", "5000"}, {"seed", "3"}})
          .body);
  const Json l = Json::parse(loop.json);
  ASSERT_TRUE(l.contains("loops")) << loop.json.substr(0, 300);
  EXPECT_NEAR(l["loops"][0]["distance_m"].get<double>(), 5000, 5000 * 0.25);

  // Matching the walk back onto the network: all of it is on trails.
  const std::string line = Json::parse(walk.json)["geometry"].dump();
  const Reply match = Ask([&](char** j, size_t* z) {
    return stride_db_match(db_, line.data(), line.size(), nullptr, j, z);
  });
  ASSERT_EQ(match.code, STRIDE_OK) << stride_last_error();
  EXPECT_EQ(match.json, server::MatchTrack(*snap_, {}, line).body);
  EXPECT_GT(Json::parse(match.json)["on_network_share"].get<double>(), 0.95)
      << match.json.substr(0, 400);
}

TEST_F(CApiDb, BadQueriesGiveTheCodeAndTheHttpApisMessage) {
  auto routes = [&](double min_lon, const char* query) {
    return Ask(
        [&](char** j, size_t* z) { return stride_db_routes(db_, min_lon, 2, 3, 4, query, j, z); });
  };
  auto expect_error = [](const Reply& r, int code, const std::string& message) {
    EXPECT_EQ(r.code, code) << message;
    EXPECT_TRUE(r.null) << message;
    EXPECT_NE(std::string(stride_last_error()).find(message), std::string::npos)
        << stride_last_error();
  };
  expect_error(routes(1, "bbox=1,2,3,4"), STRIDE_E_INVALID, "bbox is given as an argument");
  expect_error(routes(1, "limit=5&limit=6"), STRIDE_E_INVALID, "limit is given twice");
  expect_error(routes(1, "limit=0"), STRIDE_E_INVALID, "limit: ");
  // A misspelt filter is refused, not left out (every route in the box was answered).
  expect_error(routes(1, "min_length=5000"), STRIDE_E_INVALID, "min_length: unknown parameter");
  expect_error(
      Ask([&](char** j, size_t* z) { return stride_db_nearest(db_, 1, 2, "radius_m=9", j, z); }),
      STRIDE_E_INVALID, "radius_m: unknown parameter");
  expect_error(routes(std::nan(""), nullptr), STRIDE_E_INVALID, "bbox");
  expect_error(
      Ask([&](char** j, size_t* z) { return stride_db_route(db_, "r999999999", "", j, z); }),
      STRIDE_E_NOT_FOUND, "no route r999999999");
  expect_error(Ask([&](char** j, size_t* z) { return stride_db_profile(db_, "zz", j, z); }),
               STRIDE_E_INVALID, "'zz' is not a route id");
  expect_error(
      Ask([&](char** j, size_t* z) { return stride_db_loop(db_, 45.7, 6.4, 0, nullptr, j, z); }),
      STRIDE_E_INVALID, "distance_m");
  // Far from every trail: not found, with the distance to the nearest.
  expect_error(Ask([&](char** j, size_t* z) {
                 return stride_db_directions(db_, 10, 10, 10.01, 10.01, nullptr, j, z);
               }),
               STRIDE_E_NOT_FOUND, "from");
  expect_error(Ask([&](char** j, size_t* z) {
                 return stride_db_match(db_, "not a track", 11, nullptr, j, z);
               }),
               STRIDE_E_INVALID, "");
  expect_error(
      Ask([&](char** j, size_t* z) { return stride_db_nearest(nullptr, 1, 2, nullptr, j, z); }),
      STRIDE_E_INVALID, "db is NULL");
  EXPECT_EQ(stride_db_nearest(db_, 1, 2, nullptr, nullptr, nullptr), STRIDE_E_INVALID);

  stride_db_t* other = reinterpret_cast<stride_db_t*>(0x1);
  const fs::path empty = TempDir("empty");
  EXPECT_EQ(stride_db_open(empty.string().c_str(), &other), STRIDE_E_NOT_FOUND);
  EXPECT_EQ(other, nullptr);
  // Named as a library caller knows it, not by the command line's flag.
  EXPECT_EQ(std::string(stride_last_error()),
            "database " + empty.string() + ": no route database here (run stride import)");
  fs::remove_all(empty);
  stride_db_close(nullptr);
}

TEST_F(CApiDb, OneDatabaseAnswersManyThreadsAtOnce) {
  const double lat = (bbox_.min_lat + bbox_.max_lat) / 2e7;
  const double lon = (bbox_.min_lon + bbox_.max_lon) / 2e7;
  auto ask = [&] {
    return Ask([&](char** j, size_t* z) { return stride_db_nearest(db_, lat, lon, "k=20", j, z); });
  };
  const Reply expected = ask();
  ASSERT_EQ(expected.code, STRIDE_OK) << stride_last_error();
  std::vector<int> differ(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < 50; ++k) differ[t] += ask().json != expected.json;
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(differ[t], 0) << t;
}

}  // namespace
}  // namespace stride
