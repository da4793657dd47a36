// SPDX-License-Identifier: Apache-2.0
#include "index/store/route_db.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "engine/trail/graph.hpp"
#include "index/store/files.hpp"
#include "index/store/keys.hpp"
#include "index/store/record_codec.hpp"

namespace stride::index {
namespace {

namespace fs = std::filesystem;
using engine::PointE7;

engine::Route MakeRoute(uint64_t osm_id, int32_t lat, int32_t lon) {
  engine::Route r;
  r.origin = engine::OsmOrigin::kRelation;
  r.osm_id = osm_id;
  r.summary.id = engine::RouteIdForRelation(osm_id);
  r.summary.type = engine::RouteType::kRunning;
  r.summary.surface = engine::Surface::kMixed;
  r.summary.difficulty = 3;
  r.summary.network = 4;
  r.name = "Route " + std::to_string(osm_id);
  r.sac_scale = "demanding_mountain_hiking";
  r.geometry.points = {{lat, lon}, {lat + 1000, lon - 2000}, {lat + 5000, lon + 7}, {lat - 3, lon}};
  r.geometry.part_starts = {0, 2};
  for (const PointE7& p : r.geometry.points) r.summary.bbox.Extend(p);
  r.summary.start = r.geometry.points.front();
  r.length_m = r.summary.length_m = 1234.5f;
  r.ascent_m = r.summary.ascent_m = 88.25f;
  r.max_grade = r.summary.max_grade = 0.125f;
  r.descent_m = 70;
  r.summary.loop = true;
  r.branches.push_back({"alternative", {{{lat, lon}, {lat, lon + 10}}, {0}}, 1.5});
  r.surfaces = {{"gravel", 1000}, {"asphalt", 234.5}};
  r.profile.distance_m = {0, 30, 60};
  r.profile.elevation_m = {1000.5f, 1003, 999};
  r.member_ways = {5, 3, 9};
  r.missing_members = 2;
  return r;
}

TEST(Keys, BigEndianOrderIsNumericOrder) {
  EXPECT_LT(RouteKey(255), RouteKey(256));
  EXPECT_LT(RouteKey(engine::RouteIdForRelation(99)), RouteKey(engine::RouteIdForNamedTrail(1)));
  EXPECT_EQ(GetBigEndian64(RouteKey(0x0102030405060708).data()), 0x0102030405060708u);
}

TEST(Keys, HilbertKeepsNeighboursClose) {
  const PointE7 a{425'000'000, 15'000'000}, b{425'000'100, 15'000'100},
      far{-335'000'000, 1'510'000'000};
  const auto ka = HilbertKey(a), kb = HilbertKey(b), kf = HilbertKey(far);
  EXPECT_LT(ka > kb ? ka - kb : kb - ka, ka > kf ? ka - kf : kf - ka);
  EXPECT_LT(HilbertKey({900'000'000, 1'800'000'000}), uint64_t{1} << 62);
}

TEST(Keys, SummaryRoundTripsInFiftyTwoBytes) {
  const engine::Route r = MakeRoute(7, 425'000'000, 15'000'000);
  const std::string v = EncodeSummary(r.summary);
  ASSERT_EQ(v.size(), kSummaryValueSize);
  engine::RouteSummary s;
  ASSERT_TRUE(DecodeSummary(v, &s));
  EXPECT_EQ(s.id, r.summary.id);
  EXPECT_EQ(s.bbox.max_lat, r.summary.bbox.max_lat);
  EXPECT_EQ(s.start.lon, r.summary.start.lon);
  EXPECT_EQ(s.ascent_m, 88.25f);
  EXPECT_EQ(s.type, engine::RouteType::kRunning);
  EXPECT_EQ(s.surface, engine::Surface::kMixed);
  EXPECT_EQ(s.difficulty, 3);
  EXPECT_TRUE(s.loop);
  EXPECT_FALSE(DecodeSummary(v.substr(1), &s));
}

TEST(Keys, CellsCoverABoxAndRefuseHugeOnes) {
  engine::BoxE7 box;
  box.Extend(PointE7{425'000'000, 15'000'000});
  EXPECT_EQ(CellsForBox(box).size(), 1u);
  box.Extend(PointE7{425'300'000, 15'500'000});  // 0.03 x 0.05 degrees: a few cells
  const std::vector<uint32_t> cells = CellsForBox(box);
  EXPECT_GE(cells.size(), 4u);
  EXPECT_LE(cells.size(), 16u);
  box.Extend(PointE7{-400'000'000, -1'000'000'000});
  EXPECT_TRUE(CellsForBox(box).empty());
}

TEST(RecordCodec, RouteRoundTripsExactly) {
  const engine::Route r = MakeRoute(42, -335'000'000, 1'510'000'000);
  const std::string bytes = EncodeRoute(r);
  Result<engine::Route> d = DecodeRoute(bytes);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(EncodeRoute(*d), bytes);
  EXPECT_EQ(d->geometry.points.size(), 4u);
  EXPECT_EQ(d->geometry.points[2].lat, -335'000'000 + 5000);
  EXPECT_EQ(d->geometry.part_starts, (std::vector<uint32_t>{0, 2}));
  EXPECT_EQ(d->branches.at(0).role, "alternative");
  EXPECT_EQ(d->profile.elevation_m.at(0), 1000.5f);
  EXPECT_EQ(d->member_ways, (std::vector<uint64_t>{5, 3, 9}));
  EXPECT_EQ(d->summary.bbox.min_lon, r.summary.bbox.min_lon);
  EXPECT_FALSE(DecodeRoute("\xff\xff\xff garbage").ok());
}

TEST(RecordCodec, LineDecoderReadsGeometryAndNameOnly) {
  const engine::Route r = MakeRoute(77, 455'000'000, 65'000'000);
  const std::string bytes = EncodeRoute(r);
  engine::RouteGeometry g;
  std::string name = "stale";
  ASSERT_TRUE(DecodeRouteLine(bytes, &g, &name).ok());
  EXPECT_EQ(name, "Route 77");
  EXPECT_EQ(g.points, r.geometry.points);
  EXPECT_EQ(g.part_starts, r.geometry.part_starts);
  // A record without a name gives an empty one; truncated bytes are corruption.
  engine::Route unnamed = r;
  unnamed.name.clear();
  ASSERT_TRUE(DecodeRouteLine(EncodeRoute(unnamed), &g, &name).ok());
  EXPECT_EQ(name, "");
  for (size_t cut : {bytes.size() - 1, bytes.size() / 2, size_t{3}}) {
    EXPECT_FALSE(DecodeRouteLine(std::string_view(bytes).substr(0, cut), &g, &name).ok()) << cut;
  }
}

TEST(RouteDb, BuildCommitOpenRead) {
  const std::string path = ::testing::TempDir() + "/stride_route_db_" + std::to_string(::getpid());
  fs::remove_all(path);
  {
    Result<std::unique_ptr<RouteDbBuilder>> b = RouteDbBuilder::Create(path);
    ASSERT_TRUE(b.ok()) << b.status().message();
    ASSERT_TRUE((*b)->AddRoute(MakeRoute(1, 425'000'000, 15'000'000)).ok());
    ASSERT_TRUE((*b)->AddRoute(MakeRoute(2, 475'000'000, 95'000'000)).ok());
    EXPECT_FALSE((*b)->AddRoute(MakeRoute(2, 0, 0)).ok());  // ids must increase
    engine::TrailEdge e;
    e.id = 1;
    e.way_id = 77;
    e.from_node = 1001;
    e.to_node = 1002;
    e.points = {{425'000'000, 15'000'000}, {425'010'000, 15'010'000}};
    e.length_m = 140;
    ASSERT_TRUE((*b)->AddEdge(e).ok());
    ASSERT_TRUE((*b)->Commit({{"counts", "{\"routes\":2}"}}).ok());
  }
  Result<std::unique_ptr<RouteDb>> db = RouteDb::Open(path);
  ASSERT_TRUE(db.ok()) << db.status().message();
  Result<engine::Route> r = (*db)->GetRoute(engine::RouteIdForRelation(2));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->name, "Route 2");
  EXPECT_EQ((*db)->GetRoute(engine::RouteIdForRelation(3)).status().code(), StatusCode::kNotFound);
  std::vector<uint64_t> ids;
  ASSERT_TRUE(
      (*db)->ForEachSummary([&](const engine::RouteSummary& s) { ids.push_back(s.id); }).ok());
  EXPECT_EQ(ids.size(), 2u);
  EXPECT_EQ((*db)->GetMeta("schema_version").value(), "1");
  EXPECT_EQ((*db)->GetMeta("counts").value(), "{\"routes\":2}");
  engine::BoxE7 box;
  box.Extend(PointE7{425'005'000, 15'005'000});
  Result<std::vector<uint64_t>> edges = (*db)->EdgeCandidates(box);
  ASSERT_TRUE(edges.ok());
  EXPECT_EQ(*edges, (std::vector<uint64_t>{1}));
  EXPECT_EQ((*db)->GetEdge(1).value().way_id, 77u);
  {  // the routable graph, streamed to its file at commit, reads back whole
    Result<MappedFile> file = MappedFile::Open(path + "/" + kTrailGraphFile);
    ASSERT_TRUE(file.ok()) << file.status().message();
    std::vector<size_t> parsed;  // where the parser was done after each array
    Result<engine::trail::TrailGraph> g = engine::trail::TrailGraph::Parse(
        file->bytes(), [&](size_t offset) { parsed.push_back(offset); });
    ASSERT_TRUE(g.ok()) << g.status().message();
    ASSERT_FALSE(parsed.empty());
    EXPECT_TRUE(std::is_sorted(parsed.begin(), parsed.end()));
    EXPECT_EQ(parsed.back(), file->bytes().size());  // the hierarchy's arcs end the file
    EXPECT_EQ(g->edges.size(), 1u);
    EXPECT_EQ(g->edge_way, (std::vector<uint64_t>{77}));
    ASSERT_NE(g->hierarchy, nullptr);
    EXPECT_EQ(g->Serialize(), file->bytes());
  }
  db->reset();
  fs::remove_all(path);
}

TEST(RouteDb, AbandonedBuildLeavesNothing) {
  const std::string path =
      ::testing::TempDir() + "/stride_route_db_abandoned_" + std::to_string(::getpid());
  fs::remove_all(path);
  std::string build_dir;
  {
    Result<std::unique_ptr<RouteDbBuilder>> b = RouteDbBuilder::Create(path);
    ASSERT_TRUE(b.ok());
    build_dir = (*b)->build_dir();
    ASSERT_TRUE((*b)->AddRoute(MakeRoute(1, 425'000'000, 15'000'000)).ok());
    EXPECT_TRUE(fs::exists(build_dir));
  }
  EXPECT_FALSE(fs::exists(build_dir));
  EXPECT_FALSE(fs::exists(path));
  EXPECT_EQ(RouteDb::Open(path).status().code(), StatusCode::kNotFound);
}

// AbandonBuilds (a command stopped by a signal or its memory budget) removes a build not yet
// switched in, and says whether one had been, so that the command's last line is true. In a
// child process each (a re-run of this binary: its own pid, so its own path): it holds the
// builds' lock until its process exits.
TEST(RouteDbDeathTest, AbandonSaysWhetherABuildWasSwitchedIn) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const std::string path =
      ::testing::TempDir() + "/stride_route_db_abandon_" + std::to_string(::getpid());
  fs::remove_all(path);
  EXPECT_EXIT(
      {
        Result<std::unique_ptr<RouteDbBuilder>> b = RouteDbBuilder::Create(path);
        if (!b.ok() || !(*b)->AddRoute(MakeRoute(1, 425'000'000, 15'000'000)).ok()) std::_Exit(9);
        const std::string build_dir = (*b)->build_dir();
        const bool switched = AbandonBuilds();
        std::_Exit(switched ? 3 : fs::exists(build_dir) || fs::exists(path) ? 5 : 4);
      },
      ::testing::ExitedWithCode(4), "");
  EXPECT_EXIT(
      {
        Result<std::unique_ptr<RouteDbBuilder>> b = RouteDbBuilder::Create(path);
        if (!b.ok() || !(*b)->AddRoute(MakeRoute(1, 425'000'000, 15'000'000)).ok() ||
            !(*b)->Commit({}).ok()) {
          std::_Exit(9);
        }
        const bool switched = AbandonBuilds();
        const bool kept = fs::exists(path + "/" + kTrailGraphFile);  // the committed one stays
        fs::remove_all(path);
        std::_Exit(switched && kept ? 3 : 4);
      },
      ::testing::ExitedWithCode(3), "");
}

// What imports that died left beside DIR (killed outright, or interrupted with a directory
// AbandonBuilds could not remove whole) goes at the next build; a live import's stays.
TEST(RouteDb, BuildsOfDeadImportsAreRemovedAndLiveOnesKept) {
  const std::string path =
      ::testing::TempDir() + "/stride_route_db_stale_" + std::to_string(::getpid());
  fs::remove_all(path);
  const pid_t child = ::fork();  // a process id that has just ended
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(0);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);
  const std::string dead = path + ".import-" + std::to_string(child);
  const std::string live = path + ".import-" + std::to_string(::getppid());
  for (const std::string& d : {dead, dead + ".interrupted", live, path + ".import-x"}) {
    fs::create_directories(d + "/sub");
  }
  {
    Result<std::unique_ptr<RouteDbBuilder>> b = RouteDbBuilder::Create(path);
    ASSERT_TRUE(b.ok()) << b.status().message();
  }
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_FALSE(fs::exists(dead + ".interrupted"));
  EXPECT_TRUE(fs::exists(live));                // its process runs
  EXPECT_TRUE(fs::exists(path + ".import-x"));  // not an import's name
  fs::remove_all(live);
  fs::remove_all(path + ".import-x");
}

}  // namespace
}  // namespace stride::index
