// SPDX-License-Identifier: Apache-2.0
//
// The challenges plugin through the real host and ABI, with in-memory services: a team moving
// along a line, days judged in the member's own time zone, late and deleted runs, ranking,
// and the property that the incremental state always equals a recomputation from the runs.
#include "plugins/challenges/challenges.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "engine/text/iso_time.hpp"
#include "plugins/host/plugin_host.hpp"

namespace stride::plugins {
namespace {

using Json = nlohmann::json;

double At(int y, unsigned m, unsigned d, int h, int mi = 0) {
  return static_cast<double>(engine::DaysFromCivil(y, m, d)) * 86400 + h * 3600 + mi * 60;
}

class Challenges : public ::testing::Test {
 protected:
  void SetUp() override {
    PluginServices s;
    s.kv = [this](const std::string&) -> Result<engine::KeyValue*> { return &kv_; };
    s.runs_list = [](const std::string&, const std::string&) -> Result<std::string> {
      return std::string("{\"runs\":[]}");
    };
    s.run_get = [this](const std::string&, const std::string& id, bool) -> Result<std::string> {
      auto it = runs_.find(id);
      if (it == runs_.end()) return Status::NotFound("no run " + id);
      return it->second;
    };
    s.route_query = [](const std::string& req) -> Result<std::string> {
      const Json r = Json::parse(req);
      if (r["id"] != "r42") return Status::NotFound("no route " + r["id"].get<std::string>());
      // 0.09 degrees of latitude north from 42.5, 1.5: ~10 km, climbing 1 m per 10 m.
      return Json{{"name", "Test ridge"},
                  {"line", {{1.5, 42.5}, {1.5, 42.545}, {1.5, 42.59}}},
                  {"profile", {{0, 1000}, {5003.8, 1500}, {10007.5, 2000}}}}
          .dump();
    };
    s.clock = &clock_;
    host_ = std::make_unique<PluginHost>(
        PluginHostOptions{}, s, std::vector<BundledPlugin>{{challenges::Info, challenges::InitV1}});
    ASSERT_TRUE(host_->Start().ok());
  }

  using HeaderQuery = std::vector<std::pair<std::string, std::string>>;
  PluginResponse Call(const std::string& method, const std::string& path, const std::string& user,
                      const Json& body = nullptr, HeaderQuery query = {}) {
    bool known = false;
    std::string allowed;
    std::optional<PluginHost::Match> m = host_->Resolve(method, path, &known, &allowed);
    if (!m) return {known ? 405 : 404, "", "", nullptr};
    return host_->Call(
        *m,
        PluginRequest{method, path, query, user, body.is_null() ? std::string() : body.dump(), {}});
  }
  Json Ok(const PluginResponse& r, int status = 200) {
    EXPECT_EQ(r.status, status) << r.body;
    return Json::parse(r.body, nullptr, false);
  }
  std::string Create(const Json& body, const std::string& owner = "owner") {
    return Ok(Call("POST", "/v1/challenges", owner, body), 201)["id"];
  }

  // A run of `user` starting at `start` (UTC seconds), as the run store reports it.
  uint64_t Store(const std::string& user, double start, double distance_m,
                 const std::string& sport = "run", double elapsed_s = 1800) {
    const uint64_t id = ++next_run_;
    runs_[engine::RunIdText(id)] = Json{
        {"id", engine::RunIdText(id)},
        {"start_time", engine::FormatIsoTime(start)},
        {"elapsed_time_s", elapsed_s},
        {"distance_m", distance_m},
        {"sport", sport}}.dump();
    host_->OnRunEvent({engine::RunEvent::Kind::kStored, user, id});
    host_->Drain();
    return id;
  }
  void Delete(const std::string& user, uint64_t id) {
    runs_.erase(engine::RunIdText(id));
    host_->OnRunEvent({engine::RunEvent::Kind::kDeleted, user, id});
    host_->Drain();
  }

  engine::MemoryKeyValue kv_;
  std::map<std::string, std::string> runs_;
  uint64_t next_run_ = 0;
  engine::ManualClock clock_{At(2026, 12, 10, 12)};
  std::unique_ptr<PluginHost> host_;
};

TEST_F(Challenges, ATeamMovesAlongTheRouteAndMilestonesComeAndGoExactlyOnce) {
  const std::string id =
      Create({{"name", "Ridge relay"},
              {"kind", "route"},
              {"route_id", "r42"},
              {"milestone_every_m", 2500},
              {"milestones", {{{"name", "hut"}, {"lat", 42.545}, {"lon", 1.5001}}}}});
  const Json c = Ok(Call("GET", "/v1/challenges/" + id, "ann"));
  EXPECT_NEAR(c["length_m"].get<double>(), 10007.5, 1.0);  // haversine of 0.09 degrees
  ASSERT_EQ(c["milestones"].size(), 6u);  // 2.5, 5, the hut (projected: 5,003.8 m), 7.5, 10, finish
  EXPECT_EQ(c["milestones"][2]["name"], "hut");
  EXPECT_NEAR(c["milestones"][2]["distance_m"].get<double>(), 5003.8, 1.0);
  Ok(Call("POST", "/v1/challenges/" + id + "/join", "ann", {{"team", "red"}}), 201);
  Ok(Call("POST", "/v1/challenges/" + id + "/join", "bob", {{"team", "red"}}), 201);
  Ok(Call("POST", "/v1/challenges/" + id + "/join", "cat", {{"team", "blue"}}), 201);
  Store("ann", At(2026, 12, 1, 8), 3000);
  const uint64_t bob_run = Store("bob", At(2026, 12, 2, 8), 2500);
  Store("cat", At(2026, 12, 2, 9), 4000, "ride");  // not a counted sport
  Json g = Ok(Call("GET", "/v1/challenges/" + id, "ann"));
  Json red;
  for (const Json& t : g["teams"]) {
    if (t["team"] == "red") red = t;
  }
  EXPECT_DOUBLE_EQ(red["distance_m"].get<double>(), 5500);
  EXPECT_EQ(red["milestones_reached"], 3);  // 2.5 km, 5 km, hut
  // The position: 5.5 km north along the meridian, elevation from the profile.
  EXPECT_NEAR(red["position"]["lat"].get<double>(), 42.5 + 0.09 * 5500 / 10007.5, 1e-6);
  // The profile climbs 500 m over each 5,003.8 m: at 5,500 m, 1,549.6 m.
  EXPECT_NEAR(red["position"]["elevation_m"].get<double>(),
              1500 + 500 * (5500 - 5003.8) / (10007.5 - 5003.8), 0.1);
  EXPECT_EQ(red["next_milestone"]["name"], "7.5 km");
  // Bob deletes his run: the team falls back under the hut and 5 km.
  Delete("bob", bob_run);
  g = Ok(Call("GET", "/v1/challenges/" + id, "ann"));
  for (const Json& t : g["teams"]) {
    if (t["team"] == "red") red = t;
  }
  EXPECT_DOUBLE_EQ(red["distance_m"].get<double>(), 3000);
  EXPECT_EQ(red["milestones_reached"], 1);
  const Json ev = Ok(Call("GET", "/v1/challenges/" + id + "/events", "ann"));
  std::vector<std::string> seen;
  for (const Json& e : ev["events"]) {
    if (e["team"] == "red" && e["type"].get<std::string>().rfind("milestone.", 0) == 0) {
      seen.push_back(e["type"].get<std::string>().substr(10) + " " +
                     e["milestone"].get<std::string>());
    }
  }
  const std::vector<std::string> want = {"reached 2.5 km", "reached 5 km", "reached hut",
                                         "withdrawn hut", "withdrawn 5 km"};
  EXPECT_EQ(seen, want);
  // Paging the event log.
  const long long last = ev["last_seq"];
  const Json later = Ok(Call("GET", "/v1/challenges/" + id + "/events", "ann", nullptr,
                             {{"after", std::to_string(last - 1)}}));
  ASSERT_EQ(later["events"].size(), 1u);
  EXPECT_EQ(later["events"][0]["seq"], last);
  // A cursor past the last event (a database restored from an older backup): the feed again
  // from the start, flagged, where before the answer was nothing and the cursor itself, so
  // the client waited for numbers that the next events would get and never saw them.
  const Json ahead = Ok(Call("GET", "/v1/challenges/" + id + "/events", "ann", nullptr,
                             {{"after", std::to_string(last + 40)}}));
  EXPECT_EQ(ahead.value("reset", false), true) << ahead;
  EXPECT_EQ(ahead["events"], ev["events"]);
  EXPECT_EQ(ahead["last_seq"], last);
  EXPECT_FALSE(later.contains("reset"));
  const Json at_end = Ok(Call("GET", "/v1/challenges/" + id + "/events", "ann", nullptr,
                              {{"after", std::to_string(last)}}));
  EXPECT_TRUE(at_end["events"].empty());
  EXPECT_EQ(at_end["last_seq"], last);
  EXPECT_FALSE(at_end.contains("reset"));
  // strtoll took " 3" and "+3", and an overflow as the last event there is.
  for (const char* bad : {" 3", "+3", "3x", "99999999999999999999", "-1"}) {
    const PluginResponse r =
        Call("GET", "/v1/challenges/" + id + "/events", "ann", nullptr, {{"after", bad}});
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_NE(r.body.find("after / Last-Event-ID: "), std::string::npos) << r.body;
  }
}

TEST_F(Challenges, DaysAreJudgedInTheMembersTimeZoneAndLateRunsCountOnTheirDay) {
  const std::string id =
      Create({{"name", "Advent"}, {"kind", "daily"}, {"days", 5}, {"min_distance_m", 2000}});
  Ok(Call("POST", "/v1/challenges/" + id + "/join", "kiri",
          {{"time_zone", "Pacific/Auckland"}, {"start_date", "2026-12-01"}}),
     201);
  // 11:30 UTC on 30 Nov is 00:30 on 1 Dec in Auckland (UTC+13): day 1.
  Store("kiri", At(2026, 11, 30, 11, 30), 2500);
  // Two short runs on day 2 add up; the second crosses 2 km.
  Store("kiri", At(2026, 12, 1, 19), 1200);
  Store("kiri", At(2026, 12, 1, 22), 900, "walk", 600);
  // Day 3 is too short; a run synced late (uploaded now, run on day 4) counts on day 4.
  Store("kiri", At(2026, 12, 2, 20), 1500);
  clock_.Set(At(2026, 12, 9, 0));
  Store("kiri", At(2026, 12, 3, 20), 2100);
  const Json me = Ok(Call("GET", "/v1/challenges/" + id, "kiri"))["me"];
  ASSERT_EQ(me["days"].size(), 5u);
  EXPECT_EQ(me["days"][0]["date"], "2026-12-01");
  EXPECT_FALSE(me["days"][0]["completed_at"].is_null());
  EXPECT_DOUBLE_EQ(me["days"][1]["distance_m"].get<double>(), 2100);
  EXPECT_EQ(me["days"][1]["runs"], 2);
  EXPECT_EQ(me["days"][1]["completed_at"], engine::FormatIsoTime(At(2026, 12, 1, 22) + 600));
  EXPECT_TRUE(me["days"][2]["completed_at"].is_null());
  EXPECT_FALSE(me["days"][3]["completed_at"].is_null());
  EXPECT_TRUE(me["days"][4]["completed_at"].is_null());
  EXPECT_EQ(me["completed"], 3);
  EXPECT_FALSE(me["complete"]);
  // The same runs for a member in UTC land on other days.
  Ok(Call("POST", "/v1/challenges/" + id + "/join", "kiri_utc", {{"start_date", "2026-12-01"}}),
     201);
  Store("kiri_utc", At(2026, 11, 30, 11, 30), 2500);  // 30 Nov in UTC: before day 1
  const Json utc = Ok(Call("GET", "/v1/challenges/" + id, "kiri_utc"))["me"];
  EXPECT_EQ(utc["completed"], 0);
}

TEST_F(Challenges, WeeksCountRunsAndLeaderboardsShareRanksOnTies) {
  const std::string id =
      Create({{"name", "Three a week"}, {"kind", "weekly"}, {"weeks", 2}, {"runs_per_week", 3}});
  for (const char* u : {"a", "b", "c"}) {
    Ok(Call("POST", "/v1/challenges/" + id + "/join", u, {{"start_date", "2026-12-01"}}), 201);
  }
  for (int i = 0; i < 3; ++i) Store("a", At(2026, 12, 1 + i, 7), 5000);
  for (int i = 0; i < 3; ++i) Store("b", At(2026, 12, 2 + i, 7), 5000);
  Store("c", At(2026, 12, 3, 7), 20000);
  const Json board = Ok(Call("GET", "/v1/challenges/" + id + "/leaderboard", "a"));
  ASSERT_EQ(board["members"].size(), 3u);
  EXPECT_EQ(board["members"][0]["rank"], 1);
  EXPECT_EQ(board["members"][1]["rank"], 1);  // a and b: one week done, 15 km each
  EXPECT_EQ(board["members"][2]["rank"], 3);
  EXPECT_EQ(board["members"][2]["user"], "c");
  EXPECT_EQ(board["members"][0]["completed"], 1);
}

TEST_F(Challenges, LeaderboardsFilterByTeamLimitAndFollowEveryChange) {
  const std::string id = Create({{"name", "Teams"},
                                 {"kind", "route"},
                                 {"waypoints", {{1.5, 42.5}, {1.5, 42.6}}},
                                 {"start_date", "2026-12-01"}});
  const std::vector<std::pair<std::string, std::string>> members = {
      {"ann", "red"}, {"bob", "blue"}, {"cat", "red"}, {"dan", "blue"}, {"eve", "red"}};
  for (const auto& [u, team] : members) {
    Ok(Call("POST", "/v1/challenges/" + id + "/join", u, {{"team", team}}), 201);
  }
  Store("ann", At(2026, 12, 2, 7), 3000);
  Store("bob", At(2026, 12, 2, 7), 5000);
  Store("cat", At(2026, 12, 2, 7), 1000);
  const std::string path = "/v1/challenges/" + id + "/leaderboard";
  Json board = Ok(Call("GET", path, "ann", nullptr, {{"team", "red"}, {"limit", "2"}}));
  ASSERT_EQ(board["members"].size(), 2u);
  EXPECT_EQ(board["members"][0]["user"], "ann");
  EXPECT_EQ(board["members"][1]["user"], "cat");
  EXPECT_EQ(board["members"][1]["rank"], 2);  // ranked within the team
  EXPECT_EQ(board["total_members"], 3);       // red has three, two shown
  EXPECT_EQ(board["teams"][0]["team"], "blue");
  // A run stored after the board was read moves it (no stale order).
  Store("eve", At(2026, 12, 3, 7), 9000);
  board = Ok(Call("GET", path, "ann"));
  EXPECT_EQ(board["members"][0]["user"], "eve");
  EXPECT_EQ(board["members"][1]["user"], "bob");
  EXPECT_EQ(board["teams"][0]["team"], "red");  // 13 km against 5
  EXPECT_DOUBLE_EQ(board["teams"][0]["distance_m"].get<double>(), 13000);
  EXPECT_EQ(board["total_members"], 5);
  EXPECT_EQ(Call("GET", path, "ann", nullptr, {{"limit", "0"}}).status, 400);
  // The whole text is the number: atol read "2abc" and "2.9" as 2.
  for (const char* bad : {"2abc", "2.9", " 2", "+2"}) {
    const PluginResponse r = Call("GET", path, "ann", nullptr, {{"limit", bad}});
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_NE(r.body.find("limit: "), std::string::npos) << r.body;
  }
}

TEST_F(Challenges, AStateStoredWithItsMembersInsideIsMovedToMemberRowsOnLoad) {
  const std::string id = Create({{"name", "Old"},
                                 {"kind", "route"},
                                 {"waypoints", {{1.5, 42.5}, {1.5, 42.6}}},
                                 {"start_date", "2026-12-01"}});
  // The layout before members had rows of their own: everything in t/ID.
  const Json old = {{"members",
                     {{"ann", {{"team", "red"}, {"distance_m", 3000.0}, {"completed", 0}}},
                      {"bob", {{"team", "red"}, {"distance_m", 1000.0}, {"completed", 0}}}}},
                    {"teams", {{"red", {{"distance_m", 4000.0}, {"members", 2}, {"reached", 0}}}}},
                    {"seq", 2}};
  ASSERT_TRUE(kv_.Put(PluginHost::StoredKey("", "t/" + id), old.dump()).ok());
  host_ = nullptr;  // a restart: nothing in memory
  SetUp();
  const Json board = Ok(Call("GET", "/v1/challenges/" + id + "/leaderboard", "ann"));
  ASSERT_EQ(board["members"].size(), 2u);
  EXPECT_EQ(board["members"][0]["user"], "ann");
  EXPECT_DOUBLE_EQ(board["teams"][0]["distance_m"].get<double>(), 4000);
  Result<std::optional<std::string>> row = kv_.Get(PluginHost::StoredKey("", "s/" + id + "/bob"));
  ASSERT_TRUE(row.ok() && row->has_value());
  EXPECT_EQ(Json::parse(**row)["distance_m"], 1000.0);
  Result<std::optional<std::string>> team = kv_.Get(PluginHost::StoredKey("", "t/" + id));
  EXPECT_FALSE(Json::parse(**team).contains("members"));
}

TEST_F(Challenges, BadRequestsGetTheRightStatus) {
  EXPECT_EQ(Call("POST", "/v1/challenges", "u", {{"name", "x"}, {"kind", "marathon"}}).status, 400);
  EXPECT_EQ(Call("POST", "/v1/challenges", "u", {{"kind", "daily"}}).status, 400);
  EXPECT_EQ(
      Call("POST", "/v1/challenges", "u", {{"name", "x"}, {"kind", "route"}, {"route_id", "r7"}})
          .status,
      400);  // no such route
  EXPECT_EQ(Call("POST", "/v1/challenges", "u",
                 {{"name", "x"}, {"kind", "route"}, {"waypoints", {{1, 2}, {200, 2}}}})
                .status,
            400);
  EXPECT_EQ(Call("POST", "/v1/challenges", "u",
                 {{"name", "x"}, {"kind", "daily"}, {"time_zone", "Mars/Base"}})
                .status,
            400);
  const PluginResponse not_json = host_->Call(
      *[&] {
        bool k;
        std::string a;
        return host_->Resolve("POST", "/v1/challenges", &k, &a);
      }(),
      {"POST", "/v1/challenges", {}, "u", "{not json", {}});
  EXPECT_EQ(not_json.status, 400);
  EXPECT_EQ(Call("GET", "/v1/challenges/0000000000000000", "u").status, 404);
  const std::string id = Create({{"name", "d"}, {"kind", "daily"}});
  EXPECT_EQ(Call("POST", "/v1/challenges/" + id + "/join", "u", Json::object()).status, 201);
  EXPECT_EQ(Call("POST", "/v1/challenges/" + id + "/join", "u", Json::object()).status, 409);
  EXPECT_EQ(Call("POST", "/v1/challenges/" + id + "/leave", "v", Json::object()).status, 404);
  EXPECT_EQ(
      Call("POST", "/v1/challenges/" + id + "/join", "w", {{"start_date", "2026-02-30"}}).status,
      400);
  EXPECT_EQ(Call("DELETE", "/v1/challenges/" + id, "u").status, 405);
  const Json mine = Ok(Call("GET", "/v1/challenges/mine", "u"));
  ASSERT_EQ(mine["challenges"].size(), 1u);
  EXPECT_EQ(mine["challenges"][0]["id"], id);
}

// A field of the wrong JSON type is the client's mistake, named in a 400; it used to reach
// Json::value, whose type error the host answered as a 500 plugin_error.
TEST_F(Challenges, FieldsOfTheWrongTypeAreA400NamingTheField) {
  const Json route = {{"name", "r"}, {"kind", "route"}, {"waypoints", {{1.5, 42.5}, {1.6, 42.6}}}};
  auto with = [](Json body, const std::string& key, Json value) {
    body[key] = std::move(value);
    return body;
  };
  const std::vector<std::pair<Json, std::string>> cases = {
      {with(route, "name", nullptr), "name: expected a string"},
      {with(route, "name", 7), "name: expected a string"},
      {with(route, "kind", Json::array()), "kind: expected a string"},
      {with(route, "time_zone", true), "time_zone: expected a string"},
      {with(route, "milestones", 3), "milestones: expected a list"},
      {with(route, "milestones", {nullptr}), "milestones: expected {"},
      {with(route, "milestones", {{{"name", 5}, {"distance_m", 100}}}), "name: expected a string"},
      // A misspelt field, or one of another kind, is refused rather than left at its default.
      {with(route, "milestone_every", 1000),
       "milestone_every: unknown field for a route challenge (known: name, kind"},
      {with(route, "days", 30), "days: unknown field for a route challenge"},
      {{{"name", "d"}, {"kind", "daily"}, {"min_distnce_m", 5000}},
       "min_distnce_m: unknown field for a daily challenge"},
      {{{"name", "w"}, {"kind", "weekly"}, {"days", 3}},
       "days: unknown field for a weekly challenge (known: name, kind, time_zone, sports, weeks, "
       "runs_per_week)"},
      {with(route, "sports", {"swim"}), "sports: expected a list of one or more of run, walk"},
      {with(route, "sports", Json::array()), "sports: expected a list of one or more"},
  };
  for (const auto& [body, message] : cases) {
    const PluginResponse r = Call("POST", "/v1/challenges", "u", body);
    EXPECT_EQ(r.status, 400) << body.dump() << " -> " << r.body;
    EXPECT_NE(r.body.find(message), std::string::npos) << body.dump() << " -> " << r.body;
  }
  const std::string id = Create({{"name", "d"}, {"kind", "daily"}});
  for (const Json& body : {Json{{"team", 5}}, Json{{"time_zone", Json::object()}}}) {
    const PluginResponse r = Call("POST", "/v1/challenges/" + id + "/join", "u", body);
    EXPECT_EQ(r.status, 400) << body.dump() << " -> " << r.body;
    EXPECT_NE(r.body.find("expected a string"), std::string::npos) << r.body;
  }
  const PluginResponse typo =
      Call("POST", "/v1/challenges/" + id + "/join", "u", Json{{"teem", "red"}});
  EXPECT_EQ(typo.status, 400) << typo.body;
  EXPECT_NE(typo.body.find("teem: unknown field for joining (known: team, time_zone, start_date)"),
            std::string::npos)
      << typo.body;
  // Nothing half-made: the refused creations stored no challenge, the joins no member.
  EXPECT_EQ(Ok(Call("GET", "/v1/challenges/mine", "u"))["challenges"].size(), 0u);
  EXPECT_EQ(
      Ok(Call("POST", "/v1/challenges/" + id + "/join", "u", Json::object()), 201)["me"].value(
          "team", ""),
      "all");
}

// The property: after any sequence of joins, leaves, stores, late stores and deletes, the
// incremental state equals a full recomputation from the run records.
TEST_F(Challenges, IncrementalStateEqualsRecomputationOverRandomSequences) {
  std::mt19937 rng(20261130);
  const std::vector<std::string> users = {"u1", "u2", "u3", "u4"};
  const std::vector<std::string> teams = {"red", "blue"};
  int sequences = 0, operations = 0;
  for (int seq = 0; seq < 1000; ++seq) {
    const std::string route = Create({{"name", "r"},
                                      {"kind", "route"},
                                      {"route_id", "r42"},
                                      {"milestone_every_m", 1000},
                                      {"start_date", "2026-12-01"},
                                      {"end_date", "2026-12-20"}});
    const std::string daily =
        Create({{"name", "d"}, {"kind", "daily"}, {"days", 10}, {"min_distance_m", 3000}});
    std::map<std::string, std::vector<uint64_t>> mine;
    std::set<std::pair<std::string, std::string>> joined;
    for (int op = 0; op < 16; ++op, ++operations) {
      const std::string& u = users[rng() % users.size()];
      const std::string& c = rng() % 2 ? route : daily;
      switch (rng() % 6) {
        case 0:
        case 1: {  // a run, possibly outside the window, possibly not a counted sport
          const double start = At(2026, 11, 28, 0) + (rng() % (26 * 24)) * 3600.0;
          mine[u].push_back(Store(u, start, 500 + rng() % 6000, rng() % 5 ? "run" : "ride"));
          break;
        }
        case 2:
          if (!mine[u].empty()) {
            const size_t k = rng() % mine[u].size();
            Delete(u, mine[u][k]);
            mine[u].erase(mine[u].begin() + static_cast<long>(k));
          }
          break;
        case 3:
        case 4:
          if (!joined.count({u, c})) {
            Json body = {{"team", teams[rng() % teams.size()]},
                         {"start_date", "2026-12-0" + std::to_string(1 + rng() % 5)}};
            if (rng() % 2) body["time_zone"] = "Asia/Tokyo";
            Ok(Call("POST", "/v1/challenges/" + c + "/join", u, body), 201);
            joined.insert({u, c});
          }
          break;
        default:
          if (joined.count({u, c})) {
            Ok(Call("POST", "/v1/challenges/" + c + "/leave", u, Json::object()));
            joined.erase({u, c});
          }
      }
    }
    for (const std::string& c : {route, daily}) {
      const Json r = Ok(Call("GET", "/v1/challenges/" + c + "/recompute", "admin"));
      const Json& inc = r["incremental"];
      const Json& full = r["recomputed"];
      ASSERT_EQ(r["stored"], inc) << "what is stored must reload as the state in memory";
      ASSERT_EQ(inc["members"].size(), full["members"].size()) << r;
      for (const auto& [u, m] : full["members"].items()) {
        ASSERT_TRUE(inc["members"].contains(u)) << u;
        ASSERT_NEAR(inc["members"][u]["distance_m"].get<double>(), m["distance_m"].get<double>(),
                    1e-6);
        ASSERT_EQ(inc["members"][u]["completed"], m["completed"]);
        ASSERT_EQ(inc["members"][u]["team"], m["team"]);
      }
      for (const auto& [t, v] : full["teams"].items()) {
        ASSERT_TRUE(inc["teams"].contains(t)) << r;
        ASSERT_NEAR(inc["teams"][t]["distance_m"].get<double>(), v["distance_m"].get<double>(),
                    1e-6)
            << r;
        ASSERT_EQ(inc["teams"][t]["members"], v["members"]) << r;
        if (v.contains("reached")) {
          ASSERT_EQ(inc["teams"][t]["reached"], v["reached"]) << r;
        }
      }
    }
    ++sequences;
    // This sequence's runs and memberships go, so sequences stay independent (and small).
    for (const auto& [u, c] : joined) {
      Ok(Call("POST", "/v1/challenges/" + c + "/leave", u, Json::object()));
    }
    for (const std::string& u : users) {
      for (uint64_t id : mine[u]) Delete(u, id);
    }
  }
  EXPECT_EQ(sequences, 1000);
  EXPECT_EQ(operations, 16000);
}

}  // namespace
}  // namespace stride::plugins
