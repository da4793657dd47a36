// SPDX-License-Identifier: Apache-2.0
//
// engine::RunStore on PostgreSQL (issue 20): the runs of every replica in one database, stored
// as RunDb stores them (index/store/run_codec.hpp: a summary record and the zstd-packed
// run_data), so a run reads back the same from either store. Tables stride_runs and
// stride_idempotency (index/pg/postgres.cpp's schema step 2).
//
// An upload is one transaction: its idempotency key is claimed first (INSERT ... ON CONFLICT
// DO NOTHING), so the same key sent to several servers at once stores one run; the others wait
// for the first to commit and answer with its id (or kAlreadyExists when their file differs).
// An expired key (older than idempotency_ttl_s) is taken over by the new upload, as RunDb does.
//
// Not here yet: encryption at rest (RunDb's sealer), and the tracks as PostGIS geometries.
//
// Thread-safety: safe from any number of threads.
#pragma once

#include <string>

#include "engine/run/run.hpp"
#include "engine/store/key_value.hpp"
#include "index/pg/postgres.hpp"

namespace stride::index {

struct PgRunStoreOptions {
  int zstd_level = 3;                      // of the packed run_data. Default: 3
  double idempotency_ttl_s = 7 * 86400.0;  // Default: 7 days
  const engine::Clock* clock = nullptr;    // "now" for the keys. Default: the system clock
};

class PgRunStore final : public engine::RunStore {
 public:
  // `pg` (migrated) must outlive the store.
  PgRunStore(Postgres* pg, PgRunStoreOptions options = {});
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

 private:
  double NowS() const;
  Postgres* pg_;
  PgRunStoreOptions options_;
};

}  // namespace stride::index
