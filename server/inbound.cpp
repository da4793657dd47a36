// SPDX-License-Identifier: Apache-2.0
#include "server/inbound.hpp"

#include <openssl/crypto.h>

#include <cmath>
#include <cstdlib>

#include "engine/hex.hpp"
#include "engine/text/number.hpp"
#include "server/auth.hpp"

namespace stride::server {
namespace {

std::string UserKey(std::string_view user, std::string_view provider) {
  std::string k = "u";
  k.append(user).push_back('\0');
  k.append(provider);
  return k;
}

std::string ProviderKey(std::string_view provider, std::string_view provider_user) {
  std::string k = "p";
  k.append(provider).push_back('\0');
  k.append(provider_user);
  return k;
}

std::string SignedText(std::string_view id, std::string_view timestamp, std::string_view user,
                       std::string_view body) {
  std::string t;
  t.reserve(id.size() + timestamp.size() + user.size() + body.size() + 3);
  t.append(id).append(1, '.').append(timestamp).append(1, '.').append(user).append(1, '.');
  t.append(body);
  return t;
}

}  // namespace

std::string SignInbound(std::string_view secret, std::string_view event_id, int64_t timestamp,
                        std::string_view provider_user, std::string_view body) {
  return "v1=" + engine::HexEncode(HmacSha256(
                     secret, SignedText(event_id, std::to_string(timestamp), provider_user, body)));
}

bool IsHeaderToken(std::string_view v) {
  if (v.empty() || v.size() > 200) return false;
  for (char c : v) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

Result<std::string> VerifyInbound(const std::vector<std::string>& secrets,
                                  const HttpRequest& request, double now_s,
                                  double replay_window_s) {
  const std::string& id = request.Header("Webhook-Id");
  const std::string& ts = request.Header("Webhook-Timestamp");
  const std::string& user = request.Header("Webhook-User");
  const std::string& sig = request.Header("Webhook-Signature");
  for (const auto& [name, value] : {std::pair<const char*, const std::string*>{"Webhook-Id", &id},
                                    {"Webhook-Timestamp", &ts},
                                    {"Webhook-User", &user},
                                    {"Webhook-Signature", &sig}}) {
    if (!IsHeaderToken(*value)) {
      return Status::InvalidArgument(std::string(name) +
                                     ": expected 1 to 200 printable ASCII characters");
    }
  }
  const Result<int64_t> t = engine::ParseWholeNumber("Webhook-Timestamp", ts, 0, 999'999'999'999);
  if (!t.ok()) {
    return Status::InvalidArgument("Webhook-Timestamp: expected unix seconds, got '" + ts + "'");
  }
  const std::string text = SignedText(id, ts, user, request.body);
  bool signed_ok = false;
  // "v1=<hex>", possibly several separated by commas or spaces.
  size_t at = 0;
  while (at < sig.size() && !signed_ok) {
    size_t next = sig.find_first_of(", ", at);
    if (next == std::string::npos) next = sig.size();
    const std::string_view part = std::string_view(sig).substr(at, next - at);
    at = next + 1;
    if (part.size() != 67 || part.substr(0, 3) != "v1=") continue;
    std::string given;
    if (!engine::HexDecode(part.substr(3), &given) || given.size() != 32) continue;
    for (const std::string& secret : secrets) {
      const std::string want = HmacSha256(secret, text);
      if (CRYPTO_memcmp(want.data(), given.data(), 32) == 0) signed_ok = true;
    }
  }
  if (!signed_ok) {
    return Status::Unauthenticated(
        "Webhook-Signature: no v1 signature made with this provider's "
        "secret over \"<id>.<timestamp>.<user>.<body>\"");
  }
  if (std::fabs(static_cast<double>(*t) - now_s) > replay_window_s) {
    return Status::Unauthenticated("Webhook-Timestamp " + ts + " is outside the replay window of " +
                                   std::to_string(static_cast<int>(replay_window_s)) + " s");
  }
  return user;
}

Status Connections::Link(const std::string& user, const std::string& provider,
                         const std::string& provider_user) {
  std::lock_guard lock(mu_);
  Result<std::optional<std::string>> holder = kv_->Get(ProviderKey(provider, provider_user));
  if (!holder.ok()) return holder.status();
  if (holder->has_value() && **holder != user) {
    return Status::AlreadyExists(provider + " account " + provider_user +
                                 " is linked to another user");
  }
  Result<std::optional<std::string>> old = kv_->Get(UserKey(user, provider));
  if (!old.ok()) return old.status();
  if (old->has_value() && **old != provider_user) {
    STRIDE_RETURN_IF_ERROR(kv_->Delete(ProviderKey(provider, **old)));
  }
  STRIDE_RETURN_IF_ERROR(kv_->Put(ProviderKey(provider, provider_user), user));
  return kv_->Put(UserKey(user, provider), provider_user);
}

Result<bool> Connections::Unlink(const std::string& user, const std::string& provider) {
  std::lock_guard lock(mu_);
  Result<std::optional<std::string>> old = kv_->Get(UserKey(user, provider));
  if (!old.ok()) return old.status();
  if (!old->has_value()) return false;
  STRIDE_RETURN_IF_ERROR(kv_->Delete(ProviderKey(provider, **old)));
  STRIDE_RETURN_IF_ERROR(kv_->Delete(UserKey(user, provider)));
  return true;
}

Result<std::vector<std::pair<std::string, std::string>>> Connections::List(
    const std::string& user) const {
  std::vector<std::pair<std::string, std::string>> out;
  const std::string prefix = UserKey(user, "");
  STRIDE_RETURN_IF_ERROR(kv_->Scan(prefix, [&](std::string_view k, std::string_view v) {
    out.emplace_back(std::string(k.substr(prefix.size())), std::string(v));
    return true;
  }));
  return out;
}

Result<std::optional<std::string>> Connections::UserOf(const std::string& provider,
                                                       const std::string& provider_user) const {
  return kv_->Get(ProviderKey(provider, provider_user));
}

Status Connections::DeleteUser(const std::string& user) {
  Result<std::vector<std::pair<std::string, std::string>>> links = List(user);
  if (!links.ok()) return links.status();
  for (const auto& [provider, provider_user] : *links) {
    STRIDE_RETURN_IF_ERROR(Unlink(user, provider).status());
  }
  return Status::Ok();
}

}  // namespace stride::server
