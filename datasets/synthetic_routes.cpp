// SPDX-License-Identifier: Apache-2.0
#include "datasets/synthetic_routes.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include "engine/geo/geodesy.hpp"

namespace stride::datasets {

SyntheticRoutes MakeSyntheticRoutes(const SyntheticRoutesOptions& o) {
  SyntheticRoutes out;
  out.summaries.reserve(o.count);
  out.geometries.reserve(o.count);
  std::mt19937_64 rng(o.seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> turn(0.0, 0.35);
  std::lognormal_distribution<double> length(std::log(o.mean_length_m) - 0.3, 0.7);
  static const engine::RouteType kTypes[] = {
      engine::RouteType::kHiking,       engine::RouteType::kHiking,
      engine::RouteType::kHiking,       engine::RouteType::kFoot,
      engine::RouteType::kWalking,      engine::RouteType::kRunning,
      engine::RouteType::kNamedTrail,   engine::RouteType::kNamedTrail,
      engine::RouteType::kFitnessTrail, engine::RouteType::kNordicWalking};
  for (size_t r = 0; r < o.count; ++r) {
    engine::RouteSummary s;
    s.id = 1'000'000 + r * 7;  // sparse ids, as OSM's are
    const double len = std::clamp(length(rng), 1000.0, 60000.0);
    const bool loop = u(rng) < 0.33;
    const double lat0 = o.min_lat + u(rng) * (o.max_lat - o.min_lat);
    const double lon0 = o.min_lon + u(rng) * (o.max_lon - o.min_lon);
    const engine::LocalPlane plane(lat0, lon0);
    engine::RouteGeometry g;
    g.part_starts.push_back(0);
    const double step = 80.0;
    const int n = std::max(2, static_cast<int>(len / step) + 1);
    double x = 0, y = 0, heading = u(rng) * 2 * engine::kPi;
    const double loop_turn = loop ? 2 * engine::kPi / (n - 1) : 0.0;  // loops bend round
    for (int i = 0; i < n; ++i) {
      double lat, lon;
      plane.ToDegrees(x, y, &lat, &lon);
      const engine::PointE7 p{static_cast<int32_t>(std::lround(lat * 1e7)),
                              static_cast<int32_t>(std::lround(lon * 1e7))};
      g.points.push_back(p);
      s.bbox.Extend(p);
      heading += loop_turn + turn(rng) * (loop ? 0.3 : 1.0);
      x += step * std::sin(heading);
      y += step * std::cos(heading);
    }
    if (loop) g.points.back() = g.points.front();
    s.start = g.points.front();
    s.length_m = static_cast<float>(step * (n - 1));
    const double climb_per_km = u(rng) * u(rng) * 80.0;
    s.ascent_m = static_cast<float>(climb_per_km * s.length_m / 1000.0);
    s.max_grade = static_cast<float>(std::min(0.6, climb_per_km / 1000.0 * (1.5 + 2.0 * u(rng))));
    s.type = kTypes[static_cast<size_t>(u(rng) * 10) % 10];
    s.surface = static_cast<engine::Surface>(static_cast<int>(u(rng) * 4) % 4);
    s.difficulty = static_cast<uint8_t>(std::min(6.0, std::floor(u(rng) * u(rng) * 7)));
    s.network = static_cast<uint8_t>(static_cast<int>(u(rng) * 5) % 5);
    s.loop = loop;
    out.summaries.push_back(s);
    out.geometries.push_back(std::move(g));
  }
  return out;
}

}  // namespace stride::datasets
