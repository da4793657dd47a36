// SPDX-License-Identifier: Apache-2.0
//
// Text from outside (file metadata, URL paths, query values, headers) is bytes, not UTF-8. JSON
// needs UTF-8 and logs need one line of printable text, so every piece of client or file text
// passes through one of these before it is stored, rendered or logged:
//   - ValidUtf8: invalid sequences replaced by U+FFFD (one per maximal invalid subpart, as the
//     Unicode standard recommends), with a count of the replacements so readers can report them;
//   - Latin1ToUtf8 / Windows1252ToUtf8: for XML documents that declare those encodings;
//   - EscapeForLog: printable ASCII and valid UTF-8 kept, control characters and invalid bytes
//     written as \xHH, so a client cannot forge or break a log line.
//
// Thread-safety: pure functions.
//
//   size_t replaced = 0;
//   std::string creator = engine::ValidUtf8(raw, &replaced);
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace stride::engine {

// The length of the valid UTF-8 prefix of `s` (s.size() when all of it is valid). Overlong
// forms, surrogates and code points past U+10FFFF are invalid.
size_t ValidUtf8Prefix(std::string_view s);
inline bool IsValidUtf8(std::string_view s) {
  return ValidUtf8Prefix(s) == s.size();
}

// `s` with every maximal invalid subpart replaced by U+FFFD; *replaced (when given) is
// increased by the number of replacements.
std::string ValidUtf8(std::string_view s, size_t* replaced = nullptr);

// ISO-8859-1: every byte is the code point of the same value.
std::string Latin1ToUtf8(std::string_view s);
// Windows-1252: Latin-1 but for 0x80-0x9F (€, curly quotes, ...); its five unassigned bytes
// become U+FFFD.
std::string Windows1252ToUtf8(std::string_view s);

// One log-safe token: valid UTF-8 and printable ASCII as they are; bytes below 0x20, 0x7F,
// '\\' and invalid bytes as \xHH. At most `max_bytes` of input are written, then "...".
std::string EscapeForLog(std::string_view s, size_t max_bytes = 2048);

}  // namespace stride::engine
