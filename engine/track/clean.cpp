// SPDX-License-Identifier: Apache-2.0
#include "engine/track/clean.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "engine/geo/geodesy.hpp"
#include "engine/track/detail/median.hpp"

namespace stride::engine {
namespace {

// Keeps the rows of every stream where keep[i] is true; remaps segment starts and clears
// nothing else.
void Compact(Track& t, const std::vector<char>& keep) {
  if (std::find(keep.begin(), keep.end(), 0) == keep.end()) return;  // nothing dropped
  std::vector<uint32_t> new_index(t.size() + 1, 0);
  size_t w = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    new_index[i] = static_cast<uint32_t>(w);
    if (keep[i]) ++w;
  }
  new_index[t.size()] = static_cast<uint32_t>(w);
  for (auto* v : {&t.time_s, &t.lat_deg, &t.lon_deg, &t.ele_m, &t.hr_bpm, &t.cadence_rpm,
                  &t.speed_mps, &t.power_w, &t.distance_m, &t.temperature_c, &t.gps_accuracy_m}) {
    size_t k = 0;
    for (size_t i = 0; i < v->size(); ++i) {
      if (keep[i]) (*v)[k++] = (*v)[i];
    }
    v->resize(k);
  }
  std::vector<uint32_t> starts;
  for (uint32_t s : t.segment_starts) {
    const uint32_t ns = new_index[std::min<size_t>(s, t.size())];
    if (ns < w && (starts.empty() || starts.back() != ns)) starts.push_back(ns);
  }
  if (w > 0 && (starts.empty() || starts.front() != 0)) starts.insert(starts.begin(), 0);
  t.segment_starts = std::move(starts);
}

// Marks, among rows with keep[i], those on one longest strictly increasing subsequence of
// time; clears keep[] for the others and returns how many were cleared.
size_t KeepLongestIncreasingTimes(const std::vector<double>& time, std::vector<char>& keep) {
  {  // Nearly every track is already in order.
    double last = -std::numeric_limits<double>::infinity();
    bool increasing = true;
    for (size_t i = 0; i < time.size() && increasing; ++i) {
      if (!keep[i]) continue;
      increasing = time[i] > last;
      last = time[i];
    }
    if (increasing) return 0;
  }
  std::vector<size_t> idx;
  for (size_t i = 0; i < time.size(); ++i) {
    if (keep[i]) idx.push_back(i);
  }
  // Patience sorting: tails[k] = index (into idx) of the smallest tail of an increasing run of
  // length k+1; prev links rebuild the run.
  std::vector<size_t> tails;
  std::vector<long> prev(idx.size(), -1);
  for (size_t j = 0; j < idx.size(); ++j) {
    const double t = time[idx[j]];
    auto it = std::lower_bound(tails.begin(), tails.end(), t,
                               [&](size_t k, double v) { return time[idx[k]] < v; });
    const size_t pos = static_cast<size_t>(it - tails.begin());
    prev[j] = pos > 0 ? static_cast<long>(tails[pos - 1]) : -1;
    if (it == tails.end()) {
      tails.push_back(j);
    } else {
      *it = j;
    }
  }
  std::vector<char> on_run(idx.size(), 0);
  for (long k = tails.empty() ? -1 : static_cast<long>(tails.back()); k >= 0; k = prev[k]) {
    on_run[static_cast<size_t>(k)] = 1;
  }
  size_t cleared = 0;
  for (size_t j = 0; j < idx.size(); ++j) {
    if (!on_run[j]) {
      keep[idx[j]] = 0;
      ++cleared;
    }
  }
  return cleared;
}

// Fills the absent values of row `dst` from row `src`.
void MergeInto(Track& t, size_t dst, size_t src) {
  for (auto* v : {&t.lat_deg, &t.lon_deg, &t.ele_m, &t.hr_bpm, &t.cadence_rpm, &t.speed_mps,
                  &t.power_w, &t.distance_m, &t.temperature_c, &t.gps_accuracy_m}) {
    if (std::isnan((*v)[dst])) (*v)[dst] = (*v)[src];
  }
}

// Times carry information when they span at least a second and at least a tenth of the
// points have distinct timestamps.
bool TimesAreUsable(const std::vector<double>& time) {
  {  // In order (the usual case): one pass, no copy.
    double first = kNaN, last = kNaN;
    size_t count = 0, distinct = 0;
    bool ordered = true;
    for (double x : time) {
      if (std::isnan(x)) continue;
      if (count == 0) first = x;
      if (count > 0 && x < last) {
        ordered = false;
        break;
      }
      distinct += (count == 0 || x != last) ? 1 : 0;
      last = x;
      ++count;
    }
    if (ordered) return count < 2 || (last - first >= 1.0 && distinct * 10 >= count);
  }
  std::vector<double> v;
  for (double x : time) {
    if (!std::isnan(x)) v.push_back(x);
  }
  if (v.size() < 2) return true;
  if (!std::is_sorted(v.begin(), v.end())) std::sort(v.begin(), v.end());
  if (v.back() - v.front() < 1.0) return false;
  const size_t distinct = static_cast<size_t>(std::unique(v.begin(), v.end()) - v.begin());
  return distinct * 10 >= v.size();
}

// Median speed (m/s) of the steps between consecutive skeleton fixes of one segment that move
// at least 0.2 m/s: the pace at which untimed stretches outside the timed span are placed.
// NaN when no step moves.
double MedianMovingSpeed(const Track& t, const std::vector<char>& skeleton,
                         const std::vector<char>& segment_start) {
  std::vector<double> v;
  long prev = -1;
  for (size_t i = 0; i < t.size(); ++i) {
    if (segment_start[i]) prev = -1;
    if (!skeleton[i] || !t.has_position(i)) continue;
    if (prev >= 0) {
      const auto p = static_cast<size_t>(prev);
      const double dt = t.time_s[i] - t.time_s[p];
      const double d = SegmentDistanceM(t.lat_deg[p], t.lon_deg[p], t.lat_deg[i], t.lon_deg[i]);
      if (dt > 0 && d / dt >= 0.2) v.push_back(d / dt);
    }
    prev = static_cast<long>(i);
  }
  return v.empty() ? kNaN : detail::Median(std::move(v));
}

// The time stage of Clean() for a track with times (see clean.hpp): merges samples written
// twice, finds the skeleton of increasing times and places every other point on it, or drops
// it.
void RetimeOrDrop(Track& t, std::vector<char>& keep, CleanReport& r, double max_untimed_step_m) {
  const size_t n = t.size();
  // A point without a time keeps its place when it has a position (a saved track of a GPS
  // unit, a device that logs fixes before its clock is set): it is placed below. Without a
  // position there is nothing to place it by.
  std::vector<char> untimed(n, 0);
  bool any_untimed = false;
  for (size_t i = 0; i < n; ++i) {
    if (!std::isnan(t.time_s[i])) continue;
    if (t.has_position(i)) {
      untimed[i] = 1;
      any_untimed = true;
    } else {
      keep[i] = 0;
      ++r.no_time;
    }
  }
  // Points sharing a timestamp with the previous kept point are one sample written twice
  // (COROS writes position and heart rate as two trackpoints): merged, unless they hold two
  // different positions, which the re-timing below places along the path.
  size_t last = n;
  for (size_t i = 0; i < n; ++i) {
    if (!keep[i] || untimed[i]) continue;
    if (last < n && t.time_s[i] == t.time_s[last]) {
      const bool both_fixes = t.has_position(i) && t.has_position(last);
      if (!both_fixes || (t.lat_deg[i] == t.lat_deg[last] && t.lon_deg[i] == t.lon_deg[last])) {
        MergeInto(t, last, i);
        keep[i] = 0;
        ++r.duplicate_time;
        continue;
      }
    }
    last = i;
  }
  std::vector<char> skeleton(keep);
  for (size_t i = 0; i < n; ++i) skeleton[i] = skeleton[i] && !untimed[i];
  const size_t off_skeleton = KeepLongestIncreasingTimes(t.time_s, skeleton);
  if (off_skeleton == 0 && !any_untimed) return;

  std::vector<char> segment_start(n, 0);
  for (uint32_t s : t.segment_starts) {
    if (s < n) segment_start[s] = 1;
  }
  const double speed = any_untimed ? MedianMovingSpeed(t, skeleton, segment_start) : kNaN;
  // Path position of every kept point: metres along the file order, plus a millimetre per
  // point so that repeated positions still order strictly. The jump between two recorded
  // segments is not walked: it counts as one second at the median speed (or one metre).
  std::vector<double> along(n, 0.0);
  long prev_fix = -1;
  double acc = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!keep[i]) continue;
    if (t.has_position(i)) {
      if (prev_fix >= 0) {
        const auto p = static_cast<size_t>(prev_fix);
        acc += segment_start[i] && i > 0
                   ? (std::isnan(speed) ? 1.0 : speed)
                   : SegmentDistanceM(t.lat_deg[p], t.lon_deg[p], t.lat_deg[i], t.lon_deg[i]);
      }
      prev_fix = static_cast<long>(i);
    }
    acc += 1e-3;
    along[i] = acc;
  }
  // Skeleton times, increasing, for exact-time lookups; the next skeleton point of each row.
  std::vector<double> skel_time;
  std::vector<size_t> skel_index;
  for (size_t i = 0; i < n; ++i) {
    if (keep[i] && skeleton[i]) {
      skel_time.push_back(t.time_s[i]);
      skel_index.push_back(i);
    }
  }
  std::vector<size_t> next_skel(n + 1, n);
  for (size_t i = n; i-- > 0;) next_skel[i] = keep[i] && skeleton[i] ? i : next_skel[i + 1];
  std::vector<size_t> outside;  // untimed fixes before the first or after the last timed one
  long prev_skel = -1;
  for (size_t i = 0; i < n; ++i) {
    if (!keep[i]) continue;
    if (skeleton[i]) {
      prev_skel = static_cast<long>(i);
      continue;
    }
    // A second stream over the same times (a file that writes positions, then heart rate,
    // for the same seconds): merge into the sample with the same timestamp.
    if (!untimed[i]) {
      const auto it = std::lower_bound(skel_time.begin(), skel_time.end(), t.time_s[i]);
      if (it != skel_time.end() && *it == t.time_s[i]) {
        const size_t j = skel_index[static_cast<size_t>(it - skel_time.begin())];
        if (!t.has_position(i) || !t.has_position(j) ||
            (t.lat_deg[i] == t.lat_deg[j] && t.lon_deg[i] == t.lon_deg[j])) {
          MergeInto(t, j, i);
          keep[i] = 0;
          ++r.duplicate_time;
          continue;
        }
      }
    }
    const size_t next = next_skel[i + 1];
    if (prev_skel < 0 || next >= n || !t.has_position(i)) {
      if (untimed[i]) {
        outside.push_back(i);
      } else {
        keep[i] = 0;
        ++r.non_increasing_time;
      }
      continue;
    }
    const auto p = static_cast<size_t>(prev_skel);
    const double f = (along[i] - along[p]) / (along[next] - along[p]);
    t.time_s[i] = t.time_s[p] + f * (t.time_s[next] - t.time_s[p]);
    ++(untimed[i] ? r.interpolated_time : r.retimed);
  }
  if (outside.empty()) return;
  // Untimed stretches before the first or after the last timed point: placed at the median
  // moving speed of the timed part, so their distance, climbing and shape count; the analysis
  // reports how many (their time is an estimate).
  if (std::isnan(speed) || skel_index.empty()) {
    for (size_t i : outside) {
      keep[i] = 0;
      ++r.no_time;
    }
    return;
  }
  const size_t first = skel_index.front(), end = skel_index.back();
  // Such a stretch joins the timed part only as far as its fixes follow one another: a step
  // longer than `max_untimed_step_m` leads to another recording, or garbage, which the median
  // speed would turn into hours and kilometres. The fix after it and all beyond are dropped.
  const size_t before = static_cast<size_t>(
      std::lower_bound(outside.begin(), outside.end(), first) - outside.begin());
  auto join = [&](size_t k, size_t& near, bool& cut) {
    const size_t i = outside[k];
    cut = cut || std::fabs(along[i] - along[near]) > max_untimed_step_m;
    if (cut) {
      keep[i] = 0;
      ++r.no_time;
      ++r.untimed_beyond_jump;
    } else {
      near = i;
    }
  };
  size_t near = first;
  bool cut = false;
  for (size_t k = before; k-- > 0;) join(k, near, cut);
  near = end;
  cut = false;
  for (size_t k = before; k < outside.size(); ++k) join(k, near, cut);
  for (size_t i : outside) {
    if (!keep[i]) continue;
    t.time_s[i] = i < first ? t.time_s[first] - (along[first] - along[i]) / speed
                            : t.time_s[end] + (along[i] - along[end]) / speed;
    ++r.extrapolated_time;
    r.extrapolated_before += i < first ? 1 : 0;
  }
  if (r.extrapolated_time > 0) r.extrapolation_speed_mps = speed;
}

// Vertical-speed gate over the timed points that have an elevation: one elevation must be
// reachable from the one before at `max_vertical_speed_mps` plus `elevation_noise_m`. Jumps
// cut the elevations into pieces. A piece is kept when it is reachable from the last kept
// elevation; or when it lasts `elevation_recovery_s` (the altimeter was recalibrated) and is
// not an excursion that what follows it returns from; or, before anything is kept, when the
// first lasting piece after it is reachable from it. The elevations of the other pieces become
// absent; returns how many. O(n).
size_t DropElevationJumps(Track& t, const std::vector<char>& keep, const CleanOptions& o) {
  std::vector<size_t> idx;
  for (size_t i = 0; i < t.size(); ++i) {
    if (keep[i] && !std::isnan(t.ele_m[i]) && !std::isnan(t.time_s[i])) idx.push_back(i);
  }
  auto time = [&](size_t j) { return t.time_s[idx[j]]; };
  auto reachable = [&](size_t a, size_t b) {
    return std::fabs(t.ele_m[idx[b]] - t.ele_m[idx[a]]) <=
           o.max_vertical_speed_mps * std::fabs(time(b) - time(a)) + o.elevation_noise_m;
  };
  std::vector<size_t> start{0};  // piece p is [start[p], start[p + 1])
  for (size_t j = 1; j < idx.size(); ++j) {
    if (!reachable(j - 1, j)) start.push_back(j);
  }
  if (start.size() == 1) return 0;  // no jump (the usual case)
  const size_t pieces = start.size();
  start.push_back(idx.size());
  auto lasts = [&](size_t p) {
    return time(start[p + 1] - 1) - time(start[p]) >= o.elevation_recovery_s;
  };
  std::vector<size_t> next_lasting(pieces + 1, pieces);
  for (size_t p = pieces; p-- > 0;) next_lasting[p] = lasts(p) ? p : next_lasting[p + 1];
  bool have_anchor = false;
  size_t anchor = 0, dropped = 0;
  for (size_t p = 0; p < pieces; ++p) {
    const size_t first = start[p], last = start[p + 1] - 1;
    bool kept;
    if (have_anchor && reachable(anchor, first)) {
      kept = true;
    } else if (lasts(p)) {
      // A level of its own, unless it is an excursion: out of reach of the last kept elevation
      // to its end while what follows it comes back within reach (a stuck altimeter).
      kept = !(have_anchor && !reachable(anchor, last) && p + 1 < pieces &&
               reachable(anchor, start[p + 1]));
    } else if (!have_anchor) {
      const size_t q = next_lasting[p];
      kept = q == pieces || reachable(last, start[q]);
    } else {
      kept = false;
    }
    if (kept) {
      anchor = last;
      have_anchor = true;
      continue;
    }
    for (size_t j = first; j <= last; ++j) t.ele_m[idx[j]] = kNaN;
    dropped += last - first + 1;
  }
  return dropped;
}

}  // namespace

double MaxSpeedForSport(Sport sport) {
  switch (sport) {
    case Sport::kRun:
      return 12.5;
    case Sport::kWalk:
      return 7.0;
    case Sport::kHike:
      return 7.0;
    case Sport::kRide:
      return 35.0;
    case Sport::kSwim:
      return 5.0;
    case Sport::kUnknown:
    case Sport::kOther:
      return 50.0;
  }
  return 50.0;
}

CleanReport Clean(Track& t, const CleanOptions& options) {
  CleanReport r;
  r.raw = t.size();
  r.max_speed_mps = options.max_speed_mps > 0 ? options.max_speed_mps : MaxSpeedForSport(t.sport);
  const size_t n = t.size();
  std::vector<char> keep(n, 1);

  // Times. Exact repeats go; then the longest strictly increasing run of timestamps is the
  // skeleton. A point off it, or without a time, keeps its place in the file (exporters that
  // merge location sources write fixes in the right order with jittery times) and gets a time
  // interpolated along the path between its skeleton neighbours (RetimeOrDrop).
  if (t.HasTimes() && !TimesAreUsable(t.time_s)) {
    // All points at one instant (or within a second): the times say nothing about motion.
    std::fill(t.time_s.begin(), t.time_s.end(), kNaN);
    r.times_ignored = true;
  }
  if (t.HasTimes()) RetimeOrDrop(t, keep, r, r.max_speed_mps * options.max_untimed_step_s);

  // Sensor values no body or device produces: the 0xFF "no sensor" markers that converters
  // carry over (a heart rate of 255), and out-of-range readings.
  auto implausible = [&](std::vector<double>& v, double lo, double hi, size_t& count) {
    for (size_t i = 0; i < n; ++i) {
      if (keep[i] && !std::isnan(v[i]) && (v[i] < lo || v[i] > hi)) {
        v[i] = kNaN;
        ++count;
      }
    }
  };
  implausible(t.hr_bpm, 20, 250, r.invalid_sensor);
  implausible(t.cadence_rpm, 0, 254, r.invalid_sensor);
  implausible(t.power_w, 0, 3000, r.invalid_sensor);
  implausible(t.temperature_c, -60, 70, r.invalid_sensor);

  // Elevation no surface a person stands on has: below FIT's lowest altitude (-500 m; the lowest
  // shore, the Dead Sea's, is at -430 m) or above 9,000 m (Everest is 8,849 m), infinities
  // included. Garbage such as 1e300 would otherwise reach the analysis wherever the smoother's
  // spike filter does not catch it (four in a window of seven, a track of under five elevations).
  implausible(t.ele_m, kLowestElevationM, kHighestElevationM, r.invalid_elevation);

  // Elevations the body could not have climbed or dropped to in the time: spikes and runs of
  // garbage from a failing altimeter (a 1,100 m ride reading 28.8, 6,707 and 12,136 m).
  if (t.HasTimes()) {
    r.max_vertical_speed_mps = options.max_vertical_speed_mps;
    r.elevation_noise_m = options.elevation_noise_m;
    r.elevation_recovery_s = options.elevation_recovery_s;
    r.elevation_jumps = DropElevationJumps(t, keep, options);
    r.invalid_elevation += r.elevation_jumps;
  }

  // Elevation exactly 0.0 in a track that is otherwise far above sea level is an unset value
  // (phone apps write 0 until they have an altitude), not a reading.
  if (std::find(t.ele_m.begin(), t.ele_m.end(), 0.0) != t.ele_m.end()) {
    std::vector<double> e;
    for (size_t i = 0; i < n; ++i) {
      if (keep[i] && !std::isnan(t.ele_m[i]) && t.ele_m[i] != 0.0) e.push_back(t.ele_m[i]);
    }
    if (!e.empty()) {
      if (std::fabs(detail::Median(std::move(e))) > 50.0) {
        for (size_t i = 0; i < n; ++i) {
          if (keep[i] && t.ele_m[i] == 0.0) {
            t.ele_m[i] = kNaN;
            ++r.invalid_elevation;
          }
        }
      }
    }
  }

  // Invalid and stale fixes. A fix that repeats the previous one to the last digit while time
  // moves on is the device re-reporting its last known position: it says nothing about where
  // the athlete is now.
  double last_lat = kNaN, last_lon = kNaN;
  for (size_t i = 0; i < n; ++i) {
    if (!keep[i]) continue;
    if (t.has_position(i)) {
      if (t.lat_deg[i] == last_lat && t.lon_deg[i] == last_lon) {
        t.lat_deg[i] = t.lon_deg[i] = kNaN;
        ++r.repeated_fix;
        continue;
      }
      last_lat = t.lat_deg[i];
      last_lon = t.lon_deg[i];
    }
    double& lat = t.lat_deg[i];
    double& lon = t.lon_deg[i];
    if (std::isnan(lat) && std::isnan(lon)) continue;
    const bool bad = std::isnan(lat) || std::isnan(lon) || !std::isfinite(lat) ||
                     !std::isfinite(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180 ||
                     (lat == 0 && lon == 0);
    if (bad) {
      lat = lon = kNaN;
      ++r.invalid_fix;
    }
  }

  // Implied-speed gate with anchor recovery, over the fixes that have a time. A fix must be
  // reachable from the last accepted fix at no more than the maximum speed. One that is not,
  // but starts a run of `recovery` mutually consistent fixes, becomes the new anchor: the
  // device jumped (signal re-acquired) or the anchor itself was bad. The first fix is dropped
  // when it disagrees with a consistent run that follows it.
  const size_t recovery = static_cast<size_t>(std::max(1, options.anchor_recovery_points));
  std::vector<size_t> fixes;
  for (size_t i = 0; i < n; ++i) {
    if (keep[i] && t.has_position(i) && !std::isnan(t.time_s[i])) fixes.push_back(i);
  }
  // The gate compares an implied speed with a generous maximum: squared distances in a local
  // plane (scale error ~1e-3 over a country) decide it without a square root.
  std::vector<double> fx(fixes.size()), fy(fixes.size());
  if (!fixes.empty()) {
    const LocalPlane plane(t.lat_deg[fixes[0]], t.lon_deg[fixes[0]]);
    for (size_t j = 0; j < fixes.size(); ++j) {
      plane.ToMetres(t.lat_deg[fixes[j]], t.lon_deg[fixes[j]], &fx[j], &fy[j]);
    }
  }
  const double vmax2 = r.max_speed_mps * r.max_speed_mps;
  auto reachable = [&](size_t a, size_t b) {
    const double dt = std::fabs(t.time_s[fixes[b]] - t.time_s[fixes[a]]);
    const double dx = fx[b] - fx[a], dy = fy[b] - fy[a];
    return dt > 0 && dx * dx + dy * dy <= vmax2 * dt * dt;
  };
  // Length (up to `recovery`) of the run of consistent fixes that starts at j.
  auto run_from = [&](size_t j) {
    size_t run = 1;
    while (run < recovery && j + run < fixes.size() && reachable(j + run - 1, j + run)) ++run;
    return run;
  };
  std::vector<char> outlier(fixes.size(), 0);
  bool have_anchor = false;
  size_t anchor = 0;
  for (size_t j = 0; j < fixes.size(); ++j) {
    if (!have_anchor) {
      if (j + 1 < fixes.size() && !reachable(j, j + 1) && run_from(j + 1) >= recovery) {
        outlier[j] = 1;
        continue;
      }
      have_anchor = true;
      anchor = j;
      continue;
    }
    if (reachable(anchor, j)) {
      anchor = j;
    } else if (run_from(j) >= recovery) {
      anchor = j;
      ++r.anchor_recoveries;
    } else {
      outlier[j] = 1;
    }
  }
  for (size_t j = 0; j < fixes.size(); ++j) {
    if (outlier[j]) {
      t.lat_deg[fixes[j]] = t.lon_deg[fixes[j]] = kNaN;
      ++r.speed_outlier;
    }
  }

  Compact(t, keep);
  r.kept = t.size();
  r.kept_with_position = t.CountWithPosition();
  r.no_position = r.kept - r.kept_with_position;
  return r;
}

}  // namespace stride::engine
