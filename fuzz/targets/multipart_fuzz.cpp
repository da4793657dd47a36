// SPDX-License-Identifier: Apache-2.0
//
// Upload bodies: the Content-Type's boundary and the first file part of a multipart/form-data
// body. A part found lies inside the body.
//
// Input: the Content-Type value, '\n', the body.
#include <string>

#include "fuzz/fuzz_target.hpp"
#include "server/http/multipart.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace http = stride::server::http;
  stride::fuzz::Input in(data, size);
  const std::string_view content_type = in.Until('\n');
  const std::string body(in.Rest());
  const std::string boundary = http::MultipartBoundary(content_type);
  if (boundary.empty()) return 0;
  const auto part = http::FirstFilePart(body, boundary);
  if (!part.ok()) {
    STRIDE_FUZZ_CHECK(!part.status().message().empty(), "an error says what was wrong");
    return 0;
  }
  const std::string_view content = part->content;
  STRIDE_FUZZ_CHECK(
      content.data() >= body.data() && content.data() + content.size() <= body.data() + body.size(),
      "the part lies inside the body");
  return 0;
}
