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
    host_ = std::make_unique<PluginHost>(PluginHostOptions{}, s,
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
  EXPECT_EQ(plan["days"].back()["date"], "2027-03-14");
  EXPECT_EQ(plan["days"].back()["type"], "race");
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
  // A rest HR at or above the max HR.
  EXPECT_NE(host_->PutProfile("cat", R"({"max_hr_bpm":110,"rest_hr_bpm":115})")
                .status()
                .message()
                .find("below"),
            std::string::npos);
}

}  // namespace
}  // namespace stride::plugins
