// SPDX-License-Identifier: Apache-2.0
//
// What the bench clients share: flag lookup, a steady clock in seconds, percentiles, and a
// lean HTTP/1.1 client on loopback.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

namespace stride::bench {

// The value after `--name` among argv[first..], or `def`. (`first` = 2 skips a subcommand.)
inline std::string Arg(int argc, char** argv, const std::string& name, const std::string& def = "",
                       int first = 1) {
  for (int i = first; i + 1 < argc; ++i) {
    if (argv[i] == name) return argv[i + 1];
  }
  return def;
}

// Seconds on the steady clock (for intervals only).
inline double SteadySeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The value at fraction p (0..1) of the sorted values (nearest rank, from below); 0 when empty.
inline double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

// Length of the first complete response in `in` (head and Content-Length body), or 0.
inline size_t ResponseLength(const std::string& in) {
  const size_t head = in.find("\r\n\r\n");
  if (head == std::string::npos) return 0;
  size_t length = 0;
  const size_t cl = in.find("Content-Length: ");
  if (cl != std::string::npos && cl < head) {
    length = std::strtoull(in.c_str() + cl + 16, nullptr, 10);
  }
  return in.size() >= head + 4 + length ? head + 4 + length : 0;
}

// One blocking keep-alive connection to 127.0.0.1:port, GET only, no compression asked. As
// little client as a latency figure needs: cpp-httplib's client added 5-10 ms at the p99 of
// 100-300 KB answers that Python's http.client and curl did not.
class LoopbackClient {
 public:
  explicit LoopbackClient(int port) : port_(port) {}
  ~LoopbackClient() { Close(); }
  LoopbackClient(const LoopbackClient&) = delete;
  LoopbackClient& operator=(const LoopbackClient&) = delete;

  // The status of GET `target` (0 on a transport error); the body in *body.
  int Get(const std::string& target, std::string* body) {
    for (int attempt = 0; attempt < 2; ++attempt) {  // once more on a connection the server closed
      if (fd_ < 0 && !Connect()) return 0;
      const std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
      if (::send(fd_, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
        Close();
        continue;
      }
      std::string in;
      char buf[1 << 16];
      size_t n = 0;
      while ((n = ResponseLength(in)) == 0) {
        const ssize_t r = ::recv(fd_, buf, sizeof buf, 0);
        if (r <= 0) break;
        in.append(buf, static_cast<size_t>(r));
      }
      if (n == 0) {
        Close();
        if (in.empty()) continue;
        return 0;
      }
      const size_t head = in.find("\r\n\r\n");
      *body = in.substr(head + 4, n - head - 4);
      return in.size() > 12 ? std::atoi(in.c_str() + 9) : 0;
    }
    return 0;
  }

 private:
  bool Connect() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return false;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port_));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      Close();
      return false;
    }
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return true;
  }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  int port_;
  int fd_ = -1;
};

}  // namespace stride::bench
