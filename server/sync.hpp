// SPDX-License-Identifier: Apache-2.0
//
// Delta sync for offline-first clients (issue 19): a phone or watch app keeps a local copy of
// the user's data, edits it offline, and syncs when it can.
//
//   GET  /v1/sync/pull?last_pulled_at=T&schema_version=1&limit=N
//        every change of the user after T (0 or absent: everything), oldest change first:
//        {"changes":{COLLECTION:{"created":[REC...],"updated":[REC...],"deleted":["id"...]}},
//         "last_pulled_at":T2,"has_more":bool,"schema_version":1}
//        REC: {"id", the record's fields, "_stamps":{field:[at_ms, fidelity]}}. Pages of `limit`
//        changes (default 500, at most 2,000): while has_more, pull again from T2.
//   POST /v1/sync/push?last_pulled_at=T
//        body {"changes":{COLLECTION:{"created":[REC...],"updated":[REC...],"deleted":[id]}}}
//        REC: {"id", "updated_at": ms of the edit on the device, the fields changed}. A device
//        stamps an edit with its clock, but later than its previous edit and than the stamp of
//        the value it replaces (a hybrid logical clock: an edit made after seeing another
//        device's is newer than it even when that device's clock runs ahead)
//        200 {"applied":n,"unchanged":n,"superseded":[{"collection","id","field","by"}],
//             "changes":{the superseded records as they are now, as pull},
//             "last_pushed_at":T3}; 409 {"error":{...},"conflicts":[{"collection","id",
//        "reason"}],"changes":{as pull}} with nothing applied; 400 naming the record and field.
//
// Collections (schema version 1):
//   runs               created and deleted by uploads (summary fields); a client may set
//                      "notes" (text, 2,000 bytes) and "rpe" (0-10)
//   workouts           manual workout logs, the client's: "start" (ISO 8601 UTC), "sport",
//                      "duration_s", "distance_m", "ascent_m", "rpe", "notes", "source"
//                      ("manual" or "device"); an uploaded run whose time overlaps a workout
//                      links it ("run_id") and its recorded figures replace the typed ones
//   profile            one record, id "me": the fields of PUT /v1/me/profile
//   readiness          id YYYY-MM-DD: the fields of POST /v1/me/readiness
//   PLUGIN.NAME        what plugins publish (plans.days, challenges.progress, chat.messages):
//                      the server's, read-only to clients
//
// Conflict rules (a coaching app's):
//   - every field carries a stamp (at_ms, fidelity); the higher (fidelity, at_ms, value bytes)
//     wins, so every replica that has seen the same writes holds the same value;
//   - recorded figures merge by fidelity: an uploaded file (3) beats a device summary (2)
//     beats a typed entry (1); a pushed figure a better source already set is not applied and
//     is answered as "superseded";
//   - subjective fields (notes, RPE, readiness, profile fields) are fidelity 0: the latest edit
//     wins, field by field, so two devices editing different fields both keep their edit;
//   - the server's collections (plans, challenges, chat) refuse client writes (403);
//   - a pushed field older than the stored one, an edit of a record deleted since, or a delete
//     of a record changed after T is a conflict: 409 with the current records, nothing
//     applied; the client pulls, rebases (keeps its newer edits), and pushes again. No write
//     is lost: it either wins or is answered with the newer value that beats it;
//   - a delete is final: a tombstone stays, and later edits of the record are conflicts.
// A retried push changes nothing (the same stamps and values are "unchanged").
//
// Storage (host-state family, per user: sealed under encryption at rest, exported and deleted
// with the user; DELETE /v1/me leaves nothing to pull):
//   USER 0 "sync/clock"                 the user's last change number (decimal)
//   USER 0 "sync/r/" COLL "/" ID        the record (JSON: {"s":seq,"c":created seq,"d":deleted
//                                       ms,"f":{fields},"t":{field:[at_ms,fidelity]}})
//   USER 0 "sync/s/" SEQ (16 hex)       COLL "/" ID: the change log, in change order
// Change numbers are milliseconds since the epoch, bumped past the previous one, so
// last_pulled_at reads as a time and still orders every change of the user. A change writes
// the log entry, then the record, then drops the record's previous entry; a pull skips an entry
// whose record does not carry its number, so a crash between the writes loses no acknowledged
// change and shows no half-made one.
//
// Thread-safety: safe from any number of threads (a lock per user stripe, one process).
#pragma once

#include <array>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/run/run.hpp"
#include "engine/status.hpp"
#include "engine/store/key_value.hpp"

namespace stride::server {

inline constexpr int kSyncSchemaVersion = 1;
inline constexpr size_t kSyncDefaultLimit = 500;
inline constexpr size_t kSyncMaxLimit = 2000;
inline constexpr size_t kSyncMaxPushRecords = 1000;
// How far ahead of the server's clock a device's updated_at may be.
inline constexpr int64_t kSyncMaxClockAheadMs = 5 * 60 * 1000;

enum SyncFidelity : int { kSubjective = 0, kTyped = 1, kDeviceSummary = 2, kRecordedFile = 3 };

struct SyncStamp {
  int64_t at_ms = 0;
  int fidelity = kSubjective;
};

// True when (a, va) wins over (b, vb): higher fidelity, then later, then the larger value
// bytes (so equal stamps still pick one value everywhere).
bool SyncWins(const SyncStamp& a, const nlohmann::json& va, const SyncStamp& b,
              const nlohmann::json& vb);

struct SyncRecord {
  uint64_t seq = 0;          // the change that made this version
  uint64_t created_seq = 0;  // the change that created it
  int64_t deleted_ms = 0;    // set: a tombstone
  nlohmann::json fields = nlohmann::json::object();
  std::map<std::string, SyncStamp> stamps;
};

class SyncLog {
 public:
  SyncLog(engine::KeyValue* kv, const engine::Clock* clock);

  // Server-side writes (uploads, REST endpoints, plugins), stamped now at `fidelity`:
  // Merge sets the given fields (null clears one) and keeps the others; Replace makes the
  // record exactly `fields`; Remove leaves a tombstone. Nothing changes when nothing differs.
  Status Merge(const std::string& user, const std::string& collection, const std::string& id,
               const nlohmann::json& fields, int fidelity);
  Status Replace(const std::string& user, const std::string& collection, const std::string& id,
                 const nlohmann::json& fields, int fidelity);
  Status Remove(const std::string& user, const std::string& collection, const std::string& id);

  Result<std::optional<SyncRecord>> Get(const std::string& user, const std::string& collection,
                                        const std::string& id) const;
  // The user's live records of a collection, in id order.
  Result<std::vector<std::pair<std::string, SyncRecord>>> List(const std::string& user,
                                                               const std::string& collection) const;

  struct Change {
    std::string collection, id;
    SyncRecord record;
  };
  struct Page {
    std::vector<Change> changes;
    uint64_t last_pulled_at = 0;
    bool has_more = false;
  };
  Result<Page> Pull(const std::string& user, uint64_t since, size_t limit) const;

  // For read-check-write sequences (a push): hold it around Get/Write.
  std::unique_lock<std::mutex> LockUser(const std::string& user) const;
  // Stores `record` as a new change (under LockUser). `previous_seq`: its stored version's.
  Status Write(const std::string& user, const std::string& collection, const std::string& id,
               SyncRecord record, uint64_t previous_seq);
  int64_t NowMs() const;
  // The user's last change number (0: none yet).
  Result<uint64_t> Clock(const std::string& user) const;

 private:
  Status ServerWrite(const std::string& user, const std::string& collection, const std::string& id,
                     const nlohmann::json* fields, bool replace, int fidelity);
  Result<std::optional<SyncRecord>> GetLocked(const std::string& user,
                                              const std::string& collection,
                                              const std::string& id) const;
  engine::KeyValue* kv_;
  const engine::Clock* clock_;
  mutable std::array<std::mutex, 64> locks_;
};

// What a push of profile or readiness fields must also do in the host's own store: validate
// (dry_run) and then store the record's fields as the REST endpoints would.
struct SyncHooks {
  std::function<Status(const std::string& user, const nlohmann::json& fields, bool dry_run)>
      profile;
  std::function<Status(const std::string& user, const std::string& date,
                       const nlohmann::json& fields, bool dry_run)>
      readiness;
};

// 200, or 409 with the conflicts and the records that beat the push.
struct SyncAnswer {
  int status = 200;
  nlohmann::ordered_json body;
};

class SyncService {
 public:
  SyncService(SyncLog* log, SyncHooks hooks) : log_(log), hooks_(std::move(hooks)) {}

  // GET /v1/sync/pull: `since` and `limit` as given (limit 0: the default).
  Result<SyncAnswer> Pull(const std::string& user, uint64_t since, size_t limit) const;
  // POST /v1/sync/push: 200 or 409 (conflicts); errors as Status (kInvalidArgument naming the
  // record and field, kPermissionDenied for a server's collection, kNotFound for an unknown
  // run, kResourceExhausted past kSyncMaxPushRecords).
  Result<SyncAnswer> Push(const std::string& user, uint64_t last_pulled_at, std::string_view body);

  // Run events: a stored run becomes a "runs" record (its summary JSON) and links the manual
  // workouts its time overlaps; a deleted run leaves a tombstone.
  Status RunStored(const std::string& user, const std::string& run_id,
                   const nlohmann::json& summary);
  Status RunDeleted(const std::string& user, const std::string& run_id);

  // The records of a change page as the wire shows them.
  static nlohmann::ordered_json ChangesJson(const std::vector<SyncLog::Change>& changes,
                                            uint64_t since);

 private:
  SyncLog* log_;
  SyncHooks hooks_;
};

}  // namespace stride::server
