// SPDX-License-Identifier: Apache-2.0
//
// Inbound provider webhooks: a watch maker's or another app's service pushes a finished
// activity to `POST /v1/webhooks/{provider}`, and it is stored as an upload of the Stride user
// who linked that provider account (`PUT /v1/me/connections/{provider}`).
//
// The request (documented in the README for providers):
//   Webhook-Id: <event id, unique per provider>
//   Webhook-Timestamp: <unix seconds>
//   Webhook-User: <the provider's user id>
//   Webhook-Signature: v1=<hex HMAC-SHA256(secret, "<id>.<timestamp>.<user>.<body>")>
//   body: the activity file (FIT, GPX or TCX); it may be sent Content-Encoding: gzip, and
//   the signature is over the file itself (the body with the encoding undone)
// Checked in this order: a provider Stride knows (404), a signature made with its secret (401;
// several v1= values may be sent while a provider rotates secrets), a timestamp within the
// replay window of 5 minutes either way (401), a linked user (422). The event id is the
// upload's idempotency key ("webhook:<provider>:<id>"), so a redelivery within 7 days returns
// the stored run (200, Idempotent-Replayed) and stores nothing.
//
// Connections live in a key-value family of their own, both ways: "u" user 0 provider ->
// provider user, and "p" provider 0 provider user -> user. One provider account links one
// Stride user (409 for another); DELETE /v1/me removes the user's links.
//
// Thread-safety: Connections and VerifyInbound are safe from any thread; a link is changed
// under one lock, so two users cannot claim one account at once.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/status.hpp"
#include "engine/store/key_value.hpp"
#include "server/http/message.hpp"

namespace stride::server {

struct InboundOptions {
  std::map<std::string, std::vector<std::string>> secrets;  // provider -> accepted secrets
  double replay_window_s = 300;                             // Default: 5 minutes either way
};

// A header token as inbound webhooks carry them (Webhook-Id, Webhook-User, a provider user id
// linked with PUT /v1/me/connections/{provider}): 1 to 200 printable ASCII bytes, no space.
bool IsHeaderToken(std::string_view v);

// The provider user of a verified request; Unauthenticated (bad or missing signature, stale
// timestamp) or InvalidArgument (a header missing or malformed), naming the header.
Result<std::string> VerifyInbound(const std::vector<std::string>& secrets,
                                  const HttpRequest& request, double now_s, double replay_window_s);

// The signature header value a provider sends for `body` (tests, and providers' SDKs).
std::string SignInbound(std::string_view secret, std::string_view event_id, int64_t timestamp,
                        std::string_view provider_user, std::string_view body);

class Connections {
 public:
  explicit Connections(engine::KeyValue* kv) : kv_(kv) {}
  // Links the user's account at `provider`; AlreadyExists when another user holds it. A user
  // relinking replaces their old account.
  Status Link(const std::string& user, const std::string& provider,
              const std::string& provider_user);
  // False when the user had no link there.
  Result<bool> Unlink(const std::string& user, const std::string& provider);
  // provider -> provider user, of one user.
  Result<std::vector<std::pair<std::string, std::string>>> List(const std::string& user) const;
  Result<std::optional<std::string>> UserOf(const std::string& provider,
                                            const std::string& provider_user) const;
  Status DeleteUser(const std::string& user);

 private:
  engine::KeyValue* kv_;
  std::mutex mu_;
};

}  // namespace stride::server
