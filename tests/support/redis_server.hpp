// SPDX-License-Identifier: Apache-2.0
//
// A real redis-server (Debian's redis-server; scripts/deps.sh installs it) on a loopback port of
// its own, started by the test that needs it and killed by its destructor: nothing persisted,
// nothing shared with another test. Tests skip, saying why, when redis-server is not installed.
#pragma once

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "index/redis/redis.hpp"

namespace stride::testing {

// The first redis-server on PATH or in /usr/bin, or "".
inline std::string RedisServerBinary() {
  for (const char* dir : {"/usr/bin", "/usr/local/bin", "/usr/sbin"}) {
    const std::string p = std::string(dir) + "/redis-server";
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return "";
}

// A TCP port nothing listens on now (the kernel's choice for port 0).
inline int FreeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof(a);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

class RedisServer {
 public:
  // Starts one on a free port (or `port`), waiting until it answers PING; ok() says whether
  // it did.
  explicit RedisServer(int port = 0) : port_(port != 0 ? port : FreeLoopbackPort()) { Start(); }
  ~RedisServer() { Kill(); }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  bool ok() const { return ready_; }
  int port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

  // SIGKILL, as a crash; Start() brings a new, empty one up on the same port.
  void Kill() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
    }
    ready_ = false;
  }
  void Start() {
    const std::string bin = RedisServerBinary();
    if (bin.empty() || port_ == 0) return;
    const std::string port = std::to_string(port_);
    pid_ = ::fork();
    if (pid_ == 0) {
      const int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::execl(bin.c_str(), bin.c_str(), "--port", port.c_str(), "--bind", "127.0.0.1", "--save", "",
              "--appendonly", "no", "--daemonize", "no", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 250 && !ready_; ++i) {
      index::RedisOptions o;
      o.url = url();
      o.connect_timeout_s = 0.2;
      ready_ = index::Redis::Connect(o).ok();
      if (!ready_) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

 private:
  int port_ = 0;
  pid_t pid_ = -1;
  bool ready_ = false;
};

}  // namespace stride::testing
