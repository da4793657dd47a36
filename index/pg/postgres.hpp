// SPDX-License-Identifier: Apache-2.0
//
// PostgreSQL for user data shared by several `stride serve` replicas (issue 20): a pool of libpq
// connections, Stride's schema created and migrated in numbered steps, and engine::KeyValue on
// a table (PgKeyValue: plugin namespaces, the host's state, the webhook outbox, provider links
// are all KeyValues, so they move as they are). The run store on PostgreSQL builds on this.
//
// Schema migrations: `stride_schema` holds one row per step applied (version, name, time).
// Open() applies the steps this build knows and the database lacks, each in a transaction of
// its own that first inserts its row, so servers starting together apply each step once (the
// second waits on the first's row, then finds it applied); a database migrated by a newer
// Stride (a version this build does not know) is refused rather than written to.
//
// SQL: plain tables, bytea keys and values, INSERT ... ON CONFLICT: what distributed
// PostgreSQL-compatible engines (CockroachDB, YugabyteDB) accept; nothing here needs PostGIS.
//
// Failure model: a connection that fails is dropped and dialled again by the next call; errors
// say which server and what failed (Unavailable for the connection, Internal with the SQLSTATE
// for a statement).
//
// Thread-safety: Postgres and PgKeyValue are safe from any number of threads.
//
//   STRIDE_ASSIGN_OR_RETURN(auto pg, Postgres::Open({"postgresql://stride@db/stride"}));
//   PgKeyValue kv(pg.get(), "plugin.plan");
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.hpp"
#include "engine/store/key_value.hpp"

typedef struct pg_conn PGconn;

namespace stride::index {

struct PostgresOptions {
  // A libpq connection URI or key=value string (postgresql://USER:PASSWORD@HOST:PORT/DB,
  // host=/run/postgresql dbname=stride). Required.
  std::string url;
  size_t pool_size = 8;           // connections held at most. Default: 8
  double connect_timeout_s = 5;   // dialling. Default: 5 s
  double acquire_timeout_s = 10;  // waiting for a free connection. Default: 10 s
  bool migrate = true;            // apply missing schema steps at Open(). Default: yes
  // With migrate: when the server has the PostGIS extension, create it and the table of run
  // tracks as geometries (stride_run_tracks; see postgis()). Default: yes
  bool postgis = true;
};

// One result: rows of columns, each a byte string or null.
struct PgRows {
  std::vector<std::vector<std::optional<std::string>>> rows;
  uint64_t affected = 0;  // rows changed by an INSERT/UPDATE/DELETE
};

class Postgres {
 public:
  // Connects (one connection, to fail fast on a wrong address or password) and, with
  // options.migrate, brings the schema up to this build's version.
  static Result<std::unique_ptr<Postgres>> Open(const PostgresOptions& options);
  ~Postgres();
  Postgres(const Postgres&) = delete;
  Postgres& operator=(const Postgres&) = delete;

  // Runs one statement with $1.. parameters passed in binary form (bytea and text as their
  // bytes, bigint as 8 big-endian bytes); results come back the same way (cast anything else
  // to text in the SQL).
  Result<PgRows> Exec(std::string_view sql, const std::vector<std::string>& params = {});
  // Runs `statements` in one transaction (BEGIN ... COMMIT; ROLLBACK on the first failure).
  Status Transaction(
      const std::vector<std::pair<std::string, std::vector<std::string>>>& statements);
  // Runs `body` in one transaction on one connection: committed when it returns Ok, rolled
  // back when it returns an error (which InTransaction returns).
  class Tx {
   public:
    Result<PgRows> Exec(std::string_view sql, const std::vector<std::string>& params = {});

   private:
    friend class Postgres;
    Tx(Postgres* pg, PGconn* c) : pg_(pg), c_(c) {}
    Postgres* pg_;
    PGconn* c_;
  };
  Status InTransaction(const std::function<Status(Tx&)>& body);

  // Runs `body` while this process holds the cluster-wide lock `name` (a session advisory
  // lock, pg_advisory_lock(0x5374, hashtext(name)), on a connection kept for that name, apart
  // from the pool: a body's own statements never wait for a connection its lock holds). Within
  // a process the holders of one name take turns on a mutex first, so one at a time waits in
  // PostgreSQL. kUnavailable, without running `body`, when the lock is not had within
  // `timeout_s` or PostgreSQL is away; a connection lost while held releases the lock (the
  // session ends) and is dialled again next time. Used by the plugin host: every change a
  // plugin makes is made by one process at a time (stride serve replicas and workers).
  Status Exclusive(const std::string& name, const std::function<void()>& body,
                   double timeout_s = 30);

  // The schema version of the database (the highest step applied) and of this build.
  Result<int> SchemaVersion();
  static int KnownSchemaVersion();
  // Applies the steps the database lacks (Open() does, unless told not to).
  Status Migrate();
  // Where it is, for messages: host:port/db (never the password).
  const std::string& where() const { return where_; }
  // Whether run tracks are also kept as PostGIS geometries, for operators' SQL:
  //   stride_run_tracks (user_id TEXT, id BIGINT, geom geometry(MultiLineString, 4326))
  // one row per stored run with a track (a line per session and recorded segment; GiST
  // index), written in the upload's transaction and deleted with the run. False when the
  // server has no PostGIS (postgresql-15-postgis-3) or the user may not create the extension:
  // postgis_note() says which. Nothing else needs PostGIS.
  bool postgis() const { return postgis_; }
  const std::string& postgis_note() const { return postgis_note_; }

 private:
  explicit Postgres(PostgresOptions options);
  Result<PGconn*> Dial();
  // A pooled connection, or a new one (then *fresh, when given, is set).
  Result<PGconn*> Acquire(bool* fresh);
  // Back to the pool; a connection Run found lost is closed instead, with every idle one (they
  // date from before the server restarted or the network broke, so they are most likely lost
  // too, and the caller's one retry should get a fresh connection).
  void Release(PGconn* c);
  // Runs one statement. A failure that is the connection's and not the statement's is
  // kUnavailable and marks `c` lost (see Release and TakeLost).
  Result<PgRows> Run(PGconn* c, std::string_view sql, const std::vector<std::string>& params);
  // Whether Run marked `c` lost; forgets the mark (call before PQfinish on `c`).
  bool TakeLost(PGconn* c);
  // Creates the extension and stride_run_tracks when PostGIS is there (Open, with migrate).
  Status EnablePostGis();

  PostgresOptions options_;
  std::string where_;
  bool postgis_ = false;
  std::string postgis_note_;
  std::mutex mu_;
  std::condition_variable freed_;
  std::vector<PGconn*> idle_;  // guarded by mu_
  std::vector<PGconn*> lost_;  // guarded by mu_: connections Run found gone, not yet closed
  struct NamedLock {
    std::mutex turn;
    PGconn* conn = nullptr;  // guarded by turn
    double timeout_s = -1;   // the session's lock_timeout; guarded by turn
  };
  std::map<std::string, std::unique_ptr<NamedLock>> locks_;  // guarded by mu_
  size_t open_ = 0;                                          // guarded by mu_
};

// engine::KeyValue in table stride_kv (namespace, key, value), keys in byte order. Scans read
// in pages of 1,000 rows, so a long scan holds no more than a page in memory.
class PgKeyValue final : public engine::KeyValue {
 public:
  // `ns`: the namespace ("plugin.plan", "host", "outbox", ...). `pg` must outlive this.
  PgKeyValue(Postgres* pg, std::string ns);
  Result<std::optional<std::string>> Get(std::string_view key) const override;
  Status Put(std::string_view key, std::string_view value) override;
  Status Delete(std::string_view key) override;
  Status Scan(std::string_view prefix,
              const std::function<bool(std::string_view, std::string_view)>& each) const override;
  Status ScanFrom(
      std::string_view prefix, std::string_view start,
      const std::function<bool(std::string_view, std::string_view)>& each) const override;
  Status DeletePrefix(std::string_view prefix) override;
  Result<bool> PutIf(std::string_view key, const std::optional<std::string>& expected,
                     std::string_view value) override;

 private:
  Postgres* pg_;
  std::string ns_;
};

}  // namespace stride::index
