// SPDX-License-Identifier: Apache-2.0
//
// The plan plugin through the real host and ABI, with in-memory services: fitness from best
// efforts, predictions, paces and the training load, against engine/training computed by hand.
#include "plugins/plan/plan.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "engine/run/run.hpp"
#include "engine/text/iso_time.hpp"
#include "engine/time/time_zone.hpp"
#include "engine/training/load.hpp"
#include "engine/training/plan.hpp"
#include "engine/training/vdot.hpp"
#include "importers/activity/activity_reader.hpp"
#include "plugins/host/plugin_host.hpp"

namespace stride::plugins {
namespace {

using Json = nlohmann::json;

double At(int y, unsigned m, unsigned d, int h) {
  return static_cast<double>(engine::DaysFromCivil(y, m, d)) * 86400 + h * 3600;
}

class Plans : public ::testing::Test {
 protected:
  void SetUp() override {
    PluginServices s;
    s.kv = [this](const std::string&) -> Result<engine::KeyValue*> { return &kv_; };
    s.host_kv = &host_kv_;
    s.runs_list = [this](const std::string& user, const std::string&) -> Result<std::string> {
      Json runs = Json::array();
      for (const auto& [id, r] : runs_) {
        if (r.first == user) runs.push_back({{"id", id}});
      }
      return Json{{"runs", runs}, {"next_before", nullptr}}.dump();
    };
    s.run_get = [this](const std::string& user, const std::string& id,
                       bool) -> Result<std::string> {
      auto it = runs_.find(id);
      if (it == runs_.end() || it->second.first != user) return Status::NotFound("no run " + id);
      return it->second.second;
    };
    s.clock = &clock_;
    PluginHostOptions options;
    options.tick_interval_s = 0;  // daily ticks only when a test calls Tick()
    host_ = std::make_unique<PluginHost>(options, s,
                                         std::vector<BundledPlugin>{{plan::Info, plan::InitV1}});
    ASSERT_TRUE(host_->Start().ok());
  }

  PluginResponse Get(const std::string& path, const std::string& user,
                     std::vector<std::pair<std::string, std::string>> query = {}) {
    bool known = false;
    std::string allowed;
    std::optional<PluginHost::Match> m = host_->Resolve("GET", path, &known, &allowed);
    if (!m) return {known ? 405 : 404, "", "", nullptr};
    return host_->Call(*m, PluginRequest{"GET", path, query, user, "", {}});
  }
  Json Ok(const PluginResponse& r, int status = 200) {
    EXPECT_EQ(r.status, status) << r.body;
    return Json::parse(r.body, nullptr, false);
  }

  // A run as GET /v1/runs/{id} shows it; `announce` sends run.stored (else it is a run from
  // before the plugin, found by the backfill).
  std::string Store(const std::string& user, double start, double distance_m, double moving_s,
                    double avg_hr, double gap, const Json& efforts, bool announce = true) {
    const std::string id = engine::RunIdText(++next_run_);
    const Json analysis = {{"source", {{"sport", "run"}}},
                           {"distance_m", distance_m},
                           {"moving_time_s", moving_s},
                           {"heart_rate", {{"avg", std::isnan(avg_hr) ? Json() : Json(avg_hr)}}},
                           {"gap_s_per_km", std::isnan(gap) ? Json() : Json(gap)},
                           {"best_efforts", efforts}};
    runs_[id] = {user, Json{{"id", id},
                            {"start_time", engine::FormatIsoTime(start)},
                            {"sport", "run"},
                            {"distance_m", distance_m},
                            {"moving_time_s", moving_s},
                            {"analysis", analysis}}
                           .dump()};
    if (announce) {
      host_->OnRunEvent({engine::RunEvent::Kind::kStored, user, next_run_});
      host_->Drain();
    }
    return id;
  }

  void Delete(const std::string& user, const std::string& id) {
    runs_.erase(id);
    host_->OnRunEvent({engine::RunEvent::Kind::kDeleted, user, std::stoull(id, nullptr, 16)});
    host_->Drain();
  }
  // A runner with four weeks of 36 km (8, 8, 8 and 12 km on Tue, Thu, Sat, Sun) up to
  // 2026-12-08, a 10 K goal on 2027-02-14, and the plan made on 2026-12-10 (a Thursday).
  void Runner(const std::string& user) {
    ASSERT_TRUE(host_
                    ->PutProfile(user, R"({"availability":{"days":["tue","thu","sat","sun"],)"
                                       R"("minutes_per_day":100},"sex":"female",)"
                                       R"("max_hr_bpm":190,"rest_hr_bpm":50,)"
                                       R"("goal":{"distance_m":10000,"date":"2027-02-14"}})")
                    .ok());
    for (int64_t day = engine::DaysFromCivil(2026, 11, 10);
         day <= engine::DaysFromCivil(2026, 12, 8); ++day) {
      const int wd = engine::Weekday(day);
      if (wd != 1 && wd != 3 && wd != 5 && wd != 6) continue;
      const double m = wd == 6 ? 12000 : 8000;
      Store(user, static_cast<double>(day) * 86400 + 7 * 3600, m, m * 0.33, 145, 330,
            Json::array({{{"name", "5k"}, {"distance_m", 5000}, {"time_s", 1400}}}), false);
    }
  }
  // The stored plan's day of `date`.
  Json DayOf(const Json& plan, const std::string& date, const std::string& state = "") {
    for (const Json& d : plan["days"]) {
      if (d["date"] == date && (state.empty() || d.value("state", "") == state)) return d;
    }
    return nullptr;
  }

  engine::MemoryKeyValue kv_, host_kv_;
  std::map<std::string, std::pair<std::string, std::string>> runs_;  // id -> (user, json)
  uint64_t next_run_ = 0;
  engine::ManualClock clock_{At(2026, 12, 10, 12)};
  std::unique_ptr<PluginHost> host_;
};

TEST_F(Plans, FitnessComesFromTheBestRecentEffort) {
  // Runs from before the plugin served this user: found by the backfill on the first request.
  Store("ann", At(2026, 12, 3, 7), 8000, 2400, 150, 300,
        Json::array({{{"name", "5k"}, {"distance_m", 5000}, {"time_s", 19 * 60 + 57}}}), false);
  Store("ann", At(2026, 12, 5, 7), 10000, 2700, 150, 270,
        Json::array({{{"name", "10k"}, {"distance_m", 10000}, {"time_s", 44 * 60}}}), false);
  const Json f = Ok(Get("/v1/plans/fitness", "ann"));
  const double now = At(2026, 12, 10, 12);
  const double age_weeks = (now - At(2026, 12, 3, 7)) / 86400 / 7;
  const double vdot = engine::VdotFromRace(5000, 19 * 60 + 57) * (1 - 0.005 * age_weeks);
  EXPECT_NEAR(f["vdot"].get<double>(), vdot, 0.006);
  EXPECT_EQ(f["from"]["distance_m"], 5000);
  EXPECT_EQ(f["from"]["run_at"], "2026-12-03T07:00:00Z");
  ASSERT_EQ(f["predictions"].size(), 4u);
  const Json& m = f["predictions"][3];
  EXPECT_EQ(m["name"], "marathon");
  EXPECT_NEAR(m["time_s"].get<double>(), engine::PredictRaceTimeS(vdot, 42195), 2);
  EXPECT_NEAR(m["riegel_s"].get<double>(), engine::RiegelTimeS(19 * 60 + 57, 5000, 42195), 1);
  EXPECT_LE(m["low_s"].get<double>(), m["high_s"].get<double>());
  EXPECT_NEAR(f["paces_s_per_km"]["threshold"].get<double>(), engine::PacesFromVdot(vdot).threshold,
              1);
  EXPECT_TRUE(f["methods"].contains("vdot"));

  // A faster effort stored now takes over; predict answers one distance.
  Store("ann", At(2026, 12, 9, 7), 5000, 1140, 165, 228,
        Json::array({{{"name", "5k"}, {"distance_m", 5000}, {"time_s", 19 * 60}}}));
  const Json p = Ok(Get("/v1/plans/predict", "ann", {{"distance_m", "10000"}}));
  const double v2 =
      engine::VdotFromRace(5000, 19 * 60) * (1 - 0.005 * (now - At(2026, 12, 9, 7)) / 86400 / 7);
  EXPECT_NEAR(p["vdot"].get<double>(), v2, 0.006);
  EXPECT_NEAR(p["time_s"].get<double>(), engine::PredictRaceTimeS(v2, 10000), 2);
  EXPECT_EQ(Get("/v1/plans/predict", "ann", {{"distance_m", "ten"}}).status, 400);
  // strtod took leading spaces and hex ("0x2710" is 10,000).
  for (const char* bad : {" 10000", "0x2710", "10000m", "1e400"}) {
    EXPECT_EQ(Get("/v1/plans/predict", "ann", {{"distance_m", bad}}).status, 400) << bad;
  }
  EXPECT_EQ(Get("/v1/plans/predict", "ann", {}).status, 400);
  EXPECT_EQ(Get("/v1/plans/predict", "nobody", {{"distance_m", "5000"}}).status, 404);
  const Json none = Ok(Get("/v1/plans/fitness", "nobody"));
  EXPECT_TRUE(none["vdot"].is_null());
}

TEST_F(Plans, FirstRequestsInParallelBackfillEachRunnerOnce) {
  for (const char* user : {"p1", "p2"}) {
    for (int k = 0; k < 20; ++k) {
      Store(user, At(2026, 11, 1 + k, 7), 5000 + 100 * k, 1500, 150, 300,
            Json::array({{{"name", "5k"}, {"distance_m", 5000}, {"time_s", 1500 - k}}}), false);
    }
  }
  std::vector<std::thread> threads;
  std::vector<Json> answers(8);
  for (size_t i = 0; i < answers.size(); ++i) {
    threads.emplace_back([&, i] {
      answers[i] = Ok(Get("/v1/plans/load", i % 2 ? "p1" : "p2", {{"from", "2026-11-01"}}));
    });
  }
  for (std::thread& t : threads) t.join();
  for (const Json& a : answers) {
    EXPECT_EQ(a["runs"]["by_heart_rate"].get<int>() + a["runs"]["by_pace"].get<int>() +
                  a["runs"]["unscored"].get<int>(),
              20);
  }
  // Each runner's records are there once, under their own prefix.
  size_t records = 0;
  (void)kv_.Scan("", [&](std::string_view k, std::string_view) {
    records += k.find("r/") != std::string_view::npos;
    return true;
  });
  EXPECT_EQ(records, 40u);
}

TEST_F(Plans, LoadFollowsTheRunsWithTheProfilesHeartRates) {
  ASSERT_TRUE(host_
                  ->PutProfile("bob", R"({"time_zone":"Europe/Andorra","sex":"male",)"
                                      R"("max_hr_bpm":200,"rest_hr_bpm":40,)"
                                      R"("threshold_pace_s_per_km":270})")
                  .ok());
  // Day 1: 30 min at 130 bpm (TRIMP 31.8); day 3: an hour at threshold GAP, no heart rate
  // (rTSS 100); day 4: a deleted run.
  Store("bob", At(2026, 12, 1, 7), 6000, 1800, 130, 300, Json::array());
  Store("bob", At(2026, 12, 3, 7), 13000, 3600, NAN, 270, Json::array());
  const std::string gone = Store("bob", At(2026, 12, 4, 7), 30000, 9000, 140, 300, Json::array());
  // Read once with the run (the plugin keeps the records in memory), then delete it.
  const Json before =
      Ok(Get("/v1/plans/load", "bob", {{"from", "2026-12-01"}, {"to", "2026-12-05"}}));
  EXPECT_GT(before["days"][3]["load"].get<double>(), 0);
  runs_.erase(gone);
  host_->OnRunEvent({engine::RunEvent::Kind::kDeleted, "bob", next_run_});
  host_->Drain();
  const Json l = Ok(Get("/v1/plans/load", "bob", {{"from", "2026-12-01"}, {"to", "2026-12-05"}}));
  ASSERT_EQ(l["days"].size(), 5u);
  const double trimp = engine::BanisterTrimp(30, 130, 40, 200, engine::AthleteSex::kMale);
  const std::vector<engine::PmcDay> want = engine::Pmc({trimp, 0, 100, 0, 0}, 0);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_NEAR(l["days"][i]["ctl"].get<double>(), want[i].ctl, 0.051) << i;
    EXPECT_NEAR(l["days"][i]["atl"].get<double>(), want[i].atl, 0.051) << i;
    EXPECT_NEAR(l["days"][i]["tsb"].get<double>(), want[i].tsb, 0.051) << i;
  }
  EXPECT_NEAR(l["days"][0]["load"].get<double>(), 31.8, 0.05);
  EXPECT_NEAR(l["days"][2]["load"].get<double>(), 100, 0.05);
  EXPECT_EQ(l["days"][3]["load"], 0);  // the deleted run is gone
  EXPECT_EQ(l["runs"]["by_heart_rate"], 1);
  EXPECT_EQ(l["runs"]["by_pace"], 1);
  EXPECT_NEAR(l["at_to"]["acwr_ewma"].get<double>(), engine::AcwrEwma({trimp, 0, 100, 0, 0}),
              0.006);
  // The last run (13 km) against the longest of the 30 days before (6 km).
  EXPECT_EQ(l["at_to"]["last_run_spike"]["band"], "very high");
  EXPECT_EQ(Get("/v1/plans/load", "bob", {{"from", "2026-12-05"}, {"to", "2026-12-01"}}).status,
            400);
  EXPECT_EQ(Get("/v1/plans/load", "bob", {{"from", "2024-01-01"}}).status, 400);  // > 366 days
  EXPECT_EQ(Get("/v1/plans/load", "bob", {{"to", "soon"}}).status, 400);
}

TEST_F(Plans, ThePlanRunsToTheGoalOnTheAvailableDays) {
  ASSERT_TRUE(host_
                  ->PutProfile("dan", R"({"availability":{"days":["tue","thu","sat","sun"],)"
                                      R"("minutes_per_day":100},)"
                                      R"("goal":{"distance_m":21097.5,"date":"2027-03-14"}})")
                  .ok());
  // Four weeks of 30 km (9, 9 and 12 km), from 2026-11-10 to 2026-12-05.
  for (int week = 0; week < 4; ++week) {
    for (int k = 0; k < 3; ++k) {
      Store("dan", At(2026, 11, 10 + 7 * week + 2 * k, 7), k == 2 ? 12000 : 9000, 3000, 150, 330,
            Json::array({{{"name", "5k"}, {"distance_m", 5000}, {"time_s", 1380}}}));
    }
  }
  const Json plan = Ok(Get("/v1/plans/current", "dan"));
  EXPECT_EQ(plan["today"], "2026-12-10");
  EXPECT_EQ(plan["days"][0]["date"], "2026-12-10");
  // Four weeks day by day; the weeks run to the race.
  EXPECT_EQ(plan["days"].back()["date"], "2027-01-06");
  EXPECT_EQ(plan["weeks"].back()["start"], "2027-03-08");
  // The last 28 days hold three of those weeks and a run: (9 + 9 + 12) x 3 + 12 = 102 km.
  EXPECT_NEAR(plan["start_km"].get<double>(), 102.0 / 4, 0.05);
  for (const Json& d : plan["days"]) {
    if (d["type"] == "rest" || d["type"] == "race") continue;
    int64_t day = 0;
    ASSERT_TRUE(engine::ParseDate(d["date"].get<std::string>(), &day));
    const int wd = engine::Weekday(day);  // Monday 0
    EXPECT_TRUE(wd == 1 || wd == 3 || wd == 5 || wd == 6) << d["date"];
    EXPECT_LE(d["duration_s"].get<double>(), 100 * 60 + 1) << d["date"];
    EXPECT_FALSE(d["steps"].empty());
  }
  EXPECT_EQ(plan["weeks"].back()["phase"], "race");
  EXPECT_TRUE(plan["assumptions"].empty()) << plan["assumptions"];
  const Json next = Ok(Get("/v1/plans/next", "dan"));
  EXPECT_EQ(next["date"], "2026-12-10");  // a Thursday
  EXPECT_NE(next["type"], "rest");
  // Without a profile: the assumptions say what was assumed.
  const Json bare = Ok(Get("/v1/plans/current", "eve"));
  EXPECT_EQ(bare["days"].size(), 14u);
  EXPECT_EQ(bare["assumptions"].size(), 3u);
}

TEST_F(Plans, TheProfileTakesTheAthleteFieldsAndRefusesBadOnes) {
  Result<std::string> p = host_->PutProfile(
      "cat", R"({"birth_year":1990,"sex":"female","max_hr_bpm":188,"rest_hr_bpm":52,)"
             R"("availability":{"days":["mon","wed","sat"],"minutes_per_day":75},)"
             R"("goal":{"distance_m":21097.5,"date":"2027-04-11","target_time_s":6300}})");
  ASSERT_TRUE(p.ok()) << p.status().message();
  const Json j = Json::parse(*p);
  EXPECT_EQ(j["time_zone"], "UTC");
  EXPECT_EQ(j["availability"]["days"].size(), 3u);
  // null clears a field.
  EXPECT_FALSE(Json::parse(*host_->PutProfile("cat", R"({"goal":null})")).contains("goal"));
  for (const char* bad : {R"({"max_hr_bpm":400})", R"({"sex":"x"})", R"({"birth_year":1990.5})",
                          R"({"availability":{"days":["mon","mon"],"minutes_per_day":60}})",
                          R"({"availability":{"days":["someday"],"minutes_per_day":60}})",
                          R"({"goal":{"distance_m":5000,"date":"2027-02-30"}})",
                          R"({"rest_hr_bpm":190})", R"({"shoe_size":44})"}) {
    Result<std::string> r = host_->PutProfile("cat", bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  // The range in the message as the runner would write it: "1900", not "1900.0".
  EXPECT_EQ(host_->PutProfile("cat", R"({"birth_year":1990.5})").status().message(),
            "birth_year: expected a whole number from 1900 to 2100");
  EXPECT_EQ(host_->PutProfile("cat", R"({"max_hr_bpm":400})").status().message(),
            "max_hr_bpm: expected a number from 100 to 240");
  // A rest HR at or above the max HR.
  EXPECT_NE(host_->PutProfile("cat", R"({"max_hr_bpm":110,"rest_hr_bpm":115})")
                .status()
                .message()
                .find("below"),
            std::string::npos);
}

}  // namespace
}  // namespace stride::plugins

namespace stride::plugins {
namespace {

// What a day of /current shows: type, distance and state.
std::string Brief(const Json& d) {
  if (d.is_null()) return "none";
  return d["type"].get<std::string>() + " " +
         std::to_string(static_cast<int>(d["distance_m"].get<double>())) + " " +
         d.value("state", "");
}

Json ChangeOf(const Json& changes, const std::string& date) {
  for (const Json& c : changes["changes"]) {
    if (c["date"] == date) return c;
  }
  return nullptr;
}

TEST_F(Plans, AMissedWeekIsNotMadeUpAndTheReturnIsEasy) {
  Runner("eve");
  const Json before = Ok(Get("/v1/plans/current", "eve"));
  EXPECT_EQ(Brief(DayOf(before, "2026-12-10")), "easy 7600 planned");
  // No run for a week; the daily tick at 01:00 on 2026-12-18 (UTC) recalculates.
  clock_.Set(At(2026, 12, 18, 0));
  EXPECT_EQ(host_->Tick(), 0u);  // before 01:00
  clock_.Set(At(2026, 12, 18, 1) + 60);
  EXPECT_EQ(host_->Tick(), 1u);
  host_->Drain();
  const Json after = Ok(Get("/v1/plans/current", "eve"));
  EXPECT_EQ(after["cause"], "daily");
  EXPECT_EQ(after["computed_at"], "2026-12-18T01:01:00Z");
  for (const char* d : {"2026-12-10", "2026-12-12", "2026-12-13", "2026-12-15", "2026-12-17"}) {
    EXPECT_EQ(DayOf(after, d)["state"], "missed") << d;
  }
  EXPECT_EQ(after["signals"]["missed_last_7"], 4);  // 12, 13, 15 and 17 December
  // No cramming: no day of the coming week is longer than it was planned before the misses.
  for (int64_t day = engine::DaysFromCivil(2026, 12, 18); day < engine::DaysFromCivil(2026, 12, 25);
       ++day) {
    const std::string date = engine::FormatDate(day);
    const Json was = DayOf(before, date), now = DayOf(after, date);
    EXPECT_LE(now["distance_m"].get<double>(), was["distance_m"].get<double>() + 1) << date;
    if (day < engine::DaysFromCivil(2026, 12, 21)) {
      EXPECT_TRUE(now["type"] == "easy" || now["type"] == "rest") << date << " " << Brief(now);
    }
  }
  // Sunday's long run became easy, and the change says why.
  EXPECT_EQ(DayOf(before, "2026-12-20")["type"], "long");
  EXPECT_EQ(DayOf(after, "2026-12-20")["type"], "easy");
  const Json why =
      ChangeOf(Ok(Get("/v1/plans/changes", "eve", {{"date", "2026-12-20"}})), "2026-12-20");
  ASSERT_FALSE(why.is_null());
  EXPECT_EQ(why["cause"], "daily");
  EXPECT_EQ(why["before"]["type"], "long");
  EXPECT_EQ(why["after"]["type"], "easy");
  EXPECT_EQ(why["reasons"][0],
            "4 planned runs missed in the last 7 days: 3 easy days to come back");
}

TEST_F(Plans, IllnessRestsTwoDaysThenEasesBackEvenWhenWellAgain) {
  Runner("fay");
  const Json before = Ok(Get("/v1/plans/current", "fay"));
  // A check-in: ill, resting HR up.
  Result<std::string> c = host_->PutReadiness("fay", R"({"ill":true,"rest_hr_bpm":62})");
  ASSERT_TRUE(c.ok()) << c.status().message();
  const Json checkin = Json::parse(*c);
  EXPECT_EQ(checkin["date"], "2026-12-10");
  // Resting HR +12 bpm over the profile's 50: 100 - 12 x 10 -> 0 (ill would cap at 20).
  EXPECT_EQ(checkin["readiness"]["score"], 0);
  EXPECT_EQ(checkin["readiness"]["band"], "poor");
  host_->Drain();  // readiness.stored -> recalculated
  const Json ill = Ok(Get("/v1/plans/current", "fay"));
  EXPECT_EQ(ill["cause"], "readiness.stored");
  EXPECT_EQ(DayOf(ill, "2026-12-10")["type"], "rest");
  EXPECT_EQ(DayOf(ill, "2026-12-11")["type"], "rest");
  const double sat = DayOf(before, "2026-12-12")["distance_m"].get<double>();
  EXPECT_EQ(DayOf(ill, "2026-12-12")["type"], "easy");
  EXPECT_LE(DayOf(ill, "2026-12-12")["distance_m"].get<double>(), 0.7 * sat + 1);
  const Json why = ChangeOf(Ok(Get("/v1/plans/changes", "fay")), "2026-12-10");
  ASSERT_FALSE(why.is_null());
  EXPECT_EQ(why["triggers"][0], "ill");
  EXPECT_EQ(why["reasons"][0],
            "ill for 1 day(s) up to 2026-12-10: 2 days rest, then easy only for 2 days");
  // Well again the next morning: the easy return stays.
  clock_.Set(At(2026, 12, 11, 7));
  ASSERT_TRUE(host_->PutReadiness("fay", R"({"sleep_h":8,"soreness":1})").ok());
  host_->Drain();
  const Json well = Ok(Get("/v1/plans/current", "fay"));
  EXPECT_EQ(well["signals"]["ill_until"], "2026-12-10");
  EXPECT_EQ(DayOf(well, "2026-12-12")["type"], "easy");
  EXPECT_LE(DayOf(well, "2026-12-12")["distance_m"].get<double>(), 0.7 * sat + 1);
  EXPECT_EQ(DayOf(well, "2026-12-10")["state"], "rest");  // the plan said rest: not missed
  EXPECT_EQ(well["signals"]["missed_last_7"], 0);
}

TEST_F(Plans, AnExtraLongRunEasesTheTwoDaysAfterIt) {
  Runner("gus");
  const Json before = Ok(Get("/v1/plans/current", "gus"));
  ASSERT_EQ(DayOf(before, "2026-12-11")["type"], "rest");
  ASSERT_EQ(DayOf(before, "2026-12-13")["type"], "long");
  // 20 km on the Friday rest day: 1.67 x the longest (12 km) of the 30 days before.
  clock_.Set(At(2026, 12, 11, 12));
  const std::string id = Store("gus", At(2026, 12, 11, 8), 20000, 7000, 150, 350, Json::array());
  const Json after = Ok(Get("/v1/plans/current", "gus"));
  EXPECT_EQ(after["cause"], "run.stored");
  const Json extra = DayOf(after, "2026-12-11", "extra");
  ASSERT_FALSE(extra.is_null());
  EXPECT_EQ(extra["run_id"], id);
  EXPECT_EQ(after["signals"]["spike"]["band"], "high");
  EXPECT_NEAR(after["signals"]["spike"]["ratio"].get<double>(), 1.67, 0.005);
  // The rest of the week is lighter than it was, not heavier: the 20 km count toward it.
  double was = 0, now = 0;
  for (const char* d : {"2026-12-12", "2026-12-13"}) {
    EXPECT_TRUE(DayOf(after, d)["type"] == "easy" || DayOf(after, d)["type"] == "rest")
        << d << " " << Brief(DayOf(after, d));
    was += DayOf(before, d)["distance_m"].get<double>();
    now += DayOf(after, d)["distance_m"].get<double>();
  }
  EXPECT_LT(now, 0.8 * was);
  const Json why = ChangeOf(Ok(Get("/v1/plans/changes", "gus")), "2026-12-13");
  ASSERT_FALSE(why.is_null());
  EXPECT_EQ(why["before"]["type"], "long");
  const std::string spike =
      "the run today was 1.67 x your longest of the 30 days before it: 2 easy days after it";
  EXPECT_NE(std::find(why["reasons"].begin(), why["reasons"].end(), spike), why["reasons"].end())
      << why << "\n"
      << Brief(DayOf(before, "2026-12-12")) << Brief(DayOf(after, "2026-12-12"));
  EXPECT_NE(std::find(why["triggers"].begin(), why["triggers"].end(), "spike"),
            why["triggers"].end());
}

TEST_F(Plans, ALateUploadFulfilsItsDayAndADeletedRunLeavesItMissed) {
  Runner("hal");
  Ok(Get("/v1/plans/current", "hal"));
  clock_.Set(At(2026, 12, 11, 12));
  Json plan = Ok(Get("/v1/plans/current", "hal"));
  EXPECT_EQ(plan["cause"], "new day");
  EXPECT_EQ(DayOf(plan, "2026-12-10")["state"], "missed");
  EXPECT_EQ(plan["signals"]["missed_last_7"], 1);
  // The watch syncs a day late: Thursday's run arrives.
  const std::string id = Store("hal", At(2026, 12, 10, 18), 7800, 2600, 145, 330, Json::array());
  plan = Ok(Get("/v1/plans/current", "hal"));
  EXPECT_EQ(plan["cause"], "run.stored");
  EXPECT_EQ(DayOf(plan, "2026-12-10")["state"], "done");
  EXPECT_EQ(DayOf(plan, "2026-12-10")["run_id"], id);
  EXPECT_EQ(plan["signals"]["missed_last_7"], 0);
  // Deleted: missed again.
  Delete("hal", id);
  plan = Ok(Get("/v1/plans/current", "hal"));
  EXPECT_EQ(plan["cause"], "run.deleted");
  EXPECT_EQ(DayOf(plan, "2026-12-10")["state"], "missed");
  EXPECT_FALSE(DayOf(plan, "2026-12-10").contains("run_id"));
  EXPECT_EQ(plan["signals"]["missed_last_7"], 1);
  // /next is Saturday's run (Friday is rest).
  EXPECT_EQ(Ok(Get("/v1/plans/next", "hal"))["date"], "2026-12-12")
      << Brief(DayOf(plan, "2026-12-12")) << plan["signals"] << Ok(Get("/v1/plans/changes", "hal"));
}

TEST_F(Plans, ThePlanComesAsACalendarAndEachWorkoutAsAFitFile) {
  Runner("kai");
  const Json plan = Ok(Get("/v1/plans/current", "kai"));
  size_t runs = 0;
  std::string quality_date;
  for (const Json& d : plan["days"]) {
    if (d["type"] == "rest") continue;
    ++runs;
    if (quality_date.empty() && (d["type"] == "threshold" || d["type"] == "intervals")) {
      quality_date = d["date"];
    }
  }
  const PluginResponse ics = Get("/v1/plans/calendar.ics", "kai");
  ASSERT_EQ(ics.status, 200);
  EXPECT_EQ(ics.content_type, "text/calendar; charset=utf-8");
  size_t events = 0;
  for (size_t at = ics.body.find("BEGIN:VEVENT"); at != std::string::npos;
       at = ics.body.find("BEGIN:VEVENT", at + 1)) {
    ++events;
  }
  EXPECT_EQ(events, runs);
  EXPECT_NE(ics.body.find("DTSTART;VALUE=DATE:20261210\r\n"), std::string::npos);
  EXPECT_EQ(ics.body.find("kai"), std::string::npos);  // the UID does not show the runner's id
  // The first hard session as a FIT workout: its steps add up to the planned distance.
  ASSERT_FALSE(quality_date.empty());
  const PluginResponse fit = Get("/v1/plans/days/" + quality_date + "/workout.fit", "kai");
  ASSERT_EQ(fit.status, 200) << fit.body;
  EXPECT_EQ(fit.content_type, "application/vnd.ant.fit");
  Result<importers::FitWorkout> w = importers::ReadFitWorkout(fit.body);
  ASSERT_TRUE(w.ok()) << w.status().message();
  // What a watch runs: the steps in order, a repeat step sending it back until its block ran
  // target_value times in all; that is the day's planned distance.
  double run_m = 0;
  std::vector<int> left(w->steps.size(), -1);
  for (size_t i = 0; i < w->steps.size();) {
    const importers::FitWorkoutStep& s = w->steps[i];
    if (s.duration_type == 6) {
      if (left[i] < 0) left[i] = static_cast<int>(s.target_value) - 1;
      if (left[i]-- > 0) {
        i = static_cast<size_t>(s.duration_value);
        continue;
      }
      left[i] = -1;
    } else {
      run_m += s.duration_value / 100;
    }
    ++i;
  }
  EXPECT_NEAR(run_m, DayOf(plan, quality_date)["distance_m"].get<double>(), 1);
  EXPECT_EQ(w->sport, 1);
  EXPECT_EQ(Get("/v1/plans/days/2026-12-11/workout.fit", "kai").status, 404);  // a rest day
  EXPECT_EQ(Get("/v1/plans/days/someday/workout.fit", "kai").status, 400);
}

TEST_F(Plans, ChangesPageNewestFirst) {
  Runner("ivy");
  Ok(Get("/v1/plans/current", "ivy"));
  ASSERT_TRUE(host_->PutReadiness("ivy", R"({"ill":true})").ok());
  host_->Drain();
  const Json all = Ok(Get("/v1/plans/changes", "ivy"));
  ASSERT_GE(all["changes"].size(), 3u);  // created, and at least today and Saturday
  EXPECT_EQ(all["changes"].back()["reasons"][0], "plan created");
  uint64_t last = UINT64_MAX;
  std::vector<uint64_t> paged;
  std::string before;
  for (int page = 0; page < 10; ++page) {
    std::vector<std::pair<std::string, std::string>> q = {{"limit", "1"}};
    if (!before.empty()) q.emplace_back("before", before);
    const Json p = Ok(Get("/v1/plans/changes", "ivy", q));
    for (const Json& c : p["changes"]) {
      EXPECT_LT(c["id"].get<uint64_t>(), last);
      last = c["id"].get<uint64_t>();
      paged.push_back(last);
    }
    if (p["next_before"].is_null()) break;
    before = p["next_before"].get<std::string>();
  }
  EXPECT_EQ(paged.size(), all["changes"].size());
  EXPECT_EQ(Get("/v1/plans/changes", "ivy", {{"limit", "0"}}).status, 400);
  // strtoull read "-1" as 2^64 - 1: every change.
  for (const char* bad : {"-1", " 5", "5.0", "99999999999999999999"}) {
    EXPECT_EQ(Get("/v1/plans/changes", "ivy", {{"before", bad}}).status, 400) << bad;
    EXPECT_EQ(Get("/v1/plans/changes", "ivy", {{"limit", bad}}).status, 400) << bad;
  }
  EXPECT_EQ(Get("/v1/plans/changes", "ivy", {{"date", "Thursday"}}).status, 400);
}

TEST_F(Plans, ReadinessCheckInsAreCheckedAndScoredAgainstEarlierMornings) {
  ASSERT_TRUE(host_->PutProfile("jo", R"({"time_zone":"Europe/Andorra","rest_hr_bpm":50})").ok());
  for (const char* bad : {R"({"sleep_h":30})", R"({"soreness":"high"})", R"({"mood":3})",
                          R"({"date":"2026-12-11","sleep_h":7})",  // tomorrow in Andorra
                          R"({"date":"2026-10-01","sleep_h":7})",  // over 60 days back
                          R"({"note":"nothing else"})", R"([1])"}) {
    Result<std::string> r = host_->PutReadiness("jo", bad);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_NE(host_->PutReadiness("jo", R"({"mood":3})").status().message().find("\"mood\""),
            std::string::npos);
  // Six mornings of 50-60 ms, then 40 ms with 5.5 h of sleep.
  for (int d = 4; d <= 9; ++d) {
    const std::string body = R"({"date":"2026-12-0)" + std::to_string(d) + R"(","hrv_rmssd_ms":)" +
                             (d % 2 ? "50" : "60") + "}";
    ASSERT_TRUE(host_->PutReadiness("jo", body).ok()) << body;
  }
  const Json today = Json::parse(
      *host_->PutReadiness("jo", R"({"hrv_rmssd_ms":40,"sleep_h":5.5,"note":"bad night"})"));
  EXPECT_EQ(today["date"], "2026-12-10");
  EXPECT_EQ(today["note"], "bad night");
  // ln 40 is far below the range: HRV 0 (red); sleep 70 (red): two red -> min(45, 28) = 28.
  EXPECT_EQ(today["readiness"]["red"], 2);
  EXPECT_EQ(today["readiness"]["score"], 28);
  EXPECT_EQ(today["readiness"]["band"], "poor");
  const Json list = Json::parse(*host_->ListReadiness("jo", "", ""));
  ASSERT_EQ(list["check_ins"].size(), 7u);
  EXPECT_EQ(list["check_ins"][0]["date"], "2026-12-10");  // newest first
  EXPECT_EQ(list["from"], "2026-11-13");
  // A second check-in the same day replaces the first.
  ASSERT_TRUE(host_->PutReadiness("jo", R"({"sleep_h":8})").ok());
  EXPECT_EQ(
      Json::parse(*host_->ListReadiness("jo", "2026-12-10", "2026-12-10"))["check_ins"][0].contains(
          "hrv_rmssd_ms"),
      false);
  // Delete-me takes them.
  ASSERT_TRUE(host_->DeleteUser("jo").ok());
  EXPECT_TRUE(Json::parse(*host_->ListReadiness("jo", "", ""))["check_ins"].empty());
}

}  // namespace
}  // namespace stride::plugins
