// SPDX-License-Identifier: Apache-2.0
// Imports of the shared OSM extracts, checked against independent computations: relation
// lengths summed here over the member ways' node coordinates (read with libosmium directly,
// measured with PROJ's Karney geodesic), and profile elevations read here from the .hgt bytes.
#include "tests/support/import.hpp"

#include <geodesic.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <osmium/handler.hpp>
#include <osmium/handler/node_locations_for_ways.hpp>
#include <osmium/index/map/flex_mem.hpp>
#include <osmium/io/any_input.hpp>
#include <osmium/visitor.hpp>
#include <set>

#include "datasets/synthetic_osm.hpp"
#include "engine/route/profile.hpp"
#include "importers/dem/srtm.hpp"
#include "importers/osm/osm_import.hpp"
#include "index/store/route_db.hpp"
#include "tests/support/datasets.hpp"

namespace stride {
namespace {

namespace fs = std::filesystem;

// What the file says, computed without any Stride code.
struct Reference {
  struct Rel {
    std::string route;
    std::vector<std::tuple<char, int64_t, std::string>> members;
  };
  std::map<int64_t, Rel> rels;             // route relations of the types we import
  std::map<int64_t, double> way_length_m;  // every way, Karney length over its nodes
  std::set<std::string> types = {"hiking",        "foot",           "walking",       "running",
                                 "fitness_trail", "nordic_walking", "trail_running", "jogging"};

  double MainLength(int64_t id, std::set<int64_t>& visiting, bool top) const {
    const Rel& r = rels.at(id);
    visiting.insert(id);
    double sum = 0;
    bool any_main = false;
    for (const auto& [type, ref, role] : r.members) {
      if (type == 'w' && (role.empty() || role == "main")) {
        any_main = true;
        auto it = way_length_m.find(ref);
        if (it != way_length_m.end()) sum += it->second;
      } else if (type == 'r' && rels.count(ref) && !visiting.count(ref)) {
        any_main = true;
        sum += MainLength(ref, visiting, false);
      }
    }
    if (top && !any_main) {
      for (const char* fallback : {"forward", "backward"}) {
        for (const auto& [type, ref, role] : r.members) {
          auto it = way_length_m.find(ref);
          if (type == 'w' && role == fallback && it != way_length_m.end()) sum += it->second;
        }
        if (sum > 0) break;
      }
    }
    visiting.erase(id);
    return sum;
  }
};

Reference ReadReference(const std::string& path) {
  Reference ref;
  struct Handler : osmium::handler::Handler {
    Reference* ref;
    geod_geodesic g{};
    Handler() { geod_init(&g, 6378137.0, 1 / 298.257223563); }
    void way(const osmium::Way& w) {
      double sum = 0;
      const osmium::NodeRef* prev = nullptr;
      for (const osmium::NodeRef& n : w.nodes()) {
        if (!n.location().valid()) continue;
        if (prev) {
          double s12 = 0;
          geod_inverse(&g, prev->location().lat(), prev->location().lon(), n.location().lat(),
                       n.location().lon(), &s12, nullptr, nullptr);
          sum += s12;
        }
        prev = &n;
      }
      ref->way_length_m[w.id()] = sum;
    }
    void relation(const osmium::Relation& r) {
      const char* type = r.tags()["type"];
      const char* route = r.tags()["route"];
      const char* state = r.tags()["state"];
      if (!type || !route || !ref->types.count(route)) return;
      if (std::string(type) != "route" && std::string(type) != "superroute") return;
      if (state && std::string(state) == "proposed") return;
      Reference::Rel rel;
      rel.route = route;
      for (const osmium::RelationMember& m : r.members()) {
        const char t = m.type() == osmium::item_type::way        ? 'w'
                       : m.type() == osmium::item_type::relation ? 'r'
                                                                 : 'n';
        rel.members.emplace_back(t, m.ref(), m.role());
      }
      ref->rels[r.id()] = std::move(rel);
    }
  } handler;
  handler.ref = &ref;
  using Index = osmium::index::map::FlexMem<osmium::unsigned_object_id_type, osmium::Location>;
  Index index;
  osmium::handler::NodeLocationsForWays<Index> locations(index);
  locations.ignore_errors();
  osmium::io::Reader reader(path);
  osmium::apply(reader, locations, handler);
  reader.close();
  return ref;
}

// Bilinear elevation straight from the .hgt bytes; false next to a void.
struct HgtFile {
  std::vector<unsigned char> bytes;
  int lat0 = 0, lon0 = 0, n = 1201;
  int16_t At(int r, int c) const {
    const size_t i = (static_cast<size_t>(r) * n + c) * 2;
    return static_cast<int16_t>((bytes[i] << 8) | bytes[i + 1]);
  }
  bool Elevation(double lat, double lon, double* h) const {
    const double fy = (lat0 + 1 - lat) * (n - 1), fx = (lon - lon0) * (n - 1);
    if (fy < 0 || fx < 0 || fy > n - 1 || fx > n - 1) return false;
    const int r = std::min(static_cast<int>(fy), n - 2), c = std::min(static_cast<int>(fx), n - 2);
    const double ty = fy - r, tx = fx - c;
    const int16_t a = At(r, c), b = At(r, c + 1), d = At(r + 1, c), e = At(r + 1, c + 1);
    if (a == -32768 || b == -32768 || d == -32768 || e == -32768) return false;
    *h = (a * (1 - tx) + b * tx) * (1 - ty) + (d * (1 - tx) + e * tx) * ty;
    return true;
  }
};

std::string TempDb(const std::string& name) {
  const std::string d =
      ::testing::TempDir() + "/stride_import_" + name + "_" + std::to_string(::getpid());
  fs::remove_all(d);
  fs::remove_all(d + ".previous");
  return d;
}

struct Imported {
  importers::OsmImportStats stats;
  std::unique_ptr<index::RouteDb> db;
};

Imported ImportInto(const std::string& osm, const std::string& db_path,
                    const engine::ElevationSource* dem) {
  Imported out;
  Result<importers::OsmImportStats> s = testing::ImportToDb(osm, db_path, dem);
  EXPECT_TRUE(s.ok()) << s.status().message();
  if (!s.ok()) return out;
  out.stats = *s;
  Result<std::unique_ptr<index::RouteDb>> db = index::RouteDb::Open(db_path);
  EXPECT_TRUE(db.ok()) << db.status().message();
  if (db.ok()) out.db = std::move(db).value();
  return out;
}

// Every relation of the reference is a route (or has no member in the file), and its length
// is the sum of its main members' lengths within 0.1 %.
void ExpectRelationLengthsMatch(const Reference& ref, const index::RouteDb& db, size_t* compared) {
  *compared = 0;
  for (const auto& [id, rel] : ref.rels) {
    std::set<int64_t> visiting;
    const double expected = ref.MainLength(id, visiting, true);
    Result<engine::Route> r = db.GetRoute(engine::RouteIdForRelation(static_cast<uint64_t>(id)));
    if (expected == 0) {
      EXPECT_FALSE(r.ok() && r->length_m > 0) << "relation " << id;
      continue;
    }
    ASSERT_TRUE(r.ok()) << "relation " << id << ": " << r.status().message();
    EXPECT_NEAR(r->length_m, expected, expected * 0.001) << "relation " << id << " " << r->name;
    ++*compared;
  }
}

TEST(ImportAndorra, EveryHikingRelationWithIndependentLengthAndDemElevation) {
  STRIDE_REQUIRE_DATASETS();
  const std::string osm = testing::DatasetsDir() + "/osm/andorra-2021-10-28.osm.pbf";
  const std::string dem_dir = testing::DatasetsDir() + "/dem";
  Result<std::unique_ptr<importers::SrtmElevation>> dem = importers::SrtmElevation::Open(dem_dir);
  ASSERT_TRUE(dem.ok());
  const std::string path = TempDb("andorra");
  Imported imp = ImportInto(osm, path, dem->get());
  ASSERT_TRUE(imp.db);

  const Reference ref = ReadReference(osm);
  size_t hiking_foot = 0;
  for (const auto& [id, rel] : ref.rels)
    hiking_foot += rel.route == "hiking" || rel.route == "foot";
  EXPECT_EQ(hiking_foot, 39u);  // MANIFEST.md: 39 hiking/foot route relations
  size_t compared = 0;
  ExpectRelationLengthsMatch(ref, *imp.db, &compared);
  EXPECT_EQ(compared, 39u);
  EXPECT_EQ(imp.stats.route_relations, 39u);

  // Elevations along the profiles equal a direct bilinear read of the tile within 1 m.
  HgtFile hgt;
  {
    std::ifstream f(dem_dir + "/N42E001.hgt", std::ios::binary);
    hgt.bytes.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    hgt.lat0 = 42;
    hgt.lon0 = 1;
  }
  size_t checked = 0, routes_with_profile = 0;
  const Status s = imp.db->ForEachSummary([&](const engine::RouteSummary& sum) {
    Result<engine::Route> r = imp.db->GetRoute(sum.id);
    ASSERT_TRUE(r.ok());
    if (r->profile.empty()) return;
    ++routes_with_profile;
    const auto& d = r->profile.distance_m;
    for (size_t i = 0; i < d.size(); i += 17) {
      // Where parts meet, two samples share a distance; the point there is ambiguous.
      if ((i > 0 && d[i - 1] == d[i]) || (i + 1 < d.size() && d[i + 1] == d[i])) continue;
      const engine::PointE7 p = engine::PointAtDistance(r->geometry, d[i]);
      double h;
      if (!hgt.Elevation(p.lat * 1e-7, p.lon * 1e-7, &h)) continue;
      EXPECT_NEAR(r->profile.elevation_m[i], h, 1.0) << r->name << " at " << d[i] << " m";
      ++checked;
    }
    // Spacing never exceeds 30 m.
    for (size_t i = 1; i < d.size(); ++i) ASSERT_LE(d[i] - d[i - 1], 30.0 + 1e-3) << r->name;
    // Net climb agrees with the ends of each part of the profile (parts meet where two
    // samples share a distance); hysteresis and smoothing leave a few metres per part.
    double net = 0;
    size_t runs = 0;
    for (size_t b = 0, e; b < d.size(); b = e) {
      for (e = b + 1; e < d.size() && d[e] > d[e - 1]; ++e) {
      }
      net += r->profile.elevation_m[e - 1] - r->profile.elevation_m[b];
      ++runs;
    }
    EXPECT_NEAR(r->ascent_m - r->descent_m, net, 15.0 + 10.0 * static_cast<double>(runs))
        << r->name;
    EXPECT_FALSE(r->elevation_method.empty());
  });
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(routes_with_profile, imp.stats.routes);  // the tile covers all of Andorra's routes
  EXPECT_GT(checked, 2000u);

  // The known loop: GPR La volta a Andorra (relation 5511920), a tour of the country.
  Result<engine::Route> volta = imp.db->GetRoute(engine::RouteIdForRelation(5511920));
  ASSERT_TRUE(volta.ok());
  EXPECT_TRUE(volta->summary.loop);
  EXPECT_NEAR(volta->length_m, 110'000, 5'000);

  // The trail graph: edges are found again through their cells.
  EXPECT_GT(imp.stats.edges, 5000u);
  Result<engine::TrailEdge> e = imp.db->GetEdge(imp.stats.edges / 2);
  ASSERT_TRUE(e.ok());
  engine::BoxE7 box;
  box.Extend(e->points.front());
  Result<std::vector<uint64_t>> near = imp.db->EdgeCandidates(box);
  ASSERT_TRUE(near.ok());
  EXPECT_TRUE(std::binary_search(near->begin(), near->end(), e->id));
  EXPECT_NEAR(e->length_m, engine::LineLengthM(e->points.data(), e->points.size()), 1e-6);
  fs::remove_all(path);
}

TEST(ImportAndorra, SameInputGivesByteIdenticalRecords) {
  STRIDE_REQUIRE_DATASETS();
  const std::string osm = testing::DatasetsDir() + "/osm/andorra-2021-10-28.osm.pbf";
  Result<std::unique_ptr<importers::SrtmElevation>> dem =
      importers::SrtmElevation::Open(testing::DatasetsDir() + "/dem");
  ASSERT_TRUE(dem.ok());
  std::map<uint64_t, std::string> first, second;
  for (auto* out : {&first, &second}) {
    const std::string path = TempDb(out == &first ? "det1" : "det2");
    Imported imp = ImportInto(osm, path, dem->get());
    ASSERT_TRUE(imp.db);
    ASSERT_TRUE(imp.db
                    ->ForEachRouteRecord([&](uint64_t id, std::string_view bytes) {
                      (*out)[id] = std::string(bytes);
                    })
                    .ok());
    fs::remove_all(path);
  }
  EXPECT_GT(first.size(), 100u);
  EXPECT_TRUE(first == second);
}

TEST(ImportSynthetic, GeneratedNetworkNeedsNoDownloadedData) {
  const std::string dir = TempDb("synthetic");
  fs::create_directories(dir);
  datasets::SyntheticOsmOptions o;
  o.target_nodes = 30'000;
  Result<datasets::SyntheticOsmStats> gen = datasets::WriteSyntheticOsm(dir + "/a.osm.pbf", o);
  ASSERT_TRUE(gen.ok()) << gen.status().message();
  EXPECT_NEAR(static_cast<double>(gen->nodes), 30'000, 600);  // within 2 %
  ASSERT_TRUE(datasets::WriteSyntheticDem(dir + "/dem", gen->bbox).ok());
  // The same options give the same bytes.
  ASSERT_TRUE(datasets::WriteSyntheticOsm(dir + "/b.osm.pbf", o).ok());
  auto bytes = [](const std::string& p) {
    std::ifstream f(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  };
  EXPECT_EQ(bytes(dir + "/a.osm.pbf"), bytes(dir + "/b.osm.pbf"));

  Result<std::unique_ptr<importers::SrtmElevation>> dem =
      importers::SrtmElevation::Open(dir + "/dem");
  ASSERT_TRUE(dem.ok());
  Imported imp = ImportInto(dir + "/a.osm.pbf", dir + "/db", dem->get());
  ASSERT_TRUE(imp.db);
  EXPECT_EQ(imp.stats.nodes, gen->nodes);
  EXPECT_EQ(imp.stats.route_relations, gen->relations);  // every generated route type counts
  EXPECT_EQ(imp.stats.super_routes, gen->super_routes);
  EXPECT_GE(imp.stats.loops, gen->loops);  // every rectangle closes; some walks may too
  EXPECT_GT(imp.stats.routes_with_gaps, 0u);
  EXPECT_GT(imp.stats.named_trails, 0u);
  EXPECT_EQ(imp.stats.routes_without_elevation, 0u);
  EXPECT_LT(imp.stats.walkable_ways, gen->ways);  // motorways and foot=no are left out
  // Elevations are the generator's terrain (bilinear on a 90 m grid: within a few metres).
  Result<engine::Route> r = imp.db->GetRoute(engine::RouteIdForRelation(1));
  ASSERT_TRUE(r.ok());
  ASSERT_FALSE(r->profile.empty());
  for (size_t i = 0; i < r->profile.distance_m.size(); i += 10) {
    if (i > 0 && r->profile.distance_m[i] == r->profile.distance_m[i - 1]) continue;
    const engine::PointE7 p = engine::PointAtDistance(r->geometry, r->profile.distance_m[i]);
    EXPECT_NEAR(r->profile.elevation_m[i], datasets::SyntheticElevation(p.lat * 1e-7, p.lon * 1e-7),
                8.0);
  }
  fs::remove_all(dir);
}

struct Extract {
  const char* file;
  size_t hiking_foot;  // MANIFEST.md's count of hiking/foot route relations
};

class ImportExtract : public ::testing::TestWithParam<Extract> {};

TEST_P(ImportExtract, RelationLengthsMatchMemberWays) {
  STRIDE_REQUIRE_DATASETS();
  const std::string osm = testing::DatasetsDir() + "/osm/" + GetParam().file;
  const std::string path = TempDb("extract");
  Imported imp = ImportInto(osm, path, nullptr);
  ASSERT_TRUE(imp.db);
  const Reference ref = ReadReference(osm);
  size_t hiking_foot = 0;
  for (const auto& [id, rel] : ref.rels)
    hiking_foot += rel.route == "hiking" || rel.route == "foot";
  EXPECT_EQ(hiking_foot, GetParam().hiking_foot);
  EXPECT_EQ(imp.stats.route_relations, ref.rels.size());
  size_t compared = 0;
  ExpectRelationLengthsMatch(ref, *imp.db, &compared);
  EXPECT_EQ(compared + imp.stats.routes_without_geometry, ref.rels.size());
  EXPECT_GT(imp.stats.edges, 0u);
  fs::remove_all(path);
}

INSTANTIATE_TEST_SUITE_P(SharedExtracts, ImportExtract,
                         ::testing::Values(Extract{"liechtenstein-2021-10-28.osm.pbf", 182},
                                           Extract{"heidelberg-2024-09.osm.pbf", 160},
                                           // MANIFEST.md says 5: it also counts relation
                                           // 285633, type=network (the Via Alpina network),
                                           // which is not a route.
                                           Extract{"monaco-2026-03-09.osm.pbf", 4},
                                           Extract{"monaco-2012-07.osm.gz", 3},
                                           Extract{"nominatim-apidb-test-data.osm.pbf", 179}),
                         [](const auto& info) {
                           std::string n = info.param.file;
                           n = n.substr(0, n.find('.'));
                           for (char& c : n) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

}  // namespace
}  // namespace stride
