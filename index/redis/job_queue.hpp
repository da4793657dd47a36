// SPDX-License-Identifier: Apache-2.0
//
// A job queue in a Redis Stream with one consumer group, for the post-processing several
// servers hand to `stride worker` processes (issue 20): servers Enqueue, workers Take and Ack.
//
//   XADD   STREAM MAXLEN ~ max_length * kind KIND data DATA      (Enqueue)
//   XAUTOCLAIM STREAM GROUP WORKER claim_after_ms 0-0 COUNT n    (Take: a dead worker's jobs)
//   XREADGROUP GROUP GROUP WORKER COUNT n BLOCK ms STREAMS STREAM >   (Take: new jobs)
//   XACK + XDEL in one script (both or neither)                  (Ack)
//
// At least once: a job stays pending on the worker that took it until that worker acks it; a
// worker killed mid-job leaves it pending, and after `claim_after_s` without an ack any other
// worker's Take claims it (so a job may run twice: handlers must be idempotent, and a job
// slower than claim_after_s is taken by a second worker too). A job taken more than
// `max_attempts` times goes to STREAM:dead instead (kept for an operator, counted in Stats).
//
// Thread-safety: every method from any thread (index::Redis's pool).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/status.hpp"
#include "index/redis/redis.hpp"

namespace stride::index {

struct JobQueueOptions {
  std::string stream = "stride:jobs";  // Default: stride:jobs (dead letters: stride:jobs:dead)
  std::string group = "workers";       // Default: workers
  double claim_after_s = 30;           // a pending job another worker may take. Default: 30 s
  int max_attempts = 5;                // takes before the dead letters. Default: 5
  size_t max_length = 1'000'000;       // jobs kept at most (approximately). Default: 10^6
};

struct Job {
  std::string id;  // the stream entry's ("1733270000000-0"): the same on every attempt
  std::string kind, data;
  int attempt = 1;  // 1 on the first take
};

class RedisJobQueue {
 public:
  // Creates the stream and group when missing (every server and worker may; one does it).
  static Result<std::unique_ptr<RedisJobQueue>> Open(Redis* redis, JobQueueOptions options = {});

  // The entry's id.
  Result<std::string> Enqueue(const std::string& kind, const std::string& data);
  // Up to `count` jobs for `worker` (a name unique among the workers): first jobs other workers
  // took more than claim_after_s ago and never acked, else new ones, waiting up to `block_s`
  // for one. Empty when none came.
  Result<std::vector<Job>> Take(const std::string& worker, size_t count, double block_s);
  Status Ack(const Job& job);

  struct Stats {
    uint64_t waiting = 0;  // in the stream, taken or not
    uint64_t pending = 0;  // taken and not acked
    uint64_t dead = 0;
  };
  Result<Stats> GetStats();
  const JobQueueOptions& options() const { return options_; }

 private:
  RedisJobQueue(Redis* redis, JobQueueOptions options)
      : redis_(redis), options_(std::move(options)) {}
  // Jobs from an XREADGROUP/XAUTOCLAIM entry list; dead letters moved aside.
  Result<std::vector<Job>> FromEntries(const RedisReply& entries, bool claimed);

  Redis* redis_;
  JobQueueOptions options_;
};

}  // namespace stride::index
