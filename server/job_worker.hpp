// SPDX-License-Identifier: Apache-2.0
//
// `stride worker`'s loop: takes jobs from the Redis job queue (index/redis/job_queue.hpp) and
// runs them, acking each after it ran, so a worker killed mid-job leaves the job to another.
//
// Jobs (the queue entry's kind and data):
//   run.event  {"type":"run.stored"|"run.deleted"|"user.deleted","user":..,"run_id":"<hex>"}
//              what an upload, a delete or DELETE /v1/me on a server caused: the plugins'
//              processing (challenge progress, plan recalculation) and the webhook outbox.
// A job of an unknown kind or with unreadable data is acked and logged (retrying would not
// help); a handler that fails leaves it pending, to be taken again after the queue's
// claim_after_s (by this worker or another).
//
// Thread-safety: Start/Stop from one thread; done() and failed() from any.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "engine/run/run.hpp"
#include "index/redis/job_queue.hpp"

namespace stride::server {

std::string EncodeRunEventJob(const engine::RunEvent& event);
Result<engine::RunEvent> DecodeRunEventJob(const std::string& data);
// The event id a job's webhooks carry: 16 hex digits of SHA-256 of the job's id.
std::string JobEventId(const std::string& job_id);

struct JobWorkerOptions {
  std::string name;            // the consumer's name, unique among the workers. Required
  size_t batch = 16;           // jobs taken at once. Default: 16
  double block_s = 1.0;        // how long one Take waits for a job. Default: 1 s
  double retry_pause_s = 0.5;  // after Redis failed. Default: 0.5 s
};

class JobWorker {
 public:
  // Handles one run event; `event_id` (16 hex digits, from the job's id) is the same each time
  // the job runs. An error leaves the job for a retry.
  using RunEventHandler =
      std::function<Status(const engine::RunEvent&, const std::string& event_id)>;
  // `queue` must outlive the worker; `log` hears failures.
  JobWorker(index::RedisJobQueue* queue, JobWorkerOptions options, RunEventHandler on_run_event,
            std::function<void(const std::string&)> log);
  ~JobWorker();
  JobWorker(const JobWorker&) = delete;
  JobWorker& operator=(const JobWorker&) = delete;

  void Start();
  // Finishes the job in hand, then returns.
  void Stop();
  uint64_t done() const { return done_.load(); }
  uint64_t failed() const { return failed_.load(); }    // runs that failed (left for a retry)
  uint64_t dropped() const { return dropped_.load(); }  // unknown kind or unreadable data

 private:
  void Loop();
  // True when the job may be acked.
  bool Run(const index::Job& job);

  index::RedisJobQueue* queue_;
  JobWorkerOptions options_;
  RunEventHandler on_run_event_;
  std::function<void(const std::string&)> log_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> done_{0}, failed_{0}, dropped_{0};
  std::thread thread_;
};

}  // namespace stride::server
