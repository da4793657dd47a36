// SPDX-License-Identifier: Apache-2.0
#include "engine/track/segment.hpp"

#include <algorithm>
#include <cmath>
#include <optional>

#include "engine/geo/geodesy.hpp"

namespace stride::engine {
namespace {

// Share of [t0, t1] during which the timer ran, given events sorted by time and the state
// `running_at_t0`.
double RunningShare(const std::vector<TimerEvent>& ev, size_t first_event_after_t0, double t0,
                    double t1, bool running_at_t0) {
  if (!(t1 > t0)) return running_at_t0 ? 1.0 : 0.0;
  double on = 0, cursor = t0;
  bool running = running_at_t0;
  for (size_t e = first_event_after_t0; e < ev.size() && ev[e].time_s < t1; ++e) {
    if (running) on += ev[e].time_s - cursor;
    cursor = ev[e].time_s;
    running = ev[e].running;
  }
  if (running) on += t1 - cursor;
  return std::clamp(on / (t1 - t0), 0.0, 1.0);
}

// Index of the first event after t.
size_t FirstEventAfter(const std::vector<TimerEvent>& ev, double t) {
  return static_cast<size_t>(
      std::upper_bound(ev.begin(), ev.end(), t,
                       [](double x, const TimerEvent& e) { return x < e.time_s; }) -
      ev.begin());
}

}  // namespace

bool TimerRunningAt(const std::vector<TimerEvent>& ev, double t) {
  const size_t after = FirstEventAfter(ev, t);
  if (after > 0) return ev[after - 1].running;
  return ev.empty() || !ev.front().running;
}

double TimerRunningSeconds(const std::vector<TimerEvent>& ev, double t0, double t1) {
  if (!(t1 > t0)) return 0.0;
  return RunningShare(ev, FirstEventAfter(ev, t0), t0, t1, TimerRunningAt(ev, t0)) * (t1 - t0);
}

double StopSpeedForSport(Sport sport) {
  switch (sport) {
    case Sport::kRun:
    case Sport::kWalk:
    case Sport::kHike:
      return 0.3;  // steep power-hiking is slow but moving
    case Sport::kRide:
      return 1.0;
    case Sport::kSwim:
      return 0.1;
    case Sport::kUnknown:
    case Sport::kOther:
      return 0.3;
  }
  return 0.5;
}

namespace {

// Horizontal steps: between consecutive fixes, else from the device distance stream.
void FillSteps(const Track& t, TrackAxes& a) {
  const size_t n = t.size();
  if (t.CountWithPosition() >= 2) {
    long prev = -1;
    std::optional<TrackGeodesy> geo;
    for (size_t i = 0; i < n; ++i) {
      if (!t.has_position(i)) continue;
      if (!geo) geo.emplace(t.lat_deg[i]);
      if (prev >= 0) {
        const auto p = static_cast<size_t>(prev);
        const double step = geo->DistanceM(t.lat_deg[p], t.lon_deg[p], t.lat_deg[i], t.lon_deg[i]);
        // Points without a position between two fixes (a speed gate's outliers, a device's
        // records without GPS) take their share of the way by time: given all to the last
        // interval, 495 m went by in 2 s of a 48 s stretch, and a best 400 m took 1.6 s.
        const double span = t.time_s[i] - t.time_s[p];
        bool spread = i > p + 1 && span > 0;
        for (size_t k = p + 1; spread && k <= i; ++k) {
          spread = t.time_s[k] >= t.time_s[k - 1];  // NaN or going back: not by time
        }
        if (spread) {
          for (size_t k = p + 1; k <= i; ++k) {
            a.step_m[k] = step * (t.time_s[k] - t.time_s[k - 1]) / span;
          }
        } else {
          a.step_m[i] = step;
        }
      }
      prev = static_cast<long>(i);
    }
  } else {
    a.distance_from_device = true;
    double prev = kNaN;
    for (size_t i = 0; i < n; ++i) {
      const double d = t.distance_m[i];
      if (std::isnan(d)) continue;
      if (!std::isnan(prev) && d > prev) a.step_m[i] = d - prev;
      prev = d;
    }
  }
}

TrackAxes AxesWithSteps(const Track& t, const SegmentOptions& options, TrackAxes a);

}  // namespace

TrackAxes ComputeSteps(const Track& t) {
  TrackAxes a;
  a.step_m.assign(t.size(), 0.0);
  FillSteps(t, a);
  return a;
}

TrackAxes ComputeAxes(const Track& t, const SegmentOptions& options) {
  return AxesWithSteps(t, options, ComputeSteps(t));
}

TrackAxes ComputeAxes(const Track& t, const SegmentOptions& options, const TrackAxes& earlier) {
  TrackAxes a;
  a.step_m = earlier.step_m;
  a.distance_from_device = earlier.distance_from_device;
  return AxesWithSteps(t, options, std::move(a));
}

namespace {

// Distance through the stretches the window test calls stopped, by hysteresis around the last
// counted fix (the anchor): a fix `radius` or more from it counts, with the way from the
// anchor spread over the steps between in proportion to their length, and those steps
// become moving. GPS wander around a standing athlete stays inside the radius and adds
// nothing; a hiker on a steep climb sampled every 20 s, whose every window looks stopped,
// leaves it and keeps the path. Where motion resumes, the way from the anchor to where the
// stop ended counts once with its first step (the wander between is dropped). The way goes
// through the spot the athlete stood on (the mean of the fixes between), not straight
// across: sampled every 30 s, a stop at a summit, a hairpin or the turn of an out-and-back
// has the fixes before and after it side by side; on slow straight progress the mean lies on
// the line and the way is the straight line. A segment gap or a stopped timer restarts the
// anchor.
void CountSlowProgress(const Track& t, double radius, TrackAxes& a, std::vector<double>& counted) {
  const size_t n = t.size();
  long anchor = -1;  // last counted fix
  long last_fix = -1;
  // The fixes after the anchor and before the current one: how many, and the sum of their
  // offsets from the anchor (a mean of longitudes across the antimeridian would be wrong).
  double between = 0, sum_dlat = 0, sum_dlon = 0;
  auto offset_lon = [&](size_t i, size_t an) {
    double d = t.lon_deg[i] - t.lon_deg[an];
    return d > 180 ? d - 360 : d < -180 ? d + 360 : d;
  };
  auto way = [&](size_t an, size_t end) {
    if (between == 0) {
      return SegmentDistanceM(t.lat_deg[an], t.lon_deg[an], t.lat_deg[end], t.lon_deg[end]);
    }
    const double lat = t.lat_deg[an] + sum_dlat / between;
    const double lon = t.lon_deg[an] + sum_dlon / between;
    return SegmentDistanceM(t.lat_deg[an], t.lon_deg[an], lat, lon) +
           SegmentDistanceM(lat, lon, t.lat_deg[end], t.lon_deg[end]);
  };
  for (size_t i = 0; i < n; ++i) {
    if (!t.has_position(i)) continue;
    if (anchor < 0 || a.active[i] == 0) {
      anchor = last_fix = static_cast<long>(i);
      between = sum_dlat = sum_dlon = 0;
      continue;
    }
    const auto an = static_cast<size_t>(anchor);
    if (a.moving[i]) {
      if (last_fix != anchor) {
        // Resuming: the way to where the stop ended, without that last fix among the between.
        const auto lf = static_cast<size_t>(last_fix);
        between -= 1, sum_dlat -= t.lat_deg[lf] - t.lat_deg[an], sum_dlon -= offset_lon(lf, an);
        counted[i] += way(an, lf) * a.active[i];
      }
      anchor = last_fix = static_cast<long>(i);
      between = sum_dlat = sum_dlon = 0;
      continue;
    }
    last_fix = static_cast<long>(i);
    const double chord = SegmentDistanceM(t.lat_deg[an], t.lon_deg[an], t.lat_deg[i], t.lon_deg[i]);
    if (chord < radius) {
      between += 1, sum_dlat += t.lat_deg[i] - t.lat_deg[an], sum_dlon += offset_lon(i, an);
      continue;
    }
    const double length = way(an, i);
    double path = 0;
    for (size_t k = an + 1; k <= i; ++k) path += a.step_m[k];
    for (size_t k = an + 1; k <= i; ++k) {
      a.moving[k] = a.active[k] > 0 ? 1 : 0;
      counted[k] = path > 0 ? length * a.step_m[k] / path * a.active[k] : 0.0;
    }
    anchor = static_cast<long>(i);
    between = sum_dlat = sum_dlon = 0;
  }
}

TrackAxes AxesWithSteps(const Track& t, const SegmentOptions& options, TrackAxes a) {
  const size_t n = t.size();
  a.active.assign(n, n > 0 ? 1.0 : 0.0);
  a.moving.assign(n, 0);
  a.cum_m.assign(n, 0.0);
  a.cum_timer_s.assign(n, 0.0);
  a.cum_moving_s.assign(n, 0.0);
  if (n == 0) return a;
  a.active[0] = 0;

  // Active share: segment gaps and timer stops.
  for (size_t s = 1; s < t.segment_starts.size(); ++s) {
    if (t.segment_starts[s] < n) a.active[t.segment_starts[s]] = 0;
  }
  const bool times = t.HasTimes();
  a.has_timer_events = times && !t.timer_events.empty();
  if (a.has_timer_events) {
    const auto& ev = t.timer_events;
    size_t e = FirstEventAfter(ev, t.time_s[0]);
    bool running = TimerRunningAt(ev, t.time_s[0]);
    for (size_t i = 1; i < n; ++i) {
      const double t0 = t.time_s[i - 1], t1 = t.time_s[i];
      while (e < ev.size() && ev[e].time_s <= t0) running = ev[e++].running;
      a.active[i] *= RunningShare(ev, e, t0, t1, running);
    }
  }

  // Cumulative timer time, and the active distance that window speeds are measured on.
  std::vector<double> active_m(n, 0.0);
  for (size_t i = 1; i < n; ++i) {
    active_m[i] = active_m[i - 1] + a.step_m[i] * a.active[i];
    const double dt = times ? t.time_s[i] - t.time_s[i - 1] : 0.0;
    a.cum_timer_s[i] = a.cum_timer_s[i - 1] + (dt > 0 ? dt * a.active[i] : 0.0);
  }
  if (!times) {
    a.cum_m = active_m;  // planned routes: every step counts
    std::fill(a.moving.begin() + 1, a.moving.end(), 1);
    return a;
  }

  // Moving: speed over a window of +-window_s (at least the interval itself), measured as the
  // straight-line (3D when there is elevation) displacement between the first and last fix in
  // the window: GPS wander around
  // a runner who stands still adds path length but hardly any displacement. Without fixes the
  // window uses the (device) distance. Distance counts only while moving.
  const double vstop =
      options.stop_speed_mps > 0 ? options.stop_speed_mps : StopSpeedForSport(t.sport);
  const double w = options.window_s;
  // Nearest fix at or after / at or before each point, and the fixes in a local plane (the
  // chord only decides moving or not; a plane's scale error of 1e-3 does not matter there).
  std::vector<long> fix_after(n + 1, -1), fix_before(n, -1);
  for (size_t i = n; i-- > 0;)
    fix_after[i] = t.has_position(i) ? static_cast<long>(i) : fix_after[i + 1];
  for (size_t i = 0; i < n; ++i) {
    fix_before[i] = t.has_position(i) ? static_cast<long>(i) : (i > 0 ? fix_before[i - 1] : -1);
  }
  std::vector<double> px(n, 0.0), py(n, 0.0);
  if (fix_after[0] >= 0) {
    const auto f = static_cast<size_t>(fix_after[0]);
    const LocalPlane plane(t.lat_deg[f], t.lon_deg[f]);
    for (size_t i = 0; i < n; ++i) {
      if (t.has_position(i)) plane.ToMetres(t.lat_deg[i], t.lon_deg[i], &px[i], &py[i]);
    }
  }
  size_t lo = 0, hi = 0;
  for (size_t i = 1; i < n; ++i) {
    const double t0 = t.time_s[i - 1], t1 = t.time_s[i];
    while (lo < i - 1 && t.time_s[lo + 1] <= t0 - w) ++lo;
    if (hi < i) hi = i;
    while (hi + 1 < n && t.time_s[hi + 1] <= t1 + w) ++hi;
    double speed = 0;
    const long f0 = fix_after[lo], f1 = fix_before[hi];
    if (!a.distance_from_device && f0 >= 0 && f1 > f0) {
      const auto p0 = static_cast<size_t>(f0), p1 = static_cast<size_t>(f1);
      const double dt = t.time_s[p1] - t.time_s[p0];
      const double ex = px[p1] - px[p0], ny = py[p1] - py[p0];
      const double dz =
          std::isnan(t.ele_m[p0]) || std::isnan(t.ele_m[p1]) ? 0.0 : t.ele_m[p1] - t.ele_m[p0];
      const double chord =
          std::sqrt(ex * ex + ny * ny + dz * dz);  // a hiker climbing a hairpin moves
      speed = dt > 0 ? chord / dt : 0.0;
    } else {
      const double time = a.cum_timer_s[hi] - a.cum_timer_s[lo];
      speed = time > 0 ? (active_m[hi] - active_m[lo]) / time : 0.0;
    }
    a.moving[i] = a.active[i] > 0 && speed >= vstop ? 1 : 0;
  }
  // A stop shorter than min_stop_s (a hairpin on a steep climb, a glitch) is not a stop.
  for (size_t i = 1; i < n;) {
    if (a.moving[i] || a.active[i] == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < n && !a.moving[j] && a.active[j] > 0) ++j;
    if (t.time_s[j - 1] - t.time_s[i - 1] < options.min_stop_s) {
      for (size_t k = i; k < j; ++k) a.moving[k] = 1;
    }
    i = j;
  }
  std::vector<double> counted(n, 0.0);
  for (size_t i = 1; i < n; ++i) counted[i] = a.moving[i] ? a.step_m[i] * a.active[i] : 0.0;
  if (!a.distance_from_device && options.stop_radius_m > 0) {
    CountSlowProgress(t, options.stop_radius_m, a, counted);
  }
  for (size_t i = 1; i < n; ++i) {
    const double dt = t.time_s[i] - t.time_s[i - 1];
    const bool moving = a.moving[i] != 0;
    a.cum_moving_s[i] = a.cum_moving_s[i - 1] + (moving && dt > 0 ? dt * a.active[i] : 0.0);
    a.cum_m[i] = a.cum_m[i - 1] + counted[i];
  }
  return a;
}

}  // namespace

AscentDescent HysteresisAscent(const std::vector<double>& e, double th, size_t begin, size_t end) {
  AscentDescent r;
  end = std::min(end, e.size());
  size_t i = begin;
  while (i < end && std::isnan(e[i])) ++i;
  if (i >= end) return r;
  // Until the profile has moved `th` either way, the first turning point is the lowest (or
  // highest) value seen so far.
  double lo = e[i], hi = e[i];
  double turn = e[i];  // last confirmed turning point
  double ext = e[i];   // extreme since then, in the current direction
  int dir = 0;         // +1 rising, -1 falling, 0 not yet known
  for (++i; i < end; ++i) {
    const double x = e[i];
    if (std::isnan(x)) continue;
    if (dir == 0) {
      lo = std::min(lo, x);
      hi = std::max(hi, x);
      if (x - lo >= th) {
        dir = 1, turn = lo, ext = x;
      } else if (hi - x >= th) {
        dir = -1, turn = hi, ext = x;
      }
      continue;
    }
    if (dir == 1) {
      if (x > ext) {
        ext = x;
      } else if (ext - x >= th) {  // peak confirmed
        r.ascent_m += ext - turn;
        turn = ext, ext = x, dir = -1;
      }
    } else {
      if (x < ext) {
        ext = x;
      } else if (x - ext >= th) {  // trough confirmed
        r.descent_m += turn - ext;
        turn = ext, ext = x, dir = 1;
      }
    }
  }
  if (dir == 1) r.ascent_m += ext - turn;
  if (dir == -1) r.descent_m += turn - ext;
  return r;
}

std::vector<Split> ComputeSplits(const Track& t, const TrackAxes& a, double unit_m,
                                 const std::vector<double>& cum_adjusted_m, size_t max_splits,
                                 bool* cut) {
  std::vector<Split> out;
  const size_t n = t.size();
  if (cut != nullptr) *cut = false;
  if (n < 2 || !(a.cum_m.back() > 0) || !(unit_m > 0)) return out;
  // Whether the split about to be emitted is one too many.
  auto full = [&] {
    if (out.size() < max_splits) return false;
    if (cut != nullptr) *cut = true;
    return true;
  };
  // Cumulative heart-beats and heart-rate time, so a split's average is two lookups.
  std::vector<double> cum_beats(n, 0.0), cum_hr_s(n, 0.0);
  for (size_t i = 1; i < n; ++i) {
    const double dt = a.cum_timer_s[i] - a.cum_timer_s[i - 1];
    const bool hr = !std::isnan(t.hr_bpm[i]) && dt > 0;
    cum_beats[i] = cum_beats[i - 1] + (hr ? t.hr_bpm[i] * dt : 0.0);
    cum_hr_s[i] = cum_hr_s[i - 1] + (hr ? dt : 0.0);
  }
  const bool gap = cum_adjusted_m.size() == n;
  // A cumulative quantity at the exact distance d, which lies in interval i.
  auto at = [&](const std::vector<double>& cum, size_t i, double d) {
    const double d0 = a.cum_m[i - 1], d1 = a.cum_m[i];
    const double f = d1 > d0 ? std::clamp((d - d0) / (d1 - d0), 0.0, 1.0) : 1.0;
    return cum[i - 1] + f * (cum[i] - cum[i - 1]);
  };
  struct Mark {
    double d = 0, timer = 0, moving = 0, beats = 0, hr_s = 0, adj = 0;
    size_t i = 0;
  };
  auto mark_at = [&](size_t i, double d) {
    Mark m;
    m.d = d;
    m.i = i;
    m.timer = at(a.cum_timer_s, i, d);
    m.moving = at(a.cum_moving_s, i, d);
    m.beats = at(cum_beats, i, d);
    m.hr_s = at(cum_hr_s, i, d);
    m.adj = gap ? at(cum_adjusted_m, i, d) : 0.0;
    return m;
  };
  auto emit = [&](const Mark& s0, const Mark& s1) {
    Split s;
    s.index = static_cast<int>(out.size()) + 1;
    s.distance_m = s1.d - s0.d;
    s.elapsed_time_s = s1.timer - s0.timer;
    s.moving_time_s = s1.moving - s0.moving;
    const AscentDescent ad = HysteresisAscent(t.ele_m, 1.0, s0.i, s1.i + 1);
    s.ascent_m = ad.ascent_m;
    s.descent_m = ad.descent_m;
    s.avg_hr_bpm = s1.hr_s > s0.hr_s ? (s1.beats - s0.beats) / (s1.hr_s - s0.hr_s) : kNaN;
    const double adj = s1.adj - s0.adj;
    s.gap_s_per_km =
        gap && adj > 0 && s.moving_time_s > 0 ? s.moving_time_s / (adj / 1000.0) : kNaN;
    out.push_back(s);
  };
  Mark start;
  start.i = 0;
  for (size_t i = 1; i < n; ++i) {
    while (a.cum_m[i] >= start.d + unit_m) {
      if (full()) return out;
      const Mark end = mark_at(i, start.d + unit_m);
      emit(start, end);
      start = end;
    }
  }
  if (a.cum_m.back() - start.d > 1.0 && !full()) {  // the last partial split, when over a metre
    Mark end = mark_at(n - 1, a.cum_m.back());
    end.timer = a.cum_timer_s.back();
    end.moving = a.cum_moving_s.back();
    end.beats = cum_beats.back();
    end.hr_s = cum_hr_s.back();
    end.adj = gap ? cum_adjusted_m.back() : 0.0;
    emit(start, end);
  }
  return out;
}

std::string ClimbCategory(double length_m, double grade) {
  const double score = length_m * grade * 100.0;
  if (score >= 80000) return "hc";
  if (score >= 64000) return "1";
  if (score >= 32000) return "2";
  if (score >= 16000) return "3";
  if (score >= 8000) return "4";
  return "uncategorized";
}

std::vector<Climb> FindClimbs(const Track& t, const TrackAxes& a, double th,
                              const SegmentOptions& options) {
  std::vector<Climb> out;
  // Profile: (distance, elevation) at points with elevation.
  std::vector<double> d, e;
  for (size_t i = 0; i < t.size(); ++i) {
    if (std::isnan(t.ele_m[i])) continue;
    d.push_back(a.cum_m[i]);
    e.push_back(t.ele_m[i]);
  }
  if (e.size() < 2) return out;
  // Turning points by hysteresis. Until the direction is known the first turning point is
  // the latest lowest (or highest) point, so a climb starts where the flat before it ends.
  std::vector<size_t> turns;
  size_t lo = 0, hi = 0, ext = 0;
  int dir = 0;
  for (size_t k = 1; k < e.size(); ++k) {
    if (dir == 0) {
      if (e[k] <= e[lo]) lo = k;
      if (e[k] >= e[hi]) hi = k;
      if (e[k] - e[lo] >= th) {
        turns.push_back(lo), dir = 1, ext = k;
      } else if (e[hi] - e[k] >= th) {
        turns.push_back(hi), dir = -1, ext = k;
      }
      continue;
    }
    // A peak is the first of equal highs; a trough the last of equal lows.
    if ((dir == 1 && e[k] > e[ext]) || (dir == -1 && e[k] <= e[ext])) ext = k;
    if ((dir == 1 && e[ext] - e[k] >= th) || (dir == -1 && e[k] - e[ext] >= th)) {
      turns.push_back(ext);
      ext = k;
      dir = -dir;
    }
  }
  if (dir != 0) turns.push_back(ext);
  for (size_t j = 0; j + 1 < turns.size(); ++j) {
    const size_t s = turns[j], f = turns[j + 1];
    const double gain = e[f] - e[s];
    const double len = d[f] - d[s];
    if (gain < options.climb_min_gain_m || !(len > 0)) continue;
    const double grade = gain / len;
    if (grade < options.climb_min_grade) continue;
    Climb c;
    c.start_distance_m = d[s];
    c.end_distance_m = d[f];
    c.gain_m = gain;
    c.avg_grade = grade;
    c.start_ele_m = e[s];
    c.end_ele_m = e[f];
    // Steepest 100 m (two pointers over the profile).
    double best = grade;
    if (len > 100) {
      size_t q = s;
      for (size_t p = s; p <= f; ++p) {
        while (q < f && d[q] - d[p] < 100) ++q;
        if (d[q] - d[p] >= 100) best = std::max(best, (e[q] - e[p]) / (d[q] - d[p]));
      }
    }
    c.max_grade = best;
    c.category = ClimbCategory(len, grade);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace stride::engine
