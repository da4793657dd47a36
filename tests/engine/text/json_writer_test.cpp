// SPDX-License-Identifier: Apache-2.0
#include "engine/text/json_writer.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "engine/text/round.hpp"

namespace stride::engine {
namespace {

using Json = nlohmann::ordered_json;

std::string One(double v) {
  JsonWriter w;
  w.BeginArray().Number(v).EndArray();
  return std::move(w).Take();
}

// The number in "[number]" as a reader gets it: its text must be a JSON number (RFC 8259's
// grammar, checked here by hand), and strtod (correctly rounded) reads it. NaN when it is not
// one. (nlohmann's DOM parser did the same 400,000 times, most of the test's time under the
// sanitizers.)
double ReadBack(const std::string& text) {
  const double bad = std::numeric_limits<double>::quiet_NaN();
  if (text.size() < 3 || text.front() != '[' || text.back() != ']') return bad;
  const std::string n = text.substr(1, text.size() - 2);
  size_t i = 0;
  auto digits = [&] {
    const size_t from = i;
    while (i < n.size() && n[i] >= '0' && n[i] <= '9') ++i;
    return i - from;
  };
  if (i < n.size() && n[i] == '-') ++i;
  if (i < n.size() && n[i] == '0') {
    ++i;
  } else if (digits() == 0) {
    return bad;
  }
  if (i < n.size() && n[i] == '.') {
    ++i;
    if (digits() == 0) return bad;
  }
  if (i < n.size() && (n[i] == 'e' || n[i] == 'E')) {
    ++i;
    if (i < n.size() && (n[i] == '+' || n[i] == '-')) ++i;
    if (digits() == 0) return bad;
  }
  if (i != n.size()) return bad;
  return std::strtod(n.c_str(), nullptr);
}

TEST(JsonWriter, ReadBackIsAJsonNumbersValue) {
  EXPECT_EQ(ReadBack("[0]"), 0.0);
  EXPECT_EQ(ReadBack("[-0.0005531]"), -0.0005531);
  EXPECT_EQ(ReadBack("[1.5e-7]"), 1.5e-7);
  EXPECT_EQ(ReadBack("[12E+3]"), 12000.0);
  for (const char* bad : {"[]", "[01]", "[1.]", "[.5]", "[+1]", "[1e]", "[inf]", "[nan]", "[0x10]",
                          "[1 ]", "1", "[1,2]", "[--1]"}) {
    EXPECT_TRUE(std::isnan(ReadBack(bad))) << bad;
  }
}

// Every double reads back exactly, and its text is never longer than nlohmann's: both print
// the shortest round-trip text in the fixed range, except where nlohmann's Grisu2 misses the
// shortest (-0.0005531 comes out as -0.0005530999999999999) and std::to_chars does not.
// Common values print byte for byte alike.
TEST(JsonWriter, NumbersReadBackAndAreNeverLongerThanNlohmanns) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> mantissa(-1, 1);
  std::uniform_int_distribution<int> exponent(-3, 8);
  const double units[] = {1e-7, 1e-4, 0.001, 0.1, 1};
  for (int i = 0; i < 200000; ++i) {
    const double m = mantissa(rng);
    const int e = exponent(rng);
    const double v = m * std::pow(10.0, e);
    const double rounded = RoundTo(v, units[static_cast<size_t>(i) % 5]);
    for (const double x : {v, rounded}) {
      const std::string text = One(x);
      ASSERT_EQ(ReadBack(text), x) << text;
      if (x == 0 || std::abs(x) >= 1e-4) {  // nlohmann uses exponents below 1e-4
        ASSERT_LE(text.size(), Json::array({x}).dump().size()) << text;
      }
    }
  }
  for (const double v : {0.0, -0.0, 1.0, -1.0, 1234.0, 0.1, 0.0001, 7.464418, 46.5597285, 1e14,
                         99999999999999.9, 451479.3}) {
    EXPECT_EQ(One(v), Json::array({v}).dump()) << "v = " << v;
  }
}

TEST(JsonWriter, NumbersOutsideTheFixedRangeStillReadBack) {
  for (const double v : {1e-5, -3.25e-9, 5e-324, 1e15, 1.7976931348623157e308, -2.5e20}) {
    const Json j = Json::parse(One(v));
    EXPECT_EQ(j[0].get<double>(), v) << One(v);
  }
  EXPECT_EQ(One(std::numeric_limits<double>::quiet_NaN()), "[null]");
  EXPECT_EQ(One(std::numeric_limits<double>::infinity()), "[null]");
  EXPECT_EQ(One(-std::numeric_limits<double>::infinity()), "[null]");
}

TEST(JsonWriter, WritesNestedDocumentsWithTreesAndRawValues) {
  JsonWriter w;
  w.BeginObject();
  w.Key("a").Int(-42);
  w.Key("empty").BeginArray().EndArray();
  w.Key("nested").BeginArray().BeginObject().Key("x").Number(0.5).EndObject();
  w.BeginArray().Int(1).Int(2).EndArray().EndArray();
  w.Key("tree").Tree(Json{{"name", "bad \xFF byte"}, {"n", 3}});
  w.Key("raw").Raw("null");
  w.Key("last").Raw("true");
  w.EndObject();
  const std::string text = std::move(w).Take();
  EXPECT_EQ(text,
            "{\"a\":-42,\"empty\":[],\"nested\":[{\"x\":0.5},[1,2]],"
            "\"tree\":{\"name\":\"bad \xEF\xBF\xBD byte\",\"n\":3},\"raw\":null,\"last\":true}");
  EXPECT_FALSE(Json::parse(text, nullptr, false).is_discarded());
}

// Strings come out as nlohmann's dump (the reference) writes them: random byte strings, most
// of them valid UTF-8 with quotes, backslashes and control characters, some not (U+FFFD).
TEST(JsonWriter, StringsAreEscapedAsNlohmannEscapesThem) {
  std::mt19937_64 rng(11);
  const std::string pieces[] = {
      "a",    "Z",    " ",    "\"",       "\\",           "/",
      "\n",   "\r",   "\t",   "\b",       "\f",           std::string(1, '\0'),
      "\x01", "\x1f", "\x7f", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x8F\x83"};
  const std::string invalid[] = {"\xFF", "\xC3", "\xE2\x82", "\xC0\xAF", "\xED\xA0\x80"};
  std::uniform_int_distribution<size_t> length(0, 12);
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    for (size_t k = length(rng); k > 0; --k) s += pieces[rng() % std::size(pieces)];
    if (i % 4 == 0) s.insert(rng() % (s.size() + 1), invalid[rng() % std::size(invalid)]);
    JsonWriter w;
    w.BeginArray().String(s).EndArray();
    ASSERT_EQ(std::move(w).Take(), DumpJson(Json::array({s})))
        << Json::array({s}).dump(-1, ' ', true, Json::error_handler_t::replace);
  }
}

TEST(JsonWriter, WritesTheOtherScalars) {
  JsonWriter w;
  w.BeginArray().Bool(true).Bool(false).Null().Uint(18446744073709551615ULL).Int(-7).EndArray();
  EXPECT_EQ(std::move(w).Take(), "[true,false,null,18446744073709551615,-7]");
}

}  // namespace
}  // namespace stride::engine
