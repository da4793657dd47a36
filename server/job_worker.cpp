// SPDX-License-Identifier: Apache-2.0
#include "server/job_worker.hpp"

#include <chrono>
#include <nlohmann/json.hpp>

#include "engine/run/run.hpp"
#include "engine/sha256.hpp"

namespace stride::server {

std::string EncodeRunEventJob(const engine::RunEvent& event) {
  nlohmann::json j = {{"type", engine::RunEventName(event.kind)}, {"user", event.user_id}};
  if (event.run_id != 0) j["run_id"] = engine::RunIdText(event.run_id);
  return j.dump();
}

Result<engine::RunEvent> DecodeRunEventJob(const std::string& data) {
  const nlohmann::json j = nlohmann::json::parse(data, nullptr, false);
  engine::RunEvent e;
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string() ||
      !engine::ParseRunEventName(j["type"].get<std::string>(), &e.kind) || !j.contains("user") ||
      !j["user"].is_string() || j["user"].get<std::string>().empty()) {
    return Status::InvalidArgument(
        "run.event job: expected {\"type\":\"run.stored\"|"
        "\"run.deleted\"|\"user.deleted\",\"user\":...}, got " +
        data.substr(0, 200));
  }
  e.user_id = j["user"];
  if (j.contains("run_id") && (!j["run_id"].is_string() ||
                               !engine::ParseRunId(j["run_id"].get<std::string>(), &e.run_id))) {
    return Status::InvalidArgument("run.event job: run_id is not a run id: " + data.substr(0, 200));
  }
  return e;
}

std::string JobEventId(const std::string& job_id) {
  return engine::Sha256Hex(job_id).substr(0, 16);
}

JobWorker::JobWorker(index::RedisJobQueue* queue, JobWorkerOptions options,
                     std::map<std::string, Handler> handlers,
                     std::function<void(const std::string&)> log)
    : queue_(queue),
      options_(std::move(options)),
      handlers_(std::move(handlers)),
      log_(std::move(log)) {}

JobWorker::~JobWorker() {
  Stop();
}

void JobWorker::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void JobWorker::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

namespace {

// What the same job would fail with again: data that does not read (a bad job, a stored file
// that no longer parses) or is beyond a limit.
bool NoRetryHelps(StatusCode code) {
  return code == StatusCode::kInvalidArgument || code == StatusCode::kCorruption ||
         code == StatusCode::kResourceExhausted;
}

}  // namespace

bool JobWorker::Run(const index::Job& job) {
  const auto handler = handlers_.find(job.kind);
  if (handler == handlers_.end()) {
    log_("jobs: " + job.id + ": unknown kind \"" + job.kind + "\", dropped");
    ++dropped_;
    return true;
  }
  const Status s = handler->second(job, JobEventId(job.id));
  if (NoRetryHelps(s.code())) {
    log_("jobs: " + job.id + " (" + job.kind + "): " + s.message() + ", dropped");
    ++dropped_;
    return true;
  }
  if (!s.ok()) {
    log_("jobs: " + job.id + " (" + job.kind + ", attempt " + std::to_string(job.attempt) +
         "): " + s.message() + "; left for a retry");
  }
  return s.ok();
}

void JobWorker::Loop() {
  bool reported = false;
  while (!stop_) {
    Result<std::vector<index::Job>> jobs =
        queue_->Take(options_.name, options_.batch, options_.block_s);
    if (!jobs.ok()) {
      if (!reported) log_("jobs: " + jobs.status().message());
      reported = true;
      for (double w = 0; w < options_.retry_pause_s && !stop_; w += 0.05) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      continue;
    }
    if (reported) log_("jobs: taking jobs again");
    reported = false;
    // Every job taken is run, even when stopping: one not acked waits claim_after_s.
    for (const index::Job& job : *jobs) {
      if (!Run(job)) {
        ++failed_;
        continue;
      }
      // Counted before the ack: whoever sees the queue empty sees the job counted as done.
      ++done_;
      const Status acked = queue_->Ack(job);
      if (!acked.ok()) log_("jobs: " + job.id + " ran but was not acked: " + acked.message());
    }
  }
}

}  // namespace stride::server
