// SPDX-License-Identifier: Apache-2.0
#include "tools/serve_stores.hpp"

#include <iostream>

namespace stride::tools {

bool IsPostgresUrl(std::string_view runs) {
  return runs.starts_with("postgresql://") || runs.starts_with("postgres://");
}

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
    Result<std::unique_ptr<server::RedisStreamFanout>> fanout =
        server::RedisStreamFanout::Start(s->redis_.get(), ro, report);
    if (!fanout.ok()) return fanout.status();
    s->stream_fanout_ = std::move(fanout).value();
    s->view_.stream_fanout = s->stream_fanout_.get();
    index::JobQueueOptions jo;
    jo.claim_after_s = options.job_claim_after_s;
    Result<std::unique_ptr<index::RedisJobQueue>> jobs =
        index::RedisJobQueue::Open(s->redis_.get(), jo);
    if (!jobs.ok()) return jobs.status();
    s->jobs_ = std::move(jobs).value();
    s->view_.jobs = s->jobs_.get();
  }
  Result<std::optional<index::KeyRing>> ring = index::KeyRing::FromConfig(options.kek_file);
  if (!ring.ok()) return ring.status();
  if (options.runs_path.empty()) {
    if (ring->has_value() || !options.key_dir.empty()) {
      return Status::InvalidArgument("a KEK or --key-dir needs --runs (it encrypts run data)");
    }
    return s;
  }
  if (IsPostgresUrl(options.runs_path)) {
    if (ring->has_value() || !options.key_dir.empty()) {
      return Status::InvalidArgument(
          "encryption at rest (a KEK, --key-dir) is not available with --runs postgresql:// "
          "yet: use PostgreSQL's own (encrypted volumes) or a RocksDB run directory");
    }
    if (!options.backup_dir.empty()) {
      return Status::InvalidArgument(
          "--backup-dir backs up a RocksDB run directory; back PostgreSQL up with its own tools "
          "(pg_dump, base backups)");
    }
    index::PostgresOptions po;
    po.url = options.runs_path;
    Result<std::unique_ptr<index::Postgres>> pg = index::Postgres::Open(po);
    if (!pg.ok()) return pg.status();
    s->pg_ = std::move(pg).value();
    index::PgRunStoreOptions ro;
    ro.idempotency_ttl_s = options.idempotency_ttl_s;
    s->pg_runs_ = std::make_unique<index::PgRunStore>(s->pg_.get(), ro);
    ServeStores* self = s.get();
    auto ns = [self](const std::string& name) -> engine::KeyValue* {
      std::lock_guard lock(self->pg_mu_);
      std::unique_ptr<index::PgKeyValue>& kv = self->pg_namespaces_[name];
      if (!kv) kv = std::make_unique<index::PgKeyValue>(self->pg_.get(), name);
      return kv.get();
    };
    s->view_.runs = s->pg_runs_.get();
    index::Postgres* shared = s->pg_.get();
    s->view_.plugin_exclusive = [shared](const std::string& plugin,
                                         const std::function<void()>& body) {
      return shared->Exclusive("stride.plugin." + plugin, body);
    };
    s->view_.plugin_namespace = [ns](const std::string& name) -> Result<engine::KeyValue*> {
      if (!engine::IsValidNamespaceName(name)) {
        return Status::InvalidArgument("plugin namespace '" + name + "': expected [a-z][a-z0-9_]*");
      }
      return ns("plugin." + name);
    };
    s->view_.host_state = ns("host");
    s->view_.outbox = ns("outbox");
    s->view_.connections = ns("connections");
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
  s->created_runs_ = !index::RunDb::Exists(options.runs_path);
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
