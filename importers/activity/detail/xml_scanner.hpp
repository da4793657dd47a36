// SPDX-License-Identifier: Apache-2.0
//
// XmlScanner: a small pull parser for GPX and TCX. It walks a document held in memory and
// yields start tags, end tags and text without copying (views into the buffer), which is what
// makes GPX parsing an order of magnitude faster than a DOM. It checks what a reader of these
// formats needs: tags are closed in order, quotes and comments terminate, nesting is bounded.
// It skips what they do not use: DTDs, processing instructions, comments. Entities are decoded
// on demand in text (ReadText) and attribute values (Attribute).
//
// Names are compared by local name (prefix removed), since exporters disagree on prefixes
// ("gpxtpx:hr", "ns3:hr", "hr").
//
// Thread-safety: one scanner per thread; the document must outlive it.
//
//   XmlScanner x(doc);
//   for (auto ev = x.Next(); ev != XmlScanner::kEnd; ev = x.Next()) {
//     if (ev == XmlScanner::kStart && x.name() == "ele") { auto v = x.ReadText(); ... }
//   }
//   if (!x.status().ok()) ...
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.hpp"

namespace stride::importers::detail {

class XmlScanner {
 public:
  enum Event { kStart, kClose, kEnd };  // kEnd: end of document or error (see status())

  explicit XmlScanner(std::string_view doc);

  // Advances to the next start or end tag (text between tags is skipped unless read with
  // ReadText). A self-closing tag yields kStart then kClose.
  Event Next();

  // Local name of the current tag (no prefix).
  std::string_view name() const { return name_; }

  // The value of attribute `local_name` of the current start tag, entities decoded into a
  // buffer owned by the scanner (valid until the next call). Returns false when absent.
  bool Attribute(std::string_view local_name, std::string_view* value);

  // Both attributes in one pass over the list, as written (entities not decoded); a caller
  // that finds an '&' in a value should ask Attribute() for it. Returns false unless both are
  // present.
  bool RawAttributes(std::string_view name1, std::string_view* value1, std::string_view name2,
                     std::string_view* value2) const;

  // After kStart: returns the element's text content (CDATA included, child elements
  // skipped) and consumes its end tag, so the next event follows the element. Whitespace at
  // both ends is trimmed. The view is valid until the next call.
  std::string_view ReadText();

  // After kStart: skips the element and its children.
  void Skip();

  // Ok, or the first error with its line and column. The message is one line of valid UTF-8
  // whatever the document held: text quoted from it (names, values) has control bytes and
  // invalid UTF-8 written as \xHH (engine::EscapeForLog), so it prints and goes into JSON as is.
  const Status& status() const { return status_; }
  // Sets an error at the current tag (for readers that find a bad value): "line L: message".
  void Fail(std::string_view message);

  // 1-based line of a byte offset.
  size_t LineOf(size_t offset) const;
  size_t tag_offset() const { return tag_offset_; }

 private:
  Event Error(std::string message, size_t offset);
  // Reads the attribute at *cursor (an offset into attrs_): its local name and raw value.
  // Returns false at the end of the list or on a malformed attribute.
  bool NextAttribute(size_t* cursor, std::string_view* local, std::string_view* raw) const;
  bool SkipMarkup();  // at '<!' or '<?'; returns false on error
  static void Decode(std::string_view in, std::string* out);

  std::string_view doc_;
  size_t pos_ = 0;
  size_t tag_offset_ = 0;
  std::string_view name_;
  std::string_view qname_;
  std::string_view attrs_;
  bool self_closing_pending_ = false;
  struct Open {
    std::string_view qname;
    std::string_view name;
  };
  std::vector<Open> stack_;  // open elements
  std::string buffer_;
  Status status_;
};

}  // namespace stride::importers::detail
