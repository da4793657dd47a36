// SPDX-License-Identifier: Apache-2.0
//
// Request bodies sent with Content-Encoding: gzip: inflation within a limit (defect 2 of the
// hardening issue, the gzip bomb), and the round trip of what inflated.
//
// Input: one byte giving the limit (1 KiB << (byte % 8)), then the gzip data.
#include <string>

#include "fuzz/fuzz_target.hpp"
#include "server/http/gzip.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace http = stride::server::http;
  stride::fuzz::Input in(data, size);
  const size_t limit = size_t{1024} << (in.Byte() % 8);
  const std::string_view compressed = in.Rest();
  const auto out = http::Gunzip(compressed, limit);
  if (!out.ok()) {
    const stride::StatusCode code = out.status().code();
    STRIDE_FUZZ_CHECK(code == stride::StatusCode::kResourceExhausted ||
                          code == stride::StatusCode::kInvalidArgument,
                      out.status().message());
    return 0;
  }
  STRIDE_FUZZ_CHECK(out->size() <= limit, "inflated within the limit");
  const auto again = http::Gunzip(http::Gzip(*out), limit);
  STRIDE_FUZZ_CHECK(again.ok() && *again == *out, "gzip round trip");
  return 0;
}
