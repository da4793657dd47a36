// SPDX-License-Identifier: Apache-2.0
//
// Outbound webhooks: the run events leave the process. Every event (run.stored, run.deleted,
// user.deleted) is written to the run database's `outbox` family, one entry per URL, before
// Enqueue returns, and a delivery thread POSTs it:
//
//   POST <url>   Content-Type: application/json
//                Stride-Event-Id: <16 hex digits, the same on every attempt>
//                Stride-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//   {"id":"...","type":"run.stored","user":"alice","run_id":"...","created_at":"..."}
//
// At least once: an entry leaves the outbox only after a 2xx; otherwise it is retried with
// exponential backoff (first_retry_s, doubling, at most max_retry_s), up to max_attempts. The
// outbox is in the database, so a restart resumes where the last process stopped; receivers
// deduplicate by the event id. Delivery never blocks an upload: Enqueue is one write per URL.
// Plain http only (put a TLS proxy in front for https receivers).
//
// Thread-safety: Enqueue from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/run/run.hpp"
#include "engine/store/key_value.hpp"

namespace stride::server {

struct WebhookOptions {
  std::vector<std::string> urls;  // http://host[:port]/path
  std::string secret;             // HMAC key; required with urls
  double first_retry_s = 1;       // Default: 1 s, doubling per attempt...
  double max_retry_s = 3600;      // ... up to 1 h
  int max_attempts = 20;          // Default: 20; then the event is dropped, and logged
  double timeout_s = 10;          // per attempt, in all (not only per read). Default: 10 s
};

class WebhookSender {
 public:
  // InvalidArgument for a URL that is not http://host[:port]/path or an empty secret.
  static Result<std::unique_ptr<WebhookSender>> Start(WebhookOptions options,
                                                      engine::KeyValue* outbox,
                                                      std::function<void(const std::string&)> log);
  ~WebhookSender();
  // Writes the event's outbox entries. `id` (16 hex digits) names the event; empty: a fresh
  // random one. `stride worker` gives one derived from the job, so a job run again after a
  // failure or a dead worker sends the same id (receivers drop the duplicate by id). An error
  // when an entry could not be written (entries written before it stay).
  Status Enqueue(const engine::RunEvent& event, std::string id = "");
  // Blocks until the outbox is empty, or `timeout_s` passed; true when empty (tests).
  bool WaitIdle(double timeout_s);
  uint64_t delivered() const { return delivered_; }
  uint64_t failed_attempts() const { return failed_; }
  uint64_t dropped() const { return dropped_; }

 private:
  struct Target {
    std::string host, path;
    int port = 80;
  };
  WebhookSender() = default;
  void Run();
  // Delivers every due entry once; returns the seconds until the next one is due.
  double DeliverDue();

  WebhookOptions options_;
  std::vector<Target> targets_;
  engine::KeyValue* outbox_ = nullptr;
  std::function<void(const std::string&)> log_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool pending_ = false;
  std::thread thread_;
  std::atomic<uint64_t> delivered_{0}, failed_{0}, dropped_{0};
};

}  // namespace stride::server
