// SPDX-License-Identifier: Apache-2.0
//
// Readiness check-ins, kept by the host beside the profile (athlete data any plugin may read,
// covered by delete-me and export): user ‖ 0 ‖ "readiness/YYYY-MM-DD" -> the check-in as JSON.
#include "engine/training/readiness.hpp"

#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/text/json_dump.hpp"
#include "engine/text/number.hpp"
#include "engine/text/utf8.hpp"
#include "engine/time/time_zone.hpp"
#include "plugins/host/plugin_host.hpp"

namespace stride::plugins {
namespace {

using Json = nlohmann::json;
constexpr std::string_view kPrefix = "readiness/";
constexpr int kMaxDaysBack = 60;

struct Field {
  const char* name;
  double lo, hi;
};
constexpr Field kNumbers[] = {{"hrv_rmssd_ms", 5, 300},
                              {"rest_hr_bpm", 25, 150},
                              {"sleep_h", 0, 16},
                              {"soreness", 0, 10},
                              {"rpe", 0, 10}};

engine::CheckIn CheckInOf(int64_t day, const Json& j) {
  engine::CheckIn c;
  c.day = day;
  auto opt = [&](const char* k) -> std::optional<double> {
    if (j.contains(k) && j[k].is_number()) return j[k].get<double>();
    return std::nullopt;
  };
  c.hrv_rmssd_ms = opt("hrv_rmssd_ms");
  c.rest_hr_bpm = opt("rest_hr_bpm");
  c.sleep_h = opt("sleep_h");
  c.soreness = opt("soreness");
  c.rpe = opt("rpe");
  c.ill = j.value("ill", false);
  return c;
}

Json ReadinessJson(const engine::Readiness& r) {
  return {{"score", r.score},
          {"band", r.band},
          {"signals", r.signals},
          {"red", r.red},
          {"reasons", r.reasons}};
}

}  // namespace

Result<std::string> PluginHost::PutReadiness(const std::string& user, const std::string& json,
                                             bool dry_run) {
  if (!services_.host_kv) return Status::Unavailable("readiness needs a user database (--runs)");
  if (user.empty()) return Status::InvalidArgument("no user");
  const Json in = Json::parse(json, nullptr, false);
  if (!in.is_object()) return Status::InvalidArgument("readiness: expected a JSON object");
  Result<std::string> profile_text = GetProfile(user);
  if (!profile_text.ok()) return profile_text.status();
  const Json profile = Json::parse(*profile_text);
  Result<engine::TimeZone> tz = engine::TimeZone::Load(profile.value("time_zone", "UTC"));
  const engine::TimeZone zone = tz.ok() ? *tz : engine::TimeZone::Utc();
  const engine::Clock* clock = services_.clock ? services_.clock : &system_clock_;
  const int64_t today = zone.LocalDay(clock->NowS());
  int64_t day = today;
  Json stored = Json::object();
  int signals = 0;
  for (const auto& [k, v] : in.items()) {
    if (k == "date") {
      if (!v.is_string() || !engine::ParseDate(v.get<std::string>(), &day)) {
        return Status::InvalidArgument("date: expected YYYY-MM-DD");
      }
      if (day > today) {
        return Status::InvalidArgument("date: " + v.get<std::string>() + " is after today (" +
                                       engine::FormatDate(today) + " in " + zone.name() + ")");
      }
      if (day < today - kMaxDaysBack) {
        return Status::InvalidArgument("date: at most " + std::to_string(kMaxDaysBack) +
                                       " days back");
      }
      continue;
    }
    if (k == "ill") {
      if (!v.is_boolean()) return Status::InvalidArgument("ill: expected true or false");
      stored[k] = v;
      signals += v.get<bool>();
      continue;
    }
    if (k == "note") {
      if (!v.is_string() || v.get<std::string>().size() > 500) {
        return Status::InvalidArgument("note: expected text of at most 500 bytes");
      }
      stored[k] = engine::ValidUtf8(v.get<std::string>());
      continue;
    }
    const Field* f = nullptr;
    for (const Field& x : kNumbers) {
      if (k == x.name) f = &x;
    }
    if (!f) {
      return Status::InvalidArgument(
          "readiness: unknown field \"" + engine::ValidUtf8(k) +
          "\" (known: date, hrv_rmssd_ms, rest_hr_bpm, sleep_h, soreness, rpe, ill, note)");
    }
    if (!v.is_number() || !(v.get<double>() >= f->lo) || !(v.get<double>() <= f->hi)) {
      return Status::InvalidArgument(k + ": expected a number from " +
                                     engine::NumberForMessage(f->lo) + " to " +
                                     engine::NumberForMessage(f->hi));
    }
    stored[k] = v;
    ++signals;
  }
  if (signals == 0) {
    return Status::InvalidArgument(
        "readiness: nothing to assess: give at least one of hrv_rmssd_ms, rest_hr_bpm, "
        "sleep_h, soreness, rpe, ill");
  }
  const std::string date = engine::FormatDate(day);
  if (dry_run) return engine::DumpJson(stored);
  STRIDE_RETURN_IF_ERROR(services_.host_kv->Put(StoredKey(user, std::string(kPrefix) + date),
                                                engine::DumpJson(stored)));
  Result<std::string> listed = ListReadiness(user, date, date);
  if (!listed.ok()) return listed.status();
  engine::RunEvent none;
  none.user_id = user;
  Enqueue({none, "", date, "", "readiness.stored"});
  Json answer = Json::parse(*listed)["check_ins"][0];
  return engine::DumpJson(answer);
}

Result<std::string> PluginHost::ListReadiness(const std::string& user, const std::string& from,
                                              const std::string& to) const {
  if (user.empty()) return Status::InvalidArgument("no user");
  Result<std::string> profile_text = GetProfile(user);
  if (!profile_text.ok()) return profile_text.status();
  const Json profile = Json::parse(*profile_text);
  Result<engine::TimeZone> tz = engine::TimeZone::Load(profile.value("time_zone", "UTC"));
  const engine::TimeZone zone = tz.ok() ? *tz : engine::TimeZone::Utc();
  const engine::Clock* clock = services_.clock ? services_.clock : &system_clock_;
  int64_t last = zone.LocalDay(clock->NowS()), first = last - 27;
  if (!to.empty() && !engine::ParseDate(to, &last)) {
    return Status::InvalidArgument("to: expected YYYY-MM-DD");
  }
  if (!from.empty()) {
    if (!engine::ParseDate(from, &first)) {
      return Status::InvalidArgument("from: expected YYYY-MM-DD");
    }
  } else if (!to.empty()) {
    first = last - 27;
  }
  if (first > last) return Status::InvalidArgument("from: must not be after to");
  if (last - first > 365) return Status::InvalidArgument("from..to: at most 366 days");
  std::vector<std::pair<engine::CheckIn, Json>> all;  // oldest first (keys sort by date)
  if (services_.host_kv) {
    const std::string prefix = StoredKey(user, kPrefix);
    const Status s = services_.host_kv->Scan(prefix, [&](std::string_view k, std::string_view v) {
      int64_t day = 0;
      if (!engine::ParseDate(k.substr(prefix.size()), &day)) return true;
      if (day < first - kMaxDaysBack || day > last) return true;
      Json j = Json::parse(v, nullptr, false);
      if (!j.is_object()) return true;
      all.emplace_back(CheckInOf(day, j), std::move(j));
      return true;
    });
    if (!s.ok()) return s;
  }
  engine::ReadinessOptions options;
  options.baseline_days = kMaxDaysBack;
  if (profile.contains("rest_hr_bpm")) options.profile_rest_hr_bpm = profile["rest_hr_bpm"];
  std::vector<engine::CheckIn> history;
  for (const auto& [c, j] : all) history.push_back(c);
  Json list = Json::array();
  for (size_t i = all.size(); i-- > 0;) {
    const auto& [c, j] = all[i];
    if (c.day < first) break;
    Json item = {{"date", engine::FormatDate(c.day)}};
    item.update(j);
    item["readiness"] = ReadinessJson(engine::AssessReadiness(c, history, options));
    list.push_back(std::move(item));
  }
  return engine::DumpJson(Json{
      {"check_ins", list}, {"from", engine::FormatDate(first)}, {"to", engine::FormatDate(last)}});
}

}  // namespace stride::plugins
