// SPDX-License-Identifier: Apache-2.0
//
// What OSM tags mean to Stride: which relations are runners' routes, which ways a person may
// walk on, which of those make named trails, and how surface, sac_scale and network map onto
// the small enums a route summary filters on.
//
// Walkable ("foot access"): a highway a pedestrian may use by default (footway, path, steps,
// pedestrian, track, bridleway, living_street, residential, service, unclassified, road,
// tertiary, secondary, primary and their _link forms, corridor) unless foot=no|private|
// use_sidepath or access=no|private without a foot permission; any highway with
// foot=yes|designated|permissive (a cycleway, a trunk); never motorways, construction,
// proposed or abandoned ways, nor areas (area=yes).
// Trail highways (named trails): path, footway, track, bridleway, steps, pedestrian, and
// cycleway with foot=yes|designated|permissive.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string_view>

#include "engine/route/route.hpp"

namespace stride::importers {

// Tag values looked up by key; an absent tag is an empty view.
class TagView {
 public:
  virtual ~TagView() = default;
  virtual std::string_view Get(std::string_view key) const = 0;
};

// The route type for a relation's route=* value; nullopt when runners do not search for it.
// Accepted: hiking, foot, walking, running, fitness_trail, nordic_walking, trail_running
// (as running), jogging (as running), inline_skates is not.
std::optional<engine::RouteType> RouteTypeForRelation(std::string_view route_value);

// Foot access of a way: 0 not walkable, 1 walkable by default, 2 foot=yes|permissive,
// 3 foot=designated.
uint8_t FootAccess(const TagView& tags);
bool IsTrailHighway(const TagView& tags, uint8_t foot_access);

// sac_scale value to 1..6 (hiking .. difficult_alpine_hiking); 0 when absent or unknown.
uint8_t SacScaleLevel(std::string_view v);
// network=iwn|nwn|rwn|lwn to 1..4; 0 otherwise.
uint8_t NetworkLevel(std::string_view v);
// surface=* to paved / unpaved; kUnknown for values that say neither.
engine::Surface SurfaceClass(std::string_view v);
// The surface a trail highway implies when untagged (path, track, bridleway: unpaved;
// pedestrian, living_street, residential...: paved); kUnknown otherwise.
engine::Surface ImpliedSurface(std::string_view highway);

}  // namespace stride::importers
