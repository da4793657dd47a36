// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

#include "datasets/synthetic_activity.hpp"
#include "importers/activity/activity_reader.hpp"
#include "importers/activity/fit_crc.hpp"

namespace stride::importers {
namespace {

engine::Track SampleTrack(int laps = 1) {
  datasets::SyntheticRunOptions o;
  o.laps = laps;
  o.noise_m = 2.0;
  o.ele_noise_m = 0.5;
  return datasets::MakeSyntheticRun(o).recorded;
}

void ExpectSameTrack(const engine::Track& want, const engine::Track& got) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); i += 7) {
    EXPECT_NEAR(got.lat_deg[i], want.lat_deg[i], 1e-7) << i;  // semicircles: 8.4e-8 degrees
    EXPECT_NEAR(got.lon_deg[i], want.lon_deg[i], 1e-7) << i;
    EXPECT_NEAR(got.ele_m[i], want.ele_m[i], 0.1) << i;  // 1/5 m resolution
    EXPECT_DOUBLE_EQ(got.time_s[i], std::round(want.time_s[i]));
    EXPECT_DOUBLE_EQ(got.hr_bpm[i], want.hr_bpm[i]);
  }
}

struct Variant {
  const char* name;
  datasets::FitWriteOptions options;
};

class FitRoundTrip : public ::testing::TestWithParam<Variant> {};

TEST_P(FitRoundTrip, DecodesEveryEncoding) {
  const engine::Track want = SampleTrack();
  const std::string bytes = datasets::WriteFit(want, GetParam().options);
  Result<engine::Activity> a = ReadFit(bytes);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_EQ(a->sessions.size(), 1u);
  const engine::Track& t = a->sessions[0];
  ExpectSameTrack(want, t);
  EXPECT_EQ(t.sport, engine::Sport::kRun);
  EXPECT_EQ(a->device, "development 1");
  ASSERT_TRUE(t.device_totals.timer_time_s.has_value());
  EXPECT_NEAR(*t.device_totals.timer_time_s, want.time_s.back() - want.time_s.front(), 0.001);
  ASSERT_EQ(t.timer_events.size(), 2u);
  EXPECT_TRUE(t.timer_events[0].running);
  EXPECT_FALSE(t.timer_events[1].running);
  ASSERT_EQ(t.laps.size(), 1u);
  EXPECT_GT(t.distance_m.back(), 1000.0);
  if (GetParam().options.developer_field) {
    EXPECT_EQ(a->developer_fields, std::vector<std::string>{"Power"});
  } else {
    EXPECT_TRUE(a->developer_fields.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Encodings, FitRoundTrip,
    ::testing::Values(
        Variant{"little_endian", {}}, Variant{"big_endian", {.big_endian = true}},
        Variant{"compressed_timestamps", {.compressed_timestamps = true}},
        Variant{"developer_fields", {.developer_field = true}},
        Variant{"legacy_altitude", {.enhanced_altitude = false}},
        Variant{"everything",
                {.big_endian = true, .compressed_timestamps = true, .developer_field = true}}),
    [](const ::testing::TestParamInfo<Variant>& info) { return std::string(info.param.name); });

TEST(FitReader, ChainedFilesKeepTheirSessionsApart) {
  engine::Track run = SampleTrack();
  engine::Track ride = SampleTrack();
  ride.sport = engine::Sport::kRide;
  for (double& t : ride.time_s) t += 7200;  // two hours later
  const std::string bytes = datasets::WriteFit(run) + datasets::WriteFit(ride);
  Result<engine::Activity> a = ReadFit(bytes);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_EQ(a->sessions.size(), 2u);
  EXPECT_EQ(a->sessions[0].sport, engine::Sport::kRun);
  EXPECT_EQ(a->sessions[1].sport, engine::Sport::kRide);
  EXPECT_EQ(a->sessions[0].size(), run.size());
  EXPECT_EQ(a->sessions[1].size(), ride.size());
}

TEST(FitReader, RejectsABadCrcWithItsOffset) {
  const std::string bytes = datasets::WriteFit(SampleTrack(), {.corrupt_crc = true});
  Result<engine::Activity> a = ReadFit(bytes);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().message().rfind(
                "byte " + std::to_string(bytes.size() - 2) + ": file CRC mismatch", 0),
            0u)
      << a.status().message();
}

TEST(FitReader, ReadsAFileWhoseExporterLeftOutTheCrc) {
  // Data complete, the two CRC bytes missing: some exporters write files like this. The data
  // is read (nothing can check it); one byte less is a truncated file.
  const engine::Track want = SampleTrack();
  const std::string bytes = datasets::WriteFit(want);
  Result<engine::Activity> a = ReadFit(bytes.substr(0, bytes.size() - 2));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->sessions[0].size(), want.size());
  EXPECT_FALSE(ReadFit(bytes.substr(0, bytes.size() - 3)).ok());
}

TEST(FitReader, RejectsTruncatedAndForeignFiles) {
  const std::string bytes = datasets::WriteFit(SampleTrack());
  Result<engine::Activity> cut = ReadFit(bytes.substr(0, bytes.size() / 2));
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.status().message().find("truncated file"), std::string::npos);
  Result<engine::Activity> header = ReadFit(bytes.substr(0, 10));
  ASSERT_FALSE(header.ok());
  EXPECT_NE(header.status().message().find("expected a FIT header"), std::string::npos);
  std::string bad_sig = bytes;
  bad_sig[9] = 'X';
  EXPECT_NE(ReadFit(bad_sig).status().message().find("invalid FIT header"), std::string::npos);
}

TEST(FitReader, RejectsDataForAnUndefinedLocalType) {
  // Header, then a data message for local type 5 that was never defined.
  std::string f = {14, 0x20, 0x54, 0x08, 1, 0, 0, 0, '.', 'F', 'I', 'T', 0, 0, 0x05};
  const uint16_t crc = FitCrc16(reinterpret_cast<const uint8_t*>(f.data()), f.size());
  f.push_back(static_cast<char>(crc & 0xFF));
  f.push_back(static_cast<char>(crc >> 8));
  Result<engine::Activity> a = ReadFit(f);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().message(),
            "byte 14: data message for local type 5, which has no definition (expected a "
            "definition message first)");
}

TEST(FitReader, NeverCrashesOnDamagedBytes) {
  // Flip bytes at random and fix the CRC so the decoder's structure checks, not the CRC, meet
  // the damage. Each result is either a decoded activity or a clear error.
  const std::string good =
      datasets::WriteFit(SampleTrack(), {.compressed_timestamps = true, .developer_field = true});
  std::mt19937 rng(42);
  std::uniform_int_distribution<size_t> pos(14, good.size() - 3);
  std::uniform_int_distribution<int> byte(0, 255);
  int errors = 0;
  for (int trial = 0; trial < 400; ++trial) {
    std::string f = good;
    for (int k = 0; k < 3; ++k) f[pos(rng)] = static_cast<char>(byte(rng));
    const uint16_t crc = FitCrc16(reinterpret_cast<const uint8_t*>(f.data()), f.size() - 2);
    f[f.size() - 2] = static_cast<char>(crc & 0xFF);
    f[f.size() - 1] = static_cast<char>(crc >> 8);
    Result<engine::Activity> a = ReadFit(f);
    if (!a.ok()) {
      ++errors;
      EXPECT_EQ(a.status().message().rfind("byte ", 0), 0u) << a.status().message();
    }
  }
  EXPECT_GT(errors, 0);
}

}  // namespace
}  // namespace stride::importers
