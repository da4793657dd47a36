// SPDX-License-Identifier: Apache-2.0
#include "server/redis_events.hpp"

#include <charconv>

namespace stride::server {

std::string EncodeStreamEvent(const StreamEventMessage& m) {
  std::string out = m.plugin;
  out += '\n';
  out += std::to_string(m.id);
  out += '\n';
  out += std::to_string(m.topic.size());
  out += '\n';
  out += m.topic;
  out += m.sse_bytes;
  return out;
}

std::optional<StreamEventMessage> DecodeStreamEvent(const std::string& bytes) {
  StreamEventMessage m;
  const size_t a = bytes.find('\n');
  if (a == std::string::npos || a == 0) return std::nullopt;
  const size_t b = bytes.find('\n', a + 1);
  if (b == std::string::npos) return std::nullopt;
  const size_t c = bytes.find('\n', b + 1);
  if (c == std::string::npos) return std::nullopt;
  size_t topic_size = 0;
  const char* id_end = bytes.data() + b;
  const char* size_end = bytes.data() + c;
  if (std::from_chars(bytes.data() + a + 1, id_end, m.id).ptr != id_end ||
      std::from_chars(bytes.data() + b + 1, size_end, topic_size).ptr != size_end ||
      topic_size > bytes.size() - c - 1) {
    return std::nullopt;
  }
  m.plugin = bytes.substr(0, a);
  m.topic = bytes.substr(c + 1, topic_size);
  m.sse_bytes = bytes.substr(c + 1 + topic_size);
  return m;
}

Result<std::unique_ptr<RedisStreamFanout>> RedisStreamFanout::Start(
    index::Redis* redis, const index::RedisOptions& options,
    std::function<void(const std::string&)> on_error) {
  std::unique_ptr<RedisStreamFanout> f(new RedisStreamFanout(redis));
  RedisStreamFanout* self = f.get();
  STRIDE_ASSIGN_OR_RETURN(f->subscriber_, index::RedisSubscriber::Start(
                                              options, {kChannel},
                                              [self](const std::string&, const std::string& data) {
                                                self->Receive(data);
                                              },
                                              std::move(on_error)));
  return f;
}

Status RedisStreamFanout::Send(const std::string& plugin, const std::string& topic, uint64_t id,
                               const std::string& sse_bytes) {
  Result<index::RedisReply> r =
      redis_->Command({"PUBLISH", kChannel, EncodeStreamEvent({plugin, topic, id, sse_bytes})});
  return r.ok() ? Status::Ok() : r.status();
}

void RedisStreamFanout::Listen(Receiver receiver) {
  std::lock_guard lock(mu_);
  receiver_ = std::move(receiver);
}

uint64_t RedisStreamFanout::received() const {
  return subscriber_->received();
}

void RedisStreamFanout::Receive(const std::string& data) {
  std::optional<StreamEventMessage> m = DecodeStreamEvent(data);
  if (!m) return;
  std::lock_guard lock(mu_);
  if (receiver_) receiver_(m->plugin, m->topic, m->id, m->sse_bytes);
}

}  // namespace stride::server
