// SPDX-License-Identifier: Apache-2.0
//
// Bearer token verification: raw tokens; tokens whose header and claims are any bytes but
// correctly signed (so the claims parser is reached); and Mint -> Verify round trips.
//
// Input: one byte choosing the mode, then the token, or "header\nclaims", or "sub\nscope".
#include <sstream>
#include <string>
#include <vector>

#include "engine/text/utf8.hpp"
#include "fuzz/fuzz_target.hpp"
#include "server/auth.hpp"

namespace {

constexpr char kSecret[] = "0123456789abcdef0123456789abcdef-fuzz";
constexpr double kNow = 1.7e9;

void CheckPrincipal(const stride::Result<stride::server::Principal>& p) {
  if (!p.ok()) {
    STRIDE_FUZZ_CHECK(p.status().code() == stride::StatusCode::kUnauthenticated,
                      p.status().message());
    return;
  }
  const std::string& user = p->user_id;
  STRIDE_FUZZ_CHECK(!user.empty() && user.size() <= 128, user);
  STRIDE_FUZZ_CHECK(user.find('\0') == std::string::npos, "no NUL in a user id");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace server = stride::server;
  const server::Jwt jwt(kSecret);
  stride::fuzz::Input in(data, size);
  switch (in.Byte() % 3) {
    case 0: {
      const std::string_view text = in.Rest();
      CheckPrincipal(jwt.Verify(text, kNow));
      std::string decoded;
      if (server::Base64UrlDecode(text, &decoded)) {
        std::string again;
        STRIDE_FUZZ_CHECK(
            server::Base64UrlDecode(server::Base64UrlEncode(decoded), &again) && again == decoded,
            "base64url round trip");
      }
      break;
    }
    case 1: {
      const std::string_view header = in.Until('\n');
      const std::string_view claims = in.Rest();
      const std::string signing_input =
          server::Base64UrlEncode(header) + "." + server::Base64UrlEncode(claims);
      const std::string token =
          signing_input + "." + server::Base64UrlEncode(server::HmacSha256(kSecret, signing_input));
      CheckPrincipal(jwt.Verify(token, kNow));
      break;
    }
    default: {
      const std::string sub(in.Until('\n'));
      const std::string scope(in.Rest());
      if (!stride::engine::IsValidUtf8(sub) || !stride::engine::IsValidUtf8(scope)) break;
      const auto p = jwt.Verify(jwt.Mint(sub, scope, 3600, kNow), kNow);
      CheckPrincipal(p);
      const bool valid_sub =
          !sub.empty() && sub.size() <= 128 && sub.find('\0') == std::string::npos;
      STRIDE_FUZZ_CHECK(p.ok() == valid_sub, sub);
      if (!p.ok()) break;
      STRIDE_FUZZ_CHECK(p->user_id == sub, sub);
      std::istringstream words(scope);
      std::vector<std::string> expected;
      for (std::string w; words >> w;) expected.push_back(w);
      STRIDE_FUZZ_CHECK(p->scopes == expected, scope);
      break;
    }
  }
  return 0;
}
