// SPDX-License-Identifier: Apache-2.0
#include "server/reanalysis.hpp"

#include <chrono>

#include "engine/text/iso_time.hpp"
#include "engine/time/now.hpp"

namespace stride::server {
namespace {

constexpr size_t kPage = 200;

}  // namespace

Reanalysis::Reanalysis(const engine::RunStore* store, Sink sink, bool queued,
                       std::function<void(const std::string&)> log)
    : store_(store), sink_(std::move(sink)), queued_(queued), log_(std::move(log)) {
  progress_.queued = queued_;
}

Reanalysis::~Reanalysis() {
  Stop();
}

Status Reanalysis::Start(const std::string& user) {
  if (!user.empty()) STRIDE_RETURN_IF_ERROR(engine::CheckUserId(user));
  std::lock_guard lock(mu_);
  if (progress_.running) {
    return Status::AlreadyExists("a re-analysis started at " +
                                 engine::FormatIsoTime(progress_.started_at_s, 0) +
                                 " is running; see GET /v1/admin/reanalyze");
  }
  if (thread_.joinable()) thread_.join();  // the last pass, finished
  progress_ = Progress();
  progress_.running = true;
  progress_.queued = queued_;
  progress_.user = user;
  progress_.started_at_s = engine::UnixNowS();
  stop_ = false;
  thread_ = std::thread([this, user] { Pass(user); });
  return Status::Ok();
}

Reanalysis::Progress Reanalysis::progress() const {
  std::lock_guard lock(mu_);
  return progress_;
}

void Reanalysis::Stop() {
  stop_ = true;
  std::thread t;
  {
    std::lock_guard lock(mu_);
    t = std::move(thread_);
  }
  if (t.joinable()) t.join();
}

bool Reanalysis::User(const std::string& user) {
  std::string cursor;
  do {
    Result<engine::RunStore::Page> page = store_->List(user, cursor, kPage);
    if (!page.ok()) {
      std::lock_guard lock(mu_);
      ++progress_.failed;
      progress_.last_error = "listing " + user + "'s runs: " + page.status().message();
      log_("reanalyze: " + progress_.last_error);
      return !stop_;
    }
    for (const engine::RunSummary& run : page->runs) {
      if (stop_) return false;
      Result<bool> done = sink_(user, run.id);
      std::lock_guard lock(mu_);
      ++progress_.runs;
      if (!done.ok()) {
        if (done.status().code() == StatusCode::kNotFound) continue;  // deleted meanwhile
        ++progress_.failed;
        progress_.last_error = done.status().message();
        log_("reanalyze: " + user + " " + engine::RunIdText(run.id) + ": " +
             done.status().message());
      } else if (*done) {
        ++progress_.changed;
      }
    }
    cursor = page->next_cursor;
  } while (!cursor.empty());
  return !stop_;
}

void Reanalysis::Pass(std::string user) {
  const auto t0 = std::chrono::steady_clock::now();
  bool finished = true;
  if (!user.empty()) {
    finished = User(user);
  } else {
    std::string after;
    while (finished) {
      Result<std::vector<std::string>> users = store_->ListUsers(after, kPage);
      if (!users.ok()) {
        std::lock_guard lock(mu_);
        ++progress_.failed;
        progress_.last_error = "listing users: " + users.status().message();
        log_("reanalyze: " + progress_.last_error);
        break;
      }
      for (const std::string& u : *users) {
        if (!(finished = User(u))) break;
      }
      if (users->size() < kPage) break;
      after = users->back();
    }
  }
  std::lock_guard lock(mu_);
  progress_.running = false;
  progress_.finished_at_s = engine::UnixNowS();
  log_(
      "reanalyze: " + std::string(finished ? "finished" : "stopped") + " after " +
      std::to_string(progress_.runs) + " runs (" + std::to_string(progress_.changed) +
      (queued_ ? " queued, " : " changed, ") + std::to_string(progress_.failed) + " failed) in " +
      std::to_string(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()) +
      " s");
}

}  // namespace stride::server
