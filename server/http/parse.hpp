// SPDX-License-Identifier: Apache-2.0
//
// HTTP/1.1 request parsing (RFC 9112) for the event server: the request head, the target's
// path and query, and chunked bodies. Everything here works on bytes a client chose, so it is
// strict about structure, bounded in size, and never throws; errors say what was wrong.
//
// Thread-safety: pure functions; a ChunkedDecoder belongs to one request.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "engine/status.hpp"
#include "server/http/message.hpp"

namespace stride::server::http {

// Parses a request head: the request line and the header fields, without the blank line that
// ends them. Fills method, target, path, query, version_minor and headers of *req.
// InvalidArgument for a malformed line, an HTTP version other than 1.0/1.1, a target that is
// not origin-form ("/..."), a header without a colon or with white space before it, or more
// than `max_headers` fields.
Status ParseRequestHead(std::string_view head, HttpRequest* req, size_t max_headers = 100);

// %XX decoded (a '%' not followed by two hex digits is kept as it is); with plus_is_space,
// '+' becomes ' ' (query strings).
std::string PercentDecode(std::string_view s, bool plus_is_space);

// "a=1&b=x%20y&c" -> (a,1), (b,x y), (c,"").
HeaderList ParseQuery(std::string_view query);

// Incremental decoder of a chunked body ("1a;ext\r\n<26 bytes>\r\n ... 0\r\n<trailers>\r\n").
class ChunkedDecoder {
 public:
  enum Result { kMore, kDone, kError };
  // Consumes what it can of `in`, appending data to *out; *consumed is how many bytes of `in`
  // were used (the rest belongs to the next request after kDone, or needs more bytes). kError
  // for a malformed size line, a chunk not followed by CRLF, or a size line or trailer block
  // over 4 KiB.
  Result Feed(std::string_view in, std::string* out, size_t* consumed);
  const std::string& error() const { return error_; }

 private:
  enum State { kSize, kData, kDataEnd, kTrailers } state_ = kSize;
  size_t remaining_ = 0;
  size_t trailer_bytes_ = 0;
  std::string error_;
};

}  // namespace stride::server::http
