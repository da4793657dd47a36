// SPDX-License-Identifier: Apache-2.0
#include "server/route_api.hpp"

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>

#include "engine/geo/geodesy.hpp"
#include "engine/route/route_json.hpp"
#include "engine/route/simplify.hpp"
#include "engine/text/json_dump.hpp"
#include "engine/text/round.hpp"
#include "engine/text/utf8.hpp"
#include "index/store/record_codec.hpp"
#include "stride/api.pb.h"

namespace stride::server {
namespace {

using Json = nlohmann::ordered_json;
using engine::PointE7;

int32_t E7(double deg) {
  return static_cast<int32_t>(std::lround(deg * 1e7));
}

// Finds each comma-separated name among `names` (indexes 0..count-1 via name_of) and sets
// its bit; the error lists what was expected.
template <typename NameOf, typename BitOf>
Result<uint32_t> ParseNames(const std::string& key, const std::string& text, int first, int last,
                            NameOf name_of, BitOf bit_of, const std::string& expected) {
  uint32_t mask = 0;
  for (const std::string& t : SplitComma(text)) {
    bool found = false;
    for (int k = first; k <= last; ++k) {
      if (t == name_of(k)) {
        mask |= bit_of(k);
        found = true;
      }
    }
    if (!found) {
      return Status::InvalidArgument(key + ": unknown " + (key == "type" ? "route type " : "") +
                                     "'" + t + "'; expected " + expected);
    }
  }
  return mask;
}

// The filter's parameters, which the searches take besides their own.
const std::vector<std::string> kFilterKeys = {
    "min_length_m",   "max_length_m", "min_ascent_m", "max_ascent_m", "max_grade",
    "max_difficulty", "type",         "surface",      "network",      "loop"};

// kInvalidArgument naming the first parameter a search does not take: a misspelt filter
// (min_length for min_length_m) would otherwise be left out and every route answered. The HTTP
// server checks the same against the OpenAPI document; this covers the C API too.
Status CheckSearchKeys(const Params& p, std::vector<std::string> own) {
  own.insert(own.end(), kFilterKeys.begin(), kFilterKeys.end());
  return CheckKnown(p, own);
}

Result<engine::RouteFilter> ParseFilter(const Params& p) {
  engine::RouteFilter f;
  constexpr double kBig = 1e9;
  auto number = [&](const char* key, double lo, double hi, auto set) -> Status {
    Result<std::optional<double>> v = OptionalNumber(p, key, lo, hi);
    if (!v.ok()) return v.status();
    if (*v) set(**v);
    return Status::Ok();
  };
  STRIDE_RETURN_IF_ERROR(
      number("min_length_m", 0, kBig, [&](double v) { f.min_length_m = static_cast<float>(v); }));
  STRIDE_RETURN_IF_ERROR(
      number("max_length_m", 0, kBig, [&](double v) { f.max_length_m = static_cast<float>(v); }));
  STRIDE_RETURN_IF_ERROR(
      number("min_ascent_m", 0, kBig, [&](double v) { f.min_ascent_m = static_cast<float>(v); }));
  STRIDE_RETURN_IF_ERROR(
      number("max_ascent_m", 0, kBig, [&](double v) { f.max_ascent_m = static_cast<float>(v); }));
  STRIDE_RETURN_IF_ERROR(
      number("max_grade", 0, 100, [&](double v) { f.max_grade = static_cast<float>(v); }));
  STRIDE_RETURN_IF_ERROR(number("max_difficulty", 0, 6,
                                [&](double v) { f.max_difficulty = static_cast<uint8_t>(v); }));
  if (auto v = Get(p, "type")) {
    STRIDE_ASSIGN_OR_RETURN(
        f.type_mask,
        ParseNames(
            "type", *v, 0, static_cast<int>(engine::RouteType::kOther),
            [](int k) { return engine::RouteTypeName(static_cast<engine::RouteType>(k)); },
            [](int k) { return engine::TypeBit(static_cast<engine::RouteType>(k)); },
            "hiking, foot, walking, running, fitness_trail, nordic_walking, named_trail"));
  }
  if (auto v = Get(p, "surface")) {
    STRIDE_ASSIGN_OR_RETURN(
        f.surface_mask,
        ParseNames(
            "surface", *v, 0, static_cast<int>(engine::Surface::kMixed),
            [](int k) { return engine::SurfaceName(static_cast<engine::Surface>(k)); },
            [](int k) { return engine::SurfaceBit(static_cast<engine::Surface>(k)); },
            "paved, unpaved, mixed, unknown"));
  }
  if (auto v = Get(p, "network")) {
    STRIDE_ASSIGN_OR_RETURN(
        f.network_mask,
        ParseNames(
            "network", *v, 1, 4, [](int k) { return engine::NetworkName(static_cast<uint8_t>(k)); },
            [](int k) { return 1u << k; }, "iwn, nwn, rwn, lwn"));
  }
  if (auto v = Get(p, "loop")) {
    if (*v == "true") {
      f.loop = true;
    } else if (*v == "false") {
      f.loop = false;
    } else {
      return Status::InvalidArgument("loop: '" + *v + "'; expected true or false");
    }
  }
  return f;
}

// Cursor text: "<key>~<id>", what the previous page's last hit was ordered by.
Result<std::optional<index::RouteIndex::Cursor>> ParseCursor(const Params& p) {
  const std::optional<std::string> v = Get(p, "cursor");
  if (!v) return std::optional<index::RouteIndex::Cursor>();
  const Status malformed =
      Status::InvalidArgument("cursor: malformed; pass back next_cursor as given");
  const size_t tilde = v->find('~');
  if (tilde == std::string::npos) return malformed;
  index::RouteIndex::Cursor c;
  const std::string key = v->substr(0, tilde), id = v->substr(tilde + 1);
  const auto [e1, ec1] = std::from_chars(key.data(), key.data() + key.size(), c.key);
  const auto [e2, ec2] = std::from_chars(id.data(), id.data() + id.size(), c.id);
  if (ec1 != std::errc() || ec2 != std::errc() || e1 != key.data() + key.size() ||
      e2 != id.data() + id.size()) {
    return malformed;
  }
  return std::optional<index::RouteIndex::Cursor>(c);
}

std::string CursorText(const index::RouteIndex::Hit& h) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g~%llu", h.key, static_cast<unsigned long long>(h.id));
  return buf;
}

Json SummaryJson(const index::RouteSnapshot& s, const index::RouteIndex::Hit& h) {
  const engine::RouteSummary& r = s.index.summary(h.index);
  Json j;
  j["id"] = r.id;
  j["osm"] = engine::OsmRefOf(r.id);
  const std::string_view name = s.name(h.index);
  j["name"] = name.empty() ? Json(nullptr) : Json(name);
  j["type"] = engine::RouteTypeName(r.type);
  j["length_m"] = engine::RoundTo(static_cast<double>(r.length_m), 0.1);
  j["ascent_m"] = engine::RoundTo(static_cast<double>(r.ascent_m), 0.1);
  j["max_grade"] = engine::RoundTo(static_cast<double>(r.max_grade), 1e-4);
  j["loop"] = r.loop;
  j["surface"] = engine::SurfaceName(r.surface);
  j["difficulty"] = r.difficulty;
  const char* network = engine::NetworkName(r.network);
  j["network"] = network ? Json(network) : Json(nullptr);
  // Dividing by 1e7 (exact) gives the double nearest the 7-decimal value: short JSON.
  j["start"] = {r.start.lon / 1e7, r.start.lat / 1e7};
  j["bbox"] = {r.bbox.min_lon / 1e7, r.bbox.min_lat / 1e7, r.bbox.max_lon / 1e7,
               r.bbox.max_lat / 1e7};
  j["distance_m"] = h.distance_m >= 0 ? Json(engine::RoundTo(h.distance_m, 0.1)) : Json(nullptr);
  return j;
}

void SummaryProto(const index::RouteSnapshot& s, const index::RouteIndex::Hit& h,
                  api::RouteSummary* m) {
  const engine::RouteSummary& r = s.index.summary(h.index);
  m->set_id(r.id);
  m->set_osm(engine::OsmRefOf(r.id));
  if (const std::string_view name = s.name(h.index); !name.empty()) {
    m->set_name(std::string(name));
  }
  m->set_type(engine::RouteTypeName(r.type));
  m->set_length_m(r.length_m);
  m->set_ascent_m(r.ascent_m);
  m->set_max_grade(r.max_grade);
  m->set_loop(r.loop);
  m->set_surface(engine::SurfaceName(r.surface));
  m->set_difficulty(r.difficulty);
  if (const char* network = engine::NetworkName(r.network)) m->set_network(network);
  m->set_start_lat(r.start.lat);
  m->set_start_lon(r.start.lon);
  m->mutable_bbox()->set_min_lat(r.bbox.min_lat);
  m->mutable_bbox()->set_min_lon(r.bbox.min_lon);
  m->mutable_bbox()->set_max_lat(r.bbox.max_lat);
  m->mutable_bbox()->set_max_lon(r.bbox.max_lon);
  if (h.distance_m >= 0) m->set_distance_m(h.distance_m);
}

ApiResponse Serialized(const google::protobuf::Message& m, int status = 200) {
  return {status, m.SerializeAsString(), kProtobufType};
}

ApiResponse Page(const index::RouteSnapshot& s, const std::vector<index::RouteIndex::Hit>& hits,
                 size_t limit, Wire wire) {
  const bool more = hits.size() == limit && limit > 0;
  if (wire == Wire::kProtobuf) {
    api::RouteList list;
    for (const auto& h : hits) SummaryProto(s, h, list.add_routes());
    if (more) list.set_next_cursor(CursorText(hits.back()));
    return Serialized(list);
  }
  Json routes = Json::array();
  for (const auto& h : hits) routes.push_back(SummaryJson(s, h));
  Json j;
  j["routes"] = std::move(routes);
  j["next_cursor"] = more ? Json(CursorText(hits.back())) : Json(nullptr);
  return {200, engine::DumpJson(j)};
}

// The route a path segment names: kInvalidArgument for text that is no route id, kNotFound
// for an id the database does not have.
Result<engine::Route> FetchRoute(const index::RouteSnapshot& s, const std::string& id_text) {
  const std::optional<uint64_t> id = engine::ParseRouteRef(id_text);
  if (!id) {
    return Status::InvalidArgument("id: '" + id_text + "' is not a route id (a number, rN or wN)");
  }
  Result<engine::Route> r = s.db->GetRoute(*id);
  if (!r.ok() && r.status().code() == StatusCode::kNotFound) {
    return Status::NotFound("no route " + id_text);
  }
  return r;
}

// The response, or the error response of its status.
ApiResponse OrError(Result<ApiResponse> r, Wire wire) {
  return r.ok() ? std::move(r).value() : ErrorFromStatus(r.status(), wire);
}

}  // namespace

Wire WireFromAccept(const std::string& accept) {
  // Media ranges separated by commas, each with optional parameters after ';'.
  for (const std::string& range : SplitComma(accept)) {
    const size_t semi = range.find(';');
    std::string type = range.substr(0, semi);
    type.erase(0, type.find_first_not_of(" \t"));
    type.erase(type.find_last_not_of(" \t") + 1);
    if (type != kProtobufType) continue;
    if (semi != std::string::npos) {
      const size_t q = range.find("q=", semi);
      if (q != std::string::npos && std::strtod(range.c_str() + q + 2, nullptr) <= 0) continue;
    }
    return Wire::kProtobuf;
  }
  return Wire::kJson;
}

ApiResponse ErrorResponse(int status, const std::string& code, const std::string& message,
                          Wire wire) {
  if (wire == Wire::kProtobuf) {
    api::ErrorResponse e;
    e.mutable_error()->set_code(code);
    e.mutable_error()->set_message(engine::ValidUtf8(message));  // proto3 strings are UTF-8
    return Serialized(e, status);
  }
  Json j;
  j["error"] = {{"code", code}, {"message", message}};
  return {status, engine::DumpJson(j)};
}

ApiResponse ErrorFromStatus(const Status& s, Wire wire) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
      return ErrorResponse(400, "invalid_argument", s.message(), wire);
    case StatusCode::kUnauthenticated:
      return ErrorResponse(401, "unauthenticated", s.message(), wire);
    case StatusCode::kPermissionDenied:
      return ErrorResponse(403, "permission_denied", s.message(), wire);
    case StatusCode::kNotFound:
      return ErrorResponse(404, "not_found", s.message(), wire);
    case StatusCode::kAlreadyExists:
      return ErrorResponse(409, "conflict", s.message(), wire);
    case StatusCode::kResourceExhausted:
      return ErrorResponse(413, "too_large", s.message(), wire);
    case StatusCode::kUnavailable: {
      // A store that is away for a moment (PostgreSQL restarting): the client may retry soon.
      Incident i =
          NewIncident("a store this request needs is unavailable: retry in a moment", s.ToString());
      ApiResponse r = ErrorResponse(503, "unavailable", i.message, wire);
      r.headers.emplace_back("Retry-After", kUnavailableRetryAfterS);
      r.incident = std::move(i.detail);
      return r;
    }
    default: {
      Incident i = NewIncident("internal error", s.ToString());
      ApiResponse r = ErrorResponse(500, "internal", i.message, wire);
      r.incident = std::move(i.detail);
      return r;
    }
  }
}

ApiResponse ListRoutes(const index::RouteSnapshot& s, const Params& p, Wire wire) {
  auto answer = [&]() -> Result<ApiResponse> {
    STRIDE_RETURN_IF_ERROR(CheckSearchKeys(p, {"bbox", "limit", "cursor", "sort"}));
    const std::optional<std::string> bbox = Get(p, "bbox");
    if (!bbox) {
      return Status::InvalidArgument("bbox: required, as minlon,minlat,maxlon,maxlat in degrees");
    }
    const std::vector<std::string> v = SplitComma(*bbox);
    if (v.size() != 4) {
      return Status::InvalidArgument("bbox: expected 4 numbers minlon,minlat,maxlon,maxlat");
    }
    STRIDE_ASSIGN_OR_RETURN(const double minlon, ParseNumber("bbox minlon", v[0], -180, 180));
    STRIDE_ASSIGN_OR_RETURN(const double minlat, ParseNumber("bbox minlat", v[1], -90, 90));
    STRIDE_ASSIGN_OR_RETURN(const double maxlon, ParseNumber("bbox maxlon", v[2], -180, 180));
    STRIDE_ASSIGN_OR_RETURN(const double maxlat, ParseNumber("bbox maxlat", v[3], -90, 90));
    if (minlon > maxlon || minlat > maxlat) {
      return Status::InvalidArgument("bbox: min must not exceed max");
    }
    const engine::BoxE7 box{E7(minlat), E7(minlon), E7(maxlat), E7(maxlon)};
    STRIDE_ASSIGN_OR_RETURN(const engine::RouteFilter filter, ParseFilter(p));
    index::RouteIndex::SortKey key = index::RouteIndex::SortKey::kDistance;
    if (auto sort = Get(p, "sort")) {
      if (*sort == "length") {
        key = index::RouteIndex::SortKey::kLength;
      } else if (*sort == "ascent") {
        key = index::RouteIndex::SortKey::kAscent;
      } else if (*sort != "distance") {
        return Status::InvalidArgument("sort: unknown key '" + *sort +
                                       "'; expected distance, length or ascent");
      }
    }
    STRIDE_ASSIGN_OR_RETURN(const size_t limit, Limit(p, "limit", kDefaultLimit, kMaxLimit));
    STRIDE_ASSIGN_OR_RETURN(const std::optional<index::RouteIndex::Cursor> after, ParseCursor(p));
    return Page(s, s.index.Bbox(box, filter, key, limit, after ? &*after : nullptr), limit, wire);
  };
  return OrError(answer(), wire);
}

ApiResponse NearestRoutes(const index::RouteSnapshot& s, const Params& p, Wire wire) {
  auto answer = [&]() -> Result<ApiResponse> {
    STRIDE_RETURN_IF_ERROR(CheckSearchKeys(p, {"lat", "lon", "k", "max_distance_m", "cursor"}));
    const std::optional<std::string> lat = Get(p, "lat"), lon = Get(p, "lon");
    if (!lat) return Status::InvalidArgument("lat: required, degrees -90..90");
    if (!lon) return Status::InvalidArgument("lon: required, degrees -180..180");
    STRIDE_ASSIGN_OR_RETURN(const double lat_deg, ParseNumber("lat", *lat, -90, 90));
    STRIDE_ASSIGN_OR_RETURN(const double lon_deg, ParseNumber("lon", *lon, -180, 180));
    const PointE7 point{E7(lat_deg), E7(lon_deg)};
    STRIDE_ASSIGN_OR_RETURN(const size_t k, Limit(p, "k", 10, kMaxK));
    STRIDE_ASSIGN_OR_RETURN(const std::optional<double> max_d,
                            OptionalNumber(p, "max_distance_m", 0, 2e7));
    STRIDE_ASSIGN_OR_RETURN(const engine::RouteFilter filter, ParseFilter(p));
    STRIDE_ASSIGN_OR_RETURN(const std::optional<index::RouteIndex::Cursor> after, ParseCursor(p));
    return Page(s,
                s.index.Nearest(point, k, max_d.value_or(std::numeric_limits<double>::infinity()),
                                filter, after ? &*after : nullptr),
                k, wire);
  };
  return OrError(answer(), wire);
}

ApiResponse GetRoute(const index::RouteSnapshot& s, const std::string& id_text, const Params& p,
                     Wire wire) {
  auto answer = [&]() -> Result<ApiResponse> {
    STRIDE_RETURN_IF_ERROR(CheckKnown(p, {"format", "zoom", "tolerance_m"}));
    STRIDE_ASSIGN_OR_RETURN(engine::Route route, FetchRoute(s, id_text));
    engine::Route* r = &route;
    const std::string format = Get(p, "format").value_or("polyline6");
    if (format != "polyline6" && format != "geojson") {
      return Status::InvalidArgument("format: '" + format + "'; expected polyline6 or geojson");
    }
    STRIDE_ASSIGN_OR_RETURN(const std::optional<double> tolerance_m,
                            OptionalNumber(p, "tolerance_m", 0, 10'000));
    STRIDE_ASSIGN_OR_RETURN(const std::optional<double> zoom, OptionalNumber(p, "zoom", 0, 22));
    double tolerance = tolerance_m.value_or(0);
    if (zoom) {
      // Half a 256-px tile pixel at this zoom and latitude.
      const double lat = r->summary.start.lat * 1e-7 * engine::kDegToRad;
      tolerance = 0.5 * 156'543.03 * std::cos(lat) / std::pow(2.0, *zoom);
    }
    // Simplify part by part.
    engine::RouteGeometry g;
    const auto& pts = r->geometry.points;
    engine::ForEachPart(r->geometry, [&](size_t b, size_t e) {
      const std::vector<PointE7> part =
          engine::SimplifyLine(std::span(pts).subspan(b, e - b), tolerance);
      g.part_starts.push_back(static_cast<uint32_t>(g.points.size()));
      g.points.insert(g.points.end(), part.begin(), part.end());
    });
    r->geometry = std::move(g);
    if (wire == Wire::kProtobuf) {
      r->profile = {};  // /profile serves it
      return ApiResponse{200, index::EncodeRoute(*r), kProtobufType};
    }
    engine::RouteJsonOptions o;
    o.geometry = format == "polyline6" ? engine::GeometryFormat::kPolyline6
                                       : engine::GeometryFormat::kGeoJson;
    o.profile = false;
    o.indent = -1;
    return ApiResponse{200, engine::RouteJson(*r, o)};
  };
  return OrError(answer(), wire);
}

ApiResponse GetProfile(const index::RouteSnapshot& s, const std::string& id_text, Wire wire) {
  auto answer = [&]() -> Result<ApiResponse> {
    STRIDE_ASSIGN_OR_RETURN(engine::Route route, FetchRoute(s, id_text));
    const engine::Route* r = &route;
    if (wire == Wire::kProtobuf) {
      api::RouteProfile m;
      m.set_id(r->summary.id);
      m.set_length_m(r->length_m);
      if (!r->elevation_method.empty()) m.set_elevation_method(r->elevation_method);
      if (!r->profile.empty()) {
        m.set_ascent_m(r->ascent_m);
        m.set_descent_m(r->descent_m);
        m.set_max_grade(r->max_grade);
        m.set_avg_grade(r->avg_grade);
        auto* prof = m.mutable_profile();
        prof->mutable_distance_m()->Assign(r->profile.distance_m.begin(),
                                           r->profile.distance_m.end());
        prof->mutable_elevation_m()->Assign(r->profile.elevation_m.begin(),
                                            r->profile.elevation_m.end());
      }
      return Serialized(m);
    }
    return ApiResponse{200, engine::RouteProfileJson(*r)};
  };
  return OrError(answer(), wire);
}

}  // namespace stride::server
