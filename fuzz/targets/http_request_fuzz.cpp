// SPDX-License-Identifier: Apache-2.0
//
// What the event server does with a client's bytes before any route sees them: the request
// head (request line, target, headers), the query string, a chunked body, and the inbound
// webhook signature check on those headers; and the access log's escaping of the path.
#include <string>

#include "engine/text/utf8.hpp"
#include "fuzz/fuzz_target.hpp"
#include "server/http/message.hpp"
#include "server/http/parse.hpp"
#include "server/inbound.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace http = stride::server::http;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const size_t end = bytes.find("\r\n\r\n");
  const std::string_view head = bytes.substr(0, end);
  const std::string_view body =
      end == std::string_view::npos ? std::string_view() : bytes.substr(end + 4);

  stride::server::HttpRequest req;
  const stride::Status parsed = http::ParseRequestHead(head, &req);
  if (!parsed.ok()) {
    STRIDE_FUZZ_CHECK(!parsed.message().empty(), "an error says what was wrong");
  } else {
    STRIDE_FUZZ_CHECK(!req.target.empty() && req.target[0] == '/', req.target);
    const std::string logged = stride::engine::EscapeForLog(req.path);
    STRIDE_FUZZ_CHECK(logged.find_first_of("\r\n") == std::string::npos, logged);
    STRIDE_FUZZ_CHECK(stride::engine::IsValidUtf8(logged), logged);
    (void)http::ParseQuery(req.target.substr(
        req.target.find('?') == std::string::npos ? req.target.size() : req.target.find('?') + 1));
    req.body = std::string(body);
    const auto user = stride::server::VerifyInbound({"a-secret-of-the-provider"}, req, 1.7e9, 300);
    if (!user.ok()) STRIDE_FUZZ_CHECK(!user.status().message().empty(), "inbound error");
  }

  // The body as chunked, fed in two pieces to exercise the decoder's resumption.
  http::ChunkedDecoder decoder;
  std::string out;
  size_t consumed = 0;
  const size_t half = body.size() / 2;
  http::ChunkedDecoder::Result r = decoder.Feed(body.substr(0, half), &out, &consumed);
  STRIDE_FUZZ_CHECK(consumed <= half, "consumed within the input");
  if (r == http::ChunkedDecoder::kMore) {
    const std::string rest = std::string(body.substr(consumed));
    size_t consumed2 = 0;
    r = decoder.Feed(rest, &out, &consumed2);
    STRIDE_FUZZ_CHECK(consumed2 <= rest.size(), "consumed within the input");
  }
  if (r == http::ChunkedDecoder::kError) STRIDE_FUZZ_CHECK(!decoder.error().empty(), "error");
  STRIDE_FUZZ_CHECK(out.size() <= body.size(), "a chunked body never grows");
  return 0;
}
