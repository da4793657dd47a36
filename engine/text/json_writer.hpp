// SPDX-License-Identifier: Apache-2.0
//
// JSON text written straight into a string, for documents that carry large arrays of numbers
// or are rendered often: a walk of 10,000 points has 20,000-30,000 coordinates and profile
// values, and an nlohmann tree costs an allocation and a node per number, then a second pass
// to print them (on a 450 km directions answer the tree took more time than the search; an
// analysis, 8 KB of JSON, took a sixth of the time of the analysis itself). Parts that are
// already trees can be inserted rendered (Tree).
//
// Strings are escaped as nlohmann's dump escapes them (quote, backslash and control characters;
// other UTF-8 as it is); text that is not valid UTF-8 goes through DumpJson, which writes
// U+FFFD for the invalid bytes, so both paths give the same text.
//
// Numbers print as the shortest text that reads back to the same double (std::to_chars), in
// fixed notation with ".0" on whole numbers: for the rounded numbers Stride prints (0.1 m,
// 1e-7 degrees) that is the text nlohmann prints too. Non-finite numbers print null.
//
// Thread-safety: one writer per thread; no shared state.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/text/json_dump.hpp"

namespace stride::engine {

class JsonWriter {
 public:
  JsonWriter& BeginObject() { return Open('{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray() { return Open('['); }
  JsonWriter& EndArray() { return Close(']'); }

  // REQUIRES: inside an object; `key` is a literal (printable ASCII, no quote or backslash).
  JsonWriter& Key(std::string_view key) {
    Separate();
    out_ += '"';
    out_ += key;
    out_ += "\":";
    after_key_ = true;
    return *this;
  }

  JsonWriter& Number(double v) {
    Separate();
    if (!std::isfinite(v)) {
      out_ += "null";
      return *this;
    }
    char buf[400];  // the longest fixed double is 1 + 309 + 1 + 17 characters
    const std::to_chars_result r =
        std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
    const std::string_view text(buf, static_cast<size_t>(r.ptr - buf));
    out_ += text;
    if (text.find('.') == std::string_view::npos) out_ += ".0";
    return *this;
  }

  // Any text (see the file comment).
  JsonWriter& String(std::string_view text);

  JsonWriter& Bool(bool v) {
    Separate();
    out_ += v ? "true" : "false";
    return *this;
  }

  JsonWriter& Null() {
    Separate();
    out_ += "null";
    return *this;
  }

  JsonWriter& Uint(uint64_t v) { return Integer(v); }
  JsonWriter& Int(int64_t v) { return Integer(v); }

  // One complete value, already rendered (by DumpJson).
  JsonWriter& Raw(std::string_view rendered) {
    Separate();
    out_ += rendered;
    return *this;
  }

  template <typename J>
  JsonWriter& Tree(const J& j) {
    return Raw(DumpJson(j));
  }

  // The text; REQUIRES: every container closed.
  std::string Take() && { return std::move(out_); }

 private:
  JsonWriter& Open(char c) {
    Separate();
    out_ += c;
    first_.push_back(true);
    return *this;
  }
  JsonWriter& Close(char c) {
    out_ += c;
    first_.pop_back();
    return *this;
  }
  template <typename T>
  JsonWriter& Integer(T v) {
    Separate();
    char buf[24];  // 20 digits and a sign at most
    const std::to_chars_result r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
    return *this;
  }
  // The comma before a value or key that is not its container's first.
  void Separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!first_.empty()) {
      if (!first_.back()) out_ += ',';
      first_.back() = false;
    }
  }

  std::string out_;
  std::vector<bool> first_;  // per open container: nothing written in it yet
  bool after_key_ = false;
};

}  // namespace stride::engine
