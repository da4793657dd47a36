// SPDX-License-Identifier: Apache-2.0
// `stride import` and `stride inspect` as an operator runs them: a real database directory,
// re-imports that switch the database only on success, and bad input that leaves nothing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "datasets/synthetic_osm.hpp"
#include "index/store/record_codec.hpp"
#include "index/store/route_db.hpp"
#include "index/store/route_snapshot.hpp"
#include "tests/support/cli.hpp"
#include "tests/support/datasets.hpp"

namespace stride {
namespace {

namespace fs = std::filesystem;
using testing::CliRun;
using testing::Stride;

class ImportCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("stride_import_cli_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = (dir_ / "db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  // Names in dir_ that an import left behind besides the database and its previous version.
  std::vector<std::string> Leftovers() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) {
      const std::string n = e.path().filename().string();
      if (n.find(".import-") != std::string::npos) out.push_back(n);
    }
    return out;
  }
  static std::string Andorra() {
    return testing::DatasetsDir() + "/osm/andorra-2021-10-28.osm.pbf";
  }
  static std::string Dem() { return testing::DatasetsDir() + "/dem"; }

  fs::path dir_;
  std::string db_;
};

TEST_F(ImportCli, ImportsInspectsAndReplacesOnlyOnSuccess) {
  STRIDE_REQUIRE_DATASETS();
  CliRun r = Stride("import --osm " + Andorra() + " --dem " + Dem() + " --db " + db_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("imported "), std::string::npos);
  EXPECT_NE(r.out.find("peak memory"), std::string::npos);
  EXPECT_NE(r.err.find("import: relations"), std::string::npos);  // progress on stderr
  EXPECT_NE(r.err.find("import: trail graph"), std::string::npos);
  {  // each phase's last line: the peak memory so far, which never falls from phase to phase
    const std::regex done_line(R"(import: (\S+(?: \S+)?) .* done  peak (\d+) MiB)");
    std::vector<std::pair<std::string, int>> peaks;
    for (std::sregex_iterator m(r.err.begin(), r.err.end(), done_line), end; m != end; ++m) {
      peaks.emplace_back((*m)[1].str(), std::stoi((*m)[2].str()));
    }
    ASSERT_EQ(peaks.size(), 5u) << r.err;
    EXPECT_EQ(peaks.front().first, "relations");
    EXPECT_EQ(peaks.back().first, "hierarchy");
    EXPECT_GT(peaks.front().second, 0);
    for (size_t i = 1; i < peaks.size(); ++i) EXPECT_GE(peaks[i].second, peaks[i - 1].second);
  }

  r = Stride("inspect --db " + db_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("replication timestamp 2021-10-28T20:21:09Z"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sha256 0e35753ee0685e3918985ca5bd307c7e8156988f1bcc213b23379fcbdf1aa765"),
            std::string::npos);
  EXPECT_NE(r.out.find("route_relations 39"), std::string::npos);

  r = Stride("inspect --db " + db_ + " --route relation/5511920");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["name"], "GPR La volta a Andorra");
  EXPECT_EQ(j["loop"], true);
  EXPECT_EQ(j["geometry"]["type"], "MultiLineString");
  EXPECT_EQ(j["profile"]["distance_m"].size(), j["profile"]["elevation_m"].size());
  EXPECT_EQ(Stride("inspect --db " + db_ + " --route r1").exit_code, 1);
  EXPECT_EQ(Stride("inspect --db " + db_ + " --route banana").exit_code, 2);

  // A failing re-import (a truncated file) leaves the database as it was.
  const std::string truncated = (dir_ / "truncated.osm.pbf").string();
  {
    std::ifstream in(Andorra(), std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(truncated, std::ios::binary).write(bytes.data(), bytes.size() / 2);
  }
  r = Stride("import --quiet --osm " + truncated + " --db " + db_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("truncated.osm.pbf"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("unchanged"), std::string::npos) << r.err;
  EXPECT_TRUE(Leftovers().empty());
  r = Stride("inspect --db " + db_);
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("route_relations 39"), std::string::npos);
  EXPECT_FALSE(fs::exists(db_ + ".previous"));

  // A successful re-import (another extract) switches; the old one is kept as .previous.
  r = Stride("import --quiet --osm " + testing::DatasetsDir() + "/osm/monaco-2012-07.osm.gz --db " +
             db_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(db_ + ".previous/CURRENT"));
  r = Stride("inspect --db " + db_);
  EXPECT_NE(r.out.find("monaco-2012-07.osm.gz"), std::string::npos);
  EXPECT_NE(r.out.find("route_relations 3"), std::string::npos) << r.out;
  EXPECT_TRUE(Leftovers().empty());
}

// A map without a trail (the wrong extract, or one filtered of its paths) still gives a valid
// database, but the import says it will answer nothing, --quiet or not; one path is enough to
// silence it.
TEST_F(ImportCli, AMapWithoutTrailsImportsWithAWarning) {
  const std::string nodes =
      "<node id=\"1\" lat=\"42.5\" lon=\"1.5\" version=\"1\"/>"
      "<node id=\"2\" lat=\"42.501\" lon=\"1.501\" version=\"1\"/>";
  const std::string bare = (dir_ / "bare.osm").string();
  std::ofstream(bare) << "<osm version=\"0.6\">" << nodes << "</osm>\n";
  for (const std::string quiet : {"", "--quiet "}) {
    const CliRun r = Stride("import " + quiet + "--osm " + bare + " --db " + db_);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("warning: the database holds no route and no walkable way (2 nodes, 0 "
                         "ways read): every search will answer nothing"),
              std::string::npos)
        << quiet << r.err;
    EXPECT_TRUE(fs::exists(db_ + "/CURRENT"));
  }
  const std::string path = (dir_ / "path.osm").string();
  std::ofstream(path) << "<osm version=\"0.6\">" << nodes
                      << "<way id=\"7\" version=\"1\"><nd ref=\"1\"/><nd ref=\"2\"/>"
                         "<tag k=\"highway\" v=\"path\"/></way></osm>\n";
  const CliRun r = Stride("import --osm " + path + " --db " + db_);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(", 1 trail edges from 2 nodes, 1 ways"), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
  // A --db whose parent directories do not exist yet: they are made (as restore does),
  // where before the lock file beside it could not be created.
  const fs::path nested = dir_ / "data" / "andorra" / "db";
  const CliRun deep = Stride("import --quiet --osm " + path + " --db " + nested.string());
  EXPECT_EQ(deep.exit_code, 0) << deep.err;
  EXPECT_TRUE(fs::exists(nested / "CURRENT"));
  EXPECT_FALSE(fs::exists(nested.string() + ".lock"));
  // An empty --route is a route id that is wrong, not the overview.
  const CliRun empty_id = Stride("inspect --db " + db_ + " --route ''");
  EXPECT_EQ(empty_id.exit_code, 2);
  EXPECT_NE(empty_id.err.find("stride inspect: an empty argument after --route"), std::string::npos)
      << empty_id.err;
  EXPECT_EQ(empty_id.out, "");
}

// A DEM file whose header reads but whose pixels do not (a copy cut short): before, the import
// succeeded and its routes had no elevation, with nothing said.
TEST_F(ImportCli, ADemThatCannotBeReadFailsTheImportAndWritesNothing) {
  STRIDE_REQUIRE_DATASETS();
  const std::string osm = (dir_ / "path.osm").string();
  std::ofstream(osm) << "<osm version=\"0.6\">"
                     << "<node id=\"1\" lat=\"42.5\" lon=\"1.5\" version=\"1\"/>"
                        "<node id=\"2\" lat=\"42.501\" lon=\"1.501\" version=\"1\"/>"
                        "<way id=\"7\" version=\"1\"><nd ref=\"1\"/><nd ref=\"2\"/>"
                        "<tag k=\"highway\" v=\"path\"/></way></osm>\n";
  fs::create_directories(dir_ / "dem");
  const std::string tif = (dir_ / "dem" / "andorra.tif").string();
  {
    std::ifstream in(Dem() + "/andorra_srtm3_crop.tif", std::ios::binary);
    std::string head(5000, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    ASSERT_EQ(in.gcount(), 5000);
    std::ofstream(tif, std::ios::binary) << head;
  }
  const CliRun r = Stride("import --quiet --osm " + osm + " --dem " + tif + " --db " + db_);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("stride import: error: --dem " + tif + ": cannot read its pixels: "),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("(nothing was written; " + db_ + " is unchanged)"), std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(db_));
  EXPECT_TRUE(Leftovers().empty());
  // The whole file imports, and the way has its elevation.
  const CliRun ok = Stride("import --quiet --osm " + osm + " --dem " + Dem() +
                           "/andorra_srtm3_crop.tif --db " + db_);
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

// Ctrl-C (or kill, or a closed terminal) in the middle of an import: the unfinished database
// is removed, not left beside DIR until the next import, and DIR is the database it was.
TEST_F(ImportCli, AnInterruptedImportLeavesNothingAndTheDatabaseAsItWas) {
  datasets::SyntheticOsmOptions small, big;
  small.target_nodes = 20000;
  big.target_nodes = 1500000;
  ASSERT_TRUE(datasets::WriteSyntheticOsm((dir_ / "small.osm.pbf").string(), small).ok());
  ASSERT_TRUE(datasets::WriteSyntheticOsm((dir_ / "big.osm.pbf").string(), big).ok());
  ASSERT_EQ(Stride("import --quiet --osm " + (dir_ / "small.osm.pbf").string() + " --db " + db_)
                .exit_code,
            0);
  const uint64_t inode = index::DirectoryInode(db_);
  const std::string before = Stride("inspect --db " + db_ + " --list").out;
  for (const auto& [name, number] : {std::pair{"INT", 2}, {"TERM", 15}}) {
    SCOPED_TRACE(name);
    // Signalled once its build directory is there and the import is under way. From bash
    // with job control (set -m): a script's background job would otherwise ignore SIGINT.
    std::ofstream(dir_ / "interrupt.sh")
        << "set -m\ncd " << dir_.string() << "\n"
        << STRIDE_CLI << " import --quiet --osm big.osm.pbf --db db 2>err.txt &\npid=$!\n"
        << "for i in $(seq 2000); do [ -d db.import-$pid ] && break; sleep 0.01; done\n"
        << "sleep 0.3\nkill -" << name << " $pid\nwait $pid\necho \"exit $?\"\ncat err.txt\n";
    const CliRun r = testing::RunShell("bash " + (dir_ / "interrupt.sh").string());
    EXPECT_NE(r.out.find("exit " + std::to_string(128 + number)), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("stride import: interrupted"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("removing the unfinished database"), std::string::npos) << r.out;
    EXPECT_TRUE(Leftovers().empty()) << Leftovers().front();
    EXPECT_FALSE(fs::exists(db_ + ".lock"));
    EXPECT_EQ(index::DirectoryInode(db_), inode);
    EXPECT_EQ(Stride("inspect --db " + db_ + " --list").out, before);
  }
}

// --memory-mb: an import within its budget says so; one whose process goes over the budget
// while it imports stops with one line naming the budget, the peak and the phase, and changes
// nothing, leaving no build and no lock; one over it before it starts says so and writes
// nothing; a budget that is not a number of MiB is a command-line error.
TEST_F(ImportCli, AMemoryBudgetIsKeptOrTheImportChangesNothing) {
  datasets::SyntheticOsmOptions small, big;
  small.target_nodes = 20000;
  big.target_nodes = 1500000;
  const std::string osm = (dir_ / "small.osm.pbf").string();
  const std::string big_osm = (dir_ / "big.osm.pbf").string();
  ASSERT_TRUE(datasets::WriteSyntheticOsm(osm, small).ok());
  ASSERT_TRUE(datasets::WriteSyntheticOsm(big_osm, big).ok());
  CliRun r = Stride("import --quiet --memory-mb 100000 --osm " + osm + " --db " + db_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("(budget 100000)"), std::string::npos) << r.out;
  const uint64_t inode = index::DirectoryInode(db_);
  const std::string before = Stride("inspect --db " + db_ + " --list").out;

  // The big map's peak, then a budget well under it (and well over what a process holds
  // before it reads anything): over it in the middle of the import.
  const std::string other = (dir_ / "other").string();
  r = Stride("import --quiet --osm " + big_osm + " --db " + other);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex("peak memory ([0-9]+) MiB"))) << r.out;
  const long budget = std::stol(m[1].str()) * 6 / 10;
  r = Stride("import --quiet --memory-mb " + std::to_string(budget) + " --osm " + big_osm +
             " --db " + db_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(std::regex_search(
      r.err, std::regex("^stride import: error: --memory-mb " + std::to_string(budget) +
                        ": the process reached [0-9]+ MiB while [a-z]")))
      << r.err;
  EXPECT_NE(r.err.find("removing the unfinished database"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_TRUE(Leftovers().empty()) << Leftovers().front();
  EXPECT_FALSE(fs::exists(db_ + ".lock"));
  EXPECT_EQ(index::DirectoryInode(db_), inode);
  EXPECT_EQ(Stride("inspect --db " + db_ + " --list").out, before);

  r = Stride("import --quiet --memory-mb 1 --osm " + osm + " --db " + db_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(std::regex_search(r.err, std::regex("^stride import: error: --memory-mb 1: the "
                                                  "process holds [0-9]+ MiB before it starts, "
                                                  "over the budget \\(nothing was written")))
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_TRUE(Leftovers().empty()) << Leftovers().front();
  EXPECT_FALSE(fs::exists(db_ + ".lock"));
  EXPECT_EQ(index::DirectoryInode(db_), inode);

  for (const std::string bad : {"0", "lots", "16777217", "-5"}) {
    r = Stride("import --quiet --memory-mb " + bad + " --osm " + osm + " --db " + db_);
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_NE(r.err.find("--memory-mb " + bad +
                         ": expected a whole number of MiB from 1 to 16777216 (16 TiB)"),
              std::string::npos)
        << r.err;
  }
  r = Stride("update --db " + db_ + " --osc x.osc --memory-mb 0");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("stride update: --memory-mb 0: expected a whole number of MiB"),
            std::string::npos)
      << r.err;
}

TEST_F(ImportCli, BadInputIsOneClearLineAndNoDatabase) {
  STRIDE_REQUIRE_DATASETS();
  // Missing file.
  CliRun r = Stride("import --quiet --osm " + (dir_ / "nope.osm.pbf").string() + " --db " + db_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("nope.osm.pbf: cannot open"), std::string::npos) << r.err;
  // Not OSM.
  const std::string text = (dir_ / "notes.osm").string();
  std::ofstream(text) << "just some notes\n";
  r = Stride("import --quiet --osm " + text + " --db " + db_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not an OSM file"), std::string::npos) << r.err;
  // A DEM tile of the wrong size.
  const fs::path dem = dir_ / "dem";
  fs::create_directories(dem);
  std::ofstream(dem / "N42E001.hgt") << "short";
  r = Stride("import --quiet --osm " + Andorra() + " --dem " + dem.string() + " --db " + db_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("N42E001.hgt: 5 bytes of elevation data; expected 2884802"),
            std::string::npos)
      << r.err;
  // A --db that cannot be written: inside a regular file.
  r = Stride("import --quiet --osm " + Andorra() + " --db " + text + "/db");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--db " + text + "/db: " + text + " is a file, not a directory"),
            std::string::npos)
      << r.err;
  r = Stride("import --quiet --osm " + Andorra() + " --db " + text + "/deeper/db");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(text + " is a file, not a directory"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(text + ".lock"));
  // A --db that is something else: refused, untouched.
  const fs::path other = dir_ / "photos";
  fs::create_directories(other);
  std::ofstream(other / "cat.jpg") << "meow";
  r = Stride("import --quiet --osm " + Andorra() + " --db " + other.string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not a route database"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(other / "cat.jpg"));

  EXPECT_FALSE(fs::exists(other.string() + ".lock"));  // nothing beside what was refused

  EXPECT_FALSE(fs::exists(db_));
  EXPECT_TRUE(Leftovers().empty());
  // Usage errors exit 2.
  EXPECT_EQ(Stride("import --osm " + Andorra()).exit_code, 2);
  EXPECT_EQ(Stride("import --osm " + Andorra() + " --db " + db_ + " --threads 0").exit_code, 2);
  EXPECT_EQ(Stride("inspect").exit_code, 2);
  EXPECT_EQ(Stride("inspect --db " + (dir_ / "none").string()).exit_code, 1);
}

}  // namespace
}  // namespace stride

namespace stride {
namespace {

// Each route's profile, by id, from a database `stride import` wrote.
std::map<uint64_t, engine::ElevationProfile> Profiles(const std::string& db) {
  std::map<uint64_t, engine::ElevationProfile> out;
  Result<std::unique_ptr<index::RouteDb>> d = index::RouteDb::Open(db);
  EXPECT_TRUE(d.ok()) << d.status().message();
  if (!d.ok()) return out;
  EXPECT_TRUE((*d)->ForEachRouteRecord([&](uint64_t id, std::string_view bytes) {
                    Result<engine::Route> r = index::DecodeRoute(bytes);
                    if (r.ok()) out[id] = r->profile;
                  })
                  .ok());
  return out;
}

// Largest |a - b| over the routes both profiled; *both counts them.
double WorstDifference(const std::map<uint64_t, engine::ElevationProfile>& a,
                       const std::map<uint64_t, engine::ElevationProfile>& b, size_t* both) {
  double worst = 0;
  *both = 0;
  for (const auto& [id, pa] : a) {
    const auto it = b.find(id);
    if (pa.empty() || it == b.end() || it->second.empty()) continue;
    EXPECT_EQ(pa.elevation_m.size(), it->second.elevation_m.size()) << id;
    if (pa.elevation_m.size() != it->second.elevation_m.size()) continue;
    ++*both;
    for (size_t i = 0; i < pa.elevation_m.size(); ++i) {
      worst = std::max(
          worst, std::abs(static_cast<double>(pa.elevation_m[i]) - it->second.elevation_m[i]));
    }
  }
  return worst;
}

TEST_F(ImportCli, TheSharedGeoTiffGivesTheProfilesOfTheSrtmTileItWasMadeFrom) {
  STRIDE_REQUIRE_DATASETS();
  const std::string tif = Dem() + "/andorra_srtm3_crop.tif";
  const std::string a = (dir_ / "hgt").string(), b = (dir_ / "tif").string(),
                    c = (dir_ / "stack").string();
  ASSERT_EQ(Stride("import -q --osm " + Andorra() + " --dem " + Dem() + " --db " + a).exit_code, 0);
  const CliRun r = Stride("import --osm " + Andorra() + " --dem " + tif + " --db " + b);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("elevation from\n" + tif + ": 600 x 408 px, WGS 84"), std::string::npos)
      << r.err;
  // The crop, then the tiles for what lies outside it (the extract reaches beyond the crop).
  ASSERT_EQ(Stride("import -q --osm " + Andorra() + " --dem " + tif + "," + Dem() + " --db " + c)
                .exit_code,
            0);
  const auto hgt = Profiles(a), geotiff = Profiles(b), stack = Profiles(c);
  ASSERT_GT(hgt.size(), 100u);
  size_t both = 0;
  EXPECT_LT(WorstDifference(hgt, geotiff, &both), 1.0);
  EXPECT_GT(both, hgt.size() / 2) << "routes profiled from the crop";
  EXPECT_LT(WorstDifference(hgt, stack, &both), 1.0);
  size_t profiled = 0;
  for (const auto& [id, p] : hgt) profiled += !p.empty();
  EXPECT_EQ(both, profiled) << "the stack profiles every route the tiles do";
  // A --dem that is not there: one line naming it, nothing written.
  const CliRun bad = Stride("import --osm " + Andorra() + " --dem " + tif + ",/no/dem --db " +
                            (dir_ / "bad").string());
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("--dem /no/dem: no such folder or file"), std::string::npos) << bad.err;
  EXPECT_FALSE(fs::exists(dir_ / "bad"));
}

}  // namespace
}  // namespace stride
