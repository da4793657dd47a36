// SPDX-License-Identifier: Apache-2.0
//
// `stride worker`'s loop: takes jobs from the Redis job queue (index/redis/job_queue.hpp) and
// runs each with the handler of its kind, acking it after it ran, so a worker killed mid-job
// leaves the job to another.
//
// Jobs (the queue entry's kind and data; the data of both is EncodeRunEventJob's):
//   run.event       {"type":"run.stored"|"run.deleted"|"user.deleted","user":..,"run_id":"<hex>"}
//                   what an upload, a delete or DELETE /v1/me on a server caused: the plugins'
//                   processing (challenge progress, plan recalculation) and the webhook outbox.
//   run.reanalyze   {"type":"run.stored","user":..,"run_id":"<hex>"}: analyse a stored run
//                   again (POST /v1/admin/reanalyze on a server that queues its jobs).
// A handler's kInvalidArgument, kCorruption or kResourceExhausted (a bad job, a stored file
// that no longer reads, data beyond a limit) and a job of a kind without a handler are acked,
// logged and counted as dropped (retrying would not help);
// any other failure leaves the job pending, to be taken again after the queue's
// claim_after_s (by this worker or another), at most the queue's max_attempts times.
//
// Thread-safety: Start/Stop from one thread; the counters from any.
#pragma once

#include <atomic>
#include <functional>
#include <map>
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
  // Runs one job; `event_id` (16 hex digits, from the job's id: JobEventId) is the same each
  // time the job runs, for the webhooks it sends.
  using Handler = std::function<Status(const index::Job& job, const std::string& event_id)>;
  // `queue` must outlive the worker; `handlers` by job kind; `log` hears failures.
  JobWorker(index::RedisJobQueue* queue, JobWorkerOptions options,
            std::map<std::string, Handler> handlers, std::function<void(const std::string&)> log);
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
  std::map<std::string, Handler> handlers_;
  std::function<void(const std::string&)> log_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> done_{0}, failed_{0}, dropped_{0};
  std::thread thread_;
};

}  // namespace stride::server
