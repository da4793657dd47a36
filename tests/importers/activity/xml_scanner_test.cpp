// SPDX-License-Identifier: Apache-2.0
#include "importers/activity/detail/xml_scanner.hpp"

#include <gtest/gtest.h>

#include <string>

namespace stride::importers::detail {
namespace {

TEST(XmlScanner, WalksTagsAndReadsTextWithEntitiesAndCdata) {
  const std::string doc =
      "\xEF\xBB\xBF<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY y \"z\">]>\n"
      "<a:root xmlns:a=\"u\" k='v &amp; w'><!-- note --><name>Fish &amp; chips &#233;</name>"
      "<c><![CDATA[<raw> & text]]></c><empty/><n> 12.5 </n></a:root>";
  XmlScanner x(doc);
  ASSERT_EQ(x.Next(), XmlScanner::kStart);
  EXPECT_EQ(x.name(), "root");
  std::string_view v;
  ASSERT_TRUE(x.Attribute("k", &v));
  EXPECT_EQ(v, "v & w");
  ASSERT_EQ(x.Next(), XmlScanner::kStart);
  EXPECT_EQ(x.name(), "name");
  EXPECT_EQ(x.ReadText(), "Fish & chips \xC3\xA9");
  ASSERT_EQ(x.Next(), XmlScanner::kStart);
  EXPECT_EQ(x.ReadText(), "<raw> & text");
  ASSERT_EQ(x.Next(), XmlScanner::kStart);
  EXPECT_EQ(x.name(), "empty");
  ASSERT_EQ(x.Next(), XmlScanner::kClose);
  ASSERT_EQ(x.Next(), XmlScanner::kStart);
  EXPECT_EQ(x.ReadText(), "12.5");
  ASSERT_EQ(x.Next(), XmlScanner::kClose);
  EXPECT_EQ(x.name(), "root");
  EXPECT_EQ(x.Next(), XmlScanner::kEnd);
  EXPECT_TRUE(x.status().ok());
}

TEST(XmlScanner, ReportsMismatchedTagsWithTheLine) {
  XmlScanner x("<a>\n<b>\n</a>");
  while (x.Next() != XmlScanner::kEnd) {
  }
  ASSERT_FALSE(x.status().ok());
  EXPECT_EQ(x.status().message(), "line 3: expected </b> but found </a>");
}

// Found by the fuzz targets (fuzz/regressions/gpx): text quoted from the document (a tag name,
// a value) put invalid UTF-8 and line breaks into the error, which is printed as one line and
// put into JSON answers.
TEST(XmlScanner, QuotesDocumentTextEscapedInErrors) {
  XmlScanner x("<a>\n<b\xFF>\n</a>");
  while (x.Next() != XmlScanner::kEnd) {
  }
  ASSERT_FALSE(x.status().ok());
  EXPECT_EQ(x.status().message(), "line 3: expected </b\\xFF> but found </a>");

  XmlScanner y("<gpx><time>2024\n01</time></gpx>");
  ASSERT_EQ(y.Next(), XmlScanner::kStart);
  ASSERT_EQ(y.Next(), XmlScanner::kStart);
  y.Fail("<time> expected a date, found '" + std::string(y.ReadText()) + "'");
  EXPECT_EQ(y.status().message(), "line 1: <time> expected a date, found '2024\\x0A01'");
}

TEST(XmlScanner, ReportsTruncationAndUnterminatedMarkup) {
  for (const char* doc : {"<a><b>text", "<a><!-- never closed", "<a attr=\"x>", "<a><b></b>"}) {
    XmlScanner x(doc);
    while (x.Next() != XmlScanner::kEnd) {
    }
    EXPECT_FALSE(x.status().ok()) << doc;
  }
}

TEST(XmlScanner, RejectsNestingDeeperThanItsLimit) {
  std::string doc;
  for (int i = 0; i < 1000; ++i) doc += "<a>";
  XmlScanner x(doc);
  while (x.Next() != XmlScanner::kEnd) {
  }
  ASSERT_FALSE(x.status().ok());
  EXPECT_NE(x.status().message().find("deeper than 256"), std::string::npos);
}

}  // namespace
}  // namespace stride::importers::detail
