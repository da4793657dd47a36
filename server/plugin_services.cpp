// SPDX-License-Identifier: Apache-2.0
#include "server/plugin_services.hpp"

#include <cmath>
#include <nlohmann/json.hpp>

#include "engine/geo/geodesy.hpp"
#include "engine/route/route_json.hpp"
#include "engine/text/json_dump.hpp"
#include "engine/text/round.hpp"
#include "server/route_api.hpp"

namespace stride::server {
namespace {

using Json = nlohmann::json;

using engine::RoundTo;

}  // namespace

Result<std::string> PluginRouteQuery(const index::RouteSnapshot& s, const std::string& request) {
  const Json req = Json::parse(request, nullptr, false);
  if (req.is_discarded() || !req.is_object() || !req.contains("op") || !req["op"].is_string()) {
    return Status::InvalidArgument("route query: expected {\"op\": ...}");
  }
  const std::string op = req["op"];
  if (op == "bbox" || op == "nearest") {
    Params p;
    for (const auto& [k, v] : req.items()) {
      if (k == "op") continue;
      if (k == "bbox" && v.is_array() && v.size() == 4) {
        p[k] = engine::DumpJson(v[0]) + "," + engine::DumpJson(v[1]) + "," +
               engine::DumpJson(v[2]) + "," + engine::DumpJson(v[3]);
      } else {
        p[k] = v.is_string() ? v.get<std::string>() : engine::DumpJson(v);
      }
    }
    const ApiResponse r = op == "bbox" ? ListRoutes(s, p) : NearestRoutes(s, p);
    if (r.status != 200) {
      const Json e = Json::parse(r.body, nullptr, false);
      return Status::InvalidArgument(e.is_discarded() ? "route query failed"
                                                      : e["error"].value("message", ""));
    }
    return r.body;
  }
  if (!req.contains("id") || !req["id"].is_string()) {
    return Status::InvalidArgument("route query: 'id' (a route id such as r123) required");
  }
  const std::string id_text = req["id"];
  const std::optional<uint64_t> id = engine::ParseRouteRef(id_text);
  if (!id) return Status::InvalidArgument("'" + id_text + "' is not a route id");
  Result<engine::Route> route = s.db->GetRoute(*id);
  if (!route.ok()) {
    return route.status().code() == StatusCode::kNotFound ? Status::NotFound("no route " + id_text)
                                                          : route.status();
  }
  Json profile = Json::array();
  for (size_t i = 0; i < route->profile.distance_m.size(); ++i) {
    profile.push_back(
        {RoundTo(route->profile.distance_m[i], 0.1), RoundTo(route->profile.elevation_m[i], 0.1)});
  }
  if (op == "profile") return engine::DumpJson(Json{{"id", id_text}, {"profile", profile}});
  const std::vector<engine::PointE7>& pts = route->geometry.points;
  if (op == "route") {
    Json line = Json::array();
    for (const engine::PointE7& p : pts) line.push_back({p.lon * 1e-7, p.lat * 1e-7});
    return engine::DumpJson(Json{{"id", id_text},
                                 {"name", route->name},
                                 {"length_m", RoundTo(route->summary.length_m, 0.1)},
                                 {"line", line},
                                 {"profile", profile}});
  }
  if (op == "along") {
    if (!req.contains("distance_m") || !req["distance_m"].is_number()) {
      return Status::InvalidArgument("along: distance_m required");
    }
    const double want = req["distance_m"];
    double at = 0;
    double lat = pts.empty() ? 0 : pts.back().lat * 1e-7;
    double lon = pts.empty() ? 0 : pts.back().lon * 1e-7;
    for (size_t i = 1; i < pts.size(); ++i) {
      const double la = pts[i - 1].lat * 1e-7, lo = pts[i - 1].lon * 1e-7;
      const double lb = pts[i].lat * 1e-7, ob = pts[i].lon * 1e-7;
      const double seg = engine::SegmentDistanceM(la, lo, lb, ob);
      if (at + seg >= want) {
        const double f = seg > 0 ? std::max(0.0, want - at) / seg : 0;
        lat = la + f * (lb - la);
        lon = lo + f * (ob - lo);
        at = std::max(0.0, want);
        break;
      }
      at += seg;
    }
    Json ele = nullptr;
    const auto& pd = route->profile.distance_m;
    if (!pd.empty()) {
      size_t k = 0;
      while (k + 1 < pd.size() && pd[k + 1] < at) ++k;
      ele = RoundTo(route->profile.elevation_m[k], 0.1);
    }
    return engine::DumpJson(Json{{"lat", RoundTo(lat, 1e-7)},
                                 {"lon", RoundTo(lon, 1e-7)},
                                 {"elevation_m", ele},
                                 {"distance_m", RoundTo(at, 0.1)}});
  }
  return Status::InvalidArgument("route query: unknown op '" + op +
                                 "' (route, profile, along, bbox, nearest)");
}

}  // namespace stride::server
