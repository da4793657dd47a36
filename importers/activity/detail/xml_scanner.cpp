// SPDX-License-Identifier: Apache-2.0
#include "importers/activity/detail/xml_scanner.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "engine/text/utf8.hpp"

namespace stride::importers::detail {
namespace {

constexpr size_t kMaxDepth = 256;

inline bool IsSpace(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

// Character classes for the byte loops: one table load per byte instead of several compares.
enum : uint8_t { kNameEnd = 1, kColon = 2, kTagSpecial = 4 };
struct CharClasses {
  uint8_t c[256] = {};
  constexpr CharClasses() {
    for (char ch : {' ', '\n', '\r', '\t', '>', '/'}) c[static_cast<uint8_t>(ch)] |= kNameEnd;
    c[static_cast<uint8_t>(':')] |= kColon;
    for (char ch : {'>', '"', '\'', '<'}) c[static_cast<uint8_t>(ch)] |= kTagSpecial;
  }
};
constexpr CharClasses kClass;
inline uint8_t ClassOf(char ch) {
  return kClass.c[static_cast<uint8_t>(ch)];
}

// Position of the first `c` at or after `pos`, or doc.size(). Sixteen bytes a step with SSE2
// (part of every x86-64 CPU): the runs between markup are short, where memchr's call costs
// more than the scan.
inline size_t FindChar(std::string_view doc, size_t pos, char c) {
  const char* d = doc.data();
  const size_t n = doc.size();
#if defined(__SSE2__)
  const __m128i needle = _mm_set1_epi8(c);
  while (pos + 16 <= n) {
    const __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + pos));
    const int mask = _mm_movemask_epi8(_mm_cmpeq_epi8(block, needle));
    if (mask != 0) return pos + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
    pos += 16;
  }
#endif
  for (; pos < n; ++pos) {
    if (d[pos] == c) return pos;
  }
  return n;
}

// End of a tag name at or after `pos` (first space, tab, CR, LF, '>' or '/'), and the last
// ':' before it in *colon (0 when none). Sixteen bytes a step where SSE2 is available.
inline size_t NameEnd(std::string_view doc, size_t pos, size_t* colon) {
  const char* d = doc.data();
  const size_t n = doc.size();
#if defined(__SSE2__)
  while (pos + 16 <= n) {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + pos));
    // Name ends: ' ' '>' '/' and the control characters '\t' '\n' '\r' (all <= ' ').
    const __m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(b, _mm_set1_epi8(' ')), b);
    const __m128i end = _mm_or_si128(ctl, _mm_or_si128(_mm_cmpeq_epi8(b, _mm_set1_epi8('>')),
                                                       _mm_cmpeq_epi8(b, _mm_set1_epi8('/'))));
    const unsigned end_mask = static_cast<unsigned>(_mm_movemask_epi8(end));
    unsigned colon_mask =
        static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(b, _mm_set1_epi8(':'))));
    if (end_mask != 0) {
      const unsigned e = static_cast<unsigned>(__builtin_ctz(end_mask));
      colon_mask &= (1u << e) - 1;
      if (colon_mask != 0) *colon = pos + 31 - static_cast<size_t>(__builtin_clz(colon_mask));
      return pos + e;
    }
    if (colon_mask != 0) *colon = pos + 31 - static_cast<size_t>(__builtin_clz(colon_mask));
    pos += 16;
  }
#endif
  for (uint8_t cls; pos < n && !((cls = ClassOf(d[pos])) & kNameEnd); ++pos) {
    if (cls & kColon) *colon = pos;
  }
  return pos;
}

// a == b for short names: eight bytes a step, no library call.
inline bool SameBytes(const char* a, const char* b, size_t n) {
  size_t k = 0;
  for (; k + 8 <= n; k += 8) {
    uint64_t x, y;
    std::memcpy(&x, a + k, 8);
    std::memcpy(&y, b + k, 8);
    if (x != y) return false;
  }
  for (; k < n; ++k) {
    if (a[k] != b[k]) return false;
  }
  return true;
}

inline std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

void AppendUtf8(unsigned long cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x110000) {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

XmlScanner::XmlScanner(std::string_view doc) : doc_(doc) {
  // Byte-order mark.
  if (doc_.size() >= 3 && static_cast<unsigned char>(doc_[0]) == 0xEF &&
      static_cast<unsigned char>(doc_[1]) == 0xBB && static_cast<unsigned char>(doc_[2]) == 0xBF) {
    pos_ = 3;
  }
}

size_t XmlScanner::LineOf(size_t offset) const {
  offset = std::min(offset, doc_.size());
  return 1 + static_cast<size_t>(
                 std::count(doc_.begin(), doc_.begin() + static_cast<long>(offset), '\n'));
}

XmlScanner::Event XmlScanner::Error(std::string message, size_t offset) {
  if (status_.ok()) {
    status_ = Status::InvalidArgument("line " + std::to_string(LineOf(offset)) + ": " +
                                      engine::EscapeForLog(message));
  }
  pos_ = doc_.size();
  return kEnd;
}

void XmlScanner::Fail(std::string_view message) {
  Error(std::string(message), tag_offset_);
}

bool XmlScanner::SkipMarkup() {
  const size_t start = pos_;
  const std::string_view rest = doc_.substr(pos_);
  size_t end;
  if (rest.starts_with("<!--")) {
    end = doc_.find("-->", pos_ + 4);
    if (end == std::string_view::npos) return Error("unterminated comment", start), false;
    pos_ = end + 3;
  } else if (rest.starts_with("<?")) {
    end = doc_.find("?>", pos_ + 2);
    if (end == std::string_view::npos)
      return Error("unterminated processing instruction", start), false;
    pos_ = end + 2;
  } else if (rest.starts_with("<![CDATA[")) {
    end = doc_.find("]]>", pos_ + 9);
    if (end == std::string_view::npos) return Error("unterminated CDATA section", start), false;
    pos_ = end + 3;
  } else {  // <!DOCTYPE ...> possibly with an internal subset in brackets
    size_t i = pos_ + 2;
    int bracket = 0;
    for (; i < doc_.size(); ++i) {
      if (doc_[i] == '[')
        ++bracket;
      else if (doc_[i] == ']')
        --bracket;
      else if (doc_[i] == '>' && bracket <= 0)
        break;
    }
    if (i >= doc_.size()) return Error("unterminated <! declaration", start), false;
    pos_ = i + 1;
  }
  return true;
}

XmlScanner::Event XmlScanner::Next() {
  if (self_closing_pending_) {
    self_closing_pending_ = false;
    stack_.pop_back();
    return kClose;
  }
  while (true) {
    const size_t lt = FindChar(doc_, pos_, '<');
    if (lt >= doc_.size()) {
      if (!stack_.empty()) {
        return Error(
            "unexpected end of document: expected </" + std::string(stack_.back().qname) + ">",
            doc_.size());
      }
      pos_ = doc_.size();
      return kEnd;
    }
    pos_ = lt;
    tag_offset_ = pos_;
    if (pos_ + 1 >= doc_.size()) return Error("unexpected end of document inside a tag", pos_);
    const char c = doc_[pos_ + 1];
    if (c == '!' || c == '?') {
      if (!SkipMarkup()) return kEnd;
      continue;
    }
    if (c == '/') {
      const size_t gt = FindChar(doc_, pos_ + 2, '>');
      if (gt >= doc_.size()) return Error("unterminated end tag", pos_);
      const std::string_view q = Trim(doc_.substr(pos_ + 2, gt - pos_ - 2));
      if (stack_.empty()) return Error("unexpected end tag </" + std::string(q) + ">", pos_);
      const std::string_view open = stack_.back().qname;
      if (q.size() != open.size() || !SameBytes(q.data(), open.data(), q.size())) {
        return Error("expected </" + std::string(stack_.back().qname) + "> but found </" +
                         std::string(q) + ">",
                     pos_);
      }
      qname_ = q;
      name_ = stack_.back().name;
      stack_.pop_back();
      pos_ = gt + 1;
      return kClose;
    }
    // Start tag: name, then attributes up to '>' outside quotes.
    size_t colon = 0;
    size_t i = NameEnd(doc_, pos_ + 1, &colon);
    if (i == pos_ + 1) return Error("expected a tag name after '<'", pos_);
    // The names from locals, not read back from the members just written: a 16-byte load of
    // a view stored as two 8-byte halves cannot be forwarded from the store buffer, and that
    // stall was a fifth of this function's time.
    const std::string_view qname = doc_.substr(pos_ + 1, i - pos_ - 1);
    const std::string_view name = colon > 0 ? doc_.substr(colon + 1, i - colon - 1) : qname;
    qname_ = qname;
    name_ = name;
    const size_t attr_begin = i;
    // The tag ends at the first '>' outside quotes; quoted values are skipped whole.
    for (; i < doc_.size(); ++i) {
      const char ch = doc_[i];
      if (!(ClassOf(ch) & kTagSpecial)) continue;
      if (ch == '>') break;
      if (ch == '"' || ch == '\'') {
        i = FindChar(doc_, i + 1, ch);
        if (i >= doc_.size()) break;
      } else {  // '<'
        return Error("'<' inside tag <" + std::string(qname) + ">", i);
      }
    }
    if (i >= doc_.size()) return Error("unterminated tag <" + std::string(qname) + ">", pos_);
    const bool self_closing = i > attr_begin && doc_[i - 1] == '/';
    attrs_ = doc_.substr(attr_begin, (self_closing ? i - 1 : i) - attr_begin);
    pos_ = i + 1;
    if (stack_.size() >= kMaxDepth) return Error("elements nested deeper than 256", tag_offset_);
    stack_.push_back({qname, name});
    self_closing_pending_ = self_closing;
    return kStart;
  }
}

bool XmlScanner::NextAttribute(size_t* cursor, std::string_view* local,
                               std::string_view* raw) const {
  // Attribute lists are short: plain loops, and the SIMD scan for the closing quote.
  const char* p = attrs_.data() + *cursor;
  const char* const e = attrs_.data() + attrs_.size();
  while (p < e && IsSpace(*p)) ++p;
  if (p >= e) return false;
  const char* key = p;
  const char* colon = nullptr;
  while (p < e && *p != '=' && !IsSpace(*p)) {
    if (*p == ':') colon = p;
    ++p;
  }
  *local = colon ? std::string_view(colon + 1, static_cast<size_t>(p - colon - 1))
                 : std::string_view(key, static_cast<size_t>(p - key));
  while (p < e && IsSpace(*p)) ++p;
  if (p >= e || *p != '=') return false;
  ++p;
  while (p < e && IsSpace(*p)) ++p;
  if (p >= e || (*p != '"' && *p != '\'')) return false;
  const char q = *p++;
  const size_t open = static_cast<size_t>(p - attrs_.data());
  const size_t close = FindChar(attrs_, open, q);
  if (close >= attrs_.size()) return false;
  *raw = attrs_.substr(open, close - open);
  *cursor = close + 1;
  return true;
}

bool XmlScanner::Attribute(std::string_view local_name, std::string_view* value) {
  size_t cursor = 0;
  std::string_view local, raw;
  while (NextAttribute(&cursor, &local, &raw)) {
    if (local != local_name) continue;
    if (FindChar(raw, 0, '&') >= raw.size()) {
      *value = raw;
    } else {
      buffer_.clear();
      Decode(raw, &buffer_);
      *value = buffer_;
    }
    return true;
  }
  return false;
}

bool XmlScanner::RawAttributes(std::string_view name1, std::string_view* value1,
                               std::string_view name2, std::string_view* value2) const {
  size_t cursor = 0;
  std::string_view local, raw;
  bool got1 = false, got2 = false;
  // Names compared without a library call (string_view's == calls memcmp): this runs for
  // every <trkpt lat lon>.
  auto same = [](std::string_view a, std::string_view b) {
    return a.size() == b.size() && SameBytes(a.data(), b.data(), a.size());
  };
  while (!(got1 && got2) && NextAttribute(&cursor, &local, &raw)) {
    if (!got1 && same(local, name1)) {
      *value1 = raw;
      got1 = true;
    } else if (!got2 && same(local, name2)) {
      *value2 = raw;
      got2 = true;
    }
  }
  return got1 && got2;
}

void XmlScanner::Decode(std::string_view in, std::string* out) {
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '&') {
      out->push_back(in[i]);
      continue;
    }
    const size_t semi = in.find(';', i);
    if (semi == std::string_view::npos || semi - i > 10) {
      out->push_back('&');
      continue;
    }
    const std::string_view ent = in.substr(i + 1, semi - i - 1);
    if (ent == "lt")
      out->push_back('<');
    else if (ent == "gt")
      out->push_back('>');
    else if (ent == "amp")
      out->push_back('&');
    else if (ent == "quot")
      out->push_back('"');
    else if (ent == "apos")
      out->push_back('\'');
    else if (!ent.empty() && ent[0] == '#') {
      unsigned long cp = 0;
      const bool hex = ent.size() > 1 && (ent[1] == 'x' || ent[1] == 'X');
      for (size_t k = hex ? 2 : 1; k < ent.size(); ++k) {
        const char ch = ent[k];
        int d = -1;
        if (ch >= '0' && ch <= '9')
          d = ch - '0';
        else if (hex && ch >= 'a' && ch <= 'f')
          d = ch - 'a' + 10;
        else if (hex && ch >= 'A' && ch <= 'F')
          d = ch - 'A' + 10;
        if (d < 0 || cp > 0x10FFFF) break;
        cp = cp * (hex ? 16 : 10) + static_cast<unsigned long>(d);
      }
      AppendUtf8(cp, out);
    } else {
      out->append(in.substr(i, semi - i + 1));  // unknown entity: keep as written
    }
    i = semi;
  }
}

std::string_view XmlScanner::ReadText() {
  if (self_closing_pending_) {
    self_closing_pending_ = false;
    stack_.pop_back();
    return {};
  }
  const size_t depth = stack_.size();
  // Fast path: plain text up to the matching end tag.
  const size_t p = FindChar(doc_, pos_, '<');
  if (p < doc_.size()) {
    if (p + 1 < doc_.size() && doc_[p + 1] == '/') {
      const std::string_view text = doc_.substr(pos_, p - pos_);
      // Most elements read this way are leaves closed right after their text: check the end
      // tag in place, else let Next() parse (and diagnose) it.
      const std::string_view q = stack_.back().qname;
      const size_t after = p + 2 + q.size();
      if (after < doc_.size() && doc_[after] == '>' &&
          SameBytes(doc_.data() + p + 2, q.data(), q.size())) {
        qname_ = q;
        name_ = stack_.back().name;
        stack_.pop_back();
        pos_ = after + 1;
      } else {
        pos_ = p;
        if (Next() != kClose || !status_.ok()) return {};
      }
      const std::string_view t = Trim(text);
      if (FindChar(t, 0, '&') >= t.size()) return t;
      buffer_.clear();
      Decode(t, &buffer_);
      return buffer_;
    }
  }
  // General path: CDATA, comments or child elements inside.
  buffer_.clear();
  std::string raw;
  while (status_.ok() && pos_ < doc_.size()) {
    const size_t next_lt = doc_.find('<', pos_);
    if (next_lt == std::string_view::npos) break;
    if (stack_.size() == depth) raw.append(doc_.substr(pos_, next_lt - pos_));
    pos_ = next_lt;
    const std::string_view rest = doc_.substr(pos_);
    if (rest.starts_with("<!--") || rest.starts_with("<?")) {
      if (!SkipMarkup()) return {};
      continue;
    }
    if (rest.starts_with("<![CDATA[")) {
      const size_t end = doc_.find("]]>", pos_ + 9);
      if (end == std::string_view::npos) {
        Error("unterminated CDATA section", pos_);
        return {};
      }
      Decode(raw, &buffer_);
      raw.clear();
      if (stack_.size() == depth) buffer_.append(doc_.substr(pos_ + 9, end - pos_ - 9));
      pos_ = end + 3;
      continue;
    }
    const Event ev = Next();
    if (ev == kEnd) return {};
    if (ev == kClose && stack_.size() < depth) break;
  }
  Decode(raw, &buffer_);
  const std::string_view t = Trim(buffer_);
  return t;
}

void XmlScanner::Skip() {
  const size_t depth = stack_.size();
  while (stack_.size() >= depth) {
    if (Next() == kEnd) return;
  }
}

}  // namespace stride::importers::detail
