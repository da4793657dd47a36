// SPDX-License-Identifier: Apache-2.0
#include "index/redis/job_queue.hpp"

#include <cmath>

namespace stride::index {
namespace {

std::string Millis(double s) {
  return std::to_string(static_cast<int64_t>(std::llround(std::max(s, 0.0) * 1000)));
}

}  // namespace

Result<std::unique_ptr<RedisJobQueue>> RedisJobQueue::Open(Redis* redis, JobQueueOptions options) {
  std::unique_ptr<RedisJobQueue> q(new RedisJobQueue(redis, std::move(options)));
  Result<RedisReply> r =
      redis->Command({"XGROUP", "CREATE", q->options_.stream, q->options_.group, "0", "MKSTREAM"});
  if (!r.ok() && r.status().message().find("BUSYGROUP") == std::string::npos) {
    return r.status();
  }
  return q;
}

Result<std::string> RedisJobQueue::Enqueue(const std::string& kind, const std::string& data) {
  STRIDE_ASSIGN_OR_RETURN(RedisReply r, redis_->Command({"XADD", options_.stream, "MAXLEN", "~",
                                                         std::to_string(options_.max_length), "*",
                                                         "kind", kind, "data", data}));
  return r.str;
}

Result<std::vector<Job>> RedisJobQueue::FromEntries(const RedisReply& entries, bool claimed) {
  std::vector<Job> out;
  for (const RedisReply& e : entries.elements) {
    // [id, [field, value, ...]]; a job deleted while pending comes back with no fields.
    if (e.elements.size() != 2 || e.elements[1].type != RedisReply::Type::kArray) continue;
    Job job;
    job.id = e.elements[0].str;
    const auto& fields = e.elements[1].elements;
    for (size_t i = 0; i + 1 < fields.size(); i += 2) {
      if (fields[i].str == "kind") job.kind = fields[i + 1].str;
      if (fields[i].str == "data") job.data = fields[i + 1].str;
    }
    if (claimed) {
      // How often it was taken: XPENDING's delivery count (XAUTOCLAIM counted this take).
      STRIDE_ASSIGN_OR_RETURN(RedisReply p, redis_->Command({"XPENDING", options_.stream,
                                                             options_.group, job.id, job.id, "1"}));
      if (p.elements.size() == 1 && p.elements[0].elements.size() == 4) {
        job.attempt = static_cast<int>(p.elements[0].elements[3].integer);
      }
      if (job.attempt > options_.max_attempts) {
        STRIDE_RETURN_IF_ERROR(redis_
                                   ->Command({"XADD", options_.stream + ":dead", "*", "id", job.id,
                                              "kind", job.kind, "data", job.data})
                                   .status());
        STRIDE_RETURN_IF_ERROR(Ack(job));
        continue;
      }
    }
    out.push_back(std::move(job));
  }
  return out;
}

Result<std::vector<Job>> RedisJobQueue::Take(const std::string& worker, size_t count,
                                             double block_s) {
  const std::string n = std::to_string(std::max<size_t>(count, 1));
  STRIDE_ASSIGN_OR_RETURN(RedisReply claimed,
                          redis_->Command({"XAUTOCLAIM", options_.stream, options_.group, worker,
                                           Millis(options_.claim_after_s), "0-0", "COUNT", n}));
  if (claimed.elements.size() >= 2 && !claimed.elements[1].elements.empty()) {
    STRIDE_ASSIGN_OR_RETURN(std::vector<Job> jobs, FromEntries(claimed.elements[1], true));
    if (!jobs.empty()) return jobs;
  }
  STRIDE_ASSIGN_OR_RETURN(
      RedisReply fresh, redis_->Command({"XREADGROUP", "GROUP", options_.group, worker, "COUNT", n,
                                         "BLOCK", Millis(block_s), "STREAMS", options_.stream, ">"},
                                        block_s + 1.0));
  // nil on timeout, else [[stream, [entries...]]].
  if (fresh.type != RedisReply::Type::kArray || fresh.elements.empty() ||
      fresh.elements[0].elements.size() != 2) {
    return std::vector<Job>{};
  }
  return FromEntries(fresh.elements[0].elements[1], false);
}

Status RedisJobQueue::Ack(const Job& job) {
  // One script, so both or neither: a worker killed between a separate XACK and XDEL left an
  // acknowledged entry in the stream that no worker is ever handed again (counted as waiting
  // for ever; the cluster test saw it once in a clean-clone run).
  static const RedisScript script(R"lua(
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return redis.call('XDEL', KEYS[1], ARGV[2])
)lua");
  return redis_->Eval(script, {options_.stream}, {options_.group, job.id}).status();
}

Result<RedisJobQueue::Stats> RedisJobQueue::GetStats() {
  Stats s;
  STRIDE_ASSIGN_OR_RETURN(RedisReply len, redis_->Command({"XLEN", options_.stream}));
  s.waiting = static_cast<uint64_t>(len.integer);
  STRIDE_ASSIGN_OR_RETURN(RedisReply p,
                          redis_->Command({"XPENDING", options_.stream, options_.group}));
  if (!p.elements.empty()) s.pending = static_cast<uint64_t>(p.elements[0].integer);
  STRIDE_ASSIGN_OR_RETURN(RedisReply dead, redis_->Command({"XLEN", options_.stream + ":dead"}));
  s.dead = static_cast<uint64_t>(dead.integer);
  return s;
}

}  // namespace stride::index
