// SPDX-License-Identifier: Apache-2.0
#include "index/store/run_codec.hpp"

#include <zstd.h>

#include <cmath>

#include "index/store/keys.hpp"

namespace stride::index {
namespace {

using engine::kNaN;

// NaN is "not measured": an unset optional field.
#define STRIDE_PUT_OPT(msg, field, value) \
  if (!std::isnan(value)) (msg)->set_##field(value)
#define STRIDE_GET_OPT(msg, field) ((msg).has_##field() ? (msg).field() : kNaN)

void SplitToProto(const engine::Split& s, run::Split* p) {
  p->set_index(s.index);
  p->set_distance_m(s.distance_m);
  p->set_elapsed_time_s(s.elapsed_time_s);
  p->set_moving_time_s(s.moving_time_s);
  p->set_ascent_m(s.ascent_m);
  p->set_descent_m(s.descent_m);
  STRIDE_PUT_OPT(p, avg_hr_bpm, s.avg_hr_bpm);
  STRIDE_PUT_OPT(p, gap_s_per_km, s.gap_s_per_km);
}

engine::Split SplitFromProto(const run::Split& p) {
  engine::Split s;
  s.index = p.index();
  s.distance_m = p.distance_m();
  s.elapsed_time_s = p.elapsed_time_s();
  s.moving_time_s = p.moving_time_s();
  s.ascent_m = p.ascent_m();
  s.descent_m = p.descent_m();
  s.avg_hr_bpm = STRIDE_GET_OPT(p, avg_hr_bpm);
  s.gap_s_per_km = STRIDE_GET_OPT(p, gap_s_per_km);
  return s;
}

void CleanToProto(const engine::CleanReport& c, run::CleanReport* p) {
  p->set_raw(c.raw);
  p->set_kept(c.kept);
  p->set_kept_with_position(c.kept_with_position);
  p->set_no_time(c.no_time);
  p->set_duplicate_time(c.duplicate_time);
  p->set_non_increasing_time(c.non_increasing_time);
  p->set_times_ignored(c.times_ignored);
  p->set_retimed(c.retimed);
  p->set_invalid_elevation(c.invalid_elevation);
  p->set_invalid_sensor(c.invalid_sensor);
  p->set_invalid_fix(c.invalid_fix);
  p->set_repeated_fix(c.repeated_fix);
  p->set_speed_outlier(c.speed_outlier);
  p->set_no_position(c.no_position);
  p->set_anchor_recoveries(c.anchor_recoveries);
  p->set_max_speed_mps(c.max_speed_mps);
  p->set_interpolated_time(c.interpolated_time);
  p->set_extrapolated_time(c.extrapolated_time);
  p->set_extrapolation_speed_mps(c.extrapolation_speed_mps);
  p->set_max_vertical_speed_mps(c.max_vertical_speed_mps);
  p->set_elevation_noise_m(c.elevation_noise_m);
  p->set_elevation_recovery_s(c.elevation_recovery_s);
  p->set_elevation_jumps(c.elevation_jumps);
  p->set_extrapolated_before(c.extrapolated_before);
  p->set_untimed_beyond_jump(c.untimed_beyond_jump);
}

engine::CleanReport CleanFromProto(const run::CleanReport& p) {
  engine::CleanReport c;
  c.raw = p.raw();
  c.kept = p.kept();
  c.kept_with_position = p.kept_with_position();
  c.no_time = p.no_time();
  c.duplicate_time = p.duplicate_time();
  c.non_increasing_time = p.non_increasing_time();
  c.times_ignored = p.times_ignored();
  c.retimed = p.retimed();
  c.invalid_elevation = p.invalid_elevation();
  c.invalid_sensor = p.invalid_sensor();
  c.invalid_fix = p.invalid_fix();
  c.repeated_fix = p.repeated_fix();
  c.speed_outlier = p.speed_outlier();
  c.no_position = p.no_position();
  c.anchor_recoveries = p.anchor_recoveries();
  c.max_speed_mps = p.max_speed_mps();
  c.interpolated_time = p.interpolated_time();
  c.extrapolated_time = p.extrapolated_time();
  c.extrapolation_speed_mps = p.extrapolation_speed_mps();
  c.max_vertical_speed_mps = p.max_vertical_speed_mps();
  c.elevation_noise_m = p.elevation_noise_m();
  c.elevation_recovery_s = p.elevation_recovery_s();
  c.elevation_jumps = p.elevation_jumps();
  c.extrapolated_before = p.extrapolated_before();
  c.untimed_beyond_jump = p.untimed_beyond_jump();
  return c;
}

void OptionalToProto(const std::optional<double>& v, run::DeviceTotals* p,
                     void (run::DeviceTotals::*set)(double)) {
  if (v) (p->*set)(*v);
}

std::optional<double> OptionalFromProto(bool has, double v) {
  return has ? std::optional<double>(v) : std::nullopt;
}

// SportName/AltitudeSourceName words back to the enums (both total over their enums).
Result<engine::Sport> SportFromName(const std::string& name) {
  for (engine::Sport s :
       {engine::Sport::kUnknown, engine::Sport::kRun, engine::Sport::kWalk, engine::Sport::kHike,
        engine::Sport::kRide, engine::Sport::kSwim, engine::Sport::kOther}) {
    if (engine::SportName(s) == name) return s;
  }
  return Status::Corruption("unknown sport '" + name + "'");
}

Result<engine::AltitudeSource> AltitudeSourceFromName(const std::string& name) {
  for (engine::AltitudeSource s :
       {engine::AltitudeSource::kUnknown, engine::AltitudeSource::kBarometric,
        engine::AltitudeSource::kGps, engine::AltitudeSource::kDem}) {
    if (engine::AltitudeSourceName(s) == name) return s;
  }
  return Status::Corruption("unknown elevation source '" + name + "'");
}

// ---- streams ---------------------------------------------------------------------------------

void EncodeStream(const std::vector<double>& v, double scale, run::Stream* out) {
  out->set_scale(scale);
  auto* codes = out->mutable_codes();
  codes->Reserve(static_cast<int>(v.size()));
  int64_t prev = 0;
  for (double x : v) {
    // A value the scale cannot hold (over 2^62 steps, far beyond any reading; an <ele>1e300
    // in a GPX) is stored as absent: quantizing it would overflow the delta.
    const double steps = x / scale;
    if (!(std::fabs(steps) < 0x1p62)) {  // NaN included
      codes->Add(1);
      continue;
    }
    const int64_t q = std::llround(steps);
    const int64_t d = q - prev;
    prev = q;
    const uint64_t zz = (static_cast<uint64_t>(d) << 1) ^ static_cast<uint64_t>(d >> 63);
    codes->Add(zz << 1);
  }
}

std::vector<double> DecodeStream(const run::Stream& s, size_t n) {
  std::vector<double> v(n, kNaN);
  if (s.codes_size() == 0) return v;  // not stored: all absent
  int64_t prev = 0;
  for (size_t i = 0; i < n && i < static_cast<size_t>(s.codes_size()); ++i) {
    const uint64_t c = s.codes(static_cast<int>(i));
    if (c & 1) continue;
    const uint64_t zz = c >> 1;
    prev += static_cast<int64_t>((zz >> 1) ^ (~(zz & 1) + 1));
    v[i] = static_cast<double>(prev) * s.scale();
  }
  return v;
}

bool AllNaN(const std::vector<double>& v) {
  for (double x : v) {
    if (!std::isnan(x)) return false;
  }
  return true;
}

}  // namespace

// ---- summaries -------------------------------------------------------------------------------

void SummaryToProto(const engine::RunSummary& s, const std::string& idempotency_key,
                    run::RunSummary* p) {
  p->set_id(s.id);
  p->set_user_id(s.user_id);
  STRIDE_PUT_OPT(p, start_time_s, s.start_time_s);
  p->set_uploaded_at_s(s.uploaded_at_s);
  p->set_sport(s.sport);
  p->set_format(s.format);
  p->set_file_name(s.file_name);
  p->set_file_bytes(s.file_bytes);
  p->set_points(s.points);
  p->set_distance_m(s.distance_m);
  STRIDE_PUT_OPT(p, moving_time_s, s.moving_time_s);
  STRIDE_PUT_OPT(p, elapsed_time_s, s.elapsed_time_s);
  STRIDE_PUT_OPT(p, ascent_m, s.ascent_m);
  p->set_elevation_source(s.elevation_source);
  p->set_sessions(s.sessions);
  p->set_idempotency_key(idempotency_key);
  for (const std::string& r : s.regions) p->add_regions(r);
}

engine::RunSummary SummaryFromProto(const run::RunSummary& p) {
  engine::RunSummary s;
  s.id = p.id();
  s.user_id = p.user_id();
  s.start_time_s = STRIDE_GET_OPT(p, start_time_s);
  s.uploaded_at_s = p.uploaded_at_s();
  s.sport = p.sport();
  s.format = p.format();
  s.file_name = p.file_name();
  s.file_bytes = p.file_bytes();
  s.points = p.points();
  s.distance_m = p.distance_m();
  s.moving_time_s = STRIDE_GET_OPT(p, moving_time_s);
  s.elapsed_time_s = STRIDE_GET_OPT(p, elapsed_time_s);
  s.ascent_m = STRIDE_GET_OPT(p, ascent_m);
  s.elevation_source = p.elevation_source();
  s.sessions = p.sessions();
  s.regions.assign(p.regions().begin(), p.regions().end());
  return s;
}

// ---- analysis --------------------------------------------------------------------------------

void AnalysisToProto(const engine::Analysis& a, run::SessionAnalysis* p) {
  p->set_format(a.format);
  p->set_device(a.device);
  p->set_sport(std::string(engine::SportName(a.sport)));
  p->set_sport_source(a.sport_source);
  p->set_sport_name(a.sport_name);
  p->set_sub_sport(a.sub_sport);
  for (const std::string& f : a.developer_fields) p->add_developer_fields(f);
  for (const std::string& w : a.warnings) p->add_warnings(w);
  CleanToProto(a.points, p->mutable_points());
  STRIDE_PUT_OPT(p, start_time_s, a.start_time_s);
  p->set_distance_m(a.distance_m);
  STRIDE_PUT_OPT(p, elapsed_time_s, a.elapsed_time_s);
  STRIDE_PUT_OPT(p, timer_time_s, a.timer_time_s);
  STRIDE_PUT_OPT(p, moving_time_s, a.moving_time_s);
  STRIDE_PUT_OPT(p, avg_pace_s_per_km, a.avg_pace_s_per_km);
  STRIDE_PUT_OPT(p, moving_pace_s_per_km, a.moving_pace_s_per_km);
  STRIDE_PUT_OPT(p, gap_s_per_km, a.gap_s_per_km);
  STRIDE_PUT_OPT(p, ascent_m, a.ascent_m);
  STRIDE_PUT_OPT(p, descent_m, a.descent_m);
  STRIDE_PUT_OPT(p, min_ele_m, a.min_ele_m);
  STRIDE_PUT_OPT(p, max_ele_m, a.max_ele_m);
  STRIDE_PUT_OPT(p, max_grade, a.max_grade);
  STRIDE_PUT_OPT(p, avg_grade, a.avg_grade);
  for (double b : a.hr_zones.lower_bounds_bpm) p->add_hr_zone_lower_bounds_bpm(b);
  p->set_hr_zone_method(a.hr_zones.method);
  STRIDE_PUT_OPT(p, hr_zone_max_hr_bpm, a.hr_zones.max_hr_bpm);
  STRIDE_PUT_OPT(p, avg_hr_bpm, a.heart_rate.avg_bpm);
  STRIDE_PUT_OPT(p, max_hr_bpm, a.heart_rate.max_bpm);
  for (double z : a.heart_rate.zones_s) p->add_hr_zones_s(z);
  STRIDE_PUT_OPT(p, trimp, a.heart_rate.trimp);
  for (const engine::Split& s : a.splits_km) SplitToProto(s, p->add_splits_km());
  for (const engine::Split& s : a.splits_mile) SplitToProto(s, p->add_splits_mile());
  for (const engine::LapResult& l : a.laps) {
    run::LapResult* q = p->add_laps();
    q->set_index(l.index);
    STRIDE_PUT_OPT(q, start_time_s, l.device.start_time_s);
    STRIDE_PUT_OPT(q, elapsed_time_s, l.device.elapsed_time_s);
    STRIDE_PUT_OPT(q, timer_time_s, l.device.timer_time_s);
    STRIDE_PUT_OPT(q, device_distance_m, l.device.distance_m);
    STRIDE_PUT_OPT(q, device_avg_hr_bpm, l.device.avg_hr_bpm);
    STRIDE_PUT_OPT(q, max_hr_bpm, l.device.max_hr_bpm);
    q->set_trigger(l.device.trigger);
    q->set_distance_m(l.distance_m);
    q->set_moving_time_s(l.moving_time_s);
    STRIDE_PUT_OPT(q, avg_hr_bpm, l.avg_hr_bpm);
  }
  for (const engine::Climb& c : a.climbs) {
    run::Climb* q = p->add_climbs();
    q->set_start_distance_m(c.start_distance_m);
    q->set_end_distance_m(c.end_distance_m);
    q->set_gain_m(c.gain_m);
    q->set_avg_grade(c.avg_grade);
    q->set_max_grade(c.max_grade);
    q->set_start_ele_m(c.start_ele_m);
    q->set_end_ele_m(c.end_ele_m);
    q->set_category(c.category);
  }
  for (const engine::BestEffort& e : a.best_efforts) {
    run::BestEffort* q = p->add_best_efforts();
    q->set_name(e.name);
    q->set_distance_m(e.distance_m);
    q->set_time_s(e.time_s);
    q->set_start_distance_m(e.start_distance_m);
  }
  for (const engine::Stop& s : a.stops) {
    run::Stop* q = p->add_stops();
    STRIDE_PUT_OPT(q, start_time_s, s.start_time_s);
    q->set_duration_s(s.duration_s);
    q->set_timer_running(s.timer_running);
    q->set_distance_into_m(s.distance_into_m);
  }
  const engine::DeviceTotals& d = a.device_totals;
  run::DeviceTotals* dt = p->mutable_device_totals();
  OptionalToProto(d.distance_m, dt, &run::DeviceTotals::set_distance_m);
  OptionalToProto(d.timer_time_s, dt, &run::DeviceTotals::set_timer_time_s);
  OptionalToProto(d.elapsed_time_s, dt, &run::DeviceTotals::set_elapsed_time_s);
  OptionalToProto(d.ascent_m, dt, &run::DeviceTotals::set_ascent_m);
  OptionalToProto(d.descent_m, dt, &run::DeviceTotals::set_descent_m);
  OptionalToProto(d.avg_hr_bpm, dt, &run::DeviceTotals::set_avg_hr_bpm);
  OptionalToProto(d.max_hr_bpm, dt, &run::DeviceTotals::set_max_hr_bpm);
  OptionalToProto(d.calories_kcal, dt, &run::DeviceTotals::set_calories_kcal);
  const engine::SmoothReport& s = a.smoothing;
  run::SmoothReport* sm = p->mutable_smoothing();
  sm->set_position_smoothed(s.position_smoothed);
  sm->set_sigma_m(s.sigma_m);
  sm->set_sigma_from_data(s.sigma_from_data);
  sm->set_used_device_accuracy(s.used_device_accuracy);
  sm->set_accel_density(s.accel_density);
  sm->set_turn_fixes(s.turn_fixes);
  sm->set_elevation_smoothed(s.elevation_smoothed);
  sm->set_elevation_source(std::string(engine::AltitudeSourceName(s.elevation_source)));
  sm->set_elevation_source_reason(s.elevation_source_reason);
  sm->set_elevation_sigma_m(s.elevation_sigma_m);
  sm->set_elevation_over_time(s.elevation_over_time);
  p->set_distance_from_device(a.distance_from_device);
  p->set_used_timer_events(a.used_timer_events);
  p->set_timer_events_dropped(a.timer_events_dropped);
  p->set_stop_speed_mps(a.stop_speed_mps);
  p->set_moving_window_s(a.moving_window_s);
  p->set_ascent_threshold_m(a.ascent_threshold_m);
  p->set_best_efforts_vehicle_m(a.best_efforts_vehicle_m);
}

Result<engine::Analysis> AnalysisFromProto(const run::SessionAnalysis& p) {
  engine::Analysis a;
  a.format = p.format();
  a.device = p.device();
  Result<engine::Sport> sport = SportFromName(p.sport());
  if (!sport.ok()) return sport.status();
  a.sport = *sport;
  a.sport_source = p.sport_source();
  a.sport_name = p.sport_name();
  a.sub_sport = p.sub_sport();
  a.developer_fields.assign(p.developer_fields().begin(), p.developer_fields().end());
  a.warnings.assign(p.warnings().begin(), p.warnings().end());
  a.points = CleanFromProto(p.points());
  a.start_time_s = STRIDE_GET_OPT(p, start_time_s);
  a.distance_m = p.distance_m();
  a.elapsed_time_s = STRIDE_GET_OPT(p, elapsed_time_s);
  a.timer_time_s = STRIDE_GET_OPT(p, timer_time_s);
  a.moving_time_s = STRIDE_GET_OPT(p, moving_time_s);
  a.avg_pace_s_per_km = STRIDE_GET_OPT(p, avg_pace_s_per_km);
  a.moving_pace_s_per_km = STRIDE_GET_OPT(p, moving_pace_s_per_km);
  a.gap_s_per_km = STRIDE_GET_OPT(p, gap_s_per_km);
  a.ascent_m = STRIDE_GET_OPT(p, ascent_m);
  a.descent_m = STRIDE_GET_OPT(p, descent_m);
  a.min_ele_m = STRIDE_GET_OPT(p, min_ele_m);
  a.max_ele_m = STRIDE_GET_OPT(p, max_ele_m);
  a.max_grade = STRIDE_GET_OPT(p, max_grade);
  a.avg_grade = STRIDE_GET_OPT(p, avg_grade);
  if (p.hr_zone_lower_bounds_bpm_size() != 4 || p.hr_zones_s_size() != 5) {
    return Status::Corruption("heart-rate zones: expected 4 bounds and 5 zone times");
  }
  for (size_t i = 0; i < 4; ++i) {
    a.hr_zones.lower_bounds_bpm[i] = p.hr_zone_lower_bounds_bpm(static_cast<int>(i));
  }
  a.hr_zones.method = p.hr_zone_method();
  a.hr_zones.max_hr_bpm = STRIDE_GET_OPT(p, hr_zone_max_hr_bpm);
  a.heart_rate.avg_bpm = STRIDE_GET_OPT(p, avg_hr_bpm);
  a.heart_rate.max_bpm = STRIDE_GET_OPT(p, max_hr_bpm);
  for (size_t i = 0; i < 5; ++i) a.heart_rate.zones_s[i] = p.hr_zones_s(static_cast<int>(i));
  a.heart_rate.trimp = STRIDE_GET_OPT(p, trimp);
  for (const run::Split& s : p.splits_km()) a.splits_km.push_back(SplitFromProto(s));
  for (const run::Split& s : p.splits_mile()) a.splits_mile.push_back(SplitFromProto(s));
  for (const run::LapResult& q : p.laps()) {
    engine::LapResult l;
    l.index = q.index();
    l.device.start_time_s = STRIDE_GET_OPT(q, start_time_s);
    l.device.elapsed_time_s = STRIDE_GET_OPT(q, elapsed_time_s);
    l.device.timer_time_s = STRIDE_GET_OPT(q, timer_time_s);
    l.device.distance_m = STRIDE_GET_OPT(q, device_distance_m);
    l.device.avg_hr_bpm = STRIDE_GET_OPT(q, device_avg_hr_bpm);
    l.device.max_hr_bpm = STRIDE_GET_OPT(q, max_hr_bpm);
    l.device.trigger = q.trigger();
    l.distance_m = q.distance_m();
    l.moving_time_s = q.moving_time_s();
    l.avg_hr_bpm = STRIDE_GET_OPT(q, avg_hr_bpm);
    a.laps.push_back(std::move(l));
  }
  for (const run::Climb& q : p.climbs()) {
    engine::Climb c;
    c.start_distance_m = q.start_distance_m();
    c.end_distance_m = q.end_distance_m();
    c.gain_m = q.gain_m();
    c.avg_grade = q.avg_grade();
    c.max_grade = q.max_grade();
    c.start_ele_m = q.start_ele_m();
    c.end_ele_m = q.end_ele_m();
    c.category = q.category();
    a.climbs.push_back(std::move(c));
  }
  for (const run::BestEffort& q : p.best_efforts()) {
    a.best_efforts.push_back({q.name(), q.distance_m(), q.time_s(), q.start_distance_m()});
  }
  for (const run::Stop& q : p.stops()) {
    engine::Stop s;
    s.start_time_s = STRIDE_GET_OPT(q, start_time_s);
    s.duration_s = q.duration_s();
    s.timer_running = q.timer_running();
    s.distance_into_m = q.distance_into_m();
    a.stops.push_back(s);
  }
  const run::DeviceTotals& dt = p.device_totals();
  engine::DeviceTotals& d = a.device_totals;
  d.distance_m = OptionalFromProto(dt.has_distance_m(), dt.distance_m());
  d.timer_time_s = OptionalFromProto(dt.has_timer_time_s(), dt.timer_time_s());
  d.elapsed_time_s = OptionalFromProto(dt.has_elapsed_time_s(), dt.elapsed_time_s());
  d.ascent_m = OptionalFromProto(dt.has_ascent_m(), dt.ascent_m());
  d.descent_m = OptionalFromProto(dt.has_descent_m(), dt.descent_m());
  d.avg_hr_bpm = OptionalFromProto(dt.has_avg_hr_bpm(), dt.avg_hr_bpm());
  d.max_hr_bpm = OptionalFromProto(dt.has_max_hr_bpm(), dt.max_hr_bpm());
  d.calories_kcal = OptionalFromProto(dt.has_calories_kcal(), dt.calories_kcal());
  const run::SmoothReport& sm = p.smoothing();
  engine::SmoothReport& s = a.smoothing;
  s.position_smoothed = sm.position_smoothed();
  s.sigma_m = sm.sigma_m();
  s.sigma_from_data = sm.sigma_from_data();
  s.used_device_accuracy = sm.used_device_accuracy();
  s.accel_density = sm.accel_density();
  s.turn_fixes = static_cast<size_t>(sm.turn_fixes());
  s.elevation_smoothed = sm.elevation_smoothed();
  Result<engine::AltitudeSource> source = AltitudeSourceFromName(sm.elevation_source());
  if (!source.ok()) return source.status();
  s.elevation_source = *source;
  s.elevation_source_reason = sm.elevation_source_reason();
  s.elevation_sigma_m = sm.elevation_sigma_m();
  s.elevation_over_time = sm.elevation_over_time();
  a.distance_from_device = p.distance_from_device();
  a.used_timer_events = p.used_timer_events();
  a.timer_events_dropped = p.timer_events_dropped();
  a.stop_speed_mps = p.stop_speed_mps();
  a.moving_window_s = p.moving_window_s();
  a.ascent_threshold_m = p.ascent_threshold_m();
  a.best_efforts_vehicle_m = p.best_efforts_vehicle_m();
  return a;
}

// ---- coverage --------------------------------------------------------------------------------

void CoverageToProto(const engine::CoveredRoute& c, run::CoveredRoute* p) {
  p->set_id(c.id);
  p->set_osm(c.osm);
  p->set_name(c.name);
  p->set_type(c.type);
  p->set_length_m(c.length_m);
  p->set_covered_m(c.covered_m);
  p->set_share(c.share);
  STRIDE_PUT_OPT(p, first_reached_s, c.first_reached_s);
  p->set_session(c.session);
  p->set_method(c.method);
}

engine::CoveredRoute CoverageFromProto(const run::CoveredRoute& p) {
  engine::CoveredRoute c;
  c.id = p.id();
  c.osm = p.osm();
  c.name = p.name();
  c.type = p.type();
  c.length_m = p.length_m();
  c.covered_m = p.covered_m();
  c.share = p.share();
  c.first_reached_s = STRIDE_GET_OPT(p, first_reached_s);
  c.session = p.session();
  c.method = p.method();
  return c;
}

// ---- tracks ----------------------------------------------------------------------------------

void TrackToProto(const engine::Track& t, run::TrackStreams* out) {
  auto put = [](const std::vector<double>& v, double scale, run::Stream* s) {
    if (!AllNaN(v)) EncodeStream(v, scale, s);
  };
  EncodeStream(t.time_s, 0.001, out->mutable_time_s());  // always: it gives the length
  put(t.lat_deg, 1e-7, out->mutable_lat_deg());
  put(t.lon_deg, 1e-7, out->mutable_lon_deg());
  put(t.ele_m, 0.01, out->mutable_ele_m());
  put(t.hr_bpm, 1, out->mutable_hr_bpm());
  put(t.cadence_rpm, 1, out->mutable_cadence_rpm());
  put(t.speed_mps, 0.001, out->mutable_speed_mps());
  put(t.power_w, 1, out->mutable_power_w());
  for (uint32_t s : t.segment_starts) out->add_segment_starts(s);
  out->set_sport(std::string(engine::SportName(t.sport)));
}

engine::Track TrackFromProto(const run::TrackStreams& s) {
  engine::Track t;
  const size_t n = static_cast<size_t>(s.time_s().codes_size());
  t.time_s = DecodeStream(s.time_s(), n);
  t.lat_deg = DecodeStream(s.lat_deg(), n);
  t.lon_deg = DecodeStream(s.lon_deg(), n);
  t.ele_m = DecodeStream(s.ele_m(), n);
  t.hr_bpm = DecodeStream(s.hr_bpm(), n);
  t.cadence_rpm = DecodeStream(s.cadence_rpm(), n);
  t.speed_mps = DecodeStream(s.speed_mps(), n);
  t.power_w = DecodeStream(s.power_w(), n);
  t.distance_m.assign(n, kNaN);
  t.temperature_c.assign(n, kNaN);
  t.gps_accuracy_m.assign(n, kNaN);
  t.segment_starts.assign(s.segment_starts().begin(), s.segment_starts().end());
  t.sport = engine::ParseSport(s.sport());
  return t;
}

// ---- the record ------------------------------------------------------------------------------

void RunDataToProto(const engine::Run& run, run::RunData* out) {
  out->set_original(run.original);
  for (const engine::Analysis& a : run.sessions) AnalysisToProto(a, out->add_sessions());
  for (const engine::CoveredRoute& c : run.coverage) CoverageToProto(c, out->add_coverage());
  for (const engine::Track& t : run.tracks) TrackToProto(t, out->add_tracks());
  if (run.match.matched) {
    run::TrailMatch* m = out->mutable_match();
    m->set_matched(true);
    m->set_on_network_m(run.match.on_network_m);
    m->set_off_network_m(run.match.off_network_m);
    for (const engine::MatchedWay& w : run.match.ways) {
      run::MatchedWay* p = m->add_ways();
      p->set_way_id(w.way_id);
      p->set_name(w.name);
      p->set_distance_m(w.distance_m);
      STRIDE_PUT_OPT(p, entry_s, w.entry_s);
      STRIDE_PUT_OPT(p, exit_s, w.exit_s);
      p->set_session(w.session);
    }
    for (const engine::SegmentEffort& e : run.match.efforts) {
      run::SegmentEffort* p = m->add_efforts();
      p->set_route_id(e.route_id);
      p->set_osm(e.osm);
      p->set_name(e.name);
      p->set_distance_m(e.distance_m);
      STRIDE_PUT_OPT(p, start_s, e.start_s);
      STRIDE_PUT_OPT(p, elapsed_s, e.elapsed_s);
      p->set_session(e.session);
    }
  }
}

Status RunDataFromProto(const run::RunData& data, engine::RunParts parts, const std::string& what,
                        engine::Run* run) {
  for (const run::SessionAnalysis& s : data.sessions()) {
    Result<engine::Analysis> a = AnalysisFromProto(s);
    if (!a.ok()) return Status::Corruption(what + ": " + a.status().message());
    run->sessions.push_back(std::move(a).value());
  }
  for (const run::CoveredRoute& c : data.coverage()) run->coverage.push_back(CoverageFromProto(c));
  if (data.has_match()) {
    const run::TrailMatch& m = data.match();
    run->match.matched = m.matched();
    run->match.on_network_m = m.on_network_m();
    run->match.off_network_m = m.off_network_m();
    for (const run::MatchedWay& p : m.ways()) {
      engine::MatchedWay w;
      w.way_id = p.way_id();
      w.name = p.name();
      w.distance_m = p.distance_m();
      w.entry_s = STRIDE_GET_OPT(p, entry_s);
      w.exit_s = STRIDE_GET_OPT(p, exit_s);
      w.session = p.session();
      run->match.ways.push_back(std::move(w));
    }
    for (const run::SegmentEffort& p : m.efforts()) {
      engine::SegmentEffort e;
      e.route_id = p.route_id();
      e.osm = p.osm();
      e.name = p.name();
      e.distance_m = p.distance_m();
      e.start_s = STRIDE_GET_OPT(p, start_s);
      e.elapsed_s = STRIDE_GET_OPT(p, elapsed_s);
      e.session = p.session();
      run->match.efforts.push_back(std::move(e));
    }
  }
  if (data.sessions().empty()) {  // schema 1
    run->schema1_analysis_json = data.analysis_json();
    run->schema1_coverage_json = data.coverage_json();
  }
  if (parts.original) run->original = data.original();
  if (parts.tracks) {
    for (const run::TrackStreams& t : data.tracks()) run->tracks.push_back(TrackFromProto(t));
  }
  return Status::Ok();
}

#undef STRIDE_PUT_OPT
#undef STRIDE_GET_OPT

Result<std::string> PackRunData(const engine::Run& run, int level) {
  run::RunData data;
  RunDataToProto(run, &data);
  const std::string in = data.SerializeAsString();
  std::string out(ZSTD_compressBound(in.size()), '\0');
  const size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), level);
  if (ZSTD_isError(n)) return Status::Internal(std::string("zstd: ") + ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

Result<std::string> Decompress(std::string_view in, const std::string& what) {
  const unsigned long long size = ZSTD_getFrameContentSize(in.data(), in.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > (1ull << 32)) {
    return Status::Corruption(what + ": not a zstd frame with a known size");
  }
  std::string out(size, '\0');
  const size_t n = ZSTD_decompress(out.data(), out.size(), in.data(), in.size());
  if (ZSTD_isError(n) || n != size) {
    return Status::Corruption(what + ": zstd: " + std::string(ZSTD_getErrorName(n)));
  }
  return out;
}

Result<engine::Run> UnpackRun(std::string_view summary_bytes, std::string_view packed_data,
                              engine::RunParts parts, const std::string& what) {
  run::RunSummary summary;
  if (!summary.ParseFromArray(summary_bytes.data(), static_cast<int>(summary_bytes.size()))) {
    return Status::Corruption(what + ": bad summary");
  }
  Result<std::string> raw = Decompress(packed_data, what);
  if (!raw.ok()) return raw.status();
  run::RunData data;
  if (!data.ParseFromString(*raw)) return Status::Corruption(what + ": bad record");
  engine::Run r;
  r.summary = SummaryFromProto(summary);
  r.idempotency_key = summary.idempotency_key();
  STRIDE_RETURN_IF_ERROR(RunDataFromProto(data, parts, what, &r));
  return r;
}

std::string RunOrderKey(const engine::RunSummary& s) {
  const double t = std::isnan(s.start_time_s) ? s.uploaded_at_s : s.start_time_s;
  const uint64_t ms = t > 0 ? static_cast<uint64_t>(std::llround(t * 1000.0)) : 0;
  std::string k;
  PutBigEndian64(k, ~ms);  // newest first
  PutBigEndian64(k, s.id);
  return k;
}

}  // namespace stride::index
