// SPDX-License-Identifier: Apache-2.0
#include "engine/track/analysis_json.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "engine/text/iso_time.hpp"
#include "engine/text/json_dump.hpp"
#include "engine/text/round.hpp"
#include "engine/track/sport_guess.hpp"
#include "engine/track/stats.hpp"

namespace stride::engine {
namespace {

using Json = nlohmann::ordered_json;

// x rounded to a multiple of `unit` (0.1, 0.01, ...); null when not measured.
Json Num(double x, double unit = 0.1) {
  if (std::isnan(x) || std::isinf(x)) return nullptr;
  return RoundTo(x, unit);
}

Json Opt(const std::optional<double>& x, double unit = 0.01) {
  return x ? Num(*x, unit) : Json(nullptr);
}

Json SplitsJson(const std::vector<Split>& splits) {
  Json out = Json::array();
  for (const Split& s : splits) {
    out.push_back(
        {{"index", s.index},
         {"distance_m", Num(s.distance_m)},
         {"elapsed_time_s", Num(s.elapsed_time_s)},
         {"moving_time_s", Num(s.moving_time_s)},
         {"pace_s_per_km", Num(s.distance_m > 0 ? s.elapsed_time_s / (s.distance_m / 1000) : NAN)},
         {"gap_s_per_km", Num(s.gap_s_per_km)},
         {"ascent_m", Num(s.ascent_m)},
         {"descent_m", Num(s.descent_m)},
         {"avg_hr_bpm", Num(s.avg_hr_bpm)}});
  }
  return out;
}

// The vertical-speed gate cleaning applied, or null (a track without times; a run stored
// before the gate existed).
Json ElevationGateJson(const CleanReport& p) {
  if (p.max_vertical_speed_mps <= 0) return nullptr;
  return {{"name", "vertical speed from the last kept elevation, recalibrated levels kept"},
          {"max_vertical_speed_mps", Num(p.max_vertical_speed_mps)},
          {"noise_m", Num(p.elevation_noise_m)},
          {"recovery_s", Num(p.elevation_recovery_s)},
          {"removed", p.elevation_jumps}};
}

// "a minute", "two minutes", "3 minutes", "10 s": the window of one of the bars.
std::string WindowText(double s) {
  if (s == 60) return "a minute";
  if (s == 120) return "two minutes";
  char buf[32];
  if (s > 0 && std::fmod(s, 60) == 0) {
    std::snprintf(buf, sizeof buf, "%.0f minutes", s / 60);
  } else {
    std::snprintf(buf, sizeof buf, "%.0f s", s);
  }
  return buf;
}

// What Analyze leaves out of the best efforts, said from the settings it uses (the defaults of
// stats.hpp's options, kVehicleSpeedMps), so that the text follows them.
std::string BestEffortExclusions(Sport sport) {
  const SpeedBar vehicle{kVehicleSpeedMps};
  const StridelessOptions steps;
  const RestingHeartOptions heart;
  char buf[512];
  std::string out = "estimated times; ";
  if (BarsVehicleSpeed(sport)) {
    std::snprintf(buf, sizeof buf, "%s or more at %.3g km/h or faster (a vehicle)",
                  WindowText(vehicle.window_s).c_str(), vehicle.ceiling_mps * 3.6);
    out += buf;
  } else {
    out += "faster than the world record for as long (a vehicle)";
  }
  std::snprintf(buf, sizeof buf,
                "; %s at %.3g km/h or faster without a step counted (a vehicle); %s at %.3g km/h "
                "or more and %.0f %% over the recording's median pace with the heart %.0f bpm or "
                "more under its median (a vehicle)",
                WindowText(steps.window_s).c_str(), steps.min_speed_mps * 3.6,
                WindowText(heart.window_s).c_str(), heart.min_speed_mps * 3.6,
                (heart.over_median - 1) * 100, heart.hr_drop_bpm);
  return out + buf;
}

Json SessionJson(const Analysis& a) {
  Json j;
  j["source"] = {{"format", a.format},
                 {"device", a.device.empty() ? Json(nullptr) : Json(a.device)},
                 {"sport", std::string(SportName(a.sport))},
                 {"sport_source", a.sport_source},
                 {"sport_in_file", a.sport_name.empty() ? Json(nullptr) : Json(a.sport_name)},
                 {"sub_sport", a.sub_sport.empty() ? Json(nullptr) : Json(a.sub_sport)},
                 {"developer_fields", a.developer_fields},
                 {"warnings", a.warnings}};
  const CleanReport& p = a.points;
  j["points"] = {{"raw", p.raw},
                 {"kept", p.kept},
                 {"kept_with_position", p.kept_with_position},
                 {"dropped",
                  {{"no_time", p.no_time},
                   {"untimed_beyond_jump", p.untimed_beyond_jump},
                   {"duplicate_time", p.duplicate_time},
                   {"non_increasing_time", p.non_increasing_time},
                   {"invalid_fix", p.invalid_fix},
                   {"repeated_fix", p.repeated_fix},
                   {"speed_outlier", p.speed_outlier}}},
                 {"retimed", p.retimed},
                 {"interpolated_time", p.interpolated_time},
                 {"extrapolated_time", p.extrapolated_time},
                 {"extrapolation_speed_mps", Num(p.extrapolation_speed_mps, 0.01)},
                 {"times_ignored", p.times_ignored},
                 {"invalid_elevation", p.invalid_elevation},
                 {"invalid_sensor", p.invalid_sensor},
                 {"without_position", p.no_position}};
  j["start_time"] =
      std::isnan(a.start_time_s) ? Json(nullptr) : Json(FormatIsoTime(a.start_time_s));
  j["distance_m"] = Num(a.distance_m);
  j["elapsed_time_s"] = Num(a.elapsed_time_s);
  j["timer_time_s"] = Num(a.timer_time_s);
  j["moving_time_s"] = Num(a.moving_time_s);
  j["ascent_m"] = Num(a.ascent_m);
  j["descent_m"] = Num(a.descent_m);
  j["min_elevation_m"] = Num(a.min_ele_m);
  j["max_elevation_m"] = Num(a.max_ele_m);
  j["avg_pace_s_per_km"] = Num(a.avg_pace_s_per_km);
  j["moving_pace_s_per_km"] = Num(a.moving_pace_s_per_km);
  j["gap_s_per_km"] = Num(a.gap_s_per_km);
  j["max_grade"] = Num(a.max_grade, 0.001);
  j["avg_abs_grade"] = Num(a.avg_grade, 0.001);
  const HeartRateStats& hr = a.heart_rate;
  Json zones = Json::array();
  for (double z : hr.zones_s) zones.push_back(Num(z));
  Json bounds = Json::array();
  for (double b : a.hr_zones.lower_bounds_bpm) bounds.push_back(Num(b));
  j["heart_rate"] = {{"avg", Num(hr.avg_bpm)},
                     {"max", Num(hr.max_bpm, 1)},
                     {"zones_s", zones},
                     {"zone_lower_bounds_bpm", bounds},
                     {"max_hr_bpm_used", Num(a.hr_zones.max_hr_bpm, 1)}};
  j["trimp"] = Num(hr.trimp);
  j["splits"] = SplitsJson(a.splits_km);
  j["splits_mile"] = SplitsJson(a.splits_mile);
  Json laps = Json::array();
  for (const LapResult& l : a.laps) {
    laps.push_back(
        {{"index", l.index},
         {"start_time", FormatIsoTime(l.device.start_time_s)},
         {"distance_m", Num(l.distance_m)},
         {"moving_time_s", Num(l.moving_time_s)},
         {"avg_hr_bpm", Num(l.avg_hr_bpm)},
         {"device_elapsed_time_s", Num(l.device.elapsed_time_s, 0.001)},
         {"device_timer_time_s", Num(l.device.timer_time_s, 0.001)},
         {"device_distance_m", Num(l.device.distance_m, 0.01)},
         {"trigger", l.device.trigger.empty() ? Json(nullptr) : Json(l.device.trigger)}});
  }
  j["laps"] = laps;
  Json climbs = Json::array();
  for (const Climb& c : a.climbs) {
    climbs.push_back({{"start_distance_m", Num(c.start_distance_m)},
                      {"length_m", Num(c.end_distance_m - c.start_distance_m)},
                      {"gain_m", Num(c.gain_m)},
                      {"avg_grade", Num(c.avg_grade, 0.001)},
                      {"max_grade", Num(c.max_grade, 0.001)},
                      {"start_elevation_m", Num(c.start_ele_m)},
                      {"category", c.category}});
  }
  j["climbs"] = climbs;
  Json efforts = Json::array();
  for (const BestEffort& e : a.best_efforts) {
    efforts.push_back({{"name", e.name},
                       {"distance_m", Num(e.distance_m, 0.001)},
                       {"time_s", Num(e.time_s)},
                       {"start_distance_m", Num(e.start_distance_m)}});
  }
  j["best_efforts"] = efforts;
  Json stops = Json::array();
  for (const Stop& st : a.stops) {
    stops.push_back({{"start_time", FormatIsoTime(st.start_time_s)},
                     {"duration_s", Num(st.duration_s)},
                     {"kind", st.timer_running ? "stopped" : "paused"},
                     {"distance_m", Num(st.distance_into_m)}});
  }
  j["stops"] = stops;
  const DeviceTotals& d = a.device_totals;
  if (d.empty()) {
    j["device_totals"] = nullptr;
  } else {
    j["device_totals"] = {{"distance_m", Opt(d.distance_m)},
                          {"timer_time_s", Opt(d.timer_time_s, 0.001)},
                          {"elapsed_time_s", Opt(d.elapsed_time_s, 0.001)},
                          {"ascent_m", Opt(d.ascent_m, 1)},
                          {"descent_m", Opt(d.descent_m, 1)},
                          {"avg_hr_bpm", Opt(d.avg_hr_bpm, 1)},
                          {"max_hr_bpm", Opt(d.max_hr_bpm, 1)},
                          {"calories_kcal", Opt(d.calories_kcal, 1)}};
  }
  const SmoothReport& s = a.smoothing;
  j["methods"] = {
      {"clean",
       {{"time", "drop missing and duplicate times; keep the longest increasing run"},
        {"speed_gate",
         "implied speed from the last accepted fix, anchor recovery after 3 consistent fixes"},
        {"max_speed_mps", Num(p.max_speed_mps)},
        {"anchor_recoveries", p.anchor_recoveries},
        {"elevation_range_m", {kLowestElevationM, kHighestElevationM}},
        {"elevation_gate", ElevationGateJson(p)}}},
      {"smoothing",
       {{"name", s.position_smoothed ? "kalman_cv_rts" : "none"},
        {"frame", "local east/north metres"},
        {"measurement_sigma_m", Num(s.sigma_m)},
        {"used_device_accuracy", s.used_device_accuracy},
        {"accel_density_m2_s3", Num(s.accel_density, 0.01)},
        {"turn_fixes", s.turn_fixes}}},
      {"elevation",
       {{"smoothing", s.elevation_smoothed ? "hampel7 + gaussian (3 box passes)" : "none"},
        {"source", std::string(AltitudeSourceName(s.elevation_source))},
        {"source_from", s.elevation_source_reason},
        {"sigma", Num(s.elevation_sigma_m)},
        {"sigma_unit", s.elevation_over_time ? "s" : "m"}}},
      {"distance",
       {{"name", a.distance_from_device ? "device distance stream"
                                        : "ellipsoidal WGS84 over the smoothed fixes"},
        {"excludes", "timer stopped, gaps between recorded segments"}}},
      {"moving",
       {{"name", a.used_timer_events ? "timer events and window speed" : "window speed"},
        {"timer_events_ignored", a.timer_events_dropped},
        {"window_s", Num(2 * a.moving_window_s)},
        {"stop_speed_mps", Num(a.stop_speed_mps, 0.01)}}},
      {"ascent",
       {{"name", "hysteresis over the smoothed profile"},
        {"threshold_m", Num(a.ascent_threshold_m)}}},
      {"gap", {{"name", "minetti2002"}, {"grade_window_m", 50}}},
      {"heart_rate_zones", a.hr_zones.method},
      {"trimp", {{"name", "banister"}, {"k", 1.92}, {"a", 0.64}}},
      {"climbs", {{"name", "hysteresis trough to peak"}, {"min_gain_m", 20}, {"min_grade", 0.03}}},
      {"best_efforts",
       {{"name", "fastest active time over each distance"},
        {"excludes", BestEffortExclusions(a.sport)},
        {"vehicle_m", Num(a.best_efforts_vehicle_m)}}},
  };
  return j;
}

}  // namespace

std::string AnalysisJson(std::string_view file_name, const std::vector<Analysis>& sessions,
                         int indent) {
  Json j;
  j["file"] = std::string(file_name);
  if (sessions.size() == 1) {
    const Json session = SessionJson(sessions.front());
    for (const auto& item : session.items()) j[item.key()] = item.value();
    return engine::DumpJson(j, indent);
  }
  // Several sessions: totals, then each session.
  const Analysis& first = sessions.front();
  const SessionTotals t = Totals(sessions);
  auto or_zero = [](double x) { return std::isnan(x) ? 0.0 : x; };
  j["source"] = {{"format", first.format},
                 {"device", first.device.empty() ? Json(nullptr) : Json(first.device)},
                 {"sport", "multisport"}};
  j["points"] = {{"raw", t.raw_points}, {"kept", t.kept_points}};
  j["start_time"] =
      std::isnan(first.start_time_s) ? Json(nullptr) : Json(FormatIsoTime(first.start_time_s));
  j["distance_m"] = Num(t.distance_m);
  j["elapsed_time_s"] = Num(t.elapsed_time_s);
  j["timer_time_s"] = Num(or_zero(t.timer_time_s));
  j["moving_time_s"] = Num(or_zero(t.moving_time_s));
  j["ascent_m"] = Num(t.ascent_m);
  j["descent_m"] = Num(t.descent_m);
  Json list = Json::array();
  for (const Analysis& a : sessions) list.push_back(SessionJson(a));
  j["sessions"] = list;
  return engine::DumpJson(j, indent);
}

}  // namespace stride::engine
