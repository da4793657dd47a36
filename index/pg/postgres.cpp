// SPDX-License-Identifier: Apache-2.0
#include "index/pg/postgres.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "index/store/keys.hpp"

namespace stride::index {
namespace {

// The schema, step by step. A step is never edited once released: a change is a new step.
struct Step {
  int version;
  const char* name;
  std::vector<const char*> statements;
};
const Step kSteps[] = {
    {1,
     "key-value namespaces",
     {"CREATE TABLE stride_kv (ns TEXT NOT NULL, k BYTEA NOT NULL, v BYTEA NOT NULL, "
      "PRIMARY KEY (ns, k))"}},
    // Runs as RunDb stores them (index/store/run_codec.hpp: a summary record and the packed
    // run_data); order_key lists a user's runs newest first. Idempotency keys per user.
    {2,
     "runs and idempotency keys",
     {"CREATE TABLE stride_runs (user_id TEXT NOT NULL, id BIGINT NOT NULL, "
      "order_key BYTEA NOT NULL, summary BYTEA NOT NULL, data BYTEA NOT NULL, "
      "PRIMARY KEY (user_id, id))",
      "CREATE UNIQUE INDEX stride_runs_order ON stride_runs (user_id, order_key)",
      "CREATE TABLE stride_idempotency (user_id TEXT NOT NULL, k TEXT NOT NULL, "
      "run_id BIGINT NOT NULL, digest BYTEA NOT NULL, created_ms BIGINT NOT NULL, "
      "PRIMARY KEY (user_id, k))"}},
};
constexpr char kSchemaTable[] =
    "CREATE TABLE IF NOT EXISTS stride_schema (version INT PRIMARY KEY, name TEXT NOT NULL, "
    "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())";

constexpr size_t kScanPage = 1000;

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

Postgres::Postgres(PostgresOptions options) : options_(std::move(options)) {}

Postgres::~Postgres() {
  for (PGconn* c : idle_) PQfinish(c);
  for (auto& [name, l] : locks_) {
    if (l->conn) PQfinish(l->conn);
  }
}

int Postgres::KnownSchemaVersion() {
  return kSteps[std::size(kSteps) - 1].version;
}

Result<std::unique_ptr<Postgres>> Postgres::Open(const PostgresOptions& options) {
  if (options.url.empty()) return Status::InvalidArgument("postgres: no connection URL");
  std::unique_ptr<Postgres> pg(new Postgres(options));
  if (pg->options_.pool_size == 0) pg->options_.pool_size = 1;
  STRIDE_ASSIGN_OR_RETURN(PGconn * c, pg->Acquire(nullptr));
  pg->Release(c);
  if (options.migrate) STRIDE_RETURN_IF_ERROR(pg->Migrate());
  if (options.migrate && options.postgis) STRIDE_RETURN_IF_ERROR(pg->EnablePostGis());
  return pg;
}

Status Postgres::EnablePostGis() {
  STRIDE_ASSIGN_OR_RETURN(
      PgRows available,
      Exec("SELECT count(*)::text FROM pg_available_extensions WHERE name = 'postgis'"));
  if (available.rows.empty() || available.rows[0][0].value_or("0") == "0") {
    postgis_note_ = "run tracks not as geometries: PostgreSQL at " + where_ +
                    " has no PostGIS (postgresql-15-postgis-3)";
    return Status::Ok();
  }
  // Under the schema's advisory lock, as SchemaVersion(): servers starting together.
  const Status st = Transaction(
      {{"SELECT pg_advisory_xact_lock(7305147521)", {}},
       {"CREATE EXTENSION IF NOT EXISTS postgis", {}},
       {"CREATE TABLE IF NOT EXISTS stride_run_tracks (user_id TEXT NOT NULL, id BIGINT NOT NULL, "
        "geom geometry(MultiLineString, 4326) NOT NULL, PRIMARY KEY (user_id, id))",
        {}},
       {"CREATE INDEX IF NOT EXISTS stride_run_tracks_geom ON stride_run_tracks USING GIST (geom)",
        {}}});
  if (!st.ok()) {
    // Not fatal: the user may not create extensions (a DBA can: CREATE EXTENSION postgis).
    postgis_note_ = "run tracks not as geometries: " + st.message();
    return Status::Ok();
  }
  postgis_ = true;
  postgis_note_ = "run tracks also as PostGIS geometries in stride_run_tracks";
  return Status::Ok();
}

Result<PGconn*> Postgres::Dial() {
  const std::string timeout =
      std::to_string(std::max(1, static_cast<int>(std::ceil(options_.connect_timeout_s))));
  const char* keys[] = {"dbname", "connect_timeout", "application_name", nullptr};
  const char* values[] = {options_.url.c_str(), timeout.c_str(), "stride", nullptr};
  // expand_dbname: the URL (or key=value string) in dbname is expanded into its parts.
  PGconn* c = PQconnectdbParams(keys, values, 1);
  if (c == nullptr) return Status::ResourceExhausted("postgres: cannot allocate a connection");
  if (where_.empty()) {  // the first dial, in Open(), before any other thread has the pool
    const char* host = PQhost(c);
    const char* port = PQport(c);
    const char* db = PQdb(c);
    where_ = std::string(host ? host : "?") + ":" + (port ? port : "?") + "/" + (db ? db : "?");
  }
  // Notices ("relation already exists, skipping") are not errors: not printed.
  PQsetNoticeProcessor(
      c, [](void*, const char*) {}, nullptr);
  if (PQstatus(c) != CONNECTION_OK) {
    std::string why = Trim(PQerrorMessage(c));
    PQfinish(c);
    const bool auth = why.find("password") != std::string::npos ||
                      why.find("authentication") != std::string::npos;
    std::string msg = "cannot connect to PostgreSQL at " + where_ + ": " + why;
    return auth ? Status::PermissionDenied(msg) : Status::Unavailable(msg);
  }
  return c;
}

Result<PGconn*> Postgres::Acquire(bool* fresh) {
  std::unique_lock lock(mu_);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(options_.acquire_timeout_s);
  while (idle_.empty() && open_ >= options_.pool_size) {
    if (freed_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= options_.pool_size) {
      return Status::Unavailable("PostgreSQL at " + where_ + ": all " +
                                 std::to_string(options_.pool_size) + " connections busy");
    }
  }
  if (!idle_.empty()) {
    PGconn* c = idle_.back();
    idle_.pop_back();
    return c;
  }
  if (fresh) *fresh = true;
  ++open_;
  lock.unlock();
  Result<PGconn*> c = Dial();
  if (!c.ok()) {
    lock.lock();
    --open_;
    freed_.notify_one();
  }
  return c;
}

void Postgres::Release(PGconn* c) {
  const bool lost = TakeLost(c);
  std::lock_guard lock(mu_);
  if (lost) {
    for (PGconn* other : idle_) PQfinish(other);
    open_ -= idle_.size();
    idle_.clear();
  }
  if (!lost && PQstatus(c) == CONNECTION_OK && PQtransactionStatus(c) == PQTRANS_IDLE) {
    idle_.push_back(c);
  } else {
    PQfinish(c);
    --open_;
  }
  freed_.notify_all();
}

bool Postgres::TakeLost(PGconn* c) {
  std::lock_guard lock(mu_);
  auto it = std::find(lost_.begin(), lost_.end(), c);
  if (it == lost_.end()) return false;
  lost_.erase(it);
  return true;
}

namespace {

// Whether a failed statement failed for its connection rather than for itself: libpq lost
// the connection, or the error has no SQLSTATE (libpq's own: "server closed the connection
// unexpectedly", which a server killed or restarted leaves while PQstatus still says OK), or
// its SQLSTATE is a connection exception (class 08) or the server shutting down or starting
// (57P01-57P03).
bool ConnectionLost(PGconn* c, const char* state) {
  if (PQstatus(c) != CONNECTION_OK || state == nullptr || *state == '\0') return true;
  const std::string_view s(state);
  return s.starts_with("08") || s == "57P01" || s == "57P02" || s == "57P03";
}

}  // namespace

Result<PgRows> Postgres::Run(PGconn* c, std::string_view sql,
                             const std::vector<std::string>& params) {
  std::vector<const char*> values;
  std::vector<int> lengths, formats;
  for (const std::string& p : params) {
    values.push_back(p.data());
    lengths.push_back(static_cast<int>(p.size()));
    formats.push_back(1);  // binary: bytes as they are
  }
  const std::string text(sql);
  PGresult* r = PQexecParams(c, text.c_str(), static_cast<int>(params.size()), nullptr,
                             values.data(), lengths.data(), formats.data(), 1);
  std::unique_ptr<PGresult, void (*)(PGresult*)> owned(r, PQclear);
  const ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    // One line: the primary message and its SQLSTATE (not the multi-line context).
    const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    if (ConnectionLost(c, state)) {
      {
        std::lock_guard lock(mu_);
        if (std::find(lost_.begin(), lost_.end(), c) == lost_.end()) lost_.push_back(c);
      }
      return Status::Unavailable("PostgreSQL at " + where_ +
                                 " went away: " + Trim(PQerrorMessage(c)));
    }
    const char* primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    return Status::Internal("PostgreSQL at " + where_ + ": " +
                            (primary ? std::string(primary) : Trim(PQerrorMessage(c))) +
                            " (SQLSTATE " + (state ? state : "?") + ")");
  }
  PgRows out;
  const char* affected = PQcmdTuples(r);
  if (affected && *affected) out.affected = std::strtoull(affected, nullptr, 10);
  const int rows = PQntuples(r);
  const int cols = PQnfields(r);
  out.rows.reserve(static_cast<size_t>(rows));
  for (int i = 0; i < rows; ++i) {
    std::vector<std::optional<std::string>> row;
    row.reserve(static_cast<size_t>(cols));
    for (int j = 0; j < cols; ++j) {
      if (PQgetisnull(r, i, j)) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(
            std::string(PQgetvalue(r, i, j), static_cast<size_t>(PQgetlength(r, i, j))));
      }
    }
    out.rows.push_back(std::move(row));
  }
  return out;
}

// A pooled connection may have died since it was last used (PostgreSQL restarted): what fails
// on one for that reason is tried once more on a fresh connection. Exec's statements are
// single reads and idempotent writes; a transaction is retried only when its BEGIN failed.
Result<PgRows> Postgres::Exec(std::string_view sql, const std::vector<std::string>& params) {
  for (int attempt = 0;; ++attempt) {
    bool fresh = false;
    STRIDE_ASSIGN_OR_RETURN(PGconn * c, Acquire(&fresh));
    Result<PgRows> r = Run(c, sql, params);
    Release(c);
    if (r.ok() || r.status().code() != StatusCode::kUnavailable || fresh || attempt > 0) return r;
  }
}

Status Postgres::Transaction(
    const std::vector<std::pair<std::string, std::vector<std::string>>>& statements) {
  return InTransaction([&](Tx& tx) -> Status {
    for (const auto& [sql, params] : statements)
      STRIDE_RETURN_IF_ERROR(tx.Exec(sql, params).status());
    return Status::Ok();
  });
}

Result<PgRows> Postgres::Tx::Exec(std::string_view sql, const std::vector<std::string>& params) {
  return pg_->Run(c_, sql, params);
}

Status Postgres::InTransaction(const std::function<Status(Tx&)>& body) {
  for (int attempt = 0;; ++attempt) {
    bool fresh = false;
    STRIDE_ASSIGN_OR_RETURN(PGconn * c, Acquire(&fresh));
    Status st = Run(c, "BEGIN", {}).status();
    if (!st.ok()) {
      Release(c);
      if (st.code() != StatusCode::kUnavailable || fresh || attempt > 0) return st;
      continue;  // a dead pooled connection: nothing was done yet
    }
    Tx tx(this, c);
    st = body(tx);
    if (st.ok()) st = Run(c, "COMMIT", {}).status();
    if (!st.ok() && PQstatus(c) == CONNECTION_OK) (void)Run(c, "ROLLBACK", {});
    Release(c);
    return st;
  }
}

Status Postgres::Exclusive(const std::string& name, const std::function<void()>& body,
                           double timeout_s) {
  NamedLock* l = nullptr;
  {
    std::lock_guard lock(mu_);
    std::unique_ptr<NamedLock>& slot = locks_[name];
    if (!slot) slot = std::make_unique<NamedLock>();
    l = slot.get();
  }
  std::unique_lock turn(l->turn);
  for (int attempt = 0;; ++attempt) {
    const bool fresh = l->conn == nullptr;
    Result<PgRows> got = PgRows();
    if (fresh) {
      STRIDE_ASSIGN_OR_RETURN(l->conn, Dial());
      l->timeout_s = -1;
    }
    if (l->timeout_s != timeout_s) {  // a session setting: once per connection and timeout
      got =
          Run(l->conn,
              "SET lock_timeout = " + std::to_string(static_cast<long long>(timeout_s * 1000)), {});
      if (got.ok()) l->timeout_s = timeout_s;
    }
    if (got.ok()) got = Run(l->conn, "SELECT pg_advisory_lock(21364, hashtext($1))", {name});
    if (got.ok()) break;
    if (TakeLost(l->conn)) {
      PQfinish(l->conn);
      l->conn = nullptr;
      if (fresh || attempt > 0) return got.status();
      continue;  // a session that died since its last use: dial once more
    }
    if (got.status().message().find("55P03") != std::string::npos) {  // lock_not_available
      return Status::Unavailable("PostgreSQL at " + where_ + ": lock '" + name +
                                 "' not had within " + std::to_string(timeout_s) + " s");
    }
    return got.status();
  }
  body();
  const Result<PgRows> unlocked =
      Run(l->conn, "SELECT pg_advisory_unlock(21364, hashtext($1))", {name});
  if (!unlocked.ok()) {  // the session ends, and its locks with it
    (void)TakeLost(l->conn);
    PQfinish(l->conn);
    l->conn = nullptr;
  }
  return Status::Ok();
}

Result<int> Postgres::SchemaVersion() {
  // Under a transaction's advisory lock: CREATE TABLE IF NOT EXISTS by two servers at once can
  // collide in the catalog (23505 or 42P07) instead of one of them finding the table.
  STRIDE_RETURN_IF_ERROR(
      Transaction({{"SELECT pg_advisory_xact_lock(7305147521)", {}}, {kSchemaTable, {}}}));
  STRIDE_ASSIGN_OR_RETURN(PgRows r,
                          Exec("SELECT COALESCE(MAX(version), 0)::text FROM stride_schema"));
  return r.rows.empty() || !r.rows[0][0] ? 0 : std::atoi(r.rows[0][0]->c_str());
}

Status Postgres::Migrate() {
  STRIDE_ASSIGN_OR_RETURN(const int have, SchemaVersion());
  if (have > KnownSchemaVersion()) {
    return Status::Corruption("PostgreSQL at " + where_ + " holds Stride schema version " +
                              std::to_string(have) + ", newer than this build's " +
                              std::to_string(KnownSchemaVersion()) +
                              ": upgrade stride (it will not write to a newer schema)");
  }
  for (const Step& step : kSteps) {
    if (step.version <= have) continue;
    // The row first: a second server applying the same step waits on it, then fails on the
    // key and finds the step applied.
    std::vector<std::pair<std::string, std::vector<std::string>>> statements = {
        {"INSERT INTO stride_schema (version, name) VALUES (" + std::to_string(step.version) +
             ", '" + step.name + "')",
         {}}};
    for (const char* sql : step.statements) statements.push_back({sql, {}});
    const Status st = Transaction(statements);
    if (!st.ok()) {
      if (st.message().find("23505") != std::string::npos) continue;  // applied by another
      return st.WithContext("schema step " + std::to_string(step.version) + " (" + step.name + ")");
    }
  }
  return Status::Ok();
}

PgKeyValue::PgKeyValue(Postgres* pg, std::string ns) : pg_(pg), ns_(std::move(ns)) {}

Result<std::optional<std::string>> PgKeyValue::Get(std::string_view key) const {
  STRIDE_ASSIGN_OR_RETURN(PgRows r, pg_->Exec("SELECT v FROM stride_kv WHERE ns = $1 AND k = $2",
                                              {ns_, std::string(key)}));
  if (r.rows.empty()) return std::optional<std::string>();
  return r.rows[0][0];
}

Status PgKeyValue::Put(std::string_view key, std::string_view value) {
  return pg_
      ->Exec(
          "INSERT INTO stride_kv (ns, k, v) VALUES ($1, $2, $3) "
          "ON CONFLICT (ns, k) DO UPDATE SET v = excluded.v",
          {ns_, std::string(key), std::string(value)})
      .status();
}

Result<bool> PgKeyValue::PutIf(std::string_view key, const std::optional<std::string>& expected,
                               std::string_view value) {
  // One statement each: PostgreSQL serialises them on the row (or its unique index entry).
  Result<PgRows> r =
      expected ? pg_->Exec("UPDATE stride_kv SET v = $4 WHERE ns = $1 AND k = $2 AND v = $3",
                           {ns_, std::string(key), *expected, std::string(value)})
               : pg_->Exec(
                     "INSERT INTO stride_kv (ns, k, v) VALUES ($1, $2, $3) "
                     "ON CONFLICT (ns, k) DO NOTHING",
                     {ns_, std::string(key), std::string(value)});
  if (!r.ok()) return r.status();
  return r->affected == 1;
}

Status PgKeyValue::Delete(std::string_view key) {
  return pg_->Exec("DELETE FROM stride_kv WHERE ns = $1 AND k = $2", {ns_, std::string(key)})
      .status();
}

Status PgKeyValue::Scan(std::string_view prefix,
                        const std::function<bool(std::string_view, std::string_view)>& each) const {
  return ScanFrom(prefix, prefix, each);
}

Status PgKeyValue::ScanFrom(
    std::string_view prefix, std::string_view start,
    const std::function<bool(std::string_view, std::string_view)>& each) const {
  const std::string end = PrefixEnd(prefix);
  std::string from(std::max(prefix, start));
  bool inclusive = true;
  while (true) {
    std::string sql = std::string("SELECT k, v FROM stride_kv WHERE ns = $1 AND k ") +
                      (inclusive ? ">=" : ">") + " $2";
    std::vector<std::string> params = {ns_, from};
    if (!end.empty()) {
      sql += " AND k < $3";
      params.push_back(end);
    }
    sql += " ORDER BY k LIMIT " + std::to_string(kScanPage);
    STRIDE_ASSIGN_OR_RETURN(PgRows page, pg_->Exec(sql, params));
    for (const auto& row : page.rows) {
      if (!each(*row[0], *row[1])) return Status::Ok();
    }
    if (page.rows.size() < kScanPage) return Status::Ok();
    from = *page.rows.back()[0];
    inclusive = false;
  }
}

Status PgKeyValue::DeletePrefix(std::string_view prefix) {
  const std::string end = PrefixEnd(prefix);
  if (end.empty()) {
    return pg_->Exec("DELETE FROM stride_kv WHERE ns = $1 AND k >= $2", {ns_, std::string(prefix)})
        .status();
  }
  return pg_
      ->Exec("DELETE FROM stride_kv WHERE ns = $1 AND k >= $2 AND k < $3",
             {ns_, std::string(prefix), end})
      .status();
}

}  // namespace stride::index
