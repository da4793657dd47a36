// SPDX-License-Identifier: Apache-2.0
#include "importers/osm/osm_tags.hpp"

#include <array>

#include "engine/route/route_json.hpp"

namespace stride::importers {
namespace {

template <size_t N>
bool OneOf(std::string_view v, const std::array<std::string_view, N>& set) {
  for (std::string_view s : set) {
    if (v == s) return true;
  }
  return false;
}

constexpr std::array<std::string_view, 20> kWalkableByDefault = {
    "footway",   "path",          "steps",         "pedestrian", "track",
    "bridleway", "living_street", "residential",   "service",    "unclassified",
    "road",      "tertiary",      "tertiary_link", "secondary",  "secondary_link",
    "primary",   "primary_link",  "corridor",      "crossing",   "platform"};
constexpr std::array<std::string_view, 7> kNeverWalkable = {
    "motorway", "motorway_link", "construction", "proposed", "abandoned", "razed", "elevator"};
constexpr std::array<std::string_view, 3> kFootYes = {"yes", "permissive", "designated"};
constexpr std::array<std::string_view, 4> kFootNo = {"no", "private", "use_sidepath",
                                                     "discouraged"};

}  // namespace

std::optional<engine::RouteType> RouteTypeForRelation(std::string_view v) {
  using engine::RouteType;
  if (v == "hiking") return RouteType::kHiking;
  if (v == "foot") return RouteType::kFoot;
  if (v == "walking") return RouteType::kWalking;
  if (v == "running" || v == "trail_running" || v == "jogging") return RouteType::kRunning;
  if (v == "fitness_trail") return RouteType::kFitnessTrail;
  if (v == "nordic_walking") return RouteType::kNordicWalking;
  return std::nullopt;
}

uint8_t FootAccess(const TagView& tags) {
  const std::string_view highway = tags.Get("highway");
  if (highway.empty() || OneOf(highway, kNeverWalkable)) return 0;
  if (tags.Get("area") == "yes") return 0;
  const std::string_view foot = tags.Get("foot");
  if (OneOf(foot, kFootNo)) return 0;
  if (foot == "designated") return 3;
  if (OneOf(foot, kFootYes)) return 2;
  const std::string_view access = tags.Get("access");
  if (access == "no" || access == "private") return 0;
  return OneOf(highway, kWalkableByDefault) ? 1 : 0;
}

bool IsTrailHighway(const TagView& tags, uint8_t foot_access) {
  if (foot_access == 0) return false;
  const std::string_view h = tags.Get("highway");
  if (h == "path" || h == "footway" || h == "track" || h == "bridleway" || h == "steps" ||
      h == "pedestrian") {
    return true;
  }
  return h == "cycleway" && foot_access >= 2;
}

uint8_t SacScaleLevel(std::string_view v) {
  if (v == "hiking" || v == "T1") return 1;
  if (v == "mountain_hiking" || v == "T2") return 2;
  if (v == "demanding_mountain_hiking" || v == "T3") return 3;
  if (v == "alpine_hiking" || v == "T4") return 4;
  if (v == "demanding_alpine_hiking" || v == "T5") return 5;
  if (v == "difficult_alpine_hiking" || v == "T6") return 6;
  return 0;
}

uint8_t NetworkLevel(std::string_view v) {
  for (uint8_t level = 1; engine::NetworkName(level) != nullptr; ++level) {
    if (v == engine::NetworkName(level)) return level;
  }
  return 0;
}

engine::Surface SurfaceClass(std::string_view v) {
  static constexpr std::array<std::string_view, 13> kPaved = {
      "paved",         "asphalt",  "concrete",    "concrete:plates",    "concrete:lanes",
      "paving_stones", "sett",     "cobblestone", "unhewn_cobblestone", "metal",
      "wood",          "chipseal", "bricks"};
  static constexpr std::array<std::string_view, 16> kUnpaved = {
      "unpaved",   "gravel",      "fine_gravel", "compacted", "dirt", "earth",
      "ground",    "grass",       "mud",         "sand",      "rock", "pebblestone",
      "woodchips", "grass_paver", "stone",       "scree"};
  if (OneOf(v, kPaved)) return engine::Surface::kPaved;
  if (OneOf(v, kUnpaved)) return engine::Surface::kUnpaved;
  return engine::Surface::kUnknown;
}

engine::Surface ImpliedSurface(std::string_view h) {
  if (h == "path" || h == "track" || h == "bridleway") return engine::Surface::kUnpaved;
  if (h == "pedestrian" || h == "living_street" || h == "residential" || h == "tertiary" ||
      h == "secondary" || h == "primary" || h == "unclassified" || h == "service") {
    return engine::Surface::kPaved;
  }
  return engine::Surface::kUnknown;
}

}  // namespace stride::importers
