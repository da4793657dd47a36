// SPDX-License-Identifier: Apache-2.0
//
// Vector tiles decoded by a reader written here from the MVT 2.1 specification (protobuf wire
// format, command integers, zigzag deltas), independent of the encoder: layers, properties,
// geometry back to WGS84 within a tile unit, clipping at the buffer, and the tile grid.
#include "engine/route/vector_tile.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "tests/support/mvt.hpp"

namespace stride::engine {
namespace {

using testing::Decode;
using testing::Feature;
using testing::Layer;

// Tile units of a WGS84 point (Web Mercator, written again here).
std::pair<double, double> Units(double lat, double lon, TileId t) {
  const double n = std::ldexp(1.0, t.z);
  const double x = (lon + 180) / 360 * n;
  const double y = (1 - std::log(std::tan(M_PI / 4 + lat * M_PI / 360)) / M_PI) / 2 * n;
  return {(x - t.x) * 4096, (y - t.y) * 4096};
}

PointE7 E7(double lat, double lon) {
  return PointE7{static_cast<int32_t>(std::lround(lat * 1e7)),
                 static_cast<int32_t>(std::lround(lon * 1e7))};
}

TEST(VectorTile, TheGridIsWebMercators) {
  // z0 is the world; Andorra la Vella (42.5063 N, 1.5218 E) is tile 12/2065/1512.
  const BoxE7 world = TileBox({0, 0, 0}, 0);
  EXPECT_EQ(world.min_lon, -1800000000);
  EXPECT_EQ(world.max_lon, 1800000000);
  EXPECT_NEAR(world.max_lat / 1e7, 85.0511, 1e-4);
  const TileId t{12, 2065, 1512};
  const BoxE7 b = TileBox(t, 0);
  EXPECT_TRUE(b.min_lat <= 425063000 && 425063000 <= b.max_lat);
  EXPECT_TRUE(b.min_lon <= 15218000 && 15218000 <= b.max_lon);
  EXPECT_NEAR((b.max_lon - b.min_lon) / 1e7, 360.0 / 4096, 1e-6);
  // Ground metres per unit: 40,075 km / 2^12 / 4096 at the equator, times cos(latitude).
  EXPECT_NEAR(TileUnitMetres(t), 40'075'016.686 / 4096 / 4096 * std::cos(42.51 * M_PI / 180), 0.01);
}

TEST(VectorTile, LinesComeBackWithinATileUnitWithTheirProperties) {
  const TileId t{14, 8261, 6050};
  const BoxE7 b = TileBox(t, 0);
  // A line across the middle of the tile, 20 points.
  std::vector<PointE7> line;
  for (int i = 0; i < 20; ++i) {
    const double f = (i + 0.5) / 20;
    line.push_back(E7(b.min_lat / 1e7 + (b.max_lat - b.min_lat) / 1e7 * (0.3 + 0.4 * f),
                      b.min_lon / 1e7 + (b.max_lon - b.min_lon) / 1e7 * f));
  }
  TileLayer routes("routes");
  ASSERT_TRUE(routes.AddLine(72057594037927948ull,
                             {{"name", std::string("GR 11")}, {"length_m", 1234.5}, {"loop", true}},
                             {line}, t));
  TileLayer empty("trails");
  const std::vector<Layer> layers = Decode(EncodeTile({&routes, &empty}));
  ASSERT_EQ(layers.size(), 1u) << "an empty layer is left out";
  const Layer& l = layers[0];
  EXPECT_EQ(l.name, "routes");
  EXPECT_EQ(l.version, 2);
  EXPECT_EQ(l.extent, 4096);
  ASSERT_EQ(l.features.size(), 1u);
  const Feature& f = l.features[0];
  EXPECT_EQ(f.id, 72057594037927948ull);
  EXPECT_EQ(f.type, 2);  // LINESTRING
  EXPECT_EQ(std::get<std::string>(f.props.at("name")), "GR 11");
  EXPECT_EQ(std::get<double>(f.props.at("length_m")), 1234.5);
  EXPECT_EQ(std::get<bool>(f.props.at("loop")), true);
  ASSERT_EQ(f.lines.size(), 1u);
  ASSERT_EQ(f.lines[0].size(), line.size());
  for (size_t i = 0; i < line.size(); ++i) {
    const auto [ux, uy] = Units(line[i].lat / 1e7, line[i].lon / 1e7, t);
    EXPECT_NEAR(f.lines[0][i].first, ux, 0.5 + 1e-9) << i;
    EXPECT_NEAR(f.lines[0][i].second, uy, 0.5 + 1e-9) << i;
  }
}

TEST(VectorTile, LinesAreClippedAtTheBufferAndSplitWhereTheyLeave) {
  const TileId t{10, 516, 378};
  const BoxE7 b = TileBox(t, 0);
  const double lat0 = b.min_lat / 1e7, dlat = (b.max_lat - b.min_lat) / 1e7;
  const double lon0 = b.min_lon / 1e7, dlon = (b.max_lon - b.min_lon) / 1e7;
  auto at = [&](double fx, double fy) { return E7(lat0 + dlat * (1 - fy), lon0 + dlon * fx); };
  // In from the west, out to the east, back in from the east, out to the west: two runs.
  const std::vector<PointE7> zigzag = {at(-1, 0.2), at(2, 0.2), at(2, 0.8), at(-1, 0.8)};
  // Far away: no feature.
  const std::vector<PointE7> away = {at(5, 5), at(6, 6)};
  TileLayer layer("routes");
  EXPECT_FALSE(layer.AddLine(2, {}, {away}, t));
  ASSERT_TRUE(layer.AddLine(1, {}, {zigzag}, t));
  EXPECT_EQ(layer.features(), 1u);
  const std::vector<Layer> layers = Decode(EncodeTile({&layer}));
  ASSERT_EQ(layers.size(), 1u);
  const Feature& f = layers[0].features.at(0);
  ASSERT_EQ(f.lines.size(), 2u);
  for (const auto& run : f.lines) {
    ASSERT_EQ(run.size(), 2u);
    for (const auto& [x, y] : run) {
      EXPECT_GE(x, -kTileBuffer);
      EXPECT_LE(x, 4096 + kTileBuffer);
      EXPECT_GE(y, 0);
      EXPECT_LE(y, 4096);
    }
    // Each run spans the tile and its buffer from edge to edge.
    EXPECT_EQ(std::abs(run[1].first - run[0].first), 4096 + 2 * kTileBuffer);
  }
  // Mercator's y of 0.2 and 0.8 of the box's latitude span (not of its y span).
  const auto [ux, uy] = Units(lat0 + dlat * 0.8, lon0, t);
  (void)ux;
  EXPECT_NEAR(f.lines[0][0].second, uy, 0.5 + 1e-9);
}

}  // namespace
}  // namespace stride::engine
