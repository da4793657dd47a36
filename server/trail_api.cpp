// SPDX-License-Identifier: Apache-2.0
#include "server/trail_api.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/route/route_json.hpp"
#include "engine/text/iso_time.hpp"
#include "engine/text/json_dump.hpp"
#include "engine/text/json_writer.hpp"
#include "engine/text/round.hpp"
#include "engine/trail/hierarchy.hpp"
#include "engine/trail/match.hpp"
#include "engine/trail/router.hpp"
#include "importers/activity/activity_reader.hpp"
#include "server/route_api.hpp"

namespace stride::server {
namespace {

using engine::JsonWriter;
using engine::PointE7;
using engine::RoundTo;
using engine::trail::FootOptions;
using engine::trail::Path;
using engine::trail::Snap;
using engine::trail::TrailGraph;
using Json = nlohmann::ordered_json;

const std::vector<std::string> kFootKeys = {"avoid_steps",    "max_difficulty", "prefer_unpaved",
                                            "minimise_climb", "max_snap_m",     "format"};

Result<bool> Flag(const Params& p, const std::string& key) {
  const std::optional<std::string> v = Get(p, key);
  if (!v || *v == "false") return false;
  if (*v == "true") return true;
  return Status::InvalidArgument(key + ": '" + *v + "'; expected true or false");
}

// "lat,lon" in degrees.
Result<PointE7> ParseLatLon(const std::string& key, const std::string& text) {
  const std::vector<std::string> parts = SplitComma(text);
  if (parts.size() != 2) {
    return Status::InvalidArgument(key + ": '" + text + "'; expected lat,lon in degrees");
  }
  STRIDE_ASSIGN_OR_RETURN(const double lat, ParseNumber(key + " latitude", parts[0], -90, 90));
  STRIDE_ASSIGN_OR_RETURN(const double lon, ParseNumber(key + " longitude", parts[1], -180, 180));
  return PointE7{static_cast<int32_t>(std::lround(lat * 1e7)),
                 static_cast<int32_t>(std::lround(lon * 1e7))};
}

struct Common {
  FootOptions foot;
  double max_snap_m = 500;
  bool geojson = false;
};

Result<Common> ParseCommon(const Params& p) {
  Common c;
  STRIDE_ASSIGN_OR_RETURN(c.foot.avoid_steps, Flag(p, "avoid_steps"));
  STRIDE_ASSIGN_OR_RETURN(c.foot.prefer_unpaved, Flag(p, "prefer_unpaved"));
  STRIDE_ASSIGN_OR_RETURN(c.foot.minimise_climb, Flag(p, "minimise_climb"));
  STRIDE_ASSIGN_OR_RETURN(const std::optional<double> level,
                          OptionalNumber(p, "max_difficulty", 0, 6));
  if (level) {
    if (*level != std::floor(*level)) {
      return Status::InvalidArgument("max_difficulty: expected a whole sac_scale level 0..6");
    }
    c.foot.max_difficulty = static_cast<int>(*level);
  }
  STRIDE_ASSIGN_OR_RETURN(const std::optional<double> snap,
                          OptionalNumber(p, "max_snap_m", 1, 5000));
  c.max_snap_m = snap.value_or(500);
  const std::string format = Get(p, "format").value_or("polyline6");
  if (format != "polyline6" && format != "geojson") {
    return Status::InvalidArgument("format: '" + format + "'; expected polyline6 or geojson");
  }
  c.geojson = format == "geojson";
  return c;
}

Result<const TrailGraph*> GraphOf(const index::RouteSnapshot& s) {
  if (!s.graph) {
    return Status::Unavailable(
        s.graph_error.empty()
            ? "this route database has no trail graph (imported by an older stride): run "
              "stride import again"
            : s.graph_error + " (run stride import again)");
  }
  return s.graph.get();
}

Result<Snap> SnapPoint(const TrailGraph& g, const std::string& key, PointE7 p, const Common& c) {
  Result<Snap> s = g.Nearest(p, c.max_snap_m, engine::trail::Usable(c.foot));
  if (!s.ok()) return Status::NotFound(key + ": " + s.status().message());
  return s;
}

Json SnapJson(const Snap& s) {
  return Json{{"lat", RoundTo(s.point.lat * 1e-7, 1e-7)},
              {"lon", RoundTo(s.point.lon * 1e-7, 1e-7)},
              {"distance_m", RoundTo(s.distance_m, 0.1)}};
}

// The named routes walked, with metres on each, longest first (ties by route).
Json RoutesJson(const TrailGraph& g, const std::vector<engine::trail::Step>& steps) {
  std::vector<std::pair<uint32_t, double>> walked;  // (route, metres) per step and route
  for (const engine::trail::Step& s : steps) {
    for (const uint32_t* r = g.routes_begin(s.edge); r != g.routes_end(s.edge); ++r) {
      walked.emplace_back(*r, std::abs(s.to_m - s.from_m));
    }
  }
  // Stable: each route's metres add up in walking order, as they always have.
  std::stable_sort(walked.begin(), walked.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::pair<double, uint32_t>> routes;  // (metres, route), by route
  for (const auto& [r, m] : walked) {
    if (routes.empty() || routes.back().second != r) routes.emplace_back(0, r);
    routes.back().first += m;
  }
  std::stable_sort(routes.begin(), routes.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  Json rj = Json::array();
  for (const auto& [m, r] : routes) {
    rj.push_back({{"id", g.routes[r].id},
                  {"osm", engine::OsmRefOf(g.routes[r].id)},
                  {"name", g.str(g.routes[r].name)},
                  {"distance_m", RoundTo(m, 0.1)}});
  }
  return rj;
}

// The walk's fields, written into the open object `w`: figures, geometry, routes and surfaces;
// for a planned walk (not a matched piece) also its Tobler time and elevation profile. The
// geometry and profile go straight to text: they are most of a long walk's answer.
void WalkFields(JsonWriter& w, const TrailGraph& g, const Path& path, bool geojson,
                bool planned = true) {
  std::vector<PointE7> pts;
  std::vector<float> z;
  std::vector<double> along;
  engine::trail::PathGeometry(g, path, &pts, planned ? &z : nullptr, planned ? &along : nullptr);
  w.Key("distance_m").Number(RoundTo(path.distance_m, 0.1));
  w.Key("ascent_m").Number(RoundTo(path.ascent_m, 0.1));
  w.Key("descent_m").Number(RoundTo(path.descent_m, 0.1));
  if (planned) w.Key("duration_s").Int(std::lround(path.time_s));
  w.Key("geometry");
  if (geojson) {
    w.BeginObject().Key("type").Raw("\"LineString\"").Key("coordinates").BeginArray();
    for (const PointE7& p : pts) {
      w.BeginArray().Number(RoundTo(p.lon * 1e-7, 1e-7)).Number(RoundTo(p.lat * 1e-7, 1e-7));
      w.EndArray();
    }
    w.EndArray().EndObject();
  } else {
    w.Tree(Json(engine::EncodePolyline6(pts, 0, pts.size())));
  }
  if (planned && z.size() == pts.size() && !pts.empty()) {
    w.Key("profile").BeginObject().Key("distance_m").BeginArray();
    for (const double at : along) w.Number(RoundTo(at, 0.1));
    w.EndArray().Key("elevation_m").BeginArray();
    for (const float e : z) w.Number(RoundTo(e, 0.1));
    w.EndArray().EndObject();
  } else if (planned) {
    w.Key("profile").Raw("null");
  }
  std::map<std::string, double> by_surface;
  for (const engine::trail::Step& s : path.steps) {
    const std::string& surface = g.str(g.edges[s.edge].surface);
    by_surface[surface.empty() ? "unknown" : surface] += std::abs(s.to_m - s.from_m);
  }
  w.Key("routes").Tree(RoutesJson(g, path.steps));
  std::vector<std::pair<double, std::string>> surfaces;
  for (const auto& [s, m] : by_surface) surfaces.emplace_back(m, s);
  std::stable_sort(surfaces.begin(), surfaces.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  Json sj = Json::array();
  for (const auto& [m, s] : surfaces)
    sj.push_back({{"surface", s}, {"distance_m", RoundTo(m, 0.1)}});
  w.Key("surfaces").Tree(sj);
}

ApiResponse OrError(Result<ApiResponse> r) {
  return r.ok() ? std::move(r).value() : ErrorFromStatus(r.status());
}

}  // namespace

ApiResponse Directions(const index::RouteSnapshot& s, const Params& p) {
  auto answer = [&]() -> Result<ApiResponse> {
    std::vector<std::string> known = kFootKeys;
    known.insert(known.end(), {"from", "to", "via"});
    STRIDE_RETURN_IF_ERROR(CheckKnown(p, known));
    STRIDE_ASSIGN_OR_RETURN(const Common c, ParseCommon(p));
    const std::optional<std::string> from = Get(p, "from"), to = Get(p, "to");
    if (!from) return Status::InvalidArgument("from: missing; expected from=lat,lon");
    if (!to) return Status::InvalidArgument("to: missing; expected to=lat,lon");
    std::vector<std::pair<std::string, PointE7>> points;
    STRIDE_ASSIGN_OR_RETURN(const PointE7 a, ParseLatLon("from", *from));
    points.emplace_back("from", a);
    if (const std::optional<std::string> via = Get(p, "via")) {
      size_t begin = 0;
      int n = 0;
      while (begin <= via->size()) {
        size_t end = via->find(';', begin);
        if (end == std::string::npos) end = via->size();
        if (++n > kMaxVias) {
          return Status::InvalidArgument("via: more than " + std::to_string(kMaxVias) + " points");
        }
        const std::string key = "via[" + std::to_string(n - 1) + "]";
        STRIDE_ASSIGN_OR_RETURN(const PointE7 v, ParseLatLon(key, via->substr(begin, end - begin)));
        points.emplace_back(key, v);
        begin = end + 1;
      }
    }
    STRIDE_ASSIGN_OR_RETURN(const PointE7 b, ParseLatLon("to", *to));
    points.emplace_back("to", b);
    STRIDE_ASSIGN_OR_RETURN(const TrailGraph* g, GraphOf(s));
    std::vector<Snap> snaps;
    for (const auto& [key, pt] : points) {
      STRIDE_ASSIGN_OR_RETURN(Snap sn, SnapPoint(*g, key, pt, c));
      snaps.push_back(sn);
    }
    Path walk;
    for (size_t i = 0; i + 1 < snaps.size(); ++i) {
      Result<Path> leg = engine::trail::ShortestPath(*g, snaps[i], snaps[i + 1], c.foot);
      if (!leg.ok()) {
        return Status::NotFound(points[i].first + " -> " + points[i + 1].first + ": " +
                                leg.status().message());
      }
      walk = engine::trail::Concatenate(*g, walk, *leg, c.foot);
    }
    JsonWriter w;
    w.BeginObject();
    WalkFields(w, *g, walk, c.geojson);
    Json sj = Json::array();
    for (const Snap& sn : snaps) sj.push_back(SnapJson(sn));
    w.Key("snapped").Tree(sj);
    w.Key("cost_model").Tree(Json("Tobler hiking function; options as asked"));
    // Which search answered: both are exact; the hierarchy only for the default options.
    w.Key("search").Tree(
        Json(engine::trail::UsesHierarchy(*g, c.foot) ? "contraction hierarchy" : "A*"));
    w.EndObject();
    return ApiResponse{200, std::move(w).Take()};
  };
  return OrError(answer());
}

ApiResponse LoopRoutes(const index::RouteSnapshot& s, const Params& p) {
  auto answer = [&]() -> Result<ApiResponse> {
    std::vector<std::string> known = kFootKeys;
    known.insert(known.end(), {"lat", "lon", "distance_m", "alternatives", "seed"});
    STRIDE_RETURN_IF_ERROR(CheckKnown(p, known));
    STRIDE_ASSIGN_OR_RETURN(const Common c, ParseCommon(p));
    const std::optional<std::string> lat = Get(p, "lat"), lon = Get(p, "lon"),
                                     dist = Get(p, "distance_m");
    if (!lat || !lon) return Status::InvalidArgument("lat, lon: missing; expected the start");
    if (!dist) return Status::InvalidArgument("distance_m: missing; expected the loop's length");
    STRIDE_ASSIGN_OR_RETURN(const double la, ParseNumber("lat", *lat, -90, 90));
    STRIDE_ASSIGN_OR_RETURN(const double lo, ParseNumber("lon", *lon, -180, 180));
    STRIDE_ASSIGN_OR_RETURN(const double d, ParseNumber("distance_m", *dist, 500, kMaxLoopM));
    STRIDE_ASSIGN_OR_RETURN(const size_t alternatives, Limit(p, "alternatives", 3, 5));
    STRIDE_ASSIGN_OR_RETURN(const std::optional<double> seed, OptionalNumber(p, "seed", 0, 1e15));
    if (seed && *seed != std::floor(*seed)) {
      return Status::InvalidArgument("seed: expected a whole number");
    }
    STRIDE_ASSIGN_OR_RETURN(const TrailGraph* g, GraphOf(s));
    const PointE7 start{static_cast<int32_t>(std::lround(la * 1e7)),
                        static_cast<int32_t>(std::lround(lo * 1e7))};
    STRIDE_ASSIGN_OR_RETURN(const Snap sn, SnapPoint(*g, "lat,lon", start, c));
    engine::trail::LoopOptions o;
    o.distance_m = d;
    o.alternatives = static_cast<int>(alternatives);
    o.seed = static_cast<uint64_t>(seed.value_or(1));
    o.foot = c.foot;
    STRIDE_ASSIGN_OR_RETURN(const std::vector<engine::trail::Loop> loops,
                            engine::trail::Loops(*g, sn, o));
    JsonWriter w;
    w.BeginObject();
    w.Key("distance_m").Number(d);
    w.Key("tolerance").Number(o.tolerance);
    w.Key("seed").Tree(Json(o.seed));
    w.Key("start").Tree(SnapJson(sn));
    w.Key("loops").BeginArray();
    for (const engine::trail::Loop& l : loops) {
      w.BeginObject();
      WalkFields(w, *g, l.path, c.geojson);
      w.Key("length_error").Number(RoundTo(l.length_error, 0.0001));
      w.Key("within_tolerance").Raw(l.within_tolerance ? "true" : "false");
      w.Key("repeated_m").Number(RoundTo(l.repeated_m, 0.1));
      w.Key("path_share")
          .Number(RoundTo(l.path.distance_m > 0 ? l.path_like_m / l.path.distance_m : 0, 0.001));
      w.EndObject();
    }
    w.EndArray().EndObject();
    return ApiResponse{200, std::move(w).Take()};
  };
  return OrError(answer());
}

namespace {

// The fixes of a GeoJSON LineString (a geometry, or a Feature holding one).
Result<std::vector<engine::trail::MatchPoint>> GeoJsonFixes(const std::string& body) {
  const Json j = Json::parse(body, nullptr, false);
  if (j.is_discarded()) return Status::InvalidArgument("body: not valid JSON");
  const Json* geom = &j;
  if (j.is_object() && j.value("type", "") == "Feature" && j.contains("geometry")) {
    geom = &j["geometry"];
  }
  if (!geom->is_object() || geom->value("type", "") != "LineString" ||
      !geom->contains("coordinates") || !(*geom)["coordinates"].is_array()) {
    return Status::InvalidArgument(
        "body: expected a GeoJSON LineString (or a Feature of one), or a GPX, TCX or FIT file");
  }
  std::vector<engine::trail::MatchPoint> out;
  const Json& coords = (*geom)["coordinates"];
  for (size_t i = 0; i < coords.size(); ++i) {
    const Json& c = coords[i];
    if (!c.is_array() || c.size() < 2 || !c[0].is_number() || !c[1].is_number()) {
      return Status::InvalidArgument("body: coordinate " + std::to_string(i) +
                                     " is not [lon, lat]");
    }
    const double lon = c[0].get<double>(), lat = c[1].get<double>();
    if (!(lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180)) {
      return Status::InvalidArgument("body: coordinate " + std::to_string(i) +
                                     " is out of range: [" + std::to_string(lon) + ", " +
                                     std::to_string(lat) + "]");
    }
    engine::trail::MatchPoint m;
    m.p = {static_cast<int32_t>(std::lround(lat * 1e7)),
           static_cast<int32_t>(std::lround(lon * 1e7))};
    out.push_back(m);
  }
  return out;
}

Result<std::vector<engine::trail::MatchPoint>> FileFixes(const std::string& body) {
  STRIDE_ASSIGN_OR_RETURN(const engine::Activity a, importers::ReadActivity(body));
  for (const engine::Track& t : a.sessions) {
    std::vector<engine::trail::MatchPoint> out = engine::trail::MatchPointsOf(t);
    if (!out.empty()) return out;  // the first session with positions
  }
  return std::vector<engine::trail::MatchPoint>();
}

}  // namespace

ApiResponse MatchTrack(const index::RouteSnapshot& s, const Params& p, const std::string& body) {
  auto answer = [&]() -> Result<ApiResponse> {
    STRIDE_RETURN_IF_ERROR(CheckKnown(p, {"format"}));
    const std::string format = Get(p, "format").value_or("polyline6");
    if (format != "polyline6" && format != "geojson") {
      return Status::InvalidArgument("format: '" + format + "'; expected polyline6 or geojson");
    }
    if (body.empty()) {
      return Status::InvalidArgument("body: empty; expected a GPX, TCX or FIT file or GeoJSON");
    }
    const size_t first = body.find_first_not_of(" \t\r\n");
    const bool json = first != std::string::npos && (body[first] == '{' || body[first] == '[');
    STRIDE_ASSIGN_OR_RETURN(std::vector<engine::trail::MatchPoint> fixes,
                            json ? GeoJsonFixes(body) : FileFixes(body));
    if (fixes.size() < 2) {
      return Status::InvalidArgument("body: " + std::to_string(fixes.size()) +
                                     " positioned points; a track to match needs at least two");
    }
    if (fixes.size() > kMaxMatchPoints) {
      return Status::ResourceExhausted("body: " + std::to_string(fixes.size()) +
                                       " points; at most " + std::to_string(kMaxMatchPoints));
    }
    STRIDE_ASSIGN_OR_RETURN(const TrailGraph* g, GraphOf(s));
    STRIDE_ASSIGN_OR_RETURN(const engine::trail::MatchResult m, engine::trail::Match(*g, fixes));
    const double t0 = fixes.front().time_s;
    auto rel = [&](double t) -> Json {
      if (!std::isfinite(t) || !std::isfinite(t0)) return nullptr;
      return RoundTo(t - t0, 0.1);
    };
    JsonWriter w;
    w.BeginObject();
    w.Key("points").Int(static_cast<int64_t>(fixes.size()));
    w.Key("start_time").Tree(std::isfinite(t0) ? Json(engine::FormatIsoTime(t0)) : Json(nullptr));
    const double total = m.on_network_m + m.off_network_m;
    w.Key("on_network_m").Number(RoundTo(m.on_network_m, 0.1));
    w.Key("off_network_m").Number(RoundTo(m.off_network_m, 0.1));
    w.Key("on_network_share").Number(RoundTo(total > 0 ? m.on_network_m / total : 0, 0.001));
    w.Key("pieces").BeginArray();
    std::vector<engine::trail::Step> all;
    for (const engine::trail::MatchPiece& piece : m.pieces) {
      w.BeginObject();
      w.Key("first_point").Int(static_cast<int64_t>(piece.first_point));
      w.Key("last_point").Int(static_cast<int64_t>(piece.last_point));
      WalkFields(w, *g, piece.path, format == "geojson", false);
      w.EndObject();
      all.insert(all.end(), piece.path.steps.begin(), piece.path.steps.end());
    }
    w.EndArray();
    Json edges = Json::array();
    for (const engine::trail::MatchedEdge& e : m.edges) {
      const engine::trail::GraphEdge& ge = g->edges[e.edge];
      edges.push_back({{"piece", e.piece},
                       {"name", g->str(ge.name)},
                       {"highway", g->str(ge.highway)},
                       {"surface", g->str(ge.surface)},
                       {"distance_m", RoundTo(std::abs(e.to_m - e.from_m), 0.1)},
                       {"entry_s", rel(e.entry_time_s)},
                       {"exit_s", rel(e.exit_time_s)}});
    }
    w.Key("edges").Tree(edges);
    w.Key("routes").Tree(RoutesJson(*g, all));
    w.EndObject();
    return ApiResponse{200, std::move(w).Take()};
  };
  return OrError(answer());
}

}  // namespace stride::server
