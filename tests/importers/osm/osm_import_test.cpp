// SPDX-License-Identifier: Apache-2.0
// Small hand-written OSM XML files with known answers: member ordering, reversed ways, gaps,
// loops, roles, super-routes, named trails, junction splitting, bad input.
#include "importers/osm/osm_import.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

#include "engine/geo/geodesy.hpp"
#include "engine/route/profile.hpp"
#include "engine/sha256.hpp"

namespace stride::importers {
namespace {

using engine::PointE7;

class CollectingSink : public engine::MapSink {
 public:
  Status AddRoute(const engine::Route& r) override {
    if (!routes.empty() && r.summary.id <= routes.back().summary.id) {
      return Status::Internal("route ids out of order");
    }
    routes.push_back(r);
    return Status::Ok();
  }
  Status AddEdge(const engine::TrailEdge& e) override {
    edges.push_back(e);
    return Status::Ok();
  }
  const engine::Route* Relation(uint64_t id) const {
    for (const auto& r : routes) {
      if (r.summary.id == engine::RouteIdForRelation(id)) return &r;
    }
    return nullptr;
  }
  std::vector<engine::Route> routes;
  std::vector<engine::TrailEdge> edges;
};

// Nodes on a grid: node k sits at (42.5 + row * 0.001, 1.5 + col * 0.001).
struct Osm {
  std::ostringstream nodes, ways, rels;
  std::map<int, PointE7> at;

  void Node(int id, int row, int col) {
    const PointE7 p{425'000'000 + row * 10'000, 15'000'000 + col * 10'000};
    at[id] = p;
    nodes << "  <node id=\"" << id << "\" version=\"1\" lat=\"" << p.lat * 1e-7 << "\" lon=\""
          << p.lon * 1e-7 << "\"/>\n";
  }
  void Way(int id, std::vector<int> refs, std::map<std::string, std::string> tags) {
    ways << "  <way id=\"" << id << "\" version=\"1\">\n";
    for (int r : refs) ways << "    <nd ref=\"" << r << "\"/>\n";
    for (auto& [k, v] : tags) ways << "    <tag k=\"" << k << "\" v=\"" << v << "\"/>\n";
    ways << "  </way>\n";
  }
  // members: "w12", "w13:alternative", "r5"
  void Relation(int id, std::vector<std::string> members, std::map<std::string, std::string> tags) {
    rels << "  <relation id=\"" << id << "\" version=\"1\">\n";
    for (const std::string& m : members) {
      const std::string type = m[0] == 'w' ? "way" : "relation";
      const size_t colon = m.find(':');
      const std::string ref =
          m.substr(1, colon == std::string::npos ? std::string::npos : colon - 1);
      const std::string role = colon == std::string::npos ? "" : m.substr(colon + 1);
      rels << "    <member type=\"" << type << "\" ref=\"" << ref << "\" role=\"" << role
           << "\"/>\n";
    }
    for (auto& [k, v] : tags) rels << "    <tag k=\"" << k << "\" v=\"" << v << "\"/>\n";
    rels << "  </relation>\n";
  }
  std::string Write(const std::string& name) const {
    const std::string path =
        ::testing::TempDir() + "/" + name + "_" + std::to_string(::getpid()) + ".osm";
    std::ofstream f(path);
    f.precision(10);
    f << "<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\" generator=\"test\">\n"
      << nodes.str() << ways.str() << rels.str() << "</osm>\n";
    return path;
  }
  double Len(std::vector<int> ids) const {
    double sum = 0;
    for (size_t i = 1; i < ids.size(); ++i) {
      const PointE7 a = at.at(ids[i - 1]), b = at.at(ids[i]);
      sum += engine::SegmentDistanceM(a.lat * 1e-7, a.lon * 1e-7, b.lat * 1e-7, b.lon * 1e-7);
    }
    return sum;
  }
};

const std::map<std::string, std::string> kPath = {{"highway", "path"}};
const std::map<std::string, std::string> kHiking = {{"type", "route"}, {"route", "hiking"}};

Result<OsmImportStats> Import(const std::string& path, CollectingSink& sink, int threads = 2) {
  OsmImportOptions o;
  o.inputs = {path};
  o.threads = threads;
  o.min_named_trail_m = 0;
  return ImportOsm(o, sink);
}

std::vector<PointE7> Points(const Osm& osm, std::vector<int> ids) {
  std::vector<PointE7> out;
  for (int id : ids) out.push_back(osm.at.at(id));
  return out;
}

bool SamePoints(const std::vector<PointE7>& a, const std::vector<PointE7>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].lat != b[i].lat || a[i].lon != b[i].lon) return false;
  }
  return true;
}

TEST(OsmImport, OrdersMembersAndTurnsReversedWays) {
  Osm osm;
  for (int i = 1; i <= 6; ++i) osm.Node(i, 0, i);
  osm.Way(11, {3, 2, 1}, kPath);  // first way points backwards
  osm.Way(12, {3, 4}, kPath);
  osm.Way(13, {6, 5, 4}, kPath);  // reversed
  osm.Relation(100, {"w11", "w12", "w13"}, kHiking);
  CollectingSink sink;
  Result<OsmImportStats> s = Import(osm.Write("order"), sink);
  ASSERT_TRUE(s.ok()) << s.status().message();
  const engine::Route* r = sink.Relation(100);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->geometry.part_starts.size(), 1u);
  EXPECT_TRUE(SamePoints(r->geometry.points, Points(osm, {1, 2, 3, 4, 5, 6})));
  EXPECT_NEAR(r->length_m, osm.Len({1, 2, 3, 4, 5, 6}), 1e-6);
  EXPECT_FALSE(r->summary.loop);
  EXPECT_EQ(r->member_ways, (std::vector<uint64_t>{11, 12, 13}));
  EXPECT_EQ(r->summary.start.lon, osm.at[1].lon);
}

TEST(OsmImport, ShuffledMembersStillFormOneLine) {
  Osm osm;
  for (int i = 1; i <= 7; ++i) osm.Node(i, i, 0);
  osm.Way(21, {5, 6, 7}, kPath);
  osm.Way(22, {1, 2, 3}, kPath);
  osm.Way(23, {3, 4, 5}, kPath);
  osm.Relation(101, {"w21", "w22", "w23"}, kHiking);
  CollectingSink sink;
  ASSERT_TRUE(Import(osm.Write("shuffled"), sink).ok());
  const engine::Route* r = sink.Relation(101);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->geometry.part_starts.size(), 1u);
  EXPECT_EQ(r->geometry.points.size(), 7u);
  EXPECT_NEAR(r->length_m, osm.Len({1, 2, 3, 4, 5, 6, 7}), 1e-6);
}

TEST(OsmImport, GapGivesTwoPartsAndMissingMembersAreCounted) {
  Osm osm;
  for (int i = 1; i <= 4; ++i) osm.Node(i, 0, i);
  for (int i = 5; i <= 6; ++i) osm.Node(i, 5, i);
  osm.Way(31, {1, 2, 3, 4}, kPath);
  osm.Way(32, {5, 6}, kPath);
  osm.Relation(102, {"w31", "w999", "w32"}, kHiking);  // w999 is not in the file
  CollectingSink sink;
  Result<OsmImportStats> s = Import(osm.Write("gap"), sink);
  ASSERT_TRUE(s.ok());
  const engine::Route* r = sink.Relation(102);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->geometry.part_starts, (std::vector<uint32_t>{0, 4}));
  EXPECT_NEAR(r->length_m, osm.Len({1, 2, 3, 4}) + osm.Len({5, 6}), 1e-6);
  EXPECT_EQ(r->missing_members, 1u);
  EXPECT_EQ(s->routes_with_gaps, 1u);
  EXPECT_EQ(s->missing_members, 1u);
}

TEST(OsmImport, RouteEndingWhereItStartsIsALoop) {
  Osm osm;
  osm.Node(1, 0, 0);
  osm.Node(2, 0, 5);
  osm.Node(3, 5, 5);
  osm.Node(4, 5, 0);
  osm.Way(41, {1, 2, 3}, kPath);
  osm.Way(42, {1, 4, 3}, kPath);  // runs back the other way
  osm.Relation(103, {"w41", "w42"}, kHiking);
  osm.Way(43, {1, 2}, kPath);
  osm.Relation(104, {"w43"}, kHiking);
  CollectingSink sink;
  Result<OsmImportStats> s = Import(osm.Write("loop"), sink);
  ASSERT_TRUE(s.ok());
  ASSERT_NE(sink.Relation(103), nullptr);
  EXPECT_TRUE(sink.Relation(103)->summary.loop);
  EXPECT_TRUE(SamePoints(sink.Relation(103)->geometry.points, Points(osm, {1, 2, 3, 4, 1})));
  EXPECT_FALSE(sink.Relation(104)->summary.loop);
  EXPECT_EQ(s->loops, 1u);
}

TEST(OsmImport, RolesAreKeptApartFromTheMainLine) {
  Osm osm;
  for (int i = 1; i <= 3; ++i) osm.Node(i, 0, i * 2);
  osm.Node(9, 2, 3);
  osm.Node(8, -3, 2);
  osm.Way(51, {1, 2}, kPath);
  osm.Way(52, {2, 3}, kPath);
  osm.Way(53, {2, 9, 3}, kPath);
  osm.Way(54, {8, 1}, kPath);
  osm.Relation(105, {"w54:approach", "w51", "w53:alternative", "w52"}, kHiking);
  CollectingSink sink;
  ASSERT_TRUE(Import(osm.Write("roles"), sink).ok());
  const engine::Route* r = sink.Relation(105);
  ASSERT_NE(r, nullptr);
  EXPECT_NEAR(r->length_m, osm.Len({1, 2, 3}), 1e-6);
  EXPECT_TRUE(SamePoints(r->geometry.points, Points(osm, {1, 2, 3})));
  ASSERT_EQ(r->branches.size(), 2u);
  EXPECT_EQ(r->branches[0].role, "approach");
  EXPECT_NEAR(r->branches[0].length_m, osm.Len({8, 1}), 1e-6);
  EXPECT_EQ(r->branches[1].role, "alternative");
  EXPECT_NEAR(r->branches[1].length_m, osm.Len({2, 9, 3}), 1e-6);
}

TEST(OsmImport, SuperRouteJoinsItsChildRoutes) {
  Osm osm;
  for (int i = 1; i <= 5; ++i) osm.Node(i, 0, i);
  osm.Way(61, {1, 2, 3}, kPath);
  osm.Way(62, {5, 4, 3}, kPath);
  osm.Relation(201, {"w61"}, kHiking);
  osm.Relation(202, {"w62"}, kHiking);
  auto super = kHiking;
  super["type"] = "superroute";
  super["name"] = "Long Way";
  osm.Relation(300, {"r201", "r202", "r404"}, super);  // r404 is not in the file
  osm.Relation(301, {"r300", "r301"}, kHiking);        // a cycle must not hang the import
  CollectingSink sink;
  Result<OsmImportStats> s = Import(osm.Write("super"), sink);
  ASSERT_TRUE(s.ok());
  const engine::Route* r = sink.Relation(300);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->name, "Long Way");
  EXPECT_EQ(r->member_relations, (std::vector<uint64_t>{201, 202, 404}));
  EXPECT_EQ(r->missing_members, 1u);
  EXPECT_EQ(r->geometry.part_starts.size(), 1u);
  EXPECT_NEAR(r->length_m, osm.Len({1, 2, 3, 4, 5}), 1e-6);
  ASSERT_NE(sink.Relation(301), nullptr);
  EXPECT_NEAR(sink.Relation(301)->length_m, osm.Len({1, 2, 3, 4, 5}), 1e-6);
  EXPECT_NE(sink.Relation(201), nullptr);  // children stay routes of their own
  EXPECT_EQ(s->super_routes, 2u);
}

TEST(OsmImport, NamedTrailsJoinConnectedWaysOfOneName) {
  Osm osm;
  for (int i = 1; i <= 4; ++i) osm.Node(i, 0, i);
  for (int i = 5; i <= 6; ++i) osm.Node(i, 9, i);
  auto named = kPath;
  named["name"] = "Cami Ral";
  osm.Way(73, {4, 3}, named);  // reversed, listed first
  osm.Way(71, {1, 2, 3}, named);
  osm.Way(72, {5, 6}, named);  // same name, not connected: a trail of its own
  auto road = named;
  road["highway"] = "motorway";  // not walkable, not a trail
  osm.Way(74, {4, 5}, road);
  CollectingSink sink;
  Result<OsmImportStats> s = Import(osm.Write("trails"), sink);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(sink.routes.size(), 2u);
  const engine::Route& a = sink.routes[0];
  EXPECT_EQ(a.summary.id, engine::RouteIdForNamedTrail(71));
  EXPECT_EQ(a.summary.type, engine::RouteType::kNamedTrail);
  EXPECT_EQ(a.name, "Cami Ral");
  EXPECT_EQ(a.geometry.part_starts.size(), 1u);
  EXPECT_NEAR(a.length_m, osm.Len({1, 2, 3, 4}), 1e-6);
  EXPECT_EQ(a.summary.surface, engine::Surface::kUnpaved);  // path implies unpaved
  EXPECT_EQ(sink.routes[1].summary.id, engine::RouteIdForNamedTrail(72));
  EXPECT_EQ(s->named_trails, 2u);
}

TEST(OsmImport, TrailGraphSplitsAtJunctionsOnly) {
  Osm osm;
  for (int i = 1; i <= 3; ++i) osm.Node(i, 0, i);
  osm.Node(4, -1, 2);
  osm.Node(5, 1, 2);
  osm.Node(6, 0, 4);
  osm.Way(81, {1, 2, 3, 6}, {{"highway", "footway"}});
  osm.Way(82, {4, 2, 5}, {{"highway", "residential"}});
  osm.Way(83, {6, 5}, {{"highway", "primary"}, {"foot", "no"}});
  osm.Way(84, {1, 4}, {{"highway", "motorway"}});
  osm.Way(85, {3, 5}, {{"highway", "cycleway"}});  // no foot access
  osm.Way(86, {3, 4}, {{"highway", "cycleway"}, {"foot", "designated"}});
  CollectingSink sink;
  Result<OsmImportStats> s = Import(osm.Write("graph"), sink);
  ASSERT_TRUE(s.ok());
  // 81 splits at 2 and 3 (3 is shared with 86); 82 at 2; 86 is one edge.
  ASSERT_EQ(sink.edges.size(), 6u);
  EXPECT_EQ(s->walkable_ways, 3u);
  EXPECT_EQ(sink.edges[0].way_id, 81u);
  EXPECT_EQ(sink.edges[0].from_node, 1u);
  EXPECT_EQ(sink.edges[0].to_node, 2u);
  EXPECT_EQ(sink.edges[1].from_node, 2u);
  EXPECT_EQ(sink.edges[1].to_node, 3u);
  EXPECT_EQ(sink.edges[2].to_node, 6u);
  EXPECT_NEAR(sink.edges[2].length_m, osm.Len({3, 6}), 1e-6);
  EXPECT_EQ(sink.edges[3].way_id, 82u);
  EXPECT_EQ(sink.edges[3].to_node, 2u);
  EXPECT_EQ(sink.edges[4].way_id, 82u);
  EXPECT_EQ(sink.edges[5].way_id, 86u);
  EXPECT_EQ(sink.edges[5].foot, 2u);
  for (size_t i = 0; i < sink.edges.size(); ++i) EXPECT_EQ(sink.edges[i].id, i + 1);
}

// The trail graph pass gives the store's node lists back behind it as it goes (in chunks of
// 2,048 ways): on 7,000 ways, every edge still has its way's nodes and their places, to the
// last way (a page given back too early would read as node 0 at 0,0).
TEST(OsmImport, EveryWayKeepsItsNodesWhileTheStoreIsGivenBack) {
  Osm osm;
  constexpr int kWays = 7000;
  for (int i = 0; i < kWays; ++i) {
    for (int k = 0; k < 3; ++k) osm.Node(i * 3 + k + 1, i / 100 * 4 + k, i % 100 * 3);
    osm.Way(10'000 + i, {i * 3 + 1, i * 3 + 2, i * 3 + 3}, kPath);
  }
  CollectingSink sink;
  Result<OsmImportStats> s = Import(osm.Write("release"), sink);
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_EQ(sink.edges.size(), static_cast<size_t>(kWays));  // no junctions: one edge a way
  int wrong = 0;
  for (int i = 0; i < kWays; ++i) {
    const engine::TrailEdge& e = sink.edges[i];
    const bool right = e.way_id == static_cast<uint64_t>(10'000 + i) &&
                       e.from_node == static_cast<uint64_t>(i * 3 + 1) &&
                       e.to_node == static_cast<uint64_t>(i * 3 + 3) &&
                       SamePoints(e.points, Points(osm, {i * 3 + 1, i * 3 + 2, i * 3 + 3}));
    if (!right && wrong++ < 3) ADD_FAILURE() << "way " << 10'000 + i << " edge " << e.id;
  }
  EXPECT_EQ(wrong, 0);
}

// 7,000 separate named paths: 7,000 named trails and 7,000 edges, more than one chunk of each
// (routes are built 4,096 at a time, edges 2,048 at a time, the next chunk while the sink
// takes the one before when there are several threads).
std::string ManyNamedPaths(const std::string& name) {
  Osm osm;
  for (int i = 0; i < 7000; ++i) {
    for (int k = 0; k < 3; ++k) osm.Node(i * 3 + k + 1, i / 100 * 4 + k, i % 100 * 3);
    auto tags = kPath;
    tags["name"] = "Path " + std::to_string(i);
    osm.Way(10'000 + i, {i * 3 + 1, i * 3 + 2, i * 3 + 3}, tags);
  }
  return osm.Write(name);
}

TEST(OsmImport, ChunksBuiltWhileTheSinkTakesThePreviousComeInOrder) {
  const std::string path = ManyNamedPaths("pipelined");
  CollectingSink one, three;
  ASSERT_TRUE(Import(path, one, 1).ok());
  ASSERT_TRUE(Import(path, three, 3).ok());
  ASSERT_EQ(one.routes.size(), 7000u);
  ASSERT_EQ(three.routes.size(), 7000u);
  ASSERT_EQ(one.edges.size(), 7000u);
  ASSERT_EQ(three.edges.size(), 7000u);
  int wrong = 0;
  for (size_t i = 0; i < 7000; ++i) {
    const bool right = three.routes[i].summary.id == one.routes[i].summary.id &&
                       three.routes[i].name == "Path " + std::to_string(i) &&
                       SamePoints(three.routes[i].geometry.points, one.routes[i].geometry.points) &&
                       three.edges[i].id == i + 1 && three.edges[i].way_id == 10'000 + i &&
                       SamePoints(three.edges[i].points, one.edges[i].points);
    if (!right && wrong++ < 3) ADD_FAILURE() << "route or edge " << i;
  }
  EXPECT_EQ(wrong, 0);
}

// A sink that fails: its error is the import's, and nothing reaches it after the failure
// (the chunk being built when it failed is dropped once built).
class FailingSink : public CollectingSink {
 public:
  FailingSink(size_t fail_route, size_t fail_edge)
      : fail_route_(fail_route), fail_edge_(fail_edge) {}
  Status AddRoute(const engine::Route& r) override {
    if (failed_) ++after_failure;
    if (routes.size() + 1 == fail_route_)
      return failed_ = true, Status::IoError("disk full at a route");
    return CollectingSink::AddRoute(r);
  }
  Status AddEdge(const engine::TrailEdge& e) override {
    if (failed_) ++after_failure;
    if (edges.size() + 1 == fail_edge_)
      return failed_ = true, Status::IoError("disk full at an edge");
    return CollectingSink::AddEdge(e);
  }
  int after_failure = 0;

 private:
  size_t fail_route_, fail_edge_;
  bool failed_ = false;
};

TEST(OsmImport, ASinkFailingMidwayStopsTheImportWithItsError) {
  const std::string path = ManyNamedPaths("failing");
  for (int threads : {1, 3}) {
    FailingSink routes(3000, 0);  // in the first chunk of routes, the second in flight
    Result<OsmImportStats> r = Import(path, routes, threads);
    ASSERT_FALSE(r.ok()) << threads;
    EXPECT_EQ(r.status().message(), "disk full at a route");
    EXPECT_EQ(routes.routes.size(), 2999u);
    EXPECT_TRUE(routes.edges.empty());
    EXPECT_EQ(routes.after_failure, 0);

    FailingSink edges(0, 5000);  // in the third chunk of edges, the fourth in flight
    r = Import(path, edges, threads);
    ASSERT_FALSE(r.ok()) << threads;
    EXPECT_EQ(r.status().message(), "disk full at an edge");
    EXPECT_EQ(edges.routes.size(), 7000u);
    EXPECT_EQ(edges.edges.size(), 4999u);
    EXPECT_EQ(edges.after_failure, 0);
  }
}

// Paths in a zigzag, two of three named, four of them a hiking route.
void SmallNetwork(Osm* osm) {
  for (int i = 1; i <= 30; ++i) osm->Node(i, i % 5, i);
  auto named = kPath;
  named["name"] = "Senda";
  for (int i = 1; i < 29; i += 2) osm->Way(100 + i, {i, i + 1, i + 2}, i % 3 ? named : kPath);
  osm->Relation(900, {"w101", "w103", "w105", "w109"}, kHiking);
}

TEST(OsmImport, SameInputSameResultWhateverTheThreads) {
  Osm osm;
  SmallNetwork(&osm);
  const std::string path = osm.Write("threads");
  CollectingSink one, many;
  ASSERT_TRUE(Import(path, one, 1).ok());
  ASSERT_TRUE(Import(path, many, 8).ok());
  ASSERT_EQ(one.routes.size(), many.routes.size());
  for (size_t i = 0; i < one.routes.size(); ++i) {
    EXPECT_EQ(one.routes[i].summary.id, many.routes[i].summary.id);
    EXPECT_TRUE(SamePoints(one.routes[i].geometry.points, many.routes[i].geometry.points));
  }
  EXPECT_EQ(one.edges.size(), many.edges.size());
}

TEST(OsmImport, BadInputsGiveClearErrors) {
  CollectingSink sink;
  OsmImportOptions o;
  o.inputs = {"/nonexistent/x.osm.pbf"};
  Result<OsmImportStats> s = ImportOsm(o, sink);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kNotFound);
  EXPECT_NE(s.status().message().find("/nonexistent/x.osm.pbf"), std::string::npos);

  const std::string text = ::testing::TempDir() + "/not_osm.osm.pbf";
  std::ofstream(text) << "hello, this is not OpenStreetMap data\n";
  o.inputs = {text};
  s = ImportOsm(o, sink);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("not an OSM file"), std::string::npos);

  const std::string bad_xml = ::testing::TempDir() + "/broken.osm";
  std::ofstream(bad_xml) << "<?xml version='1.0'?>\n<osm version=\"0.6\">\n<node id=\"1\" lat=";
  o.inputs = {bad_xml};
  s = ImportOsm(o, sink);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("broken.osm"), std::string::npos);
  EXPECT_TRUE(sink.routes.empty());
}

TEST(OsmImport, AFileChecksumIsTheDigestOfItsBytesWhateverItsSize) {
  // Empty, shorter than a read, and over a read of 1 MiB by a part: one SHA-256 of the bytes.
  for (const size_t size : {size_t{0}, size_t{1000}, (size_t{1} << 20) * 2 + 12345}) {
    std::string bytes(size, '\0');
    for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 131 + i / 7) & 0xFF);
    const std::string path = ::testing::TempDir() + "/stride_sha_" + std::to_string(::getpid());
    std::ofstream(path, std::ios::binary) << bytes;
    const Result<std::string> sha = Sha256File(path);
    ASSERT_TRUE(sha.ok()) << sha.status().message();
    EXPECT_EQ(*sha, engine::Sha256Hex(bytes)) << size << " bytes";
    std::filesystem::remove(path);
  }
  EXPECT_EQ(Sha256File("/nonexistent/stride.osm").status().code(), StatusCode::kNotFound);
}

TEST(OsmImport, BytesInMemoryGiveWhatTheirFileGives) {
  Osm osm;
  SmallNetwork(&osm);
  const std::string path = osm.Write("bytes");
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

  CollectingSink from_file, from_bytes;
  const Result<OsmImportStats> file_stats = Import(path, from_file);
  OsmImportOptions o;
  o.input_bytes = {{"in-memory.osm", bytes}};
  o.threads = 2;
  o.min_named_trail_m = 0;
  const Result<OsmImportStats> bytes_stats = ImportOsm(o, from_bytes);
  ASSERT_TRUE(file_stats.ok() && bytes_stats.ok()) << bytes_stats.status().message();
  ASSERT_FALSE(from_file.routes.empty());
  ASSERT_EQ(from_file.routes.size(), from_bytes.routes.size());
  for (size_t i = 0; i < from_file.routes.size(); ++i) {
    EXPECT_EQ(from_file.routes[i].summary.id, from_bytes.routes[i].summary.id);
    EXPECT_TRUE(
        SamePoints(from_file.routes[i].geometry.points, from_bytes.routes[i].geometry.points));
  }
  ASSERT_FALSE(from_file.edges.empty());
  ASSERT_EQ(from_file.edges.size(), from_bytes.edges.size());
  for (size_t i = 0; i < from_file.edges.size(); ++i) {
    EXPECT_EQ(from_file.edges[i].id, from_bytes.edges[i].id);
    EXPECT_TRUE(SamePoints(from_file.edges[i].points, from_bytes.edges[i].points));
  }
  // The manifest names the bytes and holds what a file of them would.
  const OsmSourceManifest& f = file_stats->sources.at(0);
  const OsmSourceManifest& b = bytes_stats->sources.at(0);
  EXPECT_EQ(b.path, "in-memory.osm");
  EXPECT_EQ(b.format, "osm");
  EXPECT_EQ(b.size_bytes, f.size_bytes);
  EXPECT_EQ(b.sha256, f.sha256);
  EXPECT_EQ(b.generator, "test");

  // Errors name the bytes as they would a file.
  const std::string hello = "hello, this is not OpenStreetMap data";
  o.input_bytes = {{"hello.osm", hello}};
  CollectingSink none;
  Result<OsmImportStats> s = ImportOsm(o, none);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.status().message().rfind("hello.osm: not an OSM file", 0), 0u)
      << s.status().message();
  const std::string cut = bytes.substr(0, bytes.size() / 2);
  o.input_bytes = {{"cut.osm", cut}};
  s = ImportOsm(o, none);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message().rfind("cut.osm: cannot read OSM data", 0), 0u)
      << s.status().message();
}

// A pass over the input says how far it is: the share of the input's bytes read, rising to the
// end, and the time left at its rate.
TEST(OsmImportProgress, TheNodesAndWaysPassReportsItsShareOfTheInputAndTheTimeLeft) {
  const std::string path =
      ::testing::TempDir() + "/stride_progress_" + std::to_string(::getpid()) + ".osm";
  {
    std::ofstream f(path);
    f << "<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\">\n";
    for (int id = 1; id <= 120000; ++id) {
      f << "  <node id=\"" << id << "\" version=\"1\" lat=\"" << 42.5 + (id / 400) * 1e-4
        << "\" lon=\"" << 1.5 + (id % 400) * 1e-4 << "\"/>\n";
    }
    for (int w = 0; w < 12000; ++w) {
      f << "  <way id=\"" << w + 1 << "\" version=\"1\">\n";
      for (int k = 1; k <= 10; ++k) f << "    <nd ref=\"" << w * 10 + k << "\"/>\n";
      f << "    <tag k=\"highway\" v=\"path\"/>\n  </way>\n";
    }
    f << "</osm>\n";
  }
  std::vector<ImportProgress> seen;
  OsmImportOptions o;
  o.inputs = {path};
  o.progress_interval_s = 0;  // every report the pass makes
  o.on_progress = [&](const ImportProgress& p) {
    if (p.phase == "nodes+ways") seen.push_back(p);
  };
  CollectingSink sink;
  Result<OsmImportStats> s = ImportOsm(o, sink);
  std::filesystem::remove(path);
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_GE(seen.size(), 4u);  // 132,000 objects: a report every 16,384
  EXPECT_TRUE(seen.back().phase_done);
  double last = 0;
  for (size_t i = 0; i + 1 < seen.size(); ++i) {
    const ImportProgress& p = seen[i];
    EXPECT_FALSE(p.phase_done);
    EXPECT_GT(p.fraction, 0) << i;
    EXPECT_LE(p.fraction, 1) << i;
    EXPECT_GE(p.fraction, last) << i;  // never goes back
    EXPECT_GE(p.eta_s, 0) << i;
    last = p.fraction;
  }
  // Read ahead of the objects handled, the share is past a third by the last report.
  EXPECT_GT(last, 0.33);
}

}  // namespace
}  // namespace stride::importers
