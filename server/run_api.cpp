// SPDX-License-Identifier: Apache-2.0
#include "server/run_api.hpp"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "engine/route/route_json.hpp"
#include "engine/text/iso_time.hpp"
#include "engine/text/json_dump.hpp"
#include "engine/text/round.hpp"
#include "engine/text/utf8.hpp"
#include "engine/time/now.hpp"
#include "engine/track/analysis_json.hpp"
#include "engine/track/track_writers.hpp"
#include "index/store/run_codec.hpp"
#include "stride/api.pb.h"

namespace stride::server {
namespace {

using Json = nlohmann::ordered_json;

Json NumOrNull(double x, double unit) {
  if (std::isnan(x)) return nullptr;
  return engine::RoundTo(x, unit);
}

// A Unix time as ISO 8601, null when unknown (NaN).
Json TimeOrNull(double unix_s) {
  return std::isnan(unix_s) ? Json(nullptr) : Json(engine::FormatIsoTime(unix_s));
}

Json TextOrNull(const std::string& s) {
  return s.empty() ? Json(nullptr) : Json(s);
}

Json SummaryJson(const engine::RunSummary& s) {
  return {{"id", engine::RunIdText(s.id)},
          {"start_time", TimeOrNull(s.start_time_s)},
          {"sport", s.sport},
          {"distance_m", NumOrNull(s.distance_m, 0.1)},
          {"moving_time_s", NumOrNull(s.moving_time_s, 0.1)},
          {"elapsed_time_s", NumOrNull(s.elapsed_time_s, 0.1)},
          {"ascent_m", NumOrNull(s.ascent_m, 0.1)},
          {"elevation_source", s.elevation_source},
          {"sessions", s.sessions},
          {"points", s.points},
          {"format", s.format},
          {"file_name", s.file_name.empty() ? Json(nullptr) : Json(s.file_name)},
          {"file_bytes", s.file_bytes},
          {"uploaded_at", engine::FormatIsoTime(s.uploaded_at_s)},
          {"regions", s.regions}};
}

Result<uint64_t> RunIdOf(const std::string& text) {
  uint64_t id = 0;
  if (!engine::ParseRunId(text, &id)) {
    return Status::NotFound("no run " + text + " (run ids are 16 hex digits)");
  }
  return id;
}

// A file name as the client sent it (X-File-Name, a multipart filename) is free text: invalid
// UTF-8 and control characters become U+FFFD, so it renders in JSON, XML and logs alike.
std::string CleanFileName(std::string_view name) {
  std::string out = engine::ValidUtf8(name);
  std::string clean;
  for (char c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      clean += "\xEF\xBF\xBD";
    } else {
      clean.push_back(c);
    }
  }
  return clean;
}

const char* Extension(const std::string& format) {
  return format == "fit" ? "fit" : format == "tcx" ? "tcx" : "gpx";
}

const char* FileType(const std::string& format) {
  return format == "fit"   ? "application/vnd.ant.fit"
         : format == "tcx" ? "application/vnd.garmin.tcx+xml"
                           : "application/gpx+xml";
}

// ---- tar (POSIX ustar) -----------------------------------------------------------------------

std::string TarHeader(const std::string& name, size_t size, double mtime) {
  std::string h(512, '\0');
  auto put = [&](size_t off, size_t len, const std::string& v) {
    std::copy_n(v.data(), std::min(len, v.size()), h.begin() + static_cast<long>(off));
  };
  auto octal = [&](size_t off, size_t len, unsigned long long v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%0*llo", static_cast<int>(len - 1), v);
    put(off, len - 1, buf);
  };
  put(0, 100, name);
  octal(100, 8, 0644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, size);
  octal(136, 12, mtime > 0 ? static_cast<unsigned long long>(mtime) : 0);
  put(148, 8, std::string(8, ' '));
  h[156] = '0';
  put(257, 6, std::string("ustar\0", 6));
  put(263, 2, "00");
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  char buf[8];
  std::snprintf(buf, sizeof buf, "%06o", sum);
  put(148, 7, std::string(buf, 6) + std::string(1, '\0'));
  return h;
}

void TarFile(std::string* out, const std::string& name, std::string_view data, double mtime) {
  *out += TarHeader(name, data.size(), mtime);
  out->append(data);
  out->append((512 - data.size() % 512) % 512, '\0');
}

}  // namespace

std::string RunSummaryJson(const engine::RunSummary& summary) {
  return engine::DumpJson(SummaryJson(summary));
}

nlohmann::json RunSummaryObject(const engine::RunSummary& summary) {
  return SummaryJson(summary);
}

std::string CoverageJson(const std::vector<engine::CoveredRoute>& coverage) {
  Json out = Json::array();
  for (const engine::CoveredRoute& r : coverage) {
    out.push_back({{"id", r.id},
                   {"osm", r.osm},
                   {"name", TextOrNull(r.name)},
                   {"type", r.type},
                   {"length_m", engine::RoundTo(r.length_m, 0.1)},
                   {"covered_m", engine::RoundTo(r.covered_m, 0.1)},
                   {"share", engine::RoundTo(r.share, 0.001)},
                   {"first_reached", TimeOrNull(r.first_reached_s)},
                   {"session", r.session},
                   {"method", TextOrNull(r.method)}});
  }
  return engine::DumpJson(out);
}

std::string TrailMatchJson(const engine::TrailMatch& m) {
  if (!m.matched) return "null";
  const double total = m.on_network_m + m.off_network_m;
  Json out{{"on_network_m", engine::RoundTo(m.on_network_m, 0.1)},
           {"off_network_m", engine::RoundTo(m.off_network_m, 0.1)},
           {"on_network_share", engine::RoundTo(total > 0 ? m.on_network_m / total : 0, 0.001)}};
  Json efforts = Json::array();
  for (const engine::SegmentEffort& e : m.efforts) {
    efforts.push_back({{"id", e.route_id},
                       {"osm", e.osm},
                       {"name", TextOrNull(e.name)},
                       {"distance_m", engine::RoundTo(e.distance_m, 0.1)},
                       {"start", TimeOrNull(e.start_s)},
                       {"elapsed_s", NumOrNull(e.elapsed_s, 0.1)},
                       {"session", e.session}});
  }
  out["segment_efforts"] = std::move(efforts);
  Json ways = Json::array();
  for (const engine::MatchedWay& w : m.ways) {
    ways.push_back({{"way", w.way_id},
                    {"name", TextOrNull(w.name)},
                    {"distance_m", engine::RoundTo(w.distance_m, 0.1)},
                    {"entry", TimeOrNull(w.entry_s)},
                    {"exit", TimeOrNull(w.exit_s)},
                    {"session", w.session}});
  }
  out["ways"] = std::move(ways);
  return engine::DumpJson(out);
}

std::string RunJson(const engine::Run& run, const nlohmann::json& runner) {
  Json head = SummaryJson(run.summary);
  std::string out = engine::DumpJson(head);
  out.pop_back();  // '}': the analysis and coverage are rendered on their own
  const std::string id = engine::RunIdText(run.summary.id);
  out += ",\"links\":" + Json{{"self", "/v1/runs/" + id},
                              {"track", "/v1/runs/" + id + "/track"},
                              {"file", "/v1/runs/" + id + "/file"}}
                             .dump();
  if (runner.is_object() && !runner.empty()) out += ",\"runner\":" + engine::DumpJson(runner);
  if (run.sessions.empty()) {  // stored by schema 1: the JSON as it was rendered then
    out += ",\"analysis\":" + run.schema1_analysis_json;
    out += ",\"route_coverage\":" +
           (run.schema1_coverage_json.empty() ? "[]" : run.schema1_coverage_json) + "}";
    return out;
  }
  const std::string name = run.summary.file_name.empty() ? "upload" : run.summary.file_name;
  out += ",\"analysis\":" + engine::AnalysisJson(name, run.sessions);
  out += ",\"route_coverage\":" + CoverageJson(run.coverage);
  out += ",\"trail_match\":" + TrailMatchJson(run.match) + "}";
  return out;
}

std::string RunProto(const engine::Run& run) {
  api::Run m;
  index::SummaryToProto(run.summary, "", m.mutable_summary());
  for (const engine::Analysis& a : run.sessions) index::AnalysisToProto(a, m.add_sessions());
  for (const engine::CoveredRoute& c : run.coverage) {
    index::CoverageToProto(c, m.add_route_coverage());
  }
  if (run.sessions.empty()) m.set_analysis_json(run.schema1_analysis_json);
  return m.SerializeAsString();
}

ApiResponse RunResponse(const engine::Run& run, int status, Wire wire) {
  if (wire == Wire::kProtobuf) return {status, RunProto(run), kProtobufType};
  return {status, RunJson(run)};
}

ApiResponse UploadRun(RunService& runs, const Principal& who, std::string_view body,
                      const std::string& idempotency_key, const std::string& file_name, Wire wire) {
  if (idempotency_key.size() > 255) {
    return ErrorResponse(400, "invalid_argument", "Idempotency-Key: at most 255 characters", wire);
  }
  for (char c : idempotency_key) {
    if (c < 0x21 || c > 0x7e) {
      return ErrorResponse(400, "invalid_argument",
                           "Idempotency-Key: printable ASCII without spaces expected", wire);
    }
  }
  if (file_name.size() > 255) {
    return ErrorResponse(400, "invalid_argument", "X-File-Name: at most 255 characters", wire);
  }
  Result<RunService::Uploaded> up =
      runs.Upload({who.user_id, body, idempotency_key, CleanFileName(file_name)});
  if (!up.ok()) {
    const Status& s = up.status();
    if (s.code() == StatusCode::kInvalidArgument || s.code() == StatusCode::kCorruption) {
      return ErrorResponse(422, "unreadable_file", s.message(), wire);
    }
    if (s.code() == StatusCode::kAlreadyExists) {
      return ErrorResponse(409, "idempotency_conflict", s.message(), wire);
    }
    return ErrorFromStatus(s, wire);
  }
  ApiResponse r = RunResponse(up->run, up->existed ? 200 : 201, wire);
  r.headers.emplace_back("Location", "/v1/runs/" + engine::RunIdText(up->run.summary.id));
  if (up->existed) r.headers.emplace_back("Idempotent-Replayed", "true");
  return r;
}

ApiResponse ListRuns(RunService& runs, const Principal& who, const Params& p, Wire wire) {
  const Status known = CheckKnown(p, {"before", "limit"});
  if (!known.ok()) return ErrorFromStatus(known, wire);
  const Result<size_t> limit = Limit(p, "limit", kDefaultRunPage, kMaxRunPage);
  if (!limit.ok()) return ErrorFromStatus(limit.status(), wire);
  const auto before = p.find("before");
  Result<engine::RunStore::Page> page =
      runs.store().List(who.user_id, before == p.end() ? "" : before->second, *limit);
  if (!page.ok()) return ErrorFromStatus(page.status(), wire);
  if (wire == Wire::kProtobuf) {
    api::RunList m;
    for (const engine::RunSummary& s : page->runs) index::SummaryToProto(s, "", m.add_runs());
    if (!page->next_cursor.empty()) m.set_next_before(page->next_cursor);
    return {200, m.SerializeAsString(), kProtobufType};
  }
  Json list = Json::array();
  for (const engine::RunSummary& s : page->runs) list.push_back(SummaryJson(s));
  const Json j = {
      {"runs", list},
      {"next_before", page->next_cursor.empty() ? Json(nullptr) : Json(page->next_cursor)}};
  return {200, engine::DumpJson(j)};
}

ApiResponse GetRun(RunService& runs, const Principal& who, const std::string& id_text, Wire wire,
                   const nlohmann::json& runner) {
  Result<uint64_t> id = RunIdOf(id_text);
  if (!id.ok()) return ErrorFromStatus(id.status(), wire);
  Result<engine::Run> run = runs.store().Get(who.user_id, *id, {false, false});
  if (!run.ok()) return ErrorFromStatus(run.status(), wire);
  if (wire == Wire::kProtobuf) return RunResponse(*run, 200, wire);
  return {200, RunJson(*run, runner)};
}

ApiResponse GetRunTrack(RunService& runs, const Principal& who, const std::string& id_text,
                        const Params& p, Wire wire) {
  std::string format = "geojson";
  if (auto it = p.find("format"); it != p.end()) format = it->second;
  if (format != "geojson" && format != "gpx" && format != "polyline6") {
    return ErrorResponse(400, "invalid_argument",
                         "format: expected geojson, gpx or polyline6, got '" + format + "'", wire);
  }
  Result<uint64_t> id = RunIdOf(id_text);
  if (!id.ok()) return ErrorFromStatus(id.status(), wire);
  Result<engine::Run> run = runs.store().Get(who.user_id, *id, {false, true});
  if (!run.ok()) return ErrorFromStatus(run.status(), wire);
  const std::string id_hex = engine::RunIdText(run->summary.id);
  if (format == "gpx") {
    return {200, engine::TracksGpx(run->tracks, run->summary.file_name), "application/gpx+xml"};
  }
  if (format == "polyline6") return {200, engine::TracksPolyline6Json(run->tracks, id_hex)};
  return {200, engine::TracksGeoJson(run->tracks, id_hex, run->summary.sport),
          "application/geo+json"};
}

ApiResponse GetRunFile(RunService& runs, const Principal& who, const std::string& id_text,
                       Wire wire) {
  Result<uint64_t> id = RunIdOf(id_text);
  if (!id.ok()) return ErrorFromStatus(id.status(), wire);
  Result<engine::Run> run = runs.store().Get(who.user_id, *id, {true, false});
  if (!run.ok()) return ErrorFromStatus(run.status(), wire);
  ApiResponse r{200, std::move(run->original), FileType(run->summary.format)};
  r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + id_text + "." +
                                                    Extension(run->summary.format) + "\"");
  return r;
}

ApiResponse DeleteRun(RunService& runs, const Principal& who, const std::string& id_text,
                      Wire wire) {
  Result<uint64_t> id = RunIdOf(id_text);
  if (!id.ok()) return ErrorFromStatus(id.status(), wire);
  Result<bool> deleted = runs.Delete(who.user_id, *id);
  if (!deleted.ok()) return ErrorFromStatus(deleted.status(), wire);
  if (!*deleted) return ErrorResponse(404, "not_found", "no run " + id_text, wire);
  return {204, ""};
}

ApiResponse DeleteMe(RunService& runs, const Principal& who, Wire wire) {
  Result<std::vector<uint64_t>> ids = runs.DeleteUser(who.user_id);
  if (!ids.ok()) return ErrorFromStatus(ids.status(), wire);
  return {200, engine::DumpJson(Json{{"user", who.user_id}, {"deleted_runs", ids->size()}})};
}

ExportStream::ExportStream(RunService& runs, std::string user_id, ExtraFiles extra)
    : runs_(runs), user_(std::move(user_id)), extra_(std::move(extra)) {}

bool ExportStream::Next(std::string* chunk) {
  chunk->clear();
  if (done_) return false;
  if (pending_.empty() && !listed_all_) {
    Result<engine::RunStore::Page> page = runs_.store().List(user_, cursor_, kMaxRunPage);
    if (!page.ok()) {
      done_ = true;  // cut short: no end marker
      return false;
    }
    pending_.assign(page->runs.begin(), page->runs.end());
    cursor_ = page->next_cursor;
    listed_all_ = cursor_.empty();
  }
  const double now = engine::UnixNowS();
  if (pending_.empty() && extra_) {
    // Plugins' data for the user, one file each, before the manifest.
    Result<std::vector<std::pair<std::string, std::string>>> files = extra_(user_);
    extra_ = nullptr;
    if (!files.ok()) {
      done_ = true;  // cut short: no end marker
      return false;
    }
    for (const auto& [name, content] : *files) {
      TarFile(chunk, "stride-export/" + name, content, now);
      extra_names_.push_back(name);
    }
    if (!chunk->empty()) return true;
  }
  if (pending_.empty()) {
    std::string extra_list;
    for (const std::string& n : extra_names_) {
      extra_list += (extra_list.empty() ? "" : ",") + engine::DumpJson(Json(n));
    }
    const std::string manifest = "{\"user\":" + engine::DumpJson(Json(user_)) +
                                 ",\"exported_at\":\"" + engine::FormatIsoTime(now) +
                                 "\",\"runs\":" + std::to_string(count_) + ",\"list\":[" +
                                 manifest_ + "],\"plugin_files\":[" + extra_list + "]}\n";
    TarFile(chunk, "stride-export/manifest.json", manifest, now);
    chunk->append(1024, '\0');  // end of archive
    done_ = true;
    complete_ = true;
    return true;
  }
  const engine::RunSummary s = pending_.front();
  pending_.pop_front();
  Result<engine::Run> run = runs_.store().Get(user_, s.id, {true, false});
  if (!run.ok()) {
    if (run.status().code() == StatusCode::kNotFound) return Next(chunk);  // deleted meanwhile
    done_ = true;
    return false;
  }
  const std::string id = engine::RunIdText(s.id);
  std::string when = std::isnan(s.start_time_s) ? "undated" : engine::FormatIsoTime(s.start_time_s);
  for (char& c : when) {
    if (c == ':') c = '-';
  }
  const std::string dir = "stride-export/runs/" + when + "_" + id + "/";
  TarFile(chunk, dir + "original." + Extension(s.format), run->original, s.uploaded_at_s);
  TarFile(chunk, dir + "run.json", RunJson(*run) + "\n", s.uploaded_at_s);
  if (count_++ > 0) manifest_ += ",";
  manifest_ += engine::DumpJson(SummaryJson(s));
  return true;
}

}  // namespace stride::server
