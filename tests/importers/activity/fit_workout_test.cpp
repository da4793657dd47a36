// SPDX-License-Identifier: Apache-2.0
//
// FIT workout files (engine/training/fit_workout): written, read back by Stride's FIT reader,
// and decoded by Garmin's own FIT SDK (@garmin/fitsdk, tests/fit_sdk; `npm ci --prefix
// tests/fit_sdk`, which scripts/deps.sh runs) as the independent check.
#include "engine/training/fit_workout.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/training/plan.hpp"
#include "importers/activity/activity_reader.hpp"

namespace stride::engine {
namespace {

using Json = nlohmann::json;

PlannedDay Intervals() {
  PlannedDay d;
  d.day = 20800;
  d.type = WorkoutType::kIntervals;
  d.steps = {{"warmup", 2000, 380, 1},
             {"work", 1000, 250, 5},
             {"recovery", 400, 380, 4},
             {"cooldown", 1500, 380, 1}};
  d.distance_m = 2000 + 5 * 1000 + 4 * 400 + 1500;
  return d;
}

// The distance a watch runs: steps in order; a repeat step sends it back to step
// `duration_value` until the block was run `target_value` times in all.
double RunDistance(const importers::FitWorkout& w) {
  double total = 0;
  std::vector<int> left(w.steps.size(), -1);
  for (size_t i = 0; i < w.steps.size();) {
    const importers::FitWorkoutStep& s = w.steps[i];
    if (s.duration_type == 6) {
      if (left[i] < 0) left[i] = static_cast<int>(s.target_value) - 1;
      if (left[i]-- > 0) {
        i = static_cast<size_t>(s.duration_value);
        continue;
      }
      left[i] = -1;
    } else {
      total += s.duration_value / 100;
    }
    ++i;
  }
  return total;
}

TEST(FitWorkout, ReadsBackWithStridesReaderStepForStep) {
  const PlannedDay day = Intervals();
  const std::string file = FitWorkoutFile(day, "Intervals 2026-12-15", {5, 1.7e9, 7});
  Result<importers::FitWorkout> w = importers::ReadFitWorkout(file);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(w->name, "Intervals 2026-");  // 15 bytes
  EXPECT_EQ(w->sport, 1);
  ASSERT_EQ(w->num_valid_steps, 6);
  ASSERT_EQ(w->steps.size(), 6u);
  // warm-up, work, recovery, repeat back to the work 4 more times, the last work, cool-down.
  const std::array<int, 6> intensity = {2, 0, 4, -1, 0, 3};
  const std::array<double, 6> cm = {200000, 100000, 40000, 1, 100000, 150000};
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(w->steps[i].index, static_cast<int>(i));
    EXPECT_EQ(w->steps[i].intensity, intensity[i]) << i;
    EXPECT_EQ(w->steps[i].duration_value, cm[i]) << i;
  }
  EXPECT_EQ(w->steps[3].duration_type, 6);
  EXPECT_EQ(w->steps[3].target_value, 4);
  // Work at 4:10/km +- 5 s: 1000/255 .. 1000/245 m/s, in mm/s.
  EXPECT_EQ(w->steps[1].target_type, 0);
  EXPECT_EQ(w->steps[1].target_low, std::round(1e6 / 255));
  EXPECT_EQ(w->steps[1].target_high, std::round(1e6 / 245));
  EXPECT_DOUBLE_EQ(RunDistance(*w), day.distance_m);
  // An activity file is not a workout; a damaged workout is refused with its byte.
  std::string damaged = file;
  damaged[40] = static_cast<char>(damaged[40] ^ 0x55);
  Result<importers::FitWorkout> bad = importers::ReadFitWorkout(damaged);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("CRC"), std::string::npos) << bad.status().message();
  EXPECT_FALSE(importers::ReadFitWorkout(file.substr(0, file.size() - 10)).ok());
}

TEST(FitWorkout, GarminsFitSdkDecodesTheSameWorkout) {
  const std::string sdk = STRIDE_FIT_SDK_DIR;
  if (!std::filesystem::exists(sdk + "/node_modules/@garmin/fitsdk") ||
      std::system("node --version > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "Garmin's FIT SDK is not installed: npm ci --prefix tests/fit_sdk (node 20)";
  }
  const std::string path = ::testing::TempDir() + "/stride_workout.fit";
  {
    std::ofstream f(path, std::ios::binary);
    f << FitWorkoutFile(Intervals(), "Intervals", {5, 1.7e9, 7});
  }
  const std::string cmd = "node " + sdk + "/decode.mjs " + path;
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ASSERT_EQ(pclose(p), 0) << out;
  const Json j = Json::parse(out);
  EXPECT_TRUE(j["integrity"].get<bool>());
  EXPECT_TRUE(j["errors"].empty()) << j["errors"];
  const Json& m = j["messages"];
  EXPECT_EQ(m["fileIdMesgs"][0]["type"], "workout");
  EXPECT_EQ(m["fileIdMesgs"][0]["serialNumber"], 7);
  EXPECT_EQ(m["workoutMesgs"][0]["wktName"], "Intervals");
  EXPECT_EQ(m["workoutMesgs"][0]["sport"], "running");
  EXPECT_EQ(m["workoutMesgs"][0]["numValidSteps"], 6);
  // Step for step as Stride's reader has it.
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Result<importers::FitWorkout> ours = importers::ReadFitWorkout(bytes);
  ASSERT_TRUE(ours.ok());
  const Json& steps = m["workoutStepMesgs"];
  ASSERT_EQ(steps.size(), ours->steps.size());
  const std::array<const char*, 6> intensity = {"warmup", "active", "recovery",
                                                nullptr,  "active", "cooldown"};
  for (size_t i = 0; i < steps.size(); ++i) {
    const Json& g = steps[i];
    const importers::FitWorkoutStep& s = ours->steps[i];
    EXPECT_EQ(g["messageIndex"], s.index);
    if (s.duration_type == 6) {
      EXPECT_EQ(g["durationType"], "repeatUntilStepsCmplt");
      EXPECT_EQ(g["durationStep"], s.duration_value);
      EXPECT_EQ(g["repeatSteps"], s.target_value);
      continue;
    }
    EXPECT_EQ(g["durationType"], "distance");
    EXPECT_DOUBLE_EQ(g["durationDistance"].get<double>(), s.duration_value / 100);
    EXPECT_EQ(g["intensity"], intensity[i]);
    EXPECT_EQ(g["targetType"], "speed");
    EXPECT_DOUBLE_EQ(g["customTargetSpeedLow"].get<double>(), s.target_low / 1000);
    EXPECT_DOUBLE_EQ(g["customTargetSpeedHigh"].get<double>(), s.target_high / 1000);
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace stride::engine
