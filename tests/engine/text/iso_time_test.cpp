// SPDX-License-Identifier: Apache-2.0
#include "engine/text/iso_time.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <ctime>
#include <random>
#include <string>

namespace stride::engine {
namespace {

TEST(IsoTime, KnownInstants) {
  EXPECT_EQ(FormatIsoTime(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatIsoTime(1.6e9), "2020-09-13T12:26:40Z");
  EXPECT_EQ(FormatIsoTime(-1), "1969-12-31T23:59:59Z");
  EXPECT_EQ(FormatIsoTime(951782400), "2000-02-29T00:00:00Z");
  EXPECT_EQ(FormatIsoTime(1.6e9 + 0.25, 3), "2020-09-13T12:26:40.250Z");
  EXPECT_EQ(FormatIsoTime(1.6e9 + 0.9996, 3), "2020-09-13T12:26:41.000Z");  // rounds up
  EXPECT_EQ(FormatIsoTime(-0.5, 1), "1969-12-31T23:59:59.5Z");
  EXPECT_EQ(FormatIsoTime(std::nan("")), "");
  EXPECT_EQ(FormatIsoTime(1e300), "");
}

TEST(IsoTime, YearOneHasFourDigits) {
  // The hostile test saw "1-01-01T00:00:00Z" from strftime's %Y.
  const double year1 = static_cast<double>(DaysFromCivil(1, 1, 1)) * 86400;
  EXPECT_EQ(FormatIsoTime(year1), "0001-01-01T00:00:00Z");
  EXPECT_EQ(FormatIsoTime(static_cast<double>(DaysFromCivil(9999, 12, 31)) * 86400 + 86399),
            "9999-12-31T23:59:59Z");
  EXPECT_EQ(FormatIsoTime(static_cast<double>(DaysFromCivil(10000, 1, 1)) * 86400),
            "+10000-01-01T00:00:00Z");
  EXPECT_EQ(FormatIsoTime(static_cast<double>(DaysFromCivil(-1, 6, 1)) * 86400),
            "-0001-06-01T00:00:00Z");
}

TEST(IsoTime, AgreesWithGmtimeOnRandomInstants) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<long long> secs(-62135596800LL, 253402300799LL);  // 1-9999
  for (int i = 0; i < 20000; ++i) {
    const std::time_t t = secs(rng);
    std::tm tm{};
    ASSERT_NE(gmtime_r(&t, &tm), nullptr);
    char want[40];
    std::snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    ASSERT_EQ(FormatIsoTime(static_cast<double>(t)), want) << t;
    long long y = 0;
    unsigned m = 0, d = 0;
    CivilFromDays(DaysFromCivil(tm.tm_year + 1900, static_cast<unsigned>(tm.tm_mon + 1),
                                static_cast<unsigned>(tm.tm_mday)),
                  &y, &m, &d);
    ASSERT_EQ(y, tm.tm_year + 1900);
    ASSERT_EQ(m, static_cast<unsigned>(tm.tm_mon + 1));
    ASSERT_EQ(d, static_cast<unsigned>(tm.tm_mday));
  }
}

TEST(ParseIsoTime, ZonesAndFractions) {
  double t;
  ASSERT_TRUE(ParseIsoTime("1970-01-01T00:00:00Z", &t));
  EXPECT_EQ(t, 0.0);
  ASSERT_TRUE(ParseIsoTime("2018-05-13T16:11:03.250+02:00", &t));
  EXPECT_EQ(t, 1526220663.25);
  ASSERT_TRUE(ParseIsoTime("2000-02-29 12:00:00", &t));
  EXPECT_EQ(t, 951825600.0);
  EXPECT_FALSE(ParseIsoTime("2018-13-01T00:00:00Z", &t));
  EXPECT_FALSE(ParseIsoTime("2018-05-13T16:11", &t));
  EXPECT_FALSE(ParseIsoTime("2018-05-13T16:11:03Zjunk", &t));
}

TEST(ParseIsoTime, ReadsBackEveryTextTheFormatterWrites) {
  // Fuzzing found a GPX export dated "-0003-12-07T17:29:58.546Z" (times extrapolated back from a
  // year-0 fix) that the reader refused: the expanded years must read back too.
  double t;
  ASSERT_TRUE(ParseIsoTime("-0003-12-07T17:29:58.546Z", &t));
  EXPECT_EQ(t,
            static_cast<double>(DaysFromCivil(-3, 12, 7)) * 86400 + 17 * 3600 + 29 * 60 + 58.546);
  ASSERT_TRUE(ParseIsoTime("+10000-01-01T00:00:00Z", &t));
  EXPECT_EQ(t, static_cast<double>(DaysFromCivil(10000, 1, 1)) * 86400);
  ASSERT_TRUE(ParseIsoTime("0000-01-01T00:00:00+01:00", &t));
  EXPECT_EQ(t, static_cast<double>(DaysFromCivil(0, 1, 1)) * 86400 - 3600);
  std::mt19937_64 rng(11);
  // Over the formatter's whole range (10^13 s, six-digit years) within a millisecond; where a
  // double still holds the millisecond exactly (here 10^11 s, years -1200 to 5100), to the digit.
  for (const double range : {1e13, 1e11}) {
    std::uniform_real_distribution<double> secs(-range, range);
    for (int i = 0; i < 20000; ++i) {
      const double want = std::round(secs(rng) * 1000) / 1000;
      const std::string text = FormatIsoTime(want, 3);
      ASSERT_TRUE(ParseIsoTime(text, &t)) << text;
      ASSERT_NEAR(t, want, 2e-3) << text;
      if (range < 1e12) {
        ASSERT_EQ(FormatIsoTime(t, 3), text);
      }
    }
  }
  // Malformed years: a sign without four digits, more than six, or a sign and a short year.
  EXPECT_FALSE(ParseIsoTime("-003-12-07T17:29:58Z", &t));
  EXPECT_FALSE(ParseIsoTime("+1234567-01-01T00:00:00Z", &t));
  EXPECT_FALSE(ParseIsoTime("--0003-12-07T17:29:58Z", &t));
  EXPECT_FALSE(ParseIsoTime("-", &t));
  EXPECT_FALSE(ParseIsoTime("10000-01-01T00:00:00Z", &t));  // five digits need the sign
}

}  // namespace
}  // namespace stride::engine
