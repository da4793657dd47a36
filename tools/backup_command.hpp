// SPDX-License-Identifier: Apache-2.0
//
// `stride backup` and `stride restore`: the run database (runs, plugin data, host state,
// outbox) copied to a backup directory and back (index::RunDb::Backup / Restore).
//
// A running server holds the database: `stride backup` then says so and points at
// POST /v1/admin/backups (stride serve --backup-dir), which backs up while serving. A restore
// goes into a new or empty directory; the operator swaps it in with the server stopped.
// Exit codes: 0 done, 1 the backup or restore failed (the message says why), 2 bad usage.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace stride::tools {

int RunBackup(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int RunRestore(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace stride::tools
