// SPDX-License-Identifier: Apache-2.0
#include "index/pg/pg_run_store.hpp"

#include <cstdio>
#include <random>

#include "engine/hex.hpp"
#include "engine/track/track_writers.hpp"
#include "index/store/keys.hpp"
#include "index/store/run_codec.hpp"

namespace stride::index {
namespace {

std::string Int8(uint64_t v) {  // bigint in binary form
  std::string s;
  PutBigEndian64(s, v);
  return s;
}

uint64_t FromInt8(const std::optional<std::string>& v) {
  return v && v->size() == 8 ? GetBigEndian64(v->data()) : 0;
}

}  // namespace

namespace {

// The run's tracks as WKT MULTILINESTRING (lon lat; a line per session and recorded segment,
// points without a position left out, lines of fewer than 2 points dropped); "" when no line.
std::string TrackWkt(const engine::Run& run) {
  std::string wkt;
  char buf[64];
  for (const engine::Track& t : run.tracks) {
    engine::ForEachSegment(t, [&](size_t begin, size_t end) {
      std::string line;
      size_t points = 0;
      for (size_t i = begin; i < end; ++i) {
        if (!t.has_position(i)) continue;
        std::snprintf(buf, sizeof(buf), "%s%.7f %.7f", points ? "," : "", t.lon_deg[i],
                      t.lat_deg[i]);
        line += buf;
        ++points;
      }
      if (points >= 2) wkt += (wkt.empty() ? "MULTILINESTRING((" : ",(") + line + ")";
    });
  }
  return wkt.empty() ? wkt : wkt + ")";
}

}  // namespace

PgRunStore::PgRunStore(Postgres* pg, PgRunStoreOptions options) : pg_(pg), options_(options) {}

double PgRunStore::NowS() const {
  static const engine::SystemClock system;
  return (options_.clock ? options_.clock : &system)->NowS();
}

namespace {

// The run's track row of stride_run_tracks (PostGIS), in the run's transaction; `wkt` empty:
// none (no PostGIS, or a run without positions).
Status InsertTrack(Postgres::Tx& tx, const std::string& user, uint64_t id, const std::string& wkt) {
  if (wkt.empty()) return Status::Ok();
  return tx
      .Exec(
          "INSERT INTO stride_run_tracks (user_id, id, geom) "
          "VALUES ($1, $2, ST_GeomFromText($3, 4326))",
          {user, Int8(id), wkt})
      .status();
}

}  // namespace

Result<PgRunStore::PutResult> PgRunStore::Put(const engine::Run& run,
                                              std::string_view request_digest) {
  const engine::RunSummary& s = run.summary;
  STRIDE_RETURN_IF_ERROR(engine::CheckUserId(s.user_id));
  thread_local std::mt19937_64 rng(std::random_device{}());
  engine::RunSummary stored = s;
  do {
    stored.id = rng();
  } while (stored.id == 0);
  run::RunSummary summary;
  SummaryToProto(stored, run.idempotency_key, &summary);
  STRIDE_ASSIGN_OR_RETURN(std::string packed, PackRunData(run, options_.zstd_level));
  const std::string digest(request_digest);
  const auto now_ms = static_cast<uint64_t>(std::max(0.0, NowS()) * 1000);
  PutResult result{stored.id, false};
  const std::string wkt = pg_->postgis() ? TrackWkt(run) : std::string();
  const Status st = pg_->InTransaction([&](Postgres::Tx& tx) -> Status {
    if (!run.idempotency_key.empty()) {
      // Claim the key; a concurrent claim of the same key waits here for ours to end.
      STRIDE_ASSIGN_OR_RETURN(
          PgRows claimed,
          tx.Exec("INSERT INTO stride_idempotency (user_id, k, run_id, digest, created_ms) "
                  "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, k) DO NOTHING",
                  {s.user_id, run.idempotency_key, Int8(stored.id), digest, Int8(now_ms)}));
      if (claimed.affected == 0) {
        STRIDE_ASSIGN_OR_RETURN(PgRows earlier,
                                tx.Exec("SELECT run_id, digest, created_ms FROM stride_idempotency "
                                        "WHERE user_id = $1 AND k = $2 FOR UPDATE",
                                        {s.user_id, run.idempotency_key}));
        if (earlier.rows.empty()) return Status::Unavailable("idempotency key vanished; retry");
        const auto& row = earlier.rows[0];
        const double created_s = static_cast<double>(FromInt8(row[2])) / 1000;
        if (created_s + options_.idempotency_ttl_s >= NowS()) {
          if (row[1].value_or("") != digest) {
            return Status::AlreadyExists("Idempotency-Key '" + run.idempotency_key +
                                         "' was used for a different upload");
          }
          result = PutResult{FromInt8(row[0]), true};
          return Status::Ok();
        }
        // Expired: the key is this upload's now.
        STRIDE_RETURN_IF_ERROR(
            tx.Exec("UPDATE stride_idempotency SET run_id = $3, digest = $4, created_ms = $5 "
                    "WHERE user_id = $1 AND k = $2",
                    {s.user_id, run.idempotency_key, Int8(stored.id), digest, Int8(now_ms)})
                .status());
      }
    }
    STRIDE_RETURN_IF_ERROR(
        tx.Exec("INSERT INTO stride_runs (user_id, id, order_key, summary, data) "
                "VALUES ($1, $2, $3, $4, $5)",
                {s.user_id, Int8(stored.id), RunOrderKey(stored), summary.SerializeAsString(),
                 packed})
            .status());
    return InsertTrack(tx, s.user_id, stored.id, wkt);
  });
  if (!st.ok()) return st;
  return result;
}

Status PgRunStore::Replace(const engine::Run& run) {
  const engine::RunSummary& s = run.summary;
  STRIDE_RETURN_IF_ERROR(engine::CheckUserId(s.user_id));
  run::RunSummary summary;
  SummaryToProto(s, run.idempotency_key, &summary);
  STRIDE_ASSIGN_OR_RETURN(std::string packed, PackRunData(run, options_.zstd_level));
  const std::string wkt = pg_->postgis() ? TrackWkt(run) : std::string();
  return pg_->InTransaction([&](Postgres::Tx& tx) -> Status {
    STRIDE_ASSIGN_OR_RETURN(
        PgRows updated,
        tx.Exec("UPDATE stride_runs SET order_key = $3, summary = $4, data = $5 "
                "WHERE user_id = $1 AND id = $2",
                {s.user_id, Int8(s.id), RunOrderKey(s), summary.SerializeAsString(), packed}));
    if (updated.affected == 0) return Status::NotFound("no run " + engine::RunIdText(s.id));
    if (!pg_->postgis()) return Status::Ok();
    STRIDE_RETURN_IF_ERROR(tx.Exec("DELETE FROM stride_run_tracks WHERE user_id = $1 AND id = $2",
                                   {s.user_id, Int8(s.id)})
                               .status());
    return InsertTrack(tx, s.user_id, s.id, wkt);
  });
}

Result<std::vector<std::string>> PgRunStore::ListUsers(std::string_view after, size_t limit) const {
  STRIDE_ASSIGN_OR_RETURN(PgRows r,
                          pg_->Exec("SELECT DISTINCT user_id FROM stride_runs WHERE user_id > $1 "
                                    "ORDER BY user_id LIMIT $2",
                                    {std::string(after), Int8(limit)}));
  std::vector<std::string> users;
  for (const auto& row : r.rows) users.push_back(row[0].value_or(""));
  return users;
}

Result<std::optional<uint64_t>> PgRunStore::FindByIdempotencyKey(
    std::string_view user_id, std::string_view key, std::string_view request_digest) const {
  STRIDE_ASSIGN_OR_RETURN(PgRows r,
                          pg_->Exec("SELECT run_id, digest, created_ms FROM stride_idempotency "
                                    "WHERE user_id = $1 AND k = $2",
                                    {std::string(user_id), std::string(key)}));
  if (r.rows.empty()) return std::optional<uint64_t>();
  const auto& row = r.rows[0];
  if (static_cast<double>(FromInt8(row[2])) / 1000 + options_.idempotency_ttl_s < NowS()) {
    return std::optional<uint64_t>();  // expired: the key is free again
  }
  if (row[1].value_or("") != request_digest) {
    return Status::AlreadyExists("Idempotency-Key '" + std::string(key) +
                                 "' was used for a different upload");
  }
  return std::optional<uint64_t>(FromInt8(row[0]));
}

Result<engine::Run> PgRunStore::Get(std::string_view user_id, uint64_t id,
                                    engine::RunParts parts) const {
  STRIDE_ASSIGN_OR_RETURN(
      PgRows r, pg_->Exec("SELECT summary, data FROM stride_runs WHERE user_id = $1 AND id = $2",
                          {std::string(user_id), Int8(id)}));
  if (r.rows.empty()) return Status::NotFound("no run " + engine::RunIdText(id));
  return UnpackRun(r.rows[0][0].value_or(""), r.rows[0][1].value_or(""), parts,
                   "run " + engine::RunIdText(id));
}

Result<PgRunStore::Page> PgRunStore::List(std::string_view user_id, std::string_view cursor,
                                          size_t limit) const {
  STRIDE_RETURN_IF_ERROR(engine::CheckUserId(user_id));
  std::string after;
  if (!cursor.empty() && (!engine::HexDecode(cursor, &after) || after.size() != 16)) {
    return Status::InvalidArgument("before: expected a cursor from next_before (32 hex digits)");
  }
  // One more than asked: whether there is a next page.
  STRIDE_ASSIGN_OR_RETURN(
      PgRows r, pg_->Exec("SELECT summary, order_key FROM stride_runs WHERE user_id = $1 AND "
                          "order_key > $2 ORDER BY order_key LIMIT " +
                              std::to_string(limit + 1),
                          {std::string(user_id), after}));
  Page page;
  for (size_t i = 0; i < r.rows.size() && i < limit; ++i) {
    run::RunSummary p;
    const std::string& bytes = r.rows[i][0].value_or("");
    if (!p.ParseFromString(bytes)) {
      return Status::Corruption("run list of " + std::string(user_id) + ": bad summary");
    }
    page.runs.push_back(SummaryFromProto(p));
  }
  if (r.rows.size() > limit && limit > 0) {
    page.next_cursor = engine::HexEncode(r.rows[limit - 1][1].value_or(""));
  }
  return page;
}

Result<bool> PgRunStore::Delete(std::string_view user_id, uint64_t id) {
  STRIDE_RETURN_IF_ERROR(engine::CheckUserId(user_id));
  bool deleted = false;
  STRIDE_RETURN_IF_ERROR(pg_->InTransaction([&](Postgres::Tx& tx) -> Status {
    STRIDE_ASSIGN_OR_RETURN(
        PgRows r, tx.Exec("DELETE FROM stride_runs WHERE user_id = $1 AND id = $2 RETURNING id",
                          {std::string(user_id), Int8(id)}));
    deleted = !r.rows.empty();
    if (pg_->postgis()) {
      STRIDE_RETURN_IF_ERROR(tx.Exec("DELETE FROM stride_run_tracks WHERE user_id = $1 AND id = $2",
                                     {std::string(user_id), Int8(id)})
                                 .status());
    }
    // Its key, while it is still this run's (once expired it may name a newer upload).
    return tx
        .Exec("DELETE FROM stride_idempotency WHERE user_id = $1 AND run_id = $2",
              {std::string(user_id), Int8(id)})
        .status();
  }));
  return deleted;
}

Result<std::vector<uint64_t>> PgRunStore::DeleteUser(std::string_view user_id) {
  STRIDE_RETURN_IF_ERROR(engine::CheckUserId(user_id));
  std::vector<uint64_t> ids;
  STRIDE_RETURN_IF_ERROR(pg_->InTransaction([&](Postgres::Tx& tx) -> Status {
    STRIDE_ASSIGN_OR_RETURN(
        PgRows r,
        tx.Exec("DELETE FROM stride_runs WHERE user_id = $1 RETURNING id", {std::string(user_id)}));
    for (const auto& row : r.rows) ids.push_back(FromInt8(row[0]));
    if (pg_->postgis()) {
      STRIDE_RETURN_IF_ERROR(
          tx.Exec("DELETE FROM stride_run_tracks WHERE user_id = $1", {std::string(user_id)})
              .status());
    }
    return tx.Exec("DELETE FROM stride_idempotency WHERE user_id = $1", {std::string(user_id)})
        .status();
  }));
  return ids;
}

}  // namespace stride::index
