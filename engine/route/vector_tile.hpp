// SPDX-License-Identifier: Apache-2.0
//
// Mapbox Vector Tiles (MVT 2.1): the tile grid of Web Mercator (z/x/y, x east, y south, 2^z
// tiles a side) and an encoder of line layers. A tile is a protobuf message (written here by
// hand: five field types) holding layers of features; a feature's geometry is commands in tile
// units (extent 4096 a side), each coordinate the zigzag-encoded difference from the last.
//
// Lines are clipped to the tile plus a buffer (so strokes continue across tile edges), which
// may split one line into several (a MultiLineString feature); points that round to the same
// tile unit are merged. What to simplify is the caller's choice (engine/route/simplify.hpp).
//
// Thread-safety: pure functions; a TileLayer is a plain value.
//
//   TileLayer routes("routes");
//   routes.AddLine(id, {{"name", "GR 11"}, {"length_m", 12345.0}}, parts, tile);
//   std::string mvt = EncodeTile({&routes});
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "engine/route/route.hpp"

namespace stride::engine {

inline constexpr int kTileExtent = 4096;  // units a side
inline constexpr int kTileBuffer = 64;    // units clipped beyond each edge
inline constexpr int kMaxTileZoom = 22;

struct TileId {
  int z = 0;
  uint32_t x = 0, y = 0;
};

// The WGS84 box of a tile, widened by `buffer` tile units on each side (latitudes clamped to
// Web Mercator's ±85.0511°).
BoxE7 TileBox(TileId t, int buffer = kTileBuffer);
// Metres on the ground per tile unit at the tile's centre latitude.
double TileUnitMetres(TileId t);

// A feature property: text, a number, or a flag.
using TileValue = std::variant<std::string, double, bool>;
using TileProperties = std::vector<std::pair<std::string, TileValue>>;

class TileLayer {
 public:
  explicit TileLayer(std::string name) : name_(std::move(name)) {}

  // Adds the parts (polylines in WGS84) clipped to `tile` as one (Multi)LineString feature;
  // nothing when no part crosses the tile. Returns whether a feature was added.
  bool AddLine(uint64_t id, const TileProperties& properties,
               const std::vector<std::vector<PointE7>>& parts, TileId tile);

  const std::string& name() const { return name_; }
  size_t features() const { return features_; }
  // The layer message (Tile.layers entry body).
  std::string Encode() const;

 private:
  uint32_t KeyIndex(const std::string& k);
  uint32_t ValueIndex(const TileValue& v);

  std::string name_;
  std::vector<std::string> keys_;
  std::map<std::string, uint32_t> key_index_;
  std::vector<TileValue> values_;
  std::map<TileValue, uint32_t> value_index_;
  std::string feature_bytes_;  // the encoded features, each a field 2 of the layer
  size_t features_ = 0;
};

// The tile: its non-empty layers, in order.
std::string EncodeTile(const std::vector<const TileLayer*>& layers);

}  // namespace stride::engine
