// SPDX-License-Identifier: Apache-2.0
//
// Delta sync (server/sync.hpp) over an in-memory store: the change log's paging and tombstones,
// each conflict rule, and a property test: two devices of one user edit offline and sync in
// random orders (thousands of schedules); at the end both devices and the server hold the same
// state, and every field holds the value of its latest write (nothing lost), every deletion is
// a tombstone.
#include "server/sync.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "engine/text/iso_time.hpp"

namespace stride::server {
namespace {

using Json = nlohmann::json;

class TestClock : public engine::Clock {
 public:
  double NowS() const override { return static_cast<double>(ms) / 1000; }
  int64_t ms = 1'800'000'000'000;
};

class SyncTest : public ::testing::Test {
 protected:
  SyncTest() : log_(&kv_, &clock_), service_(&log_, {}) {}
  Json Pull(const std::string& user, uint64_t since, size_t limit = 0) {
    Result<SyncAnswer> a = service_.Pull(user, since, limit);
    EXPECT_TRUE(a.ok()) << a.status().message();
    return a.ok() ? Json(a->body) : Json();
  }
  // The push's status and body (errors as {"error":message}).
  std::pair<int, Json> Push(const std::string& user, uint64_t last_pulled_at, const Json& body) {
    Result<SyncAnswer> a = service_.Push(user, last_pulled_at, body.dump());
    if (!a.ok()) {
      const int status = a.status().code() == StatusCode::kInvalidArgument     ? 400
                         : a.status().code() == StatusCode::kPermissionDenied  ? 403
                         : a.status().code() == StatusCode::kNotFound          ? 404
                         : a.status().code() == StatusCode::kResourceExhausted ? 413
                                                                               : 500;
      return {status, Json{{"error", a.status().message()}}};
    }
    return {a->status, Json(a->body)};
  }
  static Json Workout(const std::string& id, int64_t at, Json fields) {
    fields["id"] = id;
    fields["updated_at"] = at;
    return fields;
  }
  // The records as a vector: a braced list of one json is an array with GCC but a copy with
  // clang, so `{Workout(...)}` must not reach a json parameter directly.
  static Json Changes(const std::string& collection, const std::string& kind,
                      const std::vector<Json>& records) {
    Json body = {{"changes", Json::object()}};
    body["changes"][collection][kind] = Json(records);
    return body;
  }

  engine::MemoryKeyValue kv_;
  TestClock clock_;
  SyncLog log_;
  SyncService service_;
};

TEST(SyncWins, FidelityThenTimeThenValue) {
  EXPECT_TRUE(SyncWins({1, kRecordedFile}, 5, {9, kTyped}, 7));
  EXPECT_FALSE(SyncWins({9, kTyped}, 7, {1, kRecordedFile}, 5));
  EXPECT_TRUE(SyncWins({10, kSubjective}, "a", {9, kSubjective}, "b"));
  EXPECT_FALSE(SyncWins({9, kSubjective}, "b", {10, kSubjective}, "a"));
  // Equal stamps: one value wins on every replica, whichever order they came in.
  EXPECT_NE(SyncWins({9, 0}, "a", {9, 0}, "b"), SyncWins({9, 0}, "b", {9, 0}, "a"));
  EXPECT_FALSE(SyncWins({9, 0}, "a", {9, 0}, "a"));
}

TEST_F(SyncTest, PullPagesTheChangesInOrderWithCreatedUpdatedAndDeleted) {
  ASSERT_TRUE(log_.Merge("ann", "runs", "r1", {{"distance_m", 5000}}, kRecordedFile).ok());
  clock_.ms += 10;
  ASSERT_TRUE(log_.Merge("ann", "runs", "r2", {{"distance_m", 8000}}, kRecordedFile).ok());
  clock_.ms += 10;
  ASSERT_TRUE(log_.Merge("bob", "runs", "r9", {{"distance_m", 1}}, kRecordedFile).ok());
  Json all = Pull("ann", 0);
  EXPECT_EQ(all["changes"]["runs"]["created"].size(), 2u);
  EXPECT_EQ(all["changes"]["runs"]["created"][0]["id"], "r1");
  EXPECT_EQ(all["changes"]["runs"]["created"][0]["distance_m"], 5000);
  EXPECT_EQ(all["changes"]["runs"]["created"][0]["_stamps"]["distance_m"][1], kRecordedFile);
  EXPECT_FALSE(all["has_more"]);
  const uint64_t t1 = all["last_pulled_at"];
  EXPECT_EQ(Pull("ann", t1)["changes"], Json::object());  // nothing new

  // An update of r1 and a delete of r2: one page of one change each.
  clock_.ms += 10;
  ASSERT_TRUE(log_.Merge("ann", "runs", "r1", {{"notes", "easy"}}, kSubjective).ok());
  clock_.ms += 10;
  ASSERT_TRUE(log_.Remove("ann", "runs", "r2").ok());
  Json p1 = Pull("ann", t1, 1);
  EXPECT_TRUE(p1["has_more"]);
  EXPECT_EQ(p1["changes"]["runs"]["updated"][0]["notes"], "easy");
  EXPECT_EQ(p1["changes"]["runs"]["updated"][0]["distance_m"], 5000);  // the whole record
  Json p2 = Pull("ann", p1["last_pulled_at"], 1);
  EXPECT_EQ(p2["changes"]["runs"]["deleted"], Json::array({"r2"}));
  EXPECT_FALSE(p2["has_more"]);
  EXPECT_EQ(Pull("ann", p2["last_pulled_at"])["changes"], Json::object());
  // The first pull again (a new device): r1 once, as created, r2 only as a tombstone.
  Json again = Pull("ann", 0);
  EXPECT_EQ(again["changes"]["runs"]["created"].size(), 1u);
  EXPECT_EQ(again["changes"]["runs"]["deleted"], Json::array({"r2"}));
  // A plugin publishing the same record again changes nothing: no new change.
  ASSERT_TRUE(log_.Replace("ann", "plans.days", "2027-01-01", {{"kind", "easy"}}, 0).ok());
  const uint64_t t2 = Pull("ann", 0)["last_pulled_at"];
  clock_.ms += 10;
  ASSERT_TRUE(log_.Replace("ann", "plans.days", "2027-01-01", {{"kind", "easy"}}, 0).ok());
  EXPECT_EQ(Pull("ann", t2)["changes"], Json::object());
  ASSERT_TRUE(log_.Replace("ann", "plans.days", "2027-01-01", {{"kind", "rest"}}, 0).ok());
  EXPECT_EQ(Pull("ann", t2)["changes"]["plans.days"]["updated"][0]["kind"], "rest");
}

TEST_F(SyncTest, AChangeCutShortByACrashIsNeverPulled) {
  ASSERT_TRUE(log_.Merge("ann", "workouts", "w1", {{"notes", "a"}}, 0).ok());
  // A log entry whose record was never written (the process died between the two puts).
  const std::string user_prefix = std::string("ann") + '\0';
  ASSERT_TRUE(kv_.Put(user_prefix + "sync/s/7fffffffffffffff", "workouts/w2").ok());
  ASSERT_TRUE(kv_.Put(user_prefix + "sync/s/7ffffffffffffffe", "workouts/w1").ok());
  Json all = Pull("ann", 0);
  ASSERT_EQ(all["changes"]["workouts"]["created"].size(), 1u);
  EXPECT_EQ(all["changes"]["workouts"]["created"][0]["id"], "w1");
}

TEST_F(SyncTest, PushAppliesMergesAndAnswersRetriesAsUnchanged) {
  const int64_t t = clock_.ms;
  const Json body =
      Changes("workouts", "created",
              {Workout("w1", t - 5000,
                       {{"start", "2027-01-01T07:00:00Z"}, {"duration_s", 1800}, {"rpe", 6}})});
  auto [status, answer] = Push("ann", 0, body);
  ASSERT_EQ(status, 200) << answer;
  EXPECT_EQ(answer["applied"], 1);
  // The response was lost; the device sends the same push again.
  auto [status2, answer2] = Push("ann", 0, body);
  ASSERT_EQ(status2, 200) << answer2;
  EXPECT_EQ(answer2["applied"], 0);
  EXPECT_EQ(answer2["unchanged"], 1);
  // Another device edits another field of the same record after it pulled: both edits stay.
  const uint64_t pulled = Pull("ann", 0)["last_pulled_at"];
  auto [status3, answer3] =
      Push("ann", pulled,
           Changes("workouts", "updated", {Workout("w1", t - 100, {{"notes", "hilly"}})}));
  ASSERT_EQ(status3, 200) << answer3;
  Json rec = Pull("ann", 0)["changes"]["workouts"]["created"][0];
  EXPECT_EQ(rec["rpe"], 6);
  EXPECT_EQ(rec["notes"], "hilly");
  EXPECT_EQ(rec["updated_at"], t - 100);
}

TEST_F(SyncTest, AnOlderEditIsAConflictAnsweredWithTheNewerRecordAndNothingApplied) {
  const int64_t t = clock_.ms;
  ASSERT_EQ(
      Push("ann", 0,
           Changes(
               "workouts", "created",
               {Workout(
                   "w1", t - 9000,
                   {{"start", "2027-01-01T07:00:00Z"}, {"duration_s", 1800}, {"notes", "first"}})}))
          .first,
      200);
  const uint64_t pulled = Pull("ann", 0)["last_pulled_at"];
  clock_.ms += 1000;
  // Device B (pulled before) edits the notes later than device A, which syncs after.
  ASSERT_EQ(Push("ann", pulled,
                 Changes("workouts", "updated", {Workout("w1", t - 1000, {{"notes", "B"}})}))
                .first,
            200);
  const Json a_push = {
      {"changes",
       {{"workouts",
         {{"updated", Json::array({Workout("w1", t - 5000, {{"notes", "A"}})})},
          {"created",
           Json::array({Workout("w2", t - 5000,
                                {{"start", "2027-01-02T07:00:00Z"}, {"duration_s", 600}})})}}}}}};
  auto [status, answer] = Push("ann", pulled, a_push);
  ASSERT_EQ(status, 409) << answer;
  ASSERT_EQ(answer["conflicts"].size(), 1u);
  EXPECT_EQ(answer["conflicts"][0]["id"], "w1");
  EXPECT_NE(answer["conflicts"][0]["reason"].get<std::string>().find("notes"), std::string::npos);
  EXPECT_EQ(answer["changes"]["workouts"]["updated"][0]["notes"], "B");
  // Nothing of the push was applied: w2 is not there.
  Json all = Pull("ann", 0)["changes"]["workouts"];
  EXPECT_EQ(all["created"].size(), 1u);
  EXPECT_EQ(all["created"][0]["notes"], "B");
}

TEST_F(SyncTest, AFilesFiguresBeatTypedOnesAndTheTypedEditIsSuperseded) {
  const int64_t t = clock_.ms;
  ASSERT_EQ(Push("ann", 0,
                 Changes("workouts", "created",
                         {Workout("w1", t - 60000,
                                  {{"start", "2027-01-01T07:00:00Z"},
                                   {"duration_s", 3600},
                                   {"distance_m", 10000},
                                   {"notes", "long run"}})}))
                .first,
            200);
  // The watch's file arrives: a run from 07:02 to 08:00 links the workout.
  ASSERT_TRUE(service_
                  .RunStored("ann", "00000000000000aa",
                             {{"id", "00000000000000aa"},
                              {"start_time", "2027-01-01T07:02:00Z"},
                              {"elapsed_time_s", 3480},
                              {"distance_m", 10342.5},
                              {"sport", "running"}})
                  .ok());
  // A run on another day links nothing.
  ASSERT_TRUE(service_
                  .RunStored("ann", "00000000000000bb",
                             {{"start_time", "2027-01-05T07:00:00Z"}, {"elapsed_time_s", 600}})
                  .ok());
  Json w = Pull("ann", 0)["changes"]["workouts"]["created"][0];
  EXPECT_EQ(w["run_id"], "00000000000000aa");
  EXPECT_EQ(w["distance_m"], 10342.5);
  EXPECT_EQ(w["_stamps"]["distance_m"][1], kRecordedFile);
  EXPECT_EQ(w["notes"], "long run");  // subjective fields stay the runner's
  const uint64_t pulled = Pull("ann", 0)["last_pulled_at"];
  auto [status, answer] =
      Push("ann", pulled,
           Changes("workouts", "updated",
                   {Workout("w1", clock_.ms, {{"distance_m", 10500}, {"rpe", 7}})}));
  ASSERT_EQ(status, 200) << answer;
  EXPECT_EQ(
      answer["superseded"],
      Json::array(
          {{{"collection", "workouts"}, {"id", "w1"}, {"field", "distance_m"}, {"by", "file"}}}));
  w = Pull("ann", 0)["changes"]["workouts"]["created"][0];
  EXPECT_EQ(w["distance_m"], 10342.5);
  EXPECT_EQ(w["rpe"], 7);
}

TEST_F(SyncTest, ADeleteIsFinalAndADeleteOfAChangedRecordIsAConflict) {
  const int64_t t = clock_.ms;
  ASSERT_EQ(
      Push("ann", 0,
           Changes(
               "workouts", "created",
               {Workout("w1", t - 100, {{"start", "2027-01-01T07:00:00Z"}, {"duration_s", 60}}),
                Workout("w2", t - 100, {{"start", "2027-01-02T07:00:00Z"}, {"duration_s", 60}})}))
          .first,
      200);
  const uint64_t pulled = Pull("ann", 0)["last_pulled_at"];
  clock_.ms += 10;
  ASSERT_EQ(
      Push("ann", pulled, Changes("workouts", "updated", {Workout("w2", t, {{"rpe", 3}})})).first,
      200);
  // w2 changed after `pulled`: deleting it from that state is a conflict; w1 is fine.
  auto [status, answer] = Push("ann", pulled, Changes("workouts", "deleted", {"w1", "w2"}));
  ASSERT_EQ(status, 409) << answer;
  EXPECT_EQ(answer["conflicts"][0]["id"], "w2");
  const uint64_t now_pulled = Pull("ann", 0)["last_pulled_at"];
  ASSERT_EQ(Push("ann", now_pulled, Changes("workouts", "deleted", {"w1", "w2"})).first, 200);
  Json all = Pull("ann", 0)["changes"]["workouts"];
  EXPECT_EQ(all["deleted"], Json::array({"w1", "w2"}));
  // Editing a deleted record is a conflict, deleting it again changes nothing.
  auto [s2, a2] = Push("ann", now_pulled,
                       Changes("workouts", "updated", {Workout("w1", clock_.ms, {{"rpe", 1}})}));
  EXPECT_EQ(s2, 409) << a2;
  EXPECT_NE(a2["conflicts"][0]["reason"].get<std::string>().find("deleted"), std::string::npos);
  auto [s3, a3] = Push("ann", 0, Changes("workouts", "deleted", {"w1"}));
  EXPECT_EQ(s3, 200) << a3;
  EXPECT_EQ(a3["unchanged"], 1);
}

TEST_F(SyncTest, BadPushesAreRefusedNamingTheRecordAndField) {
  const int64_t t = clock_.ms;
  auto expect = [&](const Json& body, int status, const std::string& fragment) {
    auto [s, a] = Push("ann", 0, body);
    EXPECT_EQ(s, status) << a;
    EXPECT_NE(a.dump().find(fragment), std::string::npos) << a << " lacks " << fragment;
  };
  expect(Json::array(), 400, "body: expected");
  expect(Changes("workouts", "created",
                 {Workout("w1", t, {{"start", "yesterday"}, {"duration_s", 5}})}),
         400, "changes.workouts.created[0] (w1).start: expected an ISO 8601 time");
  expect(Changes("workouts", "created", {Workout("w1", t, {{"start", "2027-01-01T07:00:00Z"}})}),
         400, "needs start and duration_s");
  expect(Changes("workouts", "updated",
                 {Workout("w1", t,
                          {{"start", "2027-01-01T07:00:00Z"}, {"duration_s", 5}, {"rpe", 11}})}),
         400, "(w1).rpe: expected a number from 0 to 10");
  expect(Changes("workouts", "updated", {Workout("w 1", t, {})}), 400, ".id: expected a record id");
  expect(Changes("workouts", "updated", {Workout("w1", t + 3'600'000, {{"rpe", 1}})}), 400,
         "ahead of the server's clock");
  expect(Changes("plans.days", "updated", {Workout("2027-01-01", t, {{"done", true}})}), 403,
         "the server's collection");
  expect(Changes("runs", "updated", {Workout("00000000000000aa", t, {{"distance_m", 1}})}), 403,
         "a client sets notes and rpe");
  expect(Changes("runs", "updated", {Workout("00000000000000aa", t, {{"notes", "x"}})}), 404,
         "no such run");
  expect(Changes("runs", "deleted", {"00000000000000aa"}), 403, "DELETE /v1/runs/{id}");
  expect(Changes("shoes", "created", {}), 400, "unknown collection");
  // Nothing of them was stored.
  EXPECT_EQ(Pull("ann", 0)["changes"], Json::object());
}

// ----------------------------------------------------------------------------------------------
// Property: two devices, random offline edits and syncs, converge with no lost write.

using Key = std::pair<std::string, std::string>;  // collection, id

struct FieldValue {
  Json value;
  SyncStamp stamp;
};

struct Device {
  std::map<Key, std::map<std::string, FieldValue>> data;  // live records
  std::map<Key, std::map<std::string, FieldValue>> pending;
  std::set<Key> pending_deletes;
  uint64_t last_pulled_at = 0;
};

// SYNC_TRACE=1 prints every pull, push and step; SYNC_FROM=N starts at schedule N (a failure
// names its schedule). `line` makes the line, only when it is printed: dumping every body
// took a good share of the property's time.
template <typename Line>
void Trace(Line line) {
  static const bool on = std::getenv("SYNC_TRACE") != nullptr;
  if (on) std::printf("%s\n", line().c_str());
}

int FidelityOf(const std::string& collection, const std::string& field) {
  if (collection == "workouts" &&
      (field == "distance_m" || field == "sport" || field == "start" || field == "duration_s")) {
    return kTyped;
  }
  return kSubjective;
}

class SyncProperty : public SyncTest {
 protected:
  // Pulls every page and merges: a pending edit that beats the server's value stays pending.
  void PullAll(Device& d) {
    for (int page = 0; page < 1000; ++page) {
      const Json p = Pull(user_, d.last_pulled_at, 7);
      Trace([&] { return "pull " + p.dump(); });
      Apply(d, p["changes"]);
      d.last_pulled_at = p["last_pulled_at"];
      if (!p["has_more"]) return;
    }
    FAIL() << "pull never ended";
  }
  // Merges records from the server into the device's copy.
  static void Apply(Device& d, const Json& changes) {
    for (const auto& [collection, kinds] : changes.items()) {
      for (const Json& id : kinds["deleted"]) {
        const Key k{collection, id.get<std::string>()};
        d.data.erase(k);
        d.pending.erase(k);
        d.pending_deletes.erase(k);
      }
      for (const char* kind : {"created", "updated"}) {
        for (const Json& rec : kinds[kind]) {
          const Key k{collection, rec["id"].get<std::string>()};
          std::map<std::string, FieldValue> next;
          for (const auto& [f, st] : rec["_stamps"].items()) {
            next[f] = {rec[f], {st[0].get<int64_t>(), st[1].get<int>()}};
          }
          auto pend = d.pending.find(k);
          if (pend != d.pending.end()) {
            for (auto it = pend->second.begin(); it != pend->second.end();) {
              auto s = next.find(it->first);
              if (s == next.end() ||
                  SyncWins(it->second.stamp, it->second.value, s->second.stamp, s->second.value)) {
                next[it->first] = it->second;  // the local edit is newer: it is pushed
                ++it;
              } else {
                it = pend->second.erase(it);  // the server's is newer: superseded
              }
            }
            if (pend->second.empty()) d.pending.erase(pend);
          }
          d.data[k] = std::move(next);
        }
      }
    }
  }
  // Pushes what is pending (one record entry per edit time); on 409 pulls and tries again.
  void PushAll(Device& d, std::mt19937& rng) {
    for (int attempt = 0; attempt < 20; ++attempt) {
      if (d.pending.empty() && d.pending_deletes.empty()) return;
      Json changes = Json::object();
      for (const auto& [k, fields] : d.pending) {
        std::map<int64_t, Json> by_time;
        for (const auto& [f, v] : fields) {
          Json& r = by_time[v.stamp.at_ms];
          r["id"] = k.second;
          r["updated_at"] = v.stamp.at_ms;
          r[f] = v.value;
        }
        for (auto& [at, r] : by_time) changes[k.first]["updated"].push_back(r);
      }
      for (const Key& k : d.pending_deletes) changes[k.first]["deleted"].push_back(k.second);
      const Json body = {{"changes", changes}};
      auto [status, answer] = Push(user_, d.last_pulled_at, body);
      Trace([&body, got = status, &said = answer] {  // (clang 14 captures no bindings)
        return "push " + body.dump() + "\n-> " + std::to_string(got) + " " + said.dump();
      });
      const bool lost_answer = std::uniform_int_distribution<int>(0, 3)(rng) == 0;
      if (status == 200 && lost_answer) {
        // The answer was lost: the device retries the same push, which changes nothing.
        auto [again, retry] = Push(user_, d.last_pulled_at, body);
        ASSERT_EQ(again, 200) << retry;
        ASSERT_EQ(retry["applied"], 0) << retry;
        ++retries_;
      }
      if (status == 200) {
        superseded_ += answer["superseded"].size();
        d.pending.clear();
        d.pending_deletes.clear();
        Apply(d, answer["changes"]);  // what a better source kept
        return;
      }
      ASSERT_EQ(status, 409) << answer << "\npush: " << body;
      ++conflicts_;
      Apply(d, answer["changes"]);  // the records that beat the push
      PullAll(d);  // rebase: newer server values win, edits of deleted records go with them
    }
    FAIL() << "push never went through";
  }
  // A sync; now and then pushing before pulling (as a client does when it has news), so
  // pushes meet newer server records and deletions: the conflicts.
  void Sync(Device& d, std::mt19937& rng) {
    if (std::uniform_int_distribution<int>(0, 1)(rng)) PullAll(d);
    PushAll(d, rng);
    PullAll(d);
  }
  std::string user_;
  int conflicts_ = 0, retries_ = 0, tombstones_ = 0;
  size_t superseded_ = 0;
};

TEST_F(SyncProperty, TwoDevicesConvergeWithNoLostWriteOverThousandsOfSchedules) {
  const std::vector<std::string> workout_fields = {"notes", "rpe", "distance_m", "sport"};
  const std::vector<std::string> profile_fields = {"goal", "weekly_volume_km"};
  constexpr double kBase = 1'798'000'000;  // workout starts: 2 h apart
  int schedules_with_conflicts = 0;
  const char* from = std::getenv("SYNC_FROM");
  for (int schedule = from ? std::atoi(from) : 0; schedule < 2000; ++schedule) {
    user_ = "user" + std::to_string(schedule);
    const int conflicts_before = conflicts_;
    std::mt19937 rng(static_cast<uint32_t>(schedule) * 7919u + 17u);
    std::uniform_int_distribution<int> pick(0, 99);
    Device dev[2];
    // Truth: the best write of every field (by the stated rules), and the records deleted.
    std::map<Key, std::map<std::string, FieldValue>> best;
    std::set<Key> deleted;
    int created = 0;
    auto truth = [&](const Key& k, const std::string& f, const Json& v, const SyncStamp& s) {
      auto& b = best[k];
      auto it = b.find(f);
      if (it == b.end() || SyncWins(s, v, it->second.stamp, it->second.value)) b[f] = {v, s};
    };
    int64_t last_stamp[2] = {0, 0};
    auto write = [&](int who, const Key& k, const std::string& f, const Json& v) {
      // A device's clock never repeats a millisecond for two edits of its own (one edit, one
      // time), while two devices, or a device and the server, may well share one.
      // And it is later than the value it replaces on the device (a hybrid logical clock), so
      // an edit made after seeing another device's is newer than it even when that device's
      // clock runs ahead.
      auto seen = dev[who].data.find(k);
      int64_t floor = last_stamp[who] + 1;
      if (seen != dev[who].data.end() && seen->second.count(f)) {
        floor = std::max(floor, seen->second.at(f).stamp.at_ms + 1);
      }
      last_stamp[who] = std::max(clock_.ms, floor);
      const SyncStamp s{last_stamp[who], FidelityOf(k.first, f)};
      dev[who].data[k][f] = {v, s};
      dev[who].pending[k][f] = {v, s};
      truth(k, f, v, s);
    };
    auto start_of = [&](int n) { return engine::FormatIsoTime(kBase + n * 7200.0); };
    auto create = [&](int who) {
      const int n = created++;
      const Key k{"workouts", "d" + std::to_string(who) + "-" + std::to_string(n)};
      write(who, k, "start", start_of(n));
      write(who, k, "duration_s", 600);
    };
    create(0);
    create(0);
    write(0, {"profile", "me"}, "goal", "10k");
    Sync(dev[0], rng);
    Sync(dev[1], rng);
    const int steps = 10 + pick(rng) % 30;
    for (int step = 0; step < steps; ++step) {
      const int advance = pick(rng);
      clock_.ms += advance < 10 ? 0 : advance * 37;  // equal times now and then
      const int who = pick(rng) % 2;
      const int action = pick(rng);
      Device& d = dev[who];
      Trace([&] {
        return "step " + std::to_string(step) + " t=" + std::to_string(clock_.ms) + " device " +
               std::to_string(who) + " action " + std::to_string(action);
      });
      if (action < 20) {
        Sync(d, rng);
      } else if (action < 28) {
        create(who);
      } else if (action < 35) {
        std::vector<Key> live;
        for (const auto& [k, fields] : d.data) {
          if (k.first == "workouts") live.push_back(k);
        }
        if (live.empty()) continue;
        const Key k = live[pick(rng) % live.size()];
        d.data.erase(k);
        d.pending.erase(k);
        d.pending_deletes.insert(k);
        deleted.insert(k);
      } else if (action < 45) {
        const std::string f = profile_fields[pick(rng) % profile_fields.size()];
        const int v = pick(rng);
        write(who, {"profile", "me"}, f, f == "goal" ? Json("goal " + std::to_string(v)) : Json(v));
      } else if (action < 52) {
        // A write on the server itself (the web page): server time, subjective.
        const std::string f = profile_fields[pick(rng) % profile_fields.size()];
        const int v = pick(rng);
        const Json value = f == "goal" ? Json("web " + std::to_string(v)) : Json(v);
        ASSERT_TRUE(log_.Merge(user_, "profile", "me", {{f, value}}, kSubjective).ok());
        truth({"profile", "me"}, f, value, {clock_.ms, kSubjective});
      } else if (action < 57 && created > 0) {
        // The watch's file of workout n arrives: it links the workout when the server has it.
        const int n = pick(rng) % created;
        const std::string run_id = "00000000000000" + std::to_string(10 + n);
        const int distance = 5000 + pick(rng);
        std::vector<Key> linked;
        for (int w = 0; w < 2; ++w) {
          const Key k{"workouts", "d" + std::to_string(w) + "-" + std::to_string(n)};
          Result<std::optional<SyncRecord>> r = log_.Get(user_, k.first, k.second);
          ASSERT_TRUE(r.ok());
          if (*r && !(*r)->deleted_ms && !(*r)->fields.contains("run_id")) linked.push_back(k);
        }
        ASSERT_TRUE(service_
                        .RunStored(user_, run_id,
                                   {{"start_time", start_of(n)},
                                    {"elapsed_time_s", 600},
                                    {"distance_m", distance},
                                    {"sport", "running"}})
                        .ok());
        const SyncStamp file{clock_.ms, kRecordedFile};
        for (const Key& k : linked) {
          truth(k, "run_id", run_id, file);
          truth(k, "start", start_of(n), file);
          truth(k, "duration_s", 600, file);
          truth(k, "distance_m", distance, file);
          truth(k, "sport", "running", file);
        }
      } else {
        std::vector<Key> live;
        for (const auto& [k, fields] : d.data) {
          if (k.first == "workouts") live.push_back(k);
        }
        if (live.empty()) continue;
        const Key k = live[pick(rng) % live.size()];
        const std::string f = workout_fields[pick(rng) % workout_fields.size()];
        const int v = pick(rng);
        Json value = v % 10;
        if (f == "notes") value = "note " + std::to_string(v);
        if (f == "distance_m") value = 1000 * v;
        if (f == "sport") value = v % 2 ? "running" : "walking";
        write(who, k, f, value);
      }
      ASSERT_FALSE(HasFatalFailure()) << "schedule " << schedule << " step " << step;
    }
    // Everyone syncs: A, B, then A again (B's pushes reach A).
    Sync(dev[0], rng);
    Sync(dev[1], rng);
    Sync(dev[0], rng);
    ASSERT_FALSE(HasFatalFailure()) << "schedule " << schedule;
    schedules_with_conflicts += conflicts_ > conflicts_before;
    Device fresh;
    PullAll(fresh);
    for (int who = 0; who < 2; ++who) {
      ASSERT_TRUE(dev[who].pending.empty()) << "schedule " << schedule;
      ASSERT_EQ(dev[who].data.size(), fresh.data.size()) << "schedule " << schedule;
      for (const auto& [k, fields] : fresh.data) {
        ASSERT_TRUE(dev[who].data.count(k)) << "schedule " << schedule << " " << k.second;
        ASSERT_EQ(dev[who].data[k].size(), fields.size()) << "schedule " << schedule;
        for (const auto& [f, v] : fields) {
          ASSERT_EQ(dev[who].data[k][f].value, v.value)
              << "schedule " << schedule << " device " << who << " " << k.second << "." << f;
        }
      }
    }
    // No lost write: every live record holds each field's best write; every delete is final.
    for (const auto& [k, fields] : best) {
      if (deleted.count(k)) {
        ASSERT_FALSE(fresh.data.count(k)) << "schedule " << schedule << " " << k.second;
        continue;
      }
      ASSERT_TRUE(fresh.data.count(k)) << "schedule " << schedule << " lost " << k.second;
      for (const auto& [f, v] : fields) {
        ASSERT_EQ(fresh.data[k][f].value, v.value)
            << "schedule " << schedule << " lost a write of " << k.second << "." << f;
      }
    }
    const Json tombstones = Pull(user_, 0)["changes"]["workouts"]["deleted"];
    for (const Key& k : deleted) {
      // A record deleted on the device that made it, before any push, never reached the
      // server: there is nothing to tombstone. Every other one has its tombstone.
      Result<std::optional<SyncRecord>> r = log_.Get(user_, k.first, k.second);
      ASSERT_TRUE(r.ok());
      if (!*r) continue;
      ++tombstones_;
      ASSERT_TRUE((*r)->deleted_ms) << "schedule " << schedule << " " << k.second;
      ASSERT_NE(std::find(tombstones.begin(), tombstones.end(), Json(k.second)), tombstones.end())
          << "schedule " << schedule << ": no tombstone for " << k.second;
    }
  }
  // The schedules reach every rule, not only the easy path.
  EXPECT_GT(schedules_with_conflicts, 200);
  EXPECT_GT(retries_, 500);
  EXPECT_GT(superseded_, 20u);
  EXPECT_GT(tombstones_, 500);
  std::printf(
      "2000 schedules: %d with conflicts (%d 409s), %d lost answers retried, %zu edits "
      "superseded by a file, %d tombstones\n",
      schedules_with_conflicts, conflicts_, retries_, superseded_, tombstones_);
}

}  // namespace
}  // namespace stride::server
