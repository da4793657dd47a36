// SPDX-License-Identifier: Apache-2.0
//
// plugins/api/plugin_call.hpp: what a bundled plugin's handler throws, as the host sees it (the
// answer, the return code, the error), over a host function table that records the calls.
#include "plugins/api/plugin_call.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace stride::plugins {
namespace {

using Json = nlohmann::json;

// What the host was told. The ABI's handles are opaque: the call and the context point here.
struct Seen {
  int answers = 0;
  int status = 0;
  std::string type, body, error;
};

Seen* SeenOf(void* p) {
  return static_cast<Seen*>(p);
}

int Respond(stride_call_t* call, int status, const char* type, const char* body, size_t size) {
  Seen* s = SeenOf(call);
  ++s->answers;
  s->status = status;
  s->type = type ? type : "";
  s->body.assign(body, size);
  return STRIDE_OK;
}

void SetError(stride_host_t* ctx, const char* message) {
  SeenOf(ctx)->error = message;
}

class PluginCall : public ::testing::Test {
 protected:
  void SetUp() override {
    host_.struct_size = sizeof(stride_host_api_t);
    host_.respond = Respond;
    host_.set_error = SetError;
  }
  stride_call_t* call() { return reinterpret_cast<stride_call_t*>(&seen_); }
  stride_host_t* ctx() { return reinterpret_cast<stride_host_t*>(&seen_); }

  stride_host_api_t host_{};
  Seen seen_;
  int failed_ = 0;
};

TEST_F(PluginCall, AnAnswerMadeByTheHandlerIsTheOnlyOne) {
  const int rc = HandleCall(&host_, ctx(), call(), [&] {
    RespondJson(&host_, call(), 201, Json{{"id", "r1"}, {"name", "caf\xC3\xA9"}});
  });
  EXPECT_EQ(rc, STRIDE_OK);
  EXPECT_EQ(seen_.answers, 1);
  EXPECT_EQ(seen_.status, 201);
  EXPECT_EQ(seen_.type, "application/json");
  EXPECT_EQ(Json::parse(seen_.body), (Json{{"id", "r1"}, {"name", "caf\xC3\xA9"}}));
  EXPECT_EQ(seen_.error, "");
}

TEST_F(PluginCall, AClientErrorIsAnsweredAndIsNoPluginFailure) {
  const int rc = HandleCall(
      &host_, ctx(), call(),
      [] {
        throw ApiError{404, "not_found", "no such plan day"};
      },
      [&] { ++failed_; });
  EXPECT_EQ(rc, STRIDE_OK);
  EXPECT_EQ(seen_.status, 404);
  EXPECT_EQ(Json::parse(seen_.body),
            (Json{{"error", {{"code", "not_found"}, {"message", "no such plan day"}}}}));
  EXPECT_EQ(failed_, 0);  // a 4xx comes from checks made before anything changed
}

TEST_F(PluginCall, AnUpstreamsFailureIsAnsweredAsSuchNotReportedAsThePlugins) {
  // A provider's message may hold any bytes: the answer is still valid JSON.
  for (int status : {502, 504}) {
    seen_ = {};
    const int rc = HandleCall(
        &host_, ctx(), call(),
        [&] {
          throw ApiError{status, "provider_failed", "upstream said \xFF\xFE"};
        },
        [&] { ++failed_; });
    EXPECT_EQ(rc, STRIDE_OK) << status;
    EXPECT_EQ(seen_.status, status);
    EXPECT_EQ(Json::parse(seen_.body)["error"]["message"],
              "upstream said \xEF\xBF\xBD\xEF\xBF\xBD");
  }
  EXPECT_EQ(failed_, 2);  // still a 5xx: what the plugin cached may be stale
}

TEST_F(PluginCall, AnInternalErrorIsAnsweredAndReported) {
  const int rc = HandleCall(
      &host_, ctx(), call(),
      [] {
        throw ApiError{500, "internal", "store: disk full"};
      },
      [&] { ++failed_; });
  EXPECT_EQ(rc, STRIDE_E_INTERNAL);
  EXPECT_EQ(seen_.status, 500);
  EXPECT_EQ(Json::parse(seen_.body)["error"]["code"], "internal");
  EXPECT_EQ(failed_, 1);
}

TEST_F(PluginCall, AnyOtherExceptionIsTheCallsErrorForTheHostToAnswer) {
  const int rc = HandleCall(
      &host_, ctx(), call(), [] { const Json j = Json::parse("{not json"); }, [&] { ++failed_; });
  EXPECT_EQ(rc, STRIDE_E_INTERNAL);
  EXPECT_EQ(seen_.answers, 0);
  EXPECT_NE(seen_.error.find("parse error"), std::string::npos) << seen_.error;
  EXPECT_EQ(failed_, 1);
}

TEST_F(PluginCall, EventsReportWhatTheirHandlerThrows) {
  EXPECT_EQ(HandleEvent(&host_, ctx(), [] {}), STRIDE_OK);
  EXPECT_EQ(seen_.error, "");
  EXPECT_EQ(HandleEvent(
                &host_, ctx(),
                [] {
                  throw ApiError{409, "conflict", "plan changed meanwhile"};
                },
                [&] { ++failed_; }),
            STRIDE_E_INTERNAL);
  EXPECT_EQ(seen_.error, "plan changed meanwhile");
  EXPECT_EQ(HandleEvent(
                &host_, ctx(), [] { throw std::runtime_error("kv: closed"); }, [&] { ++failed_; }),
            STRIDE_E_INTERNAL);
  EXPECT_EQ(seen_.error, "kv: closed");
  EXPECT_EQ(failed_, 2);
  EXPECT_EQ(seen_.answers, 0);  // events answer no call
}

}  // namespace
}  // namespace stride::plugins
