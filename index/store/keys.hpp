// SPDX-License-Identifier: Apache-2.0
//
// Key and value encodings of the route database (see index/store/FORMAT.md, which this file
// owns). All integers in keys are big-endian so that byte order is numeric order.
//
//   routes           key  u64 route id                       value  RouteRecord (protobuf)
//   route_summaries  key  u64 Hilbert(start) ‖ u64 route id  value  summary, 52 bytes (below)
//   trail_graph      key  'e' ‖ u64 edge id                  value  TrailEdgeRecord (protobuf)
//                    key  'c' ‖ u32 cell ‖ u64 edge id       value  empty (candidate lookup)
//   meta             key  text                               value  text / JSON
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/route/route.hpp"

namespace stride::index {

void PutBigEndian64(std::string& out, uint64_t v);
void PutBigEndian32(std::string& out, uint32_t v);
uint64_t GetBigEndian64(const char* p);
uint32_t GetBigEndian32(const char* p);

// The first key after every key that starts with `prefix` (its last byte below 0xFF raised,
// the 0xFF bytes after it dropped): the end of a prefix's range in byte order. Empty when
// there is none (an empty prefix, or one of 0xFF bytes only).
std::string PrefixEnd(std::string_view prefix);

// Position of a point on a Hilbert curve over a 2^31 x 2^31 grid of the lon/lat plane:
// points close on the curve are close on the ground, so a scan in key order reads routes
// region by region.
uint64_t HilbertKey(engine::PointE7 p);

std::string RouteKey(uint64_t route_id);
std::string SummaryKey(const engine::RouteSummary& s);

// The summary value: little-endian fields in declaration order of RouteSummary
// (id u64, bbox 4 x i32, start 2 x i32, length/ascent/max_grade f32, type, surface,
// difficulty, network, loop u8) = 49 bytes, padded with 3 zero bytes to 52.
inline constexpr size_t kSummaryValueSize = 52;
std::string EncodeSummary(const engine::RouteSummary& s);
// False when `v` is not kSummaryValueSize bytes.
bool DecodeSummary(std::string_view v, engine::RouteSummary* s);

// Trail graph. Cells split the lon/lat plane into 2^14 x 2^14 (about 2.4 x 1.2 km at the
// equator), numbered along a Hilbert curve of that order.
inline constexpr int kEdgeCellLevel = 14;
std::string EdgeKey(uint64_t edge_id);
std::string EdgeCellKey(uint32_t cell, uint64_t edge_id);
std::string EdgeCellPrefix(uint32_t cell);
// Every cell a box overlaps (capped at `max_cells`; an empty vector when the box is larger).
std::vector<uint32_t> CellsForBox(const engine::BoxE7& box, size_t max_cells = 4096);

}  // namespace stride::index
