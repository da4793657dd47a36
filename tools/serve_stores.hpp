// SPDX-License-Identifier: Apache-2.0
//
// The stores `stride serve` runs on, opened here (tools/ does the wiring) and injected into
// server::HttpServer as server::ServerStores: the run database (index/store/run_db: runs,
// plugin namespaces, the host's state, the webhook outbox; one RocksDB), the SRTM tiles
// uploads are measured against, and with --redis the rate limits' counters and the plugins'
// stream events in Redis (shared by every server given the same Redis: server/redis_rate_limit
// .hpp, server/redis_events.hpp). The tests open their servers' stores the same way.
//
// Thread-safety: Open() is not; the stores are safe from any number of threads.
//
//   Result<std::unique_ptr<ServeStores>> stores = ServeStores::Open({"runs", "dem", true});
//   server::HttpServer http(options, (*stores)->view());  // keep *stores alive meanwhile
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "engine/status.hpp"
#include "importers/dem/elevation_stack.hpp"
#include "index/pg/pg_run_store.hpp"
#include "index/pg/postgres.hpp"
#include "index/redis/job_queue.hpp"
#include "index/redis/redis.hpp"
#include "index/store/data_keys.hpp"
#include "index/store/run_db.hpp"
#include "server/http_server.hpp"
#include "server/redis_events.hpp"
#include "server/redis_rate_limit.hpp"

namespace stride::tools {

// Whether --runs names a PostgreSQL database (postgresql://... or postgres://...) rather than
// a RocksDB directory.
bool IsPostgresUrl(std::string_view runs);

struct ServeStoreOptions {
  // --runs DIR (RocksDB, created when missing) or --runs postgresql://USER@HOST/DB (runs,
  // idempotency keys and every namespace in PostgreSQL, shared by every server given it;
  // index/pg). Default: none (no runs)
  std::string runs_path;
  std::string dem_path;       // --dem DIR[,DIR...]: ElevationStack::Open. Default: none
  bool sync_writes = true;    // fsync each upload's WAL write (--no-sync turns it off)
  std::string backup_dir;     // --backup-dir: backups of the run database. Default: none
  uint32_t keep_backups = 0;  // --keep-backups N: the newest N are kept. Default: 0 (all)
  double idempotency_ttl_s = 7 * 86400.0;  // --idempotency-days N. Default: 7 days
  // Encryption at rest: the key ring (--kek-file F; else STRIDE_KEK_FILE or STRIDE_KEK, see
  // index::KeyRing::FromConfig). Without any, records are stored in plaintext.
  std::string kek_file;
  // --key-dir DIR: the users' wrapped data keys. Default: the runs directory + ".keys".
  std::string key_dir;
  // --redis URL (index/redis/redis.hpp): rate limits and plugin stream events shared with
  // every server given the same Redis. Default: none (each server counts and streams alone).
  std::string redis_url;
  // With redis_url: a job another worker took this long ago and never acked is taken again
  // (`stride worker --claim-after S`; index/redis/job_queue.hpp). Default: 30 s.
  double job_claim_after_s = 30;
  // Hears what goes wrong with Redis while serving. Default: a line on stderr.
  std::function<void(const std::string&)> on_redis_error;
};

class ServeStores {
 public:
  // Opens what `options` names; a store it does not name stays null in view().
  static Result<std::unique_ptr<ServeStores>> Open(const ServeStoreOptions& options);

  // Pointers into this object: valid while it lives.
  const server::ServerStores& view() const { return view_; }
  index::RunDb* run_db() { return run_db_.get(); }
  // Where data keys are (null: no encryption at rest).
  index::FileDataKeys* data_keys() { return data_keys_.get(); }
  // One line on what encryption at rest runs with, for the start-up log ("" when off).
  const std::string& encryption_note() const { return encryption_note_; }
  // Whether --runs named a directory that held no run database, so one was created: said at
  // start, since a misspelt path would otherwise serve an empty database without a word.
  bool created_runs() const { return created_runs_; }

 private:
  ServeStores() = default;

  std::unique_ptr<index::FileDataKeys> data_keys_;  // before run_db_: outlives it
  std::unique_ptr<index::RunDb> run_db_;
  std::unique_ptr<importers::ElevationStack> dem_;
  std::unique_ptr<engine::Backups> backups_;
  // --runs postgresql://...: the runs and every namespace in PostgreSQL.
  std::unique_ptr<index::Postgres> pg_;
  std::unique_ptr<index::PgRunStore> pg_runs_;
  std::mutex pg_mu_;
  std::map<std::string, std::unique_ptr<index::PgKeyValue>> pg_namespaces_;  // guarded by pg_mu_
  std::unique_ptr<index::Redis> redis_;
  std::unique_ptr<server::RedisRateLimitStore> rate_limits_;  // after redis_: uses it
  std::unique_ptr<server::RedisStreamFanout> stream_fanout_;  // after redis_: uses it
  std::unique_ptr<index::RedisJobQueue> jobs_;                // after redis_: uses it
  server::ServerStores view_;
  std::string encryption_note_;
  bool created_runs_ = false;
};

}  // namespace stride::tools
