// SPDX-License-Identifier: Apache-2.0
#include "index/store/run_db.hpp"

#include <rocksdb/compaction_filter.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/backup_engine.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <random>

#include "engine/hex.hpp"
#include "index/store/data_keys.hpp"
#include "index/store/files.hpp"
#include "index/store/keys.hpp"
#include "index/store/rocks_status.hpp"
#include "index/store/run_codec.hpp"
#include "stride/run.pb.h"

namespace stride::index {
namespace fs = std::filesystem;
namespace {

enum Cf : size_t { kCfDefault = 0, kCfMeta, kCfRuns, kCfRunData, kCfRunIds, kCfIdempotency };

const std::vector<std::string>& FamilyNames() {
  static const std::vector<std::string> kNames = {
      rocksdb::kDefaultColumnFamilyName, "meta", "runs", "run_data", "run_ids", "idempotency"};
  return kNames;
}

std::vector<rocksdb::ColumnFamilyDescriptor> Descriptors() {
  std::vector<rocksdb::ColumnFamilyDescriptor> d;
  for (const std::string& name : FamilyNames()) {
    rocksdb::ColumnFamilyOptions o;
    rocksdb::BlockBasedTableOptions t;
    t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
    // run_data values are zstd frames already; the small families get LZ4 when built in.
    o.compression = rocksdb::kNoCompression;
    if (name != "run_data") {
      for (auto c : rocksdb::GetSupportedCompressions()) {
        if (c == rocksdb::kLZ4Compression) o.compression = c;
      }
    }
    d.emplace_back(name, o);
  }
  return d;
}

// An idempotency record: a version byte 1, the run id, when it was written (ms since the
// epoch) and the request digest. Records written before keys expired hold no time (8 or 40
// bytes: the id and an empty or 32-byte digest); they count as expired.
struct IdempotencyRecord {
  uint64_t id = 0;
  double created_s = 0;
  std::string_view digest;
};

std::string EncodeIdempotency(uint64_t id, double now_s, std::string_view digest) {
  std::string v(1, '\1');
  PutBigEndian64(v, id);
  PutBigEndian64(v, static_cast<uint64_t>(std::max(0.0, now_s) * 1000));
  v += digest;
  return v;
}

std::optional<IdempotencyRecord> DecodeIdempotency(std::string_view v) {
  if (v.size() == 8 || v.size() == 40) {
    return IdempotencyRecord{GetBigEndian64(v.data()), 0, v.substr(8)};
  }
  if (v.size() < 17 || v[0] != '\1') return std::nullopt;
  return IdempotencyRecord{GetBigEndian64(v.data() + 1),
                           static_cast<double>(GetBigEndian64(v.data() + 9)) / 1000, v.substr(17)};
}

std::string UserPrefix(std::string_view user) {
  std::string k(user);
  k.push_back('\0');
  return k;
}
// The first key after every key that starts with UserPrefix(user).
std::string UserEnd(std::string_view user) {
  std::string k(user);
  k.push_back('\1');
  return k;
}

std::string RunsKey(const engine::RunSummary& s) {
  return UserPrefix(s.user_id) + RunOrderKey(s);
}

std::string DataKey(std::string_view user, uint64_t id) {
  std::string k = UserPrefix(user);
  PutBigEndian64(k, id);
  return k;
}

std::string IdKey(uint64_t id) {
  std::string k;
  PutBigEndian64(k, id);
  return k;
}

// A plugin's namespace: one column family, owned by the RunDb. With a sealer, the values of
// per-user keys (user ‖ 0 ‖ ...) are sealed under the user's key; shared keys stay plaintext.
class FamilyKeyValue : public engine::KeyValue {
 public:
  FamilyKeyValue(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, bool sync,
                 const UserSealer* sealer)
      : db_(db), cf_(cf), sync_(sync), sealer_(sealer), family_(cf->GetName()) {}
  Result<std::optional<std::string>> Get(std::string_view key) const override {
    std::string v;
    const rocksdb::Status s = db_->Get({}, cf_, rocksdb::Slice(key.data(), key.size()), &v);
    if (s.IsNotFound()) return std::optional<std::string>();
    STRIDE_RETURN_IF_ERROR(FromRocks(s, "plugin store get"));
    return Unseal(key, v);
  }
  Status Put(std::string_view key, std::string_view value) override {
    const std::string_view user = RecordUser(key);
    std::string sealed;
    if (sealer_ && !user.empty()) {
      STRIDE_ASSIGN_OR_RETURN(sealed, sealer_->Seal(user, family_, key, value));
      value = sealed;
    }
    return FromRocks(db_->Put(Write(), cf_, rocksdb::Slice(key.data(), key.size()),
                              rocksdb::Slice(value.data(), value.size())),
                     "plugin store put");
  }
  Status Delete(std::string_view key) override {
    return FromRocks(db_->Delete(Write(), cf_, rocksdb::Slice(key.data(), key.size())),
                     "plugin store delete");
  }
  // One process holds a RocksDB: a mutex of the namespace makes PutIfs atomic among themselves.
  Result<bool> PutIf(std::string_view key, const std::optional<std::string>& expected,
                     std::string_view value) override {
    std::lock_guard lock(put_if_mu_);
    STRIDE_ASSIGN_OR_RETURN(const std::optional<std::string> now, Get(key));
    if (now != expected) return false;
    STRIDE_RETURN_IF_ERROR(Put(key, value));
    return true;
  }
  Status Scan(std::string_view prefix,
              const std::function<bool(std::string_view, std::string_view)>& each) const override {
    return ScanFrom(prefix, prefix, each);
  }
  Status ScanFrom(
      std::string_view prefix, std::string_view start,
      const std::function<bool(std::string_view, std::string_view)>& each) const override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, cf_));
    const std::string_view from = std::max(prefix, start);
    for (it->Seek(rocksdb::Slice(from.data(), from.size())); it->Valid(); it->Next()) {
      const rocksdb::Slice k = it->key();
      if (k.size() < prefix.size() || std::string_view(k.data(), prefix.size()) != prefix) break;
      const std::string_view key(k.data(), k.size());
      const std::string_view value(it->value().data(), it->value().size());
      if (!sealer_ || RecordUser(key).empty()) {
        if (!each(key, value)) break;
        continue;
      }
      STRIDE_ASSIGN_OR_RETURN(std::optional<std::string> open, Unseal(key, std::string(value)));
      if (open && !each(key, *open)) break;  // a shredded record is no record
    }
    return FromRocks(it->status(), "plugin store scan");
  }
  Status DeletePrefix(std::string_view prefix) override {
    // A prefix of only 0xFF bytes has no range end: delete key by key.
    const std::string end = PrefixEnd(prefix);
    if (end.empty()) {
      std::vector<std::string> keys;
      STRIDE_RETURN_IF_ERROR(Scan(prefix, [&](std::string_view k, std::string_view) {
        keys.emplace_back(k);
        return true;
      }));
      for (const std::string& k : keys) STRIDE_RETURN_IF_ERROR(Delete(k));
      return Status::Ok();
    }
    const rocksdb::Slice b(prefix.data(), prefix.size()), e(end);
    STRIDE_RETURN_IF_ERROR(
        FromRocks(db_->DeleteRange(Write(), cf_, b, e), "plugin store delete range"));
    // As DeleteUser: flush and compact the range, so the bytes leave the files too.
    db_->Flush(rocksdb::FlushOptions(), cf_);
    db_->CompactRange(rocksdb::CompactRangeOptions(), cf_, &b, &e);
    return Status::Ok();
  }

 private:
  rocksdb::WriteOptions Write() const {
    rocksdb::WriteOptions wo;
    wo.sync = sync_;
    return wo;
  }
  Result<std::optional<std::string>> Unseal(std::string_view key, std::string value) const {
    const std::string_view user = RecordUser(key);
    if (!sealer_ || user.empty()) return std::optional<std::string>(std::move(value));
    return sealer_->Open(user, family_, key, value);
  }
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* cf_;
  bool sync_;
  const UserSealer* sealer_;  // null: plaintext
  std::string family_;
  std::mutex put_if_mu_;
};

}  // namespace

// Drops idempotency records past their time when RocksDB compacts the family.
class IdempotencyExpiry final : public rocksdb::CompactionFilter {
 public:
  IdempotencyExpiry(double ttl_s, const engine::Clock* clock) : ttl_s_(ttl_s), clock_(clock) {}
  bool Filter(int, const rocksdb::Slice&, const rocksdb::Slice& value, std::string*,
              bool*) const override {
    const std::optional<IdempotencyRecord> r =
        DecodeIdempotency(std::string_view(value.data(), value.size()));
    return r && r->created_s + ttl_s_ < clock_->NowS();
  }
  const char* Name() const override { return "stride.IdempotencyExpiry"; }

 private:
  double ttl_s_;
  const engine::Clock* clock_;
};

Result<engine::KeyValue*> RunDb::PluginNamespace(const std::string& name) {
  if (!engine::IsValidNamespaceName(name)) {
    return Status::InvalidArgument("plugin name '" + name + "': expected [a-z][a-z0-9_]{0,31}");
  }
  return KeyValueFamily("plugin." + name);
}

Result<engine::KeyValue*> RunDb::Outbox() {
  return KeyValueFamily("outbox");
}

Result<engine::KeyValue*> RunDb::HostState() {
  return KeyValueFamily("host");
}

Result<engine::KeyValue*> RunDb::AccountLinks() {
  return KeyValueFamily("links");
}

Result<engine::KeyValue*> RunDb::KeyValueFamily(const std::string& family) {
  // Outbox events and account links are keyed by event and account, not by user: plaintext.
  const bool per_user = family == "host" || family.rfind("plugin.", 0) == 0;
  std::lock_guard lock(plugin_mu_);
  for (auto& [n, kv] : plugin_kvs_) {
    if (n == family) return kv.get();
  }
  rocksdb::ColumnFamilyHandle* cf = nullptr;
  for (rocksdb::ColumnFamilyHandle* h : cfs_) {
    if (h->GetName() == family) cf = h;
  }
  if (!cf) {
    rocksdb::ColumnFamilyOptions o;
    for (auto c : rocksdb::GetSupportedCompressions()) {
      if (c == rocksdb::kLZ4Compression) o.compression = c;
    }
    STRIDE_RETURN_IF_ERROR(
        FromRocks(db_->CreateColumnFamily(o, family, &cf), "cannot create the family " + family));
    created_cfs_.push_back(cf);  // not cfs_: other threads read that one without a lock
  }
  plugin_kvs_.emplace_back(family,
                           std::make_unique<FamilyKeyValue>(db_.get(), cf, options_.sync,
                                                            per_user ? sealer_.get() : nullptr));
  return plugin_kvs_.back().second.get();
}

Result<std::unique_ptr<RunDb>> RunDb::Open(const std::string& dir, const Options& options) {
  if (dir.empty()) return Status::InvalidArgument("--runs: empty path");
  std::error_code ec;
  if (fs::exists(dir, ec) &&
      (!fs::is_directory(dir, ec) || (!fs::is_empty(dir, ec) && !Exists(dir)))) {
    return Status::InvalidArgument("--runs " + dir +
                                   ": exists and is not a run database (no RocksDB CURRENT file)");
  }
  rocksdb::DBOptions dbo;
  dbo.create_if_missing = true;
  dbo.create_missing_column_families = true;
  dbo.max_background_jobs = 2;
  std::unique_ptr<RunDb> db(new RunDb());
  db->path_ = dir;
  db->options_ = options;
  rocksdb::DB* raw = nullptr;
  // Families created on demand (plugin.NAME, outbox, host) must be opened too: RocksDB refuses
  // a database opened without every family it has.
  std::vector<rocksdb::ColumnFamilyDescriptor> families = Descriptors();
  static const engine::SystemClock kSystemClock;
  db->options_.clock = options.clock ? options.clock : &kSystemClock;
  db->expiry_ = std::make_unique<IdempotencyExpiry>(options.idempotency_ttl_s, db->options_.clock);
  families[kCfIdempotency].options.compaction_filter = db->expiry_.get();
  families[kCfIdempotency].options.periodic_compaction_seconds = 86400;
  std::vector<std::string> existing;
  if (rocksdb::DB::ListColumnFamilies(dbo, dir, &existing).ok()) {
    for (const std::string& name : existing) {
      const bool known = std::any_of(families.begin(), families.end(),
                                     [&](const auto& f) { return f.name == name; });
      if (!known) families.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
  }
  const rocksdb::Status s = rocksdb::DB::Open(dbo, dir, families, &db->cfs_, &raw);
  if (!s.ok()) return FromRocks(s, "--runs " + dir + ": cannot open the run database");
  db->db_.reset(raw);
  std::string version;
  const rocksdb::Status vs = raw->Get({}, db->cfs_[kCfMeta], "schema_version", &version);
  // Schema 2 stores the analysis typed; it reads the JSON of schema 1 records as they are, so
  // a schema 1 database is upgraded by writing the new version.
  if (vs.IsNotFound() || (vs.ok() && version == "1")) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    STRIDE_RETURN_IF_ERROR(
        FromRocks(raw->Put(wo, db->cfs_[kCfMeta], "schema_version", "2"), "--runs " + dir));
  } else if (!vs.ok() || version != "2") {
    return Status::InvalidArgument("--runs " + dir + ": run database schema version '" + version +
                                   "', this build reads versions 1 and 2");
  }
  STRIDE_RETURN_IF_ERROR(db->CheckEncryption(vs.IsNotFound()));
  return db;
}

Status RunDb::CheckEncryption(bool created) {
  const std::string where = "--runs " + path_;
  std::string sealed_with;
  const rocksdb::Status es = db_->Get({}, cfs_[kCfMeta], "encryption", &sealed_with);
  if (!es.ok() && !es.IsNotFound()) return FromRocks(es, where);
  DataKeys* keys = options_.data_keys;
  if (es.IsNotFound()) {
    if (!keys) return Status::Ok();
    if (!created) {
      return Status::InvalidArgument(
          where +
          ": was made without encryption at rest, so it cannot be opened with a KEK "
          "(records are not encrypted in place: export the users and upload them into "
          "a new database, or run without --kek-file/STRIDE_KEK)");
    }
    rocksdb::WriteOptions wo;
    wo.sync = true;
    STRIDE_RETURN_IF_ERROR(
        FromRocks(db_->Put(wo, cfs_[kCfMeta], "encryption", "aes-256-gcm " + keys->id()), where));
  } else if (!keys) {
    if (options_.records_unused) return Status::Ok();
    return Status::InvalidArgument(
        where +
        ": is encrypted at rest; give its key-encryption key (--kek-file F, "
        "STRIDE_KEK_FILE or STRIDE_KEK) and its key directory (--key-dir)");
  } else if (sealed_with != "aes-256-gcm " + keys->id()) {
    return Status::InvalidArgument(where + ": was sealed with the data keys of store '" +
                                   sealed_with.substr(sealed_with.find(' ') + 1) +
                                   "', but the key directory given is store '" + keys->id() +
                                   "' (wrong --key-dir?)");
  }
  sealer_ = std::make_unique<UserSealer>(keys);
  return Status::Ok();
}

RunDb::~RunDb() {
  if (db_) {
    for (rocksdb::ColumnFamilyHandle* cf : cfs_) db_->DestroyColumnFamilyHandle(cf);
    for (rocksdb::ColumnFamilyHandle* cf : created_cfs_) db_->DestroyColumnFamilyHandle(cf);
    db_->Close();
  }
}

std::mutex& RunDb::UserLock(std::string_view user_id) const {
  return user_locks_[std::hash<std::string_view>{}(user_id) % user_locks_.size()];
}

Result<RunDb::PutResult> RunDb::Put(const engine::Run& run, std::string_view request_digest) {
  const engine::RunSummary& s = run.summary;
  STRIDE_RETURN_IF_ERROR(engine::CheckUserId(s.user_id));
  const std::string digest(request_digest);
  std::lock_guard lock(UserLock(s.user_id));

  if (!run.idempotency_key.empty()) {
    Result<std::optional<uint64_t>> earlier =
        FindByIdempotencyKey(s.user_id, run.idempotency_key, digest);
    if (!earlier.ok()) return earlier.status();
    if (earlier->has_value()) return PutResult{**earlier, true};
  }
  const std::string idem_key =
      run.idempotency_key.empty() ? std::string() : UserPrefix(s.user_id) + run.idempotency_key;

  // A fresh random id (64 bits: a collision is checked, not assumed away).
  thread_local std::mt19937_64 rng(std::random_device{}());
  engine::RunSummary stored = s;
  for (int attempt = 0;; ++attempt) {
    stored.id = rng();
    std::string ignored;
    if (stored.id != 0 && db_->Get({}, cfs_[kCfRunIds], IdKey(stored.id), &ignored).IsNotFound())
      break;
    if (attempt > 8) return Status::Internal("cannot draw a free run id");
  }

  run::RunSummary summary;
  SummaryToProto(stored, run.idempotency_key, &summary);
  Result<std::string> packed = PackRunData(run, options_.zstd_level);
  if (!packed.ok()) return packed.status();

  const std::string runs_key = RunsKey(stored);
  const std::string data_key = DataKey(s.user_id, stored.id);
  std::string summary_value = summary.SerializeAsString();
  std::string data_value = std::move(packed).value();
  if (sealer_) {
    STRIDE_ASSIGN_OR_RETURN(summary_value,
                            sealer_->Seal(s.user_id, "runs", runs_key, summary_value));
    STRIDE_ASSIGN_OR_RETURN(data_value, sealer_->Seal(s.user_id, "run_data", data_key, data_value));
  }
  rocksdb::WriteBatch batch;
  batch.Put(cfs_[kCfRuns], runs_key, summary_value);
  batch.Put(cfs_[kCfRunData], data_key, data_value);
  batch.Put(cfs_[kCfRunIds], IdKey(stored.id), runs_key);
  if (!idem_key.empty()) {
    batch.Put(cfs_[kCfIdempotency], idem_key,
              EncodeIdempotency(stored.id, options_.clock->NowS(), digest));
  }
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  STRIDE_RETURN_IF_ERROR(FromRocks(db_->Write(wo, &batch), "storing run"));
  return PutResult{stored.id, false};
}

Status RunDb::Replace(const engine::Run& run) {
  const engine::RunSummary& s = run.summary;
  STRIDE_RETURN_IF_ERROR(engine::CheckUserId(s.user_id));
  std::lock_guard lock(UserLock(s.user_id));
  STRIDE_ASSIGN_OR_RETURN(const std::string old_key, RunsKeyOf(s.user_id, s.id));
  run::RunSummary summary;
  SummaryToProto(s, run.idempotency_key, &summary);
  STRIDE_ASSIGN_OR_RETURN(std::string data_value, PackRunData(run, options_.zstd_level));
  // The list key holds the start time, which a new analysis may move.
  const std::string runs_key = RunsKey(s);
  const std::string data_key = DataKey(s.user_id, s.id);
  std::string summary_value = summary.SerializeAsString();
  if (sealer_) {
    STRIDE_ASSIGN_OR_RETURN(summary_value,
                            sealer_->Seal(s.user_id, "runs", runs_key, summary_value));
    STRIDE_ASSIGN_OR_RETURN(data_value, sealer_->Seal(s.user_id, "run_data", data_key, data_value));
  }
  rocksdb::WriteBatch batch;
  if (old_key != runs_key) batch.Delete(cfs_[kCfRuns], old_key);
  batch.Put(cfs_[kCfRuns], runs_key, summary_value);
  batch.Put(cfs_[kCfRunData], data_key, data_value);
  batch.Put(cfs_[kCfRunIds], IdKey(s.id), runs_key);
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  return FromRocks(db_->Write(wo, &batch), "replacing run");
}

Result<std::vector<std::string>> RunDb::ListUsers(std::string_view after, size_t limit) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, cfs_[kCfRuns]));
  std::vector<std::string> users;
  for (it->Seek(after.empty() ? std::string() : UserEnd(after));
       it->Valid() && users.size() < limit; it->Seek(UserEnd(users.back()))) {
    const std::string_view key(it->key().data(), it->key().size());
    const size_t nul = key.find('\0');
    if (nul == std::string_view::npos) return Status::Corruption("run key without a user");
    users.emplace_back(key.substr(0, nul));
  }
  STRIDE_RETURN_IF_ERROR(FromRocks(it->status(), "user list"));
  return users;
}

Result<std::optional<uint64_t>> RunDb::FindByIdempotencyKey(std::string_view user_id,
                                                            std::string_view key,
                                                            std::string_view request_digest) const {
  std::string v;
  const rocksdb::Status gs =
      db_->Get({}, cfs_[kCfIdempotency], UserPrefix(user_id) + std::string(key), &v);
  if (gs.IsNotFound()) return std::optional<uint64_t>();
  if (!gs.ok()) return FromRocks(gs, "idempotency lookup");
  const std::optional<IdempotencyRecord> r = DecodeIdempotency(v);
  if (!r) return Status::Corruption("idempotency record of '" + std::string(key) + "'");
  if (r->created_s + options_.idempotency_ttl_s < options_.clock->NowS()) {
    return std::optional<uint64_t>();  // expired: the key is free again
  }
  if (r->digest != request_digest) {
    return Status::AlreadyExists("Idempotency-Key '" + std::string(key) +
                                 "' was used for a different upload");
  }
  return std::optional<uint64_t>(r->id);
}

Result<std::string> RunDb::RunsKeyOf(std::string_view user_id, uint64_t id) const {
  std::string key;
  const rocksdb::Status s = db_->Get({}, cfs_[kCfRunIds], IdKey(id), &key);
  const std::string prefix = UserPrefix(user_id);
  if (s.IsNotFound() || key.compare(0, prefix.size(), prefix) != 0) {
    return Status::NotFound("no run " + engine::RunIdText(id));
  }
  if (!s.ok()) return FromRocks(s, "run lookup");
  return key;
}

Result<engine::Run> RunDb::Get(std::string_view user_id, uint64_t id,
                               engine::RunParts parts) const {
  Result<std::string> key = RunsKeyOf(user_id, id);
  if (!key.ok()) return key.status();
  const std::string what = "run " + engine::RunIdText(id);
  std::string summary_bytes, data_bytes;
  const std::string data_key = DataKey(user_id, id);
  STRIDE_RETURN_IF_ERROR(FromRocks(db_->Get({}, cfs_[kCfRuns], *key, &summary_bytes), what));
  STRIDE_RETURN_IF_ERROR(FromRocks(db_->Get({}, cfs_[kCfRunData], data_key, &data_bytes), what));
  if (sealer_) {
    STRIDE_ASSIGN_OR_RETURN(std::optional<std::string> s,
                            sealer_->Open(user_id, "runs", *key, summary_bytes));
    STRIDE_ASSIGN_OR_RETURN(std::optional<std::string> d,
                            sealer_->Open(user_id, "run_data", data_key, data_bytes));
    if (!s || !d) return Status::NotFound("no run " + engine::RunIdText(id));  // shredded
    summary_bytes = std::move(*s);
    data_bytes = std::move(*d);
  }
  return UnpackRun(summary_bytes, data_bytes, parts, what);
}

Result<RunDb::Page> RunDb::List(std::string_view user_id, std::string_view cursor,
                                size_t limit) const {
  STRIDE_RETURN_IF_ERROR(engine::CheckUserId(user_id));
  const std::string prefix = UserPrefix(user_id);
  std::string after;
  if (!cursor.empty() && (!engine::HexDecode(cursor, &after) || after.size() != 16)) {
    return Status::InvalidArgument("before: expected a cursor from next_before (32 hex digits)");
  }
  const std::string end = UserEnd(user_id);
  rocksdb::Slice upper(end);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cfs_[kCfRuns]));
  const std::string start = prefix + after;
  Page page;
  std::string last;  // key suffix (~start ‖ id) of the last run listed
  for (it->Seek(start); it->Valid(); it->Next()) {
    if (!after.empty() && it->key() == rocksdb::Slice(start)) continue;
    if (page.runs.size() == limit) {
      page.next_cursor = engine::HexEncode(last);  // there is more
      break;
    }
    last.assign(it->key().data() + prefix.size(), it->key().size() - prefix.size());
    std::string_view value(it->value().data(), it->value().size());
    std::optional<std::string> open;
    if (sealer_) {
      STRIDE_ASSIGN_OR_RETURN(
          open, sealer_->Open(user_id, "runs", std::string_view(it->key().data(), it->key().size()),
                              value));
      if (!open) continue;  // shredded
      value = *open;
    }
    run::RunSummary p;
    if (!p.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      return Status::Corruption("run list of " + std::string(user_id) + ": bad summary");
    }
    page.runs.push_back(SummaryFromProto(p));
  }
  STRIDE_RETURN_IF_ERROR(FromRocks(it->status(), "run list"));
  return page;
}

Result<bool> RunDb::Delete(std::string_view user_id, uint64_t id) {
  STRIDE_RETURN_IF_ERROR(engine::CheckUserId(user_id));
  std::lock_guard lock(UserLock(user_id));
  Result<std::string> key = RunsKeyOf(user_id, id);
  if (!key.ok()) {
    if (key.status().code() == StatusCode::kNotFound) return false;
    return key.status();
  }
  std::string summary_bytes;
  STRIDE_RETURN_IF_ERROR(FromRocks(db_->Get({}, cfs_[kCfRuns], *key, &summary_bytes), "run"));
  if (sealer_) {
    STRIDE_ASSIGN_OR_RETURN(std::optional<std::string> open,
                            sealer_->Open(user_id, "runs", *key, summary_bytes));
    summary_bytes = open.value_or("");  // shredded: delete the records all the same
  }
  run::RunSummary summary;
  summary.ParseFromString(summary_bytes);
  rocksdb::WriteBatch batch;
  batch.Delete(cfs_[kCfRuns], *key);
  batch.Delete(cfs_[kCfRunData], DataKey(user_id, id));
  batch.Delete(cfs_[kCfRunIds], IdKey(id));
  if (!summary.idempotency_key().empty()) {
    // Only while the key is still this run's: once expired it may name a newer upload.
    const std::string idem_key = UserPrefix(user_id) + summary.idempotency_key();
    std::string v;
    if (db_->Get({}, cfs_[kCfIdempotency], idem_key, &v).ok()) {
      const std::optional<IdempotencyRecord> r = DecodeIdempotency(v);
      if (!r || r->id == id) batch.Delete(cfs_[kCfIdempotency], idem_key);
    }
  }
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  STRIDE_RETURN_IF_ERROR(FromRocks(db_->Write(wo, &batch), "deleting run"));
  return true;
}

Result<std::vector<uint64_t>> RunDb::DeleteUser(std::string_view user_id) {
  STRIDE_RETURN_IF_ERROR(engine::CheckUserId(user_id));
  std::lock_guard lock(UserLock(user_id));
  // The key first: from here on nothing of the user's opens, whatever deleting leaves behind
  // (a crash before the end, uncompacted files, backups).
  if (sealer_) STRIDE_RETURN_IF_ERROR(sealer_->keys()->Destroy(user_id));
  const std::string begin = UserPrefix(user_id), end = UserEnd(user_id);
  std::vector<uint64_t> ids;
  rocksdb::WriteBatch batch;
  {
    rocksdb::Slice upper(end);
    rocksdb::ReadOptions ro;
    ro.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cfs_[kCfRuns]));
    for (it->Seek(begin); it->Valid(); it->Next()) {
      const uint64_t id = GetBigEndian64(it->key().data() + it->key().size() - 8);
      ids.push_back(id);
      batch.Delete(cfs_[kCfRunIds], IdKey(id));
    }
    STRIDE_RETURN_IF_ERROR(FromRocks(it->status(), "listing the user's runs"));
  }
  for (Cf cf : {kCfRuns, kCfRunData, kCfIdempotency}) batch.DeleteRange(cfs_[cf], begin, end);
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  STRIDE_RETURN_IF_ERROR(FromRocks(db_->Write(wo, &batch), "deleting the user's records"));
  // Range tombstones hide the data at once. Flushing every family retires the log files that
  // held the user's writes; compacting the range then drops the data from the table files.
  db_->Flush(rocksdb::FlushOptions(), cfs_);
  const rocksdb::Slice b(begin), e(end);
  for (Cf cf : {kCfRuns, kCfRunData, kCfIdempotency}) {
    db_->CompactRange(rocksdb::CompactRangeOptions(), cfs_[cf], &b, &e);
  }
  return ids;
}

Status RunDb::Compact() {
  rocksdb::CompactRangeOptions co;
  co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (rocksdb::ColumnFamilyHandle* cf : cfs_) {
    STRIDE_RETURN_IF_ERROR(
        FromRocks(db_->CompactRange(co, cf, nullptr, nullptr), "compacting " + path_));
  }
  return Status::Ok();
}

namespace {

engine::BackupInfo InfoOf(const rocksdb::BackupInfo& b) {
  return {b.backup_id, b.timestamp, b.size, b.number_files};
}

// `p` as the filesystem resolves it (symbolic links, "..", relative to the working
// directory), with no trailing separator; the parts that do not exist yet as written.
fs::path Resolved(const std::string& p) {
  std::error_code ec;
  fs::path r = fs::weakly_canonical(fs::absolute(p, ec), ec);
  if (ec) r = fs::absolute(p, ec).lexically_normal();
  if (r.filename().empty() && r.has_parent_path()) r = r.parent_path();
  return r;
}

// Whether `inner` is `outer` or lies inside it, after both are resolved.
bool Inside(const std::string& inner, const std::string& outer) {
  const fs::path in = Resolved(inner), out = Resolved(outer);
  return std::mismatch(out.begin(), out.end(), in.begin(), in.end()).first == out.end();
}

// The backup engine of `backup_dir` (created when `create`).
Result<std::unique_ptr<rocksdb::BackupEngine>> OpenBackups(const std::string& backup_dir,
                                                           bool create) {
  std::error_code ec;
  if (!create && !fs::exists(fs::path(backup_dir) / "meta", ec)) {
    return Status::NotFound(backup_dir +
                            ": no backups here (expected a directory made by "
                            "'stride backup' or POST /v1/admin/backups)");
  }
  rocksdb::BackupEngineOptions bo(backup_dir);
  bo.max_background_operations = 2;
  rocksdb::BackupEngine* raw = nullptr;
  const rocksdb::IOStatus s = rocksdb::BackupEngine::Open(bo, rocksdb::Env::Default(), &raw);
  if (!s.ok()) return FromRocks(s, "backups in " + backup_dir);
  return std::unique_ptr<rocksdb::BackupEngine>(raw);
}

}  // namespace

bool RunDb::Exists(const std::string& dir) {
  std::error_code ec;
  return fs::exists(fs::path(dir) / "CURRENT", ec);
}

Result<engine::BackupInfo> RunDb::Backup(const std::string& backup_dir, uint32_t keep) {
  std::unique_lock lock(backup_mu_, std::try_to_lock);
  if (!lock.owns_lock()) return Status::Unavailable("a backup is being taken; retry when it ends");
  if (backup_dir.empty()) return Status::InvalidArgument("backup directory: empty path");
  if (Inside(backup_dir, path_)) {
    return Status::InvalidArgument("backup directory " + backup_dir +
                                   ": must not be inside the run database " + path_);
  }
  STRIDE_ASSIGN_OR_RETURN(std::unique_ptr<rocksdb::BackupEngine> engine,
                          OpenBackups(backup_dir, /*create=*/true));
  rocksdb::CreateBackupOptions co;
  co.flush_before_backup = true;  // the memtables too, not only what the WAL would replay
  rocksdb::BackupID id = 0;
  STRIDE_RETURN_IF_ERROR(FromRocks(engine->CreateNewBackup(co, db_.get(), &id),
                                   "backup of " + path_ + " into " + backup_dir));
  if (keep > 0) {
    STRIDE_RETURN_IF_ERROR(
        FromRocks(engine->PurgeOldBackups(keep), "purging old backups in " + backup_dir));
  }
  rocksdb::BackupInfo info;
  STRIDE_RETURN_IF_ERROR(
      FromRocks(engine->GetBackupInfo(id, &info), "backup " + std::to_string(id)));
  return InfoOf(info);
}

Result<std::vector<engine::BackupInfo>> RunDb::ListBackups(const std::string& backup_dir) {
  STRIDE_ASSIGN_OR_RETURN(std::unique_ptr<rocksdb::BackupEngine> engine,
                          OpenBackups(backup_dir, /*create=*/false));
  std::vector<rocksdb::BackupInfo> infos;
  engine->GetBackupInfo(&infos);
  if (infos.empty()) return Status::NotFound(backup_dir + ": no backups here");
  std::vector<engine::BackupInfo> out;
  for (const rocksdb::BackupInfo& b : infos) out.push_back(InfoOf(b));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

Status RunDb::Restore(const std::string& backup_dir, uint32_t id, const std::string& dir) {
  if (dir.empty()) return Status::InvalidArgument("--runs: empty path");
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    return Status::InvalidArgument("--runs " + dir +
                                   ": is a file, not a directory; restore into a new directory, "
                                   "then swap it in with the server stopped");
  }
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) {
    return Status::InvalidArgument(
        "--runs " + dir +
        ": exists and is not empty; restore into a new directory, then swap it in with the "
        "server stopped");
  }
  if (Inside(dir, backup_dir)) {
    return Status::InvalidArgument("--runs " + dir + ": inside the backup directory " + backup_dir +
                                   "; restore beside it");
  }
  STRIDE_ASSIGN_OR_RETURN(std::vector<engine::BackupInfo> backups, ListBackups(backup_dir));
  if (id == 0) id = backups.back().id;
  if (std::none_of(backups.begin(), backups.end(), [id](const auto& b) { return b.id == id; })) {
    return Status::NotFound("backup " + std::to_string(id) + " is not in " + backup_dir +
                            " (it holds " + std::to_string(backups.front().id) + " to " +
                            std::to_string(backups.back().id) + ")");
  }
  STRIDE_ASSIGN_OR_RETURN(std::unique_ptr<rocksdb::BackupEngine> engine,
                          OpenBackups(backup_dir, /*create=*/false));
  const std::string what = "backup " + std::to_string(id) + " in " + backup_dir;
  const rocksdb::IOStatus verified = engine->VerifyBackup(id, /*verify_with_checksum=*/true);
  if (!verified.ok()) {
    return Status::Corruption(what + " is damaged: " + verified.ToString());
  }
  // Restored into a staging directory beside `dir` and renamed into place: a restore cut
  // short (killed, disk full) never leaves a part of a database where one is expected. A
  // staging directory left by such a restore is cleared first.
  const fs::path target = Resolved(dir);
  const fs::path staging = target.parent_path() / ("." + target.filename().string() + ".restoring");
  STRIDE_RETURN_IF_ERROR(CreateParentDirectories(target.string(), "--runs " + dir + ": "));
  fs::remove_all(staging, ec);
  const rocksdb::IOStatus restored =
      engine->RestoreDBFromBackup(id, staging.string(), staging.string());
  if (!restored.ok()) {
    fs::remove_all(staging, ec);
    return FromRocks(restored, "restoring " + what + " into " + dir);
  }
  fs::rename(staging, target, ec);  // replaces an empty `dir`
  if (ec) {
    const std::string why = ec.message();
    fs::remove_all(staging, ec);
    return Status::IoError("restoring " + what + ": cannot move it into " + dir + ": " + why);
  }
  return Status::Ok();
}

}  // namespace stride::index
