// SPDX-License-Identifier: Apache-2.0
#include "engine/time/time_zone.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "engine/text/iso_time.hpp"

namespace stride::engine {
namespace {

double At(int y, unsigned m, unsigned d, int h, int mi) {
  return static_cast<double>(DaysFromCivil(y, m, d)) * 86400 + h * 3600 + mi * 60;
}

TEST(TimeZone, ReadsOffsetsAcrossDaylightSaving) {
  if (!std::filesystem::exists("/usr/share/zoneinfo/Europe/Andorra")) {
    GTEST_SKIP() << "no tz database (apt-get install tzdata)";
  }
  Result<TimeZone> tz = TimeZone::Load("Europe/Andorra");
  ASSERT_TRUE(tz.ok()) << tz.status().message();
  EXPECT_EQ(tz->OffsetAt(At(2026, 1, 15, 12, 0)), 3600);
  EXPECT_EQ(tz->OffsetAt(At(2026, 7, 15, 12, 0)), 7200);
  // 2026-03-29 01:00 UTC: clocks go from 02:00 to 03:00 local.
  EXPECT_EQ(tz->OffsetAt(At(2026, 3, 29, 0, 59)), 3600);
  EXPECT_EQ(tz->OffsetAt(At(2026, 3, 29, 1, 0)), 7200);
  // 22:30 UTC on 14 July is already the 15th in Andorra.
  EXPECT_EQ(tz->LocalDate(At(2026, 7, 14, 22, 30)), "2026-07-15");
  EXPECT_EQ(tz->LocalDate(At(2026, 7, 14, 21, 59)), "2026-07-14");
  int64_t day = 0;
  ASSERT_TRUE(ParseDate("2026-07-15", &day));
  EXPECT_EQ(tz->StartOfLocalDay(day), At(2026, 7, 14, 22, 0));
  Result<TimeZone> auckland = TimeZone::Load("Pacific/Auckland");
  ASSERT_TRUE(auckland.ok());
  EXPECT_EQ(auckland->LocalDate(At(2026, 12, 1, 11, 30)), "2026-12-02");  // UTC+13 in summer
}

TEST(TimeZone, RefusesBadNamesAndUnknownZones) {
  EXPECT_EQ(TimeZone::Load("../../etc/passwd").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(TimeZone::Load("/etc/passwd").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(TimeZone::Load("Mars/Olympus_Mons").status().code(), StatusCode::kNotFound);
  Result<TimeZone> utc = TimeZone::Load("UTC");
  ASSERT_TRUE(utc.ok());
  EXPECT_EQ(utc->OffsetAt(1.7e9), 0);
  EXPECT_EQ(utc->LocalDate(0), "1970-01-01");
}

TEST(ParseDate, AcceptsRealDatesOnly) {
  int64_t d = 0;
  EXPECT_TRUE(ParseDate("2024-02-29", &d));
  EXPECT_EQ(FormatDate(d), "2024-02-29");
  EXPECT_FALSE(ParseDate("2026-02-29", &d));
  EXPECT_FALSE(ParseDate("2026-13-01", &d));
  EXPECT_FALSE(ParseDate("2026-1-01", &d));
  EXPECT_FALSE(ParseDate("20260101xx", &d));
  // The earliest dates a request can reach (a range ending on 0000-01-01).
  EXPECT_TRUE(ParseDate("0000-01-01", &d));
  EXPECT_EQ(FormatDate(d), "0000-01-01");
  EXPECT_EQ(FormatDate(d - 27), "-0001-12-05");
  EXPECT_EQ(FormatDate(DaysFromCivil(-12, 3, 1)), "-0012-03-01");
}

}  // namespace
}  // namespace stride::engine
