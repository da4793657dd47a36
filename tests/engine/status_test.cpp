// SPDX-License-Identifier: Apache-2.0
#include "engine/status.hpp"

#include <gtest/gtest.h>

#include <string>

namespace stride {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return Status::InvalidArgument("odd: " + std::to_string(x));
  return x / 2;
}

Status Chain(int x) {
  STRIDE_RETURN_IF_ERROR(Half(x).status());
  return Status::Ok();
}

TEST(Status, CarriesCodeAndMessage) {
  const Status s = Status::Corruption("byte 12: bad CRC");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_EQ(s.ToString(), "corruption: byte 12: bad CRC");
  EXPECT_EQ(s.WithContext("run.fit").message(), "run.fit: byte 12: bad CRC");
  EXPECT_EQ(StatusCodeName(StatusCode::kResourceExhausted), "resource_exhausted");
}

TEST(Result, HoldsValueOrStatus) {
  Result<int> ok = Half(8);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 4);
  Result<int> bad = Half(3);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "odd: 3");
  EXPECT_TRUE(Chain(2).ok());
  EXPECT_EQ(Chain(5).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace stride
