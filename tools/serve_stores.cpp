// SPDX-License-Identifier: Apache-2.0
#include "tools/serve_stores.hpp"

#include <iostream>

namespace stride::tools {
namespace {

// Backups of the run database into one directory (RunDb::Backup).
class RunDbBackups final : public engine::Backups {
 public:
  RunDbBackups(index::RunDb* db, std::string dir, uint32_t keep)
      : db_(db), dir_(std::move(dir)), keep_(keep) {}
  Result<engine::BackupInfo> Create() override { return db_->Backup(dir_, keep_); }
  Result<std::vector<engine::BackupInfo>> List() const override {
    Result<std::vector<engine::BackupInfo>> list = index::RunDb::ListBackups(dir_);
    if (!list.ok() && list.status().code() == StatusCode::kNotFound) {
      return std::vector<engine::BackupInfo>{};  // none taken yet
    }
    return list;
  }

 private:
  index::RunDb* db_;
  std::string dir_;
  uint32_t keep_;
};

}  // namespace

Result<std::unique_ptr<ServeStores>> ServeStores::Open(const ServeStoreOptions& options) {
  std::unique_ptr<ServeStores> s(new ServeStores());
  if (!options.dem_path.empty()) {
    Result<std::unique_ptr<importers::ElevationStack>> dem =
        importers::ElevationStack::Open(options.dem_path);
    if (!dem.ok()) return dem.status();
    s->dem_ = std::move(dem).value();
    s->view_.dem = s->dem_.get();
  }
  if (!options.redis_url.empty()) {
    index::RedisOptions ro;
    ro.url = options.redis_url;
    Result<std::unique_ptr<index::Redis>> redis = index::Redis::Connect(ro);
    if (!redis.ok()) return redis.status();
    s->redis_ = std::move(redis).value();
    std::function<void(const std::string&)> report = options.on_redis_error;
    if (!report) report = [](const std::string& m) { std::cerr << "stride serve: " << m << '\n'; };
    s->rate_limits_ = std::make_unique<server::RedisRateLimitStore>(s->redis_.get(), report);
    s->view_.rate_limits = s->rate_limits_.get();
  }
  Result<std::optional<index::KeyRing>> ring = index::KeyRing::FromConfig(options.kek_file);
  if (!ring.ok()) return ring.status();
  if (options.runs_path.empty()) {
    if (ring->has_value() || !options.key_dir.empty()) {
      return Status::InvalidArgument("a KEK or --key-dir needs --runs (it encrypts run data)");
    }
    return s;
  }
  index::RunDb::Options ro;
  ro.sync = options.sync_writes;
  ro.idempotency_ttl_s = options.idempotency_ttl_s;
  if (ring->has_value()) {
    const std::string key_dir =
        options.key_dir.empty() ? options.runs_path + ".keys" : options.key_dir;
    const std::string primary = (*ring)->primary().id;
    const size_t older = (*ring)->size() - 1;
    index::FileDataKeys::Options ko;
    ko.sync = options.sync_writes;
    Result<std::unique_ptr<index::FileDataKeys>> keys =
        index::FileDataKeys::Open(key_dir, std::move(**ring), ko);
    if (!keys.ok()) return keys.status();
    s->data_keys_ = std::move(keys).value();
    ro.data_keys = s->data_keys_.get();
    s->encryption_note_ = "encryption at rest: AES-256-GCM per user, data keys in " + key_dir +
                          " wrapped by KEK '" + primary + "'" +
                          (older ? " (+" + std::to_string(older) + " older)" : "");
  } else if (!options.key_dir.empty()) {
    return Status::InvalidArgument("--key-dir " + options.key_dir +
                                   ": needs a KEK (--kek-file F, STRIDE_KEK_FILE or STRIDE_KEK)");
  }
  Result<std::unique_ptr<index::RunDb>> db = index::RunDb::Open(options.runs_path, ro);
  if (!db.ok()) return db.status();
  s->run_db_ = std::move(db).value();
  index::RunDb* runs = s->run_db_.get();
  Result<engine::KeyValue*> host = runs->HostState();
  if (!host.ok()) return host.status();
  Result<engine::KeyValue*> outbox = runs->Outbox();
  if (!outbox.ok()) return outbox.status();
  s->view_.runs = runs;
  s->view_.plugin_namespace = [runs](const std::string& name) {
    return runs->PluginNamespace(name);
  };
  s->view_.host_state = *host;
  s->view_.outbox = *outbox;
  Result<engine::KeyValue*> links = runs->AccountLinks();
  if (!links.ok()) return links.status();
  s->view_.connections = *links;
  if (!options.backup_dir.empty()) {
    s->backups_ = std::make_unique<RunDbBackups>(runs, options.backup_dir, options.keep_backups);
    s->view_.backups = s->backups_.get();
  }
  return s;
}

}  // namespace stride::tools
