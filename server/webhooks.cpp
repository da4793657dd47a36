// SPDX-License-Identifier: Apache-2.0
#include "server/webhooks.hpp"

#include <httplib.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>

#include "engine/hex.hpp"
#include "engine/text/iso_time.hpp"
#include "engine/text/json_dump.hpp"
#include "engine/text/number.hpp"
#include "engine/time/now.hpp"
#include "engine/time/watchdog.hpp"
#include "server/auth.hpp"

namespace stride::server {
namespace {

using Json = nlohmann::json;

// Outbox keys sort by when they are due: 16 decimal digits of milliseconds.
std::string DueKey(double due_s, const std::string& id, size_t target) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%016lld/%s/%02zu", static_cast<long long>(due_s * 1000),
                id.c_str(), target);
  return buf;
}

}  // namespace

Result<std::unique_ptr<WebhookSender>> WebhookSender::Start(
    WebhookOptions options, engine::KeyValue* outbox, std::function<void(const std::string&)> log) {
  if (options.secret.empty()) {
    return Status::InvalidArgument("--webhook needs a signing secret (--webhook-secret-file)");
  }
  std::unique_ptr<WebhookSender> w(new WebhookSender());
  for (const std::string& url : options.urls) {
    if (url.rfind("http://", 0) != 0) {
      return Status::InvalidArgument("--webhook " + url +
                                     ": expected http://host[:port]/path (https: put a TLS "
                                     "proxy in front)");
    }
    const std::string rest = url.substr(7);
    const size_t slash = rest.find('/');
    Target t;
    std::string hostport = rest.substr(0, slash);
    t.path = slash == std::string::npos ? "/" : rest.substr(slash);
    const size_t colon = hostport.rfind(':');
    t.host = hostport.substr(0, colon);
    if (t.host.empty()) return Status::InvalidArgument("--webhook " + url + ": no host");
    if (colon != std::string::npos) {
      // The whole port: atoi read "8O80" (a letter O) as port 8.
      const Result<int64_t> port =
          engine::ParseWholeNumber("port", hostport.substr(colon + 1), 1, 65535);
      if (!port.ok()) {
        return Status::InvalidArgument("--webhook " + url + ": " + port.status().message());
      }
      t.port = static_cast<int>(*port);
    }
    w->targets_.push_back(std::move(t));
  }
  w->options_ = std::move(options);
  w->outbox_ = outbox;
  w->log_ = std::move(log);
  w->thread_ = std::thread([p = w.get()] { p->Run(); });
  return w;
}

WebhookSender::~WebhookSender() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status WebhookSender::Enqueue(const engine::RunEvent& e, std::string id) {
  if (id.empty()) {
    static thread_local std::mt19937_64 rng(std::random_device{}());
    char fresh[17];
    std::snprintf(fresh, sizeof fresh, "%016llx", static_cast<unsigned long long>(rng()));
    id = fresh;
  }
  const double now = engine::UnixNowS();
  Json body = {{"id", id},
               {"type", std::string(engine::RunEventName(e.kind))},
               {"user", e.user_id},
               {"created_at", engine::FormatIsoTime(now, 3)}};
  if (e.run_id != 0) body["run_id"] = engine::RunIdText(e.run_id);
  const std::string text = engine::DumpJson(body);
  Status result = Status::Ok();
  for (size_t t = 0; t < targets_.size(); ++t) {
    const Json entry = {{"target", t}, {"body", text}, {"attempts", 0}, {"id", id}};
    const Status s = outbox_->Put(DueKey(now, id, t), engine::DumpJson(entry));
    if (!s.ok()) {
      if (log_) log_("webhook: event " + id + " not queued: " + s.message());
      if (result.ok()) result = Status(s.code(), "webhook outbox: " + s.message());
    }
  }
  {
    std::lock_guard lock(mu_);
    pending_ = true;
  }
  cv_.notify_all();
  return result;
}

double WebhookSender::DeliverDue() {
  const double now = engine::UnixNowS();
  std::vector<std::pair<std::string, std::string>> due;
  double next = 1.0;
  (void)outbox_->Scan("", [&](std::string_view k, std::string_view v) {
    const double at = std::atof(std::string(k.substr(0, 16)).c_str()) / 1000.0;
    if (at > now) {
      next = std::min(next, at - now);
      return false;  // sorted by due time: the rest are later
    }
    due.emplace_back(std::string(k), std::string(v));
    return due.size() < 256;
  });
  for (const auto& [key, value] : due) {
    const Json entry = Json::parse(value, nullptr, false);
    if (entry.is_discarded()) {
      (void)outbox_->Delete(key);
      continue;
    }
    const size_t t = entry.value("target", size_t{0});
    const std::string body = entry.value("body", "");
    const std::string id = entry.value("id", "");
    bool ok = false;
    std::string why;
    if (t < targets_.size()) {
      const Target& target = targets_[t];
      httplib::Client c(target.host, target.port);
      const std::chrono::microseconds timeout(std::llround(options_.timeout_s * 1e6));
      c.set_connection_timeout(timeout);
      c.set_read_timeout(timeout);
      c.set_write_timeout(timeout);
      const std::string ts = std::to_string(static_cast<long long>(engine::UnixNowS()));
      const std::string sig = engine::HexEncode(HmacSha256(options_.secret, ts + "." + body));
      httplib::Headers h = {{"Stride-Event-Id", id},
                            {"Stride-Signature", "t=" + ts + ",v1=" + sig}};
      // The timeouts above are per read: a receiver that answers a byte at a time would hold
      // this thread, and every other receiver's deliveries, for as long as it liked.
      engine::Watchdog deadline(options_.timeout_s, [&c] { c.stop(); });
      auto res = c.Post(target.path, h, body, "application/json");
      ok = res && res->status >= 200 && res->status < 300;
      why = res ? "status " + std::to_string(res->status)
            : deadline.expired()
                ? "no whole answer within " + engine::NumberForMessage(options_.timeout_s) + " s"
                : httplib::to_string(res.error());
    }
    if (ok) {
      ++delivered_;
    } else {
      ++failed_;
      const int attempts = entry.value("attempts", 0) + 1;
      if (attempts >= options_.max_attempts || t >= targets_.size()) {
        ++dropped_;
        if (log_)
          log_("webhook: event " + id + " dropped after " + std::to_string(attempts) +
               " attempts (" + why + ")");
      } else {
        const double wait =
            std::min(options_.max_retry_s, options_.first_retry_s * std::pow(2.0, attempts - 1));
        Json again = entry;
        again["attempts"] = attempts;
        (void)outbox_->Put(DueKey(engine::UnixNowS() + wait, id, t), engine::DumpJson(again));
        next = std::min(next, wait);
      }
    }
    // The entry leaves the outbox last: after the counters and the log say what became of
    // it, and after its retry is written. Deleted first, a crash before the retry's Put lost
    // the event, and WaitIdle saw an empty outbox with a retry still to come.
    (void)outbox_->Delete(key);
  }
  return due.size() >= 256 ? 0.0 : next;
}

void WebhookSender::Run() {
  while (true) {
    const double wait = DeliverDue();
    std::unique_lock lock(mu_);
    if (stop_) return;
    cv_.wait_for(lock, std::chrono::duration<double>(std::max(0.01, std::min(wait, 1.0))),
                 [&] { return stop_ || pending_; });
    if (stop_) return;
    pending_ = false;
  }
}

bool WebhookSender::WaitIdle(double timeout_s) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (std::chrono::steady_clock::now() < end) {
    bool empty = true;
    (void)outbox_->Scan("", [&](std::string_view, std::string_view) {
      empty = false;
      return false;
    });
    if (empty) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace stride::server
