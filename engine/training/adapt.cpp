// SPDX-License-Identifier: Apache-2.0
#include "engine/training/adapt.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "engine/text/printf.hpp"
#include "engine/time/time_zone.hpp"

namespace stride::engine {
namespace {

// `d` as an easy run of `distance_m` (rounded down to 100 m), or rest when nothing is left.
PlannedDay Eased(const PlannedDay& d, double distance_m, const TrainingPaces& paces) {
  PlannedDay e;
  e.day = d.day;
  e.phase = d.phase;
  distance_m = std::floor(distance_m / 100) * 100;
  if (distance_m <= 0) return e;  // rest
  e.type = WorkoutType::kEasy;
  e.steps = {{"steady", distance_m, paces.easy_slow, 1}};
  e.distance_m = distance_m;
  e.duration_s = distance_m / 1000 * paces.easy_slow;
  return e;
}

// `d` cut to `distance_m`: an easy or long run keeps its type, a session becomes easy.
PlannedDay Shortened(const PlannedDay& d, double distance_m, const TrainingPaces& paces) {
  if (d.type != WorkoutType::kEasy && d.type != WorkoutType::kLong) {
    return Eased(d, distance_m, paces);
  }
  PlannedDay e = Eased(d, distance_m, paces);
  if (e.type != WorkoutType::kRest) e.type = d.type;
  return e;
}

PlannedDay Rest(const PlannedDay& d) {
  PlannedDay r;
  r.day = d.day;
  r.phase = d.phase;
  return r;
}

bool Runs(const PlannedDay& d) {
  return d.type != WorkoutType::kRest;
}

}  // namespace

std::string_view DayStateName(DayState s) {
  switch (s) {
    case DayState::kRest:
      return "rest";
    case DayState::kPlanned:
      return "planned";
    case DayState::kDone:
      return "done";
    case DayState::kMissed:
      return "missed";
  }
  return "planned";
}

RunMatch MatchRuns(const std::vector<PlannedDay>& days, const std::vector<DoneRun>& runs,
                   int64_t today, const MatchOptions& o) {
  RunMatch m;
  m.state.assign(days.size(), DayState::kRest);
  m.run_ids.assign(days.size(), "");
  std::vector<bool> used(runs.size(), false);
  std::multimap<int64_t, size_t> by_day;
  for (size_t i = 0; i < runs.size(); ++i) by_day.emplace(runs[i].day, i);
  for (size_t k = 0; k < days.size(); ++k) {
    const PlannedDay& d = days[k];
    if (!Runs(d)) continue;
    const double share = d.type == WorkoutType::kRace   ? o.min_share_race
                         : d.type == WorkoutType::kLong ? o.min_share_long
                                                        : o.min_share;
    size_t best = runs.size();
    auto [lo, hi] = by_day.equal_range(d.day);
    for (auto it = lo; it != hi; ++it) {
      const DoneRun& r = runs[it->second];
      if (used[it->second] || r.distance_m < share * d.distance_m) continue;
      if (best == runs.size() ||
          std::abs(r.distance_m - d.distance_m) < std::abs(runs[best].distance_m - d.distance_m)) {
        best = it->second;
      }
    }
    if (best < runs.size()) {
      used[best] = true;
      m.state[k] = DayState::kDone;
      m.run_ids[k] = runs[best].run_id;
    } else {
      m.state[k] = d.day < today ? DayState::kMissed : DayState::kPlanned;
    }
  }
  for (size_t i = 0; i < runs.size(); ++i) {
    if (!used[i]) m.extra.push_back(i);
  }
  return m;
}

std::vector<Adjustment> AdjustPlan(std::vector<PlannedDay>* days, const AdaptSignals& s,
                                   const std::vector<PlannedDay>& previous,
                                   const TrainingPaces& paces, const AdaptOptions& o) {
  std::map<int64_t, Adjustment> changed;
  auto change = [&](PlannedDay& d, PlannedDay after, const char* trigger,
                    const std::string& reason) {
    if (d.type == WorkoutType::kRace) return;
    if (after.type == d.type && std::abs(after.distance_m - d.distance_m) < 1) return;
    auto it = changed.find(d.day);
    if (it == changed.end()) {
      it = changed.emplace(d.day, Adjustment{d.day, d, d, {}, {}}).first;
    }
    it->second.reasons.push_back(reason);
    it->second.triggers.push_back(trigger);
    d = std::move(after);
    it->second.after = d;
  };
  auto within = [&](const PlannedDay& d, int64_t first, int64_t last) {
    return d.day >= first && d.day <= last && Runs(d);
  };
  const int64_t t = s.today;

  const bool ill_today = s.last_ill_day && *s.last_ill_day == t;
  if (s.last_ill_day) {
    const int64_t ill = *s.last_ill_day;
    const int easy_days = std::clamp(s.ill_days, 2, 7);
    const std::string why =
        StringPrintf("ill for %.0f day(s) up to ", static_cast<double>(s.ill_days)) +
        FormatDate(ill) +
        StringPrintf(": 2 days rest, then easy only for %.0f days", static_cast<double>(easy_days));
    for (PlannedDay& d : *days) {
      if (within(d, ill, ill + 1)) {
        change(d, Rest(d), "ill", why);
      } else if (within(d, ill + 2, ill + 1 + easy_days)) {
        change(d, Eased(d, o.ill_share * d.distance_m, paces), "ill", why);
      }
    }
  }
  if (s.readiness && !ill_today) {
    const Readiness& r = *s.readiness;
    const std::string why = "readiness " + StringPrintf("%.0f", r.score) + " (" + r.band + ")" +
                            (r.reasons.empty() ? "" : ": " + r.reasons.front());
    for (PlannedDay& d : *days) {
      if (r.score < 30) {
        if (within(d, t, t)) change(d, Rest(d), "readiness", why);
        if (within(d, t + 1, t + 1) && d.type != WorkoutType::kEasy) {
          change(d, Eased(d, d.distance_m, paces), "readiness", why);
        }
      } else if (r.score < 50 && within(d, t, t)) {
        change(d, Eased(d, o.reduce * d.distance_m, paces), "readiness", why);
      }
    }
  }
  if (std::isfinite(s.tsb) && s.tsb < o.tsb_floor) {
    const std::string why = StringPrintf(
        "form (TSB) %.1f is below %.0f: no hard session for 3 days", s.tsb, o.tsb_floor);
    for (PlannedDay& d : *days) {
      if (within(d, t, t + 2) && IsQuality(d.type)) {
        change(d, Eased(d, o.reduce * d.distance_m, paces), "form", why);
      }
    }
  }
  if (std::isfinite(s.acwr_ewma) && s.acwr_ewma > o.acwr_ceiling) {
    const std::string why = StringPrintf(
        "acute:chronic load %.2f is above %.2f: the next 7 days lighter, one hard session at most",
        s.acwr_ewma, o.acwr_ceiling);
    bool quality_kept = false;
    for (PlannedDay& d : *days) {
      if (!within(d, t, t + 6)) continue;
      if (IsQuality(d.type) && !quality_kept) {
        quality_kept = true;
        continue;  // kept as it is: the ramp comes from the easy volume
      }
      change(d, Eased(d, o.reduce * d.distance_m, paces), "acwr", why);
    }
  }
  if (s.spike_day && (s.spike_band == "high" || s.spike_band == "elevated")) {
    const int64_t from = *s.spike_day + 1;
    const int64_t to = s.spike_band == "high" ? from + 1 : from;
    const std::string reason =
        std::string("the run ") + (*s.spike_day == t ? "today" : "yesterday") +
        StringPrintf(" was %.2f x your longest of the 30 days before it: ", s.spike_ratio) +
        (s.spike_band == "high" ? "2 easy days after it" : "an easy day after it");
    for (PlannedDay& d : *days) {
      if (!within(d, std::max(from, t), to)) continue;
      if (d.type == WorkoutType::kEasy && s.spike_band != "high") continue;
      change(d, Eased(d, s.spike_band == "high" ? o.reduce * d.distance_m : d.distance_m, paces),
             "spike", reason);
    }
  }
  std::map<int64_t, const PlannedDay*> before;
  for (const PlannedDay& p : previous) before[p.day] = &p;
  if (s.missed_last_7 >= o.missed_threshold) {
    const std::string why =
        StringPrintf("%.0f planned runs missed in the last 7 days: 3 easy days to come back",
                     static_cast<double>(s.missed_last_7));
    for (PlannedDay& d : *days) {
      if (within(d, t, t + 2) && d.type != WorkoutType::kEasy) {
        change(d, Eased(d, d.distance_m, paces), "missed", why);
      }
    }
  }
  if (s.missed_last_7 >= 1) {
    const std::string why = "missed runs are not made up: no day longer than it was planned";
    for (PlannedDay& d : *days) {
      if (d.day < t || d.day > t + 6 || !Runs(d)) continue;
      const auto it = before.find(d.day);
      if (it == before.end()) continue;
      const PlannedDay& was = *it->second;
      if (!Runs(was)) {
        change(d, Rest(d), "missed", why);
      } else if (d.distance_m > was.distance_m + 1) {
        change(d, Shortened(d, was.distance_m, paces), "missed", why);
      }
    }
  }
  std::vector<Adjustment> out;
  for (auto& [day, a] : changed) out.push_back(std::move(a));
  return out;
}

}  // namespace stride::engine
