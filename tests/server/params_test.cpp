// SPDX-License-Identifier: Apache-2.0
#include "server/params.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/route_api.hpp"

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

// The one Status-to-HTTP mapping: a client error keeps its message; a server error shows an
// incident id and keeps the message (a store's path, a database's words) for the log.
TEST(ErrorFromStatus, ClientErrorsSayWhatServerErrorsNameAnIncident) {
  struct Case {
    Status status;
    int http;
    const char* code;
  };
  const Case kCases[] = {{Status::InvalidArgument("limit: 0"), 400, "invalid_argument"},
                         {Status::Unauthenticated("no token"), 401, "unauthenticated"},
                         {Status::PermissionDenied("no scope"), 403, "permission_denied"},
                         {Status::NotFound("no run x"), 404, "not_found"},
                         {Status::AlreadyExists("key reused"), 409, "conflict"},
                         {Status::ResourceExhausted("over 64 MiB"), 413, "too_large"}};
  for (const auto& c : kCases) {
    const ApiResponse r = ErrorFromStatus(c.status);
    EXPECT_EQ(r.status, c.http) << c.status.ToString();
    const nlohmann::json e = nlohmann::json::parse(r.body)["error"];
    EXPECT_EQ(e["code"], c.code);
    EXPECT_EQ(e["message"], c.status.message());
    EXPECT_EQ(r.incident, "");
  }
  const Case kServer[] = {
      {Status::Unavailable("cannot connect to PostgreSQL at /run/pg:5432/runs"), 503,
       "unavailable"},
      {Status::IoError("/srv/stride/runs/000123.sst: No space left on device"), 500, "internal"},
      {Status::Corruption("block checksum mismatch in /srv/stride/runs/000124.sst"), 500,
       "internal"}};
  std::string last_id;
  for (const auto& c : kServer) {
    const ApiResponse r = ErrorFromStatus(c.status);
    EXPECT_EQ(r.status, c.http) << c.status.ToString();
    const nlohmann::json e = nlohmann::json::parse(r.body)["error"];
    EXPECT_EQ(e["code"], c.code);
    const std::string message = e["message"];
    EXPECT_EQ(message.find("/srv"), std::string::npos) << message;
    EXPECT_EQ(message.find("/run/pg"), std::string::npos) << message;
    const size_t at = message.find("(incident ");
    ASSERT_NE(at, std::string::npos) << message;
    const std::string id = message.substr(at + 10, 8);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
    EXPECT_NE(id, last_id);
    last_id = id;
    EXPECT_EQ(r.incident, id + ": " + c.status.ToString());
  }
  EXPECT_EQ(ErrorFromStatus(Status::Unavailable("x")).headers, (HeaderList{{"Retry-After", "2"}}));
}

}  // namespace
}  // namespace stride::server
