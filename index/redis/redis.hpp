// SPDX-License-Identifier: Apache-2.0
//
// A Redis client for what several `stride serve` replicas share (issue 20: global rate limits
// today; events and the job queue build on it): a small pool of blocking hiredis connections,
// each command with a deadline, Lua scripts sent by their SHA-1 and loaded on NOSCRIPT.
//
// Failure model: a command that fails (refused, reset, timed out, an error reply) returns a
// non-ok Status naming the server and what failed (Unavailable for the connection, Internal
// for an error reply); the connection it used is dropped and the next command dials again, so
// a Redis that restarts is picked up without restarting Stride. Callers choose what a failure
// means (the rate limits let the request through: server/redis_rate_limit.hpp).
//
// Trade-offs: blocking connections from a pool rather than hiredis's async API. A command costs
// one loopback round trip (~30-60 us) on the calling worker thread; a pool of `pool_size`
// connections serves that many workers at once, more wait for one to be handed back (at most
// `command_timeout_s`, then Unavailable). The event loop's workers already block on RocksDB,
// so this keeps one model in the server.
//
// Thread-safety: Redis is safe from any number of threads; ParseRedisUrl is a pure function.
//
//   STRIDE_ASSIGN_OR_RETURN(std::unique_ptr<Redis> redis,
//   Redis::Connect({"redis://127.0.0.1:6379/0"})); STRIDE_ASSIGN_OR_RETURN(RedisReply pong,
//   redis->Command({"PING"}));
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "engine/status.hpp"

struct redisContext;

namespace stride::index {

// Where a Redis is: redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] (TCP; PORT 6379 and DB 0 by
// default; HOST may be [IPv6]) or unix:///PATH[?db=N] (a socket). Percent-escapes in the user
// and password are decoded.
struct RedisUrl {
  std::string host;  // empty for a socket
  int port = 6379;
  std::string unix_path;  // empty for TCP
  std::string user;       // AUTH USER PASSWORD when set (Redis 6 ACLs), else AUTH PASSWORD
  std::string password;
  int db = 0;
  // host:port or the socket path, for messages (never the password).
  std::string Where() const;
};

// InvalidArgument naming the URL (its password masked) and what was expected.
Result<RedisUrl> ParseRedisUrl(std::string_view url);

struct RedisOptions {
  std::string url;                  // as ParseRedisUrl takes it. Required
  double connect_timeout_s = 1.0;   // dialling, AUTH and SELECT. Default: 1 s
  double command_timeout_s = 0.25;  // one command's reply, or a free connection. Default: 250 ms
  size_t pool_size = 16;            // connections held at most. Default: 16
};

// One reply, copied out of hiredis's: a status or bulk string, an integer, nil, or an array.
struct RedisReply {
  enum class Type { kNil, kString, kInteger, kArray };
  Type type = Type::kNil;
  std::string str;
  int64_t integer = 0;
  std::vector<RedisReply> elements;
};

// A Lua script, sent as EVALSHA with its SHA-1 (computed once) and as EVAL only when the
// server does not hold it yet (a restarted or flushed Redis).
struct RedisScript {
  explicit RedisScript(std::string source);
  std::string source;
  std::string sha1;  // hex
};

class Redis {
 public:
  // Parses the URL and dials one connection (AUTH, SELECT, PING), so a wrong address or
  // password is found at start: Unavailable or PermissionDenied naming the server.
  static Result<std::unique_ptr<Redis>> Connect(const RedisOptions& options);
  ~Redis();
  Redis(const Redis&) = delete;
  Redis& operator=(const Redis&) = delete;

  // Runs one command (arguments binary-safe).
  Result<RedisReply> Command(const std::vector<std::string>& argv);
  // The same with its own reply deadline, for a command that blocks on the server (XREADGROUP
  // BLOCK ms: give it ms plus the command timeout).
  Result<RedisReply> Command(const std::vector<std::string>& argv, double timeout_s);
  // EVALSHA script keys... args..., loading it with EVAL on NOSCRIPT.
  Result<RedisReply> Eval(const RedisScript& script, const std::vector<std::string>& keys,
                          const std::vector<std::string>& args);
  const RedisUrl& url() const { return url_; }

 private:
  Redis(RedisOptions options, RedisUrl url);
  Result<redisContext*> Dial() const;
  Result<redisContext*> Acquire();
  void Release(redisContext* c, bool healthy);
  Result<RedisReply> Run(redisContext* c, const std::vector<std::string>& argv) const;
  friend class RedisSubscriber;

  RedisOptions options_;
  RedisUrl url_;
  std::mutex mu_;
  std::condition_variable freed_;
  std::vector<redisContext*> idle_;  // guarded by mu_
  size_t open_ = 0;                  // connections idle or lent out; guarded by mu_
};

// A subscription to Redis channels (SUBSCRIBE) on a connection of its own, read by a thread of
// its own: every message published on one of them, by any client, reaches `on_message` (on that
// thread, in Redis's order). Pub/sub is at most once: while the connection is down (Redis
// restarting) messages are missed; the thread redials every `redial_s` and subscribes again,
// reporting the failure once per outage to `on_error`. Stopped and joined by the destructor.
class RedisSubscriber {
 public:
  using MessageHandler = std::function<void(const std::string& channel, const std::string& data)>;
  // Dials and subscribes before returning, so a message published after Start() returns is
  // received; Unavailable (naming the server) when Redis cannot be reached.
  static Result<std::unique_ptr<RedisSubscriber>> Start(
      const RedisOptions& options, std::vector<std::string> channels, MessageHandler on_message,
      std::function<void(const std::string&)> on_error = nullptr, double redial_s = 0.5);
  ~RedisSubscriber();
  RedisSubscriber(const RedisSubscriber&) = delete;
  RedisSubscriber& operator=(const RedisSubscriber&) = delete;
  // Messages received so far (tests, metrics).
  uint64_t received() const { return received_.load(); }

 private:
  RedisSubscriber() = default;
  Result<redisContext*> Subscribe() const;
  void Loop();

  std::unique_ptr<Redis> dialer_;  // its Dial() (address, AUTH, SELECT); never pools
  std::vector<std::string> channels_;
  MessageHandler on_message_;
  std::function<void(const std::string&)> on_error_;
  double redial_s_ = 0.5;
  redisContext* conn_ = nullptr;  // the loop's
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> received_{0};
  std::thread thread_;
};

}  // namespace stride::index
