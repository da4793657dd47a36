// SPDX-License-Identifier: Apache-2.0
#include "server/auth.hpp"

#include <gtest/gtest.h>

#include "engine/sha256.hpp"
#include "index/crypto/crypto.hpp"

namespace stride::server {
namespace {

const std::string kSecret = "0123456789abcdef0123456789abcdef-test";

TEST(Base64Url, RoundTripsEveryLength) {
  std::string bytes;
  for (int n = 0; n < 70; ++n) {
    std::string back;
    const std::string text = Base64UrlEncode(bytes);
    EXPECT_EQ(text.find_first_of("+/="), std::string::npos);
    ASSERT_TRUE(Base64UrlDecode(text, &back)) << n;
    EXPECT_EQ(back, bytes);
    bytes.push_back(static_cast<char>(n * 37 + 250));
  }
  EXPECT_EQ(Base64UrlEncode("hello?>"), "aGVsbG8_Pg");  // RFC 4648 §5 alphabet
  std::string out;
  EXPECT_FALSE(Base64UrlDecode("aGVs+G8", &out));
  EXPECT_FALSE(Base64UrlDecode("a", &out));
}

TEST(Jwt, VerifiesTheRfcStyleExampleSignature) {
  // The HS256 example of jwt.io (secret "your-256-bit-secret"): the signature is right, so the
  // token is refused only for lacking exp; with another secret the signature is refused.
  const std::string token =
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwi"
      "aWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
  Result<Principal> right = Jwt("your-256-bit-secret").Verify(token, 1.7e9);
  ASSERT_FALSE(right.ok());
  EXPECT_EQ(right.status().message(), "token: no exp claim");
  Result<Principal> wrong = Jwt(kSecret).Verify(token, 1.7e9);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().message(), "token: bad signature");
}

TEST(Jwt, MintedTokensVerifyWithTheirClaims) {
  const Jwt jwt(kSecret);
  const std::string t = jwt.Mint("alice", "runner:read chat:ask", 3600, 1.7e9);
  Result<Principal> p = jwt.Verify(t, 1.7e9 + 10);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->user_id, "alice");
  EXPECT_EQ(p->scopes, (std::vector<std::string>{"runner:read", "chat:ask"}));
  EXPECT_DOUBLE_EQ(p->expires_at_s, 1.7e9 + 3600);
  EXPECT_TRUE(p->Has("runner:read"));
  EXPECT_FALSE(p->Has("runner:write"));
  EXPECT_FALSE(p->Has("admin"));
}

TEST(Jwt, RefusesExpiredForgedAndMalformedTokens) {
  const Jwt jwt(kSecret);
  const std::string t = jwt.Mint("alice", "runner:read", 60, 1.7e9);
  auto message = [&](const std::string& token, double now) {
    Result<Principal> p = jwt.Verify(token, now);
    return p.ok() ? std::string("ok") : p.status().message();
  };
  EXPECT_EQ(message(t, 1.7e9 + 60 + 59), "ok");  // 60 s of clock skew
  EXPECT_EQ(message(t, 1.7e9 + 60 + 61), "token: expired");
  EXPECT_EQ(Jwt("another-secret-of-enough-length-0000").Verify(t, 1.7e9).status().message(),
            "token: bad signature");
  // Claims swapped for bob's, signature kept.
  const size_t a = t.find('.'), b = t.rfind('.');
  const std::string bob = jwt.Mint("bob", "admin", 60, 1.7e9);
  const std::string forged =
      t.substr(0, a) + bob.substr(bob.find('.'), bob.rfind('.') - bob.find('.')) + t.substr(b);
  EXPECT_EQ(message(forged, 1.7e9), "token: bad signature");
  // alg "none" with no signature.
  const std::string none = Base64UrlEncode(R"({"alg":"none"})") + "." +
                           Base64UrlEncode(R"({"sub":"x","exp":9999999999})") + ".";
  EXPECT_EQ(message(none, 1.7e9), "token: expected alg HS256");
  EXPECT_EQ(message("abc", 1.7e9), "token: expected a JWT (three base64url parts)");
  EXPECT_EQ(message("a.b.c.d", 1.7e9), "token: expected a JWT (three base64url parts)");
  EXPECT_EQ(message("a+.b.c", 1.7e9), "token: a part is not base64url");
  EXPECT_EQ(message(jwt.Mint("", "runner:read", 60, 1.7e9), 1.7e9),
            "token: sub must be a user id of 1 to 128 bytes");
}

TEST(Jwt, AdminCarriesRunnerScopesOnly) {
  Principal p;
  p.scopes = {"admin"};
  EXPECT_TRUE(p.Has("runner:read"));
  EXPECT_TRUE(p.Has("runner:write"));
  EXPECT_TRUE(p.Has("admin"));
  EXPECT_FALSE(p.Has("chat:ask"));
}

TEST(Sha256, KnownDigest) {
  EXPECT_EQ(Base64UrlEncode(engine::Sha256("abc")), "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
}

}  // namespace
}  // namespace stride::server
