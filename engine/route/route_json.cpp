// SPDX-License-Identifier: Apache-2.0
#include "engine/route/route_json.hpp"

#include <cmath>
#include <nlohmann/json.hpp>

namespace stride::engine {
namespace {

using Json = nlohmann::ordered_json;

double Round(double v, double unit) {
  return std::round(v / unit) * unit;
}

Json OrNull(const std::string& s) {
  return s.empty() ? Json(nullptr) : Json(s);
}

Json Coordinates(const RouteGeometry& g) {
  Json parts = Json::array();
  const size_t n = g.points.size();
  for (size_t k = 0; k < g.part_starts.size(); ++k) {
    const size_t b = g.part_starts[k];
    const size_t e = k + 1 < g.part_starts.size() ? g.part_starts[k + 1] : n;
    Json line = Json::array();
    for (size_t i = b; i < e && i < n; ++i) {
      line.push_back({g.points[i].lon * 1e-7, g.points[i].lat * 1e-7});
    }
    parts.push_back(std::move(line));
  }
  return Json{{"type", "MultiLineString"}, {"coordinates", std::move(parts)}};
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

std::string OsmRefOf(uint64_t route_id) {
  const char* kind = RouteIdOrigin(route_id) == OsmOrigin::kRelation     ? "relation/"
                     : RouteIdOrigin(route_id) == OsmOrigin::kNamedTrail ? "trail/"
                                                                         : "unknown/";
  return kind + std::to_string(RouteIdOsmId(route_id));
}

std::string RouteJson(const Route& r, int indent) {
  const RouteSummary& s = r.summary;
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
  j["length_m"] = Round(r.length_m, 0.1);
  const bool has_ele = !r.profile.empty();
  j["ascent_m"] = has_ele ? Json(Round(r.ascent_m, 0.1)) : Json(nullptr);
  j["descent_m"] = has_ele ? Json(Round(r.descent_m, 0.1)) : Json(nullptr);
  j["max_grade"] = has_ele ? Json(Round(r.max_grade, 0.0001)) : Json(nullptr);
  j["avg_grade"] = has_ele ? Json(Round(r.avg_grade, 0.0001)) : Json(nullptr);
  j["loop"] = s.loop;
  j["parts"] = r.geometry.part_starts.size();
  j["bbox"] = {s.bbox.min_lon * 1e-7, s.bbox.min_lat * 1e-7, s.bbox.max_lon * 1e-7,
               s.bbox.max_lat * 1e-7};
  j["surface"] = SurfaceName(s.surface);
  Json surfaces = Json::array();
  for (const SurfaceShare& sh : r.surfaces) {
    surfaces.push_back({{"surface", sh.surface}, {"length_m", Round(sh.length_m, 0.1)}});
  }
  j["surfaces"] = std::move(surfaces);
  j["member_ways"] = r.member_ways.size();
  j["member_relations"] = r.member_relations;
  j["missing_members"] = r.missing_members;
  j["elevation_method"] = OrNull(r.elevation_method);
  j["geometry"] = Coordinates(r.geometry);
  Json branches = Json::array();
  for (const RouteBranch& b : r.branches) {
    branches.push_back({{"role", b.role},
                        {"length_m", Round(b.length_m, 0.1)},
                        {"geometry", Coordinates(b.geometry)}});
  }
  j["branches"] = std::move(branches);
  if (has_ele) {
    Json d = Json::array(), e = Json::array();
    for (size_t i = 0; i < r.profile.distance_m.size(); ++i) {
      d.push_back(Round(r.profile.distance_m[i], 0.1));
      e.push_back(Round(r.profile.elevation_m[i], 0.1));
    }
    j["profile"] = {{"distance_m", std::move(d)}, {"elevation_m", std::move(e)}};
  } else {
    j["profile"] = nullptr;
  }
  return j.dump(indent);
}

}  // namespace stride::engine
