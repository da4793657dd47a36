// SPDX-License-Identifier: Apache-2.0
//
// A raw HTTP/1.1 client for tests that must send what a well-behaved client library would not
// (invalid bytes in a path, a slow header, a lying Content-Length, pipelined requests): plain
// blocking sockets on loopback, every read bounded by a timeout.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <string_view>

namespace stride::testing {

// An open connection to 127.0.0.1:port; closed by the destructor.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  bool ok() const { return fd_ >= 0; }

  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads until the peer closes or `timeout_s` passes; returns what arrived.
  std::string ReadAll(double timeout_s) {
    std::string out;
    const auto end = Deadline(timeout_s);
    while (Receive(end, &out) == kData) {
    }
    return out;
  }

  // Reads until everything received so far holds `needle` `times` times (a long-lived stream's
  // events), or the peer closes, or `timeout_s` passes; returns everything received so far.
  const std::string& ReadUntil(std::string_view needle, double timeout_s, size_t times = 1) {
    const auto end = Deadline(timeout_s);
    while (Count(needle) < times && Receive(end, &buffer_) == kData) {
    }
    return buffer_;
  }
  size_t Count(std::string_view needle) const {
    size_t n = 0;
    for (size_t at = buffer_.find(needle); at != std::string::npos;
         at = buffer_.find(needle, at + needle.size())) {
      ++n;
    }
    return n;
  }
  // True once the peer has closed (reads 0 bytes within `timeout_s`, discarding data).
  bool Closed(double timeout_s) {
    const auto end = Deadline(timeout_s);
    std::string discarded;
    while (true) {
      const Got got = Receive(end, &discarded);
      if (got != kData) return got == kClosed;
      discarded.clear();
    }
  }

  // Reads one response with a Content-Length body (or none); empty on timeout.
  std::string ReadResponse(double timeout_s) {
    const auto end = Deadline(timeout_s);
    while (true) {
      const size_t head_end = buffer_.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        const std::string head = buffer_.substr(0, head_end);
        size_t length = 0;
        const size_t cl = head.find("Content-Length: ");
        if (cl != std::string::npos) length = std::strtoull(head.c_str() + cl + 16, nullptr, 10);
        if (head.compare(0, 12, "HTTP/1.1 100") == 0) {
          buffer_.erase(0, head_end + 4);
          continue;
        }
        if (buffer_.size() >= head_end + 4 + length) {
          std::string r = buffer_.substr(0, head_end + 4 + length);
          buffer_.erase(0, head_end + 4 + length);
          return r;
        }
      }
      if (Receive(end, &buffer_) != kData) return {};
    }
  }

 private:
  using Clock = std::chrono::steady_clock;
  enum Got { kData, kClosed, kTimeout };
  static Clock::time_point Deadline(double timeout_s) {
    return Clock::now() +
           std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s));
  }
  // Waits until `end` for bytes and appends what one recv() gives to *into; kClosed when the
  // peer closed (or the socket failed), kTimeout when nothing came in time.
  Got Receive(Clock::time_point end, std::string* into) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count();
    if (left <= 0) return kTimeout;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) return kTimeout;
    char buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return kClosed;
    into->append(buf, static_cast<size_t>(n));
    return kData;
  }

  int fd_ = -1;
  std::string buffer_;
};

// The status code of a response text ("HTTP/1.1 404 ..."), 0 when there is none.
inline int StatusOf(const std::string& response) {
  if (response.size() < 12 || response.compare(0, 5, "HTTP/") != 0) return 0;
  return std::atoi(response.c_str() + 9);
}

// The body of a response text (after the blank line).
inline std::string BodyOf(const std::string& response) {
  const size_t at = response.find("\r\n\r\n");
  return at == std::string::npos ? std::string() : response.substr(at + 4);
}

// One request on a new connection ("Connection: close" is added), the whole response back.
inline std::string Exchange(int port, const std::string& method, const std::string& target,
                            const std::string& headers = "", const std::string& body = "",
                            double timeout_s = 10) {
  RawConnection c(port);
  std::string req =
      method + " " + target + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n" + headers;
  if (!body.empty()) req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  if (!c.ok() || !c.Send(req)) return {};
  return c.ReadAll(timeout_s);
}

}  // namespace stride::testing
