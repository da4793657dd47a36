// SPDX-License-Identifier: Apache-2.0
// `stride update` on real change files: the two Andorra extracts (2013, 2021) and the two Monaco
// ones (2012, 2026) give real diffs (Debian's osmium-tool, `osmium derive-changes`); applying
// them to the older import must give what a fresh import of the newer extract gives, route by
// route (every stored record, byte for byte) and edge by edge (the routable trail graph, byte
// for byte); in one step or in several; the same diff again, or one older than the data, is
// refused and changes nothing; a running server picks the update up without a restart. And
// generated maps edited at random (names, deletions, moved nodes, a new path, a renamed
// relation), their diffs split into random batches applied one after another.
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <osmium/builder/attr.hpp>
#include <osmium/io/any_input.hpp>
#include <osmium/io/any_output.hpp>
#include <osmium/io/reader.hpp>
#include <osmium/io/writer.hpp>
#include <osmium/osm/object.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "datasets/synthetic_osm.hpp"
#include "engine/trail/graph.hpp"
#include "engine/trail/hierarchy.hpp"
#include "engine/trail/router.hpp"
#include "index/store/route_db.hpp"
#include "tests/support/cli.hpp"
#include "tests/support/datasets.hpp"
#include "tests/support/running_server.hpp"

namespace stride {
namespace {

namespace fs = std::filesystem;
using testing::CliRun;
using testing::Stride;

constexpr const char* kOsmium = "/usr/bin/osmium";

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every route record (id → bytes) of a database.
std::map<uint64_t, std::string> Records(const std::string& db) {
  std::map<uint64_t, std::string> out;
  Result<std::unique_ptr<index::RouteDb>> d = index::RouteDb::Open(db);
  EXPECT_TRUE(d.ok()) << d.status().message();
  if (!d.ok()) return out;
  EXPECT_TRUE((*d)->ForEachRouteRecord([&](uint64_t id, std::string_view bytes) {
                    out.emplace(id, std::string(bytes));
                  })
                  .ok());
  return out;
}

nlohmann::json Meta(const std::string& db, const std::string& key) {
  Result<std::unique_ptr<index::RouteDb>> d = index::RouteDb::Open(db);
  if (!d.ok()) return nullptr;
  Result<std::string> v = (*d)->GetMeta(key);
  return v.ok() ? nlohmann::json::parse(*v) : nlohmann::json(nullptr);
}

class UpdateCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("stride_update_cli_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static bool HaveOsmium() { return ::access(kOsmium, X_OK) == 0; }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  // osmium derive-changes OLD NEW -o OUT
  void Derive(const std::string& from, const std::string& to, const std::string& out) {
    const std::string cmd = std::string(kOsmium) + " derive-changes --overwrite " + from + " " +
                            to + " -o " + out + " 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  void Import(const std::string& osm, const std::string& db, bool updatable) {
    const CliRun r =
        Stride("import --quiet" + std::string(updatable ? " --updatable" : "") + " --osm " + osm +
               " --dem " + testing::DatasetsDir() + "/dem --db " + db);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // The two databases hold the same routes and the same trail graph: byte for byte, or, when
  // the update contracted its hierarchy in the order of the one it replaced (not the one a
  // fresh import computes), the same network byte for byte and a hierarchy that answers the
  // fresh one's costs (and A*'s, on the same graph without a hierarchy) on random pairs.
  void ExpectSameDatabase(const std::string& updated, const std::string& fresh) {
    const auto a = Records(updated), b = Records(fresh);
    ASSERT_FALSE(b.empty());
    EXPECT_EQ(a.size(), b.size());
    size_t differing = 0;
    for (const auto& [id, bytes] : b) {
      auto it = a.find(id);
      if (it == a.end() || it->second != bytes) ++differing;
    }
    EXPECT_EQ(differing, 0u) << "of " << b.size() << " routes";
    const std::string updated_graph = ReadFile(fs::path(updated) / "trail.graph");
    const std::string fresh_graph = ReadFile(fs::path(fresh) / "trail.graph");
    if (Meta(updated, "import")["hierarchy"] == "inherited") {
      ExpectSameNetworkAndCosts(updated_graph, fresh_graph);
    } else {
      EXPECT_TRUE(updated_graph == fresh_graph) << "the trail graphs differ";
    }
    EXPECT_EQ(Meta(updated, "counts"), Meta(fresh, "counts"));
    EXPECT_EQ(Stride("inspect --db " + updated + " --list").out,
              Stride("inspect --db " + fresh + " --list").out);
  }

  // A generated map of 20,000 nodes (datasets/synthetic_osm.hpp) written to `osm`.
  static Status GenerateMap(const std::string& osm, uint64_t seed) {
    datasets::SyntheticOsmOptions go;
    go.target_nodes = 20000;
    go.seed = seed;
    return datasets::WriteSyntheticOsm(osm, go).status();
  }

  static void ExpectSameNetworkAndCosts(const std::string& updated_bytes,
                                        const std::string& fresh_bytes) {
    using engine::trail::TrailGraph;
    Result<TrailGraph> updated = TrailGraph::Parse(updated_bytes);
    Result<TrailGraph> fresh = TrailGraph::Parse(fresh_bytes);
    ASSERT_TRUE(updated.ok()) << updated.status().message();
    ASSERT_TRUE(fresh.ok()) << fresh.status().message();
    ASSERT_TRUE(updated->hierarchy && fresh->hierarchy);
    auto network = [](const TrailGraph& g) {
      std::string bytes;
      g.SerializeNetworkTo([&](std::string_view b) { bytes.append(b); });
      return bytes;
    };
    EXPECT_TRUE(network(*updated) == network(*fresh)) << "the trail networks differ";
    TrailGraph plain = *updated;
    plain.hierarchy.reset();
    const std::vector<uint32_t> edges = fresh->LargestComponentEdges();
    ASSERT_GT(edges.size(), 100u);
    std::mt19937_64 rng(17);
    auto draw = [&] {
      engine::trail::Snap s;
      s.edge = edges[rng() % edges.size()];
      s.offset_m = fresh->edges[s.edge].length_m * static_cast<double>(rng() % 1000) / 1000;
      s.point = fresh->PointAt(s.edge, s.offset_m);
      return s;
    };
    const engine::trail::FootOptions defaults;
    int compared = 0;
    for (int i = 0; i < 300; ++i) {
      const engine::trail::Snap a = draw(), b = draw();
      Result<engine::trail::Path> want = engine::trail::ShortestPath(*fresh, a, b, defaults);
      Result<engine::trail::Path> got = engine::trail::ShortestPath(*updated, a, b, defaults);
      Result<engine::trail::Path> astar = engine::trail::ShortestPath(plain, a, b, defaults);
      ASSERT_EQ(got.ok(), want.ok()) << "pair " << i;
      ASSERT_EQ(astar.ok(), want.ok()) << "pair " << i;
      if (!want.ok()) continue;
      EXPECT_NEAR(got->cost, want->cost, 1e-9 * want->cost + 1e-9) << "pair " << i;
      EXPECT_NEAR(astar->cost, want->cost, 1e-9 * want->cost + 1e-9) << "pair " << i;
      ++compared;
    }
    EXPECT_GT(compared, 250);
  }

  fs::path dir_;
};

#define REQUIRE_OSMIUM()                                                                     \
  do {                                                                                       \
    STRIDE_REQUIRE_DATASETS();                                                               \
    if (!HaveOsmium()) GTEST_SKIP() << "no " << kOsmium << " (scripts/deps.sh installs it)"; \
  } while (0)

TEST_F(UpdateCli, AndorraEightYearsOfChangesGiveWhatAFreshImportGives) {
  REQUIRE_OSMIUM();
  const std::string old_osm = testing::DatasetsDir() + "/osm/andorra-2013-05-28.osm.pbf";
  const std::string new_osm = testing::DatasetsDir() + "/osm/andorra-2021-10-28.osm.pbf";
  Derive(old_osm, new_osm, Path("andorra.osc.gz"));
  Import(old_osm, Path("db"), true);
  Import(new_osm, Path("fresh"), false);
  const size_t before = Records(Path("db")).size();

  const CliRun r = Stride("update --db " + Path("db") + " --osc " + Path("andorra.osc.gz"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("rebuilt with 149 routes"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("objects created"), std::string::npos) << r.err;
  EXPECT_NE(Records(Path("db")).size(), before);
  ExpectSameDatabase(Path("db"), Path("fresh"));
  // What was applied, recorded.
  const nlohmann::json u = Meta(Path("db"), "update");
  ASSERT_EQ(u["applied"].size(), 1u) << u;
  EXPECT_EQ(u["applied"][0]["file"], "andorra.osc.gz");
  EXPECT_GT(u["applied"][0]["created"].get<int>(), 0);
  EXPECT_GT(u["applied"][0]["deleted"].get<int>(), 0);
  EXPECT_EQ(u["timestamp"].get<std::string>().substr(0, 10), "2021-10-28");
  // And what an operator reads.
  const std::string inspect = Stride("inspect --db " + Path("db")).out;
  EXPECT_NE(inspect.find("updatable: 1 change file(s) applied, the last andorra.osc.gz"),
            std::string::npos)
      << inspect;
  EXPECT_NE(inspect.find("source " + Path("db") + "/update/source.osm.pbf"), std::string::npos)
      << inspect;
}

TEST_F(UpdateCli, MonacoInTwoStepsWithStatesGivesWhatAFreshImportGives) {
  REQUIRE_OSMIUM();
  const std::string old_osm = testing::DatasetsDir() + "/osm/monaco-2012-07.osm.gz";
  const std::string new_osm = testing::DatasetsDir() + "/osm/monaco-2026-03-09.osm.pbf";
  Derive(old_osm, new_osm, Path("monaco.osc"));
  // Two diffs from one: nodes first, then ways and relations (the second needs the first).
  {
    osmium::io::Reader in{Path("monaco.osc")};
    osmium::io::Header h;
    osmium::io::Writer first{Path("1.osc.gz"), h}, second{Path("2.osc.gz"), h};
    while (osmium::memory::Buffer b = in.read()) {
      for (const osmium::OSMObject& o : b.select<osmium::OSMObject>()) {
        if (o.type() == osmium::item_type::node) {
          first(o);
        } else {
          second(o);
        }
      }
    }
    first.close();
    second.close();
    in.close();
  }
  std::ofstream(Path("state1.txt"))
      << "#Thu\nsequenceNumber=101\ntimestamp=2026-03-09T20\\:00\\:00Z\n";
  std::ofstream(Path("state2.txt")) << "sequenceNumber=102\ntimestamp=2026-03-09T21\\:00\\:00Z\n";
  Import(old_osm, Path("db"), true);
  Import(new_osm, Path("fresh"), false);

  CliRun r = Stride("update --quiet --db " + Path("db") + " --osc " + Path("1.osc.gz") +
                    " --state " + Path("state1.txt"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Meta(Path("db"), "update")["sequence"], 101);
  // A state not after the recorded one: refused, nothing changed.
  const std::string list = Stride("inspect --db " + Path("db") + " --list").out;
  r = Stride("update --quiet --db " + Path("db") + " --osc " + Path("2.osc.gz") + " --state " +
             Path("state1.txt"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("sequence 101 is not after the database's 101"), std::string::npos) << r.err;
  EXPECT_EQ(Stride("inspect --db " + Path("db") + " --list").out, list);

  r = Stride("update --quiet --db " + Path("db") + " --osc " + Path("2.osc.gz") + " --state " +
             Path("state2.txt"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json u = Meta(Path("db"), "update");
  EXPECT_EQ(u["sequence"], 102);
  EXPECT_EQ(u["timestamp"], "2026-03-09T21:00:00Z");
  EXPECT_EQ(u["applied"].size(), 2u);
  ExpectSameDatabase(Path("db"), Path("fresh"));
}

// `from` with random edits (seeded), each a new version at a later time: some ways renamed,
// some deleted, some nodes moved, a relation renamed, and a new named path.
// An object's tags, to be written again (changed or not) with the attribute builder.
std::vector<std::pair<std::string, std::string>> TagsOf(const osmium::OSMObject& o) {
  std::vector<std::pair<std::string, std::string>> t;
  for (const osmium::Tag& tag : o.tags()) t.emplace_back(tag.key(), tag.value());
  return t;
}

// `move`, `remove` and `rename`: the shares of nodes moved, and of ways deleted and renamed.
void Mutate(const std::string& from, const std::string& to, uint64_t seed, double move = 0.03,
            double remove = 0.02, double rename = 0.05, const char* when = "2026-06-01T00:00:00Z",
            double path_shift = 0) {
  using namespace osmium::builder::attr;  // NOLINT: the attribute builder's vocabulary
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  const osmium::Timestamp later(when);
  osmium::io::Reader in{from};
  osmium::io::Writer out{to, in.header(), osmium::io::overwrite::allow};
  osmium::memory::Buffer buffer{1 << 16, osmium::memory::Buffer::auto_grow::yes};
  auto flush = [&] {
    out(std::move(buffer));
    buffer = osmium::memory::Buffer{1 << 16, osmium::memory::Buffer::auto_grow::yes};
  };
  osmium::object_id_type max_node = 0, max_way = 0;
  bool nodes_added = false, way_added = false, relation_renamed = false;
  // The new path: 20 nodes in a line inside the map, and a way through them.
  auto add_nodes = [&] {
    for (int i = 1; i <= 20; ++i) {
      osmium::builder::add_node(
          buffer, _id(max_node + i), _version(1), _timestamp(later),
          _location(osmium::Location(6.31 + path_shift + i * 0.0005, 45.61 + i * 0.0001)));
    }
    nodes_added = true;
  };
  auto add_way = [&] {
    std::vector<osmium::object_id_type> refs;
    for (int i = 1; i <= 20; ++i) refs.push_back(max_node + i);
    const std::vector<std::pair<std::string, std::string>> tags = {
        {"highway", "path"}, {"name", "Sentier neuf " + std::to_string(seed)}};
    osmium::builder::add_way(buffer, _id(max_way + 1), _version(1), _timestamp(later), _nodes(refs),
                             _tags(tags));
    way_added = true;
  };
  while (osmium::memory::Buffer b = in.read()) {
    for (const osmium::OSMObject& o : b.select<osmium::OSMObject>()) {
      const double r = u(rng);
      if (o.type() == osmium::item_type::node) {
        const auto& n = static_cast<const osmium::Node&>(o);
        max_node = std::max(max_node, n.id());
        if (r < move) {  // moved by a few metres
          const osmium::Location moved(n.location().lon() + 3e-5, n.location().lat() - 2e-5);
          osmium::builder::add_node(buffer, _id(n.id()), _version(n.version() + 1),
                                    _timestamp(later), _location(moved), _tags(TagsOf(n)));
        } else {
          buffer.add_item(n);
          buffer.commit();
        }
        continue;
      }
      if (!nodes_added) add_nodes();
      if (o.type() == osmium::item_type::way) {
        const auto& w = static_cast<const osmium::Way&>(o);
        max_way = std::max(max_way, w.id());
        if (r < remove) continue;  // deleted
        std::vector<osmium::object_id_type> refs;
        for (const osmium::NodeRef& nr : w.nodes()) refs.push_back(nr.ref());
        if (r < remove + rename) {  // renamed
          auto tags = TagsOf(w);
          bool named = false;
          for (auto& [k, v] : tags) {
            if (k == "name") {
              v += " (renamed)";
              named = true;
            }
          }
          if (!named) tags.emplace_back("name", "Chemin " + std::to_string(w.id()));
          osmium::builder::add_way(buffer, _id(w.id()), _version(w.version() + 1),
                                   _timestamp(later), _nodes(refs), _tags(tags));
        } else {
          buffer.add_item(w);
          buffer.commit();
        }
        continue;
      }
      if (!way_added) add_way();
      const auto& rel = static_cast<const osmium::Relation&>(o);
      if (!relation_renamed) {
        std::vector<member_type> members;
        for (const osmium::RelationMember& m : rel.members()) {
          members.emplace_back(m.type(), m.ref(), m.role());
        }
        auto tags = TagsOf(rel);
        for (auto& [k, v] : tags) {
          if (k == "name") v = "Renamed route " + std::to_string(seed);
        }
        osmium::builder::add_relation(buffer, _id(rel.id()), _version(rel.version() + 1),
                                      _timestamp(later), _members(members.begin(), members.end()),
                                      _tags(tags));
        relation_renamed = true;
      } else {
        buffer.add_item(rel);
        buffer.commit();
      }
    }
    flush();
  }
  if (!nodes_added) add_nodes();
  if (!way_added) add_way();
  flush();
  out.close();
  in.close();
}

// The objects of `osc` dealt at random into `k` change files, in their order.
std::vector<std::string> Deal(const std::string& osc, size_t k, uint64_t seed,
                              const std::string& prefix) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> paths;
  std::vector<std::unique_ptr<osmium::io::Writer>> out;
  for (size_t i = 0; i < k; ++i) {
    paths.push_back(prefix + std::to_string(i + 1) + ".osc.gz");
    out.push_back(std::make_unique<osmium::io::Writer>(paths.back(), osmium::io::Header{},
                                                       osmium::io::overwrite::allow));
  }
  osmium::io::Reader in{osc};
  while (osmium::memory::Buffer b = in.read()) {
    for (const osmium::OSMObject& o : b.select<osmium::OSMObject>()) (*out[rng() % k])(o);
  }
  for (auto& w : out) w->close();
  in.close();
  return paths;
}

TEST_F(UpdateCli, GeneratedMapsEditedAtRandomAndAppliedInRandomBatches) {
  if (!HaveOsmium()) GTEST_SKIP() << "no " << kOsmium << " (scripts/deps.sh installs it)";
  for (uint64_t seed : {1, 2}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const std::string tag = std::to_string(seed);
    ASSERT_TRUE(GenerateMap(Path("map" + tag + ".osm.pbf"), seed).ok());
    Mutate(Path("map" + tag + ".osm.pbf"), Path("edited" + tag + ".osm.pbf"), seed);
    Derive(Path("map" + tag + ".osm.pbf"), Path("edited" + tag + ".osm.pbf"),
           Path("diff" + tag + ".osc"));
    ASSERT_EQ(Stride("import --quiet --updatable --osm " + Path("map" + tag + ".osm.pbf") +
                     " --db " + Path("db" + tag))
                  .exit_code,
              0);
    ASSERT_EQ(Stride("import --quiet --osm " + Path("edited" + tag + ".osm.pbf") + " --db " +
                     Path("fresh" + tag))
                  .exit_code,
              0);
    ASSERT_NE(Records(Path("db" + tag)), Records(Path("fresh" + tag)));  // the edits show
    const size_t k = 2 + seed;                                           // 3 and 4 batches
    const std::vector<std::string> batches =
        Deal(Path("diff" + tag + ".osc"), k, seed, Path("batch" + tag + "-"));
    for (size_t i = 0; i < batches.size(); ++i) {
      const std::string state = Path("state" + tag + "-" + std::to_string(i + 1) + ".txt");
      std::ofstream(state) << "sequenceNumber=" << i + 1 << "\ntimestamp=2026-06-01T00\\:0" << i
                           << "\\:00Z\n";
      const CliRun r = Stride("update --quiet --db " + Path("db" + tag) + " --osc " + batches[i] +
                              " --state " + state);
      ASSERT_EQ(r.exit_code, 0) << batches[i] << ": " << r.err;
    }
    EXPECT_EQ(Meta(Path("db" + tag), "update")["sequence"], k);
    ExpectSameDatabase(Path("db" + tag), Path("fresh" + tag));
    // The new path and the renamed route are there.
    const std::string list = Stride("inspect --db " + Path("db" + tag) + " --list").out;
    EXPECT_NE(list.find("Sentier neuf " + tag), std::string::npos);
    EXPECT_NE(list.find("Renamed route " + tag), std::string::npos);
  }
}

// The database records its DEM by absolute path, so an update run from another directory
// finds an import's relative --dem; when those files moved, the update says so and changes
// nothing, and --dem gives them again.
TEST_F(UpdateCli, TheImportsDemIsFoundFromAnywhereOrGivenAgainWhenItMoved) {
  if (!HaveOsmium()) GTEST_SKIP() << "no " << kOsmium << " (scripts/deps.sh installs it)";
  datasets::SyntheticOsmOptions go;
  go.target_nodes = 20000;
  go.seed = 3;
  Result<datasets::SyntheticOsmStats> map = datasets::WriteSyntheticOsm(Path("map.osm.pbf"), go);
  ASSERT_TRUE(map.ok()) << map.status().message();
  ASSERT_TRUE(datasets::WriteSyntheticDem(Path("dem"), map->bbox).ok());
  Mutate(Path("map.osm.pbf"), Path("edited.osm.pbf"), 3);
  Derive(Path("map.osm.pbf"), Path("edited.osm.pbf"), Path("diff.osc"));
  const std::vector<std::string> batches = Deal(Path("diff.osc"), 2, 3, Path("batch-"));
  auto state = [&](int n) {
    const std::string path = Path("state" + std::to_string(n) + ".txt");
    std::ofstream(path) << "sequenceNumber=" << n << "\ntimestamp=2026-06-01T00\\:0" << n
                        << "\\:00Z\n";
    return path;
  };
  // Imported from its own directory with a relative --dem.
  CliRun r = testing::RunShell("cd " + dir_.string() + " && " + std::string(STRIDE_CLI) +
                               " import --quiet --updatable --osm map.osm.pbf --dem dem --db db");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Meta(Path("db"), "import")["dem"], Path("dem"));
  // Updated from elsewhere (the test's directory): the recorded DEM is found.
  ASSERT_NE(fs::current_path(), dir_);
  r = Stride("update --quiet --db " + Path("db") + " --osc " + batches[0] + " --state " + state(1));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The DEM moved: refused, naming it, and nothing changes.
  fs::rename(Path("dem"), Path("dem-moved"));
  const auto records = Records(Path("db"));
  const uint64_t inode = index::DirectoryInode(Path("db"));
  r = Stride("update --db " + Path("db") + " --osc " + batches[1] + " --state " + state(2));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("imported with --dem " + Path("dem") +
                       ", which is no longer there: give "
                       "--dem DIR"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(index::DirectoryInode(Path("db")), inode);
  EXPECT_TRUE(Records(Path("db")) == records);
  // Given again, the update goes through and the database is what a fresh import gives.
  r = Stride("update --quiet --db " + Path("db") + " --osc " + batches[1] + " --state " + state(2) +
             " --dem " + Path("dem-moved"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Meta(Path("db"), "import")["dem"], Path("dem-moved"));
  ASSERT_EQ(Stride("import --quiet --osm " + Path("edited.osm.pbf") + " --dem " +
                   Path("dem-moved") + " --db " + Path("fresh"))
                .exit_code,
            0);
  ExpectSameDatabase(Path("db"), Path("fresh"));
  // Elevation is in it: the routes climb.
  const nlohmann::json counts = Meta(Path("db"), "counts");
  EXPECT_LT(counts.value("routes_without_elevation", 0), counts.value("routes", 0))
      << counts.dump();
}

// Renames every way that has a name and every tenth of those without, nothing else: what the
// contraction reads (nodes, arcs, costs) stays as it was.
void RenameWays(const std::string& from, const std::string& to) {
  using namespace osmium::builder::attr;  // NOLINT: the attribute builder's vocabulary
  const osmium::Timestamp later("2026-03-01T00:00:00Z");  // before Mutate's edits
  osmium::io::Reader in{from};
  osmium::io::Writer out{to, in.header(), osmium::io::overwrite::allow};
  while (osmium::memory::Buffer b = in.read()) {
    osmium::memory::Buffer buffer{1 << 16, osmium::memory::Buffer::auto_grow::yes};
    for (const osmium::OSMObject& o : b.select<osmium::OSMObject>()) {
      const bool rename = o.tags().has_key("name") || o.id() % 10 == 0;
      if (o.type() != osmium::item_type::way || !rename) {
        buffer.add_item(o);
        buffer.commit();
        continue;
      }
      const auto& w = static_cast<const osmium::Way&>(o);
      std::vector<std::pair<std::string, std::string>> tags = TagsOf(w);
      bool named = false;
      for (auto& [k, v] : tags) {
        if (k == "name") v += " (renamed)", named = true;
      }
      if (!named) tags.emplace_back("name", "Chemin " + std::to_string(w.id()));
      std::vector<osmium::object_id_type> refs;
      for (const osmium::NodeRef& nr : w.nodes()) refs.push_back(nr.ref());
      osmium::builder::add_way(buffer, _id(w.id()), _version(w.version() + 1), _timestamp(later),
                               _nodes(refs), _tags(tags));
    }
    out(std::move(buffer));
  }
  out.close();
}

// A diff that leaves the walkable network and its costs as they were (here: renamed ways)
// keeps the contraction hierarchy instead of contracting again, and the database is still
// byte for byte a fresh import's; a diff that moves nodes contracts again.
TEST_F(UpdateCli, AHierarchyIsKeptWhenTheNetworkIsUnchanged) {
  if (!HaveOsmium()) GTEST_SKIP() << "no " << kOsmium << " (scripts/deps.sh installs it)";
  ASSERT_TRUE(GenerateMap(Path("map.osm.pbf"), 6).ok());
  RenameWays(Path("map.osm.pbf"), Path("renamed.osm.pbf"));
  Derive(Path("map.osm.pbf"), Path("renamed.osm.pbf"), Path("renames.osc"));
  ASSERT_EQ(
      Stride("import --quiet --updatable --osm " + Path("map.osm.pbf") + " --db " + Path("db"))
          .exit_code,
      0);
  EXPECT_EQ(Meta(Path("db"), "import")["hierarchy"], "built");
  const auto before = Records(Path("db"));

  CliRun r = Stride("update --db " + Path("db") + " --osc " + Path("renames.osc"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("trail graph: contraction hierarchy kept from the database it replaces"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(Meta(Path("db"), "import")["hierarchy"], "kept");
  const std::string inspect = Stride("inspect --db " + Path("db")).out;
  EXPECT_NE(inspect.find("contraction hierarchy: kept from the database it replaced (order "
                         "drift 0.000 %)"),
            std::string::npos)
      << inspect;
  EXPECT_FALSE(Records(Path("db")) == before);  // the names did change
  ASSERT_EQ(Stride("import --quiet --osm " + Path("renamed.osm.pbf") + " --db " + Path("fresh"))
                .exit_code,
            0);
  EXPECT_EQ(Meta(Path("fresh"), "import")["hierarchy"], "built");
  ExpectSameDatabase(Path("db"), Path("fresh"));

  // Moved nodes change lengths, so costs: contracted again (its order made afresh), and still
  // byte for byte a fresh import's.
  Mutate(Path("renamed.osm.pbf"), Path("moved.osm.pbf"), 6);
  Derive(Path("renamed.osm.pbf"), Path("moved.osm.pbf"), Path("moves.osc"));
  r = Stride("update --max-order-drift 0 --db " + Path("db") + " --osc " + Path("moves.osc"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("trail graph: contraction hierarchy with "), std::string::npos) << r.out;
  EXPECT_EQ(Meta(Path("db"), "import")["hierarchy"], "built");
  ASSERT_EQ(
      Stride("import --quiet --osm " + Path("moved.osm.pbf") + " --db " + Path("fresh2")).exit_code,
      0);
  ExpectSameDatabase(Path("db"), Path("fresh2"));
}

// A diff that changes the walkable network a little contracts the new hierarchy in the node
// order of the one it replaces (the new junctions first) instead of ordering it afresh: the
// database keeps a fresh import's routes and network byte for byte, and its hierarchy answers
// the same costs. The drift (the share of nodes the order had no place for) adds up over
// updates and is recorded; past --max-order-drift the order is computed afresh (byte for
// byte a fresh import's hierarchy, the drift back to 0), as with --max-order-drift 0.
TEST_F(UpdateCli, ASmallChangeContractsInTheOrderOfTheHierarchyItReplaces) {
  if (!HaveOsmium()) GTEST_SKIP() << "no " << kOsmium << " (scripts/deps.sh installs it)";
  ASSERT_TRUE(GenerateMap(Path("map0.osm.pbf"), 9).ok());
  ASSERT_EQ(
      Stride("import --quiet --updatable --osm " + Path("map0.osm.pbf") + " --db " + Path("db"))
          .exit_code,
      0);
  EXPECT_EQ(Meta(Path("db"), "hierarchy_order_drift"), 0);
  auto drift = [&] { return Meta(Path("db"), "hierarchy_order_drift").get<double>(); };
  // Each step: a few nodes moved and ways deleted or renamed, and a new path (new junctions)
  // where no path was before.
  auto step = [&](int k, const std::string& flags) {
    const std::string before = Path("map" + std::to_string(k - 1) + ".osm.pbf");
    const std::string after = Path("map" + std::to_string(k) + ".osm.pbf");
    const std::string when = "2026-06-0" + std::to_string(k) + "T00:00:00Z";
    Mutate(before, after, 100 + k, 0.002, 0.002, 0.01, when.c_str(), 0.003 * k);
    Derive(before, after, Path("diff" + std::to_string(k) + ".osc"));
    const CliRun r = Stride("update --db " + Path("db") + " --osc " +
                            Path("diff" + std::to_string(k) + ".osc") + flags);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const std::string fresh = Path("fresh" + std::to_string(k));
    EXPECT_EQ(Stride("import --quiet --osm " + after + " --db " + fresh).exit_code, 0);
    ExpectSameDatabase(Path("db"), fresh);
    return r.out;
  };
  std::string out = step(1, " --max-order-drift 50");
  EXPECT_EQ(Meta(Path("db"), "import")["hierarchy"], "inherited");
  EXPECT_NE(out.find("in the node order of the one it replaces (drift "), std::string::npos) << out;
  const double first = drift();
  EXPECT_GT(first, 0);
  EXPECT_LT(first, 0.5);
  char said[128];
  std::snprintf(said, sizeof said,
                "contraction hierarchy: contracted in the node order of the one it replaced "
                "(order drift %.3f %%)",
                100 * first);
  std::string inspect = Stride("inspect --db " + Path("db")).out;
  EXPECT_NE(inspect.find(said), std::string::npos) << inspect;
  // The drift adds up ...
  out = step(2, " --max-order-drift 50");
  EXPECT_EQ(Meta(Path("db"), "import")["hierarchy"], "inherited");
  const double second = drift();
  EXPECT_GT(second, first);
  // ... until the bound (here just above what it is now), when the order is made afresh.
  char bound[32];
  std::snprintf(bound, sizeof bound, "%.9f", 100 * second * 1.0001);
  out = step(3, std::string(" --max-order-drift ") + bound);
  EXPECT_EQ(Meta(Path("db"), "import")["hierarchy"], "built");
  EXPECT_EQ(drift(), 0);
  EXPECT_EQ(out.find("in the node order"), std::string::npos) << out;
  inspect = Stride("inspect --db " + Path("db")).out;
  EXPECT_NE(inspect.find("contraction hierarchy: built, its node order computed afresh"),
            std::string::npos)
      << inspect;
  // And with a bound of 0, always.
  step(4, " --max-order-drift 0");
  EXPECT_EQ(Meta(Path("db"), "import")["hierarchy"], "built");
  EXPECT_EQ(drift(), 0);
}

// One import or update of a database at a time: while another holds it (here the test, as
// a long update would), both commands are refused at once, naming the holder, and nothing
// changes; once it is released the update goes through.
TEST_F(UpdateCli, OneImportOrUpdateOfADatabaseAtATime) {
  if (!HaveOsmium()) GTEST_SKIP() << "no " << kOsmium << " (scripts/deps.sh installs it)";
  ASSERT_TRUE(GenerateMap(Path("map.osm.pbf"), 4).ok());
  Mutate(Path("map.osm.pbf"), Path("edited.osm.pbf"), 4);
  Derive(Path("map.osm.pbf"), Path("edited.osm.pbf"), Path("diff.osc"));
  ASSERT_EQ(
      Stride("import --quiet --updatable --osm " + Path("map.osm.pbf") + " --db " + Path("db"))
          .exit_code,
      0);
  const auto records = Records(Path("db"));
  {
    Result<index::DbLock> held = index::DbLock::Acquire(Path("db"));
    ASSERT_TRUE(held.ok()) << held.status().message();
    const std::string busy =
        "another import or update of it is running (process " + std::to_string(::getpid()) + ")";
    CliRun r = Stride("update --quiet --db " + Path("db") + " --osc " + Path("diff.osc"));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find(busy), std::string::npos) << r.err;
    r = Stride("import --quiet --osm " + Path("edited.osm.pbf") + " --db " + Path("db"));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find(busy), std::string::npos) << r.err;
    EXPECT_TRUE(Records(Path("db")) == records);
    // The same process cannot take it twice either (a second open file description).
    EXPECT_EQ(index::DbLock::Acquire(Path("db")).status().code(), StatusCode::kUnavailable);
    EXPECT_TRUE(fs::exists(Path("db.lock")));
  }
  // Let go, the lock leaves no file behind; nor does a command, done or failed.
  EXPECT_FALSE(fs::exists(Path("db.lock")));
  const CliRun r = Stride("update --quiet --db " + Path("db") + " --osc " + Path("diff.osc"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(Records(Path("db")) == records);
  EXPECT_FALSE(fs::exists(Path("db.lock")));
  EXPECT_EQ(
      Stride("import --quiet --osm " + Path("missing.osm.pbf") + " --db " + Path("none")).exit_code,
      1);
  EXPECT_FALSE(fs::exists(Path("none")));
  EXPECT_FALSE(fs::exists(Path("none.lock")));
  // One left by a holder that was killed (its process gone, its flock with it) is taken over.
  std::ofstream(Path("db.lock")) << "999999999\n";
  EXPECT_EQ(Stride("update --quiet --db " + Path("db") + " --osc " + Path("diff.osc")).exit_code,
            1);  // applied already: refused after taking the lock, not for being locked
  EXPECT_FALSE(fs::exists(Path("db.lock")));
}

// A command that opened DIR.lock just as its holder removed it must not lock the removed file
// beside a second command that created a new one: threads race acquisitions and releases,
// and never two hold it at once.
TEST(DbLockRace, NeverTwoHoldersAtOnce) {
  const fs::path dir =
      fs::temp_directory_path() / ("stride-lock-race-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string db = (dir / "db").string();
  std::atomic<int> holders{0}, max_holders{0}, taken{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      // Each thread takes it 200 times, however many refusals that costs (a fixed number of
      // attempts took it only 92 times in all under ASan, where a refusal is quick).
      for (int mine = 0; mine < 200;) {
        Result<index::DbLock> l = index::DbLock::Acquire(db);
        if (!l.ok()) {
          ASSERT_EQ(l.status().code(), StatusCode::kUnavailable) << l.status().message();
          std::this_thread::yield();
          continue;
        }
        ++mine;
        const int now = ++holders;
        int seen = max_holders.load();
        while (now > seen && !max_holders.compare_exchange_weak(seen, now)) {
        }
        ++taken;
        std::this_thread::sleep_for(std::chrono::microseconds(50));  // long enough to overlap
        --holders;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(max_holders.load(), 1);
  EXPECT_EQ(taken.load(), 800);
  EXPECT_FALSE(fs::exists(db + ".lock"));
  fs::remove_all(dir);
}

TEST_F(UpdateCli, TheSameDiffAgainOrAnOlderOneIsRefusedAndChangesNothing) {
  REQUIRE_OSMIUM();
  const std::string old_osm = testing::DatasetsDir() + "/osm/monaco-2012-07.osm.gz";
  const std::string new_osm = testing::DatasetsDir() + "/osm/monaco-2026-03-09.osm.pbf";
  Derive(old_osm, new_osm, Path("monaco.osc.gz"));
  Import(old_osm, Path("db"), true);
  ASSERT_EQ(
      Stride("update --quiet --db " + Path("db") + " --osc " + Path("monaco.osc.gz")).exit_code, 0);
  const auto records = Records(Path("db"));
  const uint64_t inode = index::DirectoryInode(Path("db"));

  // The same file: known by its SHA-256.
  CliRun r = Stride("update --db " + Path("db") + " --osc " + Path("monaco.osc.gz"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("monaco.osc.gz was applied already"), std::string::npos) << r.err;
  // The same changes in another file (uncompressed): every object is already there.
  ASSERT_EQ(std::system(("gzip -dc " + Path("monaco.osc.gz") + " > " + Path("again.osc")).c_str()),
            0);
  r = Stride("update --db " + Path("db") + " --osc " + Path("again.osc"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("these changes were applied already, or are older than the data"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(" but the database "), std::string::npos) << r.err;
  // A diff from before the data (2012 to 2026 is applied; 2012 to 2012 changes nothing; the
  // reverse, 2026 back to 2012, holds older versions).
  Derive(new_osm, old_osm, Path("backwards.osc"));
  r = Stride("update --db " + Path("db") + " --osc " + Path("backwards.osc"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("older than the data"), std::string::npos) << r.err;
  // Nothing moved: the same directory, the same records, no build directory left.
  EXPECT_EQ(index::DirectoryInode(Path("db")), inode);
  EXPECT_TRUE(Records(Path("db")) == records);
  for (const auto& e : fs::directory_iterator(dir_)) {
    EXPECT_EQ(e.path().filename().string().find(".import-"), std::string::npos) << e.path();
  }
}

TEST_F(UpdateCli, BadCommandLinesAndDatabasesNotImportedUpdatable) {
  STRIDE_REQUIRE_DATASETS();
  const std::string osm = testing::DatasetsDir() + "/osm/monaco-2026-03-09.osm.pbf";
  Import(osm, Path("plain"), false);
  std::ofstream(Path("x.osc")) << "<osmChange version=\"0.6\"></osmChange>\n";
  CliRun r = Stride("update --db " + Path("plain") + " --osc " + Path("x.osc"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("was not imported with --updatable"), std::string::npos) << r.err;
  r = Stride("update --db " + Path("plain"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--db and --osc are required"), std::string::npos) << r.err;
  Import(osm, Path("db"), true);
  r = Stride("update --db " + Path("db") + " --osc " + osm);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("expected an OSM change file (.osc, .osc.gz, .osc.bz2)"), std::string::npos)
      << r.err;
  for (const std::string bad : {"-1", "abc", "101", "5%"}) {
    r = Stride("update --db " + Path("db") + " --osc " + Path("x.osc") + " --max-order-drift " +
               bad);
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_NE(r.err.find("--max-order-drift " + bad + ": expected a percentage from 0 to 100"),
              std::string::npos)
        << r.err;
  }
  r = Stride("update --db " + Path("db") + " --osc " + Path("x.osc") + " --state " + Path("x.osc"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no sequenceNumber=N line"), std::string::npos) << r.err;
  // A sequence that is not a number is said to be one; a timestamp that is not a time was
  // recorded as how current the data is ("data up to garbage").
  const std::vector<std::pair<std::string, std::string>> states = {
      {"sequenceNumber=abc\n", "sequenceNumber: 'abc' is not a whole number"},
      {"sequenceNumber=-5\n", "sequenceNumber: -5 is out of range"},
      {"sequenceNumber=5\ntimestamp=garbage\n", "timestamp 'garbage' is not an ISO 8601 time"},
  };
  for (const auto& [state, message] : states) {
    std::ofstream(Path("state.txt")) << state;
    r = Stride("update --db " + Path("db") + " --osc " + Path("x.osc") + " --state " +
               Path("state.txt"));
    EXPECT_EQ(r.exit_code, 1) << state;
    EXPECT_NE(r.err.find("--state " + Path("state.txt") + ": " + message), std::string::npos)
        << r.err;
  }
  // A broken change file among several is named, with where it broke.
  std::ofstream(Path("cut.osc")) << "<osmChange version=\"0.6\"><modify><node id=\"5\"";
  r = Stride("update --db " + Path("db") + " --osc " + Path("x.osc") + " --osc " + Path("cut.osc"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--osc " + Path("cut.osc") + ": XML parsing error at line 1"),
            std::string::npos)
      << r.err;
  r = Stride("import --updatable --osm " + osm + " --osm " + osm + " --db " + Path("two"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--updatable takes one --osm file"), std::string::npos) << r.err;
}

TEST_F(UpdateCli, ARunningServerServesTheUpdateWithoutARestart) {
  REQUIRE_OSMIUM();
  const std::string old_osm = testing::DatasetsDir() + "/osm/andorra-2013-05-28.osm.pbf";
  const std::string new_osm = testing::DatasetsDir() + "/osm/andorra-2021-10-28.osm.pbf";
  Derive(old_osm, new_osm, Path("andorra.osc.gz"));
  Import(old_osm, Path("db"), true);
  server::HttpServerOptions o;
  o.db_path = Path("db");
  o.reload_check_s = 0.1;
  testing::RunningServer s(o);
  ASSERT_NE(s.port(), 0) << s.status().message();
  httplib::Client c("127.0.0.1", s.port());
  auto health = [&] { return nlohmann::json::parse(c.Get("/v1/health")->body); };
  const nlohmann::json before = health();
  EXPECT_EQ(before["routes"], 36);
  ASSERT_EQ(
      Stride("update --quiet --db " + Path("db") + " --osc " + Path("andorra.osc.gz")).exit_code,
      0);
  nlohmann::json after = before;
  for (int i = 0; i < 100 && after["reloads"] == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    after = health();
  }
  EXPECT_EQ(after["reloads"], 1);
  EXPECT_EQ(after["routes"], 149);
  auto gr11 = c.Get("/v1/routes?bbox=1.40,42.42,1.80,42.66&limit=500&min_length_m=40000");
  ASSERT_TRUE(gr11);
  EXPECT_NE(gr11->body.find("GR11"), std::string::npos);
}

}  // namespace
}  // namespace stride
