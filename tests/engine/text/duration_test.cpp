// SPDX-License-Identifier: Apache-2.0
#include "engine/text/duration.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace stride::engine {
namespace {

TEST(FormatDuration, WritesMinutesOrHoursAsAWatchDoes) {
  EXPECT_EQ(FormatDuration(0), "0:00");
  EXPECT_EQ(FormatDuration(7.4), "0:07");
  EXPECT_EQ(FormatDuration(59.5), "1:00");  // rounded to the second first
  EXPECT_EQ(FormatDuration(48 * 60 + 3), "48:03");
  EXPECT_EQ(FormatDuration(3599.4), "59:59");
  EXPECT_EQ(FormatDuration(3599.5), "1:00:00");
  EXPECT_EQ(FormatDuration(6730), "1:52:10");
  EXPECT_EQ(FormatDuration(100 * 3600 + 61), "100:01:01");
}

TEST(FormatDuration, SaysDashForWhatIsNoDuration) {
  EXPECT_EQ(FormatDuration(std::nan("")), "-");
  EXPECT_EQ(FormatDuration(-1), "-");
  EXPECT_EQ(FormatDuration(std::numeric_limits<double>::infinity()), "-");
  EXPECT_EQ(FormatDuration(1e300), "-");
}

}  // namespace
}  // namespace stride::engine
