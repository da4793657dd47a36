// SPDX-License-Identifier: Apache-2.0
#include "engine/text/number.hpp"

#include <gtest/gtest.h>

namespace stride::engine {
namespace {

TEST(Number, AFiniteNumberInRangeAndNothingElse) {
  EXPECT_EQ(*ParseNumber("x", "42.5", -90, 90), 42.5);
  EXPECT_EQ(*ParseNumber("x", "-1e2", -100, 0), -100);
  EXPECT_EQ(*ParseNumber("x", ".5", 0, 1), 0.5);
  const Result<double> word = ParseNumber("lat", "north", -90, 90);
  ASSERT_FALSE(word.ok());
  EXPECT_EQ(word.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(word.status().message(), "lat: 'north' is not a number");
  EXPECT_EQ(ParseNumber("lat", "91", -90, 90).status().message(),
            "lat: 91 is out of range [-90, 90]");
  EXPECT_EQ(ParseNumber("f", "0.1", 0.25, 0.5).status().message(),
            "f: 0.1 is out of range [0.25, 0.5]");
  // What strtod would have taken: spaces, '+', hex, words for infinity; and nothing at all.
  for (const char* bad : {" 5", "5 ", "+5", "0x10", "inf", "nan", "1e400", "", "5,0", "-"}) {
    EXPECT_FALSE(ParseNumber("x", bad, -1e9, 1e9).ok()) << "'" << bad << "'";
  }
}

TEST(Number, AWholeNumberInRangeAndNothingElse) {
  EXPECT_EQ(*ParseWholeNumber("limit", "500", 1, 500), 500);
  EXPECT_EQ(*ParseWholeNumber("n", "-3", -5, 5), -3);
  EXPECT_EQ(*ParseWholeNumber("n", "9223372036854775807", 0, INT64_MAX), INT64_MAX);
  EXPECT_EQ(ParseWholeNumber("limit", "0", 1, 500).status().message(),
            "limit: 0 is out of range [1, 500]");
  EXPECT_EQ(ParseWholeNumber("limit", "2.5", 1, 500).status().message(),
            "limit: 2.5 is not a whole number");
  EXPECT_EQ(ParseWholeNumber("limit", "ten", 1, 500).status().message(),
            "limit: 'ten' is not a whole number");
  // An overflow is out of range, not the largest number (strtoull's answer).
  EXPECT_EQ(ParseWholeNumber("before", "99999999999999999999", 0, INT64_MAX).status().message(),
            "before: 99999999999999999999 is out of range [0, 9223372036854775807]");
  for (const char* bad : {" 5", "5 ", "+5", "0x10", "5.0", "5e0", "", "-", "1,000"}) {
    EXPECT_FALSE(ParseWholeNumber("x", bad, -1000000, 1000000).ok()) << "'" << bad << "'";
  }
}

TEST(Number, TheTextInAMessageIsEscapedAndCut) {
  // A client's megabyte of "limit", or a newline in it, is not echoed back whole.
  const std::string big(100000, '7');
  const std::string m = ParseWholeNumber("limit", big + "x", 1, 500).status().message();
  EXPECT_LT(m.size(), 150u) << m;
  EXPECT_EQ(m.rfind("limit: '7777", 0), 0u) << m;
  EXPECT_LT(ParseNumber("x", big, 0, 1).status().message().size(), 150u);
  EXPECT_EQ(ParseNumber("lat", "1\n2", -90, 90).status().message(),
            "lat: '1\\x0A2' is not a number");
}

TEST(Number, NumbersInMessagesReadBackTheSame) {
  EXPECT_EQ(NumberForMessage(1), "1");
  EXPECT_EQ(NumberForMessage(0.1), "0.1");
  EXPECT_EQ(NumberForMessage(-90), "-90");
  EXPECT_EQ(NumberForMessage(1e30), "1e+30");
  EXPECT_EQ(NumberForMessage(0.000125), "0.000125");
  // Whole numbers in digits, as an operator writes them (it was "1e+05").
  EXPECT_EQ(NumberForMessage(1e5), "100000");
  EXPECT_EQ(NumberForMessage(-2.5e6), "-2500000");
  EXPECT_EQ(NumberForMessage(1e15), "1e+15");
  EXPECT_EQ(ParseNumber("distance_m", "1e9", 500, 1e5).status().message(),
            "distance_m: 1e9 is out of range [500, 100000]");
}

}  // namespace
}  // namespace stride::engine
