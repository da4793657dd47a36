// SPDX-License-Identifier: Apache-2.0
//
// Backups of the users' data while a server runs: what `POST /v1/admin/backups` asks of the
// stores it was given. index/store/run_db implements it over RocksDB's backup engine; a
// deployment on PostgreSQL would implement it over its own tools.
//
// Thread-safety: implementations are safe from any thread; Create() runs one at a time.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/status.hpp"

namespace stride::engine {

struct BackupInfo {
  uint32_t id = 0;             // increasing; restore by id
  int64_t created_unix_s = 0;  // when it was taken
  uint64_t size_bytes = 0;     // of its files (shared files counted in each backup)
  uint32_t files = 0;
};

class Backups {
 public:
  virtual ~Backups() = default;
  // Takes a consistent backup of everything stored, while writes go on; kUnavailable while
  // another is being taken.
  virtual Result<BackupInfo> Create() = 0;
  // Oldest first.
  virtual Result<std::vector<BackupInfo>> List() const = 0;
};

}  // namespace stride::engine
