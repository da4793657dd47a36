// SPDX-License-Identifier: Apache-2.0
#include "index/redis/redis.hpp"

#include <hiredis/hiredis.h>
#include <openssl/sha.h>
#include <poll.h>
#include <sys/time.h>

#include <charconv>
#include <chrono>
#include <cmath>

#include "engine/hex.hpp"
#include "engine/text/uri.hpp"

namespace stride::index {
namespace {

timeval ToTimeval(double seconds) {
  const double s = std::max(seconds, 0.001);
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(std::floor(s));
  tv.tv_usec = static_cast<suseconds_t>((s - std::floor(s)) * 1e6);
  return tv;
}

bool ParseInt(std::string_view s, int lo, int hi, int* out) {
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < lo || v > hi) return false;
  *out = v;
  return true;
}

// A command's arguments as hiredis takes them (binary-safe: pointers and lengths), pointing
// into `argv`, which must outlive it.
struct Argv {
  explicit Argv(const std::vector<std::string>& argv) {
    args.reserve(argv.size());
    lens.reserve(argv.size());
    for (const std::string& a : argv) {
      args.push_back(a.data());
      lens.push_back(a.size());
    }
  }
  int argc() const { return static_cast<int>(args.size()); }
  std::vector<const char*> args;
  std::vector<size_t> lens;
};

RedisReply Copy(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(Copy(r->element[i]));
      break;
    default:
      out.type = RedisReply::Type::kNil;
  }
  return out;
}

}  // namespace

std::string RedisUrl::Where() const {
  if (!unix_path.empty()) return unix_path;
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<RedisUrl> ParseRedisUrl(std::string_view url) {
  // The message never repeats a password: user:***@host.
  std::string shown(url);
  if (size_t at = shown.rfind('@'); at != std::string::npos) {
    const size_t scheme_end = shown.find("://");
    const size_t from = scheme_end == std::string::npos ? 0 : scheme_end + 3;
    const size_t colon = shown.find(':', from);
    if (colon != std::string::npos && colon < at) {
      shown.replace(colon + 1, at - colon - 1, "***");
    } else if (at > from) {
      shown.replace(from, at - from, "***");
    }
  }
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("--redis " + shown + ": " + why);
  };
  RedisUrl out;
  constexpr std::string_view kTcp = "redis://";
  constexpr std::string_view kUnix = "unix://";
  if (url.starts_with(kUnix)) {
    std::string_view rest = url.substr(kUnix.size());
    if (size_t q = rest.find('?'); q != std::string_view::npos) {
      std::string_view query = rest.substr(q + 1);
      rest = rest.substr(0, q);
      if (!query.starts_with("db=") || !ParseInt(query.substr(3), 0, 1 << 20, &out.db)) {
        return bad("expected ?db=N (a database number) after the socket path");
      }
    }
    if (rest.empty() || rest[0] != '/') return bad("expected unix:///absolute/path/to/socket");
    out.unix_path = std::string(rest);
    return out;
  }
  if (!url.starts_with(kTcp)) {
    return bad("expected redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] or unix:///PATH");
  }
  std::string_view rest = url.substr(kTcp.size());
  std::string_view path;
  if (size_t slash = rest.find('/'); slash != std::string_view::npos) {
    path = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view credentials = rest.substr(0, at);
    rest = rest.substr(at + 1);
    if (size_t colon = credentials.find(':'); colon != std::string_view::npos) {
      out.user = engine::PercentDecode(credentials.substr(0, colon));
      out.password = engine::PercentDecode(credentials.substr(colon + 1));
    } else {
      out.password = engine::PercentDecode(credentials);  // redis://SECRET@host, as redis-cli
    }
  }
  std::string_view port;
  if (rest.starts_with("[")) {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return bad("expected ']' after an IPv6 address");
    out.host = std::string(rest.substr(1, close - 1));
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return bad("expected ':PORT' after ']'");
      port = after.substr(1);
      if (port.empty()) return bad("expected a port number after ':'");
    }
  } else {
    const size_t colon = rest.find(':');
    out.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = rest.substr(colon + 1);
      if (port.empty()) return bad("expected a port number after ':'");
    }
  }
  if (out.host.empty()) return bad("expected a host after redis://");
  if (!port.empty() && !ParseInt(port, 1, 65535, &out.port)) {
    return bad("expected a port from 1 to 65535");
  }
  if (!path.empty() && !ParseInt(path, 0, 1 << 20, &out.db)) {
    return bad("expected a database number after the '/'");
  }
  return out;
}

RedisScript::RedisScript(std::string src) : source(std::move(src)) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(source.data()), source.size(), digest);
  sha1 =
      engine::HexEncode(std::string_view(reinterpret_cast<const char*>(digest), SHA_DIGEST_LENGTH));
}

Redis::Redis(RedisOptions options, RedisUrl url)
    : options_(std::move(options)), url_(std::move(url)) {}

Redis::~Redis() {
  for (redisContext* c : idle_) redisFree(c);
}

Result<std::unique_ptr<Redis>> Redis::Connect(const RedisOptions& options) {
  STRIDE_ASSIGN_OR_RETURN(RedisUrl url, ParseRedisUrl(options.url));
  std::unique_ptr<Redis> redis(new Redis(options, std::move(url)));
  if (redis->options_.pool_size == 0) redis->options_.pool_size = 1;
  STRIDE_ASSIGN_OR_RETURN(redisContext * c, redis->Acquire());
  Result<RedisReply> pong = redis->Run(c, {"PING"});
  redis->Release(c, pong.ok());
  if (!pong.ok()) return pong.status();
  return redis;
}

Result<redisContext*> Redis::Dial() const {
  const timeval connect = ToTimeval(options_.connect_timeout_s);
  redisContext* c = url_.unix_path.empty()
                        ? redisConnectWithTimeout(url_.host.c_str(), url_.port, connect)
                        : redisConnectUnixWithTimeout(url_.unix_path.c_str(), connect);
  if (c == nullptr) return Status::ResourceExhausted("redis: cannot allocate a connection");
  if (c->err != 0) {
    Status st = Status::Unavailable("cannot reach Redis at " + url_.Where() + ": " + c->errstr);
    redisFree(c);
    return st;
  }
  redisSetTimeout(c, ToTimeval(options_.connect_timeout_s));
  auto setup = [&](const std::vector<std::string>& argv) -> Status {
    Result<RedisReply> r = Run(c, argv);
    return r.ok() ? Status::Ok() : r.status();
  };
  Status st;
  if (!url_.password.empty()) {
    st = url_.user.empty() ? setup({"AUTH", url_.password})
                           : setup({"AUTH", url_.user, url_.password});
    if (!st.ok()) st = Status::PermissionDenied(st.message());
  }
  if (st.ok() && url_.db != 0) st = setup({"SELECT", std::to_string(url_.db)});
  if (!st.ok()) {
    redisFree(c);
    return st;
  }
  redisSetTimeout(c, ToTimeval(options_.command_timeout_s));
  return c;
}

Result<redisContext*> Redis::Acquire() {
  std::unique_lock lock(mu_);
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration<double>(std::max(options_.command_timeout_s, 0.001));
  while (idle_.empty() && open_ >= options_.pool_size) {
    if (freed_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= options_.pool_size) {
      return Status::Unavailable("Redis at " + url_.Where() + ": all " +
                                 std::to_string(options_.pool_size) +
                                 " connections busy past the command timeout");
    }
  }
  if (!idle_.empty()) {
    redisContext* c = idle_.back();
    idle_.pop_back();
    return c;
  }
  ++open_;
  lock.unlock();
  Result<redisContext*> c = Dial();
  if (!c.ok()) {
    lock.lock();
    --open_;
    freed_.notify_one();
  }
  return c;
}

void Redis::Release(redisContext* c, bool healthy) {
  std::lock_guard lock(mu_);
  if (healthy && c->err == 0) {
    idle_.push_back(c);
  } else {
    redisFree(c);
    --open_;
  }
  freed_.notify_one();
}

Result<RedisReply> Redis::Run(redisContext* c, const std::vector<std::string>& argv) const {
  Argv a(argv);  // hiredis 0.14 takes the array as non-const
  auto* r = static_cast<redisReply*>(redisCommandArgv(c, a.argc(), a.args.data(), a.lens.data()));
  if (r == nullptr) {
    return Status::Unavailable("Redis at " + url_.Where() + ": " +
                               (c->err != 0 ? std::string(c->errstr) : "no reply") + " (" +
                               (argv.empty() ? "" : argv[0]) + ")");
  }
  std::unique_ptr<redisReply, void (*)(void*)> owned(r, freeReplyObject);
  if (r->type == REDIS_REPLY_ERROR) {
    return Status::Internal("Redis at " + url_.Where() + " answered " +
                            (argv.empty() ? "" : argv[0]) + ": " + std::string(r->str, r->len));
  }
  return Copy(r);
}

Result<RedisReply> Redis::Command(const std::vector<std::string>& argv) {
  STRIDE_ASSIGN_OR_RETURN(redisContext * c, Acquire());
  Result<RedisReply> r = Run(c, argv);
  // An error reply leaves the connection usable; a failed exchange does not.
  Release(c, r.ok() || r.status().code() == StatusCode::kInternal);
  return r;
}

Result<RedisReply> Redis::Command(const std::vector<std::string>& argv, double timeout_s) {
  STRIDE_ASSIGN_OR_RETURN(redisContext * c, Acquire());
  redisSetTimeout(c, ToTimeval(timeout_s));
  Result<RedisReply> r = Run(c, argv);
  const bool healthy = r.ok() || r.status().code() == StatusCode::kInternal;
  if (healthy) redisSetTimeout(c, ToTimeval(options_.command_timeout_s));
  Release(c, healthy);
  return r;
}

Result<RedisReply> Redis::Eval(const RedisScript& script, const std::vector<std::string>& keys,
                               const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"EVALSHA", script.sha1, std::to_string(keys.size())};
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  Result<RedisReply> r = Command(argv);
  if (!r.ok() && r.status().code() == StatusCode::kInternal &&
      r.status().message().find("NOSCRIPT") != std::string::npos) {
    argv[0] = "EVAL";
    argv[1] = script.source;
    return Command(argv);
  }
  return r;
}

Result<std::unique_ptr<RedisSubscriber>> RedisSubscriber::Start(
    const RedisOptions& options, std::vector<std::string> channels, MessageHandler on_message,
    std::function<void(const std::string&)> on_error, double redial_s) {
  STRIDE_ASSIGN_OR_RETURN(RedisUrl url, ParseRedisUrl(options.url));
  std::unique_ptr<RedisSubscriber> s(new RedisSubscriber());
  s->dialer_.reset(new Redis(options, std::move(url)));
  s->channels_ = std::move(channels);
  s->on_message_ = std::move(on_message);
  s->on_error_ = std::move(on_error);
  s->redial_s_ = redial_s;
  STRIDE_ASSIGN_OR_RETURN(s->conn_, s->Subscribe());
  s->thread_ = std::thread([p = s.get()] { p->Loop(); });
  return s;
}

RedisSubscriber::~RedisSubscriber() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (conn_ != nullptr) redisFree(conn_);
}

Result<redisContext*> RedisSubscriber::Subscribe() const {
  STRIDE_ASSIGN_OR_RETURN(redisContext * c, dialer_->Dial());
  std::vector<std::string> argv = {"SUBSCRIBE"};
  argv.insert(argv.end(), channels_.begin(), channels_.end());
  Argv a(argv);  // hiredis 0.14 takes the array as non-const
  // One confirmation per channel, read here: once they are in, nothing published is missed.
  redisSetTimeout(c, ToTimeval(dialer_->options_.connect_timeout_s));
  Status st = Status::Ok();
  if (redisAppendCommandArgv(c, a.argc(), a.args.data(), a.lens.data()) != REDIS_OK) {
    st = Status::Unavailable("Redis at " + dialer_->url_.Where() + ": " + c->errstr);
  }
  for (size_t i = 0; st.ok() && i < channels_.size(); ++i) {
    void* r = nullptr;
    if (redisGetReply(c, &r) != REDIS_OK || r == nullptr) {
      st = Status::Unavailable("Redis at " + dialer_->url_.Where() + ": SUBSCRIBE: " +
                               (c->err != 0 ? std::string(c->errstr) : "no reply"));
    } else {
      if (static_cast<redisReply*>(r)->type == REDIS_REPLY_ERROR) {
        st = Status::Internal("Redis at " + dialer_->url_.Where() +
                              " answered SUBSCRIBE: " + static_cast<redisReply*>(r)->str);
      }
      freeReplyObject(r);
    }
  }
  if (!st.ok()) {
    redisFree(c);
    return st;
  }
  return c;
}

void RedisSubscriber::Loop() {
  bool reported = false;
  while (!stop_) {
    if (conn_ == nullptr) {
      Result<redisContext*> c = Subscribe();
      if (!c.ok()) {
        if (!reported && on_error_) on_error_("events: " + c.status().message());
        reported = true;
        for (double waited = 0; waited < redial_s_ && !stop_; waited += 0.05) {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        continue;
      }
      conn_ = *c;
      if (reported && on_error_) on_error_("events: subscribed again at " + dialer_->url_.Where());
      reported = false;
    }
    // Waits for bytes in slices, so a stop is seen within 100 ms.
    pollfd p{conn_->fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, 100);
    if (ready == 0) continue;
    bool broken = ready < 0 || redisBufferRead(conn_) != REDIS_OK;
    while (!broken) {
      void* r = nullptr;
      if (redisGetReplyFromReader(conn_, &r) != REDIS_OK) {
        broken = true;
        break;
      }
      if (r == nullptr) break;
      std::unique_ptr<redisReply, void (*)(void*)> owned(static_cast<redisReply*>(r),
                                                         freeReplyObject);
      const redisReply* m = owned.get();
      if (m->type == REDIS_REPLY_ARRAY && m->elements == 3 &&
          std::string_view(m->element[0]->str, m->element[0]->len) == "message") {
        ++received_;
        try {
          on_message_(std::string(m->element[1]->str, m->element[1]->len),
                      std::string(m->element[2]->str, m->element[2]->len));
        } catch (const std::exception& e) {
          if (on_error_) on_error_(std::string("events: a handler failed: ") + e.what());
        }
      }
    }
    if (broken) {
      if (on_error_) {
        on_error_("events: lost Redis at " + dialer_->url_.Where() + ": " +
                  (conn_->err != 0 ? std::string(conn_->errstr) : "connection closed"));
      }
      reported = true;
      redisFree(conn_);
      conn_ = nullptr;
    }
  }
}

}  // namespace stride::index
