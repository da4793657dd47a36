// SPDX-License-Identifier: Apache-2.0
#include "server/params.hpp"

#include <gtest/gtest.h>

namespace stride::server {
namespace {

TEST(Params, NumbersSayWhichParameterAndWhatWasExpected) {
  Result<double> ok = ParseNumber("lat", "42.5", -90, 90);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 42.5);
  Result<double> word = ParseNumber("lat", "north", -90, 90);
  ASSERT_FALSE(word.ok());
  EXPECT_EQ(word.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(word.status().message(), "lat: 'north' is not a number");
  Result<double> far = ParseNumber("lat", "91", -90, 90);
  ASSERT_FALSE(far.ok());
  EXPECT_EQ(far.status().message(), "lat: 91 is out of range [-90, 90]");
  EXPECT_FALSE(ParseNumber("x", "1e400", 0, 1e9).ok());  // not finite
  EXPECT_FALSE(ParseNumber("x", "nan", 0, 1e9).ok());
  EXPECT_FALSE(ParseNumber("x", "5 ", 0, 10).ok());  // trailing text
  EXPECT_FALSE(ParseNumber("x", "", 0, 10).ok());
}

TEST(Params, OptionalNumbersAndLimits) {
  const Params p = {{"k", "7"}, {"max", "2.5"}, {"frac", "2.5"}, {"zero", "0"}};
  Result<std::optional<double>> absent = OptionalNumber(p, "nope", 0, 1);
  ASSERT_TRUE(absent.ok());
  EXPECT_FALSE(absent->has_value());
  Result<std::optional<double>> max = OptionalNumber(p, "max", 0, 10);
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(**max, 2.5);
  EXPECT_EQ(*Limit(p, "k", 10, 500), 7u);
  EXPECT_EQ(*Limit(p, "none", 10, 500), 10u);
  Result<size_t> frac = Limit(p, "frac", 10, 500);
  ASSERT_FALSE(frac.ok());
  EXPECT_EQ(frac.status().message(), "frac: 2.5 is not a whole number");
  Result<size_t> zero = Limit(p, "zero", 10, 500);
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.status().message(), "zero: 0 is out of range [1, 500]");
}

TEST(Params, UnknownParametersAreNamed) {
  EXPECT_TRUE(CheckKnown({{"limit", "5"}}, {"before", "limit"}).ok());
  const Status s = CheckKnown({{"limit", "5"}, {"sort", "x"}}, {"before", "limit"});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "sort: unknown parameter (expected before, limit)");
}

TEST(Params, SplitCommaKeepsEmptyItems) {
  EXPECT_EQ(SplitComma("a,b,,c"), (std::vector<std::string>{"a", "b", "", "c"}));
  EXPECT_EQ(SplitComma(""), (std::vector<std::string>{""}));
}

}  // namespace
}  // namespace stride::server
