// SPDX-License-Identifier: Apache-2.0
#include "index/store/keys.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace stride::index {
namespace {

// Hilbert index of (x, y) on a 2^order grid.
uint64_t Hilbert(uint32_t x, uint32_t y, int order) {
  uint64_t d = 0;
  const uint32_t n = order >= 32 ? 0 : (1u << order);
  for (uint32_t s = 1u << (order - 1); s > 0; s >>= 1) {
    const uint32_t rx = (x & s) ? 1 : 0;
    const uint32_t ry = (y & s) ? 1 : 0;
    d += static_cast<uint64_t>(s) * s * ((3 * rx) ^ ry);
    if (ry == 0) {
      if (rx == 1) {
        x = n - 1 - x;
        y = n - 1 - y;
      }
      std::swap(x, y);
    }
  }
  return d;
}

uint32_t Scale(int64_t v, int64_t offset, int64_t span, int order) {
  const auto u = static_cast<uint64_t>(std::clamp<int64_t>(v + offset, 0, span));
  const uint64_t cells = uint64_t{1} << order;
  return static_cast<uint32_t>(std::min<uint64_t>(cells - 1, u * cells / (span + 1)));
}
uint32_t LonCell(int32_t lon, int order) {
  return Scale(lon, 1'800'000'000, 3'600'000'000, order);
}
uint32_t LatCell(int32_t lat, int order) {
  return Scale(lat, 900'000'000, 1'800'000'000, order);
}

template <typename T>
void PutLe(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));  // little-endian hosts only (x86-64, aarch64)
  out.append(b, sizeof(T));
}
template <typename T>
T GetLe(const char*& p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  p += sizeof(T);
  return v;
}
static_assert(std::endian::native == std::endian::little, "summary values are little-endian");

}  // namespace

void PutBigEndian64(std::string& out, uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) out.push_back(static_cast<char>((v >> s) & 0xff));
}
void PutBigEndian32(std::string& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<char>((v >> s) & 0xff));
}
uint64_t GetBigEndian64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
uint32_t GetBigEndian32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xFF) end.pop_back();
  if (!end.empty()) end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return end;
}

uint64_t HilbertKey(engine::PointE7 p) {
  return Hilbert(LonCell(p.lon, 31), LatCell(p.lat, 31), 31);
}

std::string RouteKey(uint64_t route_id) {
  std::string k;
  PutBigEndian64(k, route_id);
  return k;
}

std::string SummaryKey(const engine::RouteSummary& s) {
  std::string k;
  PutBigEndian64(k, HilbertKey(s.start));
  PutBigEndian64(k, s.id);
  return k;
}

std::string EncodeSummary(const engine::RouteSummary& s) {
  std::string v;
  v.reserve(kSummaryValueSize);
  PutLe(v, s.id);
  PutLe(v, s.bbox.min_lat);
  PutLe(v, s.bbox.min_lon);
  PutLe(v, s.bbox.max_lat);
  PutLe(v, s.bbox.max_lon);
  PutLe(v, s.start.lat);
  PutLe(v, s.start.lon);
  PutLe(v, s.length_m);
  PutLe(v, s.ascent_m);
  PutLe(v, s.max_grade);
  PutLe(v, static_cast<uint8_t>(s.type));
  PutLe(v, static_cast<uint8_t>(s.surface));
  PutLe(v, s.difficulty);
  PutLe(v, s.network);
  PutLe(v, static_cast<uint8_t>(s.loop ? 1 : 0));
  v.append(3, '\0');
  return v;
}

bool DecodeSummary(std::string_view v, engine::RouteSummary* s) {
  if (v.size() != kSummaryValueSize) return false;
  const char* p = v.data();
  s->id = GetLe<uint64_t>(p);
  s->bbox.min_lat = GetLe<int32_t>(p);
  s->bbox.min_lon = GetLe<int32_t>(p);
  s->bbox.max_lat = GetLe<int32_t>(p);
  s->bbox.max_lon = GetLe<int32_t>(p);
  s->start.lat = GetLe<int32_t>(p);
  s->start.lon = GetLe<int32_t>(p);
  s->length_m = GetLe<float>(p);
  s->ascent_m = GetLe<float>(p);
  s->max_grade = GetLe<float>(p);
  s->type = static_cast<engine::RouteType>(
      std::min<uint8_t>(GetLe<uint8_t>(p), static_cast<uint8_t>(engine::RouteType::kOther)));
  s->surface = static_cast<engine::Surface>(
      std::min<uint8_t>(GetLe<uint8_t>(p), static_cast<uint8_t>(engine::Surface::kMixed)));
  s->difficulty = GetLe<uint8_t>(p);
  s->network = GetLe<uint8_t>(p);
  s->loop = GetLe<uint8_t>(p) != 0;
  return true;
}

std::string EdgeKey(uint64_t edge_id) {
  std::string k(1, 'e');
  PutBigEndian64(k, edge_id);
  return k;
}

std::string EdgeCellPrefix(uint32_t cell) {
  std::string k(1, 'c');
  PutBigEndian32(k, cell);
  return k;
}

std::string EdgeCellKey(uint32_t cell, uint64_t edge_id) {
  std::string k = EdgeCellPrefix(cell);
  PutBigEndian64(k, edge_id);
  return k;
}

std::vector<uint32_t> CellsForBox(const engine::BoxE7& box, size_t max_cells) {
  std::vector<uint32_t> out;
  if (box.empty()) return out;
  const uint32_t x0 = LonCell(box.min_lon, kEdgeCellLevel),
                 x1 = LonCell(box.max_lon, kEdgeCellLevel);
  const uint32_t y0 = LatCell(box.min_lat, kEdgeCellLevel),
                 y1 = LatCell(box.max_lat, kEdgeCellLevel);
  if (static_cast<uint64_t>(x1 - x0 + 1) * (y1 - y0 + 1) > max_cells) return out;
  for (uint32_t x = x0; x <= x1; ++x) {
    for (uint32_t y = y0; y <= y1; ++y) {
      out.push_back(static_cast<uint32_t>(Hilbert(x, y, kEdgeCellLevel)));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace stride::index
