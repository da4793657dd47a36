// SPDX-License-Identifier: Apache-2.0
#include "engine/text/printf.hpp"

#include <gtest/gtest.h>

#include <string>

namespace stride::engine {
namespace {

TEST(StringPrintf, FormatsLikePrintf) {
  EXPECT_EQ(StringPrintf("HRV %.0f ms (ln %.2f)", 61.6, 4.1208), "HRV 62 ms (ln 4.12)");
  EXPECT_EQ(StringPrintf("%+.1f against %d", -3.25, 7), "-3.2 against 7");
  EXPECT_EQ(StringPrintf("%s", ""), "");
}

TEST(StringPrintf, KeepsTextLongerThanItsStackBuffer) {
  // The helpers it replaces cut reasons at 200 and 240 bytes.
  const std::string long_name(1000, 'x');
  const std::string s = StringPrintf("[%s] %.1f", long_name.c_str(), 2.25);
  EXPECT_EQ(s.size(), 1000u + 2 + 1 + 3);
  EXPECT_EQ(s.substr(0, 3), "[xx");
  EXPECT_EQ(s.substr(s.size() - 6), "x] 2.2");
}

}  // namespace
}  // namespace stride::engine
