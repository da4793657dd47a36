// SPDX-License-Identifier: Apache-2.0
#include "engine/track/analysis_json.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "engine/text/iso_time.hpp"
#include "engine/text/json_dump.hpp"
#include "engine/text/json_writer.hpp"
#include "engine/text/round.hpp"
#include "engine/track/sport_guess.hpp"
#include "engine/track/stats.hpp"

namespace stride::engine {
namespace {

// x rounded to a multiple of `unit` (0.1, 0.01, ...); null when not measured.
void Num(JsonWriter& w, double x, double unit = 0.1) {
  if (std::isnan(x) || std::isinf(x)) {
    w.Null();
  } else {
    w.Number(RoundTo(x, unit));
  }
}

void Opt(JsonWriter& w, const std::optional<double>& x, double unit = 0.01) {
  if (x) {
    Num(w, *x, unit);
  } else {
    w.Null();
  }
}

// The text, or null when it is empty.
void TextOrNull(JsonWriter& w, std::string_view text) {
  if (text.empty()) {
    w.Null();
  } else {
    w.String(text);
  }
}

void Strings(JsonWriter& w, const std::vector<std::string>& list) {
  w.BeginArray();
  for (const std::string& s : list) w.String(s);
  w.EndArray();
}

void StartTime(JsonWriter& w, double t) {
  if (std::isnan(t)) {
    w.Null();
  } else {
    w.String(FormatIsoTime(t));
  }
}

void Splits(JsonWriter& w, const std::vector<Split>& splits) {
  w.BeginArray();
  for (const Split& s : splits) {
    w.BeginObject().Key("index").Int(s.index);
    Num(w.Key("distance_m"), s.distance_m);
    Num(w.Key("elapsed_time_s"), s.elapsed_time_s);
    Num(w.Key("moving_time_s"), s.moving_time_s);
    Num(w.Key("pace_s_per_km"), s.distance_m > 0 ? s.elapsed_time_s / (s.distance_m / 1000) : NAN);
    Num(w.Key("gap_s_per_km"), s.gap_s_per_km);
    Num(w.Key("ascent_m"), s.ascent_m);
    Num(w.Key("descent_m"), s.descent_m);
    Num(w.Key("avg_hr_bpm"), s.avg_hr_bpm);
    w.EndObject();
  }
  w.EndArray();
}

// The vertical-speed gate cleaning applied, or null (a track without times; a run stored
// before the gate existed).
void ElevationGate(JsonWriter& w, const CleanReport& p) {
  if (p.max_vertical_speed_mps <= 0) {
    w.Null();
    return;
  }
  w.BeginObject().Key("name").String(
      "vertical speed from the last kept elevation, recalibrated levels kept");
  Num(w.Key("max_vertical_speed_mps"), p.max_vertical_speed_mps);
  Num(w.Key("noise_m"), p.elevation_noise_m);
  Num(w.Key("recovery_s"), p.elevation_recovery_s);
  w.Key("removed").Uint(p.elevation_jumps).EndObject();
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

// A session's fields, inside an object the caller opened.
void SessionFields(JsonWriter& w, const Analysis& a) {
  w.Key("source").BeginObject().Key("format").String(a.format);
  TextOrNull(w.Key("device"), a.device);
  w.Key("sport").String(SportName(a.sport)).Key("sport_source").String(a.sport_source);
  TextOrNull(w.Key("sport_in_file"), a.sport_name);
  TextOrNull(w.Key("sub_sport"), a.sub_sport);
  Strings(w.Key("developer_fields"), a.developer_fields);
  Strings(w.Key("warnings"), a.warnings);
  w.EndObject();
  const CleanReport& p = a.points;
  w.Key("points")
      .BeginObject()
      .Key("raw")
      .Uint(p.raw)
      .Key("kept")
      .Uint(p.kept)
      .Key("kept_with_position")
      .Uint(p.kept_with_position)
      .Key("dropped")
      .BeginObject()
      .Key("no_time")
      .Uint(p.no_time)
      .Key("untimed_beyond_jump")
      .Uint(p.untimed_beyond_jump)
      .Key("duplicate_time")
      .Uint(p.duplicate_time)
      .Key("non_increasing_time")
      .Uint(p.non_increasing_time)
      .Key("invalid_fix")
      .Uint(p.invalid_fix)
      .Key("repeated_fix")
      .Uint(p.repeated_fix)
      .Key("speed_outlier")
      .Uint(p.speed_outlier)
      .EndObject()
      .Key("retimed")
      .Uint(p.retimed)
      .Key("interpolated_time")
      .Uint(p.interpolated_time)
      .Key("extrapolated_time")
      .Uint(p.extrapolated_time);
  Num(w.Key("extrapolation_speed_mps"), p.extrapolation_speed_mps, 0.01);
  w.Key("times_ignored")
      .Bool(p.times_ignored)
      .Key("invalid_elevation")
      .Uint(p.invalid_elevation)
      .Key("invalid_sensor")
      .Uint(p.invalid_sensor)
      .Key("without_position")
      .Uint(p.no_position)
      .EndObject();
  StartTime(w.Key("start_time"), a.start_time_s);
  Num(w.Key("distance_m"), a.distance_m);
  Num(w.Key("elapsed_time_s"), a.elapsed_time_s);
  Num(w.Key("timer_time_s"), a.timer_time_s);
  Num(w.Key("moving_time_s"), a.moving_time_s);
  Num(w.Key("ascent_m"), a.ascent_m);
  Num(w.Key("descent_m"), a.descent_m);
  Num(w.Key("min_elevation_m"), a.min_ele_m);
  Num(w.Key("max_elevation_m"), a.max_ele_m);
  Num(w.Key("avg_pace_s_per_km"), a.avg_pace_s_per_km);
  Num(w.Key("moving_pace_s_per_km"), a.moving_pace_s_per_km);
  Num(w.Key("gap_s_per_km"), a.gap_s_per_km);
  Num(w.Key("max_grade"), a.max_grade, 0.001);
  Num(w.Key("avg_abs_grade"), a.avg_grade, 0.001);
  const HeartRateStats& hr = a.heart_rate;
  w.Key("heart_rate").BeginObject();
  Num(w.Key("avg"), hr.avg_bpm);
  Num(w.Key("max"), hr.max_bpm, 1);
  w.Key("zones_s").BeginArray();
  for (double z : hr.zones_s) Num(w, z);
  w.EndArray().Key("zone_lower_bounds_bpm").BeginArray();
  for (double b : a.hr_zones.lower_bounds_bpm) Num(w, b);
  w.EndArray();
  Num(w.Key("max_hr_bpm_used"), a.hr_zones.max_hr_bpm, 1);
  w.EndObject();
  Num(w.Key("trimp"), hr.trimp);
  Splits(w.Key("splits"), a.splits_km);
  Splits(w.Key("splits_mile"), a.splits_mile);
  w.Key("laps").BeginArray();
  for (const LapResult& l : a.laps) {
    w.BeginObject()
        .Key("index")
        .Int(l.index)
        .Key("start_time")
        .String(FormatIsoTime(l.device.start_time_s));
    Num(w.Key("distance_m"), l.distance_m);
    Num(w.Key("moving_time_s"), l.moving_time_s);
    Num(w.Key("avg_hr_bpm"), l.avg_hr_bpm);
    Num(w.Key("device_elapsed_time_s"), l.device.elapsed_time_s, 0.001);
    Num(w.Key("device_timer_time_s"), l.device.timer_time_s, 0.001);
    Num(w.Key("device_distance_m"), l.device.distance_m, 0.01);
    TextOrNull(w.Key("trigger"), l.device.trigger);
    w.EndObject();
  }
  w.EndArray().Key("climbs").BeginArray();
  for (const Climb& c : a.climbs) {
    w.BeginObject();
    Num(w.Key("start_distance_m"), c.start_distance_m);
    Num(w.Key("length_m"), c.end_distance_m - c.start_distance_m);
    Num(w.Key("gain_m"), c.gain_m);
    Num(w.Key("avg_grade"), c.avg_grade, 0.001);
    Num(w.Key("max_grade"), c.max_grade, 0.001);
    Num(w.Key("start_elevation_m"), c.start_ele_m);
    w.Key("category").String(c.category).EndObject();
  }
  w.EndArray().Key("best_efforts").BeginArray();
  for (const BestEffort& e : a.best_efforts) {
    w.BeginObject().Key("name").String(e.name);
    Num(w.Key("distance_m"), e.distance_m, 0.001);
    Num(w.Key("time_s"), e.time_s);
    Num(w.Key("start_distance_m"), e.start_distance_m);
    w.EndObject();
  }
  w.EndArray().Key("stops").BeginArray();
  for (const Stop& st : a.stops) {
    w.BeginObject().Key("start_time").String(FormatIsoTime(st.start_time_s));
    Num(w.Key("duration_s"), st.duration_s);
    w.Key("kind").String(st.timer_running ? "stopped" : "paused");
    Num(w.Key("distance_m"), st.distance_into_m);
    w.EndObject();
  }
  w.EndArray();
  const DeviceTotals& d = a.device_totals;
  if (d.empty()) {
    w.Key("device_totals").Null();
  } else {
    w.Key("device_totals").BeginObject();
    Opt(w.Key("distance_m"), d.distance_m);
    Opt(w.Key("timer_time_s"), d.timer_time_s, 0.001);
    Opt(w.Key("elapsed_time_s"), d.elapsed_time_s, 0.001);
    Opt(w.Key("ascent_m"), d.ascent_m, 1);
    Opt(w.Key("descent_m"), d.descent_m, 1);
    Opt(w.Key("avg_hr_bpm"), d.avg_hr_bpm, 1);
    Opt(w.Key("max_hr_bpm"), d.max_hr_bpm, 1);
    Opt(w.Key("calories_kcal"), d.calories_kcal, 1);
    w.EndObject();
  }
  const SmoothReport& s = a.smoothing;
  w.Key("methods").BeginObject();
  w.Key("clean")
      .BeginObject()
      .Key("time")
      .String("drop missing and duplicate times; keep the longest increasing run")
      .Key("speed_gate")
      .String("implied speed from the last accepted fix, anchor recovery after 3 consistent fixes");
  Num(w.Key("max_speed_mps"), p.max_speed_mps);
  w.Key("anchor_recoveries").Uint(p.anchor_recoveries);
  w.Key("elevation_range_m")
      .BeginArray()
      .Number(kLowestElevationM)
      .Number(kHighestElevationM)
      .EndArray();
  ElevationGate(w.Key("elevation_gate"), p);
  w.EndObject();
  w.Key("smoothing")
      .BeginObject()
      .Key("name")
      .String(s.position_smoothed ? "kalman_cv_rts" : "none");
  w.Key("frame").String("local east/north metres");
  Num(w.Key("measurement_sigma_m"), s.sigma_m);
  w.Key("used_device_accuracy").Bool(s.used_device_accuracy);
  Num(w.Key("accel_density_m2_s3"), s.accel_density, 0.01);
  w.Key("turn_fixes").Uint(s.turn_fixes).EndObject();
  w.Key("elevation")
      .BeginObject()
      .Key("smoothing")
      .String(s.elevation_smoothed ? "hampel7 + gaussian (3 box passes)" : "none")
      .Key("source")
      .String(AltitudeSourceName(s.elevation_source))
      .Key("source_from")
      .String(s.elevation_source_reason);
  Num(w.Key("sigma"), s.elevation_sigma_m);
  w.Key("sigma_unit").String(s.elevation_over_time ? "s" : "m").EndObject();
  w.Key("distance")
      .BeginObject()
      .Key("name")
      .String(a.distance_from_device ? "device distance stream"
                                     : "ellipsoidal WGS84 over the smoothed fixes")
      .Key("excludes")
      .String("timer stopped, gaps between recorded segments")
      .EndObject();
  w.Key("moving")
      .BeginObject()
      .Key("name")
      .String(a.used_timer_events ? "timer events and window speed" : "window speed")
      .Key("timer_events_ignored")
      .Bool(a.timer_events_dropped);
  Num(w.Key("window_s"), 2 * a.moving_window_s);
  Num(w.Key("stop_speed_mps"), a.stop_speed_mps, 0.01);
  w.EndObject();
  w.Key("ascent").BeginObject().Key("name").String("hysteresis over the smoothed profile");
  Num(w.Key("threshold_m"), a.ascent_threshold_m);
  w.EndObject();
  w.Key("gap")
      .BeginObject()
      .Key("name")
      .String("minetti2002")
      .Key("grade_window_m")
      .Int(50)
      .EndObject();
  w.Key("heart_rate_zones").String(a.hr_zones.method);
  w.Key("trimp")
      .BeginObject()
      .Key("name")
      .String("banister")
      .Key("k")
      .Number(1.92)
      .Key("a")
      .Number(0.64)
      .EndObject();
  w.Key("climbs")
      .BeginObject()
      .Key("name")
      .String("hysteresis trough to peak")
      .Key("min_gain_m")
      .Int(20)
      .Key("min_grade")
      .Number(0.03)
      .EndObject();
  w.Key("best_efforts")
      .BeginObject()
      .Key("name")
      .String("fastest active time over each distance")
      .Key("excludes")
      .String(BestEffortExclusions(a.sport));
  Num(w.Key("vehicle_m"), a.best_efforts_vehicle_m);
  w.EndObject();
  w.EndObject();  // methods
}

}  // namespace

std::string AnalysisJson(std::string_view file_name, const std::vector<Analysis>& sessions,
                         int indent) {
  JsonWriter w;
  w.BeginObject().Key("file").String(file_name);
  if (sessions.size() == 1) {
    SessionFields(w, sessions.front());
  } else {
    // Several sessions: totals, then each session.
    const Analysis& first = sessions.front();
    const SessionTotals t = Totals(sessions);
    auto or_zero = [](double x) { return std::isnan(x) ? 0.0 : x; };
    w.Key("source").BeginObject().Key("format").String(first.format);
    TextOrNull(w.Key("device"), first.device);
    w.Key("sport").String("multisport").EndObject();
    w.Key("points")
        .BeginObject()
        .Key("raw")
        .Uint(t.raw_points)
        .Key("kept")
        .Uint(t.kept_points)
        .EndObject();
    StartTime(w.Key("start_time"), first.start_time_s);
    Num(w.Key("distance_m"), t.distance_m);
    Num(w.Key("elapsed_time_s"), t.elapsed_time_s);
    Num(w.Key("timer_time_s"), or_zero(t.timer_time_s));
    Num(w.Key("moving_time_s"), or_zero(t.moving_time_s));
    Num(w.Key("ascent_m"), t.ascent_m);
    Num(w.Key("descent_m"), t.descent_m);
    w.Key("sessions").BeginArray();
    for (const Analysis& a : sessions) {
      w.BeginObject();
      SessionFields(w, a);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  std::string text = std::move(w).Take();
  // Indented text (tests, people reading it) is rare: the one-line text, re-rendered.
  if (indent >= 0) return DumpJson(nlohmann::ordered_json::parse(text), indent);
  return text;
}

}  // namespace stride::engine
