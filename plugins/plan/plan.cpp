// SPDX-License-Identifier: Apache-2.0
#include "plugins/plan/plan.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "engine/text/iso_time.hpp"
#include "engine/text/json_dump.hpp"
#include "engine/text/round.hpp"
#include "engine/time/time_zone.hpp"
#include "engine/training/adapt.hpp"
#include "engine/training/fit_workout.hpp"
#include "engine/training/load.hpp"
#include "engine/training/plan.hpp"
#include "engine/training/plan_calendar.hpp"
#include "engine/training/vdot.hpp"
#include "plugins/api/plugin_call.hpp"
#include "plugins/api/plugin_query.hpp"
#include "plugins/api/plugin_state.hpp"
#include "plugins/api/plugin_store.hpp"

namespace stride::plugins::plan {
namespace {

// The plugin's state behind the ABI's opaque stride_plugin_t (plugins/api/plugin_state.hpp).
struct State {
  const stride_host_api_t* host = nullptr;
  stride_host_t* ctx = nullptr;
  // A lock per user being backfilled: one backfill per user at a time, users in parallel.
  std::mutex backfill_mu;
  std::map<std::string, std::shared_ptr<std::mutex>> backfilling;
  // Each user's run records, parsed and sorted, as last read (a std::vector<Record>; the type
  // is private to plan.cpp's namespace below). An event for the user drops theirs; `generation`
  // counts events, so a read that raced one is not cached. At most kMaxCached users.
  static constexpr size_t kMaxCached = 2000;
  std::mutex cache_mu;
  std::map<std::string, std::shared_ptr<const void>> records;
  std::atomic<uint64_t> generation{0};
  // One recalculation per user at a time (users spread over the stripes).
  std::array<std::mutex, 64> recalc_mu;
};

using Json = nlohmann::json;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

enum RouteId { kFitness = 1, kPredict, kLoad, kCurrent, kNext, kChanges, kCalendar, kWorkoutFit };

constexpr int64_t kPastDays = 14;       // past days a stored plan keeps (/current shows 13)
constexpr int64_t kShownPastDays = 13;  // past days /current shows with their state
// Days ahead the stored plan holds day by day (the weeks to the race are kept as targets): what
// a runner acts on, and what the nightly recalculation writes.
constexpr int64_t kAheadDays = 28;

// What the plugin keeps of a stored run.
struct Record {
  std::string run_id;
  double start_s = kNaN;
  double distance_m = 0;
  double moving_s = kNaN;
  double avg_hr = kNaN;
  double gap = kNaN;  // s/km
  std::string sport;
  std::vector<std::pair<double, double>> efforts;  // (m, s)
};

bool FootSport(const std::string& sport) {
  return sport == "run" || sport == "walk" || sport == "hike";
}

double NumberOr(const Json& j, const char* key, double def = kNaN) {
  return j.is_object() && j.contains(key) && j[key].is_number() ? j[key].get<double>() : def;
}

Json Rounded(double x, double unit) {
  return std::isfinite(x) ? Json(engine::RoundTo(x, unit)) : Json(nullptr);
}

// The record of a run as GET /v1/runs/{id} shows it (one session at the top, or several).
Json RecordJson(const Json& run) {
  const Json& a = run["analysis"];
  const Json sessions = a.contains("sessions") ? a["sessions"] : Json::array({a});
  Json efforts = Json::array();
  double hr_weighted = 0, hr_time = 0, gap_weighted = 0, gap_dist = 0;
  for (const Json& s : sessions) {
    const std::string sport = s.contains("source") ? s["source"].value("sport", "") : "";
    if (sport == "run" && s.contains("best_efforts")) {
      for (const Json& e : s["best_efforts"]) {
        efforts.push_back({NumberOr(e, "distance_m", 0), NumberOr(e, "time_s", 0)});
      }
    }
    const double moving = NumberOr(s, "moving_time_s", 0);
    const double hr = s.contains("heart_rate") ? NumberOr(s["heart_rate"], "avg") : kNaN;
    if (std::isfinite(hr) && moving > 0) hr_weighted += hr * moving, hr_time += moving;
    const double gap = NumberOr(s, "gap_s_per_km"), dist = NumberOr(s, "distance_m", 0);
    if (std::isfinite(gap) && dist > 0) gap_weighted += gap * dist, gap_dist += dist;
  }
  double start = kNaN;
  if (run.contains("start_time") && run["start_time"].is_string()) {
    (void)engine::ParseIsoTime(run["start_time"].get<std::string>(), &start);
  }
  return {{"start_s", std::isfinite(start) ? Json(start) : Json(nullptr)},
          {"distance_m", NumberOr(run, "distance_m", 0)},
          {"moving_s", Rounded(NumberOr(run, "moving_time_s"), 0.1)},
          {"avg_hr", hr_time > 0 ? Json(hr_weighted / hr_time) : Json(nullptr)},
          {"gap", gap_dist > 0 ? Json(gap_weighted / gap_dist) : Json(nullptr)},
          {"sport", run.value("sport", "")},
          {"efforts", efforts}};
}

Record RecordFrom(const std::string& id, const Json& j) {
  Record r;
  r.run_id = id;
  r.start_s = NumberOr(j, "start_s");
  r.distance_m = NumberOr(j, "distance_m", 0);
  r.moving_s = NumberOr(j, "moving_s");
  r.avg_hr = NumberOr(j, "avg_hr");
  r.gap = NumberOr(j, "gap");
  r.sport = j.value("sport", "");
  if (j.contains("efforts")) {
    for (const Json& e : j["efforts"])
      r.efforts.emplace_back(e[0].get<double>(), e[1].get<double>());
  }
  return r;
}

// A record as stored: 0x01, then start_s, distance_m, moving_s, avg_hr, gap as IEEE doubles
// (little-endian bit patterns, NaN for unknown), the sport's length and bytes, the number of
// efforts (uint16) and each effort's metres and seconds. Read a few hundred times a night per
// runner, so no JSON (records written as JSON by 0.1.0 are still read).
void PutDouble(std::string* out, double v) {
  uint64_t bits = 0;
  std::memcpy(&bits, &v, 8);
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((bits >> (8 * i)) & 0xFF));
}
double TakeDouble(std::string_view* in) {
  if (in->size() < 8) return kNaN;
  uint64_t bits = 0;
  for (int i = 7; i >= 0; --i) bits = (bits << 8) | static_cast<unsigned char>((*in)[i]);
  in->remove_prefix(8);
  double v = 0;
  std::memcpy(&v, &bits, 8);
  return v;
}
std::string EncodeRecord(const Json& j) {
  std::string out(1, '\x01');
  for (const char* k : {"start_s", "distance_m", "moving_s", "avg_hr", "gap"}) {
    PutDouble(&out, NumberOr(j, k));
  }
  const std::string sport = j.value("sport", "").substr(0, 255);
  out.push_back(static_cast<char>(sport.size()));
  out += sport;
  const size_t n = std::min<size_t>(j["efforts"].size(), 65535);
  out.push_back(static_cast<char>(n & 0xFF));
  out.push_back(static_cast<char>(n >> 8));
  for (size_t i = 0; i < n; ++i) {
    PutDouble(&out, j["efforts"][i][0].get<double>());
    PutDouble(&out, j["efforts"][i][1].get<double>());
  }
  return out;
}
std::optional<Record> DecodeRecord(const std::string& id, std::string_view in) {
  if (in.empty() || in[0] != '\x01') return std::nullopt;
  in.remove_prefix(1);
  Record r;
  r.run_id = id;
  r.start_s = TakeDouble(&in);
  r.distance_m = TakeDouble(&in);
  r.moving_s = TakeDouble(&in);
  r.avg_hr = TakeDouble(&in);
  r.gap = TakeDouble(&in);
  if (in.empty()) return std::nullopt;
  const size_t len = static_cast<unsigned char>(in[0]);
  if (in.size() < 1 + len + 2) return std::nullopt;
  r.sport = std::string(in.substr(1, len));
  in.remove_prefix(1 + len);
  const size_t n = static_cast<unsigned char>(in[0]) | (static_cast<unsigned char>(in[1]) << 8);
  in.remove_prefix(2);
  if (in.size() < n * 16) return std::nullopt;
  for (size_t i = 0; i < n; ++i) {
    const double m = TakeDouble(&in);
    r.efforts.emplace_back(m, TakeDouble(&in));
  }
  if (std::isnan(r.distance_m)) r.distance_m = 0;
  return r;
}

class Plan {
 public:
  explicit Plan(State* p) : p_(p), kv_(p->host, p->ctx) {}

  // --- the host ---
  std::optional<std::string> Get(const char* user, const std::string& key) {
    return kv_.Get(user, key);
  }
  void Put(const char* user, const std::string& key, const std::string& value) {
    kv_.Put(user, key, value);
  }
  // The user's records, oldest first: from memory, else read and parsed once.
  std::shared_ptr<const std::vector<Record>> Records(const std::string& user) {
    {
      std::lock_guard lock(p_->cache_mu);
      auto it = p_->records.find(user);
      if (it != p_->records.end()) {
        return std::static_pointer_cast<const std::vector<Record>>(it->second);
      }
    }
    const uint64_t generation = p_->generation.load();
    auto read = std::make_shared<const std::vector<Record>>(ReadRecords(user));
    std::lock_guard lock(p_->cache_mu);
    if (p_->generation.load() == generation) {
      if (p_->records.size() >= State::kMaxCached) p_->records.erase(p_->records.begin());
      p_->records[user] = read;
    }
    return read;
  }
  void Forget(const std::string& user) {
    ++p_->generation;
    std::lock_guard lock(p_->cache_mu);
    p_->records.erase(user);
  }
  std::vector<Record> ReadRecords(const std::string& user) {
    Backfill(user);
    const std::vector<std::pair<std::string, std::string>> rows =
        kv_.Scan(user.c_str(), "r/", /*strip=*/true);
    std::vector<Record> out;
    for (const auto& [id, text] : rows) {
      if (std::optional<Record> r = DecodeRecord(id, text)) {
        out.push_back(std::move(*r));
        continue;
      }
      const Json j = Json::parse(text, nullptr, false);
      if (j.is_object()) out.push_back(RecordFrom(id, j));
    }
    std::sort(out.begin(), out.end(), [](const Record& a, const Record& b) {
      return a.start_s < b.start_s || (a.start_s == b.start_s && a.run_id < b.run_id);
    });
    return out;
  }
  Json Profile(const std::string& user) {
    const std::optional<std::string> text = kv_.Profile(user.c_str());
    return text ? Json::parse(*text) : Json{{"time_zone", "UTC"}};
  }
  // Keeps the record of a stored run; false when the host no longer has the run.
  bool Store(const std::string& user, const std::string& run_id) {
    const std::optional<std::string> text = kv_.Run(user.c_str(), run_id);
    if (!text) return false;
    Put(user.c_str(), "r/" + run_id, EncodeRecord(RecordJson(Json::parse(*text))));
    return true;
  }
  // The runs stored before this plugin first served the user.
  void Backfill(const std::string& user) {
    if (Get(user.c_str(), "seen")) return;
    std::shared_ptr<std::mutex> mine;
    {
      std::lock_guard lock(p_->backfill_mu);
      std::shared_ptr<std::mutex>& slot = p_->backfilling[user];
      if (!slot) slot = std::make_shared<std::mutex>();
      mine = slot;
    }
    struct Done {  // the entry goes with the backfill (another one may start later: harmless)
      State* p;
      const std::string& user;
      ~Done() {
        std::lock_guard lock(p->backfill_mu);
        p->backfilling.erase(user);
      }
    } done{p_, user};
    std::lock_guard user_lock(*mine);
    if (Get(user.c_str(), "seen")) return;
    kv_.ForEachStoredRun(user.c_str(), [&](const std::string& id) { Store(user, id); });
    Put(user.c_str(), "seen", "1");
  }

  // --- events ---
  void OnEvent(const Json& e) {
    const std::string type = e.value("type", ""), user = e.value("user", "");
    if (user.empty()) return;
    const std::string id = e.value("run_id", "");
    if (type == "run.stored" && Get(user.c_str(), "seen")) {
      Store(user, id);
    } else if (type == "run.deleted") {
      kv_.Delete(user.c_str(), "r/" + id);
    }
    if (type == "run.stored" || type == "run.deleted") {
      Forget(user);  // after the change: a read from here on sees it
    } else if (type == "user.deleted") {
      Forget(user);
      return;
    }
    // A runner who has a plan gets it recalculated: after a run, a check-in, and at 01:00.
    if (Get(user.c_str(), "plan")) {
      Recalculate(user, static_cast<double>(p_->host->now_ms(p_->ctx)) / 1000, type);
    }
  }

  // --- fitness ---
  struct Fitness {
    engine::VdotEstimate estimate;
    std::vector<engine::Effort> efforts;
  };
  Fitness FitnessOf(const std::vector<Record>& recs, double now) {
    Fitness f;
    for (const Record& r : recs) {
      if (r.sport != "run" || !std::isfinite(r.start_s)) continue;
      for (const auto& [d, t] : r.efforts) f.efforts.push_back({d, t, r.start_s, r.run_id});
    }
    f.estimate = engine::EstimateVdot(f.efforts, now);
    return f;
  }

  Json Prediction(const engine::VdotEstimate& e, double distance_m) {
    const double by_vdot = engine::PredictRaceTimeS(e.vdot, distance_m);
    const double by_riegel = engine::RiegelTimeS(e.from.time_s, e.from.distance_m, distance_m);
    return {{"distance_m", distance_m},
            {"time_s", Rounded(by_vdot, 1)},
            {"low_s", Rounded(std::min(by_vdot, by_riegel), 1)},
            {"high_s", Rounded(std::max(by_vdot, by_riegel), 1)},
            {"vdot_equivalence_s", Rounded(by_vdot, 1)},
            {"riegel_s", Rounded(by_riegel, 1)}};
  }

  Json Source(const engine::VdotEstimate& e) {
    return {{"run_id", e.from.run_id},
            {"distance_m", Rounded(e.from.distance_m, 0.1)},
            {"time_s", Rounded(e.from.time_s, 0.1)},
            {"run_at", engine::FormatIsoTime(e.from.when_s)},
            {"effort_vdot", Rounded(e.effort_vdot, 0.01)}};
  }

  static Json FitnessMethods() {
    return {{"vdot",
             "Daniels-Gilbert VDOT of each best effort of 1500 m or more in runs of the last 90 "
             "days, less 0.5 % per week of age; the highest"},
            {"predictions",
             "VDOT equivalence (time); Riegel t2 = t1 (d2/d1)^1.06 from the same "
             "effort; the range spans both"},
            {"paces",
             "speed at a fraction of VDOT: E 0.6304-0.7346, T 0.8799, I 0.9743 (fitted to "
             "Daniels' tables); M = predicted marathon pace; R = I - 15 s/km (VDOT >= 50) or "
             "- 20 s/km"}};
  }

  Json FitnessAnswer(const std::string& user, double now) {
    const Fitness f = FitnessOf(*Records(user), now);
    if (std::isnan(f.estimate.vdot)) {
      return {{"vdot", nullptr},
              {"reason", "no run with a best effort of 1500 m or more in the last 90 days"},
              {"efforts_considered", f.efforts.size()},
              {"methods", FitnessMethods()}};
    }
    Json predictions = Json::array();
    for (const auto& [name, d] : std::vector<std::pair<const char*, double>>{
             {"5k", 5000}, {"10k", 10000}, {"half", 21097.5}, {"marathon", 42195}}) {
      Json p = Prediction(f.estimate, d);
      p["name"] = name;
      predictions.push_back(std::move(p));
    }
    const engine::TrainingPaces pc = engine::PacesFromVdot(f.estimate.vdot);
    return {{"vdot", Rounded(f.estimate.vdot, 0.01)},
            {"from", Source(f.estimate)},
            {"predictions", predictions},
            {"paces_s_per_km",
             {{"easy", {Rounded(pc.easy_fast, 1), Rounded(pc.easy_slow, 1)}},
              {"marathon", Rounded(pc.marathon, 1)},
              {"threshold", Rounded(pc.threshold, 1)},
              {"interval", Rounded(pc.interval, 1)},
              {"repetition", Rounded(pc.repetition, 1)}}},
            {"methods", FitnessMethods()}};
  }

  Json PredictAnswer(const std::string& user, const Json& query, double now) {
    if (!query.contains("distance_m")) {
      throw ApiError{400, "invalid_argument", "distance_m: expected metres from 400 to 250000"};
    }
    const double d = NumberQuery(query, "distance_m", 0, 400, 250000);
    const Fitness f = FitnessOf(*Records(user), now);
    if (std::isnan(f.estimate.vdot)) {
      throw ApiError{404, "not_found",
                     "no run with a best effort of 1500 m or more in the last 90 days: nothing "
                     "to predict from"};
    }
    Json p = Prediction(f.estimate, d);
    p["vdot"] = Rounded(f.estimate.vdot, 0.01);
    p["from"] = Source(f.estimate);
    p["methods"] = FitnessMethods();
    return p;
  }

  // --- load ---
  struct Athlete {
    Json profile;
    engine::TimeZone zone = engine::TimeZone::Utc();
    int64_t today = 0;
  };
  Athlete AthleteOf(const std::string& user, double now) {
    Athlete a;
    a.profile = Profile(user);
    Result<engine::TimeZone> tz = engine::TimeZone::Load(a.profile.value("time_zone", "UTC"));
    if (tz.ok()) a.zone = *tz;
    a.today = a.zone.LocalDay(now);
    return a;
  }

  // Daily loads from the first foot run (at most two years before `to`) to `to`, and how each
  // run was scored.
  struct Loads {
    int64_t first = 0;
    std::vector<double> daily;
    size_t by_hr = 0, by_pace = 0, unscored = 0;
    const Record* last = nullptr;  // the last foot run up to `to`
    std::string max_from = "profile", threshold_from = "profile";
    double threshold = kNaN;
  };
  Loads DailyLoads(const std::vector<Record>& recs, const Athlete& a, int64_t from, int64_t to,
                   double now) {
    Loads l;
    const Json& profile = a.profile;
    // Heart-rate load needs max and rest HR: the profile's, or 220 - age and 60 bpm.
    double max_hr = NumberOr(profile, "max_hr_bpm");
    if (std::isnan(max_hr) && profile.contains("birth_year")) {
      max_hr = 220 - (1970 + static_cast<double>(a.today) / 365.2425 -
                      profile["birth_year"].get<double>());
      l.max_from = "220 - age";
    }
    const double rest_hr = NumberOr(profile, "rest_hr_bpm", 60);
    const std::string sex_text = profile.value("sex", "unknown");
    const engine::AthleteSex sex = sex_text == "male"     ? engine::AthleteSex::kMale
                                   : sex_text == "female" ? engine::AthleteSex::kFemale
                                                          : engine::AthleteSex::kUnknown;
    l.threshold = NumberOr(profile, "threshold_pace_s_per_km");
    if (std::isnan(l.threshold)) {
      const Fitness f = FitnessOf(recs, now);
      if (std::isfinite(f.estimate.vdot)) {
        l.threshold = engine::PacesFromVdot(f.estimate.vdot).threshold;
        l.threshold_from = "VDOT T pace";
      }
    }
    const int64_t earliest = to - 730;
    l.first = from;
    for (const Record& r : recs) {
      if (FootSport(r.sport) && std::isfinite(r.start_s)) {
        l.first = std::max(earliest, std::min(l.first, a.zone.LocalDay(r.start_s)));
      }
    }
    l.daily.assign(static_cast<size_t>(to - l.first + 1), 0.0);
    for (const Record& r : recs) {
      if (!FootSport(r.sport) || !std::isfinite(r.start_s)) continue;
      const int64_t day = a.zone.LocalDay(r.start_s);
      if (day < l.first || day > to) continue;
      const double minutes = std::isfinite(r.moving_s) ? r.moving_s / 60 : 0;
      double load = engine::BanisterTrimp(minutes, r.avg_hr, rest_hr, max_hr, sex);
      if (std::isfinite(load)) {
        ++l.by_hr;
      } else {
        load = engine::PaceLoad(r.moving_s, r.gap, l.threshold);
        if (std::isfinite(load)) {
          ++l.by_pace;
        } else {
          ++l.unscored;
          load = 0;
        }
      }
      l.daily[static_cast<size_t>(day - l.first)] += load;
      l.last = &r;
    }
    return l;
  }

  // The run against the longest foot run of the 30 days before it.
  static std::pair<engine::Spike, double> SpikeOfRun(const std::vector<Record>& recs,
                                                     const Record& run) {
    double longest = 0;
    for (const Record& r : recs) {
      if (FootSport(r.sport) && r.start_s < run.start_s && r.start_s >= run.start_s - 30 * 86400) {
        longest = std::max(longest, r.distance_m);
      }
    }
    return {engine::SpikeOf(run.distance_m, longest), longest};
  }

  Json LoadAnswer(const std::string& user, const Json& query, double now) {
    const Athlete a = AthleteOf(user, now);
    auto day_of = [&](const char* key, int64_t def) {
      if (!query.contains(key)) return def;
      int64_t d = 0;
      if (!engine::ParseDate(query[key].get<std::string>(), &d)) {
        throw ApiError{400, "invalid_argument", std::string(key) + ": expected a date YYYY-MM-DD"};
      }
      return d;
    };
    const int64_t to = day_of("to", a.today);
    const int64_t from = day_of("from", to - 41);
    if (from > to) throw ApiError{400, "invalid_argument", "from: must not be after to"};
    if (to - from > 365) throw ApiError{400, "invalid_argument", "from..to: at most 366 days"};

    const std::shared_ptr<const std::vector<Record>> held = Records(user);
    const std::vector<Record>& recs = *held;
    const Loads l = DailyLoads(recs, a, from, to, now);
    const std::vector<engine::PmcDay> pmc = engine::Pmc(l.daily, l.first);
    Json days = Json::array();
    for (const engine::PmcDay& d : pmc) {
      if (d.day < from) continue;
      days.push_back({{"date", engine::FormatDate(d.day)},
                      {"load", Rounded(d.load, 0.1)},
                      {"ctl", Rounded(d.ctl, 0.1)},
                      {"atl", Rounded(d.atl, 0.1)},
                      {"tsb", Rounded(d.tsb, 0.1)}});
    }
    const engine::Monotony mono = engine::WeeklyMonotony(l.daily);
    Json spike = nullptr;
    if (l.last) {
      const auto [s, longest] = SpikeOfRun(recs, *l.last);
      spike = {{"run_id", l.last->run_id},
               {"distance_m", Rounded(l.last->distance_m, 0.1)},
               {"longest_previous_30d_m", Rounded(longest, 0.1)},
               {"ratio", Rounded(s.ratio, 0.01)},
               {"band", s.band}};
    }
    const Json& profile = a.profile;
    return {
        {"from", engine::FormatDate(from)},
        {"to", engine::FormatDate(to)},
        {"days", days},
        {"at_to",
         {{"acwr_ewma", Rounded(engine::AcwrEwma(l.daily), 0.01)},
          {"acwr_rolling_coupled", Rounded(engine::AcwrRolling(l.daily, true), 0.01)},
          {"acwr_rolling_uncoupled", Rounded(engine::AcwrRolling(l.daily, false), 0.01)},
          {"monotony", Rounded(mono.monotony, 0.01)},
          {"strain", Rounded(mono.strain, 0.1)},
          {"weekly_load", Rounded(mono.weekly_load, 0.1)},
          {"last_run_spike", spike}}},
        {"runs", {{"by_heart_rate", l.by_hr}, {"by_pace", l.by_pace}, {"unscored", l.unscored}}},
        {"methods",
         {{"load",
           "Banister TRIMP (a, b by sex; male 0.64, 1.92, female 0.86, 1.67, unknown 0.725, "
           "1.795) from the run's average heart rate and moving time, max HR from the " +
               l.max_from + ", rest HR " +
               (profile.contains("rest_hr_bpm") ? "from the profile" : "60 bpm") +
               "; without heart rate, rTSS = 100 h IF^2 from grade-adjusted pace against "
               "the threshold pace (" +
               (std::isfinite(l.threshold) ? l.threshold_from : "unknown: such runs unscored") +
               "); foot sports only, days in " + a.zone.name()},
          {"pmc",
           "Coggan: CTL += (load - CTL)/42, ATL += (load - ATL)/7 from the first "
           "run (at most 2 years back); TSB = CTL - ATL of the day before"},
          {"acwr",
           "EWMA 7/28 days with lambda 2/(N+1) (Williams 2017); rolling: last 7 "
           "days over the mean week of 28 (coupled) or of the 21 before (uncoupled). "
           "A guard, not an injury predictor"},
          {"monotony",
           "Foster: mean/SD of the last 7 daily loads (cap 10); strain = weekly "
           "load x monotony"},
          {"spike",
           "the last run's distance over the longest run of the 30 days before "
           "it (Frandsen 2025): ok <= 1.10, elevated <= 1.30, high <= 2.0"}}}};
  }

  // --- the plan ---
  struct Generated {
    engine::TrainingPlan plan;
    Json assumptions = Json::array();
    Json goal = nullptr;
    Json inputs;  // what the plan was made from, to explain the next change
    engine::TrainingPaces paces;
  };
  Generated Generate(const Athlete& a, const std::vector<Record>& recs, double now) {
    Generated g;
    const Json& profile = a.profile;
    engine::PlanInput in;
    in.today = a.today;
    static const char* kDays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    if (profile.contains("availability")) {
      for (const Json& d : profile["availability"]["days"]) {
        for (size_t k = 0; k < 7; ++k) {
          if (d == kDays[k]) in.available[k] = true;
        }
      }
      in.minutes_per_day = profile["availability"]["minutes_per_day"].get<double>();
    } else {
      in.available = {false, true, false, true, false, true, true};
      in.minutes_per_day = 60;
      g.assumptions.push_back(
          "no availability in the profile: tue, thu, sat, sun, 60 minutes a day");
    }
    double last28 = 0, longest30 = 0;
    bool any = false;
    for (const Record& r : recs) {
      if (!FootSport(r.sport) || !std::isfinite(r.start_s)) continue;
      const double age = now - r.start_s;
      if (age < 0) continue;
      if (age <= 28 * 86400.0) last28 += r.distance_m, any = true;
      if (age <= 30 * 86400.0) longest30 = std::max(longest30, r.distance_m);
    }
    in.weekly_km = last28 / 4 / 1000;
    if (!any) {
      in.weekly_km = NumberOr(profile, "weekly_volume_km", 0);
      g.assumptions.push_back(
          "no run in the last 28 days: weekly volume from the profile (weekly_volume_km), "
          "else a beginner's three 20-minute runs");
    }
    in.longest_recent_m = longest30;
    const int64_t monday = a.today - engine::Weekday(a.today);
    for (const Record& r : recs) {
      if (FootSport(r.sport) && std::isfinite(r.start_s) && r.start_s <= now &&
          a.zone.LocalDay(r.start_s) >= monday) {
        in.done_this_week_km += r.distance_m / 1000;
      }
    }
    const Fitness f = FitnessOf(recs, now);
    double vdot = f.estimate.vdot;
    if (std::isnan(vdot)) {
      const double thr = NumberOr(profile, "threshold_pace_s_per_km");
      vdot = 35;
      if (std::isfinite(thr)) {
        // The VDOT whose T pace is the profile's threshold pace (T pace falls as VDOT rises).
        double lo = 20, hi = 90;
        for (int i = 0; i < 60; ++i) {
          const double mid = (lo + hi) / 2;
          (engine::PacesFromVdot(mid).threshold > thr ? lo : hi) = mid;
        }
        vdot = (lo + hi) / 2;
        g.assumptions.push_back("no recent best effort: paces from the profile's threshold pace");
      } else {
        g.assumptions.push_back("no recent best effort and no threshold pace: paces of VDOT 35");
      }
    }
    in.paces = engine::PacesFromVdot(vdot);
    if (profile.contains("goal") && profile["goal"].is_object()) {
      const Json& goal = profile["goal"];
      int64_t race_day = 0;
      (void)engine::ParseDate(goal.value("date", ""), &race_day);
      const double distance = goal["distance_m"].get<double>();
      if (race_day < a.today) {
        g.assumptions.push_back("the goal race's date has passed: a rolling plan instead");
      } else if (race_day - a.today > 52 * 7) {
        g.assumptions.push_back(
            "the goal race is more than 52 weeks away: a rolling plan until it is closer");
      } else {
        engine::PlanGoal pg;
        pg.distance_m = distance;
        pg.race_day = race_day;
        pg.race_pace_s_per_km = goal.contains("target_time_s")
                                    ? goal["target_time_s"].get<double>() / (distance / 1000)
                                    : engine::PredictRaceTimeS(vdot, distance) / (distance / 1000);
        in.goal = pg;
        g.goal = goal;
      }
    }
    g.plan = engine::GeneratePlan(in);
    g.inputs = {{"weekly_km", engine::RoundTo(in.weekly_km, 0.1)},
                {"longest_recent_m", engine::RoundTo(longest30, 1)},
                {"vdot", engine::RoundTo(vdot, 0.01)},
                {"goal", g.goal},
                {"availability",
                 profile.contains("availability") ? profile["availability"] : Json(nullptr)},
                {"profile", engine::DumpJson(profile)}};
    g.paces = in.paces;
    return g;
  }

  // A stored day: the generator's fields, and the reasons the adjuster changed it.
  static Json StepsJson(const std::vector<engine::WorkoutStep>& steps) {
    Json out = Json::array();
    for (const engine::WorkoutStep& st : steps) {
      out.push_back({{"kind", st.kind},
                     {"repeat", st.repeat},
                     {"distance_m", Rounded(st.distance_m, 1)},
                     {"pace_s_per_km", Rounded(st.pace_s_per_km, 0.1)}});
    }
    return out;
  }
  static Json DayJson(const engine::PlannedDay& d) {
    return {{"date", engine::FormatDate(d.day)},
            {"type", std::string(engine::WorkoutTypeName(d.type))},
            {"phase", d.phase},
            {"distance_m", Rounded(d.distance_m, 1)},
            {"duration_s", Rounded(d.duration_s, 1)},
            {"steps", StepsJson(d.steps)}};
  }
  // A day as the stored plan keeps it (read every night for every runner, so compact):
  // [day number, type, phase, distance_m, duration_s, [[kind, repeat, distance_m, pace]...],
  //  reasons the adjuster changed it (when it did)].
  static Json StoredDay(const engine::PlannedDay& d, const std::vector<std::string>* reasons) {
    Json steps = Json::array();
    for (const engine::WorkoutStep& st : d.steps) {
      steps.push_back(Json::array({st.kind, st.repeat, engine::RoundTo(st.distance_m, 1),
                                   engine::RoundTo(st.pace_s_per_km, 0.1)}));
    }
    Json j = Json::array({d.day, std::string(engine::WorkoutTypeName(d.type)), d.phase,
                          engine::RoundTo(d.distance_m, 1), engine::RoundTo(d.duration_s, 1),
                          std::move(steps)});
    if (reasons && !reasons->empty()) j.push_back(*reasons);
    return j;
  }
  static engine::WorkoutType TypeOf(const std::string& type) {
    for (auto t :
         {engine::WorkoutType::kRest, engine::WorkoutType::kEasy, engine::WorkoutType::kLong,
          engine::WorkoutType::kThreshold, engine::WorkoutType::kIntervals,
          engine::WorkoutType::kRepetition, engine::WorkoutType::kRace}) {
      if (engine::WorkoutTypeName(t) == type) return t;
    }
    return engine::WorkoutType::kRest;
  }
  static engine::PlannedDay DayOf(const Json& j) {
    engine::PlannedDay d;
    if (j.is_array() && j.size() >= 6) {
      d.day = j[0].get<int64_t>();
      d.type = TypeOf(j[1].get<std::string>());
      d.phase = j[2].get<std::string>();
      d.distance_m = j[3].get<double>();
      d.duration_s = j[4].get<double>();
      for (const Json& s : j[5]) {
        d.steps.push_back(
            {s[0].get<std::string>(), s[2].get<double>(), s[3].get<double>(), s[1].get<int>()});
      }
      return d;
    }
    return d;
  }
  static std::vector<std::string> ReasonsOf(const Json& j) {
    if (j.is_array() && j.size() >= 7) return j[6].get<std::vector<std::string>>();
    return {};
  }
  // A day as the API shows it.
  static Json DayAnswer(const Json& stored) {
    Json j = DayJson(DayOf(stored));
    std::vector<std::string> reasons = ReasonsOf(stored);
    if (!reasons.empty()) j["changed"] = std::move(reasons);
    return j;
  }
  // A change worth telling the runner: another kind of day, or 10 % and 1 km off.
  static bool Material(const engine::PlannedDay& a, const engine::PlannedDay& b) {
    if (a.type != b.type) return true;
    const double delta = std::abs(a.distance_m - b.distance_m);
    return delta > 1000 && delta > 0.1 * std::max(a.distance_m, b.distance_m);
  }
  static Json Brief(const engine::PlannedDay* d) {
    if (!d) return nullptr;
    return {{"type", std::string(engine::WorkoutTypeName(d->type))},
            {"distance_m", Rounded(d->distance_m, 1)}};
  }

  // Why the generator's plan moved: what it was made from, then and now.
  static std::vector<std::string> InputChanges(const Json& was, const Json& now) {
    std::vector<std::string> out;
    char buf[200];
    if (!was.is_object()) return out;
    if (was["goal"] != now["goal"]) {
      out.push_back("the goal changed (" +
                    (now["goal"].is_null() ? std::string("none: a rolling plan")
                                           : engine::DumpJson(now["goal"])) +
                    ")");
    }
    if (was["availability"] != now["availability"]) out.push_back("your availability changed");
    const double wk0 = NumberOr(was, "weekly_km", 0), wk1 = NumberOr(now, "weekly_km", 0);
    if (std::abs(wk1 - wk0) > 0.1 * std::max(wk0, 1.0)) {
      std::snprintf(buf, sizeof buf, "your last 4 weeks average %.1f km a week (was %.1f)", wk1,
                    wk0);
      out.push_back(buf);
    }
    const double l0 = NumberOr(was, "longest_recent_m", 0),
                 l1 = NumberOr(now, "longest_recent_m", 0);
    if (std::abs(l1 - l0) > 500) {
      std::snprintf(buf, sizeof buf,
                    "your longest run of the last 30 days is %.1f km (was %.1f): the limit of "
                    "the next long runs moved",
                    l1 / 1000, l0 / 1000);
      out.push_back(buf);
    }
    const double v0 = NumberOr(was, "vdot", 0), v1 = NumberOr(now, "vdot", 0);
    if (std::abs(v1 - v0) >= 0.5) {
      std::snprintf(buf, sizeof buf, "your fitness is VDOT %.1f (was %.1f)", v1, v0);
      out.push_back(buf);
    }
    return out;
  }

  // What the adjuster reacts to, from the runs, the readiness check-ins and the stored plan.
  engine::AdaptSignals SignalsOf(const std::string& user, const Athlete& a,
                                 const std::vector<Record>& recs,
                                 const std::vector<engine::PlannedDay>& stored, double now,
                                 Json* summary) {
    engine::AdaptSignals s;
    s.today = a.today;
    const Loads l = DailyLoads(recs, a, a.today - 41, a.today, now);
    const std::vector<engine::PmcDay> pmc = engine::Pmc(l.daily, l.first);
    if (!pmc.empty() && l.last) s.tsb = pmc.back().tsb;
    s.acwr_ewma = l.last ? engine::AcwrEwma(l.daily) : kNaN;
    if (l.last && std::isfinite(l.last->start_s) &&
        a.zone.LocalDay(l.last->start_s) >= a.today - 1) {
      const auto [spike, longest] = SpikeOfRun(recs, *l.last);
      if (longest > 0) {
        s.spike_day = a.zone.LocalDay(l.last->start_s);
        s.spike_band = spike.band;
        s.spike_ratio = spike.ratio;
      }
    }
    // Planned runs of the 7 days before today that no run fulfilled.
    if (!stored.empty()) {
      std::vector<engine::PlannedDay> past;
      for (const engine::PlannedDay& p : stored) {
        if (p.day >= a.today - 7 && p.day < a.today) past.push_back(p);
      }
      const engine::RunMatch m = engine::MatchRuns(past, DoneRuns(recs, a.zone), a.today);
      for (engine::DayState st : m.state) s.missed_last_7 += st == engine::DayState::kMissed;
    }
    if (STRIDE_HOST_HAS(p_->host, readiness_list)) {
      std::string out;
      stride_sink_t sink = HostStore::Sink(&out);
      const Json q = {{"from", engine::FormatDate(a.today - 14)},
                      {"to", engine::FormatDate(a.today)}};
      if (p_->host->readiness_list(p_->ctx, user.c_str(), engine::DumpJson(q).c_str(), &sink) ==
          STRIDE_OK) {
        const Json list = Json::parse(out, nullptr, false);
        int64_t streak_next = 0;  // the day before the streak counted so far
        for (const Json& c : list.value("check_ins", Json::array())) {  // newest first
          int64_t day = 0;
          if (!engine::ParseDate(c.value("date", ""), &day)) continue;
          const bool ill = c.value("ill", false);
          if (day == a.today && !ill) {
            engine::Readiness r;
            r.score = NumberOr(c["readiness"], "score", 100);
            r.band = c["readiness"].value("band", "");
            r.reasons = c["readiness"].value("reasons", std::vector<std::string>{});
            s.readiness = r;
          }
          if (!ill) {
            if (s.last_ill_day) streak_next = -1;  // the streak ended
            continue;
          }
          if (!s.last_ill_day) {
            s.last_ill_day = day;
            s.ill_days = 1;
            streak_next = day - 1;
          } else if (streak_next == day) {
            ++s.ill_days;
            --streak_next;
          } else {
            streak_next = -1;
          }
        }
      }
    }
    *summary = {
        {"tsb", Rounded(s.tsb, 0.1)},
        {"acwr_ewma", Rounded(s.acwr_ewma, 0.01)},
        {"missed_last_7", s.missed_last_7},
        {"readiness", s.readiness ? Json(s.readiness->score) : Json(nullptr)},
        {"ill_since", s.last_ill_day ? Json(engine::FormatDate(*s.last_ill_day - s.ill_days + 1))
                                     : Json(nullptr)},
        {"ill_until", s.last_ill_day ? Json(engine::FormatDate(*s.last_ill_day)) : Json(nullptr)}};
    if (s.spike_day) {
      (*summary)["spike"] = {{"date", engine::FormatDate(*s.spike_day)},
                             {"ratio", Rounded(s.spike_ratio, 0.01)},
                             {"band", s.spike_band}};
    }
    return s;
  }

  static std::vector<engine::DoneRun> DoneRuns(const std::vector<Record>& recs,
                                               const engine::TimeZone& zone) {
    std::vector<engine::DoneRun> out;
    for (const Record& r : recs) {
      if (FootSport(r.sport) && std::isfinite(r.start_s)) {
        out.push_back({r.run_id, zone.LocalDay(r.start_s), r.distance_m});
      }
    }
    return out;
  }

  std::mutex& UserLock(const std::string& user) {
    return p_->recalc_mu[std::hash<std::string>{}(user) % p_->recalc_mu.size()];
  }

  std::optional<Json> StoredPlan(const std::string& user) {
    std::optional<std::string> text = Get(user.c_str(), "plan");
    if (!text) return std::nullopt;
    Json j = Json::parse(*text, nullptr, false);
    if (!j.is_object()) return std::nullopt;
    return j;
  }

  // Makes the plan anew from today, adjusts it, keeps what did not change materially, and
  // records every material change with its reasons. One at a time per user.
  Json Recalculate(const std::string& user, double now, const std::string& cause) {
    std::lock_guard guard(UserLock(user));
    const Athlete a = AthleteOf(user, now);
    const std::shared_ptr<const std::vector<Record>> held = Records(user);
    const std::vector<Record>& recs = *held;
    const std::optional<Json> old = StoredPlan(user);
    Generated g = Generate(a, recs, now);
    std::erase_if(g.plan.days,
                  [&](const engine::PlannedDay& d) { return d.day >= a.today + kAheadDays; });
    std::vector<engine::PlannedDay> old_days;
    if (old) {
      for (const Json& d : (*old)["days"]) old_days.push_back(DayOf(d));
    }
    Json signals;
    const engine::AdaptSignals s = SignalsOf(user, a, recs, old_days, now, &signals);
    std::map<int64_t, engine::PlannedDay> before;  // the stored days from today on
    std::map<int64_t, std::vector<std::string>> before_reasons;
    Json kept_past = Json::array();
    if (old) {
      for (size_t i = 0; i < old_days.size(); ++i) {
        const Json& d = (*old)["days"][i];
        const engine::PlannedDay& p = old_days[i];
        if (p.day < a.today) {
          if (p.day >= a.today - kPastDays) kept_past.push_back(d);
        } else {
          before[p.day] = p;
          if (std::vector<std::string> r = ReasonsOf(d); !r.empty()) before_reasons[p.day] = r;
        }
      }
    }
    std::vector<engine::PlannedDay> previous;
    for (const auto& [day, p] : before) previous.push_back(p);
    const std::vector<engine::Adjustment> adjustments =
        engine::AdjustPlan(&g.plan.days, s, previous, g.paces);
    std::map<int64_t, const engine::Adjustment*> adjusted;
    for (const engine::Adjustment& x : adjustments) adjusted[x.day] = &x;

    // Stability: a week whose every day is close to what was stored, and that the adjuster
    // left alone, keeps its stored days (no daily jitter of a few hundred metres).
    std::vector<engine::PlannedDay> final_days = g.plan.days;
    std::map<int64_t, std::vector<size_t>> weeks;
    for (size_t i = 0; i < final_days.size(); ++i) {
      weeks[final_days[i].day - engine::Weekday(final_days[i].day)].push_back(i);
    }
    for (const auto& [monday, idx] : weeks) {
      bool keep = !before.empty();
      for (size_t i : idx) {
        const auto it = before.find(final_days[i].day);
        if (it == before.end() || adjusted.count(final_days[i].day) ||
            before_reasons.count(final_days[i].day) || Material(it->second, final_days[i])) {
          keep = false;
        }
      }
      if (keep) {
        for (size_t i : idx) final_days[i] = before[final_days[i].day];
      }
    }

    // The changes, day by day.
    const std::vector<std::string> input_changes =
        old ? InputChanges((*old)["inputs"], g.inputs) : std::vector<std::string>{};
    const std::string at = engine::FormatIsoTime(now);
    Json changes = Json::array();
    std::map<int64_t, const engine::PlannedDay*> after;
    for (const engine::PlannedDay& d : final_days) after[d.day] = &d;
    std::set<int64_t> dates;
    for (const auto& [d, p] : before) dates.insert(d);
    for (const auto& [d, p] : after) dates.insert(d);
    if (old) {
      for (int64_t day : dates) {
        const auto b = before.find(day);
        const auto n = after.find(day);
        const engine::PlannedDay* was = b == before.end() ? nullptr : &b->second;
        const engine::PlannedDay* now_day = n == after.end() ? nullptr : n->second;
        if (was && now_day && !Material(*was, *now_day)) continue;
        if (!was && now_day && now_day->type == engine::WorkoutType::kRest) continue;
        if (was && !now_day && was->type == engine::WorkoutType::kRest) continue;
        Json reasons = Json::array(), triggers = Json::array();
        if (const auto ad = adjusted.find(day); ad != adjusted.end()) {
          for (const std::string& r : ad->second->reasons) reasons.push_back(r);
          for (const std::string& t : ad->second->triggers) triggers.push_back(t);
        }
        if (reasons.empty()) {
          for (const std::string& r : input_changes) reasons.push_back(r);
          if (!input_changes.empty()) triggers.push_back("inputs");
        }
        if (reasons.empty() && before_reasons.count(day)) {
          reasons.push_back("what changed it before no longer holds (" +
                            before_reasons[day].front() + ")");
          triggers.push_back("recovered");
        }
        if (reasons.empty()) {
          reasons.push_back("recalculated from your runs and profile");
          triggers.push_back("inputs");
        }
        changes.push_back({{"at", at},
                           {"date", engine::FormatDate(day)},
                           {"before", Brief(was)},
                           {"after", Brief(now_day)},
                           {"reasons", reasons},
                           {"triggers", triggers},
                           {"cause", cause}});
      }
    } else {
      changes.push_back({{"at", at},
                         {"date", nullptr},
                         {"before", nullptr},
                         {"after", nullptr},
                         {"reasons", {"plan created"}},
                         {"triggers", {"created"}},
                         {"cause", cause}});
    }

    Json days = kept_past;
    for (const engine::PlannedDay& d : final_days) {
      const auto ad = adjusted.find(d.day);
      days.push_back(StoredDay(d, ad != adjusted.end() ? &ad->second->reasons : nullptr));
    }
    Json weeks_json = Json::array();
    for (const engine::PlanWeek& w : g.plan.weeks) {
      weeks_json.push_back({{"start", engine::FormatDate(w.start_day)},
                            {"phase", w.phase},
                            {"target_km", Rounded(w.target_km, 0.1)},
                            {"planned_km", Rounded(w.planned_km, 0.1)}});
    }
    Json plan = {{"computed_at", at},
                 {"cause", cause},
                 {"today", engine::FormatDate(a.today)},
                 {"goal", g.goal},
                 {"start_km", Rounded(g.plan.start_km, 0.1)},
                 {"weeks", weeks_json},
                 {"days", days},
                 {"warnings", g.plan.warnings},
                 {"assumptions", g.assumptions},
                 {"signals", signals},
                 {"inputs", g.inputs}};
    // Changes first, then the plan: a crash between them leaves a recalculation to redo, not
    // a plan whose changes are lost.
    uint64_t seq = 0;
    if (std::optional<std::string> n = Get(user.c_str(), "c_next")) seq = std::stoull(*n);
    for (Json& c : changes) {
      c["id"] = seq;
      char key[32];
      std::snprintf(key, sizeof key, "c/%016llu", static_cast<unsigned long long>(seq));
      Put(user.c_str(), key, engine::DumpJson(c));
      ++seq;
    }
    Put(user.c_str(), "c_next", std::to_string(seq));
    Put(user.c_str(), "plan", engine::DumpJson(plan));
    PublishDays(user, old, days);
    return plan;
  }

  // Offline clients sync the plan's days (collection "plans.days", id the date): each day as
  // the API shows it, and a tombstone for a day the new plan no longer has. A day that did not
  // change is no change to pull. After the plan is stored: a failure here is logged, and the
  // next recalculation publishes the days again.
  void PublishDays(const std::string& user, const std::optional<Json>& old, const Json& days) {
    if (!STRIDE_HOST_HAS(p_->host, sync_put)) return;
    std::set<std::string> now;
    auto put = [&](const std::string& id, const std::string* json) {
      SyncPut(p_->host, p_->ctx, user, "days", id, json, "plan day");
    };
    for (const Json& d : days) {
      Json answer = DayAnswer(d);
      const std::string id = answer["date"];
      now.insert(id);
      const std::string text = engine::DumpJson(answer);
      put(id, &text);
    }
    if (!old) return;
    for (const Json& d : (*old)["days"]) {
      const std::string id = engine::FormatDate(DayOf(d).day);
      if (!now.count(id)) put(id, nullptr);
    }
  }

  // The stored plan, made or remade first when there is none, it was made on another day, or
  // the profile changed since.
  Json CurrentPlan(const std::string& user, double now) {
    std::optional<Json> plan = StoredPlan(user);
    const Athlete a = AthleteOf(user, now);
    if (!plan) return Recalculate(user, now, "first request");
    if ((*plan)["today"] != engine::FormatDate(a.today)) return Recalculate(user, now, "new day");
    if ((*plan)["inputs"]["profile"] != engine::DumpJson(a.profile)) {
      return Recalculate(user, now, "profile changed");
    }
    return *plan;
  }

  static Json PlanMethods() {
    return {{"generator",
             "phases base 25 : build 35 : peak 25 of the weeks before a taper of 2 weeks "
             "(half marathon and longer) or 1; weekly volume +10 % at most over the highest "
             "week before, a recovery week (x0.85) every fourth; long run <= 30 % of the week "
             "(25 % above 64 km) and <= 150 min; no run over 1.10 x the longest before its "
             "week; threshold <= 10 %, intervals <= min(10 km, 8 %), repetitions <= min(8 km, "
             "5 %) of the week; <= 3 quality days, never two in a row, none in the 2 days "
             "before the race; taper <= 75 % of the peak week"},
            {"start",
             "weekly volume = the foot runs of the last 28 days / 4; the spike "
             "reference = the longest run of the last 30 days"},
            {"paces", "Daniels' paces of the fitness VDOT (GET /v1/plans/fitness)"},
            {"matching",
             "a run fulfils a planned run on the same local day with at least 50 % of its "
             "distance (70 % for a long run, 90 % for the race); a past planned run without "
             "one is missed; any other run is extra"},
            {"adaptation",
             "only lowers: ill -> rest 2 days, then easy; readiness < 30 -> rest today, < 50 "
             "-> easy at 80 %; TSB < -30 -> no hard session for 3 days; EWMA ACWR > 1.5 -> 7 "
             "days at 80 %, one hard session; a run over 1.30 (1.10) x the longest of 30 days "
             "-> 2 (1) easy days; 2+ missed in 7 days -> 3 easy days; missed runs are never "
             "made up (no day of the next 7 longer than planned before)"},
            {"recalculation",
             "at 01:00 local time (daily tick), after each stored or deleted run and readiness "
             "check-in, and on reading when the plan is from another day or the profile "
             "changed; a week close to what was stored (each day within 10 % or 1 km) keeps "
             "its stored days"}};
  }

  Json CurrentAnswer(const std::string& user, double now) {
    const Json plan = CurrentPlan(user, now);
    const Athlete a = AthleteOf(user, now);
    std::vector<engine::PlannedDay> shown;
    std::vector<const Json*> shown_json;
    for (const Json& d : plan["days"]) {
      engine::PlannedDay p = DayOf(d);
      if (p.day < a.today - kShownPastDays) continue;
      shown.push_back(std::move(p));
      shown_json.push_back(&d);
    }
    const int64_t first = shown.empty() ? a.today : shown.front().day;
    std::vector<engine::DoneRun> runs;
    for (engine::DoneRun& r : DoneRuns(*Records(user), a.zone)) {
      if (r.day >= first && r.day <= a.today) runs.push_back(std::move(r));
    }
    const engine::RunMatch m = engine::MatchRuns(shown, runs, a.today);
    std::multimap<int64_t, const engine::DoneRun*> extra;
    for (size_t i : m.extra) extra.emplace(runs[i].day, &runs[i]);
    Json days = Json::array();
    for (size_t i = 0; i < shown.size(); ++i) {
      Json j = DayAnswer(*shown_json[i]);
      j["state"] = std::string(engine::DayStateName(m.state[i]));
      if (!m.run_ids[i].empty()) j["run_id"] = m.run_ids[i];
      days.push_back(std::move(j));
      auto [lo, hi] = extra.equal_range(shown[i].day);
      for (auto it = lo; it != hi; ++it) {
        days.push_back({{"date", engine::FormatDate(it->second->day)},
                        {"type", "run"},
                        {"state", "extra"},
                        {"run_id", it->second->run_id},
                        {"distance_m", Rounded(it->second->distance_m, 1)}});
      }
    }
    Json out = plan;
    out.erase("inputs");
    out["today"] = engine::FormatDate(a.today);
    out["days"] = std::move(days);
    out["methods"] = PlanMethods();
    return out;
  }

  Json NextAnswer(const std::string& user, double now) {
    const Json plan = CurrentPlan(user, now);
    const Athlete a = AthleteOf(user, now);
    const std::string today = engine::FormatDate(a.today);
    bool done_today = false;
    for (const engine::DoneRun& r : DoneRuns(*Records(user), a.zone))
      done_today |= r.day == a.today;
    for (const Json& d : plan["days"]) {
      const engine::PlannedDay p = DayOf(d);
      if (p.day < a.today || p.type == engine::WorkoutType::kRest) continue;
      if (p.day == a.today && done_today) continue;  // today's run is in
      Json j = DayAnswer(d);
      j["warnings"] = plan["warnings"];
      return j;
    }
    throw ApiError{404, "not_found", "no run planned: no available day in the profile"};
  }

  Json ChangesAnswer(const std::string& user, const Json& query) {
    const auto limit = static_cast<size_t>(WholeQuery(query, "limit", 50, 1, 500));
    const auto before = static_cast<uint64_t>(WholeQuery(query, "before", INT64_MAX, 0, INT64_MAX));
    std::string date;
    if (query.contains("date")) {
      date = query["date"].get<std::string>();
      int64_t d = 0;
      if (!engine::ParseDate(date, &d)) {
        throw ApiError{400, "invalid_argument", "date: expected YYYY-MM-DD"};
      }
    }
    std::vector<Json> all;
    for (const auto& [key, value] : kv_.Scan(user.c_str(), "c/")) {
      all.push_back(Json::parse(value, nullptr, false));
    }
    Json out = Json::array();
    Json next = nullptr;
    for (size_t i = all.size(); i-- > 0;) {
      const Json& c = all[i];
      if (!c.is_object() || c.value("id", UINT64_MAX) >= before) continue;
      if (!date.empty() && !(c["date"].is_string() && c["date"] == date)) continue;
      if (out.size() == limit) {
        next = std::to_string(out.back()["id"].get<uint64_t>());
        break;
      }
      out.push_back(c);
    }
    return {{"changes", out}, {"next_before", next}};
  }

  // Answers that are not JSON: (content type, body).
  std::pair<std::string, std::string> Raw(int route, const Json& req) {
    const std::string user = req.value("user", "");
    const double now = static_cast<double>(p_->host->now_ms(p_->ctx)) / 1000;
    const Json plan = CurrentPlan(user, now);
    std::vector<engine::PlannedDay> days;
    std::map<int64_t, std::vector<std::string>> reasons;
    for (const Json& d : plan["days"]) {
      days.push_back(DayOf(d));
      if (std::vector<std::string> r = ReasonsOf(d); !r.empty()) reasons[days.back().day] = r;
    }
    if (route == kCalendar) {
      engine::CalendarOptions o;
      o.now_unix_s = now;
      o.reasons = std::move(reasons);
      // FNV-1a of the runner's id: a stable UID that does not show the id.
      uint64_t h = 1469598103934665603ull;
      for (unsigned char c : user) h = (h ^ c) * 1099511628211ull;
      char uid[40];
      std::snprintf(uid, sizeof uid, "%016llx@stride", static_cast<unsigned long long>(h));
      o.uid_suffix = uid;
      return {"text/calendar; charset=utf-8", engine::PlanICalendar(days, o)};
    }
    const std::string date = req["params"].value("date", "");
    int64_t day = 0;
    if (!engine::ParseDate(date, &day)) {
      throw ApiError{400, "invalid_argument", "date: expected YYYY-MM-DD"};
    }
    for (const engine::PlannedDay& d : days) {
      if (d.day != day || d.type == engine::WorkoutType::kRest) continue;
      std::string name(engine::WorkoutTypeName(d.type));
      name[0] = static_cast<char>(name[0] - 'a' + 'A');
      engine::FitWorkoutOptions o;
      o.created_unix_s = now;
      o.serial_number = static_cast<uint32_t>(day);
      return {"application/vnd.ant.fit", engine::FitWorkoutFile(d, name + " " + date.substr(5), o)};
    }
    throw ApiError{404, "not_found", "no run planned on " + date};
  }

  Json Handle(int route, const Json& req) {
    const std::string user = req.value("user", "");
    const Json& query = req["query"];
    const double now = static_cast<double>(p_->host->now_ms(p_->ctx)) / 1000;
    switch (route) {
      case kFitness:
        return FitnessAnswer(user, now);
      case kPredict:
        return PredictAnswer(user, query, now);
      case kLoad:
        return LoadAnswer(user, query, now);
      case kCurrent:
        return CurrentAnswer(user, now);
      case kNext:
        return NextAnswer(user, now);
      case kChanges:
        return ChangesAnswer(user, query);
      default:
        throw ApiError{404, "not_found", "no such plan route"};
    }
  }

 private:
  State* p_;
  HostStore kv_;
};

int HandleC(State* self, stride_call_t* call, const char* request, size_t size) {
  return HandleCall(self->host, self->ctx, call, [&] {
    const Json req = Json::parse(std::string_view(request, size));
    Plan plan(self);
    const int route = req.value("route_id", 0);
    if (route == kCalendar || route == kWorkoutFit) {
      const auto [type, body] = plan.Raw(route, req);
      self->host->respond(call, 200, type.c_str(), body.data(), body.size());
      return;
    }
    RespondJson(self->host, call, 200, plan.Handle(route, req));
  });
}

int OnEventC(State* self, const char* event, size_t size) {
  return HandleEvent(self->host, self->ctx,
                     [&] { Plan(self).OnEvent(Json::parse(std::string_view(event, size))); });
}

void ShutdownC(State* self) {
  delete self;
}

const stride_plugin_api_t kApi = PluginApi<State, ShutdownC, HandleC, OnEventC>();
const stride_plugin_info_t kInfo = {sizeof(stride_plugin_info_t), STRIDE_PLUGIN_ABI_VERSION,
                                    "plans", "0.1.0"};

}  // namespace

std::string EncodeRunRecord(const std::string& run_json) {
  return EncodeRecord(RecordJson(Json::parse(run_json)));
}

const stride_plugin_info_t* Info() {
  return &kInfo;
}

int InitV1(const stride_host_api_t* host, stride_host_t* ctx, stride_plugin_t** self,
           const stride_plugin_api_t** api) {
  if (!STRIDE_HOST_HAS(host, subscribe)) {
    host->set_error(ctx, "the host's function table is older than ABI v1");
    return STRIDE_E_INVALID;
  }
  auto* p = new (std::nothrow) State();
  if (!p) return STRIDE_E_INTERNAL;
  p->host = host;
  p->ctx = ctx;
  // Each route with its OpenAPI operation (GET /v1/openapi.json; the host adds the common
  // answers: 400, 401, 403, 404, 429, 500).
  const struct {
    const char* pattern;
    int id;
    const char* doc;
  } routes[] = {
      {"/fitness", kFitness,
       R"j({"summary": "VDOT, training paces and race predictions from the best recent effort",
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {
          "type": "object", "required": ["vdot", "paces_s_per_km", "predictions", "methods"],
          "properties": {"vdot": {"type": ["number", "null"]}, "from": {"type": ["object", "null"]},
            "paces_s_per_km": {"type": "object"}, "methods": {"type": "object"},
            "predictions": {"type": "array", "items": {"type": "object",
              "required": ["name", "distance_m", "time_s"], "properties": {
                "name": {"type": "string"}, "distance_m": {"type": "number"},
                "time_s": {"type": "number"}}}}}}}}}}})j"},
      {"/predict", kPredict, R"j({"summary": "A race time prediction for any distance",
        "parameters": [{"name": "distance_m", "in": "query", "required": true,
          "schema": {"type": "number", "minimum": 400, "maximum": 250000}}],
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {
          "type": "object", "required": ["distance_m", "time_s", "low_s", "high_s"],
          "properties": {"distance_m": {"type": "number"}, "time_s": {"type": "number"},
            "low_s": {"type": "number"}, "high_s": {"type": "number"},
            "riegel_s": {"type": "number"}, "vdot": {"type": "number"}}}}}}}})j"},
      {"/load", kLoad,
       R"j({"summary": "Training load day by day: fitness, fatigue, form, ACWR, monotony",
        "parameters": [{"name": "from", "in": "query", "schema": {"type": "string"}, "description": "YYYY-MM-DD (default: 41 days before to)"},
          {"name": "to", "in": "query", "schema": {"type": "string"}, "description": "YYYY-MM-DD (default: today)"}],
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {
          "type": "object", "required": ["from", "to", "days", "at_to", "methods", "runs"],
          "properties": {"from": {"type": "string"}, "to": {"type": "string"},
            "days": {"type": "array", "items": {"type": "object",
              "required": ["date", "load", "ctl", "atl", "tsb"], "properties": {
                "date": {"type": "string"}, "load": {"type": "number"}, "ctl": {"type": "number"},
                "atl": {"type": "number"}, "tsb": {"type": "number"}}}},
            "at_to": {"type": "object"}, "methods": {"type": "object"},
            "runs": {"type": "object"}}}}}}}})j"},
      {"/current", kCurrent,
       R"j({"summary": "The current plan to the goal in the profile, day by day",
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {
          "type": "object", "required": ["goal", "today", "days", "weeks", "computed_at"],
          "properties": {"goal": {"type": "object"}, "today": {"type": "string"},
            "computed_at": {"type": "string"}, "cause": {"type": "string"},
            "days": {"type": "array", "items": {"type": "object", "required": ["date", "type"],
              "properties": {"date": {"type": "string"}, "type": {"type": "string"},
                "distance_m": {"type": "number"}, "duration_s": {"type": "number"},
                "phase": {"type": "string"}, "state": {"type": "string"},
                "steps": {"type": "array"}}}},
            "weeks": {"type": "array"}, "signals": {"type": "object"},
            "warnings": {"type": "array", "items": {"type": "string"}}}}}}}}})j"},
      {"/next", kNext, R"j({"summary": "The next planned workout, with its steps",
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {
          "type": "object", "required": ["date", "type"], "properties": {
            "date": {"type": "string"}, "type": {"type": "string"},
            "distance_m": {"type": "number"}, "duration_s": {"type": "number"},
            "phase": {"type": "string"}, "steps": {"type": "array"},
            "warnings": {"type": "array", "items": {"type": "string"}}}}}}}}})j"},
      {"/changes", kChanges,
       R"j({"summary": "Why the plan changed: each recalculation, newest first, paged",
        "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}},
          {"name": "before", "in": "query", "schema": {"type": "string"}, "description": "next_before of the previous page"},
          {"name": "date", "in": "query", "schema": {"type": "string"}, "description": "only changes of this day (YYYY-MM-DD)"}],
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {
          "type": "object", "required": ["changes", "next_before"], "properties": {
            "changes": {"type": "array", "items": {"type": "object",
              "required": ["id", "at", "cause"], "properties": {"id": {"type": "integer"},
                "at": {"type": "string"}, "cause": {"type": "string"},
                "reasons": {"type": "array", "items": {"type": "string"}}}}},
            "next_before": {"type": ["string", "integer", "null"]}}}}}}}})j"},
      {"/calendar.ics", kCalendar, R"j({"summary": "The plan as an iCalendar feed",
        "responses": {"200": {"description": "the plan's days as events",
          "content": {"text/calendar": {"schema": {"type": "string"}}}}}})j"},
      {"/days/{date}/workout.fit", kWorkoutFit,
       R"j({"summary": "A planned day's workout as a FIT workout file for a watch",
        "parameters": [{"name": "date", "in": "path", "required": true, "schema": {"type": "string"}, "description": "YYYY-MM-DD"}],
        "responses": {"200": {"description": "the workout file",
          "content": {"application/vnd.ant.fit": {"schema": {"type": "string", "contentMediaType": "application/vnd.ant.fit"}}}}}})j"}};
  for (const auto& r : routes) {
    if (host->route_add(ctx, "GET", r.pattern, "runner:read", r.id) != STRIDE_OK ||
        (STRIDE_HOST_HAS(host, route_doc) && host->route_doc(ctx, r.id, r.doc) != STRIDE_OK)) {
      delete p;
      return STRIDE_E_INTERNAL;
    }
  }
  const char* kinds = STRIDE_HOST_HAS(host, readiness_list)
                          ? "run.stored,run.deleted,user.deleted,daily,readiness.stored"
                          : "run.stored,run.deleted,user.deleted,daily";
  if (host->subscribe(ctx, kinds, 1) != STRIDE_OK) {  // daily at 01:00 local time
    delete p;
    return STRIDE_E_INTERNAL;
  }
  *self = HandleOf(p);
  *api = &kApi;
  return STRIDE_OK;
}

}  // namespace stride::plugins::plan
