// SPDX-License-Identifier: Apache-2.0
#include "datasets/synthetic_routes.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "datasets/synthetic_osm.hpp"
#include "engine/geo/geodesy.hpp"
#include "engine/route/profile.hpp"
#include "engine/route/route_json.hpp"
#include "engine/text/iso_time.hpp"
#include "engine/threads.hpp"
#include "index/store/route_db.hpp"

namespace stride::datasets {
namespace {

constexpr double kStepM = 80.0;

// Route i's own generator: a hash of (seed, i), so routes do not depend on each other.
std::mt19937_64 RouteRng(const SyntheticRoutesOptions& o, size_t i, uint64_t salt) {
  uint64_t x = (static_cast<uint64_t>(o.seed) << 32) ^ (i * 0x9E3779B97F4A7C15ull) ^ salt;
  x ^= x >> 33, x *= 0xff51afd7ed558ccdull, x ^= x >> 33, x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return std::mt19937_64(x);
}

class ContinentDem : public engine::ElevationSource {
 public:
  bool ElevationAt(double lat, double lon, double* e) const override {
    *e = ContinentElevation(lat, lon);
    return true;
  }
};

const char* const kPlaces[] = {"Alder", "Birch",   "Cedar",   "Eagle", "Falcon", "Granite",
                               "Heron", "Juniper", "Larch",   "Maple", "Otter",  "Pine",
                               "Raven", "Spruce",  "Thistle", "Willow"};
const char* const kFeatures[] = {"Ridge",  "Valley", "Lake",  "Forest", "Gorge",
                                 "Meadow", "Peak",   "River", "Moor",   "Coast"};
const char* const kSacScales[] = {"",
                                  "hiking",
                                  "mountain_hiking",
                                  "demanding_mountain_hiking",
                                  "alpine_hiking",
                                  "demanding_alpine_hiking",
                                  "difficult_alpine_hiking"};

}  // namespace

double ContinentElevation(double lat, double lon) {
  const double two_pi = 2 * engine::kPi;
  const double s = 0.5 + 0.5 * std::sin(two_pi * lat / 7.0) * std::cos(two_pi * lon / 9.0);
  const double relief = 0.03 + 0.97 * s * s * s * s;  // 0.03 on plains .. 1 on the crests
  return 150 + relief * (SyntheticElevation(lat, lon) - 500);
}

bool SyntheticRouteIsTrail(const SyntheticRoutesOptions& o, size_t i) {
  return RouteRng(o, i, 0x7261696c)() % 5 == 0;
}

engine::Route MakeSyntheticRoute(const SyntheticRoutesOptions& o, size_t i) {
  std::mt19937_64 rng = RouteRng(o, i, 0);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> turn(0.0, 0.35);
  std::lognormal_distribution<double> length(std::log(o.mean_length_m) - 0.3, 0.7);
  static const engine::RouteType kRelationTypes[] = {
      engine::RouteType::kHiking,        engine::RouteType::kHiking,
      engine::RouteType::kHiking,        engine::RouteType::kHiking,
      engine::RouteType::kFoot,          engine::RouteType::kWalking,
      engine::RouteType::kRunning,       engine::RouteType::kFitnessTrail,
      engine::RouteType::kNordicWalking, engine::RouteType::kHiking};
  engine::Route r;
  engine::RouteSummary& s = r.summary;
  const bool trail = SyntheticRouteIsTrail(o, i);
  r.osm_id = 1'000'000 + i * 7;  // sparse, as OSM's are
  r.origin = trail ? engine::OsmOrigin::kNamedTrail : engine::OsmOrigin::kRelation;
  s.id = engine::RouteIdFor(r.origin, r.osm_id);
  s.type = trail ? engine::RouteType::kNamedTrail : kRelationTypes[rng() % 10];
  r.route_tag = trail ? "trail" : engine::RouteTypeName(s.type);

  const double len = std::clamp(length(rng), 1000.0, 60000.0);
  const bool loop = u(rng) < 0.33;
  const double lat0 = o.min_lat + u(rng) * (o.max_lat - o.min_lat);
  const double lon0 = o.min_lon + u(rng) * (o.max_lon - o.min_lon);
  const engine::LocalPlane plane(lat0, lon0);
  engine::RouteGeometry& g = r.geometry;
  g.part_starts.push_back(0);
  const int n = std::max(2, static_cast<int>(len / kStepM) + 1);
  double x = 0, y = 0, heading = u(rng) * 2 * engine::kPi;
  const double loop_turn = loop ? 2 * engine::kPi / (n - 1) : 0.0;  // loops bend round
  for (int k = 0; k < n; ++k) {
    double lat, lon;
    plane.ToDegrees(x, y, &lat, &lon);
    const engine::PointE7 p{static_cast<int32_t>(std::lround(lat * 1e7)),
                            static_cast<int32_t>(std::lround(lon * 1e7))};
    g.points.push_back(p);
    heading += loop_turn + turn(rng) * (loop ? 0.3 : 1.0);
    x += kStepM * std::sin(heading);
    y += kStepM * std::cos(heading);
  }
  if (loop) g.points.back() = g.points.front();
  for (const engine::PointE7& p : g.points) s.bbox.Extend(p);
  s.start = g.points.front();
  s.loop = loop;
  r.length_m = engine::GeometryLengthM(g);
  s.length_m = static_cast<float>(r.length_m);

  r.profile = engine::SampleProfile(g, ContinentDem());
  const engine::ClimbFigures c = engine::ComputeClimb(r.profile);
  r.ascent_m = c.ascent_m, r.descent_m = c.descent_m;
  r.max_grade = c.max_grade, r.avg_grade = c.avg_grade;
  r.elevation_method = engine::RouteElevationMethod();
  s.ascent_m = static_cast<float>(c.ascent_m);
  s.max_grade = static_cast<float>(c.max_grade);

  // Attributes: steeper ground, harder trails; most routes are unpaved.
  const double rough = std::min(1.0, c.max_grade * 2.5);
  s.difficulty = static_cast<uint8_t>(std::min(6.0, std::floor(u(rng) * 4 * rough + rough * 3)));
  r.sac_scale = kSacScales[s.difficulty];
  const double su = u(rng);
  s.surface = su < 0.45   ? engine::Surface::kUnpaved
              : su < 0.75 ? engine::Surface::kMixed
              : su < 0.9  ? engine::Surface::kPaved
                          : engine::Surface::kUnknown;
  if (s.surface == engine::Surface::kMixed) {
    const double paved = r.length_m * (0.2 + 0.6 * u(rng));
    r.surfaces = {{"gravel", r.length_m - paved}, {"asphalt", paved}};
    if (r.surfaces[0].length_m < r.surfaces[1].length_m) std::swap(r.surfaces[0], r.surfaces[1]);
  } else if (s.surface != engine::Surface::kUnknown) {
    r.surfaces = {{s.surface == engine::Surface::kPaved ? "asphalt" : "ground", r.length_m}};
  } else {
    r.surfaces = {{"unknown", r.length_m}};
  }
  if (!trail) {
    const double nu = u(rng);
    s.network = nu < 0.03 ? 1 : nu < 0.15 ? 2 : nu < 0.5 ? 3 : 4;
    r.network = engine::NetworkName(s.network);
    r.ref = std::string(1, static_cast<char>('A' + rng() % 26)) + std::to_string(1 + rng() % 300);
    r.operator_name = "Synthetic Trails Club";
    r.symbol = "red:white:red_bar";
  }
  r.name = std::string(kPlaces[rng() % std::size(kPlaces)]) + ' ' +
           kFeatures[rng() % std::size(kFeatures)] + (trail ? " Path " : " Trail ") +
           std::to_string(i);
  const uint64_t ways = std::max<uint64_t>(1, static_cast<uint64_t>(r.length_m / 600));
  for (uint64_t w = 0; w < ways; ++w) r.member_ways.push_back(r.osm_id * 16 + w);
  return r;
}

namespace {

// Calls make(i) for i in [begin, end) on `threads` threads; results in order.
template <typename T, typename F>
std::vector<T> ParallelMake(size_t begin, size_t end, int threads, F make) {
  std::vector<T> out(end - begin);
  std::vector<std::thread> pool;
  const size_t t = static_cast<size_t>(std::max(1, threads));
  for (size_t k = 0; k < t; ++k) {
    pool.emplace_back([&, k] {
      for (size_t i = begin + k; i < end; i += t) out[i - begin] = make(i);
    });
  }
  for (std::thread& th : pool) th.join();
  return out;
}

}  // namespace

SyntheticRoutes MakeSyntheticRoutes(const SyntheticRoutesOptions& o) {
  struct Piece {
    engine::RouteSummary summary;
    engine::RouteGeometry geometry;
  };
  std::vector<Piece> pieces =
      ParallelMake<Piece>(0, o.count, engine::ThreadsOrCores(0), [&](size_t i) {
        engine::Route r = MakeSyntheticRoute(o, i);
        return Piece{r.summary, std::move(r.geometry)};
      });
  SyntheticRoutes out;
  out.summaries.reserve(o.count);
  out.geometries.reserve(o.count);
  for (Piece& p : pieces) {
    out.summaries.push_back(p.summary);
    out.geometries.push_back(std::move(p.geometry));
  }
  return out;
}

Result<SyntheticDbStats> WriteSyntheticRouteDb(
    const SyntheticRoutesOptions& o, const std::string& db_path, int threads,
    const std::function<void(uint64_t, uint64_t)>& progress) {
  const auto start = std::chrono::steady_clock::now();
  threads = engine::ThreadsOrCores(threads);
  Result<std::unique_ptr<index::RouteDbBuilder>> builder = index::RouteDbBuilder::Create(db_path);
  if (!builder.ok()) return builder.status();
  // Ids must rise: relations (origin 1) in index order, then named trails (origin 2).
  std::vector<size_t> order[2];
  for (size_t i = 0; i < o.count; ++i) order[SyntheticRouteIsTrail(o, i) ? 1 : 0].push_back(i);
  uint64_t done = 0, trails = order[1].size(), loops = 0;
  double length_m = 0;
  constexpr size_t kBatch = 1 << 14;
  for (const std::vector<size_t>& ids : order) {
    for (size_t b = 0; b < ids.size(); b += kBatch) {
      const size_t e = std::min(ids.size(), b + kBatch);
      std::vector<engine::Route> batch = ParallelMake<engine::Route>(
          b, e, threads, [&](size_t k) { return MakeSyntheticRoute(o, ids[k]); });
      for (const engine::Route& r : batch) {
        STRIDE_RETURN_IF_ERROR((*builder)->AddRoute(r));
        loops += r.summary.loop;
        length_m += r.length_m;
        if (progress && (++done & 0xffff) == 0) progress(done, o.count);
      }
    }
  }
  nlohmann::json counts = {{"routes", o.count},
                           {"route_relations", o.count - trails},
                           {"named_trails", trails},
                           {"loops", loops},
                           {"route_length_km", std::round(length_m / 100.0) / 10.0},
                           {"trail_edges", 0}};
  nlohmann::json generator = {{"generator", "stride datasets/gen_routes"},
                              {"count", o.count},
                              {"seed", o.seed},
                              {"region", {o.min_lon, o.min_lat, o.max_lon, o.max_lat}},
                              {"mean_length_m", o.mean_length_m}};
  const std::string finished_at =
      !o.finished_at.empty()
          ? o.finished_at
          : engine::FormatIsoTime(static_cast<double>(
                std::chrono::system_clock::to_time_t(std::chrono::system_clock::now())));
  nlohmann::json import = {{"stride_version", STRIDE_VERSION_TEXT},
                           {"finished_at", finished_at},
                           {"synthetic", generator}};
  STRIDE_RETURN_IF_ERROR(
      (*builder)->Commit({{"counts", counts.dump()}, {"import", import.dump()}}));
  SyntheticDbStats stats;
  stats.routes = o.count;
  stats.bytes = (*builder)->committed_bytes();
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

}  // namespace stride::datasets
