// SPDX-License-Identifier: Apache-2.0
//
// The C API (include/stride/stride.h) over the engine: each function converts its C arguments,
// calls the same code the CLI and the HTTP API call, and turns a Status (or an HTTP answer's
// status) into a STRIDE_E_* code and the thread's last error. Every entry point catches
// everything: no exception crosses the boundary.
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "engine/memory/keep_freed.hpp"
#include "engine/status.hpp"
#include "engine/text/uri.hpp"
#include "engine/text/utf8.hpp"
#include "engine/track/analysis.hpp"
#include "engine/track/analysis_json.hpp"
#include "importers/activity/activity_reader.hpp"
#include "importers/dem/elevation_stack.hpp"
#include "index/store/route_snapshot.hpp"
#include "server/route_api.hpp"
#include "server/trail_api.hpp"
#include "stride/stride.h"

#ifndef STRIDE_VERSION_TEXT
#error "the build defines STRIDE_VERSION_TEXT (the project's version)"
#endif

struct stride_dem {
  std::unique_ptr<stride::importers::ElevationStack> source;
};

struct stride_analysis {
  std::string format;
  std::string json;
  std::vector<stride::engine::Analysis> sessions;
};

struct stride_db {
  std::shared_ptr<const stride::index::RouteSnapshot> snapshot;
};

namespace {

using stride::Result;
using stride::Status;
using stride::StatusCode;

thread_local std::string last_error;

int Fail(int code, std::string message) {
  last_error = std::move(message);
  return code;
}

int Succeed() {
  last_error.clear();
  return STRIDE_OK;
}

// The one mapping from a Status to a C API code.
int FailWith(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk:
      return Succeed();
    case StatusCode::kInvalidArgument:
    case StatusCode::kAlreadyExists:
    case StatusCode::kUnauthenticated:
    case StatusCode::kPermissionDenied:
      return Fail(STRIDE_E_INVALID, s.message());
    case StatusCode::kNotFound:
      return Fail(STRIDE_E_NOT_FOUND, s.message());
    case StatusCode::kIoError:
      return Fail(STRIDE_E_IO, s.message());
    case StatusCode::kResourceExhausted:
      return Fail(STRIDE_E_TOO_LARGE, s.message());
    case StatusCode::kUnavailable:
      return Fail(STRIDE_E_UNAVAILABLE, s.message());
    case StatusCode::kCorruption:
      return Fail(STRIDE_E_CORRUPT, s.message());
    case StatusCode::kInternal:
      break;
  }
  return Fail(STRIDE_E_INTERNAL, s.message());
}

// The stores' messages name the command-line flag that gave the path ("--db PATH: ..."),
// which a library caller never typed: the library names the thing instead ("database PATH:
// ...").
Status NamedForLibrary(const Status& s, std::string_view flag, std::string_view thing) {
  const std::string& m = s.message();
  if (m.size() <= flag.size() || m.compare(0, flag.size(), flag) != 0) return s;
  const char next = m[flag.size()];
  if (next != ' ' && next != ':') return s;
  return Status(s.code(), std::string(thing) + m.substr(flag.size()));
}

// Runs `body` (which returns a code) with every exception turned into an error code.
template <typename F>
int Guard(const char* function, F&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return Fail(STRIDE_E_TOO_LARGE, std::string(function) + ": out of memory");
  } catch (const std::exception& e) {
    return Fail(STRIDE_E_INTERNAL, std::string(function) + ": " + e.what());
  } catch (...) {
    return Fail(STRIDE_E_INTERNAL, std::string(function) + ": unknown exception");
  }
}

int NullArgument(const char* function, const char* name) {
  return Fail(STRIDE_E_INVALID, std::string(function) + ": " + name + " is NULL");
}

// Text handed to the caller: malloc'd (so stride_free is plain free), NUL-terminated.
int GiveText(const std::string& text, char** out, size_t* size) {
  char* p = static_cast<char*>(std::malloc(text.size() + 1));
  if (p == nullptr) return Fail(STRIDE_E_TOO_LARGE, "out of memory");
  std::memcpy(p, text.data(), text.size());
  p[text.size()] = '\0';
  *out = p;
  if (size != nullptr) *size = text.size();
  return Succeed();
}

// ---- analysis ----

// The options a caller's struct holds, reading only the fields its struct_size covers.
Result<stride::engine::AnalyzeOptions> ToOptions(const stride_analyze_options_t* in) {
  stride::engine::AnalyzeOptions o;
  if (in == nullptr) return o;
  const size_t size = in->struct_size;
  auto has = [size](size_t offset, size_t field) { return offset + field <= size; };
  if (size < sizeof(uint32_t)) {
    return Status::InvalidArgument("options: struct_size " + std::to_string(size) +
                                   " is too small (call stride_analyze_options_init)");
  }
  if (has(offsetof(stride_analyze_options_t, sport), sizeof in->sport) && in->sport != nullptr) {
    o.sport = stride::engine::ParseSport(in->sport);
    using stride::engine::Sport;
    if (o.sport != Sport::kRun && o.sport != Sport::kWalk && o.sport != Sport::kHike &&
        o.sport != Sport::kRide) {
      return Status::InvalidArgument(std::string("sport: unknown sport '") + in->sport +
                                     "', expected run, walk, hike or ride");
    }
  }
  auto bpm = [](const char* name, double v, double lo, double hi, double* out) -> Status {
    if (v == 0) return Status::Ok();
    if (!(v >= lo && v <= hi)) {
      return Status::InvalidArgument(std::string(name) + ": expected 0 (default) or a number of " +
                                     "bpm from " + std::to_string(static_cast<int>(lo)) + " to " +
                                     std::to_string(static_cast<int>(hi)) + ", got " +
                                     std::to_string(v));
    }
    *out = v;
    return Status::Ok();
  };
  if (has(offsetof(stride_analyze_options_t, max_hr_bpm), sizeof in->max_hr_bpm)) {
    STRIDE_RETURN_IF_ERROR(bpm("max_hr_bpm", in->max_hr_bpm, 100, 250, &o.max_hr_bpm));
  }
  if (has(offsetof(stride_analyze_options_t, rest_hr_bpm), sizeof in->rest_hr_bpm)) {
    STRIDE_RETURN_IF_ERROR(bpm("rest_hr_bpm", in->rest_hr_bpm, 25, 120, &o.rest_hr_bpm));
  }
  if (has(offsetof(stride_analyze_options_t, hr_zone_bounds_bpm), sizeof in->hr_zone_bounds_bpm)) {
    const double* b = in->hr_zone_bounds_bpm;
    if (b[0] != 0 || b[1] != 0 || b[2] != 0 || b[3] != 0) {
      for (int k = 0; k < 4; ++k) {
        if (!(b[k] >= 30 && b[k] <= 250) || (k > 0 && b[k] <= b[k - 1])) {
          return Status::InvalidArgument(
              "hr_zone_bounds_bpm: expected four increasing bpm values from 30 to 250 (lower "
              "bounds of zones 2-5), or all 0 for the default");
        }
      }
      o.hr_zone_bounds_bpm.assign(b, b + 4);
    }
  }
  if (const Status agree = stride::engine::CheckHeartRateOptions(o); !agree.ok()) {
    return Status::InvalidArgument("max_hr_bpm, rest_hr_bpm, hr_zone_bounds_bpm: " +
                                   agree.message());
  }
  if (has(offsetof(stride_analyze_options_t, dem), sizeof in->dem) && in->dem != nullptr) {
    o.dem = in->dem->source.get();
  }
  return o;
}

const char* NameOf(const stride_analyze_options_t* in) {
  if (in == nullptr ||
      in->struct_size < offsetof(stride_analyze_options_t, name) + sizeof in->name) {
    return nullptr;
  }
  return in->name;
}

int Analyze(std::string_view bytes, std::string_view name, const stride_analyze_options_t* options,
            stride_analysis_t** out) {
  Result<stride::engine::AnalyzeOptions> opt = ToOptions(options);
  if (!opt.ok()) return FailWith(opt.status());
  Result<stride::engine::Activity> act = stride::importers::ReadActivity(bytes);
  if (!act.ok()) return FailWith(act.status());
  if (act->sessions.empty()) return Fail(STRIDE_E_INVALID, "the file holds no session");
  // Batch work (stride_keep_freed_memory): a thread's first analysis asks for huge pages for
  // its heap (engine/memory/keep_freed.hpp; later calls on the thread do nothing).
  stride::engine::PreferHugePages(stride::engine::kAnalysisHugePageBytes);
  auto a = std::make_unique<stride_analysis>();
  a->format = act->format;
  for (stride::engine::Track& session : act->sessions) {
    a->sessions.push_back(stride::engine::Analyze(std::move(session), *opt));
  }
  a->json = stride::engine::AnalysisJson(name, a->sessions);
  *out = a.release();
  return Succeed();
}

// ---- queries ----

// `query` in URL syntax as the HTTP layer decodes it (the first of a repeated name wins there;
// here a repeat is an error, since a program, not a browser, wrote it).
Result<stride::server::Params> ParseQuery(const char* query) {
  stride::server::Params p;
  if (query == nullptr) return p;
  std::string_view q(query);
  if (!q.empty() && q.front() == '?') q.remove_prefix(1);
  while (!q.empty()) {
    const size_t amp = q.find('&');
    const std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    std::string key = stride::engine::PercentDecode(pair.substr(0, eq), true);
    std::string value = eq == std::string_view::npos
                            ? std::string()
                            : stride::engine::PercentDecode(pair.substr(eq + 1), true);
    if (p.count(key) > 0) return Status::InvalidArgument("query: " + key + " is given twice");
    p.emplace(std::move(key), std::move(value));
  }
  return p;
}

// The query with the arguments' parameters added; an argument's name in the query is an error.
Result<stride::server::Params> WithArguments(
    const char* query, std::initializer_list<std::pair<const char*, std::string>> args) {
  Result<stride::server::Params> p = ParseQuery(query);
  if (!p.ok()) return p;
  for (const auto& [key, value] : args) {
    if (p->count(key) > 0) {
      return Status::InvalidArgument(std::string("query: ") + key +
                                     " is given as an argument; leave it out of the query");
    }
    p->emplace(key, value);
  }
  return p;
}

// Shortest text that reads back as the same double ("42.5", "1.0000001"): std::to_chars.
std::string Number(double v) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::string("nan");
}

// An HTTP answer as a C result: the body on 200, else the error's message and its code.
int Answer(const stride::server::ApiResponse& r, char** json, size_t* size) {
  if (r.status == 200) return GiveText(r.body, json, size);
  std::string message = r.body;
  const nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_object() &&
      j["error"].contains("message") && j["error"]["message"].is_string()) {
    message = j["error"]["message"].get<std::string>();
  }
  switch (r.status) {
    case 400:
      return Fail(STRIDE_E_INVALID, message);
    case 404:
      return Fail(STRIDE_E_NOT_FOUND, message);
    case 413:
      return Fail(STRIDE_E_TOO_LARGE, message);
    case 503:
      return Fail(STRIDE_E_UNAVAILABLE, message);
    default:
      return Fail(STRIDE_E_INTERNAL, message);
  }
}

// Checks the arguments every query shares, then runs `query` (params -> ApiResponse).
template <typename F>
int Query(const char* function, const stride_db_t* db, char** json, F&& query) {
  return Guard(function, [&] {
    if (json == nullptr) return NullArgument(function, "json");
    *json = nullptr;
    if (db == nullptr) return NullArgument(function, "db");
    return query();
  });
}

}  // namespace

extern "C" {

int stride_api_version(void) {
  return STRIDE_API_VERSION;
}

const char* stride_version(void) {
  return STRIDE_VERSION_TEXT;
}

int stride_keep_freed_memory(size_t bytes) {
  if (stride::engine::KeepFreedMemory(bytes)) return Succeed();
  return Fail(STRIDE_E_UNAVAILABLE,
              "stride_keep_freed_memory: the allocator takes no trim threshold (not glibc's)");
}

const char* stride_last_error(void) {
  return last_error.c_str();
}

void stride_free(void* text) {
  std::free(text);
}

int stride_dem_open(const char* dir, stride_dem_t** out) {
  return Guard("stride_dem_open", [&] {
    if (out == nullptr) return NullArgument("stride_dem_open", "out");
    *out = nullptr;
    if (dir == nullptr) return NullArgument("stride_dem_open", "dir");
    Result<std::unique_ptr<stride::importers::ElevationStack>> d =
        stride::importers::ElevationStack::Open(dir);
    if (!d.ok()) return FailWith(NamedForLibrary(d.status(), "--dem", "elevation source"));
    *out = new stride_dem{std::move(d).value()};
    return Succeed();
  });
}

void stride_dem_close(stride_dem_t* dem) {
  delete dem;
}

int stride_dem_unreadable(const stride_dem_t* dem, char** json, size_t* size) {
  return Guard("stride_dem_unreadable", [&] {
    if (json == nullptr) return NullArgument("stride_dem_unreadable", "json");
    *json = nullptr;
    if (dem == nullptr) return NullArgument("stride_dem_unreadable", "dem");
    nlohmann::json list = nlohmann::json::array();
    for (const std::string& m : dem->source->Unreadable()) {
      list.push_back(stride::engine::ValidUtf8(m));  // file names need not be UTF-8
    }
    return GiveText(list.dump(), json, size);
  });
}

void stride_analyze_options_init(stride_analyze_options_t* options) {
  if (options == nullptr) return;
  *options = stride_analyze_options_t{};
  options->struct_size = sizeof(stride_analyze_options_t);
  options->rest_hr_bpm = 60;
}

int stride_analyze_file(const char* path, const stride_analyze_options_t* options,
                        stride_analysis_t** out) {
  return Guard("stride_analyze_file", [&] {
    if (out == nullptr) return NullArgument("stride_analyze_file", "out");
    *out = nullptr;
    if (path == nullptr) return NullArgument("stride_analyze_file", "path");
    Result<std::string> bytes = stride::importers::ReadFileBytes(path);
    const char* name = NameOf(options);
    const int code = bytes.ok() ? Analyze(*bytes, name != nullptr ? name : path, options, out)
                                : FailWith(bytes.status());
    // Named as the CLI names it: "run.gpx: line 12: ...".
    if (code != STRIDE_OK) last_error = std::string(path) + ": " + last_error;
    return code;
  });
}

int stride_analyze_buffer(const void* data, size_t size, const stride_analyze_options_t* options,
                          stride_analysis_t** out) {
  return Guard("stride_analyze_buffer", [&] {
    if (out == nullptr) return NullArgument("stride_analyze_buffer", "out");
    *out = nullptr;
    if (data == nullptr && size > 0) return NullArgument("stride_analyze_buffer", "data");
    const std::string_view bytes(static_cast<const char*>(data), data == nullptr ? 0 : size);
    const char* name = NameOf(options);
    return Analyze(bytes, name != nullptr ? name : "", options, out);
  });
}

void stride_analysis_free(stride_analysis_t* analysis) {
  delete analysis;
}

const char* stride_analysis_json(const stride_analysis_t* analysis, size_t* size) {
  if (analysis == nullptr) return nullptr;
  if (size != nullptr) *size = analysis->json.size();
  return analysis->json.c_str();
}

size_t stride_analysis_session_count(const stride_analysis_t* analysis) {
  return analysis == nullptr ? 0 : analysis->sessions.size();
}

const char* stride_analysis_format(const stride_analysis_t* analysis) {
  return analysis == nullptr ? nullptr : analysis->format.c_str();
}

const char* stride_stream_name(int stream) {
  static constexpr const char* kNames[STRIDE_STREAM_COUNT] = {
      "time",    "lat",   "lon",   "elevation", "heart_rate",
      "cadence", "speed", "power", "distance",  "temperature"};
  return stream >= 0 && stream < STRIDE_STREAM_COUNT ? kNames[stream] : nullptr;
}

int stride_analysis_stream(const stride_analysis_t* analysis, size_t session, int stream,
                           const double** values, size_t* count) {
  return Guard("stride_analysis_stream", [&] {
    if (values == nullptr) return NullArgument("stride_analysis_stream", "values");
    if (count == nullptr) return NullArgument("stride_analysis_stream", "count");
    *values = nullptr;
    *count = 0;
    if (analysis == nullptr) return NullArgument("stride_analysis_stream", "analysis");
    if (session >= analysis->sessions.size()) {
      return Fail(STRIDE_E_INVALID, "stride_analysis_stream: session " + std::to_string(session) +
                                        " of " + std::to_string(analysis->sessions.size()));
    }
    const stride::engine::Analysis& a = analysis->sessions[session];
    const stride::engine::Track& t = a.track;
    const std::vector<double>* v = nullptr;
    switch (stream) {
      case STRIDE_STREAM_TIME:
        v = &t.time_s;
        break;
      case STRIDE_STREAM_LAT:
        v = &t.lat_deg;
        break;
      case STRIDE_STREAM_LON:
        v = &t.lon_deg;
        break;
      case STRIDE_STREAM_ELEVATION:
        v = &t.ele_m;
        break;
      case STRIDE_STREAM_HEART_RATE:
        v = &t.hr_bpm;
        break;
      case STRIDE_STREAM_CADENCE:
        v = &t.cadence_rpm;
        break;
      case STRIDE_STREAM_SPEED:
        v = &t.speed_mps;
        break;
      case STRIDE_STREAM_POWER:
        v = &t.power_w;
        break;
      case STRIDE_STREAM_DISTANCE:
        v = &a.along_m;
        break;
      case STRIDE_STREAM_TEMPERATURE:
        v = &t.temperature_c;
        break;
      default:
        return Fail(STRIDE_E_INVALID, "stride_analysis_stream: no stream " +
                                          std::to_string(stream) + " (0 to " +
                                          std::to_string(STRIDE_STREAM_COUNT - 1) + ")");
    }
    *values = v->data();
    *count = v->size();
    return Succeed();
  });
}

int stride_db_open(const char* path, stride_db_t** out) {
  return Guard("stride_db_open", [&] {
    if (out == nullptr) return NullArgument("stride_db_open", "out");
    *out = nullptr;
    if (path == nullptr) return NullArgument("stride_db_open", "path");
    Result<std::shared_ptr<const stride::index::RouteSnapshot>> s =
        stride::index::LoadRouteSnapshot(path);
    if (!s.ok()) return FailWith(NamedForLibrary(s.status(), "--db", "database"));
    *out = new stride_db{std::move(s).value()};
    return Succeed();
  });
}

void stride_db_close(stride_db_t* db) {
  delete db;
}

int stride_db_routes(const stride_db_t* db, double min_lon, double min_lat, double max_lon,
                     double max_lat, const char* query, char** json, size_t* size) {
  return Query("stride_db_routes", db, json, [&] {
    const std::string bbox =
        Number(min_lon) + "," + Number(min_lat) + "," + Number(max_lon) + "," + Number(max_lat);
    Result<stride::server::Params> p = WithArguments(query, {{"bbox", bbox}});
    if (!p.ok()) return FailWith(p.status());
    return Answer(stride::server::ListRoutes(*db->snapshot, *p), json, size);
  });
}

int stride_db_nearest(const stride_db_t* db, double lat, double lon, const char* query, char** json,
                      size_t* size) {
  return Query("stride_db_nearest", db, json, [&] {
    Result<stride::server::Params> p =
        WithArguments(query, {{"lat", Number(lat)}, {"lon", Number(lon)}});
    if (!p.ok()) return FailWith(p.status());
    return Answer(stride::server::NearestRoutes(*db->snapshot, *p), json, size);
  });
}

int stride_db_route(const stride_db_t* db, const char* id, const char* query, char** json,
                    size_t* size) {
  return Query("stride_db_route", db, json, [&] {
    if (id == nullptr) return NullArgument("stride_db_route", "id");
    Result<stride::server::Params> p = ParseQuery(query);
    if (!p.ok()) return FailWith(p.status());
    return Answer(stride::server::GetRoute(*db->snapshot, id, *p), json, size);
  });
}

int stride_db_profile(const stride_db_t* db, const char* id, char** json, size_t* size) {
  return Query("stride_db_profile", db, json, [&] {
    if (id == nullptr) return NullArgument("stride_db_profile", "id");
    return Answer(stride::server::GetProfile(*db->snapshot, id), json, size);
  });
}

int stride_db_directions(const stride_db_t* db, double from_lat, double from_lon, double to_lat,
                         double to_lon, const char* query, char** json, size_t* size) {
  return Query("stride_db_directions", db, json, [&] {
    Result<stride::server::Params> p =
        WithArguments(query, {{"from", Number(from_lat) + "," + Number(from_lon)},
                              {"to", Number(to_lat) + "," + Number(to_lon)}});
    if (!p.ok()) return FailWith(p.status());
    return Answer(stride::server::Directions(*db->snapshot, *p), json, size);
  });
}

int stride_db_loop(const stride_db_t* db, double lat, double lon, double distance_m,
                   const char* query, char** json, size_t* size) {
  return Query("stride_db_loop", db, json, [&] {
    Result<stride::server::Params> p = WithArguments(
        query, {{"lat", Number(lat)}, {"lon", Number(lon)}, {"distance_m", Number(distance_m)}});
    if (!p.ok()) return FailWith(p.status());
    return Answer(stride::server::LoopRoutes(*db->snapshot, *p), json, size);
  });
}

int stride_db_match(const stride_db_t* db, const void* data, size_t data_size, const char* query,
                    char** json, size_t* size) {
  return Query("stride_db_match", db, json, [&] {
    if (data == nullptr && data_size > 0) return NullArgument("stride_db_match", "data");
    if (data_size > stride::server::kMaxMatchBody) {
      return Fail(STRIDE_E_TOO_LARGE, "stride_db_match: " + std::to_string(data_size) +
                                          " bytes; at most " +
                                          std::to_string(stride::server::kMaxMatchBody));
    }
    Result<stride::server::Params> p = ParseQuery(query);
    if (!p.ok()) return FailWith(p.status());
    const std::string body(static_cast<const char*>(data), data == nullptr ? 0 : data_size);
    return Answer(stride::server::MatchTrack(*db->snapshot, *p, body), json, size);
  });
}

}  // extern "C"
