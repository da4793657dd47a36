// SPDX-License-Identifier: Apache-2.0
#include "server/http/parse.hpp"

#include <gtest/gtest.h>

namespace stride::server::http {
namespace {

TEST(ParseRequestHead, ReadsLineHeadersPathAndQuery) {
  HttpRequest r;
  const Status s = ParseRequestHead(
      "GET /v1/routes/r%35?bbox=1,2,3,4&type=a+b&x=%FF&flag HTTP/1.1\r\nHost: h\r\n"
      "Accept:  application/json \r\nX-Empty:",
      &r);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/v1/routes/r5");
  EXPECT_EQ(r.version_minor, 1);
  ASSERT_EQ(r.query.size(), 4u);
  EXPECT_EQ(r.query[0], (std::pair<std::string, std::string>{"bbox", "1,2,3,4"}));
  EXPECT_EQ(r.query[1].second, "a b");
  EXPECT_EQ(r.query[2].second, "\xFF");  // bytes, not text: validated where they are used
  EXPECT_EQ(r.query[3], (std::pair<std::string, std::string>{"flag", ""}));
  EXPECT_EQ(r.Header("accept"), "application/json");
  EXPECT_TRUE(r.HasHeader("x-empty"));
  EXPECT_EQ(r.Header("X-Empty"), "");
  EXPECT_EQ(r.Header("Missing"), "");
}

TEST(ParseRequestHead, RefusesMalformedHeadsWithTheReason) {
  struct Case {
    const char* head;
    const char* why;
  };
  const Case cases[] = {
      {"GET /x", "request line"},
      {"GET /x HTTP/2.0", "unsupported version"},
      {"GET x HTTP/1.1", "must start with '/'"},
      {"GET /a b HTTP/1.1", "request line"},
      {"G(T /x HTTP/1.1", "not a token"},
      {"GET /x HTTP/1.1\r\nNoColon", "expected 'Name: value'"},
      {"GET /x HTTP/1.1\r\nBad Name: v", "invalid name"},
      {"GET /x HTTP/1.1\r\n folded", "folding"},
      {"GET /x HTTP/1.1\r\nX: a\x01"
       "b",
       "control character"},
  };
  for (const Case& c : cases) {
    HttpRequest r;
    const Status s = ParseRequestHead(c.head, &r);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.head;
    EXPECT_NE(s.message().find(c.why), std::string::npos) << c.head << " -> " << s.message();
  }
  std::string many = "GET / HTTP/1.1";
  for (int i = 0; i < 101; ++i) many += "\r\nH" + std::to_string(i) + ": v";
  HttpRequest r;
  EXPECT_NE(ParseRequestHead(many, &r).message().find("more than 100"), std::string::npos);
}

TEST(PercentDecode, KeepsMalformedEscapes) {
  EXPECT_EQ(PercentDecode("%41%zz%4", false), "A%zz%4");
  EXPECT_EQ(PercentDecode("a+b%2B", true), "a b+");
  EXPECT_EQ(PercentDecode("a+b", false), "a+b");
  EXPECT_EQ(PercentDecode("%00%0A", false), std::string("\0\n", 2));
}

TEST(ChunkedDecoder, DecodesByteByByteAndLeavesTheNextRequest) {
  const std::string wire =
      "4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nTrailer: x\r\n\r\nNEXT";
  ChunkedDecoder d;
  std::string out, pending;
  size_t fed = 0;
  ChunkedDecoder::Result r = ChunkedDecoder::kMore;
  for (; fed < wire.size() && r == ChunkedDecoder::kMore; ++fed) {
    pending += wire[fed];
    size_t used = 0;
    r = d.Feed(pending, &out, &used);
    pending.erase(0, used);
  }
  ASSERT_EQ(r, ChunkedDecoder::kDone);
  EXPECT_EQ(out, "Wikipedia in\r\n\r\nchunks.");
  EXPECT_EQ(wire.substr(fed), "NEXT");
}

TEST(ChunkedDecoder, RefusesBadSizesAndMissingCrlf) {
  for (const char* bad : {"zz\r\n", "5\r\nabcdeX\r\n", "1234567890abcdef0\r\n"}) {
    ChunkedDecoder d;
    std::string out;
    size_t used = 0;
    EXPECT_EQ(d.Feed(bad, &out, &used), ChunkedDecoder::kError) << bad;
    EXPECT_FALSE(d.error().empty());
  }
}

}  // namespace
}  // namespace stride::server::http
