// SPDX-License-Identifier: Apache-2.0
#include "server/privacy.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "engine/hex.hpp"
#include "engine/text/iso_time.hpp"
#include "engine/text/json_dump.hpp"
#include "engine/text/json_fields.hpp"
#include "engine/text/round.hpp"
#include "engine/text/utf8.hpp"
#include "engine/track/track_writers.hpp"
#include "importers/activity/activity_reader.hpp"
#include "index/crypto/crypto.hpp"
#include "plugins/host/plugin_host.hpp"

namespace stride::server {
namespace {

using Json = nlohmann::json;
using OJson = nlohmann::ordered_json;

constexpr std::string_view kZonesKey = "privacy_zones";

// Keys of the host-state family, laid out by the plugin host (user 0 key; shared: 0 key).
std::string UserKey(const std::string& user, std::string_view key) {
  return plugins::PluginHost::StoredKey(user, key);
}

std::string TokenKey(const std::string& token) {
  return plugins::PluginHost::StoredKey("", "share/" + token);
}

bool IsToken(const std::string& t) {
  return t.size() == 32 && std::all_of(t.begin(), t.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// [[lon, lat], ...] into a ring; counts points into *points.
Result<engine::Zone::Ring> RingOf(const Json& j, const std::string& what, size_t* points) {
  if (!j.is_array()) return Status::InvalidArgument(what + ": expected an array of [lon, lat]");
  engine::Zone::Ring ring;
  for (size_t i = 0; i < j.size(); ++i) {
    const Json& p = j[i];
    if (!p.is_array() || p.size() < 2 || !p[0].is_number() || !p[1].is_number()) {
      return Status::InvalidArgument(what + "[" + std::to_string(i) +
                                     "]: expected [lon, lat] numbers");
    }
    ring.push_back({p[0].get<double>(), p[1].get<double>()});
  }
  *points += ring.size();
  return ring;
}

// A GeoJSON Polygon or MultiPolygon geometry as polygons.
Result<std::vector<engine::Zone::Polygon>> PolygonsOf(const Json& g, const std::string& what,
                                                      size_t* points) {
  if (!g.is_object() || !g.contains("type") || !g["type"].is_string() ||
      !g.contains("coordinates")) {
    return Status::InvalidArgument(what +
                                   ": expected a GeoJSON geometry with type and coordinates");
  }
  const std::string type = g["type"];
  std::vector<Json> polys;
  if (type == "Polygon") {
    polys.push_back(g["coordinates"]);
  } else if (type == "MultiPolygon" && g["coordinates"].is_array()) {
    for (const Json& p : g["coordinates"]) polys.push_back(p);
  } else {
    return Status::InvalidArgument(what + ": type '" + engine::ValidUtf8(type) +
                                   "', expected Polygon or MultiPolygon");
  }
  std::vector<engine::Zone::Polygon> out;
  for (size_t k = 0; k < polys.size(); ++k) {
    if (!polys[k].is_array() || polys[k].empty()) {
      return Status::InvalidArgument(what + ": polygon " + std::to_string(k) +
                                     ": expected an array of rings");
    }
    engine::Zone::Polygon poly;
    for (size_t r = 0; r < polys[k].size(); ++r) {
      STRIDE_ASSIGN_OR_RETURN(engine::Zone::Ring ring,
                              RingOf(polys[k][r],
                                     what + ".coordinates (polygon " + std::to_string(k) +
                                         ", ring " + std::to_string(r) + ")",
                                     points));
      poly.push_back(std::move(ring));
    }
    out.push_back(std::move(poly));
  }
  return out;
}

Result<engine::Zone> PrivacyZoneOf(const Json& z, size_t i) {
  const std::string what = "zones[" + std::to_string(i) + "]";
  if (!z.is_object()) return Status::InvalidArgument(what + ": expected an object");
  if (!z.contains("name") || !z["name"].is_string() || z["name"].get<std::string>().empty() ||
      z["name"].get<std::string>().size() > 64) {
    return Status::InvalidArgument(what + ".name: expected a string of 1 to 64 bytes");
  }
  // Every field known, and one shape: a field misspelt or a circle given beside a polygon is
  // an error, not a zone other than the one meant.
  if (const std::optional<std::string> key =
          engine::UnknownKey(z, {"name", "lat", "lon", "radius_m", "geometry"})) {
    return Status::InvalidArgument(what + "." + engine::ValidUtf8(*key) +
                                   ": unknown field (known: name, lat, lon, radius_m, geometry)");
  }
  if (z.contains("geometry") &&
      (z.contains("lat") || z.contains("lon") || z.contains("radius_m"))) {
    return Status::InvalidArgument(
        what + ": either a circle (lat, lon, radius_m) or a geometry, not both");
  }
  const std::string name = engine::ValidUtf8(z["name"].get<std::string>());
  if (z.contains("geometry")) {
    size_t points = 0;
    STRIDE_ASSIGN_OR_RETURN(std::vector<engine::Zone::Polygon> polys,
                            PolygonsOf(z["geometry"], what + ".geometry", &points));
    if (points > kMaxZonePoints) {
      return Status::InvalidArgument(what + ".geometry: " + std::to_string(points) +
                                     " points, at most " + std::to_string(kMaxZonePoints));
    }
    return engine::Zone::Shape(name, std::move(polys));
  }
  for (const char* f : {"lat", "lon", "radius_m"}) {
    if (!z.contains(f) || !z[f].is_number()) {
      return Status::InvalidArgument(what + "." + f +
                                     ": expected a number (a circle: lat, lon, radius_m; or a "
                                     "GeoJSON Polygon in geometry)");
    }
  }
  const double r = z["radius_m"];
  if (!(r >= 20 && r <= 5000)) {
    return Status::InvalidArgument(what + ".radius_m: expected 20 to 5000 metres");
  }
  return engine::Zone::Circle(name, z["lat"], z["lon"], r);
}

}  // namespace

Result<std::vector<engine::Zone>> PrivacyZonesFromJson(std::string_view body) {
  const Json j = Json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("zones") || !j["zones"].is_array()) {
    return Status::InvalidArgument("body: expected {\"zones\": [...]} (JSON)");
  }
  if (j["zones"].size() > kMaxPrivacyZones) {
    return Status::InvalidArgument("zones: " + std::to_string(j["zones"].size()) +
                                   " zones, at most " + std::to_string(kMaxPrivacyZones));
  }
  std::vector<engine::Zone> zones;
  for (size_t i = 0; i < j["zones"].size(); ++i) {
    STRIDE_ASSIGN_OR_RETURN(engine::Zone z, PrivacyZoneOf(j["zones"][i], i));
    zones.push_back(std::move(z));
  }
  return zones;
}

Result<std::unique_ptr<engine::ZoneSet>> GeofencesFromGeoJson(std::string_view text,
                                                              const std::string& where) {
  const Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("type", "") != "FeatureCollection" ||
      !j.contains("features") || !j["features"].is_array()) {
    return Status::InvalidArgument(where + ": expected a GeoJSON FeatureCollection");
  }
  std::vector<engine::Zone> zones;
  for (size_t i = 0; i < j["features"].size(); ++i) {
    const Json& f = j["features"][i];
    const std::string what = where + ": features[" + std::to_string(i) + "]";
    if (!f.is_object() || !f.contains("properties") || !f["properties"].is_object() ||
        !f["properties"].contains("name") || !f["properties"]["name"].is_string() ||
        f["properties"]["name"].get<std::string>().empty()) {
      return Status::InvalidArgument(what + ": expected properties.name (a non-empty string)");
    }
    size_t points = 0;
    STRIDE_ASSIGN_OR_RETURN(std::vector<engine::Zone::Polygon> polys,
                            PolygonsOf(f.value("geometry", Json()), what + ".geometry", &points));
    zones.push_back(engine::Zone::Shape(
        engine::ValidUtf8(f["properties"]["name"].get<std::string>()), std::move(polys)));
  }
  return engine::ZoneSet::Build(std::move(zones), where);
}

Result<std::unique_ptr<engine::ZoneSet>> LoadGeofences(const std::string& path) {
  Result<std::string> text = importers::ReadFileBytes(path);
  if (!text.ok()) {
    return Status(text.status().code(), "--geofences " + path + ": " + text.status().message());
  }
  return GeofencesFromGeoJson(*text, "--geofences " + path);
}

Result<std::string> PrivacyStore::ZonesJson(const std::string& user) const {
  STRIDE_ASSIGN_OR_RETURN(std::optional<std::string> v, kv_->Get(UserKey(user, kZonesKey)));
  return v ? *v : std::string(R"({"zones":[]})");
}

Result<std::string> PrivacyStore::PutZones(const std::string& user, std::string_view body) {
  STRIDE_ASSIGN_OR_RETURN(std::vector<engine::Zone> zones, PrivacyZonesFromJson(body));
  // Prepared once here so a zone GEOS refuses (a crossing ring) is a 400 now, not later.
  STRIDE_ASSIGN_OR_RETURN(std::unique_ptr<engine::ZoneSet> set,
                          engine::ZoneSet::Build(zones, "zones"));
  OJson out = OJson::array();
  for (const engine::Zone& z : zones) {
    if (z.is_circle()) {
      out.push_back({{"name", z.name}, {"lat", z.lat}, {"lon", z.lon}, {"radius_m", z.radius_m}});
      continue;
    }
    OJson coords = OJson::array();
    for (const auto& poly : z.polygons) {
      OJson rings = OJson::array();
      for (const auto& ring : poly) {
        OJson pts = OJson::array();
        for (const auto& p : ring) pts.push_back({p[0], p[1]});
        rings.push_back(std::move(pts));
      }
      coords.push_back(std::move(rings));
    }
    out.push_back({{"name", z.name},
                   {"geometry", {{"type", "MultiPolygon"}, {"coordinates", std::move(coords)}}}});
  }
  const std::string text = engine::DumpJson(OJson{{"zones", std::move(out)}});
  if (zones.empty()) {
    STRIDE_RETURN_IF_ERROR(kv_->Delete(UserKey(user, kZonesKey)));
  } else {
    STRIDE_RETURN_IF_ERROR(kv_->Put(UserKey(user, kZonesKey), text));
  }
  return text;
}

Result<std::unique_ptr<engine::ZoneSet>> PrivacyStore::Zones(const std::string& user) const {
  STRIDE_ASSIGN_OR_RETURN(std::optional<std::string> v, kv_->Get(UserKey(user, kZonesKey)));
  std::vector<engine::Zone> zones;
  if (v) {
    Result<std::vector<engine::Zone>> parsed = PrivacyZonesFromJson(*v);
    if (!parsed.ok()) {
      return Status::Corruption("privacy zones of '" + user + "': " + parsed.status().message());
    }
    zones = std::move(parsed).value();
  }
  return engine::ZoneSet::Build(std::move(zones), "privacy zones of '" + user + "'");
}

Result<std::optional<std::string>> PrivacyStore::Share(const std::string& user, uint64_t run_id,
                                                       bool create) {
  const std::string index_key = UserKey(user, "share/" + engine::RunIdText(run_id));
  STRIDE_ASSIGN_OR_RETURN(std::optional<std::string> token, kv_->Get(index_key));
  if (token || !create) return token;
  STRIDE_ASSIGN_OR_RETURN(std::string random, index::RandomBytes(16));
  const std::string t = engine::HexEncode(random);
  STRIDE_RETURN_IF_ERROR(kv_->Put(
      TokenKey(t), engine::DumpJson(OJson{{"user", user}, {"run", engine::RunIdText(run_id)}})));
  STRIDE_RETURN_IF_ERROR(kv_->Put(index_key, t));
  return std::optional<std::string>(t);
}

Result<bool> PrivacyStore::Unshare(const std::string& user, uint64_t run_id) {
  const std::string index_key = UserKey(user, "share/" + engine::RunIdText(run_id));
  STRIDE_ASSIGN_OR_RETURN(std::optional<std::string> token, kv_->Get(index_key));
  if (!token) return false;
  // The public half first: once it is gone the link is dead, whatever happens next.
  if (IsToken(*token)) STRIDE_RETURN_IF_ERROR(kv_->Delete(TokenKey(*token)));
  STRIDE_RETURN_IF_ERROR(kv_->Delete(index_key));
  return true;
}

Result<std::optional<std::pair<std::string, uint64_t>>> PrivacyStore::Resolve(
    const std::string& token) const {
  using Found = std::optional<std::pair<std::string, uint64_t>>;
  if (!IsToken(token)) return Found();
  STRIDE_ASSIGN_OR_RETURN(std::optional<std::string> v, kv_->Get(TokenKey(token)));
  if (!v) return Found();
  const Json j = Json::parse(*v, nullptr, false);
  uint64_t id = 0;
  if (!j.is_object() || !j.value("user", Json()).is_string() ||
      !engine::ParseRunId(j.value("run", ""), &id)) {
    return Status::Corruption("share " + token + ": bad record");
  }
  // Still shared by its owner? (DELETE /v1/me drops the owner's half only.)
  STRIDE_ASSIGN_OR_RETURN(std::optional<std::string> mine,
                          kv_->Get(UserKey(j["user"], "share/" + engine::RunIdText(id))));
  if (!mine || *mine != token) return Found();
  return Found(std::make_pair(j["user"].get<std::string>(), id));
}

Status PrivacyStore::Forget(const std::string& token) {
  if (!IsToken(token)) return Status::Ok();
  return kv_->Delete(TokenKey(token));
}

std::vector<engine::Track> SharedTracks(const engine::Run& run, const engine::ZoneSet& zones,
                                        size_t* hidden) {
  std::vector<engine::Track> out;
  size_t h = 0;
  for (const engine::Track& t : run.tracks) {
    engine::TrimReport r;
    out.push_back(engine::TrimToOutside(t, zones, &r));
    h += r.points_hidden;
  }
  if (hidden) *hidden = h;
  return out;
}

namespace {

// A shared run's owner and run, or the 404 every unknown, revoked or dangling link gets.
Result<std::pair<std::string, engine::Run>> SharedRunOf(PrivacyStore& store, RunService& runs,
                                                        const std::string& token, bool tracks) {
  const Status gone = Status::NotFound("no shared run " + engine::ValidUtf8(token).substr(0, 64));
  STRIDE_ASSIGN_OR_RETURN(auto found, store.Resolve(token));
  if (!found) return gone;
  Result<engine::Run> run = runs.store().Get(found->first, found->second, {false, tracks});
  if (!run.ok()) {
    if (run.status().code() != StatusCode::kNotFound) return run.status();
    (void)store.Forget(token);  // the run or its owner is gone
    return gone;
  }
  return std::make_pair(found->first, std::move(run).value());
}

// A shared run as others see it: the run, its tracks trimmed outside the owner's zones and
// how many points that hid.
struct SharedView {
  engine::Run run;
  std::vector<engine::Track> tracks;
  size_t hidden = 0;
};

Result<SharedView> ViewShared(PrivacyStore& store, RunService& runs, const std::string& token) {
  STRIDE_ASSIGN_OR_RETURN(auto shared, SharedRunOf(store, runs, token, true));
  STRIDE_ASSIGN_OR_RETURN(std::unique_ptr<engine::ZoneSet> zones, store.Zones(shared.first));
  SharedView v;
  v.tracks = SharedTracks(shared.second, *zones, &v.hidden);
  v.run = std::move(shared.second);
  return v;
}

ApiResponse Public(ApiResponse r) {
  // A link that is revoked must stop working at once: nothing may keep a copy.
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("X-Robots-Tag", "noindex");
  return r;
}

}  // namespace

ApiResponse GetPrivacyZones(PrivacyStore& store, const Principal& who) {
  Result<std::string> z = store.ZonesJson(who.user_id);
  if (!z.ok()) return ErrorFromStatus(z.status());
  return ApiResponse(200, std::move(z).value());
}

ApiResponse PutPrivacyZones(PrivacyStore& store, const Principal& who, std::string_view body) {
  Result<std::string> z = store.PutZones(who.user_id, body);
  if (!z.ok()) return ErrorFromStatus(z.status());
  return ApiResponse(200, std::move(z).value());
}

ApiResponse ShareRun(PrivacyStore& store, RunService& runs, const Principal& who,
                     const std::string& id_text) {
  uint64_t id = 0;
  if (!engine::ParseRunId(id_text, &id)) {
    return ErrorResponse(404, "not_found", "no run " + engine::ValidUtf8(id_text).substr(0, 64));
  }
  Result<engine::Run> run = runs.store().Get(who.user_id, id, {false, false});
  if (!run.ok()) return ErrorFromStatus(run.status());
  Result<std::optional<std::string>> before = store.Share(who.user_id, id, false);
  if (!before.ok()) return ErrorFromStatus(before.status());
  Result<std::optional<std::string>> token = store.Share(who.user_id, id, true);
  if (!token.ok()) return ErrorFromStatus(token.status());
  const std::string url = "/v1/shared/" + **token;
  ApiResponse r(
      before->has_value() ? 200 : 201,
      engine::DumpJson(OJson{
          {"token", **token}, {"url", url}, {"track_url", url + "/track"}, {"run", id_text}}));
  r.headers.emplace_back("Location", url);
  return r;
}

ApiResponse UnshareRun(PrivacyStore& store, const Principal& who, const std::string& id_text) {
  uint64_t id = 0;
  if (!engine::ParseRunId(id_text, &id)) {
    return ErrorResponse(404, "not_found", "no run " + engine::ValidUtf8(id_text).substr(0, 64));
  }
  Result<bool> gone = store.Unshare(who.user_id, id);
  if (!gone.ok()) return ErrorFromStatus(gone.status());
  if (!*gone) return ErrorResponse(404, "not_found", "run " + id_text + " is not shared");
  return ApiResponse(204, "");
}

ApiResponse GetSharedRun(PrivacyStore& store, RunService& runs, const std::string& token) {
  Result<SharedView> view = ViewShared(store, runs, token);
  if (!view.ok()) return Public(ErrorFromStatus(view.status()));
  size_t shown = 0;
  for (const engine::Track& t : view->tracks) shown += t.size();
  const engine::RunSummary& s = view->run.summary;
  auto num = [](double v) {
    return std::isnan(v) ? OJson(nullptr) : OJson(engine::RoundTo(v, 0.1));
  };
  // No owner, file name, regions or route coverage: only what the track itself shows.
  return Public(ApiResponse(
      200,
      engine::DumpJson(OJson{
          {"token", token},
          {"sport", s.sport},
          {"start_time", std::isnan(s.start_time_s) ? OJson(nullptr)
                                                    : OJson(engine::FormatIsoTime(s.start_time_s))},
          {"distance_m", num(s.distance_m)},
          {"moving_time_s", num(s.moving_time_s)},
          {"elapsed_time_s", num(s.elapsed_time_s)},
          {"ascent_m", num(s.ascent_m)},
          {"points_shown", shown},
          {"points_hidden", view->hidden},
          {"track_url", "/v1/shared/" + token + "/track"}})));
}

ApiResponse GetSharedTrack(PrivacyStore& store, RunService& runs, const std::string& token,
                           const Params& params) {
  std::string format = "geojson";
  if (auto it = params.find("format"); it != params.end()) format = it->second;
  if (format != "geojson" && format != "gpx" && format != "polyline6") {
    return Public(ErrorResponse(400, "invalid_argument",
                                "format: expected geojson, gpx or polyline6, got '" +
                                    engine::ValidUtf8(format).substr(0, 64) + "'"));
  }
  Result<SharedView> view = ViewShared(store, runs, token);
  if (!view.ok()) return Public(ErrorFromStatus(view.status()));
  const std::vector<engine::Track>& tracks = view->tracks;
  ApiResponse r(200, "");
  if (format == "gpx") {
    r = ApiResponse(200, engine::TracksGpx(tracks, "shared run"), "application/gpx+xml");
  } else if (format == "polyline6") {
    r = ApiResponse(200, engine::TracksPolyline6Json(tracks, token));
  } else {
    r = ApiResponse(200, engine::TracksGeoJson(tracks, token, view->run.summary.sport),
                    "application/geo+json");
  }
  r.headers.emplace_back("X-Points-Hidden", std::to_string(view->hidden));
  return Public(std::move(r));
}

}  // namespace stride::server
