// SPDX-License-Identifier: Apache-2.0
#include "plugins/challenges/challenges.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "engine/text/iso_time.hpp"
#include "engine/text/join.hpp"
#include "engine/text/json_dump.hpp"
#include "engine/text/json_fields.hpp"
#include "engine/text/round.hpp"
#include "engine/text/utf8.hpp"
#include "engine/time/time_zone.hpp"
#include "plugins/api/plugin_call.hpp"
#include "plugins/api/plugin_query.hpp"
#include "plugins/api/plugin_state.hpp"
#include "plugins/api/plugin_store.hpp"

namespace stride::plugins::challenges {
// A challenge's derived state in memory: loaded once, then changed in place by the writers
// (who also store what they changed: the team document and the members they touched), so
// neither a read nor a write costs a pass over a 10,000-member document. Readers hold `rw`
// shared; writers (under the plugin's lock) hold it exclusively while they change `state`.
// The leaderboard order is computed once per version.
struct CachedState {
  nlohmann::json state;  // {"members":{user:{team,distance_m,completed}},"teams":{..},"seq"}
  // The team document t/ID as this process last read or wrote it (guarded by the plugin's
  // cache_mu): another process sharing the store (a server beside a worker) that changed the
  // state changed it too, and the state is loaded again.
  std::string stored;
  std::shared_mutex rw;
  std::atomic<uint64_t> version{0};
  struct Row {
    std::string name, team;
    double distance_m;
    int completed;
  };
  // The leaderboard order of one version of the state, best first: sorted once per version,
  // then shared by every request that reads it (none waits for another's rendering).
  struct Ranking {
    uint64_t version = 0;
    std::vector<Row> members, teams;
  };
  std::mutex ranking_mu;  // ranking (the pointer) and building it
  std::shared_ptr<const Ranking> ranking;
};
namespace {

// The plugin's state behind the ABI's opaque stride_plugin_t (plugins/api/plugin_state.hpp).
struct State {
  const stride_host_api_t* host = nullptr;
  stride_host_t* ctx = nullptr;
  std::mutex mu;  // every state change

  // Caches of what the plugin itself wrote (a challenge never changes after its creation; a
  // state changes only through SaveState), at most kMaxCached challenges each.
  static constexpr size_t kMaxCached = 512;
  std::mutex cache_mu;
  std::map<std::string, std::shared_ptr<stride::plugins::challenges::CachedState>> states;
  // (A Challenge: its type is private to challenges.cpp's namespace below.)
  std::map<std::string, std::shared_ptr<const void>> challenges;
};

using Json = nlohmann::json;

constexpr double kEarthRadiusM = 6371008.8;
constexpr double kPi = 3.14159265358979323846;

enum RouteId {
  kCreate = 1,
  kMine,
  kGet,
  kJoin,
  kLeave,
  kLeaderboard,
  kEvents,
  kRecompute,
};

// A failure with the HTTP answer it deserves.
// A string field of a request body: `def` when absent; a 400 naming the field when it is
// there and not a string (Json::value would throw a type error, answered as a 500).
std::string BodyText(const Json& b, const char* key, std::string def) {
  const auto it = b.find(key);
  if (it == b.end()) return def;
  if (!it->is_string()) {
    throw ApiError{400, "invalid_argument", std::string(key) + ": expected a string"};
  }
  return it->get<std::string>();
}

// A 400 naming the first field of `b` that is not in `known`: a misspelt field (or one of
// another kind of challenge) is refused, not ignored for its default.
void OnlyFields(const Json& b, std::initializer_list<std::string_view> known,
                const std::string& what) {
  if (const std::optional<std::string> key = engine::UnknownKey(b, known)) {
    throw ApiError{400, "invalid_argument",
                   engine::ValidUtf8(*key) + ": unknown field for " + what +
                       " (known: " + engine::Join(known) + ")"};
  }
}

std::string Hex16() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

// The host's ISO times as seconds; NaN when absent or malformed.
double ParseIsoUtc(const std::string& s) {
  double t = 0;
  return engine::ParseIsoTime(s, &t) ? t : std::nan("");
}

double Haversine(double lon1, double lat1, double lon2, double lat2) {
  const double r = kPi / 180;
  const double dlat = (lat2 - lat1) * r, dlon = (lon2 - lon1) * r;
  const double a =
      std::sin(dlat / 2) * std::sin(dlat / 2) +
      std::cos(lat1 * r) * std::cos(lat2 * r) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * kEarthRadiusM * std::asin(std::min(1.0, std::sqrt(a)));
}

struct Milestone {
  double distance_m = 0;
  std::string name;
};

struct Challenge {
  std::string id, name, kind, owner, time_zone = "UTC";
  double created_s = 0;
  int days = 0, weeks = 0, runs_per_week = 0;
  double min_distance_m = 0;
  std::vector<std::string> sports;
  // route kind
  std::string route_id;
  std::vector<std::array<double, 2>> line;     // lon, lat
  std::vector<double> cum;                     // metres along the line at each vertex
  std::vector<std::array<double, 2>> profile;  // distance_m, elevation_m
  double goal_m = 0;
  std::vector<Milestone> milestones;                   // sorted by distance
  int64_t start_day = INT64_MIN, end_day = INT64_MAX;  // window (challenge zone), inclusive

  bool Eligible(const std::string& sport) const {
    return sports.empty() || std::find(sports.begin(), sports.end(), sport) != sports.end();
  }

  Json ToJson(bool with_line) const {
    Json j = {{"id", id},
              {"name", name},
              {"kind", kind},
              {"owner", owner},
              {"time_zone", time_zone},
              {"created_at", engine::FormatIsoTime(created_s)},
              {"sports", sports}};
    if (kind == "daily") {
      j["days"] = days;
      j["min_distance_m"] = min_distance_m;
    } else if (kind == "weekly") {
      j["weeks"] = weeks;
      j["runs_per_week"] = runs_per_week;
    } else {
      j["route_id"] = route_id.empty() ? Json(nullptr) : Json(route_id);
      j["length_m"] = cum.empty() ? 0.0 : engine::RoundTo(cum.back(), 0.1);
      j["goal_m"] = engine::RoundTo(goal_m, 0.1);
      Json ms = Json::array();
      for (const Milestone& m : milestones)
        ms.push_back({{"name", m.name}, {"distance_m", m.distance_m}});
      j["milestones"] = ms;
      j["start_date"] =
          start_day == INT64_MIN ? Json(nullptr) : Json(engine::FormatDate(start_day));
      j["end_date"] = end_day == INT64_MAX ? Json(nullptr) : Json(engine::FormatDate(end_day));
      if (with_line) {
        j["line"] = line;
        j["profile"] = profile;
      }
    }
    return j;
  }

  static Challenge FromJson(const Json& j) {
    Challenge c;
    c.id = j.value("id", "");
    c.name = j.value("name", "");
    c.kind = j.value("kind", "");
    c.owner = j.value("owner", "");
    c.time_zone = j.value("time_zone", "UTC");
    c.created_s = ParseIsoUtc(j.value("created_at", ""));
    c.sports = j.value("sports", std::vector<std::string>());
    c.days = j.value("days", 0);
    c.min_distance_m = j.value("min_distance_m", 0.0);
    c.weeks = j.value("weeks", 0);
    c.runs_per_week = j.value("runs_per_week", 0);
    if (c.kind == "route") {
      if (j.contains("route_id") && j["route_id"].is_string()) c.route_id = j["route_id"];
      c.line = j.value("line", std::vector<std::array<double, 2>>());
      c.profile = j.value("profile", std::vector<std::array<double, 2>>());
      c.goal_m = j.value("goal_m", 0.0);
      for (const Json& m : j.value("milestones", Json::array())) {
        c.milestones.push_back({m.value("distance_m", 0.0), m.value("name", "")});
      }
      int64_t d = 0;
      if (j.contains("start_date") && j["start_date"].is_string() &&
          engine::ParseDate(j["start_date"].get<std::string>(), &d)) {
        c.start_day = d;
      }
      if (j.contains("end_date") && j["end_date"].is_string() &&
          engine::ParseDate(j["end_date"].get<std::string>(), &d)) {
        c.end_day = d;
      }
      c.Cumulate();
    }
    return c;
  }

  void Cumulate() {
    cum.assign(line.size(), 0.0);
    for (size_t i = 1; i < line.size(); ++i) {
      cum[i] = cum[i - 1] + Haversine(line[i - 1][0], line[i - 1][1], line[i][0], line[i][1]);
    }
  }

  // The point `d` metres along the line (clamped), with the profile's elevation there.
  Json Along(double d) const {
    if (line.empty()) return nullptr;
    d = std::clamp(d, 0.0, cum.back());
    const size_t i = static_cast<size_t>(std::upper_bound(cum.begin(), cum.end(), d) - cum.begin());
    double lon = line.back()[0], lat = line.back()[1];
    if (i < line.size()) {
      const size_t a = i - 1;
      const double seg = cum[i] - cum[a];
      const double f = seg > 0 ? (d - cum[a]) / seg : 0;
      lon = line[a][0] + f * (line[i][0] - line[a][0]);
      lat = line[a][1] + f * (line[i][1] - line[a][1]);
    }
    Json ele = nullptr;
    if (!profile.empty()) {
      auto it = std::lower_bound(profile.begin(), profile.end(), d,
                                 [](const std::array<double, 2>& p, double x) { return p[0] < x; });
      if (it == profile.begin()) {
        ele = profile.front()[1];
      } else if (it == profile.end()) {
        ele = profile.back()[1];
      } else {
        const auto& q = *it;
        const auto& p = *(it - 1);
        const double f = q[0] > p[0] ? (d - p[0]) / (q[0] - p[0]) : 0;
        ele = engine::RoundTo(p[1] + f * (q[1] - p[1]), 0.1);
      }
    }
    return {{"lat", engine::RoundTo(lat, 1e-7)},
            {"lon", engine::RoundTo(lon, 1e-7)},
            {"elevation_m", ele},
            {"distance_m", engine::RoundTo(d, 0.1)},
            {"fraction", cum.back() > 0 ? engine::RoundTo(d / cum.back(), 1e-4) : 0.0}};
  }
};

struct RunRecord {
  std::string id, sport;
  double start_s = 0, end_s = 0, distance_m = 0;
};

struct Membership {
  std::string user, team = "all", time_zone = "UTC";
  int64_t start_day = 0;
  double joined_s = 0;

  // An m/<id>/<user> value (what Join writes).
  static Membership FromJson(std::string user, const Json& j) {
    Membership m;
    m.user = std::move(user);
    m.team = j.value("team", "all");
    m.time_zone = j.value("time_zone", "UTC");
    m.start_day = j.value("start_day", int64_t{0});
    m.joined_s = j.value("joined_s", 0.0);
    return m;
  }
};

// What a member contributes, computed from their run records alone.
struct MemberStats {
  double distance_m = 0;
  int completed = 0;  // days or weeks completed (daily, weekly)
  Json detail;        // per day / week (daily, weekly)
};

class Plugin {
 public:
  explicit Plugin(State* self) : p_(self), kv_(self->host, self->ctx) {}

  // --- storage ---
  std::optional<std::string> Get(const char* user, const std::string& key) {
    return kv_.Get(user, key);
  }
  void Put(const char* user, const std::string& key, const std::string& value) {
    kv_.Put(user, key, value);
  }
  void Del(const char* user, const std::string& key) { kv_.Delete(user, key); }
  std::vector<std::pair<std::string, std::string>> Scan(const char* user,
                                                        const std::string& prefix) {
    return kv_.Scan(user, prefix);
  }
  double Now() { return static_cast<double>(p_->host->now_ms(p_->ctx)) / 1000.0; }

  // The challenge (shared: a challenge never changes once created); null when there is none.
  std::shared_ptr<const Challenge> LoadChallenge(const std::string& id) {
    {
      std::lock_guard lock(p_->cache_mu);
      auto it = p_->challenges.find(id);
      if (it != p_->challenges.end()) return std::static_pointer_cast<const Challenge>(it->second);
    }
    const std::optional<std::string> v = Get(nullptr, "c/" + id);
    if (!v) return nullptr;
    auto c = std::make_shared<const Challenge>(Challenge::FromJson(Json::parse(*v)));
    std::lock_guard lock(p_->cache_mu);
    if (p_->challenges.size() >= State::kMaxCached) {
      p_->challenges.erase(p_->challenges.begin());
    }
    p_->challenges.emplace(id, c);
    return c;
  }
  std::shared_ptr<const Challenge> MustChallenge(const std::string& id) {
    std::shared_ptr<const Challenge> c = LoadChallenge(id);
    if (!c) throw ApiError{404, "not_found", "no challenge " + id};
    return c;
  }
  std::optional<Membership> LoadMember(const std::string& id, const std::string& user) {
    const std::optional<std::string> v = Get(nullptr, "m/" + id + "/" + user);
    if (!v) return std::nullopt;
    return Membership::FromJson(user, Json::parse(*v));
  }
  std::vector<Membership> Members(const std::string& id) {
    std::vector<Membership> out;
    const std::string prefix = "m/" + id + "/";
    for (const auto& [k, v] : Scan(nullptr, prefix)) {
      out.push_back(Membership::FromJson(k.substr(prefix.size()), Json::parse(v)));
    }
    return out;
  }
  std::vector<RunRecord> Runs(const std::string& user) {
    std::vector<RunRecord> out;
    for (const auto& [k, v] : Scan(user.c_str(), "r/")) {
      const Json j = Json::parse(v);
      out.push_back({k.substr(2), j.value("sport", ""), j.value("start_s", 0.0),
                     j.value("end_s", 0.0), j.value("distance_m", 0.0)});
    }
    std::sort(out.begin(), out.end(), [](const RunRecord& a, const RunRecord& b) {
      return a.start_s != b.start_s ? a.start_s < b.start_s : a.id < b.id;
    });
    return out;
  }
  // The state as stored: the team document t/ID and one s/ID/USER per member. `stored` (when
  // given) gets the team document's text as the store holds it afterwards.
  Json LoadState(const std::string& id, std::string* stored = nullptr) {
    const std::optional<std::string> v = Get(nullptr, "t/" + id);
    if (stored) *stored = v.value_or("");
    Json state = v ? Json::parse(*v) : Json::object();
    if (!state.contains("teams")) state["teams"] = Json::object();
    if (!state.contains("seq")) state["seq"] = 0;
    if (state.contains("members")) {
      // A store written before members had rows of their own: move them out, once (the same
      // writes, should two loads race).
      for (const auto& [user, m] : state["members"].items()) {
        Put(nullptr, "s/" + id + "/" + user, engine::DumpJson(m));
      }
      const std::string teams =
          engine::DumpJson(Json{{"teams", state["teams"]}, {"seq", state["seq"]}});
      Put(nullptr, "t/" + id, teams);
      if (stored) *stored = teams;
      return state;
    }
    state["members"] = Json::object();
    const std::string prefix = "s/" + id + "/";
    for (const auto& [k, m] : Scan(nullptr, prefix)) {
      state["members"][k.substr(prefix.size())] = Json::parse(m);
    }
    return state;
  }
  // The challenge's state in memory, loaded on first use and again when the stored team
  // document is not the one this process last saw (one read of it per use).
  std::shared_ptr<CachedState> StateRef(const std::string& id) {
    const std::string stored = Get(nullptr, "t/" + id).value_or("");
    {
      std::lock_guard lock(p_->cache_mu);
      auto it = p_->states.find(id);
      if (it != p_->states.end() && it->second->stored == stored) return it->second;
      if (it != p_->states.end()) p_->states.erase(it);  // changed elsewhere
    }
    auto cs = std::make_shared<CachedState>();
    cs->state = LoadState(id, &cs->stored);
    std::lock_guard lock(p_->cache_mu);
    auto [it, added] = p_->states.emplace(id, cs);
    if (added && p_->states.size() > State::kMaxCached) {
      // Evict another; a reader or writer holding it keeps its copy alive until done.
      auto victim = p_->states.begin();
      if (victim == it) ++victim;
      p_->states.erase(victim);
    }
    return it->second;
  }
  // A writer's hold on a state (the plugin's lock must be held too): `state` may be changed,
  // then SaveState stores what changed.
  struct StateWriter {
    std::shared_ptr<CachedState> cs;
    std::unique_lock<std::shared_mutex> lock;
    Json& state;
  };
  StateWriter Write(const std::string& id) {
    std::shared_ptr<CachedState> cs = StateRef(id);
    std::unique_lock lock(cs->rw);
    Json& state = cs->state;
    return {std::move(cs), std::move(lock), state};
  }
  // A reader's hold: the state cannot change while it is held.
  struct StateReader {
    std::shared_ptr<CachedState> cs;
    std::shared_lock<std::shared_mutex> lock;
    const Json& state;
  };
  StateReader Read(const std::string& id) {
    std::shared_ptr<CachedState> cs = StateRef(id);
    std::shared_lock lock(cs->rw);
    const Json& state = cs->state;
    return {std::move(cs), std::move(lock), state};
  }

  // --- derivation ---
  MemberStats Stats(const Challenge& c, const Membership& m) {
    MemberStats s;
    const std::vector<RunRecord> runs = Runs(m.user);
    if (c.kind == "route") {
      Result<engine::TimeZone> tz = engine::TimeZone::Load(c.time_zone);
      for (const RunRecord& r : runs) {
        if (!c.Eligible(r.sport)) continue;
        const int64_t day = tz.ok() ? tz->LocalDay(r.start_s) : 0;
        if (day < c.start_day || day > c.end_day) continue;
        s.distance_m += r.distance_m;
      }
      return s;
    }
    Result<engine::TimeZone> tz = engine::TimeZone::Load(m.time_zone);
    const engine::TimeZone zone = tz.ok() ? *tz : engine::TimeZone::Utc();
    const bool daily = c.kind == "daily";
    const int slots = daily ? c.days : c.weeks;
    std::vector<double> dist(static_cast<size_t>(slots), 0.0);
    std::vector<int> count(static_cast<size_t>(slots), 0);
    std::vector<double> done_at(static_cast<size_t>(slots), std::nan(""));
    for (const RunRecord& r : runs) {
      if (!c.Eligible(r.sport)) continue;
      const int64_t offset = zone.LocalDay(r.start_s) - m.start_day;
      const int64_t slot = daily ? offset : (offset >= 0 ? offset / 7 : -1);
      if (offset < 0 || slot >= slots) continue;
      const auto k = static_cast<size_t>(slot);
      dist[k] += r.distance_m;
      ++count[k];
      s.distance_m += r.distance_m;
      const bool now_done = daily ? dist[k] >= c.min_distance_m : count[k] >= c.runs_per_week;
      if (now_done && std::isnan(done_at[k])) done_at[k] = r.end_s;
    }
    s.detail = Json::array();
    for (int k = 0; k < slots; ++k) {
      const auto i = static_cast<size_t>(k);
      const bool done = !std::isnan(done_at[i]);
      s.completed += done;
      Json row = {{daily ? "day" : "week", k + 1},
                  {daily ? "date" : "from", engine::FormatDate(m.start_day + (daily ? k : 7 * k))},
                  {"distance_m", engine::RoundTo(dist[i], 0.1)},
                  {"runs", count[i]},
                  {"completed_at", done ? Json(engine::FormatIsoTime(done_at[i])) : Json(nullptr)}};
      if (!daily) row["to"] = engine::FormatDate(m.start_day + 7 * k + 6);
      s.detail.push_back(std::move(row));
    }
    return s;
  }

  void Event(const std::string& id, Json* state, Json e) {
    const int64_t seq = state->value("seq", int64_t{0}) + 1;
    (*state)["seq"] = seq;
    e["seq"] = seq;
    e["at"] = engine::FormatIsoTime(Now(), 3);
    char key[64];
    std::snprintf(key, sizeof key, "/%012lld", static_cast<long long>(seq));
    // Written (and published to the event streams) by SaveState.
    pending_.push_back({"e/" + id + key, engine::DumpJson(e), id, e.value("type", ""),
                        static_cast<uint64_t>(seq)});
  }

  // Sets the member's contribution from their runs and moves their team by the difference;
  // milestones the team passes or falls back under become events. `member` nullopt: the
  // member left (contribution zero, entry removed).
  void Refresh(const Challenge& c, Json* state, const std::string& user,
               const std::optional<Membership>& member) {
    Json& members = (*state)["members"];
    Json& teams = (*state)["teams"];
    double old_d = 0;
    std::string team = member ? member->team : "";
    if (members.contains(user)) {
      old_d = members[user].value("distance_m", 0.0);
      if (team.empty()) team = members[user].value("team", "all");
    }
    MemberStats s;
    if (member) s = Stats(c, *member);
    const bool was_member = members.contains(user);
    if (member) {
      members[user] = {{"team", team}, {"distance_m", s.distance_m}, {"completed", s.completed}};
    } else {
      members.erase(user);
    }
    touched_.insert(user);
    if (team.empty()) return;
    Json& t = teams[team];
    if (!t.is_object()) t = Json::object();
    const double before = t.value("distance_m", 0.0);
    const double after = std::max(0.0, before - old_d + s.distance_m);
    t["distance_m"] = after;
    const int n_members = t.value("members", 0) + (member ? 1 : 0) - (was_member ? 1 : 0);
    t["members"] = n_members;
    if (c.kind != "route") return;
    const int reached_before = t.value("reached", 0);
    int reached = 0;
    while (reached < static_cast<int>(c.milestones.size()) &&
           c.milestones[static_cast<size_t>(reached)].distance_m <= after + 1e-6) {
      ++reached;
    }
    t["reached"] = reached;
    for (int k = reached_before; k < reached; ++k) {
      const Milestone& m = c.milestones[static_cast<size_t>(k)];
      Event(c.id, state,
            {{"type", "milestone.reached"},
             {"team", team},
             {"milestone", m.name},
             {"milestone_distance_m", m.distance_m},
             {"team_distance_m", after},
             {"position", c.Along(m.distance_m)}});
    }
    for (int k = reached_before - 1; k >= reached; --k) {
      const Milestone& m = c.milestones[static_cast<size_t>(k)];
      Event(c.id, state,
            {{"type", "milestone.withdrawn"},
             {"team", team},
             {"milestone", m.name},
             {"milestone_distance_m", m.distance_m},
             {"team_distance_m", after}});
    }
    if (n_members == 0 && after <= 0) teams.erase(team);
  }

  // Offline clients sync each member's own progress (collection "challenges.progress", id the
  // challenge): the member's row as GET /v1/challenges/{id} shows it as "me", or a tombstone
  // once they left. Unchanged rows are no change to pull; a failure is logged (the next
  // change of the member publishes the row again).
  void PublishProgress(const std::string& id, const Json& state) {
    if (!STRIDE_HOST_HAS(p_->host, sync_put)) return;
    for (const std::string& user : touched_) {
      std::string text;
      const bool member = state["members"].contains(user);
      if (member) {
        Json row = state["members"][user];
        row["challenge"] = id;
        text = engine::DumpJson(row);
      }
      SyncPut(p_->host, p_->ctx, user, "progress", id, member ? &text : nullptr,
              "challenge progress");
    }
  }

  // Writes the state and the events it produced, after everything was computed: a failure
  // before this point leaves the stored state as it was.
  void SaveState(const std::string& id, const Json& state) {
    for (const std::string& user : touched_) {
      if (state["members"].contains(user)) {
        Put(nullptr, "s/" + id + "/" + user, engine::DumpJson(state["members"][user]));
      } else {
        Del(nullptr, "s/" + id + "/" + user);
      }
    }
    PublishProgress(id, state);
    touched_.clear();
    const std::string teams =
        engine::DumpJson(Json{{"teams", state["teams"]}, {"seq", state["seq"]}});
    Put(nullptr, "t/" + id, teams);
    {
      std::lock_guard lock(p_->cache_mu);
      auto it = p_->states.find(id);
      if (it != p_->states.end()) {
        ++it->second->version;
        it->second->stored = teams;
      }
    }
    for (const PendingEvent& e : pending_) Put(nullptr, e.key, e.json);
    // Published after they are stored, under the plugin's lock: streams get them in order,
    // and a client that reconnects finds them in the backlog.
    if (STRIDE_HOST_HAS(p_->host, publish)) {
      for (const PendingEvent& e : pending_) {
        p_->host->publish(p_->ctx, ("challenge/" + e.challenge).c_str(), e.type.c_str(), e.seq,
                          e.json.data(), e.json.size());
      }
    }
    pending_.clear();
  }

  // The state computed from scratch: every member's runs, no events. (The property test
  // compares it with the incremental state.)
  Json Recompute(const Challenge& c) {
    Json state = {{"members", Json::object()}, {"teams", Json::object()}};
    for (const Membership& m : Members(c.id)) {
      const MemberStats s = Stats(c, m);
      state["members"][m.user] = {
          {"team", m.team}, {"distance_m", s.distance_m}, {"completed", s.completed}};
      Json& t = state["teams"][m.team];
      if (!t.is_object()) t = Json::object();
      t["distance_m"] = t.value("distance_m", 0.0) + s.distance_m;
      t["members"] = t.value("members", 0) + 1;
    }
    if (c.kind == "route") {
      for (auto& [name, t] : state["teams"].items()) {
        int reached = 0;
        while (reached < static_cast<int>(c.milestones.size()) &&
               c.milestones[static_cast<size_t>(reached)].distance_m <=
                   t.value("distance_m", 0.0) + 1e-6) {
          ++reached;
        }
        t["reached"] = reached;
      }
    }
    return state;
  }

  // Every challenge the user is in (from the global index, which survives the user's keys).
  std::vector<std::string> ChallengesOf(const std::string& user) {
    std::vector<std::string> ids;
    const std::string prefix = "u/" + user + "/";
    for (const auto& [k, v] : Scan(nullptr, prefix)) ids.push_back(k.substr(prefix.size()));
    return ids;
  }

  void RefreshUser(const std::string& user) {
    for (const std::string& id : ChallengesOf(user)) {
      std::shared_ptr<const Challenge> c = LoadChallenge(id);
      if (!c) continue;
      StateWriter w = Write(id);
      Refresh(*c, &w.state, user, LoadMember(id, user));
      SaveState(id, w.state);
    }
  }

  // --- events ---
  void OnEvent(const Json& e) {
    const std::string type = e.value("type", "");
    const std::string user = e.value("user", "");
    if (user.empty()) return;
    std::lock_guard lock(p_->mu);
    if (type == "run.stored" && e.contains("run") && e["run"].is_object()) {
      const Json& run = e["run"];
      const double start = ParseIsoUtc(run.value("start_time", ""));
      if (std::isnan(start)) return;  // a run without times counts on no day
      const double elapsed = run.contains("elapsed_time_s") && run["elapsed_time_s"].is_number()
                                 ? run["elapsed_time_s"].get<double>()
                                 : 0.0;
      Json rec = {{"start_s", start},
                  {"end_s", start + elapsed},
                  {"distance_m", run.value("distance_m", 0.0)},
                  {"sport", run.value("sport", "")}};
      Put(user.c_str(), "r/" + e.value("run_id", ""), engine::DumpJson(rec));
      RefreshUser(user);
    } else if (type == "run.deleted") {
      Del(user.c_str(), "r/" + e.value("run_id", ""));
      RefreshUser(user);
    } else if (type == "user.deleted") {
      // The host has deleted the user's own keys; their memberships are shared state.
      for (const std::string& id : ChallengesOf(user)) {
        std::shared_ptr<const Challenge> c = LoadChallenge(id);
        Del(nullptr, "m/" + id + "/" + user);
        Del(nullptr, "u/" + user + "/" + id);
        if (!c) continue;
        StateWriter w = Write(id);
        Refresh(*c, &w.state, user, std::nullopt);
        Event(id, &w.state, {{"type", "member.left"}, {"user", user}});
        SaveState(id, w.state);
      }
    }
  }

  // --- HTTP ---
  static constexpr size_t kMaxEventsPerAnswer = 500;

  // The last event the client has: the Last-Event-ID header of a reconnecting EventSource, or
  // ?after=N. 0 = from the start.
  static long long EventsAfter(const Json& req) {
    std::string text;
    if (req.contains("headers") && req["headers"].contains("last-event-id")) {
      text = req["headers"]["last-event-id"].get<std::string>();
    } else if (req["query"].contains("after")) {
      text = req["query"]["after"].get<std::string>();
    }
    if (text.empty()) return 0;
    const Result<int64_t> v = engine::ParseWholeNumber("after / Last-Event-ID", text, 0, INT64_MAX);
    if (!v.ok()) throw ApiError{400, "invalid_argument", v.status().message()};
    return *v;
  }

  // A cursor past the challenge's last event comes from a history this server no longer has
  // (the database was restored from an older backup, or the client mixed up challenges): the
  // events numbered after it will be new ones, so waiting for them would hide every event up
  // to that number. Such a client gets the feed again from the start, told so (`reset`).
  long long LastSeq(const std::string& id) {
    const StateReader r = Read(id);
    return r.state.value("seq", 0LL);
  }

  // (seq, JSON) of the challenge's events after `after`, oldest first, at most `limit`.
  std::vector<std::pair<long long, std::string>> EventsSince(const std::string& id, long long after,
                                                             size_t limit) {
    std::vector<std::pair<long long, std::string>> out;
    char from[32];
    std::snprintf(from, sizeof from, "%012lld", after + 1);
    for (auto& [k, v] : Scan(nullptr, "e/" + id + "/")) {
      if (k.substr(k.size() - 12) < from) continue;
      out.emplace_back(std::atoll(k.c_str() + k.size() - 12), std::move(v));
      if (out.size() >= limit) break;
    }
    return out;
  }

  static bool WantsStream(const Json& req) {
    if (!req.contains("headers")) return false;
    return req["headers"].value("accept", "").find("text/event-stream") != std::string::npos;
  }

  // GET /{id}/events with Accept: text/event-stream: Server-Sent Events, the backlog after the
  // client's last event first, then every event as it happens.
  void StreamEvents(stride_call_t* call, const Json& req) {
    const std::string id = req["params"].value("id", "");
    MustChallenge(id);
    long long after = EventsAfter(req);
    const long long known = LastSeq(id);
    // Subscribe first, then read the backlog: the host skips what both hold.
    if (p_->host->respond_stream(call, ("challenge/" + id).c_str()) != STRIDE_OK) {
      throw std::runtime_error("respond_stream failed");
    }
    if (after > known) {  // see LastSeq: an event without an id, then the feed from the start
      const std::string reset =
          engine::DumpJson(Json{{"type", "reset"}, {"after", after}, {"last_seq", known}});
      p_->host->stream_event(call, "reset", 0, reset.data(), reset.size());
      after = 0;
    }
    for (const auto& [seq, text] : EventsSince(id, after, 10000)) {
      const Json e = Json::parse(text);
      p_->host->stream_event(call, e.value("type", "").c_str(), static_cast<uint64_t>(seq),
                             text.data(), text.size());
    }
  }

  Json Handle(int route, const Json& req, int* status) {
    const std::string user = req.contains("user") && req["user"].is_string() ? req["user"] : "";
    const Json& params = req["params"];
    auto body = [&]() {
      const std::string text = req.value("body", "");
      const Json j = Json::parse(text.empty() ? "{}" : text, nullptr, false);
      if (j.is_discarded() || !j.is_object()) {
        throw ApiError{400, "invalid_argument", "body: expected a JSON object"};
      }
      return j;
    };
    *status = 200;
    switch (route) {
      case kCreate: {
        std::lock_guard lock(p_->mu);
        Challenge c = Create(body(), user);
        *status = 201;
        return c.ToJson(false);
      }
      case kMine: {
        Json list = Json::array();
        for (const auto& [k, v] : Scan(user.c_str(), "j/")) {
          std::shared_ptr<const Challenge> c = LoadChallenge(k.substr(2));
          if (!c) continue;
          Json item = c->ToJson(false);
          item["membership"] = Json::parse(v);
          const StateReader r = Read(c->id);
          if (r.state["members"].contains(user)) item["me"] = r.state["members"][user];
          list.push_back(item);
        }
        return {{"challenges", list}};
      }
      case kGet:
        return Get(params.value("id", ""), user);
      case kJoin: {
        std::lock_guard lock(p_->mu);
        return Join(params.value("id", ""), user, body(), status);
      }
      case kLeave: {
        std::lock_guard lock(p_->mu);
        const std::string id = params.value("id", "");
        const std::shared_ptr<const Challenge> held = MustChallenge(id);
        const Challenge& c = *held;
        if (!LoadMember(id, user)) throw ApiError{404, "not_found", "you are not in " + id};
        StateWriter w = Write(id);
        Refresh(c, &w.state, user, std::nullopt);
        Event(id, &w.state, {{"type", "member.left"}, {"user", user}});
        Del(nullptr, "m/" + id + "/" + user);
        Del(nullptr, "u/" + user + "/" + id);
        Del(user.c_str(), "j/" + id);
        SaveState(id, w.state);
        return {{"left", id}};
      }
      case kEvents: {
        const std::string id = params.value("id", "");
        MustChallenge(id);
        Json events = Json::array();
        long long last = EventsAfter(req);
        const bool reset = last > LastSeq(id);  // see LastSeq
        if (reset) last = 0;
        for (auto& [seq, text] : EventsSince(id, last, kMaxEventsPerAnswer)) {
          last = seq;
          events.push_back(Json::parse(text));
        }
        Json out = {{"events", events}, {"last_seq", last}};
        if (reset) out["reset"] = true;
        return out;
      }
      case kRecompute: {
        std::lock_guard lock(p_->mu);
        const std::shared_ptr<const Challenge> held = MustChallenge(params.value("id", ""));
        const Challenge& c = *held;
        Json incremental = Strip(Read(c.id).state);
        return {{"incremental", std::move(incremental)},
                {"stored", Strip(LoadState(c.id))},
                {"recomputed", Recompute(c)}};
      }
      default:
        throw ApiError{404, "not_found", "no such route"};
    }
  }

  static Json Strip(Json state) {
    state.erase("seq");
    return state;
  }

  Challenge Create(const Json& b, const std::string& owner) {
    Challenge c;
    c.id = Hex16();
    c.owner = owner;
    c.created_s = Now();
    c.name = BodyText(b, "name", "");
    if (c.name.empty() || c.name.size() > 200) {
      throw ApiError{400, "invalid_argument", "name: 1 to 200 characters required"};
    }
    c.kind = BodyText(b, "kind", "");
    c.time_zone = BodyText(b, "time_zone", "UTC");
    if (!engine::TimeZone::Load(c.time_zone).ok()) {
      throw ApiError{400, "invalid_argument", "time_zone: unknown '" + c.time_zone + "'"};
    }
    if (c.kind == "daily") {
      OnlyFields(b, {"name", "kind", "time_zone", "sports", "days", "min_distance_m"},
                 "a daily challenge");
    } else if (c.kind == "weekly") {
      OnlyFields(b, {"name", "kind", "time_zone", "sports", "weeks", "runs_per_week"},
                 "a weekly challenge");
    } else if (c.kind == "route") {
      OnlyFields(b,
                 {"name", "kind", "time_zone", "sports", "route_id", "waypoints", "goal_m",
                  "milestone_every_m", "milestones", "start_date", "end_date"},
                 "a route challenge");
    }
    if (b.contains("sports")) {
      const char* const expected =
          "sports: expected a list of one or more of run, walk, hike, ride";
      if (!b["sports"].is_array() || b["sports"].empty()) {
        throw ApiError{400, "invalid_argument", expected};
      }
      for (const Json& s : b["sports"]) {
        if (!s.is_string() || (s != "run" && s != "walk" && s != "hike" && s != "ride")) {
          throw ApiError{400, "invalid_argument", expected};
        }
        c.sports.push_back(s);
      }
    } else {
      c.sports = {"run", "walk", "hike"};
    }
    auto integer = [&](const char* key, int def, int lo, int hi) {
      const Json v = b.value(key, Json(def));
      if (!v.is_number_integer() || v.get<int>() < lo || v.get<int>() > hi) {
        throw ApiError{
            400, "invalid_argument",
            std::string(key) + ": expected " + std::to_string(lo) + " to " + std::to_string(hi)};
      }
      return v.get<int>();
    };
    auto number = [&](const char* key, double def, double lo, double hi) {
      const Json v = b.value(key, Json(def));
      if (!v.is_number() || v.get<double>() < lo || v.get<double>() > hi) {
        throw ApiError{400, "invalid_argument",
                       std::string(key) + ": expected a number from " +
                           std::to_string(static_cast<long long>(lo)) + " to " +
                           std::to_string(static_cast<long long>(hi))};
      }
      return v.get<double>();
    };
    if (c.kind == "daily") {
      c.days = integer("days", 30, 1, 366);
      c.min_distance_m = number("min_distance_m", 2000, 1, 1e6);
    } else if (c.kind == "weekly") {
      c.weeks = integer("weeks", 4, 1, 52);
      c.runs_per_week = integer("runs_per_week", 3, 1, 21);
    } else if (c.kind == "route") {
      ResolveLine(b, &c);
      c.Cumulate();
      const double length = c.cum.back();
      if (length < 1) throw ApiError{400, "invalid_argument", "the route has no length"};
      c.goal_m = number("goal_m", length, 1, 1e9);
      const double every = number("milestone_every_m", 0, 0, 1e9);
      if (every > 0) {
        if (c.goal_m / every > 1000) {
          throw ApiError{400, "invalid_argument", "milestone_every_m: more than 1,000 milestones"};
        }
        for (double d = every; d < c.goal_m - 1e-6; d += every) {
          char name[32];
          std::snprintf(name, sizeof name, "%g km", d / 1000);
          c.milestones.push_back({d, name});
        }
      }
      const Json milestones = b.value("milestones", Json::array());
      if (!milestones.is_array()) {
        throw ApiError{400, "invalid_argument", "milestones: expected a list"};
      }
      for (const Json& m : milestones) {
        if (!m.is_object()) {
          throw ApiError{400, "invalid_argument",
                         "milestones: expected {\"name\": ..., \"distance_m\": ...} or "
                         "{\"name\": ..., \"lat\": ..., \"lon\": ...}"};
        }
        const std::string name = BodyText(m, "name", "");
        if (name.empty()) throw ApiError{400, "invalid_argument", "milestones: each needs a name"};
        double d = 0;
        if (m.contains("distance_m") && m["distance_m"].is_number()) {
          d = m["distance_m"];
        } else if (m.contains("lat") && m.contains("lon") && m["lat"].is_number() &&
                   m["lon"].is_number()) {
          d = Project(c, m["lon"], m["lat"]);
        } else {
          throw ApiError{400, "invalid_argument",
                         "milestones: '" + name + "' needs distance_m or lat and lon"};
        }
        if (d <= 0 || d > c.goal_m) {
          throw ApiError{400, "invalid_argument", "milestones: '" + name + "' is not on the way"};
        }
        c.milestones.push_back({d, name});
      }
      c.milestones.push_back({c.goal_m, "finish"});
      std::stable_sort(
          c.milestones.begin(), c.milestones.end(),
          [](const Milestone& a, const Milestone& x) { return a.distance_m < x.distance_m; });
      int64_t d = 0;
      if (b.contains("start_date")) {
        if (!b["start_date"].is_string() ||
            !engine::ParseDate(b["start_date"].get<std::string>(), &d))
          throw ApiError{400, "invalid_argument", "start_date: expected YYYY-MM-DD"};
        c.start_day = d;
      }
      if (b.contains("end_date")) {
        if (!b["end_date"].is_string() || !engine::ParseDate(b["end_date"].get<std::string>(), &d))
          throw ApiError{400, "invalid_argument", "end_date: expected YYYY-MM-DD"};
        c.end_day = d;
      }
      if (c.end_day < c.start_day) {
        throw ApiError{400, "invalid_argument", "end_date: before start_date"};
      }
    } else {
      throw ApiError{400, "invalid_argument", "kind: expected daily, weekly or route"};
    }
    Put(nullptr, "c/" + c.id, engine::DumpJson(c.ToJson(true)));
    Put(nullptr, "t/" + c.id, engine::DumpJson(Json{{"teams", Json::object()}, {"seq", 0}}));
    return c;
  }

  void ResolveLine(const Json& b, Challenge* c) {
    if (b.contains("route_id")) {
      if (!b["route_id"].is_string()) throw ApiError{400, "invalid_argument", "route_id: a string"};
      c->route_id = b["route_id"];
      const Json req = {{"op", "route"}, {"id", c->route_id}};
      std::string out;
      stride_sink_t sink = HostStore::Sink(&out);
      const std::string text = engine::DumpJson(req);
      const int rc = p_->host->route_query(p_->ctx, text.c_str(), &sink);
      if (rc == STRIDE_E_NOT_FOUND || rc == STRIDE_E_INVALID) {
        throw ApiError{400, "invalid_argument",
                       "route_id: " + std::string(p_->host->last_error(p_->ctx))};
      }
      kv_.Check(rc);
      const Json r = Json::parse(out);
      c->line = r.value("line", std::vector<std::array<double, 2>>());
      c->profile = r.value("profile", std::vector<std::array<double, 2>>());
      if (c->name.empty()) c->name = r.value("name", "");
    } else if (b.contains("waypoints") && b["waypoints"].is_array()) {
      for (const Json& p : b["waypoints"]) {
        if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_number() ||
            std::fabs(p[0].get<double>()) > 180 || std::fabs(p[1].get<double>()) > 90) {
          throw ApiError{400, "invalid_argument",
                         "waypoints: expected [[lon, lat], ...] in degrees"};
        }
        c->line.push_back({p[0].get<double>(), p[1].get<double>()});
      }
    } else {
      throw ApiError{400, "invalid_argument", "a route challenge needs route_id or waypoints"};
    }
    if (c->line.size() < 2 || c->line.size() > 100000) {
      throw ApiError{400, "invalid_argument", "the line needs 2 to 100,000 points"};
    }
  }

  // The distance along the line of the point nearest (lon, lat), on a local plane per segment.
  static double Project(const Challenge& c, double lon, double lat) {
    double best = 1e300, at = 0;
    for (size_t i = 1; i < c.line.size(); ++i) {
      const double k = std::cos(lat * kPi / 180);
      const double ax = c.line[i - 1][0] * k, ay = c.line[i - 1][1];
      const double bx = c.line[i][0] * k, by = c.line[i][1];
      const double px = lon * k, py = lat;
      const double dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
      const double f =
          len2 > 0 ? std::clamp(((px - ax) * dx + (py - ay) * dy) / len2, 0.0, 1.0) : 0;
      const double ex = ax + f * dx - px, ey = ay + f * dy - py;
      const double d2 = ex * ex + ey * ey;
      if (d2 < best) {
        best = d2;
        at = c.cum[i - 1] + f * (c.cum[i] - c.cum[i - 1]);
      }
    }
    return at;
  }

  Json Join(const std::string& id, const std::string& user, const Json& b, int* status) {
    const std::shared_ptr<const Challenge> held = MustChallenge(id);
    const Challenge& c = *held;
    if (LoadMember(id, user)) throw ApiError{409, "already_exists", "you are already in " + id};
    OnlyFields(b, {"team", "time_zone", "start_date"}, "joining");
    Membership m;
    m.user = user;
    m.team = BodyText(b, "team", "all");
    if (m.team.empty() || m.team.size() > 64) {
      throw ApiError{400, "invalid_argument", "team: 1 to 64 characters"};
    }
    m.time_zone = BodyText(b, "time_zone", c.time_zone);
    Result<engine::TimeZone> tz = engine::TimeZone::Load(m.time_zone);
    if (!tz.ok())
      throw ApiError{400, "invalid_argument", "time_zone: unknown '" + m.time_zone + "'"};
    m.start_day = tz->LocalDay(Now());
    if (b.contains("start_date")) {
      if (!b["start_date"].is_string() ||
          !engine::ParseDate(b["start_date"].get<std::string>(), &m.start_day)) {
        throw ApiError{400, "invalid_argument", "start_date: expected YYYY-MM-DD"};
      }
    }
    m.joined_s = Now();
    const Json mj = {{"team", m.team},
                     {"time_zone", m.time_zone},
                     {"start_day", m.start_day},
                     {"start_date", engine::FormatDate(m.start_day)},
                     {"joined_s", m.joined_s}};
    StateWriter w = Write(id);
    Event(id, &w.state, {{"type", "member.joined"}, {"user", user}, {"team", m.team}});
    Refresh(c, &w.state, user, m);
    Put(nullptr, "m/" + id + "/" + user, engine::DumpJson(mj));
    Put(nullptr, "u/" + user + "/" + id, "1");
    Put(user.c_str(), "j/" + id, engine::DumpJson(mj));
    SaveState(id, w.state);
    *status = 201;
    return {{"challenge", id}, {"membership", mj}, {"me", w.state["members"][user]}};
  }

  Json Get(const std::string& id, const std::string& user) {
    const std::shared_ptr<const Challenge> held = MustChallenge(id);
    const Challenge& c = *held;
    const StateReader reader = Read(id);
    const Json& state = reader.state;
    Json j = c.ToJson(false);
    Json teams = Json::array();
    for (const auto& [name, t] : state["teams"].items()) {
      Json row = {{"team", name},
                  {"distance_m", engine::RoundTo(t.value("distance_m", 0.0), 0.1)},
                  {"members", t.value("members", 0)}};
      if (c.kind == "route") {
        const double d = t.value("distance_m", 0.0);
        row["position"] = c.Along(std::min(d, c.goal_m));
        row["milestones_reached"] = t.value("reached", 0);
        row["finished"] = d >= c.goal_m;
        const int k = t.value("reached", 0);
        row["next_milestone"] =
            k < static_cast<int>(c.milestones.size())
                ? Json({{"name", c.milestones[static_cast<size_t>(k)].name},
                        {"distance_m", c.milestones[static_cast<size_t>(k)].distance_m}})
                : Json(nullptr);
      }
      teams.push_back(std::move(row));
    }
    j["teams"] = teams;
    j["members"] = state["members"].size();
    if (std::optional<Membership> m = LoadMember(id, user)) {
      const MemberStats s = Stats(c, *m);
      Json me = {{"team", m->team},
                 {"distance_m", engine::RoundTo(s.distance_m, 0.1)},
                 {"start_date", engine::FormatDate(m->start_day)}};
      if (c.kind != "route") {
        me["completed"] = s.completed;
        me[c.kind == "daily" ? "days" : "weeks"] = s.detail;
        me["complete"] = s.completed == (c.kind == "daily" ? c.days : c.weeks);
        if (c.kind == "daily") {
          // The streak of completed days that ends today or yesterday (today may be running).
          Result<engine::TimeZone> tz = engine::TimeZone::Load(m->time_zone);
          const int64_t today = (tz.ok() ? *tz : engine::TimeZone::Utc()).LocalDay(Now());
          int64_t k = today - m->start_day;
          if (k >= c.days) k = c.days - 1;
          auto done = [&](int64_t i) {
            return i >= 0 && i < c.days &&
                   !s.detail[static_cast<size_t>(i)]["completed_at"].is_null();
          };
          if (!done(k)) --k;
          int streak = 0;
          while (done(k)) ++streak, --k;
          me["streak"] = streak;
        }
      }
      j["me"] = me;
    } else {
      j["me"] = nullptr;
    }
    return j;
  }

  // The leaderboard's JSON text.
  std::string Leaderboard(const std::string& id, const Json& query) {
    const std::shared_ptr<const Challenge> held = MustChallenge(id);
    const Challenge& c = *held;
    const auto limit = static_cast<size_t>(WholeQuery(query, "limit", 100, 1, 1000));
    const std::string only_team = query.value("team", "");
    const StateReader reader = Read(id);
    CachedState* cached = reader.cs.get();
    using Row = CachedState::Row;
    const bool by_days = c.kind != "route";
    std::shared_ptr<const CachedState::Ranking> ranking;
    {
      std::lock_guard lock(cached->ranking_mu);
      const uint64_t version = cached->version;
      if (!cached->ranking || cached->ranking->version != version) {
        auto built = std::make_shared<CachedState::Ranking>();
        built->version = version;
        built->members.reserve(reader.state["members"].size());
        for (const auto& [u, m] : reader.state["members"].items()) {
          built->members.push_back(
              {u, m.value("team", ""), m.value("distance_m", 0.0), m.value("completed", 0)});
        }
        for (const auto& [name, t] : reader.state["teams"].items()) {
          built->teams.push_back({name, name, t.value("distance_m", 0.0), 0});
        }
        auto better = [by_days](const Row& a, const Row& b) {
          if (by_days && a.completed != b.completed) return a.completed > b.completed;
          if (a.distance_m != b.distance_m) return a.distance_m > b.distance_m;
          return a.name < b.name;
        };
        std::sort(built->members.begin(), built->members.end(), better);
        std::sort(built->teams.begin(), built->teams.end(), better);
        cached->ranking = std::move(built);
      }
      ranking = cached->ranking;
    }
    size_t total = 0;
    // Rows are written as text: a page of 100 rows is most of the answer's cost.
    auto ranked = [&](const std::vector<Row>& rows, bool member_rows) {
      std::string out = "[";
      int rank = 0;
      const Row* prev = nullptr;
      for (size_t i = 0; i < rows.size(); ++i) {
        if (member_rows && !only_team.empty() && rows[i].team != only_team) continue;
        const size_t n = member_rows ? total++ : i;
        if (n >= limit) {
          if (!member_rows || only_team.empty()) break;
          continue;  // counting the team's members
        }
        // Standard competition ranking: ties share a rank, the next rank skips (1, 2, 2, 4).
        const bool tie = prev && rows[i].distance_m == prev->distance_m &&
                         (!by_days || !member_rows || rows[i].completed == prev->completed);
        if (!tie) rank = static_cast<int>(n) + 1;
        prev = &rows[i];
        if (out.size() > 1) out += ',';
        out += "{\"rank\":" + std::to_string(rank) + ",\"distance_m\":" +
               engine::DumpJson(Json(engine::RoundTo(rows[i].distance_m, 0.1)));
        if (member_rows) {
          out += ",\"user\":" + engine::DumpJson(Json(rows[i].name));
          out += ",\"team\":" + engine::DumpJson(Json(rows[i].team));
          if (by_days) out += ",\"completed\":" + std::to_string(rows[i].completed);
        } else {
          out += ",\"team\":" + engine::DumpJson(Json(rows[i].name));
        }
        out += '}';
      }
      return out + "]";
    };
    const std::string member_rows = ranked(ranking->members, true);
    if (only_team.empty()) total = ranking->members.size();
    return "{\"challenge\":" + engine::DumpJson(Json(id)) + ",\"members\":" + member_rows +
           ",\"teams\":" + ranked(ranking->teams, false) +
           ",\"total_members\":" + std::to_string(total) + "}";
  }

 private:
  State* p_;
  HostStore kv_;
  struct PendingEvent {
    std::string key, json, challenge, type;
    uint64_t seq = 0;
  };
  std::vector<PendingEvent> pending_;  // events not yet written
  std::set<std::string> touched_;      // members whose row changed, not yet written
};

// After a failure that may have come between a change in memory and its SaveState: the
// states in memory are dropped, to be loaded again from what was stored.
void ForgetStates(State* self) {
  std::lock_guard lock(self->cache_mu);
  self->states.clear();
}

int HandleC(State* self, stride_call_t* call, const char* request, size_t size) {
  // A 5xx or an exception may come from a write left half-done: the cached states go, and
  // are read again from the store. (4xx answers come from checks made before anything changes.)
  const auto forget = [self] { ForgetStates(self); };
  return HandleCall(
      self->host, self->ctx, call,
      [&] {
        const Json req = Json::parse(std::string_view(request, size));
        int status = 200;
        Plugin plugin(self);
        const int route = req.value("route_id", 0);
        if (route == kEvents && Plugin::WantsStream(req) && STRIDE_HOST_HAS(self->host, publish)) {
          plugin.StreamEvents(call, req);
          return;
        }
        if (route == kLeaderboard) {
          const std::string text = plugin.Leaderboard(req["params"].value("id", ""), req["query"]);
          self->host->respond(call, 200, "application/json", text.data(), text.size());
          return;
        }
        const Json out = plugin.Handle(route, req, &status);
        RespondJson(self->host, call, status, out);
      },
      forget);
}

int OnEventC(State* self, const char* event, size_t size) {
  return HandleEvent(
      self->host, self->ctx,
      [&] { Plugin(self).OnEvent(Json::parse(std::string_view(event, size))); },
      [self] { ForgetStates(self); });
}

void ShutdownC(State* self) {
  delete self;
}

const stride_plugin_api_t kApi = PluginApi<State, ShutdownC, HandleC, OnEventC>();
const stride_plugin_info_t kInfo = {sizeof(stride_plugin_info_t), STRIDE_PLUGIN_ABI_VERSION,
                                    "challenges", "1.0.0"};

}  // namespace

const stride_plugin_info_t* Info() {
  return &kInfo;
}

int InitV1(const stride_host_api_t* host, stride_host_t* ctx, stride_plugin_t** self,
           const stride_plugin_api_t** api) {
  // Event streams need the functions appended after v1's first release; without them the
  // events are still there to poll.
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
  constexpr const char* kChallenge =
      R"j({"type": "object", "required": ["id", "name", "kind", "owner", "time_zone"],
          "properties": {"id": {"type": "string"}, "name": {"type": "string"},
            "kind": {"type": "string", "enum": ["route", "daily", "weekly"]},
            "owner": {"type": "string"}, "goal_m": {"type": ["number", "null"]},
            "length_m": {"type": "number"}, "route_id": {"type": ["string", "null"]},
            "time_zone": {"type": "string"}, "start_date": {"type": ["string", "null"]},
            "end_date": {"type": ["string", "null"]}, "created_at": {"type": "string"},
            "sports": {"type": "array", "items": {"type": "string"}},
            "milestones": {"type": "array", "items": {"type": "object",
              "required": ["name", "distance_m"], "properties": {"name": {"type": "string"},
                "distance_m": {"type": "number"}}}},
            "members": {"type": "integer"}, "teams": {"type": "array"},
            "me": {"type": ["object", "null"]}}})j";
  const std::string create =
      std::string(
          R"j({"summary": "Create a challenge: along a route (or waypoints), or a daily or weekly distance goal",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {
          "type": "object", "required": ["name", "kind"], "additionalProperties": false,
          "description": "route: route_id or waypoints, goal_m, milestone_every_m, milestones, start_date, end_date; daily: days, min_distance_m; weekly: weeks, runs_per_week. A field of another kind is a 400.",
          "properties": {
            "name": {"type": "string", "maxLength": 200},
            "kind": {"type": "string", "enum": ["route", "daily", "weekly"]},
            "route_id": {"type": "string"}, "waypoints": {"type": "array"},
            "goal_m": {"type": "number"}, "milestone_every_m": {"type": "number"},
            "milestones": {"type": "array"},
            "sports": {"type": "array", "minItems": 1,
                       "items": {"type": "string", "enum": ["run", "walk", "hike", "ride"]}},
            "time_zone": {"type": "string"}, "start_date": {"type": "string"},
            "end_date": {"type": "string"},
            "days": {"type": "integer", "minimum": 1, "maximum": 366},
            "min_distance_m": {"type": "number", "minimum": 1},
            "weeks": {"type": "integer", "minimum": 1, "maximum": 52},
            "runs_per_week": {"type": "integer", "minimum": 1, "maximum": 21}}}}}},
        "responses": {"201": {"description": "created", "content": {"application/json": {"schema": )j") +
      kChallenge + "}}}}}";
  const std::string get =
      std::string(R"j({"summary": "A challenge with each team's position on the way",
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": )j") +
      kChallenge + "}}}}}";
  const std::string mine = std::string(R"j({"summary": "The challenges the caller is in",
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {
          "type": "object", "required": ["challenges"], "properties": {
            "challenges": {"type": "array", "items": )j") +
                           kChallenge + "}}}}}}}}";
  const struct {
    const char* method;
    const char* pattern;
    const char* scope;
    int id;
    std::string doc;
  } routes[] = {
      {"POST", "", "runner:write", kCreate, create},
      {"GET", "/mine", "runner:read", kMine, mine},
      {"GET", "/{id}", "runner:read", kGet, get},
      {"POST", "/{id}/join", "runner:write", kJoin,
       R"j({"summary": "Join a challenge (optionally in a team, from a start date)",
        "requestBody": {"content": {"application/json": {"schema": {"type": "object",
          "additionalProperties": false, "properties": {
          "team": {"type": "string", "maxLength": 64}, "time_zone": {"type": "string"},
          "start_date": {"type": "string"}}}}}},
        "responses": {"201": {"description": "joined", "content": {"application/json": {"schema": {"type": "object"}}}},
          "409": "error: already in it"}})j"},
      {"POST", "/{id}/leave", "runner:write", kLeave,
       R"j({"summary": "Leave a challenge",
        "responses": {"200": {"description": "left", "content": {"application/json": {"schema": {
          "type": "object", "required": ["left"], "properties": {"left": {"type": "string"}}}}}}}})j"},
      {"GET", "/{id}/leaderboard", "runner:read", kLeaderboard,
       R"j({"summary": "Members and teams ranked by distance",
        "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
          {"name": "team", "in": "query", "schema": {"type": "string"}, "description": "only this team's members"}],
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {
          "type": "object", "required": ["challenge", "members", "teams", "total_members"],
          "properties": {"challenge": {"type": "string"}, "total_members": {"type": "integer"},
            "members": {"type": "array", "items": {"type": "object",
              "required": ["rank", "user", "distance_m"], "properties": {
                "rank": {"type": "integer"}, "user": {"type": "string"},
                "distance_m": {"type": "number"}, "team": {"type": "string"}}}},
            "teams": {"type": "array"}}}}}}}})j"},
      {"GET", "/{id}/events", "runner:read", kEvents,
       R"j({"summary": "What happened in a challenge (milestones, finishes, joins): a page, or a live stream",
        "description": "With Accept: text/event-stream, a Server-Sent Events stream that resumes after Last-Event-ID. A cursor past the last event (a database restored from an older backup) gets the events from the start: with `reset: true` in a page, after a `reset` event in a stream.",
        "parameters": [{"name": "after", "in": "query", "schema": {"type": "integer", "minimum": 0}},
          {"name": "Last-Event-ID", "in": "header", "schema": {"type": "string"}}],
        "responses": {"200": {"description": "the events after `after`", "content": {
          "application/json": {"schema": {"type": "object", "required": ["events", "last_seq"],
            "properties": {"events": {"type": "array", "items": {"type": "object"}},
              "last_seq": {"type": "integer"},
              "reset": {"type": "boolean", "description": "the cursor was past the last event: these are from the start"}}}},
          "text/event-stream": {"schema": {"type": "string"}}}}}})j"},
      {"GET", "/{id}/recompute", "admin", kRecompute,
       R"j({"summary": "Recompute a challenge's standings from the runs, beside the incremental ones (a check)",
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {
          "type": "object", "required": ["incremental", "stored", "recomputed"], "properties": {
            "incremental": {"type": "object"}, "stored": {"type": "object"},
            "recomputed": {"type": "object"}}}}}}}})j"},
  };
  for (const auto& r : routes) {
    if (host->route_add(ctx, r.method, r.pattern, r.scope, r.id) != STRIDE_OK ||
        (STRIDE_HOST_HAS(host, route_doc) &&
         host->route_doc(ctx, r.id, r.doc.c_str()) != STRIDE_OK)) {
      delete p;
      return STRIDE_E_INTERNAL;
    }
  }
  if (host->subscribe(ctx, "run.stored,run.deleted,user.deleted", 0) != STRIDE_OK) {
    delete p;
    return STRIDE_E_INTERNAL;
  }
  *self = HandleOf(p);
  *api = &kApi;
  return STRIDE_OK;
}

}  // namespace stride::plugins::challenges

#ifdef STRIDE_PLUGIN_SHARED
extern "C" __attribute__((visibility("default"))) const stride_plugin_info_t* stride_plugin_info(
    void) {
  return stride::plugins::challenges::Info();
}
extern "C" __attribute__((visibility("default"))) int stride_plugin_init_v1(
    const stride_host_api_t* host, stride_host_t* ctx, stride_plugin_t** self,
    const stride_plugin_api_t** api) {
  return stride::plugins::challenges::InitV1(host, ctx, self, api);
}
#endif
