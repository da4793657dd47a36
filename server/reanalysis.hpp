// SPDX-License-Identifier: Apache-2.0
//
// Re-analysis of stored runs, after an import or an algorithm change (POST
// /v1/admin/reanalyze): one background pass over a user's runs, or every user's, that hands
// each run to a sink — RunService::Reanalyze on a single server, a `run.reanalyze` job for the
// workers on a server that queues its jobs. One pass at a time per server; its progress is
// kept until the next one starts.
//
// The pass lists runs page by page (RunStore::ListUsers, RunStore::List), so it starts at once
// and holds one page in memory whatever the store's size. A run that fails (the file no longer
// reads, the store refused the write) is counted and logged; the pass goes on.
//
// Thread-safety: every method from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "engine/run/run.hpp"

namespace stride::server {

class Reanalysis {
 public:
  // What happened to one run: true when it changed (or, queued, when the job was queued).
  using Sink = std::function<Result<bool>(const std::string& user_id, uint64_t id)>;
  // `store` must outlive this; `queued` says what the sink does (reported as the mode).
  Reanalysis(const engine::RunStore* store, Sink sink, bool queued,
             std::function<void(const std::string&)> log);
  ~Reanalysis();
  Reanalysis(const Reanalysis&) = delete;
  Reanalysis& operator=(const Reanalysis&) = delete;

  struct Progress {
    bool running = false;
    bool queued = false;       // runs handed to the workers, not analysed here
    std::string user;          // empty: every user
    uint64_t runs = 0;         // handed to the sink so far
    uint64_t changed = 0;      // stored again (queued: jobs queued)
    uint64_t failed = 0;       // the sink refused them
    double started_at_s = 0;   // Unix time; 0 before the first pass
    double finished_at_s = 0;  // 0 while running
    std::string last_error;    // of the last failure
  };
  // Starts a pass over `user`'s runs (empty: every user's). kAlreadyExists while one runs.
  Status Start(const std::string& user);
  Progress progress() const;
  // Stops a pass in hand after the run in hand (server shutdown), and waits for it.
  void Stop();

 private:
  void Pass(std::string user);
  // One user's runs; false when stopped.
  bool User(const std::string& user);

  const engine::RunStore* store_;
  Sink sink_;
  const bool queued_;  // what the sink does (every Progress says it)
  std::function<void(const std::string&)> log_;
  mutable std::mutex mu_;
  Progress progress_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace stride::server
