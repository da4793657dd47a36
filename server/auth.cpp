// SPDX-License-Identifier: Apache-2.0
#include "server/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/hex.hpp"

namespace stride::server {
namespace {

constexpr double kClockSkewS = 60.0;

}  // namespace

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
  return std::string(reinterpret_cast<const char*>(md), len);
}

bool Principal::Has(std::string_view scope) const {
  for (const std::string& s : scopes) {
    if (s == scope) return true;
    if (s == "admin" && scope.substr(0, 7) == "runner:") return true;
  }
  return false;
}

std::string Base64UrlEncode(std::string_view bytes) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = static_cast<unsigned char>(bytes[i]) << 16 |
                       static_cast<unsigned char>(bytes[i + 1]) << 8 |
                       static_cast<unsigned char>(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
  }
  if (i < bytes.size()) {
    uint32_t v = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    if (i + 1 < bytes.size()) out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

bool Base64UrlDecode(std::string_view text, std::string* bytes) {
  bytes->clear();
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = 0;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '-') {
      v = 62;
    } else if (c == '_') {
      v = 63;
    } else {
      return false;  // no padding, no standard alphabet: JWTs use neither
    }
    acc = acc << 6 | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes->push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return bits < 6;  // one leftover character cannot end a valid encoding
}

std::string Jwt::Mint(const std::string& user_id, const std::string& scope, double ttl_s,
                      double now_s) const {
  const std::string header = R"({"alg":"HS256","typ":"JWT"})";
  const nlohmann::ordered_json claims = {{"sub", user_id},
                                         {"scope", scope},
                                         {"iat", static_cast<int64_t>(std::floor(now_s))},
                                         {"exp", static_cast<int64_t>(std::floor(now_s + ttl_s))}};
  const std::string signing_input = Base64UrlEncode(header) + "." + Base64UrlEncode(claims.dump());
  return signing_input + "." + Base64UrlEncode(HmacSha256(secret_, signing_input));
}

Result<Principal> Jwt::Verify(std::string_view token, double now_s) const {
  const size_t a = token.find('.');
  const size_t b = a == std::string_view::npos ? a : token.find('.', a + 1);
  if (b == std::string_view::npos || token.find('.', b + 1) != std::string_view::npos) {
    return Status::Unauthenticated("token: expected a JWT (three base64url parts)");
  }
  std::string header, payload, signature;
  if (!Base64UrlDecode(token.substr(0, a), &header) ||
      !Base64UrlDecode(token.substr(a + 1, b - a - 1), &payload) ||
      !Base64UrlDecode(token.substr(b + 1), &signature)) {
    return Status::Unauthenticated("token: a part is not base64url");
  }
  const nlohmann::json h = nlohmann::json::parse(header, nullptr, false);
  if (!h.is_object() || !h.contains("alg") || h["alg"] != "HS256") {
    return Status::Unauthenticated("token: expected alg HS256");
  }
  const std::string expected = HmacSha256(secret_, token.substr(0, b));
  if (signature.size() != expected.size() ||
      CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) != 0) {
    return Status::Unauthenticated("token: bad signature");
  }
  const nlohmann::json c = nlohmann::json::parse(payload, nullptr, false);
  if (!c.is_object()) return Status::Unauthenticated("token: claims are not a JSON object");
  if (!c.contains("exp") || !c["exp"].is_number()) {
    return Status::Unauthenticated("token: no exp claim");
  }
  Principal p;
  p.expires_at_s = c["exp"].get<double>();
  if (now_s > p.expires_at_s + kClockSkewS) return Status::Unauthenticated("token: expired");
  if (c.contains("nbf") && c["nbf"].is_number() && now_s + kClockSkewS < c["nbf"].get<double>()) {
    return Status::Unauthenticated("token: not valid yet (nbf)");
  }
  if (!c.contains("sub") || !c["sub"].is_string() || c["sub"].get<std::string>().empty() ||
      c["sub"].get<std::string>().size() > 128 ||
      c["sub"].get<std::string>().find('\0') != std::string::npos) {
    return Status::Unauthenticated("token: sub must be a user id of 1 to 128 bytes");
  }
  p.user_id = c["sub"].get<std::string>();
  if (c.contains("scope") && c["scope"].is_string()) {
    std::istringstream in(c["scope"].get<std::string>());
    for (std::string s; in >> s;) p.scopes.push_back(s);
  }
  return p;
}

Result<std::string> LoadJwtSecret(const std::string& file) {
  std::string secret;
  std::string from;
  if (const char* env = std::getenv("STRIDE_JWT_SECRET"); env != nullptr && *env != '\0') {
    secret = env;
    from = "STRIDE_JWT_SECRET";
  } else if (!file.empty()) {
    std::ifstream in(file);
    if (!in) return Status::NotFound("JWT secret file " + file + ": cannot be read");
    std::getline(in, secret);
    while (!secret.empty() && (secret.back() == '\r' || secret.back() == ' ')) secret.pop_back();
    from = file;
  } else {
    return Status::NotFound("no JWT secret: set STRIDE_JWT_SECRET or pass --jwt-secret-file");
  }
  if (secret.size() < kMinSecretBytes) {
    return Status::InvalidArgument("JWT secret from " + from + ": " +
                                   std::to_string(secret.size()) + " bytes, expected at least " +
                                   std::to_string(kMinSecretBytes));
  }
  return secret;
}

std::string RandomSecret() {
  unsigned char bytes[32];
  RAND_bytes(bytes, sizeof bytes);
  return engine::HexEncode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

}  // namespace stride::server
