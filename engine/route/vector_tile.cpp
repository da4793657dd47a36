// SPDX-License-Identifier: Apache-2.0
#include "engine/route/vector_tile.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "engine/geometry/clip.hpp"

namespace stride::engine {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kMaxMercatorLat = 85.0511287798066;

double MercatorX(double lon_deg, double n) {
  return (lon_deg + 180.0) / 360.0 * n;
}
double MercatorY(double lat_deg, double n) {
  const double lat = std::clamp(lat_deg, -kMaxMercatorLat, kMaxMercatorLat) * kPi / 180.0;
  return (1.0 - std::asinh(std::tan(lat)) / kPi) / 2.0 * n;
}
double LonOf(double x, double n) {
  return x / n * 360.0 - 180.0;
}
double LatOf(double y, double n) {
  return std::atan(std::sinh(kPi * (1.0 - 2.0 * y / n))) * 180.0 / kPi;
}

// ---- protobuf wire format ----

void Varint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}
void FieldKey(int field, int wire_type, std::string* out) {
  Varint(static_cast<uint64_t>(field) << 3 | static_cast<uint64_t>(wire_type), out);
}
void Bytes(int field, const std::string& bytes, std::string* out) {
  FieldKey(field, 2, out);
  Varint(bytes.size(), out);
  out->append(bytes);
}
void PackedVarints(int field, const std::vector<uint32_t>& values, std::string* out) {
  std::string body;
  for (uint32_t v : values) Varint(v, &body);
  Bytes(field, body, out);
}
uint32_t ZigZag(int32_t v) {
  return (static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31);
}
uint32_t Command(uint32_t id, uint32_t count) {
  return (id & 0x7) | (count << 3);
}

struct P {
  double x, y;
};

}  // namespace

BoxE7 TileBox(TileId t, int buffer) {
  const double n = std::ldexp(1.0, t.z);
  const double b = static_cast<double>(buffer) / kTileExtent;
  BoxE7 box;
  box.min_lon = static_cast<int32_t>(std::floor(std::max(-180.0, LonOf(t.x - b, n)) * 1e7));
  box.max_lon = static_cast<int32_t>(std::ceil(std::min(180.0, LonOf(t.x + 1 + b, n)) * 1e7));
  box.max_lat = static_cast<int32_t>(std::ceil(LatOf(std::max(0.0, t.y - b), n) * 1e7));
  box.min_lat = static_cast<int32_t>(std::floor(LatOf(std::min(n, t.y + 1 + b), n) * 1e7));
  return box;
}

double TileUnitMetres(TileId t) {
  const double n = std::ldexp(1.0, t.z);
  const double lat = LatOf(t.y + 0.5, n) * kPi / 180.0;
  return 40'075'016.686 * std::cos(lat) / n / kTileExtent;
}

uint32_t TileLayer::KeyIndex(const std::string& k) {
  const auto [it, added] = key_index_.emplace(k, static_cast<uint32_t>(keys_.size()));
  if (added) keys_.push_back(k);
  return it->second;
}

uint32_t TileLayer::ValueIndex(const TileValue& v) {
  const auto [it, added] = value_index_.emplace(v, static_cast<uint32_t>(values_.size()));
  if (added) values_.push_back(v);
  return it->second;
}

bool TileLayer::AddLine(uint64_t id, const TileProperties& properties,
                        const std::vector<std::vector<PointE7>>& parts, TileId tile) {
  const double n = std::ldexp(1.0, tile.z);
  const double lo = -kTileBuffer, hi = kTileExtent + kTileBuffer;
  auto unit = [&](const PointE7& q) {
    return P{(MercatorX(q.lon / 1e7, n) - tile.x) * kTileExtent,
             (MercatorY(q.lat / 1e7, n) - tile.y) * kTileExtent};
  };
  // The clipped runs, in whole tile units, consecutive repeats merged.
  std::vector<std::vector<std::pair<int32_t, int32_t>>> runs;
  for (const std::vector<PointE7>& part : parts) {
    std::vector<std::pair<int32_t, int32_t>> run;
    auto add = [&](P p) {
      const std::pair<int32_t, int32_t> q{static_cast<int32_t>(std::lround(p.x)),
                                          static_cast<int32_t>(std::lround(p.y))};
      if (run.empty() || run.back() != q) run.push_back(q);
    };
    auto close = [&] {
      if (run.size() >= 2) runs.push_back(std::move(run));
      run.clear();
    };
    for (size_t i = 0; i + 1 < part.size(); ++i) {
      const P a = unit(part[i]), b = unit(part[i + 1]);
      double t0 = 0, t1 = 0;
      if (!ClipSegment({a.x, a.y}, {b.x, b.y}, {lo, lo, hi, hi}, &t0, &t1)) {
        close();
        continue;
      }
      const P ca{a.x + (b.x - a.x) * t0, a.y + (b.y - a.y) * t0};
      const P cb{a.x + (b.x - a.x) * t1, a.y + (b.y - a.y) * t1};
      if (t0 > 0) close();  // entered from outside: a new run
      add(ca);
      add(cb);
      if (t1 < 1) close();  // left the tile
    }
    close();
  }
  if (runs.empty()) return false;

  std::vector<uint32_t> geometry;
  int32_t cx = 0, cy = 0;  // the cursor, across the runs of the feature
  for (const auto& run : runs) {
    geometry.push_back(Command(1, 1));  // MoveTo
    geometry.push_back(ZigZag(run[0].first - cx));
    geometry.push_back(ZigZag(run[0].second - cy));
    cx = run[0].first;
    cy = run[0].second;
    geometry.push_back(Command(2, static_cast<uint32_t>(run.size() - 1)));  // LineTo
    for (size_t i = 1; i < run.size(); ++i) {
      geometry.push_back(ZigZag(run[i].first - cx));
      geometry.push_back(ZigZag(run[i].second - cy));
      cx = run[i].first;
      cy = run[i].second;
    }
  }
  std::vector<uint32_t> tags;
  for (const auto& [k, v] : properties) {
    tags.push_back(KeyIndex(k));
    tags.push_back(ValueIndex(v));
  }
  std::string f;
  FieldKey(1, 0, &f);  // id
  Varint(id, &f);
  PackedVarints(2, tags, &f);
  FieldKey(3, 0, &f);  // type: LINESTRING
  Varint(2, &f);
  PackedVarints(4, geometry, &f);
  Bytes(2, f, &feature_bytes_);
  ++features_;
  return true;
}

std::string TileLayer::Encode() const {
  std::string out;
  FieldKey(15, 0, &out);  // version
  Varint(2, &out);
  Bytes(1, name_, &out);
  out += feature_bytes_;
  for (const std::string& k : keys_) Bytes(3, k, &out);
  for (const TileValue& v : values_) {
    std::string value;
    if (const auto* s = std::get_if<std::string>(&v)) {
      Bytes(1, *s, &value);
    } else if (const auto* d = std::get_if<double>(&v)) {
      FieldKey(3, 1, &value);  // double, fixed64 little-endian
      uint64_t bits = 0;
      std::memcpy(&bits, d, sizeof bits);
      for (int i = 0; i < 8; ++i) value.push_back(static_cast<char>(bits >> (8 * i)));
    } else {
      FieldKey(7, 0, &value);
      Varint(std::get<bool>(v) ? 1 : 0, &value);
    }
    Bytes(4, value, &out);
  }
  FieldKey(5, 0, &out);  // extent
  Varint(kTileExtent, &out);
  return out;
}

std::string EncodeTile(const std::vector<const TileLayer*>& layers) {
  std::string out;
  for (const TileLayer* l : layers) {
    if (l->features() > 0) Bytes(3, l->Encode(), &out);
  }
  return out;
}

}  // namespace stride::engine
