// SPDX-License-Identifier: Apache-2.0
//
// RunDb: the runs of every user in one RocksDB database of their own (read-write, WAL on),
// beside the route database (which imports replace as a whole and servers open read-only).
// Layout (index/store/FORMAT.md, "Run database"):
//
//   runs         user ‖ 0 ‖ u64 ~start_ms ‖ u64 id   RunSummary: a user's runs, newest first,
//                                                   by one prefix scan of that user alone
//   run_data     user ‖ 0 ‖ u64 id                   RunData, zstd: original file, analysis,
//                                                   coverage, cleaned streams
//   run_ids      u64 id                             the runs key: lookup by id
//   idempotency  user ‖ 0 ‖ key                     1 ‖ u64 id ‖ u64 created ms ‖ digest
//   meta         "schema_version"                   "2"
//                "encryption"                       "aes-256-gcm " ‖ key store id (when sealed)
//   plugin.NAME  plugin-chosen (the host prefixes    a plugin's key-value namespace, created
//                user ‖ 0 for user data)            when the plugin first loads
//   outbox       u64 due_ms ‖ event id ‖ url index  an event waiting for a webhook
//   links        "u" user 0 provider / "p" provider 0 account   a user's provider accounts
//   (server/webhooks)
//
// With Options::data_keys every value of a per-user record is sealed (AES-256-GCM under the
// user's data key; keys and the other families stay plaintext: ids, times, digests).
//
// One upload is one WriteBatch over the four families, written through the WAL (fsynced when
// Options::sync): once Put returns, the run survives kill -9 of the process. Uploads and
// deletes of one user are serialised (a lock per user stripe), so an idempotency key is
// checked and taken atomically and DeleteUser leaves nothing an upload in flight could add.
//
// Thread-safety: safe from any number of threads.
//
//   Result<std::unique_ptr<RunDb>> db = RunDb::Open("/srv/stride/runs", {});
//   Result<RunStore::PutResult> r = (*db)->Put(run, digest);
#pragma once

#include <array>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/run/run.hpp"
#include "engine/store/backup.hpp"
#include "engine/store/key_value.hpp"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
}  // namespace rocksdb

namespace stride::index {

class IdempotencyExpiry;
class DataKeys;
class UserSealer;

class RunDb : public engine::RunStore {
 public:
  struct Options {
    // fsync the WAL on every write: an acknowledged upload survives a power cut, not only a
    // killed process. Default: true.
    bool sync = true;
    // zstd level of run_data values. Default: 3.
    int zstd_level = 3;
    // How long an Idempotency-Key is remembered: a retry within it gets the stored run, after
    // it the key is free again (and its record is dropped at the next compaction of the
    // family, which runs at least daily). Default: 7 days.
    double idempotency_ttl_s = 7 * 86400.0;
    // What "now" is for the idempotency keys. Default: the system clock.
    const engine::Clock* clock = nullptr;
    // Encryption at rest (index/store/data_keys.hpp): when set, the values of every per-user
    // record (runs, run_data, plugin.*, host) are sealed with the user's data key, and
    // DeleteUser destroys that key before it deletes anything. A database made with keys
    // records their store's id and refuses to open without them, or with another store; a
    // database made without keys cannot be opened with them (no in-place migration).
    // Default: none (plaintext).
    DataKeys* data_keys = nullptr;
    // The caller reads and writes no records (a backup): an encrypted database opens without
    // its keys. Default: false.
    bool records_unused = false;
  };

  // Opens the database at `dir`, creating it when missing. Fails when `dir` holds something
  // else, or another process has it open.
  static Result<std::unique_ptr<RunDb>> Open(const std::string& dir, const Options& options);
  // Whether `dir` holds a database (its RocksDB CURRENT file): what Open would open rather
  // than create.
  static bool Exists(const std::string& dir);
  ~RunDb() override;

  Result<PutResult> Put(const engine::Run& run, std::string_view request_digest) override;
  Result<std::optional<uint64_t>> FindByIdempotencyKey(
      std::string_view user_id, std::string_view key,
      std::string_view request_digest) const override;
  Result<engine::Run> Get(std::string_view user_id, uint64_t id,
                          engine::RunParts parts) const override;
  Result<Page> List(std::string_view user_id, std::string_view cursor, size_t limit) const override;
  Status Replace(const engine::Run& run) override;
  Result<std::vector<std::string>> ListUsers(std::string_view after, size_t limit) const override;
  Result<bool> Delete(std::string_view user_id, uint64_t id) override;
  Result<std::vector<uint64_t>> DeleteUser(std::string_view user_id) override;

  // The key-value namespace of plugin `name` (family "plugin.NAME"), created when missing.
  // It lives as long as this database. kInvalidArgument unless `name` is [a-z][a-z0-9_]*.
  Result<engine::KeyValue*> PluginNamespace(const std::string& name);
  // Events waiting for delivery to webhooks (family "outbox"), created when missing.
  Result<engine::KeyValue*> Outbox();
  // What the plugin host keeps per user: the profile and the daily tick dates (family "host",
  // keys laid out as in a plugin family), created when missing.
  Result<engine::KeyValue*> HostState();
  // Users' links to provider accounts, for inbound webhooks (family "links", both ways),
  // created when missing.
  Result<engine::KeyValue*> AccountLinks();

  const std::string& path() const { return path_; }
  // Compacts every family now (expired idempotency records go); RocksDB does this on its own
  // as data grows and at least daily for the idempotency family.
  Status Compact();

  // Backups (RocksDB's backup engine), taken while the database serves: a consistent point
  // of every family (runs, plugin data, host state, outbox) after the writes acknowledged
  // before the call. Files shared with earlier backups in `backup_dir` are not copied again;
  // every file is checksummed. Keeps the newest `keep` backups (0: all). One at a time per
  // database (kUnavailable while another is being taken).
  //
  // A backup keeps what it holds: a user deleted afterwards (DELETE /v1/me) is still in the
  // backups taken before, until they are purged.
  Result<engine::BackupInfo> Backup(const std::string& backup_dir, uint32_t keep = 0);
  // The backups in `backup_dir`, oldest first; NotFound when it holds none.
  static Result<std::vector<engine::BackupInfo>> ListBackups(const std::string& backup_dir);
  // Restores backup `id` (0: the newest) into `dir`, which must be missing or empty (a
  // restore never overwrites a database: restore beside it, then swap the directories). The
  // backup's checksums are verified first: a damaged backup is kCorruption. The backup is
  // restored beside `dir` (in .NAME.restoring) and renamed into place, so a restore that
  // fails or is cut short leaves no `dir` behind; `dir`'s missing parents are created. Not
  // inside `backup_dir`.
  static Status Restore(const std::string& backup_dir, uint32_t id, const std::string& dir);

 private:
  RunDb() = default;
  std::mutex& UserLock(std::string_view user_id) const;
  Result<engine::KeyValue*> KeyValueFamily(const std::string& family);
  Result<std::string> RunsKeyOf(std::string_view user_id, uint64_t id) const;
  // Pairs the database with Options::data_keys (meta "encryption"); `created`: it is new.
  Status CheckEncryption(bool created);

  std::string path_;
  Options options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs_;
  std::mutex plugin_mu_;  // plugin_kvs_, created_cfs_
  std::vector<rocksdb::ColumnFamilyHandle*> created_cfs_;
  std::vector<std::pair<std::string, std::unique_ptr<engine::KeyValue>>> plugin_kvs_;
  mutable std::array<std::mutex, 64> user_locks_;
  std::mutex backup_mu_;                       // one backup at a time
  std::unique_ptr<IdempotencyExpiry> expiry_;  // the idempotency family's filter
  std::unique_ptr<UserSealer> sealer_;         // null: plaintext
};

}  // namespace stride::index
