// SPDX-License-Identifier: Apache-2.0
#include "server/sync.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <functional>
#include <set>
#include <utility>

#include "engine/text/iso_time.hpp"
#include "engine/text/json_dump.hpp"
#include "engine/text/json_fields.hpp"
#include "engine/text/utf8.hpp"
#include "engine/time/time_zone.hpp"
#include "plugins/host/plugin_host.hpp"

namespace stride::server {
namespace {

using Json = nlohmann::json;
using OJson = nlohmann::ordered_json;

constexpr std::string_view kClockKey = "sync/clock";
constexpr std::string_view kRecordPrefix = "sync/r/";
constexpr std::string_view kLogPrefix = "sync/s/";
constexpr size_t kMaxTextBytes = 2000;

std::string UserKey(const std::string& user, std::string_view key) {
  return plugins::PluginHost::StoredKey(user, key);
}
std::string RecordKey(const std::string& user, const std::string& collection,
                      const std::string& id) {
  return UserKey(user, std::string(kRecordPrefix) + collection + "/" + id);
}
std::string SeqText(uint64_t seq) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(seq));
  return buf;
}
std::string LogKey(const std::string& user, uint64_t seq) {
  return UserKey(user, std::string(kLogPrefix) + SeqText(seq));
}

std::string EncodeRecord(const SyncRecord& r) {
  Json stamps = Json::object();
  for (const auto& [f, s] : r.stamps) stamps[f] = Json::array({s.at_ms, s.fidelity});
  Json j = {{"s", r.seq}, {"c", r.created_seq}, {"f", r.fields}, {"t", stamps}};
  if (r.deleted_ms) j["d"] = r.deleted_ms;
  return engine::DumpJson(j);
}

Result<SyncRecord> DecodeRecord(std::string_view text) {
  const Json j = Json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("s") || !j["s"].is_number_unsigned()) {
    return Status::Corruption("sync record: not a record");
  }
  SyncRecord r;
  r.seq = j["s"];
  r.created_seq = j.value("c", r.seq);
  r.deleted_ms = j.value("d", int64_t{0});
  if (j.contains("f") && j["f"].is_object()) r.fields = j["f"];
  if (j.contains("t") && j["t"].is_object()) {
    for (const auto& [f, s] : j["t"].items()) {
      if (s.is_array() && s.size() == 2) r.stamps[f] = {s[0].get<int64_t>(), s[1].get<int>()};
    }
  }
  return r;
}

bool GoodId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

bool GoodCollection(std::string_view c) {
  if (c.empty() || c.size() > 64) return false;
  for (char ch : c) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '.')) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool SyncWins(const SyncStamp& a, const Json& va, const SyncStamp& b, const Json& vb) {
  if (a.fidelity != b.fidelity) return a.fidelity > b.fidelity;
  if (a.at_ms != b.at_ms) return a.at_ms > b.at_ms;
  return engine::DumpJson(va) > engine::DumpJson(vb);
}

// ---------------------------------------------------------------------------------- SyncLog

SyncLog::SyncLog(engine::KeyValue* kv, const engine::Clock* clock) : kv_(kv), clock_(clock) {}

int64_t SyncLog::NowMs() const {
  static const engine::SystemClock system;
  const engine::Clock* c = clock_ ? clock_ : &system;
  return static_cast<int64_t>(std::floor(c->NowS() * 1000));
}

std::unique_lock<std::mutex> SyncLog::LockUser(const std::string& user) const {
  return std::unique_lock(locks_[std::hash<std::string>()(user) % locks_.size()]);
}

Result<std::optional<SyncRecord>> SyncLog::GetLocked(const std::string& user,
                                                     const std::string& collection,
                                                     const std::string& id) const {
  STRIDE_ASSIGN_OR_RETURN(std::optional<std::string> v, kv_->Get(RecordKey(user, collection, id)));
  if (!v) return std::optional<SyncRecord>();
  STRIDE_ASSIGN_OR_RETURN(SyncRecord r, DecodeRecord(*v));
  return std::optional<SyncRecord>(std::move(r));
}

Result<std::optional<SyncRecord>> SyncLog::Get(const std::string& user,
                                               const std::string& collection,
                                               const std::string& id) const {
  return GetLocked(user, collection, id);  // one key: no lock needed to read it whole
}

Result<uint64_t> SyncLog::Clock(const std::string& user) const {
  STRIDE_ASSIGN_OR_RETURN(std::optional<std::string> clock, kv_->Get(UserKey(user, kClockKey)));
  uint64_t last = 0;
  if (clock) std::from_chars(clock->data(), clock->data() + clock->size(), last);
  return last;
}

Result<std::vector<std::pair<std::string, SyncRecord>>> SyncLog::List(
    const std::string& user, const std::string& collection) const {
  const std::string prefix = RecordKey(user, collection, "");
  std::vector<std::pair<std::string, SyncRecord>> out;
  Status bad = Status::Ok();
  STRIDE_RETURN_IF_ERROR(kv_->Scan(prefix, [&](std::string_view k, std::string_view v) {
    Result<SyncRecord> r = DecodeRecord(v);
    if (!r.ok()) {
      bad = r.status();
      return false;
    }
    if (!r->deleted_ms) out.emplace_back(std::string(k.substr(prefix.size())), std::move(*r));
    return true;
  }));
  STRIDE_RETURN_IF_ERROR(bad);
  return out;
}

Status SyncLog::Write(const std::string& user, const std::string& collection, const std::string& id,
                      SyncRecord record, uint64_t previous_seq) {
  STRIDE_ASSIGN_OR_RETURN(const uint64_t last, Clock(user));
  const uint64_t seq =
      std::max<uint64_t>(static_cast<uint64_t>(std::max<int64_t>(NowMs(), 0)), last + 1);
  record.seq = seq;
  if (!record.created_seq) record.created_seq = seq;
  STRIDE_RETURN_IF_ERROR(kv_->Put(UserKey(user, kClockKey), std::to_string(seq)));
  STRIDE_RETURN_IF_ERROR(kv_->Put(LogKey(user, seq), collection + "/" + id));
  STRIDE_RETURN_IF_ERROR(kv_->Put(RecordKey(user, collection, id), EncodeRecord(record)));
  if (previous_seq) STRIDE_RETURN_IF_ERROR(kv_->Delete(LogKey(user, previous_seq)));
  return Status::Ok();
}

Status SyncLog::ServerWrite(const std::string& user, const std::string& collection,
                            const std::string& id, const Json* fields, bool replace, int fidelity) {
  if (!GoodCollection(collection) || !GoodId(id)) {
    return Status::InvalidArgument("sync: bad collection or id \"" +
                                   engine::ValidUtf8(collection + "/" + id) + "\"");
  }
  if (fields && !fields->is_object()) {
    return Status::InvalidArgument("sync: a record is a JSON object");
  }
  auto lock = LockUser(user);
  STRIDE_ASSIGN_OR_RETURN(std::optional<SyncRecord> old, GetLocked(user, collection, id));
  const SyncStamp now{NowMs(), fidelity};
  SyncRecord r = old ? *old : SyncRecord{};
  const uint64_t previous = old ? old->seq : 0;
  bool changed = false;
  if (!fields) {  // remove
    if (!old || old->deleted_ms) return Status::Ok();
    r.deleted_ms = now.at_ms;
    r.fields = Json::object();
    r.stamps.clear();
    return Write(user, collection, id, std::move(r), previous);
  }
  if (r.deleted_ms) {  // a server write brings a record back (a new upload of the same id)
    r = SyncRecord{};
    changed = true;
  }
  if (replace) {
    for (auto it = r.fields.begin(); it != r.fields.end();) {
      if (!fields->contains(it.key())) {
        r.stamps.erase(it.key());
        it = r.fields.erase(it);
        changed = true;
      } else {
        ++it;
      }
    }
  }
  for (const auto& [f, v] : fields->items()) {
    const bool has = r.fields.contains(f);
    if (v.is_null()) {
      auto s = r.stamps.find(f);
      if (has && (s == r.stamps.end() || SyncWins(now, v, s->second, r.fields[f]))) {
        r.fields.erase(f);
        r.stamps[f] = now;  // a clear is an edit too: it must beat older values
        changed = true;
      }
      continue;
    }
    auto s = r.stamps.find(f);
    // The same value again. A published record (Replace: the server's own collections, no
    // client writes them) is unchanged; in a collection clients write, a newer write of the
    // same value still takes its stamp, or a device's edit made between the two would win.
    if (has && r.fields[f] == v &&
        (replace || s == r.stamps.end() || !SyncWins(now, v, s->second, v))) {
      continue;
    }
    // The rule every replica applies: a server write never undoes a better source (a typed
    // figure over a file's) nor a later edit (a device's, stamped ahead of this one).
    if (s != r.stamps.end() && !SyncWins(now, v, s->second, has ? r.fields[f] : Json())) continue;
    r.fields[f] = v;
    r.stamps[f] = now;
    changed = true;
  }
  if (!changed && old) return Status::Ok();
  return Write(user, collection, id, std::move(r), previous);
}

Status SyncLog::Merge(const std::string& user, const std::string& collection, const std::string& id,
                      const Json& fields, int fidelity) {
  return ServerWrite(user, collection, id, &fields, false, fidelity);
}
Status SyncLog::Replace(const std::string& user, const std::string& collection,
                        const std::string& id, const Json& fields, int fidelity) {
  return ServerWrite(user, collection, id, &fields, true, fidelity);
}
Status SyncLog::Remove(const std::string& user, const std::string& collection,
                       const std::string& id) {
  return ServerWrite(user, collection, id, nullptr, false, 0);
}

Result<SyncLog::Page> SyncLog::Pull(const std::string& user, uint64_t since, size_t limit) const {
  auto lock = LockUser(user);
  Page page;
  STRIDE_ASSIGN_OR_RETURN(const uint64_t last, Clock(user));
  // A clock this server never gave the user: answered with it, the client skipped every change
  // until the server's clock passed it (and at 2^64 - 1, since + 1 wrapped to 0).
  if (since > last) {
    return Status::InvalidArgument("last_pulled_at: " + std::to_string(since) +
                                   " is after the last change this server has for you (" +
                                   std::to_string(last) +
                                   "): not a clock it answered; pull from 0");
  }
  page.last_pulled_at = last;
  const std::string prefix = UserKey(user, kLogPrefix);
  const std::string start = LogKey(user, since + 1);
  Status bad = Status::Ok();
  STRIDE_RETURN_IF_ERROR(kv_->ScanFrom(prefix, start, [&](std::string_view k, std::string_view v) {
    uint64_t seq = 0;
    const std::string_view hex = k.substr(prefix.size());
    std::from_chars(hex.data(), hex.data() + hex.size(), seq, 16);
    const size_t slash = v.find('/');
    if (slash == std::string_view::npos) return true;
    Change c{std::string(v.substr(0, slash)), std::string(v.substr(slash + 1)), {}};
    Result<std::optional<SyncRecord>> r = GetLocked(user, c.collection, c.id);
    if (!r.ok()) {
      bad = r.status();
      return false;
    }
    if (!*r || (*r)->seq != seq) return true;  // superseded, or a write cut short
    if (page.changes.size() == limit) {
      page.has_more = true;
      return false;
    }
    c.record = std::move(**r);
    page.changes.push_back(std::move(c));
    return true;
  }));
  STRIDE_RETURN_IF_ERROR(bad);
  if (page.has_more) page.last_pulled_at = page.changes.back().record.seq;
  return page;
}

// ------------------------------------------------------------------------------ SyncService

OJson SyncService::ChangesJson(const std::vector<SyncLog::Change>& changes, uint64_t since) {
  OJson out = OJson::object();
  for (const SyncLog::Change& c : changes) {
    if (!out.contains(c.collection)) {
      out[c.collection] = {
          {"created", OJson::array()}, {"updated", OJson::array()}, {"deleted", OJson::array()}};
    }
    OJson& col = out[c.collection];
    if (c.record.deleted_ms) {
      col["deleted"].push_back(c.id);
      continue;
    }
    OJson rec = {{"id", c.id}};
    int64_t updated = 0;
    OJson stamps = OJson::object();
    for (const auto& [f, s] : c.record.stamps) {
      if (!c.record.fields.contains(f)) continue;  // a cleared field's stamp stays for merging
      stamps[f] = OJson::array({s.at_ms, s.fidelity});
      updated = std::max(updated, s.at_ms);
    }
    for (const auto& [f, v] : c.record.fields.items()) rec[f] = v;
    rec["updated_at"] = updated;
    rec["_stamps"] = std::move(stamps);
    col[c.record.created_seq > since ? "created" : "updated"].push_back(std::move(rec));
  }
  return out;
}

Result<SyncAnswer> SyncService::Pull(const std::string& user, uint64_t since, size_t limit) const {
  if (limit == 0) limit = kSyncDefaultLimit;
  Result<SyncLog::Page> page = log_->Pull(user, since, std::min(limit, kSyncMaxLimit));
  if (!page.ok()) return page.status();
  return SyncAnswer{200,
                    {{"changes", ChangesJson(page->changes, since)},
                     {"last_pulled_at", page->last_pulled_at},
                     {"has_more", page->has_more},
                     {"schema_version", kSyncSchemaVersion}}};
}

namespace {

// What a client may write in a collection.
enum class Owner { kClient, kServer, kRuns, kProfile, kReadiness };

Owner OwnerOf(const std::string& collection) {
  if (collection == "workouts") return Owner::kClient;
  if (collection == "runs") return Owner::kRuns;
  if (collection == "profile") return Owner::kProfile;
  if (collection == "readiness") return Owner::kReadiness;
  return Owner::kServer;
}

constexpr const char* kRecordedFields[] = {"start", "sport", "duration_s", "distance_m",
                                           "ascent_m"};

bool IsRecorded(const std::string& f) {
  for (const char* r : kRecordedFields) {
    if (f == r) return true;
  }
  return false;
}

// Checks a number field; empty when fine, else what was expected.
std::string CheckNumber(const Json& v, double lo, double hi) {
  if (v.is_null()) return "";
  if (!v.is_number() || !(v.get<double>() >= lo) || !(v.get<double>() <= hi)) {
    char range[64];
    std::snprintf(range, sizeof range, "%g to %g", lo, hi);
    return std::string("expected a number from ") + range + " (or null)";
  }
  return "";
}
std::string CheckText(const Json& v) {
  if (v.is_null()) return "";
  if (!v.is_string() || v.get<std::string>().size() > kMaxTextBytes) {
    return "expected text of at most " + std::to_string(kMaxTextBytes) + " bytes (or null)";
  }
  return "";
}

// The fields of a workout: what each must be.
std::string CheckWorkoutField(const std::string& f, const Json& v) {
  if (f == "start") {
    double t = 0;
    if (!v.is_string() || !engine::ParseIsoTime(v.get<std::string>(), &t)) {
      return "expected an ISO 8601 time such as 2026-05-01T06:30:00Z";
    }
    return "";
  }
  if (f == "sport") {
    if (!v.is_string() || v.get<std::string>().empty() || v.get<std::string>().size() > 32) {
      return "expected a sport name of 1 to 32 bytes";
    }
    return "";
  }
  if (f == "duration_s") {
    if (!v.is_number() || !(v.get<double>() > 0) || !(v.get<double>() <= 7 * 86400)) {
      return "expected seconds, more than 0 and at most 604800";
    }
    return "";
  }
  if (f == "distance_m") return CheckNumber(v, 0, 1e6);
  if (f == "ascent_m") return CheckNumber(v, 0, 1e5);
  if (f == "rpe") return CheckNumber(v, 0, 10);
  if (f == "notes") return CheckText(v);
  return "unknown field (known: start, sport, duration_s, distance_m, ascent_m, rpe, notes, "
         "source)";
}

struct Op {
  std::string collection, id, where;
  bool remove = false;
  int64_t at_ms = 0;
  Json fields = Json::object();
  std::map<std::string, int> fidelity;  // per field
};

}  // namespace

Result<SyncAnswer> SyncService::Push(const std::string& user, uint64_t last_pulled_at,
                                     std::string_view body) {
  auto bad = [](const std::string& message) { return Status::InvalidArgument(message); };
  auto forbidden = [](const std::string& message) { return Status::PermissionDenied(message); };
  const Json in = Json::parse(body, nullptr, false);
  if (!in.is_object() || !in.contains("changes") || !in["changes"].is_object()) {
    return bad(
        "body: expected {\"changes\":{COLLECTION:{\"created\":[...],\"updated\":[...],"
        "\"deleted\":[...]}}}");
  }
  // Beside "changes", nothing: a "last_pulled_at" sent in the body (it goes in the query) was
  // ignored, and the push judged against 0.
  if (const std::optional<std::string> k = engine::UnknownKey(in, {"changes"})) {
    return bad("body." + engine::ValidUtf8(*k) +
               ": unknown field (the body is {\"changes\": ...}; last_pulled_at and "
               "schema_version go in the query)");
  }
  // A clock this server never answered would hide every change made since it as none: the
  // writes would be taken as made after them, and override them.
  STRIDE_ASSIGN_OR_RETURN(const uint64_t clock, log_->Clock(user));
  if (last_pulled_at > clock) {
    return bad("last_pulled_at: " + std::to_string(last_pulled_at) +
               " is after the last change this server has for you (" + std::to_string(clock) +
               "): not a clock it answered; pull from 0 first");
  }
  const int64_t now = log_->NowMs();
  std::vector<Op> ops;
  for (const auto& [collection, kinds] : in["changes"].items()) {
    const std::string at = "changes." + engine::ValidUtf8(collection);
    if (!GoodCollection(collection)) return bad(at + ": not a collection name");
    const Owner owner = OwnerOf(collection);
    if (owner == Owner::kServer) {
      if (collection.find('.') == std::string::npos) {
        return bad(at +
                   ": unknown collection (clients write workouts, runs (notes, rpe), "
                   "profile and readiness)");
      }
      return forbidden(at +
                       ": the server's collection (plans, challenges and chat are "
                       "changed through their endpoints)");
    }
    if (!kinds.is_object()) return bad(at + ": expected {\"created\",\"updated\",\"deleted\"}");
    for (const auto& [kind, list] : kinds.items()) {
      const std::string where_kind = at + "." + engine::ValidUtf8(kind);
      if (kind != "created" && kind != "updated" && kind != "deleted") {
        return bad(where_kind + ": expected created, updated or deleted");
      }
      if (!list.is_array()) return bad(where_kind + ": expected an array");
      for (size_t i = 0; i < list.size(); ++i) {
        if (ops.size() == kSyncMaxPushRecords) {
          return Status::ResourceExhausted("at most " + std::to_string(kSyncMaxPushRecords) +
                                           " records a push: push the rest next");
        }
        Op op;
        op.collection = collection;
        op.where = where_kind + "[" + std::to_string(i) + "]";
        const Json& item = list[i];
        if (kind == "deleted") {
          if (!item.is_string() || !GoodId(item.get<std::string>())) {
            return bad(op.where + ": expected a record id ([A-Za-z0-9_.:-], 1-128 bytes)");
          }
          op.id = item.get<std::string>();
          op.remove = true;
          if (owner == Owner::kRuns) {
            return forbidden(op.where + ": runs are deleted with DELETE /v1/runs/{id}");
          }
          if (owner != Owner::kClient) {
            return forbidden(op.where + ": " + collection +
                             " records are not deleted; send a "
                             "new value");
          }
          ops.push_back(std::move(op));
          continue;
        }
        if (!item.is_object()) return bad(op.where + ": expected a record object");
        if (!item.contains("id") || !item["id"].is_string() ||
            !GoodId(item["id"].get<std::string>())) {
          return bad(op.where + ".id: expected a record id ([A-Za-z0-9_.:-], 1-128 bytes)");
        }
        op.id = item["id"];
        op.where += " (" + op.id + ")";
        if (!item.contains("updated_at") || !item["updated_at"].is_number_integer() ||
            item["updated_at"].get<int64_t>() <= 0) {
          return bad(op.where + ".updated_at: expected the edit's time in ms since the epoch");
        }
        op.at_ms = item["updated_at"];
        if (op.at_ms > now + kSyncMaxClockAheadMs) {
          return bad(op.where + ".updated_at: " + std::to_string(op.at_ms - now) +
                     " ms ahead of the server's clock (at most " +
                     std::to_string(kSyncMaxClockAheadMs) + "): set the device's clock");
        }
        std::set<std::string> changed;
        if (item.contains("_changed")) {
          if (!item["_changed"].is_array()) return bad(op.where + "._changed: expected names");
          for (const Json& n : item["_changed"]) {
            if (n.is_string()) changed.insert(n.get<std::string>());
          }
        }
        int recorded_fidelity = kTyped;
        if (owner == Owner::kClient && item.contains("source")) {
          const Json& s = item["source"];
          if (s == "device") {
            recorded_fidelity = kDeviceSummary;
          } else if (s != "manual") {
            return bad(op.where + ".source: expected \"manual\" or \"device\"");
          }
        }
        if (owner == Owner::kProfile && op.id != "me") {
          return bad(op.where + ".id: the profile is one record, \"me\"");
        }
        if (owner == Owner::kReadiness) {
          int64_t day = 0;
          if (!engine::ParseDate(op.id, &day)) {
            return bad(op.where + ".id: expected the check-in's date, YYYY-MM-DD");
          }
        }
        for (const auto& [f, v] : item.items()) {
          if (f == "id" || f == "updated_at" || f == "_changed" || f == "_stamps" ||
              f == "source" || f == "_status") {
            continue;
          }
          if (!changed.empty() && !changed.count(f)) continue;
          const std::string fw = op.where + "." + engine::ValidUtf8(f);
          std::string why;
          int fidelity = kSubjective;
          switch (owner) {
            case Owner::kClient:
              why = CheckWorkoutField(f, v);
              if (IsRecorded(f)) fidelity = recorded_fidelity;
              break;
            case Owner::kRuns:
              if (f == "notes") {
                why = CheckText(v);
              } else if (f == "rpe") {
                why = CheckNumber(v, 0, 10);
              } else {
                return forbidden(fw +
                                 ": a run's recorded fields come from its file; a client "
                                 "sets notes and rpe");
              }
              break;
            case Owner::kProfile:
            case Owner::kReadiness:
            case Owner::kServer:
              break;  // checked below, by the host's own rules
          }
          if (!why.empty()) return bad(fw + ": " + why);
          op.fields[f] = v;
          op.fidelity[f] = fidelity;
        }
        if (owner == Owner::kProfile && hooks_.profile) {
          const Status s = hooks_.profile(user, op.fields, true);
          if (!s.ok()) return bad(op.where + ": " + s.message());
        }
        ops.push_back(std::move(op));
      }
    }
  }

  // Check every record against what is stored, then apply all or nothing.
  auto lock = log_->LockUser(user);
  struct Working {
    std::optional<SyncRecord> stored;  // as read
    SyncRecord next;
    bool changed = false, removed = false;
    std::set<std::string> fields_changed;
  };
  std::map<std::pair<std::string, std::string>, Working> work;
  OJson conflicts = OJson::array(), superseded = OJson::array();
  size_t unchanged = 0;
  for (const Op& op : ops) {
    const auto key = std::make_pair(op.collection, op.id);
    auto it = work.find(key);
    if (it == work.end()) {
      Result<std::optional<SyncRecord>> r = log_->Get(user, op.collection, op.id);
      if (!r.ok()) return r.status();
      Working w;
      w.stored = *r;
      w.next = *r ? **r : SyncRecord{};
      it = work.emplace(key, std::move(w)).first;
    }
    Working& w = it->second;
    auto conflict = [&](const std::string& reason) {
      conflicts.push_back({{"collection", op.collection}, {"id", op.id}, {"reason", reason}});
    };
    if (op.remove) {
      if (!w.stored || w.next.deleted_ms) {
        ++unchanged;
        continue;
      }
      if (w.stored->seq > last_pulled_at) {
        conflict("changed after last_pulled_at (at " + std::to_string(w.stored->seq) +
                 "): pull, then delete again");
        continue;
      }
      w.next.deleted_ms = now;
      w.next.fields = Json::object();
      w.next.stamps.clear();
      w.changed = w.removed = true;
      continue;
    }
    if (w.next.deleted_ms) {
      conflict("deleted (at " + std::to_string(w.next.deleted_ms) + "): a delete is final");
      continue;
    }
    const Owner owner = OwnerOf(op.collection);
    if (!w.stored && owner == Owner::kRuns) {
      return Status::NotFound(op.where + ": no such run (runs come from POST /v1/runs)");
    }
    bool op_changed = false;
    for (const auto& [f, v] : op.fields.items()) {
      const SyncStamp stamp{op.at_ms, op.fidelity.at(f)};
      const auto s = w.next.stamps.find(f);
      const Json current = w.next.fields.contains(f) ? w.next.fields[f] : Json();
      if (s == w.next.stamps.end() || SyncWins(stamp, v, s->second, current)) {
        if (v.is_null()) {
          w.next.fields.erase(f);
        } else {
          w.next.fields[f] = v;
        }
        w.next.stamps[f] = stamp;
        w.fields_changed.insert(f);
        op_changed = true;
      } else if (s->second.fidelity == stamp.fidelity && s->second.at_ms == stamp.at_ms &&
                 current == v) {
        // the same edit again (a retry)
      } else if (s->second.fidelity > stamp.fidelity) {
        superseded.push_back({{"collection", op.collection},
                              {"id", op.id},
                              {"field", f},
                              {"by", s->second.fidelity == kRecordedFile ? "file" : "device"}});
      } else {
        conflict("field " + f + " was changed later (at " + std::to_string(s->second.at_ms) + ")");
      }
    }
    if (op_changed) {
      w.changed = true;
    } else {
      ++unchanged;
    }
  }
  for (const auto& [key, w] : work) {
    if (w.changed && !w.stored && !w.removed && OwnerOf(key.first) == Owner::kClient &&
        (!w.next.fields.contains("start") || !w.next.fields.contains("duration_s"))) {
      return bad("changes." + key.first + " (" + key.second +
                 "): a new workout needs start and duration_s");
    }
  }
  if (!conflicts.empty()) {
    std::vector<SyncLog::Change> current;
    std::set<std::pair<std::string, std::string>> seen;
    for (const auto& c : conflicts) {
      auto key = std::make_pair(c["collection"].get<std::string>(), c["id"].get<std::string>());
      if (!seen.insert(key).second) continue;
      const Working& w = work.at(key);
      if (w.stored) current.push_back({key.first, key.second, *w.stored});
    }
    return SyncAnswer{409,
                      {{"error",
                        {{"code", "conflict"},
                         {"message", "records changed on the server since last_pulled_at " +
                                         std::to_string(last_pulled_at) +
                                         ": pull, merge, then push again (nothing was applied)"}}},
                       {"conflicts", conflicts},
                       {"changes", ChangesJson(current, last_pulled_at)}}};
  }
  // The host's own stores: every merged record checked by their rules first (nothing applied
  // when one refuses), then stored; then the log.
  for (const bool dry_run : {true, false}) {
    for (auto& [key, w] : work) {
      if (!w.changed) continue;
      const Owner owner = OwnerOf(key.first);
      if (owner == Owner::kProfile && hooks_.profile) {
        Json fields = Json::object();
        for (const std::string& f : w.fields_changed) {
          fields[f] = w.next.fields.contains(f) ? w.next.fields[f] : Json();
        }
        const Status s = hooks_.profile(user, fields, dry_run);
        if (!s.ok()) return bad("changes.profile (me): " + s.message());
      }
      if (owner == Owner::kReadiness && hooks_.readiness) {
        const Status s = hooks_.readiness(user, key.second, w.next.fields, dry_run);
        if (!s.ok()) return bad("changes.readiness (" + key.second + "): " + s.message());
      }
    }
  }
  size_t applied = 0;
  for (auto& [key, w] : work) {
    if (!w.changed) continue;
    const Status s = log_->Write(user, key.first, key.second, w.next, w.stored ? w.stored->seq : 0);
    if (!s.ok()) return s;
    ++applied;
  }
  // The records a better source kept: the device shows their values, not its own.
  std::vector<SyncLog::Change> kept;
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& x : superseded) {
    auto key = std::make_pair(x["collection"].get<std::string>(), x["id"].get<std::string>());
    if (!seen.insert(key).second) continue;
    Result<std::optional<SyncRecord>> r = log_->Get(user, key.first, key.second);
    if (!r.ok()) return r.status();
    if (*r) kept.push_back({key.first, key.second, **r});
  }
  Result<uint64_t> head = log_->Clock(user);
  return SyncAnswer{200,
                    {{"applied", applied},
                     {"unchanged", unchanged},
                     {"superseded", superseded},
                     {"changes", ChangesJson(kept, last_pulled_at)},
                     {"last_pushed_at", head.ok() ? *head : 0}}};
}

Status SyncService::RunStored(const std::string& user, const std::string& run_id,
                              const Json& summary) {
  Json fields = summary;
  fields.erase("id");
  STRIDE_RETURN_IF_ERROR(log_->Merge(user, "runs", run_id, fields, kRecordedFile));
  // Link the workouts logged by hand for the same time: the file's figures win.
  double start = 0;
  if (!summary.contains("start_time") || !summary["start_time"].is_string() ||
      !engine::ParseIsoTime(summary["start_time"].get<std::string>(), &start)) {
    return Status::Ok();
  }
  const double elapsed = summary.value("elapsed_time_s", 0.0);
  const double end = start + std::max(elapsed, 1.0);
  STRIDE_ASSIGN_OR_RETURN(auto workouts, log_->List(user, "workouts"));
  for (const auto& [id, w] : workouts) {
    if (w.fields.contains("run_id")) continue;
    double ws = 0;
    if (!w.fields.contains("start") || !w.fields["start"].is_string() ||
        !engine::ParseIsoTime(w.fields["start"].get<std::string>(), &ws)) {
      continue;
    }
    const double we = ws + w.fields.value("duration_s", 0.0);
    const double overlap = std::min(end, we) - std::max(start, ws);
    // The same activity: they overlap by half of the shorter one.
    if (overlap <= 0 || overlap < 0.5 * std::min(end - start, we - ws)) continue;
    Json linked = {{"run_id", run_id},
                   {"start", summary["start_time"]},
                   {"duration_s", std::max(elapsed, 1.0)}};
    if (summary.contains("sport") && summary["sport"].is_string()) {
      linked["sport"] = summary["sport"];
    }
    if (summary.contains("distance_m") && summary["distance_m"].is_number()) {
      linked["distance_m"] = summary["distance_m"];
    }
    if (summary.contains("ascent_m") && summary["ascent_m"].is_number()) {
      linked["ascent_m"] = summary["ascent_m"];
    }
    STRIDE_RETURN_IF_ERROR(log_->Merge(user, "workouts", id, linked, kRecordedFile));
  }
  return Status::Ok();
}

Status SyncService::RunDeleted(const std::string& user, const std::string& run_id) {
  return log_->Remove(user, "runs", run_id);
}

}  // namespace stride::server
