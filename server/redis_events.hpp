// SPDX-License-Identifier: Apache-2.0
//
// Plugin stream events across servers (`stride serve --redis URL`): every event a plugin
// publishes (a challenge's progress, a chat answer's pieces) goes to one Redis channel, and
// every server subscribed to it hands it to its own streams of that topic. A client streaming
// GET /v1/challenges/ID/events from server A sees the progress an upload through server B made.
//
// Channel `stride:events`; a message is "PLUGIN\nID\nTOPIC_BYTES\nTOPIC" followed by the
// Server-Sent Event's bytes (topics are any text, so theirs is counted, not delimited).
//
// Delivery is Redis pub/sub's: at most once, in Redis's order (a plugin publishes under its
// own lock, so its events keep their order). An event published while a server's
// subscription is down does not reach that server's streams; their clients reconnect with
// Last-Event-ID and get it from the plugin's backlog, as after any dropped connection. When
// Redis cannot take an event, the host delivers it to this server's streams only.
//
// Thread-safety: Send and Listen from any thread.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "index/redis/redis.hpp"
#include "plugins/host/plugin_host.hpp"

namespace stride::server {

struct StreamEventMessage {
  std::string plugin, topic;
  uint64_t id = 0;
  std::string sse_bytes;
};
std::string EncodeStreamEvent(const StreamEventMessage& m);
// nullopt for bytes that are not an encoded event (another publisher on the channel).
std::optional<StreamEventMessage> DecodeStreamEvent(const std::string& bytes);

class RedisStreamFanout final : public plugins::StreamFanout {
 public:
  static constexpr const char* kChannel = "stride:events";
  // Subscribes at once (Unavailable when Redis cannot be reached); `redis` sends and must
  // outlive this. `on_error` hears a lost or regained subscription.
  static Result<std::unique_ptr<RedisStreamFanout>> Start(
      index::Redis* redis, const index::RedisOptions& options,
      std::function<void(const std::string&)> on_error = nullptr);

  Status Send(const std::string& plugin, const std::string& topic, uint64_t id,
              const std::string& sse_bytes) override;
  void Listen(Receiver receiver) override;
  uint64_t received() const;

 private:
  explicit RedisStreamFanout(index::Redis* redis) : redis_(redis) {}
  void Receive(const std::string& data);

  index::Redis* redis_;
  std::mutex mu_;  // receiver_, and one delivery at a time
  Receiver receiver_;
  std::unique_ptr<index::RedisSubscriber> subscriber_;  // last: stopped first
};

}  // namespace stride::server
