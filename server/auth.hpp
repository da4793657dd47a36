// SPDX-License-Identifier: Apache-2.0
//
// Bearer tokens: JSON Web Tokens signed with HMAC-SHA256 (RFC 7519, alg HS256 only). Claims
// read: `sub` (the user id), `exp` (required), `nbf` (optional), `scope` (space-separated:
// runner:read, runner:write, chat:ask, admin). Tokens with another algorithm, a bad signature,
// past `exp` or before `nbf` (60 s of clock skew allowed), or no `sub` are refused with a
// reason. The secret comes from STRIDE_JWT_SECRET or a file; at least 32 bytes.
//
// Thread-safety: Jwt is immutable after construction.
//
//   Jwt jwt(secret);
//   std::string token = jwt.Mint("alice", "runner:read runner:write", 3600, now_s);
//   Result<Principal> p = jwt.Verify(token, now_s);
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/status.hpp"

namespace stride::server {

inline constexpr size_t kMinSecretBytes = 32;

struct Principal {
  std::string user_id;
  std::vector<std::string> scopes;
  double expires_at_s = 0;
  // True when the token carries `scope` (admin carries every runner scope for its own data).
  bool Has(std::string_view scope) const;
};

class Jwt {
 public:
  explicit Jwt(std::string secret) : secret_(std::move(secret)) {}
  std::string Mint(const std::string& user_id, const std::string& scope, double ttl_s,
                   double now_s) const;
  // kUnauthenticated with what was wrong.
  Result<Principal> Verify(std::string_view token, double now_s) const;

 private:
  std::string secret_;
};

// The signing secret: $STRIDE_JWT_SECRET when set, else the first line of `file` (when not
// empty). kNotFound when neither is given; kInvalidArgument when shorter than kMinSecretBytes.
Result<std::string> LoadJwtSecret(const std::string& file);
// 32 random bytes as 64 hex digits (for --dev).
std::string RandomSecret();

std::string Base64UrlEncode(std::string_view bytes);
bool Base64UrlDecode(std::string_view text, std::string* bytes);
// HMAC-SHA256 of `data` with `key`, raw 32 bytes (JWT signatures, webhook signatures).
std::string HmacSha256(std::string_view key, std::string_view data);

}  // namespace stride::server
