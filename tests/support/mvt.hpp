// SPDX-License-Identifier: Apache-2.0
//
// A Mapbox Vector Tile reader written from the MVT 2.1 specification (protobuf wire format,
// command integers, zigzag deltas), independent of engine/route/vector_tile.cpp, for the tests
// that check what the encoder and GET /v1/tiles produce.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace stride::testing {

struct MvtReader {
  std::string_view s;
  size_t i = 0;
  bool done() const { return i >= s.size(); }
  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; i < s.size(); shift += 7) {
      const auto b = static_cast<uint8_t>(s[i++]);
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) return v;
    }
    ADD_FAILURE() << "truncated varint";
    return v;
  }
  std::string_view Bytes() {
    const size_t n = Varint();
    const std::string_view b = s.substr(i, n);
    i += n;
    return b;
  }
  uint64_t Fixed64() {
    uint64_t v = 0;
    for (int k = 0; k < 8; ++k)
      v |= static_cast<uint64_t>(static_cast<uint8_t>(s[i + k])) << (8 * k);
    i += 8;
    return v;
  }
};

using Value = std::variant<std::string, double, bool>;
struct Feature {
  uint64_t id = 0;
  int type = 0;
  std::map<std::string, Value> props;
  std::vector<std::vector<std::pair<int, int>>> lines;  // tile units
};
struct Layer {
  int version = 0, extent = 0;
  std::string name;
  std::vector<Feature> features;
};

inline std::vector<uint32_t> Packed(std::string_view b) {
  MvtReader r{b};
  std::vector<uint32_t> v;
  while (!r.done()) v.push_back(static_cast<uint32_t>(r.Varint()));
  return v;
}

inline std::vector<Layer> Decode(const std::string& tile) {
  std::vector<Layer> layers;
  MvtReader t{tile};
  while (!t.done()) {
    const uint64_t key = t.Varint();
    EXPECT_EQ(key, (3u << 3) | 2u) << "a tile holds only layers";
    MvtReader l{t.Bytes()};
    Layer layer;
    std::vector<std::string> keys;
    std::vector<Value> values;
    std::vector<std::pair<Feature, std::vector<uint32_t>>> raw;  // feature, tags
    while (!l.done()) {
      const uint64_t k = l.Varint();
      switch (k >> 3) {
        case 15:
          layer.version = static_cast<int>(l.Varint());
          break;
        case 1:
          layer.name = std::string(l.Bytes());
          break;
        case 5:
          layer.extent = static_cast<int>(l.Varint());
          break;
        case 3:
          keys.emplace_back(l.Bytes());
          break;
        case 4: {
          MvtReader v{l.Bytes()};
          const uint64_t vk = v.Varint();
          if (vk >> 3 == 1) {
            values.emplace_back(std::string(v.Bytes()));
          } else if (vk >> 3 == 3) {
            const uint64_t bits = v.Fixed64();
            double d;
            std::memcpy(&d, &bits, sizeof d);
            values.emplace_back(d);
          } else if (vk >> 3 == 7) {
            values.emplace_back(v.Varint() != 0);
          } else {
            ADD_FAILURE() << "unexpected value field " << (vk >> 3);
          }
          break;
        }
        case 2: {
          MvtReader f{l.Bytes()};
          Feature feature;
          std::vector<uint32_t> tags, geometry;
          while (!f.done()) {
            const uint64_t fk = f.Varint();
            if (fk >> 3 == 1) feature.id = f.Varint();
            if (fk >> 3 == 2) tags = Packed(f.Bytes());
            if (fk >> 3 == 3) feature.type = static_cast<int>(f.Varint());
            if (fk >> 3 == 4) geometry = Packed(f.Bytes());
          }
          // Commands: MoveTo(1) starts a line, LineTo(2) extends it; zigzag deltas.
          int x = 0, y = 0;
          for (size_t i = 0; i < geometry.size();) {
            const uint32_t cmd = geometry[i] & 7, count = geometry[i] >> 3;
            ++i;
            for (uint32_t c = 0; c < count; ++c) {
              auto unzig = [](uint32_t v) { return static_cast<int>((v >> 1) ^ -(v & 1)); };
              x += unzig(geometry[i]);
              y += unzig(geometry[i + 1]);
              i += 2;
              if (cmd == 1) feature.lines.emplace_back();
              feature.lines.back().emplace_back(x, y);
            }
          }
          raw.emplace_back(std::move(feature), std::move(tags));
          break;
        }
        default:
          ADD_FAILURE() << "unexpected layer field " << (k >> 3);
      }
    }
    for (auto& [feature, tags] : raw) {
      for (size_t i = 0; i + 1 < tags.size(); i += 2) {
        feature.props[keys.at(tags[i])] = values.at(tags[i + 1]);
      }
      layer.features.push_back(std::move(feature));
    }
    layers.push_back(std::move(layer));
  }
  return layers;
}

}  // namespace stride::testing
