// SPDX-License-Identifier: Apache-2.0
#include "engine/text/utf8.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engine/text/json_dump.hpp"

namespace stride::engine {
namespace {

TEST(Utf8, AcceptsValidAndFindsTheFirstInvalidByte) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("M\xC3\xA9t\xC3\xA9o \xE2\x82\xAC \xF0\x9F\x8F\x83"));  // é € 🏃
  EXPECT_EQ(ValidUtf8Prefix("ab\xFF"), 2u);
  EXPECT_EQ(ValidUtf8Prefix("ab\xC0\xAF"), 2u);          // overlong '/'
  EXPECT_EQ(ValidUtf8Prefix("ab\xED\xA0\x80"), 2u);      // a surrogate
  EXPECT_EQ(ValidUtf8Prefix("ab\xF4\x90\x80\x80"), 2u);  // past U+10FFFF
  EXPECT_EQ(ValidUtf8Prefix("ab\xE2\x82"), 2u);          // truncated €
}

TEST(Utf8, ReplacesEachMaximalInvalidSubpartOnce) {
  size_t n = 0;
  EXPECT_EQ(ValidUtf8("a\xFF"
                      "b",
                      &n),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(n, 1u);
  // A truncated three-byte sequence is one subpart; the lone continuation byte another.
  n = 0;
  EXPECT_EQ(ValidUtf8("\xE2\x82"
                      "x\x80",
                      &n),
            "\xEF\xBF\xBDx\xEF\xBF\xBD");
  EXPECT_EQ(n, 2u);
  // The Unicode standard's example: C0 AF is two subparts (C0 is never a lead byte).
  n = 0;
  ValidUtf8("\xC0\xAF", &n);
  EXPECT_EQ(n, 2u);
  n = 0;
  EXPECT_EQ(ValidUtf8("ok", &n), "ok");
  EXPECT_EQ(n, 0u);
}

TEST(Utf8, DecodesLatin1AndWindows1252) {
  EXPECT_EQ(Latin1ToUtf8("M\xE9t\xE9o"), "M\xC3\xA9t\xC3\xA9o");
  EXPECT_EQ(Latin1ToUtf8("\xFF"), "\xC3\xBF");
  EXPECT_EQ(Windows1252ToUtf8("\x80 \x93x\x94"), "\xE2\x82\xAC \xE2\x80\x9Cx\xE2\x80\x9D");
  EXPECT_EQ(Windows1252ToUtf8("\x81"), "\xEF\xBF\xBD");  // unassigned
  EXPECT_EQ(Windows1252ToUtf8("\xE9"), "\xC3\xA9");
}

TEST(Utf8, EscapesControlAndInvalidBytesForLogs) {
  EXPECT_EQ(EscapeForLog("/v1/x\nGET /forged"), "/v1/x\\x0AGET /forged");
  EXPECT_EQ(EscapeForLog("a\xFF\\"), "a\\xFF\\x5C");
  EXPECT_EQ(EscapeForLog("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(EscapeForLog(std::string(10, 'a'), 4), "aaaa...");
}

TEST(JsonDump, WritesReplacementCharactersInsteadOfThrowing) {
  const nlohmann::json j = {{"path", "/v1/nothing\xFF"}};
  EXPECT_THROW((void)j.dump(), nlohmann::json::type_error);  // why DumpJson exists
  const std::string text = DumpJson(j);
  EXPECT_EQ(text, "{\"path\":\"/v1/nothing\xEF\xBF\xBD\"}");
  EXPECT_EQ(nlohmann::json::parse(text)["path"], "/v1/nothing\xEF\xBF\xBD");
}

}  // namespace
}  // namespace stride::engine
