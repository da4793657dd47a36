// SPDX-License-Identifier: Apache-2.0
#include "server/tile_api.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <functional>
#include <span>

#include "engine/route/route_json.hpp"
#include "engine/route/simplify.hpp"
#include "engine/route/vector_tile.hpp"
#include "server/route_api.hpp"

namespace stride::server {
namespace {

using engine::PointE7;

Result<uint32_t> Whole(const std::string& name, const std::string& text, uint64_t max) {
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v > max) {
    return Status::InvalidArgument(name + ": '" + text + "'; expected a whole number from 0 to " +
                                   std::to_string(max));
  }
  return static_cast<uint32_t>(v);
}

Result<engine::TileId> ParseTile(const std::string& z, const std::string& x,
                                 const std::string& y_file) {
  const std::string suffix = ".mvt";
  if (y_file.size() <= suffix.size() ||
      y_file.compare(y_file.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return Status::InvalidArgument("tile: '" + y_file + "'; expected {y}.mvt");
  }
  engine::TileId t;
  STRIDE_ASSIGN_OR_RETURN(const uint32_t zoom, Whole("z", z, engine::kMaxTileZoom));
  t.z = static_cast<int>(zoom);
  const uint64_t last = (uint64_t{1} << t.z) - 1;
  STRIDE_ASSIGN_OR_RETURN(t.x, Whole("x", x, last));
  STRIDE_ASSIGN_OR_RETURN(t.y, Whole("y", y_file.substr(0, y_file.size() - suffix.size()), last));
  return t;
}

// The parts of `points` (one line) simplified for the tile.
std::vector<PointE7> Simplified(const std::vector<PointE7>& points, size_t begin, size_t end,
                                double tolerance_m) {
  return engine::SimplifyLine(std::span(points).subspan(begin, end - begin), tolerance_m);
}

void AddRoutes(const index::RouteSnapshot& s, engine::TileId t, engine::TileLayer* layer) {
  const engine::BoxE7 box = engine::TileBox(t);
  const double unit_m = engine::TileUnitMetres(t);
  const double min_length_m = 2 * 16 * unit_m;  // two 256-px pixels
  engine::RouteFilter drawable;  // the index skips subtrees of routes too short to draw
  drawable.min_length_m = static_cast<float>(min_length_m);
  std::vector<index::RouteIndex::Hit> hits =
      s.index.Bbox(box, drawable, index::RouteIndex::SortKey::kLength, s.index.size());
  // Longest first: what a map at this zoom shows first, and what a cap keeps.
  std::reverse(hits.begin(), hits.end());
  size_t added = 0;
  for (const index::RouteIndex::Hit& h : hits) {
    const engine::RouteSummary& r = s.index.summary(h.index);
    if (r.length_m < min_length_m || added == kMaxTileRoutes) break;
    std::vector<std::vector<PointE7>> parts;
    const engine::RouteGeometry& g = s.index.geometry(h.index);
    engine::ForEachPart(g, [&](size_t begin, size_t end) {
      parts.push_back(Simplified(g.points, begin, end, 4 * unit_m));
    });
    engine::TileProperties props = {{"osm", engine::OsmRefOf(r.id)},
                                    {"type", std::string(engine::RouteTypeName(r.type))},
                                    {"length_m", std::round(static_cast<double>(r.length_m))},
                                    {"ascent_m", std::round(static_cast<double>(r.ascent_m))},
                                    {"loop", r.loop}};
    if (const std::string_view name = s.name(h.index); !name.empty()) {
      props.emplace_back("name", std::string(name));
    }
    added += layer->AddLine(r.id, props, parts, t);
  }
}

void AddTrails(const engine::trail::TrailGraph& g, engine::TileId t, engine::TileLayer* layer) {
  const double unit_m = engine::TileUnitMetres(t);
  for (uint32_t e : g.EdgesInBox(engine::TileBox(t))) {
    const engine::trail::GraphEdge& edge = g.edges[e];
    const std::span<const PointE7> line =
        std::span(g.shape).subspan(edge.shape_first, edge.shape_count);
    engine::TileProperties props = {{"highway", g.str(edge.highway)},
                                    {"sac", static_cast<double>(edge.sac)}};
    if (edge.name != 0) props.emplace_back("name", g.str(edge.name));
    if (edge.surface != 0) props.emplace_back("surface", g.str(edge.surface));
    layer->AddLine(e, props, {engine::SimplifyLine(line, 4 * unit_m)}, t);
  }
}

}  // namespace

ApiResponse GetTile(const index::RouteSnapshot& s, const std::string& z, const std::string& x,
                    const std::string& y_file, const std::string& if_none_match) {
  Result<engine::TileId> t = ParseTile(z, x, y_file);
  if (!t.ok()) return ErrorFromStatus(t.status());
  // The same database (its import and directory) and the same tile: the same bytes.
  char etag[64];
  std::snprintf(etag, sizeof etag, "\"%016zx\"",
                std::hash<std::string>{}(s.import_finished_at + "|" + std::to_string(s.dir_inode) +
                                         "|" + z + "/" + x + "/" + y_file));
  HeaderList headers = {{"ETag", etag}, {"Cache-Control", "public, max-age=300"}};
  if (!if_none_match.empty() && if_none_match.find(etag) != std::string::npos) {
    ApiResponse r(304, "", kMvtType);
    r.headers = std::move(headers);
    return r;
  }
  engine::TileLayer routes("routes"), trails("trails");
  AddRoutes(s, *t, &routes);
  if (t->z >= kMinTrailZoom && s.graph) AddTrails(*s.graph, *t, &trails);
  ApiResponse r(200, engine::EncodeTile({&routes, &trails}), kMvtType);
  r.headers = std::move(headers);
  return r;
}

}  // namespace stride::server
