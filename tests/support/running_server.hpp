// SPDX-License-Identifier: Apache-2.0
//
// A real `stride serve` stack (server::HttpServer) on a loopback port of its own, run on a
// thread for the lifetime of the object: the integration tests' server. The constructor waits
// until it listens (port() != 0) or failed (status()); the destructor stops it and waits.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "server/http_server.hpp"

namespace stride::testing {

class RunningServer {
 public:
  // `options.port` is set to 0 (any free port).
  explicit RunningServer(server::HttpServerOptions options) {
    options.port = 0;
    server_ = std::make_unique<server::HttpServer>(std::move(options));
    thread_ = std::thread([this] {
      status_ = server_->Run();
      finished_ = true;
    });
    for (int i = 0; i < 500 && server_->port() == 0 && !finished_; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ~RunningServer() {
    server_->Stop();
    thread_.join();
  }
  RunningServer(const RunningServer&) = delete;
  RunningServer& operator=(const RunningServer&) = delete;

  int port() const { return server_->port(); }
  server::HttpServer& http() { return *server_; }
  // Why Run() returned, once it has (a server that failed to start).
  Status status() const {
    return finished_ ? status_ : Status::Unavailable("still running or starting");
  }

 private:
  std::unique_ptr<server::HttpServer> server_;
  std::thread thread_;
  Status status_;
  std::atomic<bool> finished_{false};
};

}  // namespace stride::testing
