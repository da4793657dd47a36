// SPDX-License-Identifier: Apache-2.0
#include "engine/track/clean.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/geo/geodesy.hpp"

namespace stride::engine {
namespace {

// Keeps the rows of every stream where keep[i] is true; remaps segment starts and clears
// nothing else.
void Compact(Track& t, const std::vector<char>& keep) {
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

}  // namespace

double MaxSpeedForSport(Sport sport) {
  switch (sport) {
    case Sport::kRun: return 12.5;
    case Sport::kWalk: return 7.0;
    case Sport::kHike: return 7.0;
    case Sport::kRide: return 35.0;
    case Sport::kSwim: return 5.0;
    case Sport::kUnknown:
    case Sport::kOther: return 50.0;
  }
  return 50.0;
}

CleanReport Clean(Track& t, const CleanOptions& options) {
  CleanReport r;
  r.raw = t.size();
  r.max_speed_mps = options.max_speed_mps > 0 ? options.max_speed_mps : MaxSpeedForSport(t.sport);
  const size_t n = t.size();
  std::vector<char> keep(n, 1);

  // Times.
  if (t.HasTimes()) {
    double last = kNaN;
    for (size_t i = 0; i < n; ++i) {
      const double ti = t.time_s[i];
      if (std::isnan(ti)) {
        keep[i] = 0;
        ++r.no_time;
      } else if (ti == last) {
        keep[i] = 0;
        ++r.duplicate_time;
      } else {
        last = ti;
      }
    }
    r.non_increasing_time = KeepLongestIncreasingTimes(t.time_s, keep);
  }

  // Invalid fixes.
  for (size_t i = 0; i < n; ++i) {
    if (!keep[i]) continue;
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
  auto reachable = [&](size_t a, size_t b) {
    const double dt = std::fabs(t.time_s[fixes[b]] - t.time_s[fixes[a]]);
    const double d = SegmentDistanceM(t.lat_deg[fixes[a]], t.lon_deg[fixes[a]],
                                      t.lat_deg[fixes[b]], t.lon_deg[fixes[b]]);
    return dt > 0 && d / dt <= r.max_speed_mps;
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
