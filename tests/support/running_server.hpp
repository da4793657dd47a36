// SPDX-License-Identifier: Apache-2.0
//
// A real `stride serve` stack (server::HttpServer) on a loopback port of its own, run on a
// thread for the lifetime of the object: the integration tests' server. Its stores are opened
// as `stride serve` opens them (tools/serve_stores.hpp) and closed after it. The constructor
// waits until it listens (port() != 0) or failed (status()); the destructor stops it and waits.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "datasets/synthetic_routes.hpp"
#include "server/http_server.hpp"
#include "tools/serve_stores.hpp"

namespace stride::testing {

// A fresh folder for a test's server, <temp>/stride_<name>_<pid> (emptied first), holding a
// route database of `routes` generated routes around Andorra in <folder>/db. Empty when the
// database could not be written (the caller asserts it).
inline std::string ServerFolder(const std::string& name, size_t routes = 20) {
  namespace fs = std::filesystem;
  const std::string dir =
      (fs::path(::testing::TempDir()) / ("stride_" + name + "_" + std::to_string(::getpid())))
          .string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  datasets::SyntheticRoutesOptions ro;
  ro.count = routes;
  ro.SetRegion(42.4, 1.4, 42.7, 1.8);
  return datasets::WriteSyntheticRouteDb(ro, dir + "/db", 2).ok() ? dir : std::string();
}

// The stores of a test server: a run database at `runs` written without fsync (the tests
// kill no machine), no DEM, no backups.
inline tools::ServeStoreOptions RunsAt(const std::string& runs) {
  tools::ServeStoreOptions s;
  s.runs_path = runs;
  s.sync_writes = false;
  return s;
}

class RunningServer {
 public:
  // `options.port` is set to 0 (any free port).
  explicit RunningServer(server::HttpServerOptions options, tools::ServeStoreOptions stores = {}) {
    options.port = 0;
    Result<std::unique_ptr<tools::ServeStores>> opened = tools::ServeStores::Open(stores);
    if (!opened.ok()) {
      status_ = opened.status();
      finished_ = true;
      return;
    }
    stores_ = std::move(opened).value();
    server_ = std::make_unique<server::HttpServer>(std::move(options), stores_->view());
    thread_ = std::thread([this] {
      status_ = server_->Run();
      finished_ = true;
    });
    for (int i = 0; i < 500 && server_->port() == 0 && !finished_; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ~RunningServer() {
    if (!server_) return;
    server_->Stop();
    thread_.join();
  }
  RunningServer(const RunningServer&) = delete;
  RunningServer& operator=(const RunningServer&) = delete;

  int port() const { return server_ ? server_->port() : 0; }
  server::HttpServer& http() { return *server_; }
  // Why Run() returned, once it has (a server that failed to start).
  Status status() const {
    return finished_ ? status_ : Status::Unavailable("still running or starting");
  }

 private:
  std::unique_ptr<tools::ServeStores> stores_;  // outlives server_
  std::unique_ptr<server::HttpServer> server_;
  std::thread thread_;
  Status status_;
  std::atomic<bool> finished_{false};
};

}  // namespace stride::testing
