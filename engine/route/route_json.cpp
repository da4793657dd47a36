// SPDX-License-Identifier: Apache-2.0
#include "engine/route/route_json.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iterator>
#include <nlohmann/json.hpp>

#include "engine/text/json_dump.hpp"
#include "engine/text/round.hpp"

namespace stride::engine {
namespace {

using Json = nlohmann::ordered_json;

using engine::RoundTo;

Json OrNull(const std::string& s) {
  return s.empty() ? Json(nullptr) : Json(s);
}

Json Coordinates(const RouteGeometry& g) {
  Json parts = Json::array();
  ForEachPart(g, [&](size_t b, size_t e) {
    Json line = Json::array();
    for (size_t i = b; i < e; ++i) line.push_back({g.points[i].lon * 1e-7, g.points[i].lat * 1e-7});
    parts.push_back(std::move(line));
  });
  return Json{{"type", "MultiLineString"}, {"coordinates", std::move(parts)}};
}

Json Polyline6(const RouteGeometry& g) {
  Json parts = Json::array();
  ForEachPart(g, [&](size_t b, size_t e) { parts.push_back(EncodePolyline6(g.points, b, e)); });
  return Json{{"type", "polyline6"}, {"parts", std::move(parts)}};
}

// Length and climbing figures; the climbing ones are null without a profile.
void PutClimb(const Route& r, Json& j) {
  const bool has_ele = !r.profile.empty();
  j["length_m"] = RoundTo(r.length_m, 0.1);
  j["ascent_m"] = has_ele ? Json(RoundTo(r.ascent_m, 0.1)) : Json(nullptr);
  j["descent_m"] = has_ele ? Json(RoundTo(r.descent_m, 0.1)) : Json(nullptr);
  j["max_grade"] = has_ele ? Json(RoundTo(r.max_grade, 0.0001)) : Json(nullptr);
  j["avg_grade"] = has_ele ? Json(RoundTo(r.avg_grade, 0.0001)) : Json(nullptr);
}

Json Profile(const Route& r) {
  if (r.profile.empty()) return nullptr;
  Json d = Json::array(), e = Json::array();
  for (size_t i = 0; i < r.profile.distance_m.size(); ++i) {
    d.push_back(RoundTo(r.profile.distance_m[i], 0.1));
    e.push_back(RoundTo(r.profile.elevation_m[i], 0.1));
  }
  return {{"distance_m", std::move(d)}, {"elevation_m", std::move(e)}};
}

}  // namespace

const char* RouteTypeName(RouteType t) {
  switch (t) {
    case RouteType::kHiking:
      return "hiking";
    case RouteType::kFoot:
      return "foot";
    case RouteType::kWalking:
      return "walking";
    case RouteType::kRunning:
      return "running";
    case RouteType::kFitnessTrail:
      return "fitness_trail";
    case RouteType::kNordicWalking:
      return "nordic_walking";
    case RouteType::kNamedTrail:
      return "named_trail";
    case RouteType::kOther:
      break;
  }
  return "other";
}

const char* SurfaceName(Surface s) {
  switch (s) {
    case Surface::kPaved:
      return "paved";
    case Surface::kUnpaved:
      return "unpaved";
    case Surface::kMixed:
      return "mixed";
    case Surface::kUnknown:
      break;
  }
  return "unknown";
}

const char* NetworkName(uint8_t level) {
  static const char* const kNames[] = {nullptr, "iwn", "nwn", "rwn", "lwn"};
  return level < std::size(kNames) ? kNames[level] : nullptr;
}

std::string OsmRefOf(uint64_t route_id) {
  const char* kind = RouteIdOrigin(route_id) == OsmOrigin::kRelation     ? "relation/"
                     : RouteIdOrigin(route_id) == OsmOrigin::kNamedTrail ? "trail/"
                                                                         : "unknown/";
  return kind + std::to_string(RouteIdOsmId(route_id));
}

std::optional<uint64_t> ParseRouteRef(std::string_view t) {
  OsmOrigin origin = OsmOrigin::kUnknown;
  for (const auto& [prefix, o] :
       {std::pair<std::string_view, OsmOrigin>{"relation/", OsmOrigin::kRelation},
        {"trail/", OsmOrigin::kNamedTrail},
        {"r", OsmOrigin::kRelation},
        {"R", OsmOrigin::kRelation},
        {"w", OsmOrigin::kNamedTrail},
        {"W", OsmOrigin::kNamedTrail}}) {
    if (t.starts_with(prefix)) {
      origin = o;
      t.remove_prefix(prefix.size());
      break;
    }
  }
  uint64_t n = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size()) return std::nullopt;
  return origin == OsmOrigin::kUnknown ? n : RouteIdFor(origin, n);
}

std::string EncodePolyline6(const std::vector<PointE7>& points, size_t begin, size_t end) {
  std::string out;
  int64_t plat = 0, plon = 0;
  auto put = [&out](int64_t v) {
    uint64_t u = v < 0 ? ~(static_cast<uint64_t>(v) << 1) : static_cast<uint64_t>(v) << 1;
    while (u >= 0x20) {
      out.push_back(static_cast<char>((0x20 | (u & 0x1f)) + 63));
      u >>= 5;
    }
    out.push_back(static_cast<char>(u + 63));
  };
  for (size_t i = begin; i < end && i < points.size(); ++i) {
    const int64_t lat = std::llround(points[i].lat / 10.0),
                  lon = std::llround(points[i].lon / 10.0);
    put(lat - plat);
    put(lon - plon);
    plat = lat, plon = lon;
  }
  return out;
}

std::string RouteJson(const Route& r, const RouteJsonOptions& options) {
  const RouteSummary& s = r.summary;
  const bool polyline = options.geometry == GeometryFormat::kPolyline6;
  Json j;
  j["id"] = s.id;
  j["osm"] = OsmRefOf(s.id);
  j["type"] = RouteTypeName(s.type);
  j["route_tag"] = OrNull(r.route_tag);
  j["name"] = OrNull(r.name);
  j["ref"] = OrNull(r.ref);
  j["network"] = OrNull(r.network);
  j["operator"] = OrNull(r.operator_name);
  j["symbol"] = OrNull(r.symbol);
  j["sac_scale"] = OrNull(r.sac_scale);
  j["difficulty"] = s.difficulty;
  j["website"] = OrNull(r.website);
  j["description"] = OrNull(r.description);
  PutClimb(r, j);
  j["loop"] = s.loop;
  j["parts"] = r.geometry.part_starts.size();
  j["bbox"] = {s.bbox.min_lon * 1e-7, s.bbox.min_lat * 1e-7, s.bbox.max_lon * 1e-7,
               s.bbox.max_lat * 1e-7};
  j["surface"] = SurfaceName(s.surface);
  Json surfaces = Json::array();
  for (const SurfaceShare& sh : r.surfaces) {
    surfaces.push_back({{"surface", sh.surface}, {"length_m", RoundTo(sh.length_m, 0.1)}});
  }
  j["surfaces"] = std::move(surfaces);
  j["member_ways"] = r.member_ways.size();
  j["member_relations"] = r.member_relations;
  j["missing_members"] = r.missing_members;
  j["elevation_method"] = OrNull(r.elevation_method);
  j["geometry"] = polyline ? Polyline6(r.geometry) : Coordinates(r.geometry);
  Json branches = Json::array();
  for (const RouteBranch& b : r.branches) {
    Json branch = {{"role", b.role}, {"length_m", RoundTo(b.length_m, 0.1)}};
    if (!polyline) branch["geometry"] = Coordinates(b.geometry);
    branches.push_back(std::move(branch));
  }
  j["branches"] = std::move(branches);
  if (options.profile) j["profile"] = Profile(r);
  j["points"] = r.geometry.points.size();
  return engine::DumpJson(j, options.indent);
}

std::string RouteProfileJson(const Route& r) {
  Json j;
  j["id"] = r.summary.id;
  PutClimb(r, j);
  j["elevation_method"] = OrNull(r.elevation_method);
  j["profile"] = Profile(r);
  return engine::DumpJson(j);
}

}  // namespace stride::engine
