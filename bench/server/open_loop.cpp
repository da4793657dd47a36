// SPDX-License-Identifier: Apache-2.0
//
// open_loop: an open-loop HTTP load generator for tail latency against connection count.
//
// wrk is a closed loop: each connection sends its next request when the last answer came, so
// with C connections the mean latency is C / throughput (Little's law) whatever the server
// does, and "p99 at 1,000 connections" mostly measures the 1,000. This tool sends at a fixed
// rate instead, spread over C keep-alive connections: request i is due at t0 + i / rate and
// goes out on a free connection (or waits for one); its latency counts from when it was due,
// so a server that stalls is charged for the requests it made wait (no coordinated omission).
// Then p99 at 8, 64 and 1,000 connections at the same rate says what holding connections
// costs the server.
//
//   open_loop --port P --targets FILE --connections C --rate R [--seconds 10]
// Prints one JSON line: requests, achieved rate, p50/p90/p99/p99.9/max in ms, errors.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <string>
#include <vector>

#include "bench/server/bench_util.hpp"

namespace {

using stride::bench::Arg;
using stride::bench::ResponseLength;
double Now() {
  return stride::bench::SteadySeconds();
}

struct Conn {
  int fd = -1;
  bool busy = false;
  double due = 0;  // when the request in flight was due
  std::string in;
};

int Connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);  // EINPROGRESS
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  const int port = std::atoi(Arg(argc, argv, "--port", "0").c_str());
  const std::string targets_file = Arg(argc, argv, "--targets", "");
  const int n_conns = std::atoi(Arg(argc, argv, "--connections", "8").c_str());
  const double rate = std::atof(Arg(argc, argv, "--rate", "1000").c_str());
  const double seconds = std::atof(Arg(argc, argv, "--seconds", "10").c_str());
  std::vector<std::string> targets;
  std::ifstream tf(targets_file);
  for (std::string line; std::getline(tf, line);) {
    if (!line.empty()) targets.push_back(line);
  }
  if (port == 0 || targets.empty() || n_conns < 1 || rate <= 0) {
    std::fprintf(stderr,
                 "usage: open_loop --port P --targets FILE --connections C --rate R "
                 "[--seconds S]\n");
    return 2;
  }
  const int ep = ::epoll_create1(0);
  std::vector<Conn> conns(static_cast<size_t>(n_conns));
  std::deque<int> free_conns;
  for (int i = 0; i < n_conns; ++i) {
    conns[static_cast<size_t>(i)].fd = Connect(port);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<uint32_t>(i);
    ::epoll_ctl(ep, EPOLL_CTL_ADD, conns[static_cast<size_t>(i)].fd, &ev);
    free_conns.push_back(i);
  }
  ::usleep(200000);  // let the connections establish
  std::vector<double> latencies;
  latencies.reserve(static_cast<size_t>(rate * seconds) + 16);
  std::deque<double> waiting;  // due times of requests with no free connection yet
  size_t sent = 0, errors = 0, next_target = 0, reconnects = 0;
  // Replaces connection k by a new one, free for the next request.
  auto reopen = [&](uint32_t k) {
    Conn& c = conns[k];
    ::epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
    c = Conn();
    c.fd = Connect(port);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = k;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
    free_conns.push_back(static_cast<int>(k));
    ++reconnects;
  };
  const double t0 = Now();
  const size_t total = static_cast<size_t>(rate * seconds);
  std::vector<epoll_event> events(1024);
  size_t done = 0;
  while (done + errors < total) {
    const double now = Now();
    if (now - t0 > seconds + 30) break;  // a server that stopped answering
    while (sent < total && t0 + static_cast<double>(sent) / rate <= now) {
      waiting.push_back(t0 + static_cast<double>(sent) / rate);
      ++sent;
    }
    while (!waiting.empty() && !free_conns.empty()) {
      Conn& c = conns[static_cast<size_t>(free_conns.front())];
      free_conns.pop_front();
      const std::string req =
          "GET " + targets[next_target++ % targets.size()] + " HTTP/1.1\r\nHost: bench\r\n\r\n";
      if (::send(c.fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
        ++errors;  // the request is lost; the connection is opened again
        waiting.pop_front();
        reopen(static_cast<uint32_t>(&c - conns.data()));
        continue;
      }
      c.busy = true;
      c.due = waiting.front();
      waiting.pop_front();
    }
    const double next_due = sent < total ? t0 + static_cast<double>(sent) / rate : now + 0.01;
    const int timeout_ms = std::max(0, static_cast<int>((next_due - Now()) * 1000));
    const int n =
        ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), std::min(timeout_ms, 10));
    for (int i = 0; i < n; ++i) {
      const uint32_t k = events[static_cast<size_t>(i)].data.u32;
      Conn& c = conns[k];
      char buf[65536];
      const ssize_t r = ::recv(c.fd, buf, sizeof buf, 0);
      if (r <= 0) {
        if (r < 0 && errno == EAGAIN) continue;
        // The server closed the connection (servers that cap requests per connection do):
        // a request in flight is an error; the connection is opened again.
        if (c.busy) ++errors;
        reopen(k);
        continue;
      }
      c.in.append(buf, static_cast<size_t>(r));
      const size_t len = ResponseLength(c.in);
      if (len > 0 && c.busy) {
        if (c.in.compare(0, 12, "HTTP/1.1 200") != 0) ++errors;
        latencies.push_back(Now() - c.due);
        ++done;
        c.in.erase(0, len);
        c.busy = false;
        free_conns.push_back(static_cast<int>(k));
      }
    }
  }
  const double elapsed = Now() - t0;
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) {
    if (latencies.empty()) return 0.0;
    const size_t i =
        std::min(latencies.size() - 1,
                 static_cast<size_t>(p / 100.0 * static_cast<double>(latencies.size())));
    return latencies[i] * 1000;
  };
  std::printf(
      "{\"connections\":%d,\"rate\":%.0f,\"requests\":%zu,\"achieved_rps\":%.1f,\"p50_ms\":%.3f,"
      "\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f,\"errors\":%zu,"
      "\"reconnects\":%zu}\n",
      n_conns, rate, latencies.size(), static_cast<double>(latencies.size()) / elapsed, pct(50),
      pct(90), pct(99), pct(99.9), latencies.empty() ? 0.0 : latencies.back() * 1000, errors,
      reconnects);
  return 0;
}
