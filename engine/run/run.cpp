// SPDX-License-Identifier: Apache-2.0
#include "engine/run/run.hpp"

#include <cstdio>

namespace stride::engine {

RunSummary SummarizeSessions(const std::vector<Analysis>& sessions) {
  RunSummary s;
  s.sessions = static_cast<uint32_t>(sessions.size());
  const Analysis& first = sessions.front();
  s.start_time_s = first.start_time_s;
  s.format = first.format;
  s.sport = sessions.size() == 1 ? std::string(SportName(first.sport)) : "multisport";
  s.elevation_source = std::string(AltitudeSourceName(first.smoothing.elevation_source));
  const SessionTotals t = Totals(sessions);
  s.points = t.kept_points;
  s.distance_m = t.distance_m;
  s.moving_time_s = t.moving_time_s;
  s.elapsed_time_s = t.elapsed_time_s;
  s.ascent_m = t.ascent_m;
  return s;
}

std::string RunIdText(uint64_t id) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(id));
  return buf;
}

bool ParseRunId(std::string_view text, uint64_t* id) {
  if (text.size() != 16) return false;
  uint64_t v = 0;
  for (char c : text) {
    int d = 0;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return false;
    }
    v = v << 4 | static_cast<uint64_t>(d);
  }
  *id = v;
  return true;
}

Status CheckUserId(std::string_view user_id) {
  if (user_id.empty() || user_id.size() > 128 || user_id.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("user id: expected 1 to 128 bytes without NUL");
  }
  return Status::Ok();
}

std::string_view RunEventName(RunEvent::Kind kind) {
  switch (kind) {
    case RunEvent::Kind::kStored:
      return "run.stored";
    case RunEvent::Kind::kDeleted:
      return "run.deleted";
    case RunEvent::Kind::kUserDeleted:
      return "user.deleted";
  }
  return "unknown";
}

bool ParseRunEventName(std::string_view name, RunEvent::Kind* kind) {
  for (RunEvent::Kind k :
       {RunEvent::Kind::kStored, RunEvent::Kind::kDeleted, RunEvent::Kind::kUserDeleted}) {
    if (RunEventName(k) == name) {
      *kind = k;
      return true;
    }
  }
  return false;
}

void RunEvents::Subscribe(Handler handler) {
  handlers_.push_back(std::move(handler));
}

void RunEvents::Publish(const RunEvent& event) const {
  for (const Handler& h : handlers_) {
    try {
      h(event);
    } catch (...) {
      ++failures_;
    }
  }
}

uint64_t RunEvents::handler_failures() const {
  return failures_.load();
}

}  // namespace stride::engine
